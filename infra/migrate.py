"""Runs the project's one Alembic history: ``python -m infra.migrate [--url URL]``.

Every table motcua owns (catalogue, overrides, dossiers, hand-offs, conversation log,
lookup limits, channel tokens, staff accounts and audit) is created by the migrations in
``infra/migrations``, on SQLite and PostgreSQL alike. :func:`upgrade` brings a database
to the newest revision; :class:`infra.db.Database` calls it before first use (once per
process and database), so no store creates tables of its own.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

import sqlalchemy as sa

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "motcua_alembic_version"
OLD_VERSION_TABLE = "staff_alembic_version"
"""Where databases made before the one history kept the staff revision (adopted)."""
_done: set[str] = set()
_lock = threading.Lock()


def alembic_config(url: str):
    """Returns an Alembic ``Config`` for the migrations on ``url``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, *, engine: sa.engine.Engine | None = None, force: bool = False) -> None:
    """Upgrades the database on ``url`` to the newest revision (idempotent).

    Args:
        url: SQLAlchemy URL (``MOTCUA_DATABASE_URL``).
        engine: An engine on that URL to reuse.
        force: Run even if this process already upgraded ``url``.
    """
    with _lock:
        if url in _done and not force:
            return
        from alembic import command

        config = alembic_config(url)
        own = engine is None
        engine = engine or sa.create_engine(url, future=True)
        try:
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            if own:
                engine.dispose()
        _done.add(url)


def current(url: str) -> str | None:
    """Returns the revision a database is at, or ``None`` before the first."""
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Upgrades the database named by ``--url`` or ``MOTCUA_DATABASE_URL``."""
    parser = argparse.ArgumentParser(prog="python -m infra.migrate", description=__doc__)
    parser.add_argument("--url", help="database URL (default: MOTCUA_DATABASE_URL)")
    args = parser.parse_args(argv)
    from infra.settings import get_settings

    url = args.url or get_settings().database_url
    upgrade(url, force=True)
    print(f"database at revision {current(url)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
