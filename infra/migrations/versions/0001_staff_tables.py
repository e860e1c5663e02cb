"""Staff tables: accounts, sessions, audit log, catalogue overrides, corrections, reviews.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Creates the staff tables."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=False, index=True),
        sa.Column("last_seen_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False, index=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(128), nullable=False, index=True),
        sa.Column("before", sa.Text, nullable=True),
        sa.Column("after", sa.Text, nullable=True),
    )
    op.create_table(
        "procedure_overrides",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("aliases", sa.Text, nullable=False),
        sa.Column("base_hash", sa.String(16), nullable=False),
        sa.Column("base_values", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    )
    op.create_table(
        "procedure_official",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("content_hash", sa.String(16), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "staff_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("turn_id", sa.Integer, nullable=True, index=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("code", sa.String(32), nullable=False, index=True),
        sa.Column("previous_code", sa.String(32), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
    )
    op.create_table(
        "staff_reviews",
        sa.Column("turn_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("correction_id", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    """Drops the staff tables (staff edits of procedures are lost; imports stay)."""
    for table in (
        "staff_reviews",
        "staff_corrections",
        "procedure_official",
        "procedure_overrides",
        "staff_audit",
        "staff_sessions",
        "staff_users",
    ):
        op.drop_table(table)
