"""Notices end to end: a real notifier (aiohttp), real stores on SQLite, fake platforms."""

from __future__ import annotations

import json
import time
from contextlib import asynccontextmanager
from datetime import date, datetime

import aiohttp
import pytest

from connectors.zalo.api import ZaloApi
from connectors.zalo.tokens import ZaloTokens, open_token_store
from desk.demo import demo_dossiers, seed_demo
from desk.dossiers import DossierStore
from desk.follows import FollowStore
from desk.outbox import Outbox
from infra.db import Database
from notify.channels import TelegramSender, ZaloSender
from notify.events import EventIntake
from notify.sender import Backoff, Sender
from notify.server import Notifier
from notify.signing import signed_headers
from tests.auxil.fake_telegram import FakeTelegram
from tests.auxil.fake_zalo import FakeZalo

CODE = "000.00.20.H26-251103-0042"
OTHER = demo_dossiers(date.today())[1][0].code
"""A second demo dossier (its code follows today's date)."""
KEY = b"test-event-key"
FAST = Backoff(base_s=0.05, max_s=0.3, give_up_s=3600)
"""The production backoff (5 s doubling to 15 min) shrunk so an outage fits in a test."""


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/notices.db")
    seed_demo(DossierStore(database))
    yield database
    database.dispose()


@pytest.fixture
def follows(db):
    return FollowStore(db)


@pytest.fixture
def outbox(db):
    return Outbox(db)


@pytest.fixture
async def telegram():
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def zalo():
    async with FakeZalo() as fake:
        yield fake


def channels_for(tg: FakeTelegram, zl: FakeZalo, tmp_path) -> dict:
    """The notifier's Telegram and Zalo senders, pointed at the fakes."""
    tokens = ZaloTokens(
        zl.app_id, zl.access_token, zl.refresh_token, open_token_store(str(tmp_path / "z.json"))
    )
    api = ZaloApi(zl.app_id, zl.app_secret, tokens, zl.url, zl.url, timeout=2.0)
    return {"telegram": TelegramSender(tg.token, tg.api_base_url), "zalo": ZaloSender(api)}


def make_sender(db, channels, **kwargs) -> Sender:
    kwargs.setdefault("backoff", FAST)
    kwargs.setdefault("idle_s", 0.02)
    kwargs.setdefault("rates", {"telegram": 1000, "zalo": 1000})
    return Sender(Outbox(db), channels, **kwargs)


@asynccontextmanager
async def running(db, sender: Sender, *, clock=time.time):
    """A started notifier on a free port; yields (events URL, HTTP session, notifier)."""
    notifier = Notifier(
        db=db,
        key=KEY,
        sender=sender,
        port=0,
        intake=EventIntake(db, DossierStore(db)),
    )
    await notifier.start()
    try:
        async with aiohttp.ClientSession() as http:
            yield f"http://127.0.0.1:{notifier.port}/dossiers/events", http, notifier
    finally:
        await notifier.stop()


def event(status: str, *, code: str = CODE, event_id: str | None = None, **more) -> dict:
    return {
        "event_id": event_id or f"ev-{status}-{time.monotonic_ns()}",
        "code": code,
        "status": status,
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
        **more,
    }


def signed(payload: dict, *, key: bytes = KEY, timestamp: int | None = None):
    body = json.dumps(payload).encode("utf-8")
    return body, signed_headers(key, body, int(time.time()) if timestamp is None else timestamp)


async def post_event(http, url, payload: dict, **kwargs) -> tuple[int, dict]:
    body, headers = signed(payload, **kwargs)
    async with http.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def until(predicate, timeout: float = 10.0, step: float = 0.02) -> None:
    """Waits until ``predicate()`` is true."""
    import asyncio

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(step)
