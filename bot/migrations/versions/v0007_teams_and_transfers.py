"""Teams at the desk: which support.yml teams each agent works in, and each hand-off's team and last transfer.
Existing hand-offs get no team (the console shows them as customer care); agents start in no team.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_teams",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("team", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("username", "team"),
    )
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("transferred_from", sa.String(length=128), nullable=True))
