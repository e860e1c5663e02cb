"""Catalogue, desk and platform tables: procedures, dossiers, hand-offs, log, limits, tokens.

Before the one migration history these tables were created by each store on first use;
a database made then already has them, so each is created only where it is missing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tables() -> list[tuple[str, list, list[tuple[str, list[str]]]]]:
    """(table, columns and constraints, indexes) in creation order."""
    return [
        (
            "procedures",
            [
                sa.Column("code", sa.String(32), primary_key=True),
                sa.Column("name", sa.Text, nullable=False),
                sa.Column("source", sa.String(32), nullable=False, default=""),
                sa.Column("content_hash", sa.String(16), nullable=False),
                sa.Column("data", sa.Text, nullable=False),
                sa.Column("updated_at", sa.DateTime, nullable=False),
            ],
            [],
        ),
        (
            "dossiers",
            [
                sa.Column("code", sa.String(40), primary_key=True),
                sa.Column("procedure_code", sa.String(32), nullable=False),
                sa.Column("procedure_name", sa.Text, nullable=False),
                sa.Column("agency", sa.Text, nullable=False),
                sa.Column("applicant_name", sa.Text, nullable=False, default=""),
                sa.Column("applicant_phone", sa.String(32), nullable=False, default=""),
                sa.Column("received_on", sa.Date, nullable=False),
                sa.Column("due_on", sa.Date, nullable=True),
                sa.Column("status", sa.String(32), nullable=False),
                sa.Column("updated_at", sa.DateTime, nullable=False),
            ],
            [("ix_dossiers_status", ["status"])],
        ),
        (
            "dossier_history",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column(
                    "dossier_code",
                    sa.String(40),
                    sa.ForeignKey("dossiers.code", ondelete="CASCADE"),
                    nullable=False,
                ),
                sa.Column("at", sa.DateTime, nullable=False),
                sa.Column("status", sa.String(32), nullable=False),
                sa.Column("note", sa.Text, nullable=False, default=""),
            ],
            [("ix_dossier_history_dossier_code", ["dossier_code"])],
        ),
        (
            "handoffs",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("sender", sa.String(128), nullable=False),
                sa.Column("channel", sa.String(32), nullable=False),
                sa.Column("created_at", sa.DateTime, nullable=False),
                sa.Column("summary", sa.Text, nullable=False, default=""),
                sa.Column("transcript_ref", sa.Text, nullable=True),
                sa.Column("dossier_code", sa.String(40), nullable=True),
                sa.Column("procedure_code", sa.String(32), nullable=True),
                sa.Column("language", sa.String(8), nullable=False, default="vi"),
                sa.Column("status", sa.String(16), nullable=False),
                sa.Column("claimed_by", sa.String(128), nullable=True),
                sa.Column("updated_at", sa.DateTime, nullable=False),
            ],
            [("ix_handoffs_status", ["status"])],
        ),
        (
            "conversation_turns",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("sender_id", sa.String(128), nullable=False),
                sa.Column("channel", sa.String(32), nullable=False, default=""),
                sa.Column("message_id", sa.String(64), nullable=True),
                sa.Column("asked_at", sa.DateTime, nullable=False),
                sa.Column("asked_ts", sa.Float, nullable=False),
                sa.Column("last_ts", sa.Float, nullable=False),
                sa.Column("text", sa.Text, nullable=False, default=""),
                sa.Column("language", sa.String(8), nullable=True),
                sa.Column("intent", sa.String(64), nullable=True),
                sa.Column("confidence", sa.Float, nullable=True),
                sa.Column("procedure_code", sa.String(32), nullable=True),
                sa.Column("candidates", sa.Text, nullable=False, default="[]"),
                sa.Column("outcome", sa.String(16), nullable=False, default="other"),
                sa.Column("reply", sa.Text, nullable=False, default=""),
                sa.Column("response_ms", sa.Integer, nullable=True),
                sa.Column("rating", sa.String(8), nullable=True),
                sa.Column("review", sa.String(64), nullable=False, default=""),
            ],
            [
                ("ix_turns_sender", ["sender_id", "asked_ts"]),
                ("ix_turns_asked", ["asked_at"]),
                ("ix_turns_review", ["review", "asked_at"]),
                ("ix_turns_procedure", ["procedure_code"]),
            ],
        ),
        (
            "conversation_events_seen",
            [
                sa.Column("key", sa.String(40), primary_key=True),
                sa.Column("ts", sa.Float, nullable=False),
            ],
            [("ix_conversation_events_seen_ts", ["ts"])],
        ),
        (
            "lookup_attempts",
            [
                sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                sa.Column("sender", sa.String(64), nullable=False),
                sa.Column("at", sa.Float, nullable=False),
            ],
            [
                ("ix_lookup_attempts_at", ["at"]),
                ("ix_lookup_attempts_sender_at", ["sender", "at"]),
            ],
        ),
        (
            "zalo_tokens",
            [
                sa.Column("app_id", sa.String(64), primary_key=True),
                sa.Column("access_token", sa.Text, nullable=False),
                sa.Column("refresh_token", sa.Text, nullable=False),
                sa.Column("initial_refresh_token", sa.Text, nullable=False, default=""),
                sa.Column("updated_at", sa.DateTime, nullable=False),
            ],
            [],
        ),
    ]


def upgrade() -> None:
    """Creates each table (and its indexes) that the database does not have yet."""
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns, indexes in _tables():
        if name in existing:
            continue
        op.create_table(name, *columns)
        for index, fields in indexes:
            op.create_index(index, name, fields)


def downgrade() -> None:
    """Drops these tables (the catalogue, dossiers and the conversation log are lost)."""
    for name, _, _ in reversed(_tables()):
        op.drop_table(name)
