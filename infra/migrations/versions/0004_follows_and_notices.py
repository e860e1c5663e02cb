"""Followed dossiers, the notice outbox, status events received and the polling cursor.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates ``dossier_follows``, ``notice_outbox``, ``dossier_events`` and ``notify_cursors``."""
    op.create_table(
        "dossier_follows",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dossier_code", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("who", sa.String(32), nullable=False),
        sa.Column("address", sa.String(128), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("consent", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("ended_at", sa.DateTime, nullable=True),
        sa.UniqueConstraint("dossier_code", "channel", "who", name="uq_dossier_follows_who"),
    )
    op.create_index("ix_dossier_follows_code", "dossier_follows", ["dossier_code", "active"])
    op.create_index("ix_dossier_follows_who", "dossier_follows", ["channel", "who"])
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("follow_id", sa.Integer, nullable=False),
        sa.Column("dossier_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime, nullable=False),
        sa.Column("lease_until", sa.DateTime, nullable=True),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("sent_at", sa.DateTime, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=False),
        sa.UniqueConstraint("follow_id", "status", name="uq_notice_outbox_follow_status"),
    )
    op.create_index("ix_notice_outbox_due", "notice_outbox", ["state", "next_attempt_at"])
    op.create_index("ix_notice_outbox_code", "notice_outbox", ["dossier_code"])
    op.create_index("ix_notice_outbox_claim", "notice_outbox", ["claim"])
    op.create_table(
        "dossier_events",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("dossier_code", sa.String(40), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_dossier_events_received_at", "dossier_events", ["received_at"])
    op.create_table(
        "notify_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    """Drops the four tables."""
    op.drop_table("notify_cursors")
    op.drop_table("dossier_events")
    op.drop_table("notice_outbox")
    op.drop_table("dossier_follows")
