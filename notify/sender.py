"""The sender: delivers the notice outbox, politely and without losing or repeating notices.

Each round it holds non-urgent notices during quiet hours, claims due rows with a lease
(:meth:`desk.outbox.Outbox.claim`), renders each in its follower's language and hands
it to the channel (:mod:`notify.channels`) under that channel's rate (a token bucket;
Telegram also gets one message per chat per second), then records the outcome:

* ``sent``: done; the (follow, status) row is never sent again;
* ``retry``: back to ``pending`` after an exponential backoff with jitter (or the wait
  the platform asked for; a "too many requests" pauses the whole channel), until
  ``give_up_s`` after the change, then ``failed`` (staff can resend);
* ``refused``: recorded and not retried; further notices to the same address within
  ``refusal_memory_s`` are refused without calling the platform again (no spam against
  Zalo's interaction window or a blocked bot).

A sender that dies mid-round leaves its rows ``sending``; their lease runs out and the
next round (of this or another process) takes them again. Outcomes are written in small
groups (``flush_every``, one transaction each), so the one case that can repeat a message
is a crash after the platform accepted it and before its group was written (a fraction
of a second; no platform here offers an idempotency key to close it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from desk.outbox import Notice, Outbox, utcnow
from notify.channels import REFUSED, RETRY, SENT, ChannelSender, Outcome
from notify.texts import notice_text

logger = logging.getLogger(__name__)

VIETNAM_OFFSET = timedelta(hours=7)


@dataclass(frozen=True)
class QuietHours:
    """A daily span in Vietnam time (it may wrap past midnight) when notices wait.

    Attributes:
        start: ``(hour, minute)`` it begins.
        end: ``(hour, minute)`` it ends.
    """

    start: tuple[int, int] = (21, 0)
    end: tuple[int, int] = (7, 0)

    def _local(self, now_utc: datetime) -> datetime:
        return now_utc + VIETNAM_OFFSET

    def active(self, now_utc: datetime) -> bool:
        """Whether ``now_utc`` (naive UTC) falls in the quiet hours."""
        t = self._local(now_utc)
        minute = t.hour * 60 + t.minute
        start, end = self.start[0] * 60 + self.start[1], self.end[0] * 60 + self.end[1]
        if start <= end:
            return start <= minute < end
        return minute >= start or minute < end

    def ends_after(self, now_utc: datetime) -> datetime:
        """The next end of the quiet hours after ``now_utc`` (naive UTC)."""
        local = self._local(now_utc)
        end = local.replace(hour=self.end[0], minute=self.end[1], second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end - VIETNAM_OFFSET


class RateLimiter:
    """A token bucket: at most ``per_s`` acquisitions a second; a pause stops everyone.

    Args:
        per_s: The sustained rate.
        burst: Tokens available at once (default: one second's worth).
    """

    def __init__(self, per_s: float, burst: float | None = None) -> None:
        self.per_s = float(per_s)
        self.burst = float(burst if burst is not None else max(1.0, per_s))
        self._tokens = self.burst
        self._last = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Nobody acquires for ``seconds`` (the platform said "too many requests")."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def acquire(self) -> None:
        """Waits for a token."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.per_s)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.per_s)


@dataclass(frozen=True)
class Backoff:
    """When to try a failed notice again.

    Attributes:
        base_s: The first wait.
        max_s: The longest wait.
        give_up_s: After this long since the change, the notice fails.
    """

    base_s: float = 5.0
    max_s: float = 900.0
    give_up_s: float = 2 * 24 * 3600.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed try (jittered over the upper half)."""
        ceiling = min(self.max_s, self.base_s * 2 ** max(0, attempts - 1))
        return ceiling * random.uniform(0.5, 1.0)


PER_CHAT_INTERVAL_S = {"telegram": 1.0}
"""Least time between two messages to the same chat, per channel (Telegram's advice)."""


class Sender:
    """Delivers the outbox through the configured channels.

    Args:
        outbox: The outbox.
        channels: ``{"telegram": TelegramSender, "zalo": ZaloSender}``, those configured.
        rates: Messages per second per channel.
        quiet: Quiet hours, or ``None``.
        backoff: Retry policy.
        batch: Rows claimed per round.
        lease_s: How long a claim lasts before another round may take the row.
        idle_s: Pause between rounds when nothing was due.
        concurrency: Deliveries in flight at once.
        refusal_memory_s: How long a refused address is not tried again.
        flush_every: Outcomes recorded per transaction (the rest at the end of the round).
        clock: Returns now (naive UTC); tests move it.
    """

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, ChannelSender],
        *,
        rates: Mapping[str, float] | None = None,
        quiet: QuietHours | None = None,
        backoff: Backoff | None = None,
        batch: int = 200,
        lease_s: float = 60.0,
        idle_s: float = 1.0,
        concurrency: int = 32,
        refusal_memory_s: float = 6 * 3600.0,
        flush_every: int = 20,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.outbox = outbox
        self.channels = dict(channels)
        self.limiters = {name: RateLimiter((rates or {}).get(name, 10.0)) for name in self.channels}
        self.quiet = quiet
        self.backoff = backoff or Backoff()
        self.batch = batch
        self.lease_s = lease_s
        self.idle_s = idle_s
        self.refusal_memory_s = refusal_memory_s
        self.clock = clock
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_last: dict[tuple[str, str], float] = {}
        self._chat_locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._refused: dict[tuple[str, str], tuple[float, str]] = {}
        self.delivered = 0
        """Notices sent by this sender since it started."""
        self.flush_every = flush_every
        self._outcomes: list[tuple[int, dict]] = []

    async def run_once(self) -> int:
        """One round: hold for quiet hours, claim, deliver, record.

        Returns:
            How many notices were claimed.
        """
        now = self.clock()
        if self.quiet is not None and self.quiet.active(now):
            await asyncio.to_thread(self.outbox.hold, self.quiet.ends_after(now), now)
        notices = await asyncio.to_thread(
            self.outbox.claim, self.batch, lease_s=self.lease_s, now=now
        )
        if notices:
            try:
                await asyncio.gather(*(self._deliver(n) for n in notices))
            finally:
                await self._flush()
        self._forget_old_chats()
        return len(notices)

    def _forget_old_chats(self) -> None:
        """Drops per-chat spacing and refusal memories that no longer matter."""
        now = time.monotonic()
        if len(self._chat_last) > 10_000:
            for key, last in list(self._chat_last.items()):
                lock = self._chat_locks.get(key)
                if now - last > 10 and (lock is None or not lock.locked()):
                    self._chat_last.pop(key, None)
                    self._chat_locks.pop(key, None)
        if len(self._refused) > 10_000:
            for key, (until, _) in list(self._refused.items()):
                if until < now:
                    self._refused.pop(key, None)

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until ``stop`` is set; a database error waits and tries again."""
        while not stop.is_set():
            try:
                claimed = await self.run_once()
            except Exception:
                logger.exception("notify: sender round failed; trying again shortly")
                claimed = 0
            if not claimed:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle_s)

    async def _deliver(self, notice: Notice) -> None:
        if not notice.active or not notice.address:
            self._outcomes.append((notice.id, {"state": "cancelled", "last_error": "unfollowed"}))
            return
        channel = self.channels.get(notice.channel)
        if channel is None:
            outcome = Outcome(RETRY, f"the {notice.channel} channel is not configured")
        else:
            outcome = await self._send(channel, notice)
        await self._record(notice, outcome)

    def _remembered_refusal(self, notice: Notice) -> Outcome | None:
        key = (notice.channel, notice.address)
        remembered = self._refused.get(key)
        if remembered and time.monotonic() < remembered[0]:
            return Outcome(REFUSED, f"not tried: {remembered[1]}"[:200])
        return None

    async def _send(self, channel: ChannelSender, notice: Notice) -> Outcome:
        key = (notice.channel, notice.address)
        spacing = PER_CHAT_INTERVAL_S.get(notice.channel, 0.0)
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        async with lock, self._slots:
            remembered = self._remembered_refusal(notice)
            if remembered is not None:
                return remembered
            wait = self._chat_last.get(key, 0.0) + spacing - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            limiter = self.limiters[notice.channel]
            await limiter.acquire()
            text = notice_text(notice.dossier_code, notice.status, notice.language)
            outcome = await channel.send(notice.address, text)
            self._chat_last[key] = time.monotonic()
        if outcome.throttled and outcome.after:
            limiter.pause(outcome.after)
        if outcome.kind == REFUSED:
            self._refused[key] = (time.monotonic() + self.refusal_memory_s, outcome.detail)
        return outcome

    def _outcome_values(self, notice: Notice, outcome: Outcome) -> dict:
        now = self.clock()
        if outcome.kind == SENT:
            return {"state": "sent", "sent_at": now, "last_error": ""}
        if outcome.kind == REFUSED:
            logger.info("notify: notice %s refused: %s", notice.id, outcome.detail)
            return {"state": "refused", "last_error": outcome.detail[:200]}
        if (now - notice.created_at).total_seconds() > self.backoff.give_up_s:
            logger.warning("notify: notice %s given up: %s", notice.id, outcome.detail)
            return {"state": "failed", "last_error": f"gave up: {outcome.detail}"[:200]}
        wait = max(outcome.after, self.backoff.delay(notice.attempts))
        return {
            "state": "pending",
            "next_attempt_at": now + timedelta(seconds=wait),
            "last_error": outcome.detail[:200],
        }

    async def _record(self, notice: Notice, outcome: Outcome) -> None:
        """Queues the outcome; :meth:`_flush` writes the queue in one transaction."""
        if outcome.kind == SENT:
            self.delivered += 1
        self._outcomes.append((notice.id, self._outcome_values(notice, outcome)))
        if len(self._outcomes) >= self.flush_every:
            await self._flush()

    async def _flush(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        if outcomes:
            await asyncio.to_thread(self.outbox.finish_many, outcomes)
