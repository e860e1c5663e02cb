"""The Zalo Official Account channel: signed webhooks in, OA "consulting" messages out.

Zalo POSTs every event of the OA to ``/webhooks/zalo/webhook``:

* the body is signed: header ``X-ZEvent-Signature: mac=<hex>`` where ``hex`` is the plain
  SHA-256 of ``app_id + raw body + timestamp + OA secret key`` (:func:`signature`,
  :func:`verify`); a forged or missing signature gets a 401/403 and nothing happens;
* Zalo wants an answer within about 2 seconds, otherwise it retries (the same
  ``msg_id`` again) and may disable the webhook, so the channel answers 200 at once and
  handles the event in a background task; retried ``msg_id`` values are dropped;
* ``user_send_text``/``anonymous_send_text`` go to Rasa, ``follow`` greets, media and
  stickers get a polite "text only" reply, the OA's own ``oa_*`` echoes and delivery
  receipts are ignored.

Replies go through ``POST {api}/v3.0/oa/message/cs`` with the OA access token
(:class:`ZaloApi`). Buttons become numbered lines, and a reply of just the number
("2", "số 2") is fed to Rasa as that button's payload (:class:`OptionMemory`). Text
longer than 2,000 characters is split on line boundaries. When Zalo says the access
token expired (error -216) the channel refreshes it with the refresh token, stores the
rotated pair durably (:class:`TokenStore` over SQL, or :class:`JsonTokenStore`) and
retries once; the stored pair wins over the credentials' initial tokens after a restart.

Settings (``credentials.yml``, or the environment through :func:`credentials_from_env`)::

    connectors.zalo.ZaloInput:
      app_id: ${MOTCUA_ZALO_APP_ID}
      app_secret: ${MOTCUA_ZALO_APP_SECRET}          # refreshes the access token
      oa_secret_key: ${MOTCUA_ZALO_OA_SECRET}        # checks webhook signatures
      access_token: ${MOTCUA_ZALO_ACCESS_TOKEN}      # initial pair; rotated ones are stored
      refresh_token: ${MOTCUA_ZALO_REFRESH_TOKEN}
      token_store: sqlite:///var/motcua.db           # or a JSON file path (default: the DB)

Options offered as numbers and the ids of recent events live in the process: with
several replicas, a digit answered by another replica reaches Rasa as the digit (which
``action_choose_procedure`` still resolves against its ``candidates`` slot).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guards import RecentKeys, channel_text, check_text
from connectors.shared import (
    SharedOptionMemory,
    SharedRecentKeys,
    redis_client,
    redis_url_from_env,
)
from infra.db import SqlStore, StoreUnavailable
from knowledge.query import detect_language

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://openapi.zalo.me"
DEFAULT_OAUTH_BASE_URL = "https://oauth.zaloapp.com"
SEND_PATH = "/v3.0/oa/message/cs"
REFRESH_PATH = "/v4/oa/access_token"
SIGNATURE_HEADER = "X-ZEvent-Signature"

MAX_ZALO_TEXT = 2000
"""Zalo's limit on the text of one OA message."""
MAX_BODY_BYTES = 256 * 1024
"""Webhook bodies are a few hundred bytes; anything this large is refused (413)."""
TOKEN_EXPIRED_ERRORS = frozenset({-216})
"""Zalo API error codes that mean "refresh the access token and try again"."""

TEXT_EVENTS = frozenset({"user_send_text", "anonymous_send_text"})
MEDIA_EVENTS = frozenset(
    {
        "user_send_image",
        "user_send_file",
        "user_send_link",
        "user_send_audio",
        "user_send_video",
        "user_send_sticker",
        "user_send_location",
        "user_send_gif",
        "anonymous_send_image",
        "anonymous_send_file",
        "anonymous_send_sticker",
    }
)
QUIET_EVENTS = frozenset(
    {"user_received_message", "user_seen_message", "unfollow", "user_click_button"}
)
"""Known events that need no answer (receipts, unfollows, clicks Zalo also sends as text)."""

GREET_PAYLOAD = "/greet"

_TEXT_ONLY = {
    "vi": (
        "Xin lỗi, hiện em chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi, "
        'ví dụ: "làm hộ chiếu cần giấy tờ gì".'
    ),
    "en": (
        "Sorry, I can only read text messages. Please type your question, e.g. "
        '"what documents do I need for a passport".'
    ),
}

