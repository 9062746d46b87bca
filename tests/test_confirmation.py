"""The confirmation reader on replies written as customers write them.

tests/data/confirmation_replies.yml (107 replies) is the set the rules were built with;
confirmation_replies_fresh.yml (47) was written afterwards and never used to change a rule.
What must hold on both without exception: a "no" or an unclear reply is never taken for yes.
How many yeses are recognised, and how many unclear replies are asked again rather than read as
no, is measured and printed (pytest -s), with floors.
"""

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.confirmation import QUESTIONS, read_confirmation
from bot.paths import DATA_DIR
from bot.settings import Settings, settings_in_force
from bot.text.confirm import Reply, classify_reply

DATA = Path(__file__).parent / "data"


def cases(name: str) -> list[tuple[str, Reply, str]]:
    replies = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return [
        (question, Reply(label), text)
        for question, labels in replies.items()
        for label, texts in labels.items()
        for text in texts
    ]


BUILT_WITH, FRESH = cases("confirmation_replies.yml"), cases("confirmation_replies_fresh.yml")


def read(question: str, text: str) -> Reply:
    words = QUESTIONS[question]
    return classify_reply(text, go_words=words.go, stop_words=words.stop)


def recognition(name: str, set_cases: list[tuple[str, Reply, str]]) -> dict[Reply, float]:
    outcome = Counter((meant, read(question, text)) for question, meant, text in set_cases)
    total = Counter(meant for _, meant, _ in set_cases)
    rate = {meant: outcome[(meant, meant)] / total[meant] for meant in Reply}
    print(
        f"\n{name}: {len(set_cases)} replies; yes recognised {rate[Reply.YES]:.0%} of {total[Reply.YES]}, "
        f"no {rate[Reply.NO]:.0%} of {total[Reply.NO]} (the rest asked again), unclear asked again "
        f"{rate[Reply.UNCLEAR]:.0%} of {total[Reply.UNCLEAR]} (the rest read as no); "
        f"no→yes {outcome[(Reply.NO, Reply.YES)]}, unclear→yes {outcome[(Reply.UNCLEAR, Reply.YES)]}"
    )
    return rate


def test_the_sets_are_large_enough_to_measure() -> None:
    assert len(BUILT_WITH) >= 80 and len(FRESH) >= 40
    assert {label for _, label, _ in BUILT_WITH} == {label for _, label, _ in FRESH} == set(Reply)


@pytest.mark.parametrize(("question", "meant", "text"), [c for c in BUILT_WITH + FRESH if c[1] is not Reply.YES])
def test_no_and_unclear_replies_never_count_as_yes(question: str, meant: Reply, text: str) -> None:
    assert read(question, text) is not Reply.YES


def test_measured_recognition_on_both_sets() -> None:
    built_with = recognition("confirmation set (rules built with it)", BUILT_WITH)
    fresh = recognition("fresh confirmation set (never tuned on)", FRESH)
    assert built_with[Reply.YES] >= 0.95 and built_with[Reply.NO] == 1.0
    assert fresh[Reply.YES] >= 0.9 and fresh[Reply.NO] >= 0.8


def test_a_negation_in_the_shops_own_teencode_is_a_no(tmp_path: Path) -> None:
    """The actions read replies with the lexicon of the shop's data dir, not only the checkout's."""
    lexicon = tmp_path / "data" / "lexicon"
    shutil.copytree(DATA_DIR / "lexicon", lexicon)
    (lexicon / "shop.yml").write_text("expansions:\n  kq: không\n", encoding="utf-8")
    tracker = Tracker("t", {}, {"text": "kq huỷ nha"}, [], False, None, {}, "action_listen")
    assert read("cancel", "kq huỷ nha") is Reply.YES  # what the checkout's lexicon alone makes of it
    with settings_in_force(Settings.under(tmp_path, data_dir=tmp_path / "data")):
        events = read_confirmation("confirm_cancel", "cancel", "kq huỷ nha", CollectingDispatcher(), tracker)
    assert events["confirm_cancel"] == Reply.NO.value
