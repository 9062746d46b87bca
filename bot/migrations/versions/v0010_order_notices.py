"""Order updates: each status message sent, skipped or failed per customer and the customers who opted out.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id", "conversation_id", name="uq_order_notices_event_conversation"),
    )
    with op.batch_alter_table("order_notices", schema=None) as batch_op:
        batch_op.create_index("ix_order_notices_created_at", ["created_at"], unique=False)
    op.create_table(
        "notice_opt_outs",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("opted_out_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id"),
    )