CREDENTIAL_ENV = {
    "app_id": "MOTCUA_ZALO_APP_ID",
    "app_secret": "MOTCUA_ZALO_APP_SECRET",
    "oa_secret_key": "MOTCUA_ZALO_OA_SECRET",
    "access_token": "MOTCUA_ZALO_ACCESS_TOKEN",
    "refresh_token": "MOTCUA_ZALO_REFRESH_TOKEN",
    "api_base_url": "MOTCUA_ZALO_API_URL",
    "oauth_base_url": "MOTCUA_ZALO_OAUTH_URL",
    "token_store": "MOTCUA_DATABASE_URL",
}
"""Credentials key → environment variable (see :func:`credentials_from_env`)."""
REQUIRED_CREDENTIALS = ("app_id", "app_secret", "oa_secret_key", "access_token", "refresh_token")


# --- protocol ------------------------------------------------------------------------------


def signature(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    """Computes Zalo's webhook signature.

    Args:
        app_id: The ``app_id`` of the event body.
        raw_body: The body exactly as received.
        timestamp: The ``timestamp`` of the event body (milliseconds, as a string).
        secret: The OA secret key.

    Returns:
        The hex SHA-256 of ``app_id + raw_body + timestamp + secret`` (not an HMAC).
    """
    digest = hashlib.sha256()
    digest.update(str(app_id).encode("utf-8"))
    digest.update(raw_body)
    digest.update(str(timestamp).encode("utf-8"))
    digest.update(secret.encode("utf-8"))
    return digest.hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def _as_id(value: object) -> str:
    """Returns an id as a string (64-bit ids must never pass through a float)."""
    if value is None or isinstance(value, bool | float | dict | list):
        return ""
    return str(value).strip()


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    """Tells whether a webhook request carries a valid ``X-ZEvent-Signature``.

    Args:
        headers: The request headers (looked up case-insensitively).
        raw_body: The body exactly as received; ``app_id`` and ``timestamp`` are read from it.
        secret: The OA secret key.

    Returns:
        ``True`` only for a well-formed header whose MAC matches (compared in constant time).
    """
    header = (_header(headers, SIGNATURE_HEADER) or "").strip()
    if not header.lower().startswith("mac="):
        return False
    given = header[4:].strip().lower()
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        return False
    if not isinstance(body, dict):
        return False
    app_id, timestamp = _as_id(body.get("app_id")), _as_id(body.get("timestamp"))
    if not app_id or not timestamp or not secret:
        return False
    expected = signature(app_id, raw_body, timestamp, secret)
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))


_OPTION_REPLY = re.compile(
    r"^\s*(?:(?:số|so|option|number|no\.?|#)\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE
)
_LEADING_NUMBER = re.compile(r"^\s*\d{1,2}\s*[.)]\s*")


def option_number(text: str | None) -> int | None:
    """Reads a reply that is just an option number: ``"2"``, ``"số 2"``, ``"2."``.

    Returns:
        The number (1-based), or ``None`` when the text says more than a number.
    """
    match = _OPTION_REPLY.match(text or "")
    return int(match.group(1)) if match else None


def numbered_text(text: str | None, buttons: Iterable[Mapping[str, Any]]) -> tuple[str, list[str]]:
    """Turns Rasa buttons into numbered lines appended to ``text``.

    Titles already numbered by the bot (``"1. Cấp hộ chiếu"``) are renumbered, not doubled.

    Args:
        text: The message text.
        buttons: Rasa buttons (``title`` and ``payload``).

    Returns:
        The text with ``"1. ..."`` lines, and the payloads in the same order.
    """
    lines = [text.rstrip()] if text and text.strip() else []
    payloads: list[str] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or title)
        payloads.append(payload)
        lines.append(f"{len(payloads)}. {_LEADING_NUMBER.sub('', title, count=1)}")
    return "\n".join(lines), payloads


