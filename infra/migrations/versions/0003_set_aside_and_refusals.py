"""Conversation events set aside, and refused dossier lookups (for staff to see).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates ``conversation_set_aside`` and ``lookup_refusals``."""
    op.create_table(
        "conversation_set_aside",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("sender", sa.String(32), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_index("ix_conversation_set_aside_at", "conversation_set_aside", ["at"])
    op.create_table(
        "lookup_refusals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("who", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(200), nullable=False),
    )
    op.create_index("ix_lookup_refusals_at", "lookup_refusals", ["at"])


def downgrade() -> None:
    """Drops both tables."""
    op.drop_table("lookup_refusals")
    op.drop_table("conversation_set_aside")
