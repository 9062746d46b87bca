"""The project database as the last release without migrations made it (bot/schema.py at 590a427).

Also adopts a database that release, or an older one, created with ``create_all``: it creates only
the tables that are missing and adds the columns that releases added later by hand, so any such
database reaches this revision with its rows. Frozen: bot/schema.py changes through new revisions.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _tables() -> sa.MetaData:
    """Every project table of that release, written out (not imported: bot/schema.py moves on)."""
    metadata = sa.MetaData()
    sa.Table(
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
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("order_verified", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("handoff_reason", sa.String(64)),
    )
    sa.Table(
        "ticket_counters",
        metadata,
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )
    sa.Table(
        "ownership_attempts",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("order_number", sa.String(16), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
    )
    sa.Table(
        "ownership_orders",
        metadata,
        sa.Column("order_number", sa.String(16), primary_key=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "ownership_proofs",
        metadata,
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("order_number", sa.String(16), primary_key=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("proven_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "handoffs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(128), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("slots", sa.Text, nullable=False),
        sa.Column("contact_phone", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("told_position", sa.Integer),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("first_reply_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("resolution", sa.Text),
        sa.Column("ticket_code", sa.String(32)),
        sa.Column("csat", sa.Integer),
        sa.Column("mood", sa.Text),
        sa.Column("resume_events", sa.Text),
    )
    sa.Table(
        "handoff_messages",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id"), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64)),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.UniqueConstraint("handoff_id", "role", "sent_at", name="uq_handoff_message"),
    )
    sa.Table(
        "agents",
        metadata,
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True)),
    )
    sa.Table(
        "console_sessions",
        metadata,
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("agents.username"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "admin_audit_log",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    sa.Table(
        "channel_seen_messages",
        metadata,
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("message_id", sa.String(255), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )
    sa.Table(
        "messenger_last_inbound",
        metadata,
        sa.Column("psid", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "zalo_choices",
        metadata,
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("buttons", sa.Text, nullable=False),
        sa.Column("saved_at", sa.Float, nullable=False),
    )
    sa.Table(
        "zalo_tokens",
        metadata,
        sa.Column("app_id", sa.String(64), primary_key=True),
        sa.Column("access_token", sa.Text, nullable=False),
        sa.Column("refresh_token", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float),
        sa.Column("seed", sa.String(64), nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    sa.Table(
        "cskh_migrations",
        metadata,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("done_at", sa.Float, nullable=False),
    )
    return metadata


# columns that releases before migrations added to existing databases by hand (bot/schema.py's _LATER_COLUMNS)
_LATER_COLUMNS = (
    ("tickets", sa.Column("order_verified", sa.Boolean, nullable=False, server_default=sa.false())),
    ("tickets", sa.Column("handoff_reason", sa.String(64))),
    ("handoffs", sa.Column("mood", sa.Text)),
    ("handoffs", sa.Column("resume_events", sa.Text)),
)


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    tables = _tables()
    tables.create_all(bind, tables=[t for t in tables.sorted_tables if t.name not in existing])
    for table, column in _LATER_COLUMNS:
        if table in existing and column.name not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, column)
