"""The platform outbox: each message to a Zalo or Messenger customer, stored before the platform is called.

Written by the Rasa server's channels (connectors/outbox.py sends, retries and gives up), read by the
desk, which shows an agent the messages that have not reached the customer yet, or never will.

A row is held by one sender at a time: ``claim`` names it and ``next_attempt_at`` is the end of its
lease, so a process that dies mid-send leaves the row to whoever finds it due after the lease.
Claiming is a compare-and-swap on (status, due time), and on PostgreSQL the candidates are read
``FOR UPDATE SKIP LOCKED``: two replicas never hold one row. One conversation's messages leave in
order: a row waits while an earlier one of its conversation is still pending.
"""

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, outbox_table

SENT_KEPT_SECONDS = 24 * 3600  # sent rows are only history after this; failed ones stay for the transcript


@dataclass(frozen=True)
class OutboxRow:
    """A message held by one sender: what is left to deliver and how it went so far."""

    id: int
    channel: str
    conversation_id: str
    sent_at: float | None
    parts: list[dict[str, Any]]
    parts_done: int
    attempts: int
    created_at: float
    claim: str


@dataclass(frozen=True)
class Delivery:
    """What the agent's console shows next to a line that has not reached the customer."""

    status: str  # pending or failed
    reason: str


def new_claim() -> str:
    return secrets.token_hex(8)


def line_key(sent_at: float) -> float:
    """How a transcript line's Rasa timestamp is matched to its row: both came from the same JSON float, rounded
    to the microsecond so a database that stores it less exactly still matches."""
    return round(sent_at, 6)


def _row(found: Any, claim: str) -> OutboxRow:
    return OutboxRow(
        found.id, found.channel, found.conversation_id, found.sent_at, json.loads(found.parts), found.parts_done,
        found.attempts, found.created_at, claim,
    )  # fmt: skip


