"""Conversation events into the conversation log, off the answer path.

Two ways, one destination (:class:`desk.conversations.ConversationLog`):

* Embedded defaults: ``motcua run`` configures :class:`ConversationLogBroker` as Rasa's
  event broker. ``publish`` only puts the event on a queue; a background thread writes
  batches to the database, so a slow or dead database never delays an answer (events
  wait in memory, bounded, and are written when it is back).
* Production: Rasa's own RabbitMQ (pika) broker publishes persistent messages to a
  durable queue, and ``python -m bot.events consume`` (``motcua events consume``) writes
  them. A message is acknowledged only after its batch is committed, so a restart of
  RabbitMQ, of the database or of the consumer loses nothing: unacknowledged messages
  are delivered again and :meth:`ConversationLog.ingest` skips what it already has.

Usage: ``python -m bot.events consume [--url amqp://...] [--queue motcua_events]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import queue
import signal
import sys
import threading
import time
from asyncio import AbstractEventLoop
from collections import deque
from collections.abc import Callable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.utils.endpoints import EndpointConfig

from desk.conversations import ConversationLog
from infra.privacy import install_log_filter
from infra.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_QUEUE = "motcua_events"
MAX_PENDING = 50_000
"""Events kept in memory while the database is unreachable (oldest dropped first, logged)."""


class LogWriter:
    """A background thread that writes queued events to the conversation log in batches.

    Args:
        log: Where events go.
        batch: At most this many events per transaction.
        retry_s: Wait between attempts while the database is unreachable.
    """

    def __init__(self, log: ConversationLog, batch: int = 500, retry_s: float = 1.0) -> None:
        self.log = log
        self.batch = batch
        self.retry_s = retry_s
        self.dropped = 0
        self.written = 0
        self.set_aside = 0
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._pending: deque[dict[str, Any]] = deque()
        self._thread = threading.Thread(target=self._loop, name="conversation-log", daemon=True)
        self._thread.start()

    def put(self, event: dict[str, Any]) -> None:
        """Queues one event (never blocks)."""
        self._queue.put(event)

    def _take(self, timeout: float) -> bool:
        """Moves queued events to the pending batch; returns False once closed."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            return True
        open_ = True
        while True:
            if item is None:
                open_ = False
            else:
                self._pending.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
        while len(self._pending) > MAX_PENDING:
            self._pending.popleft()
            self.dropped += 1
        return open_

    def _write(self) -> bool:
        while self._pending:
            batch = [self._pending[i] for i in range(min(self.batch, len(self._pending)))]
            try:
                self.log.ingest(batch)
            except Exception as exc:
                if not self.log.reachable():  # the database is down: keep them, try later
                    logger.warning(
                        "conversation log unavailable (%s); %d events wait",
                        exc,
                        len(self._pending),
                    )
                    return False
                try:
                    self._one_by_one(batch)  # the database is up: an event is bad
                except Exception:
                    return False  # written ones are skipped on retry (event keys)
            for _ in batch:
                self._pending.popleft()
            self.written += len(batch)
        return True

    def _one_by_one(self, batch: list[dict[str, Any]]) -> None:
        """Writes a failed batch event by event, setting aside the ones the log refuses."""
        for event in batch:
            try:
                self.log.ingest([event])
            except Exception as exc:
                if not self.log.reachable():
                    raise  # the database went away meanwhile: retry the batch later
                self.set_aside += 1
                reason = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                logger.error("conversation log: event set aside (%s)", reason[:200])
                try:
                    self.log.set_aside(event, reason)
                except Exception:  # counted in this process and logged; nothing more to do
                    logger.exception("conversation log: could not record a set-aside event")

    def _loop(self) -> None:
        open_ = True
        while open_ or self._pending:
            open_ = self._take(0.2) and open_
            if not self._write():
                if not open_:
                    logger.error("conversation log: %d events not written", len(self._pending))
                    return
                time.sleep(self.retry_s)

    def close(self, timeout: float = 10.0) -> None:
        """Writes what is queued and stops the thread."""
        self._queue.put(None)
        self._thread.join(timeout)


