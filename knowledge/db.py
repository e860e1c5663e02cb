"""The small SQL stores' common base: a lazy engine, schema on first use, one clear error.

Every store (catalogue, dossiers, lookups, hand-offs, channel tokens) lives in the
database named by ``MOTCUA_DATABASE_URL``: SQLite by default, PostgreSQL in production.
Nothing connects until a store is first used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """A motcua database (dossiers, lookups, handoffs) cannot be reached or read.

    The message names the database (without its password) and what to check.
    """


class SqlStore:
    """Base of the small SQL stores: a lazy engine, schema on first use, clear errors.

    Args:
        url: SQLAlchemy database URL (``sqlite:///var/motcua.db``, ``postgresql://...``).
    """

    metadata: sa.MetaData
    what = "database"
    error: type[StoreUnavailable] = StoreUnavailable
    """The exception raised for driver errors (a subclass names the store)."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True
            )
        self._engine = sa.create_engine(url, future=True, pool_pre_ping=True)
        self._ready = False

    def _safe_url(self) -> str:
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        try:
            self.metadata.create_all(self._engine)
        except SQLAlchemyError as exc:
            raise self.error(
                f"cannot open the {self.what} database at {self._safe_url()}: "
                f"{exc.__class__.__name__}. Check MOTCUA_DATABASE_URL and that the server runs."
            ) from exc
        self._ready = True

    def _run(self, work: Callable[[sa.engine.Connection], T], *, write: bool = False) -> T:
        """Runs ``work(connection)``, turning driver errors into one clear error."""
        self._ensure_schema()
        try:
            with self._engine.begin() if write else self._engine.connect() as conn:
                return work(conn)
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise self.error(
                f"{self.what} database error at {self._safe_url()}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0][:200]}"
            ) from exc

    def dispose(self) -> None:
        """Closes the connection pool."""
        self._engine.dispose()
