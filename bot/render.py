"""The files a Rasa server is started with: ``endpoints.yml`` and ``credentials.yml``.

Both are written for each start from the environment (the settings registry), mode 0600:
they may hold passwords and the action server's token.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from bot.plan import ROOT
from infra.settings import read

logger = logging.getLogger(__name__)

ENDPOINTS = ROOT / "bot" / "endpoints.yml"
CREDENTIALS = ROOT / "bot" / "credentials.yml"
"""REST only: for running ``rasa run`` by hand (the launcher writes its own, see below)."""

ACTIONS_TOKEN_HEADER = "Authorization"
"""The header Rasa sends the action server's token in (``Bearer <token>``)."""

CHANNEL_MODULES = {
    "connectors.webchat.WebchatInput": "connectors.webchat",
    "connectors.telegram.TelegramInput": "connectors.telegram",
    "connectors.zalo.ZaloInput": "connectors.zalo",
}
"""Optional channels: each module's ``credentials_from_env`` says whether it is configured."""


def channel_credentials(env: Mapping[str, str]) -> dict[str, dict]:
    """Returns the ``credentials.yml`` content: REST always, other channels when configured.

    Rasa stops on an unset ``${VAR}`` in its YAML, so instead of one file with every
    channel, the launcher writes the channels whose settings are present in the environment.
    The channel modules import Rasa: call this in a child process, not in the launcher
    (see :mod:`bot.prepare`).
    """
    credentials: dict[str, dict] = {"connectors.rest.RestInput": {}}
    for class_path, module_name in CHANNEL_MODULES.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            logger.warning("channel %s unavailable: %s", class_path, exc)
            continue
        settings = module.credentials_from_env(dict(env))
        if settings is not None:
            credentials[class_path] = settings
    return credentials


def _write_private(path: Path, header: str, content: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(header + yaml.safe_dump(content, sort_keys=False), encoding="utf-8")


def write_credentials(path: Path, env: Mapping[str, str]) -> list[str]:
    """Writes the credentials file for this start; returns the channel names enabled."""
    credentials = channel_credentials(env)
    _write_private(
        path, "# Written by motcua from the environment; edits are overwritten.\n", credentials
    )
    return [c.rsplit(".", 1)[-1].removesuffix("Input").lower() for c in credentials]


def store_endpoints(env: Mapping[str, str]) -> dict[str, dict]:
    """Returns Rasa's tracker store, lock store and event broker sections from URLs.

    Embedded defaults need none of them (in-memory trackers and locks, no broker); a
    cluster sets:

    * ``MOTCUA_TRACKER_STORE_URL`` — ``postgresql://user:pass@host:5432/db`` (SQL tracker
      store, shared by every Rasa server);
    * ``MOTCUA_LOCK_STORE_URL`` — ``redis://:pass@host:6379/1`` (one conversation is
      processed by one server at a time);
    * ``MOTCUA_EVENT_BROKER_URL`` — ``amqp://user:pass@host:5672/`` (conversation events
      to RabbitMQ, queue ``MOTCUA_EVENT_QUEUE``; the consumer ``python -m bot.events
      consume`` writes them to the conversation log). Without it, events go to the
      conversation log in-process (:class:`bot.events.ConversationLogBroker`).

    Raises:
        ValueError: For a URL of the wrong scheme (the message names the variable).
    """
    values = read(env)
    sections: dict[str, dict] = {}
    if values["MOTCUA_TRACKER_STORE_URL"]:
        url = urlsplit(values["MOTCUA_TRACKER_STORE_URL"])
        sections["tracker_store"] = {
            "type": "SQL",
            "dialect": "postgresql",
            "url": url.hostname or "localhost",
            "port": url.port or 5432,
            "db": url.path.lstrip("/") or "motcua",
            "username": unquote(url.username or ""),
            "password": unquote(url.password or ""),
        }
    if values["MOTCUA_LOCK_STORE_URL"]:
        url = urlsplit(values["MOTCUA_LOCK_STORE_URL"])
        sections["lock_store"] = {
            "type": "bot.locks.AtomicRedisLockStore",  # Rasa's "redis" races across servers
            "url": url.hostname or "localhost",
            "port": url.port or 6379,
            "db": int(url.path.lstrip("/") or 0),
            "password": unquote(url.password or "") or None,
            "key_prefix": "motcua",
        }
    if not values["MOTCUA_EVENT_BROKER_URL"]:
        # Embedded: conversation events go straight to the SQL conversation log (staff
        # review queue and dashboard), written by a background thread off the answer path.
        sections["event_broker"] = {"type": "bot.events.ConversationLogBroker"}
        return sections
    url = urlsplit(values["MOTCUA_EVENT_BROKER_URL"])
    queue = values["MOTCUA_EVENT_QUEUE"]
    sections["event_broker"] = {
        "type": "bot.events.RetryingPikaEventBroker",  # Rasa's pika broker, retrying
        "url": url.hostname or "localhost",
        "port": url.port or 5672,
        "username": unquote(url.username or "guest"),
        "password": unquote(url.password or "guest"),
        "queues": [queue],
        # Rasa's default exchange (rasa-exchange, fanout) copies every event to every
        # queue bound to it: another deployment or test on the same RabbitMQ would
        # receive ours. One exchange per queue keeps them apart.
        "exchange_name": queue,
    }
    return sections


def write_endpoints(
    path: Path,
    action_url: str,
    env: Mapping[str, str] | None = None,
    *,
    actions_token: str = "",
) -> None:
    """Writes this start's ``endpoints.yml``: the project's, our action server, the stores.

    Args:
        path: Where to write.
        action_url: The action server's webhook.
        env: Environment with the optional store URLs (see :func:`store_endpoints`).
        actions_token: The action servers' shared token, sent by Rasa on every call.
    """
    endpoints = yaml.safe_load(ENDPOINTS.read_text("utf-8")) or {}
    action = {**(endpoints.get("action_endpoint") or {}), "url": action_url}
    if actions_token:
        action["headers"] = {ACTIONS_TOKEN_HEADER: f"Bearer {actions_token}"}
    endpoints["action_endpoint"] = action
    endpoints.update(store_endpoints(env or {}))
    _write_private(
        path, "# Written by motcua from bot/endpoints.yml; edits are overwritten.\n", endpoints
    )
