"""The project's database object: one engine, migrated once, SQLite tuned for several processes."""

from __future__ import annotations

import sqlalchemy as sa

from infra.db import Database
from infra.migrate import current


def test_sqlite_runs_in_wal_mode_without_fsync_per_commit(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    db.dispose()


def test_one_migration_history_creates_every_table_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'y.db'}"
    db = Database(url)
    db.ensure_schema()
    db.ensure_schema()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {
        "procedures",
        "procedure_overrides",
        "dossiers",
        "dossier_history",
        "handoffs",
        "conversation_turns",
        "lookup_attempts",
        "lookup_refusals",
        "zalo_tokens",
        "staff_users",
        "motcua_alembic_version",
    } <= tables
    assert "staff_alembic_version" not in tables
    assert current(url) is not None
    db.dispose()


def test_a_database_from_before_the_one_history_is_adopted(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # what the staff migrations and create_all left behind
        conn.execute(sa.text("CREATE TABLE staff_alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO staff_alembic_version VALUES ('0001')"))
        conn.execute(sa.text("CREATE TABLE staff_users (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE dossiers (code VARCHAR(40) PRIMARY KEY)"))
    engine.dispose()
    db = Database(url)
    db.ensure_schema()
    tables = set(sa.inspect(db.engine).get_table_names())
    assert "motcua_alembic_version" in tables and "staff_alembic_version" not in tables
    assert {"handoffs", "conversation_turns"} <= tables  # created where missing
    db.dispose()
