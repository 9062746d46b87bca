"""When each Zalo user last interacted with the OA: Zalo's consultation messages are free for 48 hours after
it, may be billed up to 7 days, and are refused after that (bot/messaging_windows.py).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zalo_last_interaction",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("interacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id"),
    )


def downgrade() -> None:
    op.drop_table("zalo_last_interaction")
