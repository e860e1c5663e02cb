"""The staff tables as SQLAlchemy Core objects (created by ``infra/migrations``, not here)."""

from __future__ import annotations

import sqlalchemy as sa

from infra.db import SqlStore

metadata = sa.MetaData()

users_table = sa.Table(
    "staff_users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)
sessions_table = sa.Table(
    "staff_sessions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("staff_users.id"), nullable=False),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("last_seen_at", sa.DateTime, nullable=False),
)
audit_table = sa.Table(
    "staff_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(128), nullable=False),
    sa.Column("before", sa.Text, nullable=True),
    sa.Column("after", sa.Text, nullable=True),
)
corrections_table = sa.Table(
    "staff_corrections",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("turn_id", sa.Integer, nullable=True),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("code", sa.String(32), nullable=False),
    sa.Column("previous_code", sa.String(32), nullable=True),
    sa.Column("intent", sa.String(64), nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
)
reviews_table = sa.Table(
    "staff_reviews",
    metadata,
    sa.Column("turn_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("correction_id", sa.Integer, nullable=True),
)


class StaffStore(SqlStore):
    """A SQL store of the staff tables (created by the one migration history)."""

    what = "staff"
