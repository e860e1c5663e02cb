"""The Zalo OA tokens: rotated on every refresh, so they are stored durably (SQL or a file)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from infra.db import SqlStore, StoreUnavailable

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredTokens:
    """The OA tokens as last stored.

    Attributes:
        access_token: The current access token.
        refresh_token: The current (rotated) refresh token.
        initial_refresh_token: The configured refresh token these were derived from; when
            the configuration carries a different one, an operator issued new tokens.
        updated_at: When they were stored (UTC).
    """

    access_token: str
    refresh_token: str
    initial_refresh_token: str
    updated_at: datetime | None = None


_token_metadata = sa.MetaData()
zalo_tokens_table = sa.Table(
    "zalo_tokens",
    _token_metadata,
    sa.Column("app_id", sa.String(64), primary_key=True),
    sa.Column("access_token", sa.Text, nullable=False),
    sa.Column("refresh_token", sa.Text, nullable=False),
    sa.Column("initial_refresh_token", sa.Text, nullable=False, default=""),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class TokenStore(SqlStore):
    """The rotating Zalo OA tokens in the ``zalo_tokens`` table of a SQL database.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
    """

    what = "Zalo token"

    def load(self, app_id: str) -> StoredTokens | None:
        """Returns the stored tokens of ``app_id``, or ``None`` when none are stored.

        Raises:
            StoreUnavailable: When the database cannot be reached.
        """

        def work(conn: sa.engine.Connection) -> StoredTokens | None:
            row = conn.execute(
                sa.select(zalo_tokens_table).where(zalo_tokens_table.c.app_id == app_id)
            ).first()
            if row is None:
                return None
            m = row._mapping
            return StoredTokens(
                m["access_token"], m["refresh_token"], m["initial_refresh_token"], m["updated_at"]
            )

        return self._run(work)

    def save(self, app_id: str, tokens: StoredTokens) -> None:
        """Stores (replaces) the tokens of ``app_id`` in one transaction.

        Raises:
            StoreUnavailable: When the database cannot be reached.
        """
        values = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "initial_refresh_token": tokens.initial_refresh_token,
            "updated_at": _utcnow(),
        }

        def work(conn: sa.engine.Connection) -> None:
            table = zalo_tokens_table
            updated = conn.execute(
                sa.update(table).where(table.c.app_id == app_id).values(**values)
            )
            if updated.rowcount == 0:
                conn.execute(sa.insert(table).values(app_id=app_id, **values))

        self._run(work, write=True)


class JsonTokenStore:
    """The rotating Zalo OA tokens in a JSON file, replaced atomically on each save.

    Args:
        path: The file (created with its folder on first save; readable only by its owner).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise StoreUnavailable(
                f"cannot read the Zalo token file {self.path}: {exc.__class__.__name__}: {exc}"
            ) from exc
        return data if isinstance(data, dict) else {}

    def load(self, app_id: str) -> StoredTokens | None:
        """Returns the stored tokens of ``app_id``, or ``None`` when none are stored."""
        entry = self._read().get(app_id)
        if not isinstance(entry, dict) or not entry.get("refresh_token"):
            return None
        updated = entry.get("updated_at")
        return StoredTokens(
            str(entry.get("access_token") or ""),
            str(entry["refresh_token"]),
            str(entry.get("initial_refresh_token") or ""),
            datetime.fromisoformat(updated) if updated else None,
        )

    def save(self, app_id: str, tokens: StoredTokens) -> None:
        """Stores (replaces) the tokens of ``app_id``: write a temporary file, then rename."""
        data = self._read()
        data[app_id] = {
            "access_token": tokens.access_token,
            "refresh_token": tokens.refresh_token,
            "initial_refresh_token": tokens.initial_refresh_token,
            "updated_at": _utcnow().isoformat(),
        }
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".zalo_tokens.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(data, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o600)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreUnavailable(
                f"cannot write the Zalo token file {self.path}: {exc.__class__.__name__}: {exc}"
            ) from exc

    def dispose(self) -> None:
        """Nothing to close (same interface as :class:`TokenStore`)."""


def open_token_store(location: str) -> TokenStore | JsonTokenStore:
    """Opens the token store at ``location``: a SQLAlchemy URL, or else a JSON file path."""
    if "://" in location:
        return TokenStore(location)
    return JsonTokenStore(location)


class ZaloTokens:
    """The OA access and refresh tokens, persisted on every rotation.

    Args:
        app_id: The Zalo app id (the key in the store).
        access_token: The configured access token.
        refresh_token: The configured refresh token.
        store: Where rotated tokens are kept.
    """

    def __init__(
        self,
        app_id: str,
        access_token: str,
        refresh_token: str,
        store: TokenStore | JsonTokenStore,
    ) -> None:
        self.app_id = app_id
        self.initial_refresh_token = refresh_token
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.store = store
        self.lock = asyncio.Lock()
        self.loaded = False

    def load(self) -> None:
        """Prefers the stored tokens to the configured ones, unless an operator re-issued them.

        A stored pair derived from the configured refresh token wins (it is newer). When the
        configuration carries another refresh token, the configured pair is used. A store
        that cannot be read is logged and the configured tokens are used.
        """
        self.loaded = True
        try:
            stored = self.store.load(self.app_id)
        except StoreUnavailable as exc:
            logger.error("zalo: cannot read the stored tokens, using the configured ones: %s", exc)
            return
        if stored is None:
            return
        if stored.initial_refresh_token and stored.initial_refresh_token != (
            self.initial_refresh_token
        ):
            logger.warning(
                "zalo: the configured refresh token differs from the one the stored tokens "
                "came from; using the configured tokens"
            )
            return
        self.access_token = stored.access_token or self.access_token
        self.refresh_token = stored.refresh_token
        logger.info("zalo: using the tokens stored at %s", stored.updated_at)

    def save(self) -> None:
        """Stores the current pair (raises :class:`StoreUnavailable`)."""
        self.store.save(
            self.app_id,
            StoredTokens(self.access_token, self.refresh_token, self.initial_refresh_token),
        )
