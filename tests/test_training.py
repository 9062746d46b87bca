"""What training reads: Rasa never sees the held-out sets, and the model cache follows exactly what is trained on."""

import ast
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import training
from bot.evaluation import heldout_files, load_examples
from bot.paths import CONFIG_FILE, DATA_DIR, DOMAIN_FILE, PROJECT_ROOT
from bot.text.lexicon import load_lexicon
from bot.training import TOKENIZER, fingerprint, render_responses, training_files


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """The project's data folder, copied as the admin retrain copies it."""
    return Path(shutil.copytree(DATA_DIR, tmp_path / "data", ignore=shutil.ignore_patterns("responses")))


def test_rasa_trains_on_every_training_example_and_on_no_held_out_one() -> None:
    from rasa.shared.importers.importer import TrainingDataImporter

    render_responses()
    importer = TrainingDataImporter.load_from_config(
        str(CONFIG_FILE), str(DOMAIN_FILE), [str(path) for path in training_files()]
    )
    trained = {message.get("text") for message in importer.get_nlu_data().intent_examples}
    heldout = {text for text, _ in load_examples(*heldout_files())}
    assert len(heldout) > 300  # the gate's sets are where the product reads them
    assert trained >= {text for text, _ in load_examples(*sorted((DATA_DIR / "nlu").glob("*.yml")))}
    assert trained & heldout == set()


def test_a_data_folder_is_trained_with_its_own_teencode_lexicon(data_copy, tmp_path, monkeypatch) -> None:
    """The retrain's workspace and a shop's data dir carry their lexicon; training must not read the checkout's."""
    seen: list[dict] = []

    def rasa_would_train(config: Path, data: list[Path], target: Path, **_: object) -> Path:
        content = yaml.safe_load(config.read_text(encoding="utf-8"))
        tokenizer = next(c for c in content["pipeline"] if c["name"] == TOKENIZER)
        lexicon = load_lexicon(Path(tokenizer.pop("lexicon_path")))
        seen.append({"lexicon": lexicon, "data": data, "config": content})
        target.write_bytes(b"model")
        return target

    with (data_copy / "lexicon" / "shop.yml").open("w", encoding="utf-8") as added:
        added.write("expansions:\n  ctv: cộng tác viên\n")
    monkeypatch.setattr(training, "train", rasa_would_train)
    training.ensure_model(data_copy, tmp_path / "models")
    [trained] = seen
    assert trained["lexicon"]["ctv"] == "cộng tác viên" and trained["lexicon"]["ko"] == "không"
    assert trained["data"] == training_files(data_copy)
    assert trained["config"] == yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8"))  # nothing else changed
    assert "ctv" not in load_lexicon(DATA_DIR / "lexicon")  # the checkout's is not the one read


def test_a_copy_of_the_data_names_the_same_model(data_copy) -> None:
    assert fingerprint(data_copy) == fingerprint(DATA_DIR)


def test_editing_the_held_out_sets_does_not_retrain(data_copy) -> None:
    before = fingerprint(data_copy)
    with (data_copy / "eval" / "nlu_heldout_core.yml").open("a", encoding="utf-8") as held_out:
        held_out.write("\n- intent: greet\n  examples: |\n    - chào shop buổi sáng\n")
    assert fingerprint(data_copy) == before


@pytest.mark.parametrize(
    "edited", ["nlu/faq.yml", "stories/rules.yml", "shop/answers.yml", "shop/support.yml", "lexicon/teencode.yml"]
)
def test_editing_what_the_model_is_built_from_retrains(data_copy, edited: str) -> None:
    before = fingerprint(data_copy)
    with (data_copy / edited).open("a", encoding="utf-8") as changed:
        changed.write("\n# edited\n")
    assert fingerprint(data_copy) != before


def _uses_of_the_tests_folder(source: str) -> list[str]:
    """Imports of the tests package and string literals (docstrings aside) naming a tests/ path component."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [name for name in modules if name.split(".")[0] == "tests"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found += [node.value] if re.search(r"(^|/)tests(/|$)", node.value) else []
    return found


def test_the_scan_finds_every_way_of_reaching_the_tests_folder() -> None:
    source = (
        '"""Reads tests/data in its docstring only."""\n'
        "from tests.conftest import free_port\n"
        "import tests.desk_clients\n"
        'HELDOUT = PROJECT_ROOT / "tests" / "data"\n'
        'OTHER = Path("tests/data/nlu.yml")\n'
    )
    expected = ["tests", "tests.conftest", "tests.desk_clients", "tests/data/nlu.yml"]
    assert sorted(_uses_of_the_tests_folder(source)) == expected


def test_no_module_of_the_product_reads_the_tests_folder() -> None:
    """An installed build has no tests/: what the product needs at run time lives under data/."""
    offenders = {
        str(path.relative_to(PROJECT_ROOT)): uses
        for path in sorted((PROJECT_ROOT / "bot").rglob("*.py"))
        if (uses := _uses_of_the_tests_folder(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
