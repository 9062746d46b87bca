"""Tickets: a reported problem, persisted with a human-readable code and a team.

Codes look like ``TK-20261125-0007``: the day and that day's sequence number,
taken from a counter row updated in the same transaction as the insert, so two
concurrent tickets never share a code (SQLite and PostgreSQL alike).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.migrations import ensure_schema
from bot.schema import ticket_counters_table as counters_table
from bot.schema import tickets_table
from bot.support import IssueType, issue_type_or_fallback

SHOP_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class Ticket:
    code: str
    issue: IssueType
    order_number: str | None
    description: str
    contact_phone: str | None


class TicketStore:
    """Creates tickets in the project database."""

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
