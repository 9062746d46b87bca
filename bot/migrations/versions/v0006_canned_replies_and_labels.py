"""The desk's canned replies (/admin/canned, picked with "/" in the reply box) and agents' labels on conversations.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shortcut", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shortcut"),
    )
    op.create_table(
        "handoff_labels",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("label_key", sa.String(length=100), nullable=False),
        sa.Column("label", sa.String(length=30), nullable=False),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("handoff_id", "label_key"),
    )
    with op.batch_alter_table("handoff_labels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handoff_labels_label_key"), ["label_key"], unique=False)
