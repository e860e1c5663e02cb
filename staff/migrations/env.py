"""Alembic environment of the staff tables.

The database is ``MOTCUA_DATABASE_URL`` (the catalogue's), or the connection or URL that
:func:`staff.migrate.upgrade` passes in. Versions are kept in ``staff_alembic_version`` so
the staff migrations never meet another Alembic history in the same database. On
PostgreSQL an advisory lock lets several console replicas start at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

VERSION_TABLE = "staff_alembic_version"
PG_LOCK_ID = 7_150_005_001


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from knowledge.settings import get_settings

    return get_settings().database_url


def _migrate(connection: sa.engine.Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({PG_LOCK_ID})"))
        context.run_migrations()


def run() -> None:
    """Runs the migrations online (offline SQL scripts are not supported)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = sa.create_engine(_url(), future=True)
    try:
        with engine.connect() as conn:
            _migrate(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("staff migrations run online only: python -m staff.migrate")
run()
