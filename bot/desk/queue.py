"""The handoff queue: conversations waiting for, or talking with, a human agent.

Persisted in the project database so a restart of any process loses no queue
entry or transcript. A claim is one conditional UPDATE (``... WHERE status =
'waiting'``): whichever agent's statement lands first gets the conversation,
the other sees zero rows changed, on SQLite and PostgreSQL alike. Every other
state change is guarded the same way, so a claim racing the accept timeout or
the customer's own cancellation has exactly one outcome.

Timers are due times in the rows, not in any process: every desk instance sweeps
for what is due (``due_to_expire``, ``pending_resumes``) and takes each piece of
work with a conditional UPDATE, so two instances never both do it and a restarted
or surviving instance finishes what a dead one began.
"""

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa

from bot.handoff_protocol import Mood, TranscriptLine
from bot.migrations import ensure_schema
from bot.schema import ACTIVE, CANCELLED, CLOSED, EXPIRED, RETURNED, WAITING, agents_table, handoffs_table
from bot.schema import handoff_messages_table as messages_table

OPEN_STATES = (WAITING, ACTIVE)
CSAT_WINDOW = timedelta(days=1)

# Who wrote a transcript line: the customer, the bot, an agent (sent to the
# customer) or an agent's internal note (never sent).
CUSTOMER, BOT, AGENT, NOTE = "customer", "bot", "agent", "note"
MAX_TEXT = 5000


@dataclass(frozen=True)
class Handoff:
    id: int
    channel: str
    sender_id: str
    status: str
    reason: str
    summary: str
    slots: dict[str, Any]
    contact_phone: str | None
    created_at: datetime
    told_position: int | None
    claimed_by: str | None
    claimed_at: datetime | None
    first_reply_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    ticket_code: str | None
    csat: int | None
    mood: Mood | None = None
    team: str | None = None  # the support.yml team it is routed to; None on rows from before teams
    transferred_from: str | None = None  # display name of who passed it on last


@dataclass(frozen=True)
class Message:
    id: int
    handoff_id: int
    role: str
    author: str | None
    text: str
    sent_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "handoff_id": self.handoff_id, "role": self.role, "author": self.author,
            "text": self.text, "sent_at": self.sent_at,
        }  # fmt: skip


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _as_utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _as_utc_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _as_utc(moment)


def _to_handoff(row: Any) -> Handoff:
    return Handoff(
        id=row.id, channel=row.channel, sender_id=row.sender_id, status=row.status, reason=row.reason,
        summary=row.summary, slots=json.loads(row.slots), contact_phone=row.contact_phone,
        created_at=_as_utc(row.created_at), told_position=row.told_position, claimed_by=row.claimed_by,
        claimed_at=_as_utc_or_none(row.claimed_at), first_reply_at=_as_utc_or_none(row.first_reply_at),
        closed_at=_as_utc_or_none(row.closed_at), resolution=row.resolution, ticket_code=row.ticket_code, csat=row.csat,
        mood=json.loads(row.mood) if row.mood else None, team=row.team, transferred_from=row.transferred_from,
    )  # fmt: skip


def _lease_free(now: datetime) -> Any:
    """Nobody holds the resume, or its holder's lease ran out."""
    return sa.or_(handoffs_table.c.resume_leased_until.is_(None), handoffs_table.c.resume_leased_until <= now)


def estimate_wait_minutes(position: int, agents_online: int, average_handle_minutes: float) -> int | None:
    """Minutes until an agent is free for the customer at ``position`` (1 = next).

    None when no agent is online: there is nothing honest to promise.
    """
    if agents_online <= 0:
        return None
    rounds = math.ceil(position / agents_online)
    return max(1, math.ceil((rounds - 1) * average_handle_minutes + average_handle_minutes / 2))


