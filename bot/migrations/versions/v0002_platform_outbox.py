"""The platform outbox: every Zalo and Messenger send, stored before the call (connectors/outbox.py).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.Float(), nullable=True),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("parts_done", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("next_attempt_at", sa.Float(), nullable=False),
        sa.Column("claim", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("platform_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_platform_outbox_conversation", ["conversation_id", "status"], unique=False)
        batch_op.create_index("ix_platform_outbox_due", ["channel", "status", "next_attempt_at"], unique=False)