def queued_row(channel: str, conversation_id: str, parts: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """A row due now and held by nobody: the channel's worker, in whichever process runs it, sends it in turn."""
    return {
        "channel": channel, "conversation_id": conversation_id, "sent_at": None,
        "parts": json.dumps(parts, ensure_ascii=False), "parts_done": 0, "status": OUTBOX_PENDING, "attempts": 0,
        "created_at": now, "next_attempt_at": now, "claim": None, "updated_at": now,
    }  # fmt: skip


class OutboxStore:
    """The ``platform_outbox`` table (synchronous: call it from a thread in async code)."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        self._skip_locked = engine.dialect.name == "postgresql"
        ensure_schema(engine)

    def add(
        self, channel: str, conversation_id: str, parts: list[dict[str, Any]], sent_at: float | None,
        claim: str, lease_seconds: float,
    ) -> OutboxRow | None:  # fmt: skip
        """Stores a message; returns it held by ``claim`` to send now, or None when it must queue behind an
        earlier message of the same conversation that is still pending (the worker sends it in turn)."""
        now = time.time()
        values = {
            "channel": channel, "conversation_id": conversation_id, "sent_at": sent_at,
            "parts": json.dumps(parts, ensure_ascii=False), "parts_done": 0, "status": OUTBOX_PENDING,
            "created_at": now, "updated_at": now,
        }  # fmt: skip
        earlier = sa.select(outbox_table.c.id).where(
            outbox_table.c.conversation_id == conversation_id, outbox_table.c.status == OUTBOX_PENDING
        )
        with self._engine.begin() as connection:
            if connection.execute(earlier.limit(1)).first() is not None:
                connection.execute(outbox_table.insert().values(attempts=0, next_attempt_at=now, claim=None, **values))
                return None
            held = {"attempts": 1, "next_attempt_at": now + lease_seconds, "claim": claim}
            new_id = connection.execute(outbox_table.insert().values(**held, **values)).inserted_primary_key[0]
        return OutboxRow(new_id, channel, conversation_id, sent_at, parts, 0, 1, now, claim)

    def add_failed(self, channel: str, conversation_id: str, sent_at: float | None, code: str, reason: str) -> None:
        """A message the platform would refuse anyway (known before calling it): failed from the start."""
        now = time.time()
        with self._engine.begin() as connection:
            connection.execute(
                outbox_table.insert().values(
                    channel=channel, conversation_id=conversation_id, sent_at=sent_at, parts="[]", parts_done=0,
                    status=OUTBOX_FAILED, attempts=0, created_at=now, next_attempt_at=now, error_code=code,
                    error_reason=reason, updated_at=now,
                )
            )  # fmt: skip

    def claim_due(self, channel: str, claim: str, lease_seconds: float, limit: int = 10) -> list[OutboxRow]:
        """Up to ``limit`` due rows of ``channel``, each held by ``claim`` until the lease ends; oldest first,
        none behind a pending earlier message of its conversation."""
        now = time.time()
        table, older = outbox_table, outbox_table.alias("older")
        behind = (
            sa.select(older.c.id)
            .where(older.c.conversation_id == table.c.conversation_id, older.c.status == OUTBOX_PENDING,
                   older.c.id < table.c.id)
            .exists()
        )  # fmt: skip
        due = (table.c.status == OUTBOX_PENDING) & (table.c.next_attempt_at <= now)
        candidates = sa.select(table.c.id).where(table.c.channel == channel, due, ~behind).order_by(table.c.id)
        if self._skip_locked:
            candidates = candidates.with_for_update(skip_locked=True, of=table)
        claimed = []
        with self._engine.begin() as connection:
            for row_id in connection.execute(candidates.limit(limit)).scalars().all():
                taken = connection.execute(
                    table.update()
                    .where(table.c.id == row_id, due)
                    .values(claim=claim, next_attempt_at=now + lease_seconds, attempts=table.c.attempts + 1,
                            updated_at=now)
                )  # fmt: skip
                if taken.rowcount == 1:
                    claimed.append(row_id)
            found = connection.execute(sa.select(table).where(table.c.id.in_(claimed)).order_by(table.c.id)).all()
        return [_row(row, claim) for row in found]

    def _update(self, row: OutboxRow, **values: Any) -> bool:
        """Records an outcome, only while ``row``'s sender still holds it (a lease taken over is not overwritten)."""
        held = (outbox_table.c.id == row.id) & (outbox_table.c.claim == row.claim)
        with self._engine.begin() as connection:
            changed = connection.execute(outbox_table.update().where(held).values(updated_at=time.time(), **values))
        return changed.rowcount == 1

    def progress(self, row: OutboxRow, parts_done: int) -> bool:
        return self._update(row, parts_done=parts_done)

    def sent(self, row: OutboxRow) -> bool:
        return self._update(row, status=OUTBOX_SENT, parts_done=len(row.parts), claim=None)

    def retry_at(self, row: OutboxRow, when: float, code: str, reason: str) -> bool:
        return self._update(row, next_attempt_at=when, claim=None, error_code=code, error_reason=reason)

    def failed(self, row: OutboxRow, code: str, reason: str) -> bool:
        return self._update(row, status=OUTBOX_FAILED, claim=None, error_code=code, error_reason=reason)

    def undelivered(self, conversation_id: str) -> dict[float, Delivery]:
        """The conversation's messages not delivered (yet), by ``line_key`` of the Rasa timestamp of their bot event."""
        table = outbox_table
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(table.c.sent_at, table.c.status, table.c.error_reason).where(
                    table.c.conversation_id == conversation_id, table.c.status != OUTBOX_SENT,
                    table.c.sent_at.is_not(None),
                )
            ).all()  # fmt: skip
        return {line_key(row.sent_at): Delivery(row.status, row.error_reason or "") for row in rows}

    def prune(self, now: float | None = None) -> int:
        """Forgets sent rows after a day: they were kept to order and de-duplicate sends, not as history."""
        before = (now or time.time()) - SENT_KEPT_SECONDS
        with self._engine.begin() as connection:
            gone = connection.execute(
                outbox_table.delete().where(outbox_table.c.status == OUTBOX_SENT, outbox_table.c.updated_at < before)
            )
        return gone.rowcount
