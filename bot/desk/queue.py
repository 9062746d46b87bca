"""The handoff queue: conversations waiting for, or talking with, a human agent.

Persisted in the project database so a restart of any process loses no queue
entry. A claim is one conditional UPDATE (``... WHERE status = 'waiting'``):
whichever agent's statement lands first gets the conversation, the other sees
zero rows changed, on SQLite and PostgreSQL alike.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

WAITING, ACTIVE, CLOSED, EXPIRED = "waiting", "active", "closed", "expired"
OPEN_STATES = (WAITING, ACTIVE)

metadata = sa.MetaData()
handoffs_table = sa.Table(
    "handoffs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("slots", sa.Text, nullable=False),
    sa.Column("transcript", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_at", sa.DateTime(timezone=True)),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("resolution", sa.Text),
    sa.Column("csat", sa.Integer),
)


@dataclass(frozen=True)
class Handoff:
    id: int
    channel: str
    sender_id: str
    status: str
    reason: str
    summary: str
    slots: dict[str, Any]
    transcript: list[dict[str, Any]]
    created_at: datetime
    claimed_by: str | None
    csat: int | None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _to_handoff(row: Any) -> Handoff:
    return Handoff(
        id=row.id, channel=row.channel, sender_id=row.sender_id, status=row.status, reason=row.reason,
        summary=row.summary, slots=json.loads(row.slots), transcript=json.loads(row.transcript),
        created_at=_as_utc(row.created_at), claimed_by=row.claimed_by, csat=row.csat,
    )  # fmt: skip


def estimate_wait_minutes(position: int, agents_online: int, average_handle_minutes: float) -> int | None:
    """Minutes until an agent is free for the customer at ``position`` (1 = next).

    None when no agent is online: there is nothing honest to promise.
    """
    if agents_online <= 0:
        return None
    rounds = math.ceil(position / agents_online)
    return max(1, math.ceil((rounds - 1) * average_handle_minutes + average_handle_minutes / 2))


class HandoffQueue:
    """Handoffs in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)

    def open(
        self,
        *,
        channel: str,
        sender_id: str,
        reason: str,
        summary: str,
        slots: dict[str, Any],
        transcript: list[dict[str, Any]],
    ) -> Handoff:
        """Queues a conversation; a customer already waiting or talking keeps their place."""
        with self._engine.begin() as connection:
            existing = connection.execute(
                sa.select(handoffs_table).where(
                    handoffs_table.c.sender_id == sender_id, handoffs_table.c.status.in_(OPEN_STATES)
                )
            ).first()
            if existing:
                return _to_handoff(existing)
            new_id = connection.execute(
                handoffs_table.insert().values(
                    channel=channel, sender_id=sender_id, status=WAITING, reason=reason, summary=summary,
                    slots=json.dumps(slots, ensure_ascii=False), transcript=json.dumps(transcript, ensure_ascii=False),
                    created_at=_now(),
                )
            ).inserted_primary_key[0]  # fmt: skip
        return self.get(new_id)

    def get(self, handoff_id: int) -> Handoff:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(handoffs_table).where(handoffs_table.c.id == handoff_id)).one()
        return _to_handoff(row)

    def waiting(self) -> list[Handoff]:
        """Waiting conversations, longest-waiting first."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(handoffs_table)
                .where(handoffs_table.c.status == WAITING)
                .order_by(handoffs_table.c.created_at, handoffs_table.c.id)
            ).all()
        return [_to_handoff(row) for row in rows]

    def position(self, handoff_id: int) -> int | None:
        """1 for the next customer to be served; None once no longer waiting."""
        ids = [h.id for h in self.waiting()]
        return ids.index(handoff_id) + 1 if handoff_id in ids else None

    def claim(self, handoff_id: int, agent: str) -> bool:
        """Gives the conversation to ``agent`` unless someone else got it first."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(handoffs_table.c.id == handoff_id, handoffs_table.c.status == WAITING)
                .values(status=ACTIVE, claimed_by=agent, claimed_at=_now())
            ).rowcount
        return changed == 1

    def close(self, handoff_id: int, resolution: str) -> bool:
        """Ends an active conversation with the agent's resolution."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(handoffs_table.c.id == handoff_id, handoffs_table.c.status == ACTIVE)
                .values(status=CLOSED, closed_at=_now(), resolution=resolution[:5000])
            ).rowcount
        return changed == 1

    def expire_unclaimed(self, waited_since: datetime) -> list[Handoff]:
        """Takes out of the queue everyone waiting since before ``waited_since``."""
        expired = []
        for handoff in self.waiting():
            if handoff.created_at >= waited_since:
                continue
            with self._engine.begin() as connection:
                changed = connection.execute(
                    handoffs_table.update()
                    .where(handoffs_table.c.id == handoff.id, handoffs_table.c.status == WAITING)
                    .values(status=EXPIRED, closed_at=_now())
                ).rowcount
            if changed:
                expired.append(self.get(handoff.id))
        return expired

    def record_csat(self, handoff_id: int, score: int) -> None:
        """Stores the customer's 1-5 rating of a closed conversation."""
        if not 1 <= score <= 5:
            raise ValueError("CSAT is a score from 1 to 5")
        with self._engine.begin() as connection:
            connection.execute(
                handoffs_table.update()
                .where(handoffs_table.c.id == handoff_id, handoffs_table.c.status == CLOSED)
                .values(csat=score)
            )
