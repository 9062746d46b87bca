"""Held-out evaluation of a trained model on labelled examples.

A FAQ example's label is its full retrieval intent ("faq/refund"): the
prediction counts only when the intent model says "faq" *and* the ResponseSelector picks
the right topic. A fallback prediction counts as wrong, because the customer
did not get an answer.

The held-out sets live in the data folder's ``eval/`` (data/eval), beside the
training data but never trained on (bot/training.py trains only on ``nlu/``,
``stories/`` and the rendered responses): the admin retrain's quality gate reads
them at run time, so they ship with the product, not with the tests.
"""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.paths import DATA_DIR
from bot.text.normalize import strip_diacritics

Example = tuple[str, str]  # (text, label)
EVAL_FOLDER = "eval"
IN_DOMAIN = ("core", "faq")  # questions a topic or flow answers; the "uncovered" sets are the rest


def heldout_files(data_dir: Path = DATA_DIR, parts: Sequence[str] | None = None) -> list[Path]:
    """The held-out NLU sets of ``data_dir`` (all of them, or only ``parts``, e.g. ``IN_DOMAIN``)."""
    folder = data_dir / EVAL_FOLDER
    if parts is None:
        return sorted(folder.glob("nlu_heldout_*.yml"))
    return [folder / f"nlu_heldout_{part}.yml" for part in parts]


def load_examples(*paths: Path) -> list[Example]:
    """(text, label) pairs from Rasa YAML NLU files."""
    examples: list[Example] = []
    for path in paths:
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in content.get("nlu", []):
            if "intent" not in block:
                continue
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip()
                if text.startswith("- "):
                    examples.append((text[2:].strip(), block["intent"]))
    return examples


def stripped(examples: Sequence[Example]) -> list[Example]:
    """The same examples typed without diacritics."""
    return [(strip_diacritics(text), label) for text, label in examples]


def predicted_label(parse: dict[str, Any]) -> str:
    """The label a parse result stands for: the intent, or faq/<topic>.

    A ResponseSelector configured with ``retrieval_intent: faq`` files its answer
    under "faq"; one without (Rasa's default pipeline) under "default". Rasa's own
    ``utter_faq`` reads either, so the evaluation does too.
    """
    intent = (parse.get("intent") or {}).get("name") or ""
    selectors = parse.get("response_selector") or {}
    if intent in selectors.get("all_retrieval_intents", []):
        selector = selectors.get(intent) or selectors.get("default") or {}
        return selector.get("response", {}).get("intent_response_key") or intent
    return intent


@dataclass
class Report:
    """Accuracy, the misses, and how long each parse took."""

    total: int = 0
    correct: int = 0
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # text, expected, got
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def confusions(self) -> Counter:
        """(expected, got) -> count, most frequent first."""
        return Counter((expected, got) for _, expected, got in self.misses)


def evaluate(parse: Callable[[str], dict[str, Any]], examples: Sequence[Example]) -> Report:
    """Parses every example and compares labels."""
    report = Report()
    for text, label in examples:
        started = time.perf_counter()
        result = parse(text)
        report.latencies_ms.append((time.perf_counter() - started) * 1000)
        got = predicted_label(result)
        report.total += 1
        if got == label:
            report.correct += 1
        else:
            report.misses.append((text, label, got))
    return report


def model_parser(model: Path) -> Callable[[str], dict[str, Any]]:
    """A synchronous ``parse(text)`` over a trained model, for tools and tests. Rasa's structlog, unless
    configured, prints every parse with its text at DEBUG: a retrain's evaluation wrote each held-out
    question (phone numbers included) to the admin's terminal."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    loop = asyncio.new_event_loop()
    agent = Agent.load(str(model))

    def parse(text: str) -> dict[str, Any]:
        return loop.run_until_complete(agent.parse_message(text))

    return parse
