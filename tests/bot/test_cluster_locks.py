"""The lock store several Rasa servers share: tickets issued atomically (real Redis)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import uuid

import pytest

REDIS = {"host": "127.0.0.1", "port": 6379, "db": 6}


@pytest.fixture
def prefix():
    import redis

    client = redis.Redis(**REDIS)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        reason = f"Redis is not running: {exc}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for key in client.scan_iter(f"{name}*"):
        client.delete(key)
    client.close()


def _issue(store_path: str, prefix: str, barrier, conversations, out) -> None:
    from rasa.shared.utils.common import class_from_module_path

    store = class_from_module_path(store_path)(**REDIS, key_prefix=prefix)
    tickets = []
    for conversation in conversations:
        barrier.wait()
        tickets.append(store.issue_ticket(conversation))
    out.put(tickets)


def _duplicates(store_path: str, prefix: str, n: int = 100) -> int:
    """Two processes issue a ticket for the same new conversation at the same moment."""
    conversations = [uuid.uuid4().hex for _ in range(n)]
    context = multiprocessing.get_context("fork")
    barrier, out = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_issue, args=(store_path, prefix, barrier, conversations, out))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    first, second = out.get(timeout=60), out.get(timeout=60)
    for worker in workers:
        worker.join(10)
    return sum(a == b for a, b in zip(first, second, strict=True))


def test_two_servers_never_get_the_same_ticket(prefix):
    assert _duplicates("bot.locks.AtomicRedisLockStore", prefix) == 0


def test_rasas_own_redis_store_does_hand_out_duplicates(prefix):
    # Why the store above exists: Rasa's read-modify-write hands out duplicate tickets.
    assert _duplicates("rasa.core.lock_store.RedisLockStore", prefix + "r") > 0


async def test_messages_of_one_conversation_run_one_at_a_time_in_ticket_order(prefix):
    from bot.locks import AtomicRedisLockStore

    stores = [AtomicRedisLockStore(**REDIS, key_prefix=prefix) for _ in range(2)]
    order: list[str] = []
    running = 0

    async def handle(store, name: str, delay: float) -> None:
        nonlocal running
        await asyncio.sleep(delay)
        async with store.lock("citizen"):
            running += 1
            assert running == 1
            order.append(f"start {name}")
            await asyncio.sleep(0.2)
            order.append(f"end {name}")
            running -= 1

    await asyncio.gather(handle(stores[0], "a", 0), handle(stores[1], "b", 0.01))
    assert order == ["start a", "end a", "start b", "end b"]
    assert stores[0].get_lock("citizen") is None  # released and deleted


def test_rasa_builds_it_from_endpoints(prefix):
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    from bot.locks import AtomicRedisLockStore

    config = EndpointConfig(
        url="127.0.0.1", type="bot.locks.AtomicRedisLockStore", port=6379, db=6,
        key_prefix=prefix,
    )  # fmt: skip
    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.issue_ticket("c") == 0 and store.issue_ticket("c") == 1
    store.cleanup("c", 0)
    store.cleanup("c", 1)
    assert store.get_lock("c") is None
