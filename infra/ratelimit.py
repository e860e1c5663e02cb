"""A per-sender limit on dossier lookups, so codes cannot be enumerated.

Each sender may look up ``limit`` codes in any ``window_s`` seconds (a sliding window).
Call :meth:`LookupLimiter.check_and_record` *before* each lookup: every allowed attempt
counts, whether the code turns out to exist or not. Refused attempts are not recorded, so
``retry_after_s`` is exact.

:class:`SqlLookupLimiter` keeps attempts in the shared database (table
``lookup_attempts``), so several action-server processes share one budget per sender;
senders are stored as hashes. :class:`MemoryLookupLimiter` does the same in one process.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from infra.db import Database, SqlStore

DEFAULT_LIMIT = 10
DEFAULT_WINDOW_S = 3600
PRUNE_ALL_AFTER_S = 86_400.0
"""Attempts of every key older than this are pruned (limiters share the table, with
windows of their own; none is longer than a day)."""
PRUNE_EVERY = 100
"""A SQL limiter deletes every sender's expired attempts once in this many calls."""


@dataclass(frozen=True)
class Decision:
    """The answer to one lookup attempt.

    Attributes:
        allowed: Whether the lookup may go ahead (it has been recorded if so).
        retry_after_s: Seconds until the next attempt would be allowed (0 when allowed).
        remaining: Attempts left in the window after this one.
    """

    allowed: bool
    retry_after_s: int
    remaining: int


