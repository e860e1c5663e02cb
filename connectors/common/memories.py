"""What the Telegram and Zalo channels remember between messages: in this process, or in Redis.

Three small memories make the channels work: the update/message ids already handled
(platforms retry), the numbered options last shown to a Zalo user (a reply of "2" picks
one) and the payloads behind Telegram's short button keys. In one process they live in
memory (:class:`RecentKeys`, :class:`OptionMemory`, :class:`PayloadKeys`). With several
replicas behind a load balancer, the next message of the same citizen may reach another
replica, so the memories move to Redis when ``MOTCUA_REDIS_URL`` (or else the lock
store's ``MOTCUA_LOCK_STORE_URL``) is set (:meth:`Memories.open`).

A Redis error never stops a message: the memory falls back to its in-process twin for
that call and logs a warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import redis

logger = logging.getLogger(__name__)

PREFIX = "motcua:channel"
SEEN_TTL_S = 24 * 3600
"""Platform retries come within minutes; a day of ids is plenty."""
OPTIONS_TTL_S = 24 * 3600
PAYLOAD_TTL_S = 30 * 24 * 3600
"""A button keeps working this long after it was sent."""
KEY_PREFIX = "p:"
"""What marks ``callback_data`` as a key standing for a longer payload."""
MAX_CALLBACK_BYTES = 64
"""Telegram's limit for a button's ``callback_data``."""


# --- in this process -----------------------------------------------------------------------


class RecentKeys:
    """A bounded set of recently seen keys (update ids, message ids): drops platform retries.

    Args:
        size: How many keys to remember; the least recently seen is forgotten first.
    """

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._keys)

    def seen(self, key: Hashable) -> bool:
        """Records ``key``; tells whether it had been seen already."""
        if key in self._keys:
            self._keys.move_to_end(key)
            return True
        self._keys[key] = None
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)
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


class PayloadKeys:
    """Maps button payloads too long for ``callback_data`` to short keys ``p:<n>`` and back.

    Args:
        size: How many long payloads to remember (the least recently used is forgotten).
        max_bytes: The longest ``callback_data`` (Telegram's 64 bytes).
    """

    def __init__(self, size: int = 10_000, max_bytes: int = MAX_CALLBACK_BYTES) -> None:
        self._size = size
        self.max_bytes = max_bytes
        self._counter = 0
        self._by_payload: OrderedDict[str, str] = OrderedDict()
        self._by_key: dict[str, str] = {}

    def callback_data(self, payload: str) -> str:
        """Returns what to put in ``callback_data`` for ``payload`` (itself when it fits)."""
        if _fits(payload, self.max_bytes):
            return payload
        key = self._by_payload.get(payload)
        if key is not None:
            self._by_payload.move_to_end(payload)
            return key
        self._counter += 1
        key = f"{KEY_PREFIX}{self._counter}"
        self._by_payload[payload] = key
        self._by_key[key] = payload
        if len(self._by_payload) > self._size:
            _, old_key = self._by_payload.popitem(last=False)
            self._by_key.pop(old_key, None)
        return key

    def payload(self, data: str) -> str | None:
        """Returns the payload behind ``callback_data``; ``None`` for a forgotten key."""
        if data.startswith(KEY_PREFIX):
            return self._by_key.get(data)
        return data


def _fits(payload: str, max_bytes: int) -> bool:
    """Whether ``payload`` can travel as ``callback_data`` itself (short, not key-like)."""
    return len(payload.encode("utf-8")) <= max_bytes and not payload.startswith(KEY_PREFIX)


# --- in Redis ------------------------------------------------------------------------------


def redis_client(url: str) -> Any:
    """Returns a Redis client with short timeouts (the answer path must not hang on it)."""
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

    def __init__(
        self,
        client: Any,
        namespace: str,
        ttl_s: int = SEEN_TTL_S,
        fallback: RecentKeys | None = None,
    ) -> None:
        super().__init__(client, namespace)
        self.ttl_s = ttl_s
        self.fallback = fallback or RecentKeys()

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

    def __init__(
        self,
        client: Any,
        namespace: str,
        ttl_s: int = OPTIONS_TTL_S,
        fallback: OptionMemory | None = None,
    ) -> None:
        super().__init__(client, namespace)
        self.ttl_s = ttl_s
        self.fallback = fallback or OptionMemory()

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
    """Button payloads too long for ``callback_data``, behind keys kept in Redis.

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
        self,
        client: Any,
        namespace: str,
        max_bytes: int = MAX_CALLBACK_BYTES,
        ttl_s: int = PAYLOAD_TTL_S,
    ) -> None:
        super().__init__(client, namespace)
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._local: dict[str, str] = {}

    def callback_data(self, payload: str) -> str:
        """Returns what to put in ``callback_data`` for ``payload`` (itself when it fits)."""
        if _fits(payload, self.max_bytes):
            return payload
        key = KEY_PREFIX + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:20]
        try:
            self.client.set(self._key(key), payload, ex=self.ttl_s)
        except Exception as exc:
            self._failed("payload keys", exc)
            self._local[key] = payload
        return key

    def payload(self, data: str) -> str | None:
        """Returns the payload behind ``callback_data``; ``None`` for a forgotten key."""
        if not data.startswith(KEY_PREFIX):
            return data
        try:
            return self.client.get(self._key(data)) or self._local.get(data)
        except Exception as exc:
            self._failed("payload keys", exc)
            return self._local.get(data)


# --- one channel's memories ----------------------------------------------------------------


@dataclass
class Memories:
    """The three memories of one channel, all in this process or all in Redis.

    Attributes:
        recent: Ids already handled.
        options: Numbered options waiting for a digit.
        payloads: Long button payloads behind short keys.
    """

    recent: RecentKeys | SharedRecentKeys
    options: OptionMemory | SharedOptionMemory
    payloads: PayloadKeys | SharedPayloadKeys

    @classmethod
    def open(cls, channel: str, redis_url: str | None = None) -> Memories:
        """Returns the memories of ``channel``: in Redis at ``redis_url``, else in process.

        Args:
            channel: The channel's name, the Redis namespace (``telegram``, ``zalo``).
            redis_url: Redis shared by every replica (``None``: this process alone).
        """
        if not redis_url:
            return cls(RecentKeys(), OptionMemory(), PayloadKeys())
        client = redis_client(redis_url)
        return cls(
            SharedRecentKeys(client, f"{channel}:seen"),
            SharedOptionMemory(client, f"{channel}:options"),
            SharedPayloadKeys(client, f"{channel}:payloads"),
        )
