"""The runner's pieces that need no servers: fingerprints, endpoints, credentials."""

import pytest
import yaml

from bot.runner import (
    channel_credentials,
    store_endpoints,
    training_fingerprint,
    write_credentials,
    write_endpoints,
)


def test_fingerprint_is_stable():
    assert training_fingerprint() == training_fingerprint()
    assert len(training_fingerprint()) == 12


def test_embedded_defaults_need_no_store_and_log_conversations_in_process():
    assert store_endpoints({}) == {"event_broker": {"type": "bot.events.ConversationLogBroker"}}


def test_cluster_urls_become_rasa_sections():
    sections = store_endpoints(
        {
            "MOTCUA_TRACKER_STORE_URL": "postgresql://motcua:p%40ss@db.internal:5433/motcua",
            "MOTCUA_LOCK_STORE_URL": "redis://:secret@cache.internal:6380/2",
            "MOTCUA_EVENT_BROKER_URL": "amqp://rabbit:pw@mq.internal/",
        }
    )
    assert sections["tracker_store"] == {
        "type": "SQL",
        "dialect": "postgresql",
        "url": "db.internal",
        "port": 5433,
        "db": "motcua",
        "username": "motcua",
        "password": "p@ss",
    }
    assert sections["lock_store"]["url"] == "cache.internal"
    assert (sections["lock_store"]["port"], sections["lock_store"]["db"]) == (6380, 2)
    assert sections["lock_store"]["password"] == "secret"
    assert sections["event_broker"]["port"] == 5672
    assert sections["event_broker"]["queues"] == ["motcua_events"]
    assert sections["event_broker"]["exchange_name"] == "motcua_events"  # not Rasa's shared one


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("MOTCUA_TRACKER_STORE_URL", "mysql://x/y"),
        ("MOTCUA_LOCK_STORE_URL", "memcached://x"),
        ("MOTCUA_EVENT_BROKER_URL", "kafka://x"),
    ],
)
def test_wrong_schemes_are_refused(key, value):
    with pytest.raises(ValueError, match=key):
        store_endpoints({key: value})


def test_written_endpoints_keep_the_project_file_and_add_ours(tmp_path):
    path = tmp_path / "endpoints.yml"
    write_endpoints(path, "http://127.0.0.1:6055/webhook", {"MOTCUA_LOCK_STORE_URL": "redis://r"})
    written = yaml.safe_load(path.read_text())
    assert written["action_endpoint"]["url"] == "http://127.0.0.1:6055/webhook"
    assert written["lock_store"]["type"] == "bot.locks.AtomicRedisLockStore"
    assert path.stat().st_mode & 0o077 == 0  # may hold passwords


def test_credentials_enable_channels_from_the_environment(tmp_path):
    assert set(channel_credentials({})) == {
        "connectors.rest.RestInput",
        "connectors.webchat.WebchatInput",
    }
    env = {"MOTCUA_TELEGRAM_TOKEN": "1:x", "MOTCUA_TELEGRAM_SECRET": "s"}
    names = write_credentials(tmp_path / "credentials.yml", env)
    assert names == ["rest", "webchat", "telegram"]
    written = yaml.safe_load((tmp_path / "credentials.yml").read_text())
    assert written["connectors.telegram.TelegramInput"]["token"] == "1:x"