def _seconds(now: float | datetime | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def _decide(
    times_in_window: list[float], now: float, limit: int, window_s: float
) -> tuple[bool, Decision]:
    """Judges an attempt at ``now`` given the earlier attempts still in the window."""
    if len(times_in_window) >= limit:
        oldest = sorted(times_in_window)[len(times_in_window) - limit]
        wait = max(1, math.ceil(oldest + window_s - now))
        return False, Decision(allowed=False, retry_after_s=wait, remaining=0)
    return True, Decision(allowed=True, retry_after_s=0, remaining=limit - len(times_in_window) - 1)


class LookupLimiter(ABC):
    """A sliding-window limit of ``limit`` lookups per sender in ``window_s`` seconds.

    Args:
        limit: Lookups allowed per window.
        window_s: Window length in seconds.
    """

    def __init__(self, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError(f"limit and window must be positive, got {limit}, {window_s}")
        self.limit = limit
        self.window_s = window_s

    @abstractmethod
    def check_and_record(self, sender: str, now: float | datetime | None = None) -> Decision:
        """Decides whether ``sender`` may look up a code now, and records it if so.

        Args:
            sender: The conversation's sender id (channel user id).
            now: The time, as epoch seconds or an aware datetime (default: the clock).

        Returns:
            The decision.
        """


class MemoryLookupLimiter(LookupLimiter):
    """The limiter in this process's memory (tests, a single process)."""

    def __init__(self, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S) -> None:
        super().__init__(limit, window_s)
        self._attempts: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._calls = 0

    def check_and_record(self, sender: str, now: float | datetime | None = None) -> Decision:
        """Decides whether ``sender`` may look up a code now, and records it if so."""
        at = _seconds(now)
        with self._lock:
            attempts = self._attempts[sender]
            while attempts and attempts[0] <= at - self.window_s:
                attempts.popleft()
            allowed, decision = _decide(list(attempts), at, self.limit, self.window_s)
            if allowed:
                attempts.append(at)
            self._calls += 1
            if self._calls % PRUNE_EVERY == 0:
                for key in [k for k, v in self._attempts.items() if v[-1] <= at - self.window_s]:
                    del self._attempts[key]
            return decision

    def withdraw(self, sender: str, now: float | datetime) -> bool:
        """Takes back the attempt ``sender`` made at ``now`` (it turned out not to count)."""
        at = _seconds(now)
        with self._lock:
            attempts = self._attempts.get(sender)
            if not attempts or at not in attempts:
                return False
            attempts.remove(at)
            return True

    def count(self, sender: str, now: float | datetime | None = None) -> int:
        """Returns how many attempts ``sender`` made in the window ending at ``now``."""
        cutoff = _seconds(now) - self.window_s
        with self._lock:
            return sum(1 for at in self._attempts.get(sender, ()) if at > cutoff)


_metadata = sa.MetaData()
attempts_table = sa.Table(
    "lookup_attempts",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("at", sa.Float, nullable=False, index=True),
    sa.Index("ix_lookup_attempts_sender_at", "sender", "at"),
)


def sender_key(sender: str) -> str:
    """Returns the hash a sender is stored under (no raw phone numbers or user ids)."""
    return hashlib.sha256(sender.encode("utf-8")).hexdigest()[:32]


class SqlLookupLimiter(SqlStore, LookupLimiter):
    """The limiter in a SQL database shared by every process.

    Args:
        db: The database (:class:`infra.db.Database`) or its URL.
        limit: Lookups allowed per window.
        window_s: Window length in seconds.
    """

    what = "lookup limit"

    def __init__(
        self, db: Database | str, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S
    ) -> None:
        SqlStore.__init__(self, db)
        LookupLimiter.__init__(self, limit, window_s)
        self._calls = 0

    def check_and_record(self, sender: str, now: float | datetime | None = None) -> Decision:
        """Decides whether ``sender`` may look up a code now, and records it if so.

        In one transaction the attempt is inserted first (on SQLite this takes the write
        lock, so concurrent attempts queue up), the sender's attempts in the window are
        counted, and the attempt is withdrawn again when it is over the limit. On
        PostgreSQL a per-sender advisory lock serialises one sender's concurrent attempts.
        """
        at = _seconds(now)
        key = sender_key(sender)
        cutoff = at - self.window_s
        self._calls += 1
        prune_all = self._calls % PRUNE_EVERY == 0

        def work(conn: sa.engine.Connection) -> Decision:
            if conn.dialect.name == "postgresql":
                lock_id = int.from_bytes(bytes.fromhex(key[:16]), "big", signed=True)
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_id)))
            own_id = conn.execute(
                attempts_table.insert().values(sender=key, at=at)
            ).inserted_primary_key[0]
            stale = attempts_table.c.sender == key
            stale = sa.and_(stale, attempts_table.c.at <= cutoff)
            if prune_all:  # every key, but only past the longest window any limiter uses
                stale = sa.or_(stale, attempts_table.c.at <= at - PRUNE_ALL_AFTER_S)
            conn.execute(attempts_table.delete().where(stale))
            earlier = list(
                conn.execute(
                    sa.select(attempts_table.c.at).where(
                        attempts_table.c.sender == key,
                        attempts_table.c.at > cutoff,
                        attempts_table.c.id != own_id,
                    )
                ).scalars()
            )
            allowed, decision = _decide(earlier, at, self.limit, self.window_s)
            if not allowed:
                conn.execute(attempts_table.delete().where(attempts_table.c.id == own_id))
            return decision

        return self._run(work, write=True)

    def prune(self, now: float | datetime | None = None) -> int:
        """Deletes every sender's attempts older than the window; returns how many."""
        cutoff = _seconds(now) - self.window_s
        result = self._run(
            lambda c: c.execute(attempts_table.delete().where(attempts_table.c.at <= cutoff)),
            write=True,
        )
        return int(result.rowcount or 0)

    def withdraw(self, sender: str, now: float | datetime) -> bool:
        """Takes back one attempt ``sender`` made at ``now`` (it turned out not to count).

        The login limit records an attempt before the password is checked and withdraws it
        when the password was right, so only failures use up the budget.
        """
        key, at = sender_key(sender), _seconds(now)

        def work(conn: sa.engine.Connection) -> bool:
            own = conn.execute(
                sa.select(attempts_table.c.id)
                .where(attempts_table.c.sender == key, attempts_table.c.at == at)
                .limit(1)
            ).scalar()
            if own is None:
                return False
            conn.execute(attempts_table.delete().where(attempts_table.c.id == own))
            return True

        return self._run(work, write=True)

    def count(self, sender: str | None = None, now: float | datetime | None = None) -> int:
        """Returns how many attempts are stored: all senders', or ``sender``'s in the window."""
        query = sa.select(sa.func.count()).select_from(attempts_table)
        if sender is not None:
            query = query.where(
                attempts_table.c.sender == sender_key(sender),
                attempts_table.c.at > _seconds(now) - self.window_s,
            )
        return self._run(lambda c: c.execute(query).scalar())


def make_limiter(
    url: str | None = None, limit: int = DEFAULT_LIMIT, window_s: float = DEFAULT_WINDOW_S
) -> LookupLimiter:
    """Returns a SQL limiter on ``url``, or an in-memory one when ``url`` is ``None``."""
    if url is None:
        return MemoryLookupLimiter(limit, window_s)
    return SqlLookupLimiter(url, limit, window_s)
