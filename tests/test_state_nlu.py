"""Held-out phrasing for conversation state (tests/data/state_heldout.yml, never in the training data).

A complaint about a named order (late, damaged, wrong item) must reach the issue report, not the
status; a plain "where is my order" must still reach the status; "thôi khỏi, cảm ơn", "để sau" must
leave the current step (deny), not be thanked for.
"""

import pytest

from bot.evaluation import evaluate, load_examples, stripped
from bot.paths import PROJECT_ROOT

HELDOUT = load_examples(PROJECT_ROOT / "tests" / "data" / "state_heldout.yml")
TRAINING = load_examples(*sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml")))
# (intent, as typed, without diacritics): the share of held-out messages that must reach it
FLOORS = {"report_issue": (0.75, 0.8), "check_order_status": (0.85, 0.5), "deny": (0.8, 0.8)}


def test_the_heldout_set_is_not_in_the_training_data() -> None:
    trained = {text.casefold() for text, _ in TRAINING}
    assert not [text for text, _ in HELDOUT if text.casefold() in trained]


@pytest.mark.slow
@pytest.mark.parametrize("intent", sorted(FLOORS))
def test_each_heldout_intent_is_recognised(parse, intent: str) -> None:
    examples = [example for example in HELDOUT if example[1] == intent]
    for floor, examples_as_typed in zip(FLOORS[intent], (examples, stripped(examples)), strict=True):
        report = evaluate(parse, examples_as_typed)
        assert report.accuracy >= floor, (intent, report.accuracy, report.misses)
