"""Tickets: a reported problem, persisted with a human-readable code and a team.

Codes look like ``TK-20261125-0007``: the day and that day's sequence number,
taken from a counter row updated in the same transaction as the insert, so two
concurrent tickets never share a code (SQLite and PostgreSQL alike).
"""

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.support import IssueType, issue_type_or_fallback

SHOP_TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

metadata = sa.MetaData()
tickets_table = sa.Table(
    "tickets",
    metadata,
    sa.Column("code", sa.String(20), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("sender_id", sa.String(128), nullable=False),
    sa.Column("order_number", sa.String(16)),
    sa.Column("issue_type", sa.String(32), nullable=False),
    sa.Column("team", sa.String(32), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("contact_phone", sa.String(16)),
    sa.Column("status", sa.String(16), nullable=False, default="open"),
    # whether the reporter proved the order is theirs; an unproven report is filed but reveals nothing
    sa.Column("order_verified", sa.Boolean, nullable=False, server_default=sa.false()),
    # why the customer asked for a person, when this ticket stands in for a hand-off nobody could take
    sa.Column("handoff_reason", sa.String(64)),
)
counters_table = sa.Table(
    "ticket_counters",
    metadata,
    sa.Column("day", sa.String(8), primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)


@dataclass(frozen=True)
class Ticket:
    code: str
    issue: IssueType
    order_number: str | None
    description: str
    contact_phone: str | None


def _add_verified_column(engine: sa.engine.Engine) -> None:
    """Databases created before ``order_verified`` / ``handoff_reason`` existed get the columns
    (old tickets count as unverified and as no hand-off)."""
    columns = {c["name"] for c in sa.inspect(engine).get_columns("tickets")}
    if "order_verified" not in columns:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE tickets ADD COLUMN order_verified BOOLEAN NOT NULL DEFAULT FALSE"))
    if "handoff_reason" not in columns:
        with engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE tickets ADD COLUMN handoff_reason VARCHAR(64)"))


class TicketStore:
    """Creates tickets in the project database."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        self._engine = engine
        metadata.create_all(engine)
        _add_verified_column(engine)

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
