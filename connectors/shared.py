"""Channel memories shared by every Rasa server replica, in Redis.

Three small memories make the Telegram and Zalo channels work: the update/message ids
already handled (platforms retry), the numbered options last shown to a Zalo user (a
reply of "2" picks one) and the payloads behind Telegram's short button keys. In one
process they live in memory (:class:`connectors.guards.RecentKeys`,
:class:`connectors.zalo.OptionMemory`, :class:`connectors.telegram.PayloadKeys`). With
several replicas behind a load balancer, the next message of the same citizen may reach
another replica, so the memories move to Redis when ``MOTCUA_REDIS_URL`` (or else the
lock store's ``MOTCUA_LOCK_STORE_URL``) is set.

A Redis error never stops a message: the memory falls back to its in-process twin for
that call and logs a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Hashable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

PREFIX = "motcua:channel"
SEEN_TTL_S = 24 * 3600
"""Platform retries come within minutes; a day of ids is plenty."""
OPTIONS_TTL_S = 24 * 3600
PAYLOAD_TTL_S = 30 * 24 * 3600
"""A button keeps working this long after it was sent."""


def redis_url_from_env(env: Mapping[str, str]) -> str | None:
    """Returns the Redis URL for channel memories (``MOTCUA_REDIS_URL``, else the lock store's)."""
    url = (env.get("MOTCUA_REDIS_URL") or env.get("MOTCUA_LOCK_STORE_URL") or "").strip()
    return url or None


def redis_client(url: str) -> Any:
    """Returns a Redis client with short timeouts (the answer path must not hang on it)."""
    import redis

    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=0.5, socket_connect_timeout=0.5
    )


class _Shared:
    def __init__(self, client: Any, namespace: str) -> None:
        self.client = client
        self.namespace = f"{PREFIX}:{namespace}"

    def _key(self, part: str) -> str:
        return f"{self.namespace}:{part}"

    def _failed(self, what: str, exc: Exception) -> None:
        logger.warning("redis %s failed (%s); using this process's memory", what, exc)


class SharedRecentKeys(_Shared):
    """Ids already handled, in Redis (``SET NX`` with a TTL): a retry seen by any replica.

    Args:
        client: A Redis client.
        namespace: e.g. ``telegram:seen``.
        ttl_s: How long an id is remembered.
        fallback: The in-process memory used when Redis fails.
    """

    def __init__(self, client: Any, namespace: str, ttl_s: int = SEEN_TTL_S, fallback=None):
        super().__init__(client, namespace)
        self.ttl_s = ttl_s
        if fallback is None:
            from connectors.guards import RecentKeys

            fallback = RecentKeys()
        self.fallback = fallback

    def seen(self, key: Hashable) -> bool:
        """Records ``key``; tells whether any replica had seen it already."""
        try:
            return not self.client.set(self._key(str(key)), "1", nx=True, ex=self.ttl_s)
        except Exception as exc:
            self._failed("dedupe", exc)
            return self.fallback.seen(key)


class SharedOptionMemory(_Shared):
    """The numbered options last shown to each user, in Redis (read once, then forgotten).

    Args:
        client: A Redis client.
        namespace: e.g. ``zalo:options``.
        ttl_s: How long options wait for the reply.
        fallback: The in-process memory used when Redis fails.
    """

    def __init__(self, client: Any, namespace: str, ttl_s: int = OPTIONS_TTL_S, fallback=None):
        super().__init__(client, namespace)
        self.ttl_s = ttl_s
        if fallback is None:
            from connectors.zalo import OptionMemory

            fallback = OptionMemory()
        self.fallback = fallback

    def offer(self, user_id: str, payloads: list[str]) -> None:
        """Remembers the payloads just shown to ``user_id`` (replacing older ones)."""
        try:
            self.client.set(self._key(user_id), json.dumps(list(payloads)), ex=self.ttl_s)
        except Exception as exc:
            self._failed("options", exc)
            self.fallback.offer(user_id, payloads)

    def take(self, user_id: str) -> list[str]:
        """Returns and forgets the options of ``user_id`` (``GETDEL``: one replica gets them)."""
        try:
            raw = self.client.getdel(self._key(user_id))
        except Exception as exc:
            self._failed("options", exc)
            return self.fallback.take(user_id)
        try:
            value = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [str(p) for p in value] if isinstance(value, list) else []


class SharedPayloadKeys(_Shared):
    """Telegram button payloads too long for ``callback_data``, behind keys kept in Redis.

    The key is derived from the payload (``p:`` + 20 hex digits of its SHA-1), so every
    replica gives the same payload the same key, and a tap works on any of them and
    after a restart.

    Args:
        client: A Redis client.
        namespace: e.g. ``telegram:payloads``.
        max_bytes: Telegram's ``callback_data`` limit.
        ttl_s: How long a key keeps working.
    """

    def __init__(
        self, client: Any, namespace: str, max_bytes: int = 64, ttl_s: int = PAYLOAD_TTL_S
    ) -> None:
        super().__init__(client, namespace)
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._local: dict[str, str] = {}

    def callback_data(self, payload: str) -> str:
        """Returns what to put in ``callback_data`` for ``payload`` (itself when it fits)."""
        if len(payload.encode("utf-8")) <= self.max_bytes and not payload.startswith("p:"):
            return payload
        key = "p:" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:20]
        try:
            self.client.set(self._key(key), payload, ex=self.ttl_s)
        except Exception as exc:
            self._failed("payload keys", exc)
            self._local[key] = payload
        return key

    def payload(self, data: str) -> str | None:
        """Returns the payload behind ``callback_data``; ``None`` for a forgotten key."""
        if not data.startswith("p:"):
            return data
        try:
            return self.client.get(self._key(data)) or self._local.get(data)
        except Exception as exc:
            self._failed("payload keys", exc)
            return self._local.get(data)
