"""Conversation events reach the conversation log: in-process, and through a real RabbitMQ.

RabbitMQ (127.0.0.1:5672) and PostgreSQL (127.0.0.1:5432) are the real services; the
consumer is asked to survive RabbitMQ closing its connection and a database that is not
there yet, and to lose nothing.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid

import pytest
import sqlalchemy as sa
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from bot.events import ConversationLogBroker, LogWriter, consume
from desk.conversations import ConversationLog
from tests.conftest import POSTGRES_ADMIN_URL

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def conversation(sender: str, n: int, t0: float = 1_764_600_000.0) -> list[dict]:
    """``n`` answered turns as Rasa's tracker store publishes them."""
    events = []
    for i in range(n):
        ts = t0 + i * 10
        events += [
            UserUttered(
                f"câu hỏi {i}",
                parse_data={"intent": {"name": "ask_fee", "confidence": 0.9}, "entities": []},
                timestamp=ts,
                input_channel="rest",
            ),
            ActionExecuted("action_answer_procedure", timestamp=ts + 0.01),
            SlotSet("procedure_code", "1.001456", timestamp=ts + 0.01),
            BotUttered(f"trả lời {i}", timestamp=ts + 0.03),
        ]
    return [{"sender_id": sender, **e.as_dict()} for e in events]


def wait_until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


async def test_in_process_broker_writes_off_the_answer_path(tmp_path):
    from rasa.utils.endpoints import EndpointConfig

    url = f"sqlite:///{tmp_path / 'log.db'}"
    broker = await ConversationLogBroker.from_endpoint_config(EndpointConfig(url=url))
    started = time.perf_counter()
    for event in conversation("c1", 50):
        broker.publish(event)
    publish_s = time.perf_counter() - started
    await broker.close()
    turns = ConversationLog(url).transcript("c1")
    assert [t.text for t in turns[:2]] == ["câu hỏi 0", "câu hỏi 1"] and len(turns) == 50
    assert publish_s < 1.0  # 200 publishes only queue; the writes happen on the thread


@pytest.fixture
def missing_pg_database():
    """A PostgreSQL database URL whose database is created only when the test says so."""
    name = f"motcua_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)

    def create() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    yield url.render_as_string(hide_password=False), create
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_writer_keeps_events_while_the_database_is_down(missing_pg_database):
    url, create_database = missing_pg_database
    log = ConversationLog(url)
    writer = LogWriter(log, retry_s=0.2)
    for event in conversation("c2", 3):
        writer.put(event)
    time.sleep(1.0)  # several failed attempts
    assert writer.written == 0
    create_database()
    assert wait_until(lambda: writer.written == 12, 20)
    writer.close()
    assert len(log.transcript("c2")) == 3
    log.dispose()


