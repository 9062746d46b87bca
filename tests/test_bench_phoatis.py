"""``make bench-phoatis``: polite without the data, and both pipelines stripped of what only the shop has."""

from pathlib import Path

import pytest
import yaml

from bench.phoatis import DEFAULT_CONFIG, SHOP_ONLY, intents_only, main, read_split
from bot.paths import CONFIG_FILE


def test_without_the_data_it_says_where_to_get_it_and_trains_nothing(tmp_path: Path, capsys) -> None:
    main(["--dir", str(tmp_path / "nowhere")])
    said = capsys.readouterr().out
    assert "VinAIResearch/JointIDSF" in said and "never copied" in said


def test_a_split_whose_labels_do_not_match_its_utterances_is_refused(tmp_path: Path) -> None:
    (tmp_path / "seq.in").write_text("chuyến bay từ huế\ngiá vé đi vinh\n", encoding="utf-8")
    (tmp_path / "label").write_text("flight\n", encoding="utf-8")
    with pytest.raises(ValueError, match="2 utterances but 1 labels"):
        read_split(tmp_path)


@pytest.mark.parametrize("config_file", [CONFIG_FILE, DEFAULT_CONFIG])
def test_both_pipelines_keep_their_classifiers_and_drop_the_shops_rules(config_file: Path) -> None:
    config = intents_only(yaml.safe_load(config_file.read_text(encoding="utf-8")))
    names = [component["name"] for component in config["pipeline"]]
    assert {"DIETClassifier", "bot.nlu.linear_intent.LinearIntentClassifier"} & set(names)  # an intent classifier
    assert not SHOP_ONLY & set(names)
    assert config["policies"] == []
