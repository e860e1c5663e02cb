"""The events endpoint refuses forged, replayed, stale and malformed events, with a reason."""

from __future__ import annotations

import json
import time

import aiohttp
import pytest

from desk.dossiers import DossierStore
from desk.outbox import STATES
from notify.events import EventError, parse_event
from notify.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, check, signature
from tests.notifications.conftest import (
    CODE,
    KEY,
    event,
    make_sender,
    post_event,
    running,
    signed,
)


async def test_forged_replayed_stale_and_malformed_events_are_refused(db, follows, outbox):
    follows.follow(CODE, "telegram", "1", "vi")
    before = DossierStore(db).get(CODE).status
    async with running(db, make_sender(db, {})) as (url, http, _):
        # a forged signature (another key)
        status, body = await post_event(http, url, event("done"), key=b"not-the-key")
        assert status == 401 and body["error"] == "bad signature"
        # no signature at all
        async with http.post(url, json=event("done")) as resp:
            assert resp.status == 401 and "missing" in (await resp.json())["error"]
        # a body changed after signing
        raw, headers = signed(event("done"))
        async with http.post(url, data=raw.replace(b"done", b"returned"), headers=headers) as r:
            assert r.status == 401
        # a timestamp 10 minutes old, correctly signed
        status, body = await post_event(http, url, event("done"), timestamp=int(time.time()) - 600)
        assert status == 401 and "stale" in body["error"]
        # malformed events: 400 with the reason
        for bad, reason in (
            ({**event("done"), "status": "overdue"}, "'status'"),
            ({**event("done"), "code": "garbage"}, "'code'"),
            ({**event("done"), "event_id": ""}, "'event_id'"),
            ({**event("done"), "at": "yesterday"}, "'at'"),
            ({**event("done"), "phone": "0912345678"}, "unknown fields"),
        ):
            status, body = await post_event(http, url, bad)
            assert status == 400 and reason in body["error"], body
        raw = b"{not json"
        headers = {
            TIMESTAMP_HEADER: str(int(time.time())),
            SIGNATURE_HEADER: signature(KEY, int(time.time()), raw),
        }
        async with http.post(url, data=raw, headers=headers) as resp:
            assert resp.status == 400
        # an unknown dossier
        status, body = await post_event(http, url, event("done", code="000.00.20.H26-251101-9999"))
        assert status == 404
        assert DossierStore(db).get(CODE).status == before
        assert sum(outbox.counts().values()) == 0
        # a good event once, then its replay
        good = event("done")
        assert (await post_event(http, url, good))[0] == 200
        status, body = await post_event(http, url, good)
        assert status == 409 and "replay" in body["error"]
        # too large
        big = {**event("done"), "note": "x" * 20000}
        status, _ = await post_event(http, url, big)
        assert status == 413
        async with http.get(url.replace("/dossiers/events", "/health")) as resp:
            health = await resp.json()
            assert resp.status == 200 and set(health["outbox"]) == set(STATES)
    assert sum(outbox.counts().values()) == 1  # only the good event's notice


def test_signature_covers_the_timestamp():
    body = json.dumps(event("done")).encode()
    now = int(time.time())
    good = signature(KEY, now, body)
    assert check(KEY, str(now), good, body, now=now, max_skew_s=300) is None
    assert check(KEY, str(now + 1), good, body, now=now, max_skew_s=300) == "bad signature"
    assert "stale" in check(KEY, str(now), good, body, now=now + 301, max_skew_s=300)


def test_an_older_event_than_the_last_change_changes_nothing(db):
    from notify.events import EventIntake

    intake = EventIntake(db, DossierStore(db))
    first = parse_event({"event_id": "a", "code": CODE, "status": "done"})
    intake.apply(first)
    late = parse_event(
        {"event_id": "b", "code": CODE, "status": "in_progress", "at": "2025-11-05T08:00:00+07:00"}
    )
    assert intake.apply(late)["outcome"] == "stale"
    assert DossierStore(db).get(CODE).status == "done"
    assert intake.seen("b")


def test_events_without_an_offset_are_vietnam_time():
    parsed = parse_event(
        {"event_id": "x", "code": CODE, "status": "done", "at": "2026-12-07T09:30:00"}
    )
    assert parsed.at.isoformat() == "2026-12-07T02:30:00"
    with pytest.raises(EventError) as err:
        parse_event({"event_id": "x", "code": CODE, "status": "done", "urgent": "yes"})
    assert err.value.status == 400


async def test_simulate_signs_what_the_endpoint_accepts(db, tmp_path, monkeypatch):
    from notify import cli

    monkeypatch.setenv("MOTCUA_NOTIFY_SECRET", KEY.decode())
    monkeypatch.setenv("MOTCUA_HOME", str(tmp_path))
    async with running(db, make_sender(db, {})) as (url, http, _):
        import argparse
        import asyncio

        args = argparse.Namespace(
            code=CODE, status="returned", urgent=False, note="", url=url, print=False
        )
        assert await asyncio.to_thread(cli.cmd_simulate, args) == 0
    assert DossierStore(db).get(CODE).status == "returned"
    assert isinstance(aiohttp.ClientSession, type)
