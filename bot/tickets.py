"""Tickets: a reported problem, persisted with a human-readable code and a team.

Codes look like ``TK-20261125-0007``: the day and that day's sequence number,
taken from a counter row updated in the same transaction as the insert, so two
concurrent tickets never share a code (SQLite and PostgreSQL alike).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import ticket_comments_table as comments_table
from bot.schema import ticket_counters_table as counters_table
from bot.schema import tickets_table
from bot.support import IssueType, issue_type_or_fallback

SHOP_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")
OPEN, PENDING, RESOLVED = "open", "pending", "resolved"
STATUSES = (OPEN, PENDING, RESOLVED)
# how staff read a status, on the tickets page, in search results and in the customer panel
STATUS_LABELS = {OPEN: "Mới", PENDING: "Đang chờ", RESOLVED: "Đã xử lý"}
# a ticket filed this long before a hand-off opened (or later) is what that conversation is about
CONVERSATION_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True)
class Ticket:
    code: str
    issue: IssueType
    order_number: str | None
    description: str
    contact_phone: str | None


class TicketStore:
    """Creates tickets in the project database and keeps the desk's follow-up of them."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        ensure_schema(engine)

    def _next_code(self, connection: sa.engine.Connection, now: datetime) -> str:
        day = now.strftime("%Y%m%d")
        bump = counters_table.update().where(counters_table.c.day == day).values(last=counters_table.c.last + 1)
        if connection.execute(bump).rowcount == 0:
            try:
                with connection.begin_nested():
                    connection.execute(counters_table.insert().values(day=day, last=1))
            except sa.exc.IntegrityError:  # another writer created today's row first
                connection.execute(bump)
        last = connection.execute(sa.select(counters_table.c.last).where(counters_table.c.day == day)).scalar()
        return f"TK-{day}-{last:04d}"

    def create(
        self,
        *,
        channel: str,
        sender_id: str,
        issue_type: str,
        description: str,
        order_number: str | None = None,
        contact_phone: str | None = None,
        order_verified: bool = False,
        handoff_reason: str | None = None,
    ) -> Ticket:
        """Persists a ticket; raises SQLAlchemy errors if it could not be written."""
        issue = issue_type_or_fallback(issue_type)
        now = datetime.now(SHOP_TIMEZONE)
        with self._engine.begin() as connection:
            code = self._next_code(connection, now)
            connection.execute(
                tickets_table.insert().values(
                    code=code, created_at=now, channel=channel, sender_id=sender_id,
                    order_number=order_number, issue_type=issue.key, team=issue.team,
                    description=description[:5000], contact_phone=contact_phone, status="open",
                    order_verified=order_verified, handoff_reason=handoff_reason,
                )
            )  # fmt: skip
        return Ticket(code, issue, order_number, description, contact_phone)

    def add_contact_phone(self, code: str, sender_id: str, phone: str) -> bool:
        """Adds the phone to call back to a ticket that has none, only from the conversation it was filed for."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                tickets_table.update()
                .where(tickets_table.c.code == code, tickets_table.c.sender_id == sender_id,
                       tickets_table.c.contact_phone.is_(None))
                .values(contact_phone=phone)
            ).rowcount  # fmt: skip
        return changed == 1

    def get(self, code: str) -> dict | None:
        """A ticket row as a mapping, for the console and the tests."""
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(tickets_table).where(tickets_table.c.code == code)).first()
        return dict(row._mapping) if row else None

    def stamp_due_times(self, due_at: Callable[[datetime, str], datetime]) -> int:
        """Gives every ticket without one its due time, ``due_at(created_at, issue_type)``: the business
        hours that count it live with the desk, which stamps them (tickets are filed by the action server)."""
        with self._engine.begin() as connection:
            rows = connection.execute(
                sa.select(tickets_table.c.code, tickets_table.c.created_at, tickets_table.c.issue_type)
                .where(tickets_table.c.due_at.is_(None))
            ).all()  # fmt: skip
            for row in rows:
                created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=timezone.utc)
                connection.execute(
                    tickets_table.update()
                    .where(tickets_table.c.code == row.code, tickets_table.c.due_at.is_(None))
                    .values(due_at=due_at(created, row.issue_type))
                )  # fmt: skip
        return len(rows)

    def listing(self, team: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Tickets, newest first, of one team and status when given."""
        query = sa.select(tickets_table).order_by(tickets_table.c.created_at.desc())
        if team:
            query = query.where(tickets_table.c.team == team)
        if status:
            query = query.where(tickets_table.c.status == status)
        with self._engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def codes_since(self, day: datetime) -> set[str]:
        """The codes of the tickets filed since ``day`` (the shop's calendar day): a code starts with its day."""
        first = f"TK-{day.astimezone(SHOP_TIMEZONE):%Y%m%d}-"
        with self._engine.connect() as connection:
            codes = connection.execute(sa.select(tickets_table.c.code).where(tickets_table.c.code >= first))
            return set(codes.scalars())

    def assign(self, code: str, assignee: str | None, only_if_unassigned_or: str | None = None) -> bool:
        """Gives an unresolved ticket to ``assignee``; with ``only_if_unassigned_or``, only when it has no
        owner or that one, checked in the same statement so two agents never both take it."""
        query = tickets_table.update().where(tickets_table.c.code == code, tickets_table.c.status != RESOLVED)
        if only_if_unassigned_or is not None:
            query = query.where(
                sa.or_(tickets_table.c.assignee.is_(None), tickets_table.c.assignee == only_if_unassigned_or)
            )
        with self._engine.begin() as connection:
            return connection.execute(query.values(assignee=assignee)).rowcount == 1

    def unresolved_of(self, sender_id: str, since: datetime) -> dict[str, Any] | None:
        """The customer's newest unresolved ticket filed since ``since``: the one their conversation is about."""
        with self._engine.connect() as connection:
            row = connection.execute(
                sa.select(tickets_table)
                .where(tickets_table.c.sender_id == sender_id, tickets_table.c.status != RESOLVED,
                       tickets_table.c.created_at >= since)
                .order_by(tickets_table.c.created_at.desc())
                .limit(1)
            ).first()  # fmt: skip
        return dict(row._mapping) if row else None

    def conversation_ticket(
        self, sender_id: str, opened_at: datetime, code: str | None = None
    ) -> dict[str, Any] | None:
        """The ticket a conversation opened at ``opened_at`` is about: the one noted for it (``code``), else the
        customer's newest unresolved one filed since a day before. One rule for routing a hand-off that names no
        issue, showing its ticket and moving that ticket along with a transfer."""
        ticket = self.get(code) if code else None
        if ticket is None:
            ticket = self.unresolved_of(sender_id, (opened_at - CONVERSATION_LOOKBACK).astimezone(SHOP_TIMEZONE))
        return ticket

    def move(self, code: str, team: str, assignee: str | None) -> bool:
        """Hands an unresolved ticket to ``team`` (and ``assignee``, or nobody in it yet): it follows its
        conversation when that is transferred."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                tickets_table.update().where(tickets_table.c.code == code, tickets_table.c.status != RESOLVED)
                .values(team=team, assignee=assignee)
            ).rowcount  # fmt: skip
        return changed == 1

    def set_pending(self, code: str) -> bool:
        """Marks an open ticket as waiting (on the customer, another team); False if it was not open."""
        with self._engine.begin() as connection:
            changed = connection.execute(
                tickets_table.update().where(tickets_table.c.code == code, tickets_table.c.status == OPEN)
                .values(status=PENDING)
            ).rowcount  # fmt: skip
        return changed == 1

    def resolve(self, code: str, resolution: str) -> str | None:
        """Resolves an unresolved ticket at most once: the status it had (to put back if the customer could not
        be told), or None when it was already resolved, so a second click sends nothing."""
        with self._engine.begin() as connection:
            before = connection.execute(
                sa.select(tickets_table.c.status).where(tickets_table.c.code == code)
            ).scalar()  # fmt: skip
            changed = connection.execute(
                tickets_table.update().where(tickets_table.c.code == code, tickets_table.c.status == before,
                                             tickets_table.c.status != RESOLVED)
                .values(status=RESOLVED, resolved_at=datetime.now(timezone.utc), resolution=resolution)
            ).rowcount  # fmt: skip
        return before if changed == 1 else None

    def reopen(self, code: str, status: str) -> None:
        """Puts back the status a resolution replaced, when its message did not reach the customer."""
        with self._engine.begin() as connection:
            connection.execute(
                tickets_table.update().where(tickets_table.c.code == code)
                .values(status=status, resolved_at=None, resolution=None)
            )  # fmt: skip

    def comment(self, code: str, author: str, text: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                comments_table.insert().values(ticket_code=code, author=author, text=text[:5000],
                                               at=datetime.now(timezone.utc))
            )  # fmt: skip

    def comments(self, code: str) -> list[dict[str, Any]]:
        with self._engine.connect() as connection:
            rows = connection.execute(
                sa.select(comments_table).where(comments_table.c.ticket_code == code).order_by(comments_table.c.id)
            )  # fmt: skip
            return [dict(row._mapping) for row in rows]