class ConversationLogBroker(EventBroker):
    """Rasa event broker of the embedded defaults: events go to the SQL conversation log.

    Configured in ``endpoints.yml`` as ``event_broker: {type: bot.events.ConversationLogBroker}``
    (optionally with ``url: <SQLAlchemy URL>``; default ``MOTCUA_DATABASE_URL``).

    Args:
        url: The database of the conversation log.
    """

    def __init__(self, url: str) -> None:
        self.writer = LogWriter(ConversationLog(url))

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> ConversationLogBroker:
        """Builds the broker from its ``endpoints.yml`` section."""
        url = (broker_config.url if broker_config else None) or get_settings().database_url
        return cls(url)

    def publish(self, event: dict[str, Any]) -> None:
        """Queues one event for the background writer (returns at once)."""
        self.writer.put(event)

    async def close(self) -> None:
        """Writes the queued events before Rasa stops."""
        await asyncio.get_running_loop().run_in_executor(None, self.writer.close)


# --- publishing to RabbitMQ ------------------------------------------------------------


class RetryingPikaEventBroker(PikaEventBroker):
    """Rasa's RabbitMQ broker, made to keep every event, in order, through broken connections.

    Rasa 3.6's ``PikaEventBroker`` publishes each event from a task of its own and keeps the
    ones that fail for the connection's reconnect callback, which fires before the channel
    is back: those publishes fail again and wait for the next reconnect (a probe that
    force-closed the connections twice under load lost 74 of 100 turns), and the events of
    one conversation can reach RabbitMQ out of order (a stalled publish lands after later
    ones). Here one sender task publishes the queued events strictly one after another,
    and an event that fails stays at the head of the queue and is tried again every second.

    Configured as ``event_broker: {type: bot.events.RetryingPikaEventBroker, url, port,
    username, password, queues, exchange_name}`` (``MOTCUA_EVENT_BROKER_URL``; written by
    :mod:`bot.render`).
    """

    RETRY_S = 1.0

    async def connect(self) -> None:
        """Connects (see Rasa's broker) and starts the sender task."""
        await super().connect()
        self._wakeup = asyncio.Event()
        self._sender = asyncio.get_running_loop().create_task(self._send_in_order())

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        """Queues ``event`` for the sender task (returns at once)."""
        self._unpublished_events.append(event)
        self._wakeup.set()

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        """Wakes the sender when the connection is back (it publishes in order)."""
        self._wakeup.set()

    async def _send_in_order(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._unpublished_events:
                event = self._unpublished_events[0]
                try:
                    await asyncio.wait_for(
                        self._exchange.publish(self._message(event, None), ""), timeout=5
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    logger.warning(
                        "RabbitMQ publish failing (%s); %d events kept, in order",
                        exc.__class__.__name__,
                        len(self._unpublished_events),
                    )
                    await asyncio.sleep(self.RETRY_S)
                    continue
                self._unpublished_events.popleft()

    async def close(self) -> None:
        """Publishes what is queued (for up to 5 s), then closes the connection."""
        deadline = time.monotonic() + 5
        while self._unpublished_events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        sender = getattr(self, "_sender", None)
        if sender is not None:
            sender.cancel()
        await super().close()


# --- the RabbitMQ consumer ------------------------------------------------------------


async def consume(
    url: str,
    queue_name: str,
    log: ConversationLog,
    stop: asyncio.Event,
    *,
    batch: int = 200,
    linger_s: float = 0.2,
    retry_s: float = 1.0,
    connection_name: str = "motcua events consumer",
) -> int:
    """Reads the broker's queue into the conversation log until ``stop`` is set.

    Messages are acknowledged after the batch holding them is committed; when RabbitMQ
    or the database goes away the consumer waits and reconnects, and the unacknowledged
    messages come again (ingest is idempotent).

    Args:
        url: AMQP URL (``amqp://guest:guest@127.0.0.1:5672/``).
        queue_name: The durable queue Rasa's pika broker publishes to.
        log: Where events go.
        stop: Set it to stop after the current batch.
        batch: At most this many messages per transaction.
        linger_s: How long to wait for more messages before writing a partial batch.
        retry_s: First wait before reconnecting (doubles up to 10 s).
        connection_name: How the connection is named in RabbitMQ's management tools.

    Returns:
        How many events were written.
    """
    import aio_pika

    written = 0
    wait = retry_s
    while not stop.is_set():
        try:
            connection = await aio_pika.connect(_named(url, connection_name), timeout=5)
        except Exception as exc:
            logger.warning("RabbitMQ unreachable at %s (%s); retrying", _safe(url), exc)
            await _sleep(stop, wait)
            wait = min(wait * 2, 10.0)
            continue
        lost = asyncio.Event()
        connection.close_callbacks.add(_setter(lost))
        try:
            async with connection:
                channel = await connection.channel()
                channel.close_callbacks.add(_setter(lost))
                await channel.set_qos(prefetch_count=batch * 2)
                amqp_queue = await channel.declare_queue(queue_name, durable=True)
                logger.info("consuming %s from %s", queue_name, _safe(url))
                wait = retry_s
                written += await _drain(amqp_queue, log, stop, batch, linger_s, lost)
        except Exception as exc:
            if stop.is_set():
                break
            logger.warning("RabbitMQ connection lost (%s); reconnecting", exc)
            await _sleep(stop, wait)
            wait = min(wait * 2, 10.0)
    return written


async def _drain(amqp_queue, log, stop, batch, linger_s, lost: asyncio.Event) -> int:
    """Buffers delivered messages and writes them every ``linger_s`` (or per ``batch``)."""
    written = 0
    buffer: list[Any] = []
    full = asyncio.Event()

    async def on_message(message) -> None:
        buffer.append(message)
        if len(buffer) >= batch:
            full.set()

    await amqp_queue.consume(on_message)
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(full.wait(), timeout=linger_s)
        full.clear()
        if lost.is_set():
            raise ConnectionError("connection closed by RabbitMQ")
        if not buffer:
            continue
        messages = buffer[:]
        del buffer[: len(messages)]
        events = []
        for message in messages:
            try:
                events.append(json.loads(message.body))
            except ValueError:
                logger.warning("dropping a malformed event message (%d bytes)", len(message.body))
        await loop.run_in_executor(None, log.ingest, events)
        if lost.is_set():  # the deliveries are gone with the channel; they come again
            raise ConnectionError("connection closed by RabbitMQ")
        # One ack for the whole batch; a channel that died meanwhile must not hang us.
        await asyncio.wait_for(messages[-1].ack(multiple=True), timeout=5)
        written += len(events)
    return written


def _named(url: str, name: str) -> str:
    """Returns ``url`` with ``?name=`` (the connection's name in RabbitMQ), unless it has one."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("name", name)
    return urlunsplit(parts._replace(query=urlencode(query)))


def _setter(event: asyncio.Event) -> Callable[..., None]:
    """Returns a close callback that sets ``event`` (whatever aio-pika passes it)."""

    def callback(*_: Any) -> None:
        event.set()

    return callback


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


def _safe(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}:{parts.port or 5672}{parts.path}"


def run_consumer(url: str | None = None, queue_name: str | None = None) -> int:
    """Runs the consumer until SIGINT/SIGTERM; returns an exit status."""
    url = url or os.environ.get("MOTCUA_EVENT_BROKER_URL")
    if not url:
        print(
            "events consume: set MOTCUA_EVENT_BROKER_URL (amqp://user:pass@host:5672/)",
            file=sys.stderr,
        )
        return 2
    queue_name = queue_name or os.environ.get("MOTCUA_EVENT_QUEUE") or DEFAULT_QUEUE
    log = ConversationLog(get_settings().database_url)

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        written = await consume(url, queue_name, log, stop)
        logger.info("consumer stopped; %d events written", written)
        return 0

    return asyncio.run(main())


def main(argv: list[str] | None = None) -> int:
    """``python -m bot.events consume``: the RabbitMQ → conversation log consumer."""
    parser = argparse.ArgumentParser(prog="python -m bot.events")
    sub = parser.add_subparsers(dest="command", required=True)
    consume_parser = sub.add_parser("consume", help="write RabbitMQ's conversation events")
    consume_parser.add_argument("--url", help="AMQP URL (default MOTCUA_EVENT_BROKER_URL)")
    consume_parser.add_argument(
        "--queue", help=f"queue (default MOTCUA_EVENT_QUEUE, {DEFAULT_QUEUE})"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_filter()
    logging.getLogger("aio_pika").setLevel(logging.WARNING)
    logging.getLogger("aiormq").setLevel(logging.WARNING)
    return run_consumer(args.url, args.queue)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
