"""Channel memories in a real Redis (127.0.0.1:6379): what one replica remembers, all know."""

from __future__ import annotations

import os

import pytest

from connectors.common.memories import (
    SharedOptionMemory,
    SharedPayloadKeys,
    SharedRecentKeys,
    redis_client,
)
from connectors.common.settings import redis_url as redis_url_from_env
from tests.auxil.fake_zalo import FakeZalo
from tests.connectors.test_zalo import CHOICES, USER, Bot, make_channel, running, text_event

REDIS_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_url():
    client = redis_client(REDIS_URL)
    try:
        client.flushdb()
    except Exception as exc:
        reason = f"Redis is not running at {REDIS_URL}: {exc.__class__.__name__}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
async def fake():
    async with FakeZalo() as server:
        yield server


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path / 'tokens.db'}"


def test_the_redis_url_comes_from_its_own_variable_or_the_lock_store():
    assert redis_url_from_env({}) is None
    assert redis_url_from_env({"MOTCUA_LOCK_STORE_URL": "redis://h/1"}) == "redis://h/1"
    env = {"MOTCUA_LOCK_STORE_URL": "redis://h/1", "MOTCUA_REDIS_URL": "redis://r/2"}
    assert redis_url_from_env(env) == "redis://r/2"


def test_an_id_seen_by_one_replica_is_seen_by_the_other(redis_url):
    a = SharedRecentKeys(redis_client(redis_url), "t:seen")
    b = SharedRecentKeys(redis_client(redis_url), "t:seen")
    assert a.seen(42) is False
    assert b.seen(42) is True and a.seen(42) is True
    assert b.seen(43) is False


def test_options_offered_by_one_replica_are_taken_once_by_another(redis_url):
    a = SharedOptionMemory(redis_client(redis_url), "z:options")
    b = SharedOptionMemory(redis_client(redis_url), "z:options")
    a.offer("u1", ["/p1", "/p2"])
    assert b.take("u1") == ["/p1", "/p2"]
    assert a.take("u1") == [] and b.take("someone-else") == []


def test_long_payload_keys_resolve_on_every_replica_and_after_a_restart(redis_url):
    long_payload = '/choose_procedure{"procedure_code":"1.001193","note":"' + "x" * 80 + '"}'
    a = SharedPayloadKeys(redis_client(redis_url), "t:payloads")
    key = a.callback_data(long_payload)
    assert key.startswith("p:") and len(key.encode()) <= 64
    assert a.callback_data(long_payload) == key
    restarted = SharedPayloadKeys(redis_client(redis_url), "t:payloads")
    assert restarted.payload(key) == long_payload
    assert restarted.payload("p:unknown") is None
    assert restarted.callback_data("/feedback") == "/feedback" == restarted.payload("/feedback")


def test_a_dead_redis_falls_back_to_the_process_memory():
    dead = redis_client("redis://127.0.0.1:1/0")
    seen = SharedRecentKeys(dead, "t:seen")
    assert seen.seen("x") is False and seen.seen("x") is True
    options = SharedOptionMemory(dead, "z:options")
    options.offer("u", ["/a"])
    assert options.take("u") == ["/a"]
    keys = SharedPayloadKeys(dead, "t:payloads")
    key = keys.callback_data("/" + "y" * 100)
    assert keys.payload(key) == "/" + "y" * 100


async def test_zalo_options_and_retries_work_across_two_replicas(fake, store_url, redis_url):
    bot = Bot()
    replica_a = make_channel(fake, store_url, redis_url=redis_url)
    replica_b = make_channel(fake, store_url, redis_url=redis_url)
    async with running(replica_a, bot) as post_a, running(replica_b, bot) as post_b:
        assert (await post_a(text_event("hộ chiếu", "m1")))[0] == 200
        await fake.wait_for_messages(1)
        assert (await post_b(text_event("hộ chiếu", "m1")))[0] == 200  # Zalo's retry, elsewhere
        await post_b(text_event("2", "m2"))  # the digit reaches the other replica
        await fake.wait_for_messages(2)
    assert bot.texts == ["hộ chiếu", CHOICES[1]["payload"]]
    assert bot.received[1].sender_id == USER


def test_channels_use_redis_when_the_environment_names_one(redis_url, store_url):
    from connectors import telegram, zalo

    env = {
        "MOTCUA_TELEGRAM_TOKEN": "123:abc",
        "MOTCUA_TELEGRAM_SECRET": "s3cret",
        "MOTCUA_LOCK_STORE_URL": redis_url,
    }
    channel = telegram.TelegramInput.from_credentials(telegram.credentials_from_env(env))
    assert isinstance(channel.payloads, SharedPayloadKeys)
    assert isinstance(channel._recent, SharedRecentKeys)
    alone = telegram.TelegramInput.from_credentials(
        telegram.credentials_from_env({k: v for k, v in env.items() if "LOCK" not in k})
    )
    assert not isinstance(alone.payloads, SharedPayloadKeys)
    zalo_env = {
        "MOTCUA_ZALO_APP_ID": "1",
        "MOTCUA_ZALO_APP_SECRET": "s",
        "MOTCUA_ZALO_OA_SECRET": "o",
        "MOTCUA_ZALO_ACCESS_TOKEN": "a",
        "MOTCUA_ZALO_REFRESH_TOKEN": "r",
        "MOTCUA_DATABASE_URL": store_url,
        "MOTCUA_REDIS_URL": redis_url,
    }
    zalo_channel = zalo.ZaloInput.from_credentials(zalo.credentials_from_env(zalo_env))
    assert isinstance(zalo_channel.options, SharedOptionMemory)
    zalo_channel.store.dispose()