class HandoffQueue:
    """Handoffs and their transcripts in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def open(
        self,
        *,
        channel: str,
        sender_id: str,
        reason: str,
        summary: str,
        slots: dict[str, Any],
        transcript: list[TranscriptLine],
        contact_phone: str | None = None,
        mood: Mood | None = None,
        expires_at: datetime | None = None,
        team: str | None = None,
    ) -> Handoff:
        """Queues a conversation; a customer already waiting or talking keeps their place.

        ``transcript`` items are ``{"role", "text", "sent_at"}`` as the bot saw them; ``mood`` is
        ``{"label", "score", "cues"}`` from the bot's NLU; ``expires_at`` is when nobody accepting it
        gives the customer a ticket instead; ``team`` is whose agents see it first.
        """
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
                    slots=json.dumps(slots, ensure_ascii=False), contact_phone=contact_phone, created_at=_now(),
                    mood=json.dumps(mood, ensure_ascii=False) if mood else None, expires_at=expires_at, team=team,
                )
            ).inserted_primary_key[0]  # fmt: skip
        for line in transcript:
            self.add_message(new_id, line["role"], line["text"], float(line["sent_at"]))
        return self.get_existing(new_id)

    def get(self, handoff_id: int) -> Handoff | None:
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(handoffs_table).where(handoffs_table.c.id == handoff_id)).first()
        return _to_handoff(row) if row else None

    def get_existing(self, handoff_id: int) -> Handoff:
        """A handoff known to exist (just written or claimed): a missing row is a broken database, not an answer."""
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(handoffs_table).where(handoffs_table.c.id == handoff_id)).one()
        return _to_handoff(row)

    def open_for(self, sender_id: str) -> Handoff | None:
        """The customer's waiting or active handoff, if any."""
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(handoffs_table).where(
                    handoffs_table.c.sender_id == sender_id, handoffs_table.c.status.in_(OPEN_STATES)
                )
            ).first()
        return _to_handoff(row) if row else None

    def of_sender(self, sender_id: str) -> list[Handoff]:
        """Every hand-off of one conversation, open or closed (who may see its files depends on them)."""
        return self._select(handoffs_table.c.sender_id == sender_id)

    def _select(self, *conditions: Any, order: Any = None) -> list[Handoff]:
        query = sa.select(handoffs_table).where(*conditions)
        query = query.order_by(*(order if order is not None else (handoffs_table.c.created_at, handoffs_table.c.id)))
        with self._engine.connect() as connection:
            return [_to_handoff(row) for row in connection.execute(query).all()]

    def waiting(self) -> list[Handoff]:
        """Waiting conversations, longest-waiting first."""
        return self._select(handoffs_table.c.status == WAITING)

    def active_agents_handoffs(self) -> list[Handoff]:
        """Every conversation an agent is talking in."""
        return self._select(handoffs_table.c.status == ACTIVE)

    def active_for(self, agent: str) -> list[Handoff]:
        """The conversations ``agent`` is talking in."""
        return self._select(handoffs_table.c.status == ACTIVE, handoffs_table.c.claimed_by == agent)

    def recent_closed(self, limit: int = 20) -> list[Handoff]:
        """The latest ended conversations, newest first."""
        ended = handoffs_table.c.status.notin_(OPEN_STATES)
        return self._select(ended, order=(handoffs_table.c.closed_at.desc(), handoffs_table.c.id.desc()))[:limit]

    def position(self, handoff_id: int) -> int | None:
        """1 for the next customer to be served; None once no longer waiting."""
        ids = [h.id for h in self.waiting()]
        return ids.index(handoff_id) + 1 if handoff_id in ids else None

    def _transition(self, handoff_id: int, from_states: tuple[str, ...], **values: Any) -> bool:
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(handoffs_table.c.id == handoff_id, handoffs_table.c.status.in_(from_states))
                .values(**values)
            ).rowcount
        return changed == 1

    def claim(self, handoff_id: int, agent: str, capacity: int | None = None) -> bool:
        """Gives the conversation to ``agent`` unless someone else got it first or, with ``capacity``, the agent
        already talks in that many. One conditional UPDATE counts and claims, so claims sent together cannot
        pass the limit (SQLite runs writes one at a time; PostgreSQL is made to by locking the agent's row)."""
        conditions = [handoffs_table.c.id == handoff_id, handoffs_table.c.status == WAITING]
        if capacity is not None:
            theirs = (
                sa.select(sa.func.count())
                .select_from(handoffs_table)
                .where(handoffs_table.c.status == ACTIVE, handoffs_table.c.claimed_by == agent)
                .scalar_subquery()
            )
            conditions.append(theirs < capacity)
        with self._engine.begin() as connection:
            if capacity is not None and connection.dialect.name == "postgresql":
                connection.execute(sa.select(agents_table.c.username).where(agents_table.c.username == agent)
                                   .with_for_update())  # fmt: skip
            changed = connection.execute(
                handoffs_table.update().where(*conditions).values(status=ACTIVE, claimed_by=agent, claimed_at=_now())
            ).rowcount
        return changed == 1

    def active_count(self, agent: str) -> int:
        """How many conversations ``agent`` talks in now."""
        with self._engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count())
                .select_from(handoffs_table)
                .where(handoffs_table.c.status == ACTIVE, handoffs_table.c.claimed_by == agent)
            ).scalar_one()

    def _end(self, handoff_id: int, agent: str, status: str, resolution: str) -> bool:
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(
                    handoffs_table.c.id == handoff_id,
                    handoffs_table.c.status == ACTIVE,
                    handoffs_table.c.claimed_by == agent,
                )
                .values(status=status, closed_at=_now(), resolution=resolution[:MAX_TEXT])
            ).rowcount
        return changed == 1

    def close(self, handoff_id: int, agent: str, resolution: str) -> bool:
        """Ends ``agent``'s conversation with their resolution; the customer is then asked for CSAT."""
        return self._end(handoff_id, agent, CLOSED, resolution)

    def hand_back(self, handoff_id: int, agent: str, resolution: str = "") -> bool:
        """Returns ``agent``'s conversation to the bot."""
        return self._end(handoff_id, agent, RETURNED, resolution)

    def transfer_to_agent(self, handoff_id: int, owner: str, agent: str, team: str, by: str) -> bool:
        """Gives ``owner``'s conversation to ``agent`` (in ``team``) unless it changed hands or ended meanwhile:
        of two transfers at once, exactly one lands."""
        return self._handover(handoff_id, owner, status=ACTIVE, claimed_by=agent, claimed_at=_now(), team=team,
                              transferred_from=by)  # fmt: skip

    def transfer_to_team(self, handoff_id: int, owner: str, team: str, by: str, expires_at: datetime) -> bool:
        """Puts ``owner``'s conversation back in the waiting queue for ``team``, with a new accept timeout
        (its old one passed long ago), unless it changed hands or ended meanwhile."""
        return self._handover(handoff_id, owner, status=WAITING, claimed_by=None, claimed_at=None, team=team,
                              transferred_from=by, expires_at=expires_at)  # fmt: skip

    def _handover(self, handoff_id: int, owner: str, **values: Any) -> bool:
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(
                    handoffs_table.c.id == handoff_id,
                    handoffs_table.c.status == ACTIVE,
                    handoffs_table.c.claimed_by == owner,
                )
                .values(**values)
            ).rowcount
        return changed == 1

    def cancel(self, handoff_id: int) -> bool:
        """The customer no longer wants to wait."""
        return self._transition(handoff_id, (WAITING,), status=CANCELLED, closed_at=_now())

    def expire(self, handoff_id: int, resume: list[dict[str, Any]], leased_until: datetime) -> bool:
        """Takes an unclaimed conversation out of the queue (unless claimed or cancelled first), with the events
        that will resume it stored in the same change, so no crash between the two leaves the customer paused.
        The instance that expired it holds the resume until ``leased_until``: it sends it once its ticket is made.
        """
        return self._transition(
            handoff_id, (WAITING,), status=EXPIRED, closed_at=_now(), resume_events=json.dumps(resume),
            resume_leased_until=leased_until,
        )  # fmt: skip

    def set_resume(self, handoff_id: int, resume: list[dict[str, Any]]) -> None:
        """Replaces the events still to send to resume an expired conversation (once its ticket is known)."""
        self._transition(handoff_id, (EXPIRED,), resume_events=json.dumps(resume))

    def pending_resumes(self, now: datetime) -> list[Handoff]:
        """Expired conversations whose resume Rasa has not taken yet and nobody is sending now, oldest first."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(handoffs_table)
                .where(
                    handoffs_table.c.status == EXPIRED, handoffs_table.c.resume_events.is_not(None), _lease_free(now)
                )
                .order_by(handoffs_table.c.id)
            ).all()
        return [_to_handoff(row) for row in rows]

    def lease_resume(self, handoff_id: int, now: datetime, until: datetime) -> list[dict[str, Any]] | None:
        """The events to send if this caller now holds the resume (until ``until``); None if another has it
        or it was sent meanwhile. Whoever's UPDATE lands first gets it, on SQLite and PostgreSQL alike."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(
                    handoffs_table.c.id == handoff_id, handoffs_table.c.status == EXPIRED,
                    handoffs_table.c.resume_events.is_not(None), _lease_free(now),
                )
                .values(resume_leased_until=until)
            ).rowcount  # fmt: skip
            if changed != 1:
                return None
            events = connection.execute(
                sa.select(handoffs_table.c.resume_events).where(handoffs_table.c.id == handoff_id)
            ).scalar_one()
        return json.loads(events)

    def release_resume(self, handoff_id: int) -> None:
        """Rasa did not take the resume: any instance may try again at its next sweep."""
        self._transition(handoff_id, (EXPIRED,), resume_leased_until=None)

    def resumed(self, handoff_id: int) -> None:
        """Rasa took the resume: nothing more to send."""
        self._transition(handoff_id, (EXPIRED,), resume_events=None, resume_leased_until=None)

    def note_ticket(self, handoff_id: int, ticket_code: str) -> None:
        """The ticket made instead of a live conversation."""
        self._transition(handoff_id, (EXPIRED,), ticket_code=ticket_code)

    def due_to_expire(self, now: datetime, accept_timeout: timedelta) -> list[Handoff]:
        """Waiting conversations past their due time; rows from before due times were stored wait
        ``accept_timeout`` from when they opened."""
        undated = sa.and_(handoffs_table.c.expires_at.is_(None), handoffs_table.c.created_at <= now - accept_timeout)
        return self._select(handoffs_table.c.status == WAITING, sa.or_(handoffs_table.c.expires_at <= now, undated))

    def set_told_position(self, handoff_id: int, position: int) -> None:
        self._transition(handoff_id, (WAITING,), told_position=position)

    def move_told_position(self, handoff_id: int, told: int | None, position: int | None) -> bool:
        """Records that the customer is (about to be) told ``position`` if they were last told ``told``:
        of several instances that saw the same move, exactly one gets True and tells them."""
        was = handoffs_table.c.told_position
        with self._engine.begin() as connection:
            changed = connection.execute(
                handoffs_table.update()
                .where(
                    handoffs_table.c.id == handoff_id, handoffs_table.c.status == WAITING,
                    was.is_(None) if told is None else was == told,
                )
                .values(told_position=position)
            ).rowcount  # fmt: skip
        return changed == 1

    def mark_first_reply(self, handoff_id: int) -> None:
        """Remembers when the agent first answered (for response-time figures)."""
        with self._engine.begin() as connection:
            connection.execute(
                handoffs_table.update()
                .where(handoffs_table.c.id == handoff_id, handoffs_table.c.first_reply_at.is_(None))
                .values(first_reply_at=_now())
            )

    def add_message(
        self, handoff_id: int, role: str, text: str, sent_at: float, author: str | None = None
    ) -> Message | None:
        """Appends a transcript line; None when that exact event is already there."""
        text = text[:MAX_TEXT]
        values = {"handoff_id": handoff_id, "role": role, "author": author, "text": text, "sent_at": sent_at}
        try:
            with self._engine.begin() as connection:
                new_id = connection.execute(messages_table.insert().values(**values)).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            return None
        return Message(new_id, handoff_id, role, author, text, sent_at)

    def messages(self, handoff_id: int) -> list[Message]:
        """The transcript in the order it was written."""
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(messages_table)
                .where(messages_table.c.handoff_id == handoff_id)
                .order_by(messages_table.c.sent_at, messages_table.c.id)
            ).all()
        return [Message(r.id, r.handoff_id, r.role, r.author, r.text, r.sent_at) for r in rows]

    def record_csat(self, sender_id: str, score: int) -> Handoff | None:
        """Stores the 1-5 rating on the customer's latest closed, unrated conversation.

        None when there is nothing to rate (no conversation closed by an agent in the last day).
        """
        if not 1 <= score <= 5:
            raise ValueError("CSAT is a score from 1 to 5")
        candidates = self._select(
            handoffs_table.c.sender_id == sender_id,
            handoffs_table.c.status == CLOSED,
            handoffs_table.c.csat.is_(None),
            handoffs_table.c.closed_at >= _now() - CSAT_WINDOW,
            order=(handoffs_table.c.closed_at.desc(),),
        )
        if not candidates or not self._transition(candidates[0].id, (CLOSED,), csat=score):
            return None
        return self.get(candidates[0].id)
