"""What staff see instead of internal ids: Vietnamese titles of FAQ topics (and of intents counted as topics)
and named shop-fact chips.

The titles live in ``data/staff/titles.yml``, outside the training inputs (bot/training.py MODEL_INPUTS),
so an admin can rename a topic without retraining the bot. Tooling keeps using the ids.
"""

import os
import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.shop_policy import PolicyError, load_policy


@dataclass(frozen=True)
class FactChip:
    """One ``{section.key}`` placeholder of an answer, with the fact's current value."""

    placeholder: str
    label: str
    value: str | None  # None: the policy has no such fact (the answer would not render)

    @property
    def text(self) -> str:
        shown = self.value if self.value is not None else "chưa có giá trị"
        return f"{self.label}: {shown}" if self.label else shown


def titles_file(data_dir: Path) -> Path:
    return data_dir / "staff" / "titles.yml"


def _load(data_dir: Path) -> dict[str, Any]:
    path = titles_file(data_dir)
    if not path.exists():
        return {}
    content = yaml.safe_load(path.read_text(encoding="utf-8"))
    return content if isinstance(content, dict) else {}


def topic_titles(data_dir: Path) -> dict[str, str]:
    """Topic id -> its Vietnamese title (only the topics that have one)."""
    return {str(k): str(v) for k, v in (_load(data_dir).get("topics") or {}).items() if v}


def intent_titles(data_dir: Path) -> dict[str, str]:
    """Intent -> the title of the topic it makes in the analytics (intents outside the FAQ, as product_question)."""
    return {str(k): str(v) for k, v in (_load(data_dir).get("intents") or {}).items() if v}


def title_of(titles: dict[str, str], topic: str) -> str:
    """The title staff read; the id itself when the topic has none yet."""
    return titles.get(topic) or topic


def save_title(data_dir: Path, topic: str, title: str) -> None:
    """Sets (or, with an empty ``title``, removes) a topic's title; the file is replaced atomically."""
    content = _load(data_dir)
    topics = dict(content.get("topics") or {})
    if title.strip():
        topics[topic] = title.strip()
    else:
        topics.pop(topic, None)
    content["topics"] = topics
    path = titles_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # keep the file's explanatory header: it tells the next editor why the file exists
    header = "".join(_header(path))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(header + yaml.safe_dump(content, allow_unicode=True, sort_keys=False, width=1000))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _header(path: Path) -> list[str]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    return lines[:end]


def _fact(policy: Any, placeholder: str) -> str | None:
    value = policy
    for part in placeholder.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return None if isinstance(value, dict) else str(value)


def fact_chips(template: str, data_dir: Path) -> list[FactChip]:
    """The answer's placeholders in order of first use, each with its label and current value."""
    try:
        policy = load_policy(data_dir / "shop")
        placeholders = [field for _, field, _, _ in string.Formatter().parse(template) if field]
    except (PolicyError, ValueError):
        return []
    labels = {str(k): str(v) for k, v in (_load(data_dir).get("facts") or {}).items()}
    unique = list(dict.fromkeys(placeholders))
    return [FactChip(p, labels.get(p, ""), _fact(policy, p)) for p in unique]


def answer_pieces(template: str, data_dir: Path) -> list[str | FactChip]:
    """The answer as staff read it: its literal text with a chip where each placeholder stands."""
    chips = {chip.placeholder: chip for chip in fact_chips(template, data_dir)}
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return [template]
    pieces: list[str | FactChip] = []
    for literal, field, _, _ in parsed:
        if literal:
            pieces.append(literal)
        if field:
            pieces.append(chips.get(field) or FactChip(field, "", None))
    return pieces
