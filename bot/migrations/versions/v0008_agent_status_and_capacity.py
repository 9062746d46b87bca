"""Agents set their status (online, busy, away) in the console, and admins set how many conversations each
takes at once. Existing agents start online with a capacity of 3.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=8), nullable=False, server_default="online"))
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=False, server_default="3"))
