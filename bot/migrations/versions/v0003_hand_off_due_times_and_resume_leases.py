"""Hand-offs carry their accept timeout as a due time and the lease on sending their resume, so any desk
instance finishes what another began (bot/desk/queue.py). Waiting rows made before keep NULL: they expire
at created_at + the timeout.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoffs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("resume_leased_until", sa.DateTime(timezone=True), nullable=True))
