"""The training data honours the label contract and the held-out set stays unseen."""

import re
import subprocess
import sys
from collections import Counter

import pytest
import yaml

from bot.evaluation import heldout_files, load_examples
from bot.paths import DATA_DIR, PROJECT_ROOT
from bot.text.normalize import strip_diacritics

CONTRACT = [
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "request_human", "complain", "rate_service",
    "check_order_status", "report_issue", "cancel_order", "inform", "out_of_scope", "uncovered_question",
    "product_question",
    "faq/shipping_fee", "faq/delivery_time", "faq/return_policy", "faq/refund", "faq/warranty",
    "faq/payment_methods", "faq/installment", "faq/opening_hours", "faq/store_location",
    "faq/promotion", "faq/membership", "faq/invoice", "faq/change_address", "faq/contact",
    "faq/order_guide",
]  # fmt: skip

TRAINING = load_examples(*sorted((DATA_DIR / "nlu").glob("*.yml")))
HELDOUT = load_examples(*heldout_files())


def _key(text: str) -> str:
    return " ".join(strip_diacritics(text).lower().split())


@pytest.mark.parametrize("label", CONTRACT)
def test_every_contract_label_has_enough_varied_training_examples(label: str) -> None:
    texts = [t for t, lbl in TRAINING if lbl == label]
    assert len(texts) >= 20
    without_marks = [t for t in texts if strip_diacritics(t) == t]
    assert without_marks, "customers type without diacritics; the data must too"
    assert len(without_marks) < len(texts), "and with them"


def test_no_label_outside_the_contract() -> None:
    assert {label for _, label in TRAINING} <= set(CONTRACT)


def test_heldout_has_at_least_five_examples_per_label() -> None:
    counts = Counter(label for _, label in HELDOUT)
    assert {label: counts[label] for label in CONTRACT if counts[label] < 5} == {}


def test_heldout_examples_never_appear_in_training() -> None:
    seen = {_key(t) for t, _ in TRAINING}
    assert [t for t, _ in HELDOUT if _key(t) in seen] == []


def test_no_training_example_is_given_two_labels() -> None:
    labels_of: dict = {}
    for text, label in TRAINING:
        labels_of.setdefault(_key(text), set()).add(label)
    assert {k: v for k, v in labels_of.items() if len(v) > 1} == {}


def _unexpected_validation_warnings(output: str) -> list[str]:
    """Rasa's warnings minus the two that are by design here.

    - responses uttered only by custom actions, and the questions forms ask
      (``utter_ask_<slot>``, ``utter_ask_<form>_<slot>``), are "not used in any story or rule";
    - retrieval responses live in data files (Rasa's documented place), which makes
      Rasa note the retrieval intent "faq" twice;
    - intents that a graph component sets and no classifier learns (``INTENT_NAME`` in bot/nlu/,
      e.g. "other_language") have no training data.
    """
    actions_code = "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "actions").glob("*.py"))
    nlu_code = "".join(p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "bot" / "nlu").glob("*.py"))
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    form_questions = {
        question
        for name, form in domain.get("forms", {}).items()
        for slot in form["required_slots"]
        for question in (f"utter_ask_{slot}", f"utter_ask_{name}_{slot}")  # Rasa asks with either
    }
    unexpected = []
    for line in output.splitlines():
        if "UserWarning" not in line:
            continue
        unused = re.search(r"The utterance '(\w+)' is not used", line)
        if unused and (f'"{unused.group(1)}"' in actions_code or unused.group(1) in form_questions):
            continue
        if "duplicated intents have been found across multiple domain files: faq" in line:
            continue
        untrained = re.search(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU", line)
        if untrained and f'INTENT_NAME = "{untrained.group(1)}"' in nlu_code:
            continue
        unexpected.append(line)
    return unexpected


@pytest.mark.slow  # runs Rasa's own validator in a child process (~9 s)
def test_rasa_data_validate_is_clean() -> None:
    """Rasa's own validator: domain, stories, rules and NLU agree."""
    from bot.training import render_responses, training_files

    render_responses()
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--data", *map(str, training_files())],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert _unexpected_validation_warnings(output) == []
