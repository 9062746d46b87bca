"""Agents' free labels on a conversation ("VIP", "đổi trả"), shown in the queue and filtered on.

A label is trimmed, its inner spaces collapsed and stored as typed; "vip" and "VIP" are the same label
(its key is the casefolded form), so the first spelling stays. At most ``MAX_LABELS`` a conversation,
each at most ``MAX_LENGTH`` characters, so a row of the queue stays one row.
"""

import unicodedata
from collections.abc import Iterable
from datetime import datetime, timezone

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import handoff_labels_table as table

MAX_LENGTH, MAX_LABELS = 30, 10


class LabelError(ValueError):
    """A label that cannot be added; the message says why, for the agent."""


def normalize(label: str) -> str:
    """The label as stored, or LabelError: empty, too long or holding control characters."""
    label = " ".join(unicodedata.normalize("NFC", label).split())
    if not label:
        raise LabelError("Nhãn không được để trống.")
    if len(label) > MAX_LENGTH:
        raise LabelError(f"Nhãn tối đa {MAX_LENGTH} ký tự.")
    if any(unicodedata.category(c).startswith("C") for c in label):
        raise LabelError("Nhãn chỉ gồm chữ, số và dấu câu.")
    return label


def distinct(labels: Iterable[str]) -> list[str]:
    """Each label once whatever its case (the first spelling), sorted case-insensitively: the queue's filter."""
    seen: dict[str, str] = {}
    for label in labels:
        seen.setdefault(key_of(label), label)
    return [seen[key] for key in sorted(seen)]


def key_of(label: str) -> str:
    """What makes two labels the same: case does not."""
    return unicodedata.normalize("NFC", " ".join(label.split())).casefold()


class LabelStore:
    """Labels of hand-offs in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def labels_of(self, handoff_ids: list[int]) -> dict[int, list[str]]:
        """Each hand-off's labels in the order they were added (hand-offs without any are absent)."""
        if not handoff_ids:
            return {}
        query = (sa.select(table.c.handoff_id, table.c.label).where(table.c.handoff_id.in_(handoff_ids))
                 .order_by(table.c.added_at, table.c.label_key))  # fmt: skip
        found: dict[int, list[str]] = {}
        with self._engine.connect() as connection:
            for handoff_id, label in connection.execute(query):
                found.setdefault(handoff_id, []).append(label)
        return found

    def add(self, handoff_id: int, label: str, actor: str) -> list[str]:
        """Adds ``label`` (already there in any case: nothing changes); the conversation's labels after."""
        label = normalize(label)
        try:
            with self._engine.begin() as connection:
                keys = set(connection.execute(sa.select(table.c.label_key).where(table.c.handoff_id == handoff_id))
                           .scalars())  # fmt: skip
                if key_of(label) not in keys:
                    if len(keys) >= MAX_LABELS:
                        raise LabelError(f"Mỗi cuộc trò chuyện có tối đa {MAX_LABELS} nhãn.")
                    connection.execute(table.insert().values(
                        handoff_id=handoff_id, label_key=key_of(label), label=label, added_by=actor,
                        added_at=datetime.now(timezone.utc)))  # fmt: skip
        except sa.exc.IntegrityError:
            pass  # the same label added at the same moment by another click: it is there, once
        return self.labels_of([handoff_id]).get(handoff_id, [])

    def remove(self, handoff_id: int, label: str) -> list[str]:
        """Removes ``label`` in any case; the conversation's labels after."""
        with self._engine.begin() as connection:
            connection.execute(
                table.delete().where(table.c.handoff_id == handoff_id, table.c.label_key == key_of(label))
            )
        return self.labels_of([handoff_id]).get(handoff_id, [])

    def with_label(self, label: str) -> set[int]:
        """The hand-offs carrying ``label`` (in any case)."""
        with self._engine.connect() as connection:
            rows = connection.execute(sa.select(table.c.handoff_id).where(table.c.label_key == key_of(label)))
            return set(rows.scalars())