def close_connections_named(name: str) -> int:
    """Force-closes this test's RabbitMQ connections (only them: the broker is shared)."""
    listed = subprocess.run(
        ["rabbitmqctl", "list_connections", "pid", "client_properties", "-q", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pids = [
        line.split("\t")[0]
        for line in listed.stdout.splitlines()
        if f'{{"connection_name","{name}"}}' in line
    ]
    for pid in pids:
        subprocess.run(
            ["rabbitmqctl", "close_connection", pid, "motcua test: connection lost"],
            capture_output=True,
            timeout=60,
            check=True,
        )
    return len(pids)


async def _publish(queue_name: str, events: list[dict]) -> None:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.declare_queue(queue_name, durable=True)
        for event in events:
            await channel.default_exchange.publish(
                aio_pika.Message(
                    json.dumps(event).encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
                ),
                routing_key=queue_name,
            )


async def _delete_queue(queue_name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue_name)


async def _until(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.fixture
def amqp_queue():
    name = f"motcua_test_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_publish(name, []))
    except Exception as exc:  # RabbitMQ is down
        reason = f"RabbitMQ is not running at {AMQP_URL}: {exc.__class__.__name__}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    yield name
    asyncio.run(_delete_queue(name))


async def test_consumer_catches_up_after_rabbitmq_drops_its_connection(tmp_path, amqp_queue):
    log = ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")
    first, second = conversation("c3", 20), conversation("c3", 20, t0=1_764_700_000.0)
    await _publish(amqp_queue, first)  # waiting in the durable queue before the consumer starts
    stop = asyncio.Event()
    name = f"consumer-{amqp_queue}"
    task = asyncio.create_task(
        consume(AMQP_URL, amqp_queue, log, stop, retry_s=0.2, connection_name=name)
    )
    assert await _until(lambda: log.count() == 20), log.count()

    assert close_connections_named(name) == 1  # what a RabbitMQ restart does to it
    await _publish(amqp_queue, second)
    await _publish(amqp_queue, first[:8])  # a redelivery of events already written

    assert await _until(lambda: log.count() == 40), log.count()
    stop.set()
    written = await asyncio.wait_for(task, 10)
    assert written >= 48
    turns = log.transcript("c3")
    assert len(turns) == 40 and all(t.procedure_code == "1.001456" for t in turns)
    assert turns[-1].text == "câu hỏi 19"


async def test_malformed_messages_are_dropped_not_fatal(tmp_path, amqp_queue):
    import aio_pika

    log = ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.default_exchange.publish(aio_pika.Message(b"{not json"), amqp_queue)
    await _publish(amqp_queue, conversation("c4", 1))
    stop = asyncio.Event()
    task = asyncio.create_task(consume(AMQP_URL, amqp_queue, log, stop))
    assert await _until(lambda: log.count() == 1)
    stop.set()
    await asyncio.wait_for(task, 10)


async def test_publisher_keeps_every_event_through_forced_closes(tmp_path, amqp_queue):
    """Events published while RabbitMQ drops both ends' connections all reach the log.

    (A probe that force-closed every connection on the broker twice under load lost 74 of
    100 turns with Rasa's own PikaEventBroker and none with this one; this test's timing
    does not always reproduce Rasa's loss, it guards the retry path.)
    """
    from rasa.utils.endpoints import EndpointConfig

    from bot.events import RetryingPikaEventBroker

    publisher = f"publisher-{amqp_queue}"
    broker = await RetryingPikaEventBroker.from_endpoint_config(
        EndpointConfig(
            url=f"amqp://127.0.0.1:5672/?name={publisher}",
            username="guest",
            password="guest",
            queues=[amqp_queue],
            exchange_name=amqp_queue,
        )
    )
    log = ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")
    stop = asyncio.Event()
    consumer = f"consumer-{amqp_queue}"
    task = asyncio.create_task(
        consume(AMQP_URL, amqp_queue, log, stop, retry_s=0.2, connection_name=consumer)
    )
    events = [e for i in range(100) for e in conversation(f"p{i}", 1, t0=1_764_600_000.0 + i)]
    try:
        for n, event in enumerate(events):
            broker.publish(event)
            await asyncio.sleep(0.005)
            if n in (100, 200):  # what a RabbitMQ restart does to both ends, twice
                close_connections_named(publisher)
                close_connections_named(consumer)
        assert await _until(lambda: log.count() == 100, 60), log.count()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await broker.close()
    turns = [log.transcript(f"p{i}") for i in range(100)]
    assert all(len(t) == 1 for t in turns)
    # in order: every turn got its own slot and reply, none was folded into another
    assert all(t[0].procedure_code == "1.001456" and t[0].reply == "trả lời 0" for t in turns)


def test_a_message_with_a_lone_surrogate_is_written_and_the_log_goes_on(tmp_path):
    log = ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")
    writer = LogWriter(log, retry_s=0.05)
    bad = conversation("s-bad", 1)
    bad[0]["text"] = "lam ho chieu \ud800\x00 can gi"
    for event in bad + conversation("s-next", 2):
        writer.put(event)
    writer.close()
    assert [t.text for t in log.transcript("s-bad")] == ["lam ho chieu  can gi"]
    assert len(log.transcript("s-next")) == 2
    assert writer.set_aside == 0


def test_an_event_the_log_refuses_is_set_aside_counted_and_the_rest_written(tmp_path):
    log = ConversationLog(f"sqlite:///{tmp_path / 'log.db'}")
    writer = LogWriter(log, retry_s=0.05)
    poison = conversation("s-poison", 1)
    poison[0]["timestamp"] = "not a time"  # refused by the log, whatever the database
    for event in conversation("s-before", 1) + poison + conversation("s-after", 3):
        writer.put(event)
    writer.close()
    assert len(log.transcript("s-before")) == 1
    assert len(log.transcript("s-after")) == 3
    assert writer.set_aside == 1
    assert log.set_aside_count() == 1
    assert log.stats(since=None)["set_aside"] == 1
    # later events keep flowing: the writer did not stop on the bad one
    late = LogWriter(log, retry_s=0.05)
    for event in conversation("s-late", 1):
        late.put(event)
    late.close()
    assert len(log.transcript("s-late")) == 1
