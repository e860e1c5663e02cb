"""The same code as a cluster: PostgreSQL tracker store, Redis lock store, RabbitMQ broker.

Real services (127.0.0.1: PostgreSQL 5432, Redis 6379, RabbitMQ 5672). A conversation
survives a restart of the servers because its tracker lives in PostgreSQL, and its
events reach RabbitMQ.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid

import pytest
import sqlalchemy as sa

from tests.bot.test_e2e import Process, _env, free_port, post, texts
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = pytest.mark.slow


@pytest.fixture
def database():
    """A fresh PostgreSQL database for the tracker store, dropped afterwards."""
    name = f"motcua_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        reason = f"PostgreSQL is not running: {exc.__class__.__name__}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    url = sa.engine.make_url(POSTGRES_ADMIN_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


async def _amqp(work):
    import aio_pika

    connection = await aio_pika.connect_robust(AMQP_URL)
    try:
        channel = await connection.channel()
        return await work(channel)
    finally:
        await connection.close()


@pytest.fixture
def queue():
    """A RabbitMQ queue name, deleted afterwards."""
    name = f"motcua_test_{uuid.uuid4().hex[:10]}"
    yield name
    asyncio.run(_amqp(lambda channel: channel.queue_delete(name)))


def _drain(queue_name: str) -> list[dict]:
    async def work(channel) -> list[dict]:
        queue = await channel.declare_queue(queue_name, durable=True)
        events = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            events.append(json.loads(message.body))
        return events

    return asyncio.run(_amqp(work))


def test_conversation_survives_a_restart_and_events_reach_rabbitmq(tmp_path, database, queue):
    rasa_port, actions_port = free_port(), free_port()
    env = _env(
        tmp_path,
        MOTCUA_RASA_PORT=str(rasa_port),
        MOTCUA_ACTIONS_PORT=str(actions_port),
        MOTCUA_TRACKER_STORE_URL=database,
        MOTCUA_LOCK_STORE_URL="redis://127.0.0.1:6379/3",
        MOTCUA_EVENT_BROKER_URL=AMQP_URL,
        MOTCUA_EVENT_QUEUE=queue,
    )
    url = f"http://127.0.0.1:{rasa_port}/webhooks/rest/webhook"
    sender = f"cluster-{uuid.uuid4().hex[:6]}"

    first = Process([sys.executable, "-m", "bot.cli", "run"], env)
    try:
        first.wait_for("motcua: ready.", 1200)
        _, reply = post(url, {"sender": sender, "message": "làm hộ chiếu cần giấy tờ gì"})
        assert "1.001456" in texts(reply), reply
    finally:
        assert first.stop() == 0

    engine = sa.create_engine(database, future=True)
    with engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}
        ).scalar()
    engine.dispose()
    assert stored > 0

    second = Process([sys.executable, "-m", "bot.cli", "run"], env)
    try:
        second.wait_for("motcua: ready.", 600)
        _, reply = post(url, {"sender": sender, "message": "het bao nhieu tien"})
        # The current procedure came back from PostgreSQL: the follow-up is about it.
        assert "1.001456" in texts(reply) and "200.000" in texts(reply), reply
    finally:
        assert second.stop() == 0

    events = _drain(queue)
    user_texts = [e.get("text") for e in events if e.get("event") == "user"]
    assert "làm hộ chiếu cần giấy tờ gì" in user_texts
    assert "het bao nhieu tien" in user_texts
    assert {e.get("sender_id") for e in events} == {sender}
