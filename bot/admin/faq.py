"""FAQ topics as admins edit them: example questions (data/nlu/faq.yml) and
answer templates (data/shop/answers.yml), read and written with ruamel.yaml's
round-trip mode so comments, order and block style survive every edit.

A ``FaqFiles`` is one such pair of files: the live ones under data/, or the
admins' draft (bot/admin/draft.py). Every change names the version it was
based on (a hash of both files); a change based on an older version is
refused, so two admins never overwrite each other silently.
"""

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import LiteralScalarString

FAQ_PREFIX = "faq/"
TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


class FaqConflictError(RuntimeError):
    """The files changed since the editor loaded them."""


class UnknownTopicError(KeyError):
    """No such FAQ topic."""


@dataclass
class Topic:
    """One FAQ topic: the questions customers ask and the answer template."""

    name: str
    examples: list[str] = field(default_factory=list)
    answer: str = ""


def _yaml() -> YAML:
    yaml = YAML()
    # ruamel.yaml's __init__ sets both to None without an annotation, so mypy takes None as their type
    yaml.preserve_quotes = True  # type: ignore[assignment]
    yaml.width = 4096  # type: ignore[assignment]
    yaml.indent(mapping=2, sequence=2, offset=0)
    return yaml


def _examples_block(examples: list[str]) -> LiteralScalarString:
    return LiteralScalarString("".join(f"- {example}\n" for example in examples))


def parse_examples(block: Any) -> list[str]:
    """The "- question" lines of a Rasa examples block."""
    return [line.strip()[2:].strip() for line in str(block or "").splitlines() if line.strip().startswith("- ")]


def _write_atomically(path: Path, yaml: YAML, content: Any) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yaml.dump(content, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FaqFiles:
    """The FAQ topics of one faq.yml + answers.yml pair."""

    def __init__(self, nlu_path: Path, answers_path: Path) -> None:
        self.nlu_path, self.answers_path = nlu_path, answers_path

    def version(self) -> str:
        digest = hashlib.sha256()
        for path in (self.nlu_path, self.answers_path):
            digest.update(path.read_bytes())
            digest.update(b"\0")
        return digest.hexdigest()[:16]

    def _load(self) -> tuple[YAML, Any, Any]:
        yaml = _yaml()
        nlu = yaml.load(self.nlu_path.read_text(encoding="utf-8"))
        answers = yaml.load(self.answers_path.read_text(encoding="utf-8"))
        return yaml, nlu, answers

    def topics(self) -> list[Topic]:
        """Every topic, in the order of faq.yml."""
        _, nlu, answers = self._load()
        texts = answers.get("answers") or {}
        return [
            Topic(block["intent"][len(FAQ_PREFIX) :], parse_examples(block.get("examples")),
                  str(texts.get(block["intent"][len(FAQ_PREFIX) :], "")))
            for block in nlu.get("nlu") or []
            if str(block.get("intent", "")).startswith(FAQ_PREFIX)
        ]  # fmt: skip

    def topic(self, name: str) -> Topic:
        for topic in self.topics():
            if topic.name == name:
                return topic
        raise UnknownTopicError(name)

    def _check_version(self, expected: str | None) -> None:
        if expected is not None and expected != self.version():
            raise FaqConflictError(
                "Dữ liệu FAQ đã được người khác thay đổi sau khi bạn mở trang; hãy tải lại trang rồi sửa lại."
            )

    def save(self, topic: Topic, expected_version: str | None) -> str:
        """Adds or replaces ``topic``; returns the new version."""
        self._check_version(expected_version)
        yaml, nlu, answers = self._load()
        intent = FAQ_PREFIX + topic.name
        blocks = nlu["nlu"]
        block = next((b for b in blocks if b.get("intent") == intent), None)
        if block is None:
            block = CommentedMap([("intent", intent), ("examples", None)])
            blocks.append(block)
        block["examples"] = _examples_block(topic.examples)
        texts = answers.setdefault("answers", CommentedMap())
        texts[topic.name] = LiteralScalarString(topic.answer.strip())
        _write_atomically(self.nlu_path, yaml, nlu)
        _write_atomically(self.answers_path, yaml, answers)
        return self.version()

    def remove(self, name: str, expected_version: str | None) -> str:
        """Deletes a topic with its answer; returns the new version."""
        self._check_version(expected_version)
        yaml, nlu, answers = self._load()
        blocks = nlu["nlu"]
        index = next((i for i, b in enumerate(blocks) if b.get("intent") == FAQ_PREFIX + name), None)
        if index is None:
            raise UnknownTopicError(name)
        del blocks[index]
        (answers.get("answers") or {}).pop(name, None)
        _write_atomically(self.nlu_path, yaml, nlu)
        _write_atomically(self.answers_path, yaml, answers)
        return self.version()