def split_text(text: str, limit: int = MAX_ZALO_TEXT) -> list[str]:
    """Splits ``text`` into messages of at most ``limit`` characters, on line boundaries.

    A single line longer than ``limit`` is cut at the last space before the limit (or
    hard at the limit when it has none).
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit + 1)
            cut = cut if cut > limit // 2 else limit
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = line
    if current:
        chunks.append(current)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def text_only_reply(language: str) -> str:
    """The polite "I read only text" reply, in ``language`` (Vietnamese by default)."""
    return _TEXT_ONLY["en" if language == "en" else "vi"]


# --- credentials ---------------------------------------------------------------------------


def credentials_from_env(env: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """Builds the ``zalo`` credentials from ``MOTCUA_ZALO_*`` variables.

    Args:
        env: The environment (default: the process environment).

    Returns:
        The credentials dict, or ``None`` when ``MOTCUA_ZALO_APP_ID`` is not set (the
        channel is not configured). Unset optional keys are left out.
    """
    env = os.environ if env is None else env
    if not (env.get(CREDENTIAL_ENV["app_id"]) or "").strip():
        return None
    credentials = {}
    for key, variable in CREDENTIAL_ENV.items():
        value = (env.get(variable) or "").strip()
        if value:
            credentials[key] = value
    redis_url = redis_url_from_env(env)
    if redis_url:
        credentials["redis_url"] = redis_url
    return credentials


def _default_token_store() -> str:
    from infra.settings import Settings

    return Settings.from_env().database_url


# --- token storage -------------------------------------------------------------------------


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


# --- outbound API --------------------------------------------------------------------------


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


class ZaloApi:
    """Sends OA messages and refreshes the access token; errors become logs, never crashes.

    Args:
        app_id: The Zalo app id.
        app_secret: The app secret key (for refreshing the token).
        tokens: The OA tokens.
        api_base_url: Base of the OpenAPI (``https://openapi.zalo.me``).
        oauth_base_url: Base of the OAuth API (``https://oauth.zaloapp.com``).
        timeout: Seconds allowed for one HTTP call.
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        tokens: ZaloTokens,
        api_base_url: str = DEFAULT_API_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        timeout: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = tokens
        self.api_base_url = api_base_url.rstrip("/")
        self.oauth_base_url = oauth_base_url.rstrip("/")
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client (created on first use)."""
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        """Closes the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _ensure_tokens(self) -> None:
        if not self.tokens.loaded:
            async with self.tokens.lock:
                if not self.tokens.loaded:
                    await asyncio.to_thread(self.tokens.load)

    async def _post_message(self, body: dict[str, Any], access_token: str) -> dict[str, Any]:
        """One send with one retry on timeout; returns Zalo's JSON or a synthetic error."""
        url = f"{self.api_base_url}{SEND_PATH}"
        for attempt in (1, 2):
            try:
                resp = await self.client.post(
                    url, json=body, headers={"access_token": access_token}
                )
            except httpx.TimeoutException:
                logger.warning("zalo: send timed out (attempt %d of 2)", attempt)
                continue
            except httpx.HTTPError as exc:
                return {"error": "http", "message": f"{exc.__class__.__name__}: {exc}"}
            try:
                result = resp.json()
            except ValueError:
                return {"error": "http", "message": f"HTTP {resp.status_code}, not JSON"}
            return result if isinstance(result, dict) else {"error": "http", "message": "odd"}
        return {"error": "timeout", "message": "no answer after 2 attempts"}

    async def refresh(self, stale_access_token: str) -> bool:
        """Refreshes the access token and stores the rotated pair.

        Concurrent callers wait for one refresh; a caller whose token was already replaced
        just uses the new one.

        Args:
            stale_access_token: The token Zalo refused.

        Returns:
            Whether a usable new access token is in place.
        """
        async with self.tokens.lock:
            if self.tokens.access_token != stale_access_token:
                return True
            try:
                resp = await self.client.post(
                    f"{self.oauth_base_url}{REFRESH_PATH}",
                    data={
                        "refresh_token": self.tokens.refresh_token,
                        "app_id": self.app_id,
                        "grant_type": "refresh_token",
                    },
                    headers={"secret_key": self.app_secret},
                )
                result = resp.json()
            except (httpx.HTTPError, ValueError) as exc:
                logger.error("zalo: token refresh failed: %s: %s", exc.__class__.__name__, exc)
                return False
            access = result.get("access_token") if isinstance(result, dict) else None
            if not access:
                logger.error(
                    "zalo: token refresh refused (HTTP %s): %s; issue new tokens for the OA "
                    "and set MOTCUA_ZALO_ACCESS_TOKEN / MOTCUA_ZALO_REFRESH_TOKEN",
                    resp.status_code,
                    str(result)[:300],
                )
                return False
            self.tokens.access_token = str(access)
            self.tokens.refresh_token = str(result.get("refresh_token") or "") or (
                self.tokens.refresh_token
            )
            try:
                await asyncio.to_thread(self.tokens.save)
            except StoreUnavailable as exc:
                logger.error(
                    "zalo: the refreshed tokens could not be stored (a restart will need new "
                    "tokens): %s",
                    exc,
                )
            logger.info("zalo: access token refreshed")
            return True

    async def send_text(self, recipient: dict[str, str], text: str) -> bool:
        """Sends one text message (at most :data:`MAX_ZALO_TEXT` characters).

        Refreshes the token and retries once when Zalo says it expired.

        Args:
            recipient: ``{"user_id": ...}`` (or the anonymous form).
            text: The text.

        Returns:
            Whether Zalo accepted the message.
        """
        await self._ensure_tokens()
        body = {"recipient": recipient, "message": {"text": text}}
        token = self.tokens.access_token
        result = await self._post_message(body, token)
        if result.get("error") in TOKEN_EXPIRED_ERRORS:
            logger.info("zalo: access token expired (error %s); refreshing", result.get("error"))
            if not await self.refresh(token):
                logger.error("zalo: message to %s not sent: no valid access token", recipient)
                return False
            result = await self._post_message(body, self.tokens.access_token)
        if result.get("error") == 0:
            return True
        logger.error(
            "zalo: message to %s not sent: error %s: %s",
            recipient,
            result.get("error"),
            str(result.get("message"))[:300],
        )
        return False


class OptionMemory:
    """The payloads of the numbered options last shown to each user (bounded, in memory).

    Args:
        max_users: How many users' options are kept (least recently offered dropped).
    """

    def __init__(self, max_users: int = 10_000) -> None:
        self.max_users = max_users
        self._options: OrderedDict[str, list[str]] = OrderedDict()

    def offer(self, user_id: str, payloads: list[str]) -> None:
        """Remembers the payloads just shown to ``user_id`` (replacing older ones)."""
        self._options.pop(user_id, None)
        self._options[user_id] = list(payloads)
        while len(self._options) > self.max_users:
            self._options.popitem(last=False)

    def take(self, user_id: str) -> list[str]:
        """Returns and forgets the options of ``user_id``: they answer only the next message."""
        return self._options.pop(user_id, [])


class ZaloOutput(OutputChannel):
    """Sends Rasa's replies to one Zalo user.

    Args:
        api: The Zalo API client.
        options: Where numbered options are remembered.
        recipient: Extra recipient fields for anonymous users (``conversation_id``).
    """

    def __init__(
        self,
        api: ZaloApi,
        options: OptionMemory,
        recipient: dict[str, str] | None = None,
    ) -> None:
        self.api = api
        self.options = options
        self.recipient = recipient or {}
        self.sent = 0
        """Messages Zalo accepted through this output."""
        self.attempted = 0
        """Messages this output tried to send."""

    @classmethod
    def name(cls) -> str:
        """Channel name."""
        return "zalo"

    def _recipient(self, recipient_id: str) -> dict[str, str]:
        if self.recipient.get("conversation_id"):
            return {"anonymous_id": recipient_id, **self.recipient}
        return {"user_id": recipient_id}

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, split into several messages when longer than 2,000 characters."""
        for chunk in split_text(text or ""):
            self.attempted += 1
            if await self.api.send_text(self._recipient(recipient_id), chunk):
                self.sent += 1

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Sends the text with the buttons as numbered lines and remembers their payloads."""
        message, payloads = numbered_text(text, buttons)
        if payloads:
            self.options.offer(recipient_id, payloads)
        await self.send_text_message(recipient_id, message)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sends the image's address as text."""
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """Sends the attachment's address as text."""
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Sends a custom message's ``text`` when it has one; raw JSON never reaches users."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)
        else:
            logger.info("zalo: custom message without text not sent to %s", recipient_id)


# --- input channel -------------------------------------------------------------------------


def _event_key(event: dict[str, Any]) -> str:
    """The id Zalo's retries share: ``message.msg_id``, else event, sender and timestamp."""
    message = event.get("message")
    msg_id = _as_id(message.get("msg_id")) if isinstance(message, dict) else ""
    if msg_id:
        return msg_id
    return f"{event.get('event_name')}:{_sender_id(event)}:{_as_id(event.get('timestamp'))}"


def _sender_id(event: dict[str, Any]) -> str:
    """The user an event comes from: ``sender.id``, or ``follower.id`` for (un)follows."""
    for key in ("sender", "follower"):
        who = event.get(key)
        sender = _as_id(who.get("id")) if isinstance(who, dict) else ""
        if sender:
            return sender
    return ""


def _reject(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class ZaloInput(InputChannel):
    """Zalo Official Account input channel (registered as ``zalo``).

    Args:
        app_id: The Zalo app id (its events carry it; others are refused).
        app_secret: The app secret key, for refreshing the access token.
        oa_secret_key: The OA secret key, for webhook signatures.
        access_token: The initial OA access token.
        refresh_token: The initial OA refresh token.
        token_store: SQLAlchemy URL or JSON file path where rotated tokens persist.
        api_base_url: Base of the OpenAPI.
        oauth_base_url: Base of the OAuth API.
        timeout: Seconds allowed for one outbound HTTP call.
        redis_url: Redis for the numbered options and handled ids when several replicas
            serve the channel (``MOTCUA_REDIS_URL``, else ``MOTCUA_LOCK_STORE_URL``).
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        oa_secret_key: str,
        access_token: str,
        refresh_token: str,
        token_store: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        timeout: float = 10.0,
        redis_url: str | None = None,
    ) -> None:
        self.app_id = str(app_id)
        self.oa_secret_key = oa_secret_key
        self.store = open_token_store(token_store)
        self.tokens = ZaloTokens(self.app_id, access_token, refresh_token, self.store)
        self.api = ZaloApi(
            self.app_id, app_secret, self.tokens, api_base_url, oauth_base_url, timeout
        )
        if redis_url:  # several replicas: numbered options and handled ids in Redis
            client = redis_client(redis_url)
            self.options = SharedOptionMemory(client, "zalo:options")
            self.seen = SharedRecentKeys(client, "zalo:seen")
        else:
            self.options = OptionMemory()
            self.seen = RecentKeys()
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def name(cls) -> str:
        """Channel name: the URL is ``/webhooks/zalo/webhook``."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        """Builds the channel from the ``zalo`` section of ``credentials.yml``.

        Raises:
            ValueError: When a required key is missing, naming it and its variable.
        """
        credentials = credentials or {}
        missing = [key for key in REQUIRED_CREDENTIALS if not str(credentials.get(key) or "")]
        if missing:
            names = ", ".join(f"{key} ({CREDENTIAL_ENV[key]})" for key in missing)
            raise ValueError(f"zalo channel: missing credentials: {names}")
        return cls(
            app_id=str(credentials["app_id"]),
            app_secret=str(credentials["app_secret"]),
            oa_secret_key=str(credentials["oa_secret_key"]),
            access_token=str(credentials["access_token"]),
            refresh_token=str(credentials["refresh_token"]),
            token_store=str(credentials.get("token_store") or _default_token_store()),
            api_base_url=str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL),
            oauth_base_url=str(credentials.get("oauth_base_url") or DEFAULT_OAUTH_BASE_URL),
            timeout=float(credentials.get("timeout") or 10.0),
            redis_url=str(credentials.get("redis_url") or "") or None,
        )

    def get_output_channel(self) -> OutputChannel:
        """An output for messages the bot starts (e.g. reminders)."""
        return ZaloOutput(self.api, self.options)

    async def drain(self) -> None:
        """Waits until every event received so far has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        """Waits for pending events, then closes the HTTP client and the token store."""
        await self.drain()
        await self.api.aclose()
        self.store.dispose()

    def _spawn(self, work: Awaitable[None], what: str) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            if finished.cancelled():
                logger.error("zalo: %s was cancelled", what)
            elif finished.exception() is not None:
                logger.error("zalo: %s failed", what, exc_info=finished.exception())

        task.add_done_callback(done)

    async def _to_rasa(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender: str,
        output: ZaloOutput,
        language: str,
        message_id: str | None,
        metadata: dict[str, Any],
    ) -> None:
        """Feeds one message to Rasa; says "busy" when Rasa says nothing."""
        try:
            await on_new_message(
                UserMessage(
                    text,
                    output,
                    sender,
                    input_channel=self.name(),
                    message_id=message_id,
                    metadata=metadata,
                )
            )
        except asyncio.CancelledError:  # Rasa cancels a turn that outlives its timeout
            logger.error("zalo: message from %s timed out", sender)
        except Exception:
            logger.exception("zalo: message from %s failed", sender)
        if output.attempted == 0:
            logger.warning("zalo: no reply for %s; sending the busy message", sender)
            await output.send_text_message(sender, channel_text("busy", language))

    async def handle_event(
        self, event: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Handles one verified, de-duplicated event (runs after the webhook answered)."""
        name = str(event.get("event_name") or "")
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        sender = _sender_id(event)
        if not sender:
            logger.warning("zalo: %s event without a sender id ignored", name)
            return
        conversation = _as_id(message.get("conversation_id"))
        recipient = {"conversation_id": conversation} if name.startswith("anonymous_") else {}
        output = ZaloOutput(self.api, self.options, recipient if conversation else None)
        msg_id = _as_id(message.get("msg_id")) or None
        metadata = {
            "zalo": {
                "event_name": name,
                "msg_id": msg_id,
                "timestamp": _as_id(event.get("timestamp")),
                "user_id_by_app": _as_id(event.get("user_id_by_app")),
            }
        }
        if name == "follow":
            self.options.take(sender)
            await self._to_rasa(on_new_message, GREET_PAYLOAD, sender, output, "vi", None, metadata)
            return
        if name in MEDIA_EVENTS:
            self.options.take(sender)
            caption = message.get("text") if isinstance(message.get("text"), str) else ""
            language = detect_language(caption) if caption.strip() else "vi"
            await output.send_text_message(sender, text_only_reply(language))
            return
        raw = message.get("text")
        incoming = check_text(raw if isinstance(raw, str) else "")
        options = self.options.take(sender)
        if incoming.empty:
            await output.send_text_message(sender, channel_text("empty", incoming.language))
            return
        text = incoming.text
        number = option_number(text)
        if number is not None and 1 <= number <= len(options):
            text = options[number - 1]
            metadata["zalo"]["option"] = number
        elif incoming.truncated:
            note = channel_text("too_long", incoming.language, n=len(incoming.text))
            await output.send_text_message(sender, note)
            output.attempted = 0  # the note is not Rasa's reply
        await self._to_rasa(
            on_new_message, text, sender, output, incoming.language, msg_id, metadata
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health and webhook routes."""
        hook = Blueprint("motcua_zalo_webhook", __name__)
        if not self.tokens.loaded:
            self.tokens.load()

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            if len(raw) > MAX_BODY_BYTES:
                return _reject(413, "body too large")
            try:
                event = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                return _reject(400, "the body must be JSON")
            if not isinstance(event, dict):
                return _reject(400, "the body must be a JSON object")
            if not _header(request.headers, SIGNATURE_HEADER):
                logger.warning("zalo: webhook without %s refused", SIGNATURE_HEADER)
                return _reject(401, f"missing {SIGNATURE_HEADER}")
            if not verify(request.headers, raw, self.oa_secret_key):
                logger.warning("zalo: webhook with a bad signature refused")
                return _reject(403, "bad signature")
            if _as_id(event.get("app_id")) != self.app_id:
                logger.warning("zalo: event for another app (%s) refused", event.get("app_id"))
                return _reject(403, "unknown app_id")
            name = str(event.get("event_name") or "")
            if name.startswith("oa_") or name in QUIET_EVENTS:
                return response.json({"status": "ignored"})
            if name not in TEXT_EVENTS and name not in MEDIA_EVENTS and name != "follow":
                logger.info("zalo: unknown event %r ignored", name)
                return response.json({"status": "ignored"})
            if self.seen.seen(_event_key(event)):
                logger.info("zalo: duplicate %s event dropped: %s", name, _event_key(event))
                return response.json({"status": "duplicate"})
            message = event.get("message")
            msg_id = _as_id(message.get("msg_id")) if isinstance(message, dict) else ""
            self._spawn(self.handle_event(event, on_new_message), f"{name} event {msg_id}")
            return response.json({"status": "ok"})

        @hook.listener("after_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await self.aclose()

        return hook
