"""Alembic environment of motcua's one migration history.

The database is ``MOTCUA_DATABASE_URL``, or the connection or URL that
:func:`infra.migrate.upgrade` passes in. Versions are kept in ``motcua_alembic_version``
(a database made before the one history had ``staff_alembic_version``: it is renamed on
first run). On PostgreSQL an advisory lock lets several replicas start at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from infra.migrate import OLD_VERSION_TABLE, VERSION_TABLE

PG_LOCK_ID = 7_150_005_001


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from infra.settings import get_settings

    return get_settings().database_url


def _adopt_old_version_table(connection: sa.engine.Connection) -> None:
    tables = set(sa.inspect(connection).get_table_names())
    if OLD_VERSION_TABLE in tables and VERSION_TABLE not in tables:
        connection.execute(sa.text(f"ALTER TABLE {OLD_VERSION_TABLE} RENAME TO {VERSION_TABLE}"))


def _migrate(connection: sa.engine.Connection) -> None:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({PG_LOCK_ID})"))
        _adopt_old_version_table(connection)
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
    raise SystemExit("migrations run online only: python -m infra.migrate")
run()
