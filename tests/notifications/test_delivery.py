"""Follow → signed status event → one notice per follower, through the fake Telegram and Zalo."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import datetime, timedelta

from desk.dossiers import DossierStore
from desk.outbox import CANCELLED, HELD, REFUSED, SENT, WAITING
from notify.events import EventIntake, parse_event
from notify.sender import QuietHours
from tests.notifications.conftest import (
    CODE,
    OTHER,
    channels_for,
    event,
    make_sender,
    post_event,
    running,
    until,
)


async def test_each_follower_gets_exactly_one_notice_in_their_language(
    db, follows, outbox, telegram, zalo, tmp_path
):
    follows.follow(CODE, "telegram", "1001", "vi")
    follows.follow(CODE, "telegram", "1002", "en")
    follows.follow(CODE, "zalo", "z-2001", "en")
    follows.follow(CODE, "webchat", "w-3001", "vi")
    follows.follow(OTHER, "telegram", "1003", "vi")  # another dossier: nothing for it
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    async with running(db, sender) as (url, http, _):
        status, body = await post_event(http, url, event("done"))
        assert status == 200 and body["outcome"] == "changed"
        await until(lambda: len(telegram.accepted) == 2 and len(zalo.sent) == 1)
        # the same status again (a new event id): no second notice
        status, body = await post_event(http, url, event("done"))
        assert status == 200 and body["outcome"] == "unchanged"
        await asyncio.sleep(0.3)
    by_chat = {p["chat_id"]: p["text"] for p in telegram.accepted}
    assert set(by_chat) == {1001, 1002}
    assert "vừa chuyển sang trạng thái: Đã có kết quả" in by_chat[1001]
    assert "has moved to: Completed, result ready" in by_chat[1002]
    assert CODE in by_chat[1001] and CODE in by_chat[1002]
    assert zalo.sent[0].recipient == {"user_id": "z-2001"}
    assert "has moved to" in zalo.sent[0].text
    dossier = DossierStore(db).get(CODE)
    for text in (*by_chat.values(), zalo.sent[0].text):  # the bare status, nothing more
        assert dossier.agency not in text and dossier.procedure_name not in text
        assert dossier.applicant_phone not in text
    counts = outbox.counts()
    assert counts[SENT] == 3 and counts[WAITING] == 1  # the widget's waits for its page
    pulled = outbox.pull("webchat", "w-3001")
    assert [(n.dossier_code, n.status, n.language) for n in pulled] == [(CODE, "done", "vi")]
    assert outbox.pull("webchat", "w-3001") == []


async def test_an_outage_then_recovery_delivers_every_notice_once(
    db, follows, outbox, telegram, zalo, tmp_path
):
    chats = [str(5000 + n) for n in range(20)]
    for chat in chats:
        follows.follow(CODE, "telegram", chat, "vi")
    follows.follow(CODE, "zalo", "z-1", "vi")
    # both platforms fail for 2 s (a minute, with the backoff shrunk to match)
    telegram.down_until = zalo.down_until = time.monotonic() + 2.0
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    async with running(db, sender) as (url, http, _):
        status, _ = await post_event(http, url, event("needs_more_documents"))
        assert status == 200
        await until(lambda: len(telegram.accepted) == 20 and len(zalo.sent) == 1, timeout=20)
        await asyncio.sleep(0.5)  # nothing more comes
    failed_tries = len(telegram.called("sendMessage")) - len(telegram.accepted)
    assert failed_tries >= 20  # every notice met the outage at least once
    assert Counter(str(p["chat_id"]) for p in telegram.accepted) == Counter(chats)
    assert len(zalo.sent) == 1
    assert outbox.counts()[SENT] == 21


async def test_a_restart_between_write_and_send_delivers_once(
    db, follows, outbox, telegram, zalo, tmp_path
):
    follows.follow(CODE, "telegram", "7001", "vi")
    follows.follow(CODE, "telegram", "7002", "en")
    # the event is stored while no sender runs (the notifier died right after the write)
    intake = EventIntake(db, DossierStore(db))
    intake.apply(parse_event(event("done")))
    # a sender claims both, then dies before sending or recording anything
    claimed = outbox.claim(10, lease_s=0.3)
    assert len(claimed) == 2
    await asyncio.sleep(0.4)  # its lease runs out
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    async with running(db, sender):
        await until(lambda: len(telegram.accepted) == 2)
        await asyncio.sleep(0.4)
    assert sorted(p["chat_id"] for p in telegram.accepted) == [7001, 7002]
    assert outbox.counts()[SENT] == 2


async def test_unfollow_means_nothing_more(db, follows, outbox, telegram, zalo, tmp_path):
    follows.follow(CODE, "telegram", "8001", "vi")
    follows.follow(OTHER, "telegram", "8001", "vi")
    follows.follow(CODE, "zalo", "z-8", "vi")
    intake = EventIntake(db, DossierStore(db))
    intake.apply(parse_event(event("needs_more_documents")))  # written, not sent yet
    assert follows.unfollow("telegram", "8001") == [CODE, OTHER]  # "stop": all of them
    assert follows.unfollow("zalo", "z-8", CODE) == [CODE]
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    async with running(db, sender) as (url, http, _):
        await post_event(http, url, event("done"))
        await post_event(http, url, event("done", code=OTHER))
        await until(lambda: outbox.counts()[CANCELLED] == 2)
        await asyncio.sleep(0.3)
    assert telegram.accepted == [] and zalo.sent == []
    assert follows.following("telegram", "8001") == []
    assert all(f.address == "" for f in follows.followers(CODE, active_only=False))


async def test_quiet_hours_hold_non_urgent_notices(db, follows, outbox, telegram, zalo, tmp_path):
    follows.follow(CODE, "telegram", "9001", "vi")
    follows.follow(OTHER, "telegram", "9002", "vi")
    now = [datetime(2026, 12, 7, 15, 30)]  # 22:30 in Vietnam
    sender = make_sender(
        db, channels_for(telegram, zalo, tmp_path), quiet=QuietHours(), clock=lambda: now[0]
    )
    intake = EventIntake(db, DossierStore(db))
    intake.apply(parse_event(event("done")))
    intake.apply(parse_event(event("needs_more_documents", code=OTHER, urgent=True)))
    await sender.run_once()
    assert [p["chat_id"] for p in telegram.accepted] == [9002]  # the urgent one
    assert outbox.counts()[HELD] == 1
    now[0] = datetime(2026, 12, 7, 23, 59)  # 06:59: still quiet
    await sender.run_once()
    assert len(telegram.accepted) == 1
    now[0] += timedelta(minutes=2)  # 07:01
    await sender.run_once()
    assert [p["chat_id"] for p in telegram.accepted] == [9002, 9001]
    await sender.channels["telegram"].close()


async def test_zalo_refusal_outside_the_window_is_recorded_not_repeated(
    db, follows, outbox, telegram, zalo, tmp_path
):
    follows.follow(CODE, "zalo", "z-quiet", "vi")
    follows.follow(OTHER, "zalo", "z-quiet", "vi")
    follows.follow(CODE, "telegram", "4242", "vi")
    telegram.blocked.add(4242)
    zalo.outside_window.add("z-quiet")
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    intake = EventIntake(db, DossierStore(db))
    intake.apply(parse_event(event("done")))
    intake.apply(parse_event(event("done", code=OTHER)))
    await sender.run_once()
    await sender.run_once()
    rows = outbox.rows()
    assert {r["state"] for r in rows} == {REFUSED}
    zalo_rows = [r for r in rows if r["channel"] == "zalo"]
    assert all("-230" in r["last_error"] for r in zalo_rows)
    assert len(zalo.send_attempts) == 1  # the second notice was not even tried
    assert len(telegram.called("sendMessage")) == 1
    assert "blocked" in next(r for r in rows if r["channel"] == "telegram")["last_error"]
    for channel in sender.channels.values():
        await channel.close()


async def test_telegram_rate_limit_is_respected(db, follows, outbox, telegram, zalo, tmp_path):
    follows.follow(CODE, "telegram", "6001", "vi")
    telegram.fail("sendMessage", status=429, retry_after=1)
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    async with running(db, sender) as (url, http, _):
        await post_event(http, url, event("done"))
        await until(lambda: len(telegram.accepted) == 1, timeout=10)
    calls = telegram.called("sendMessage")
    assert len(calls) == 2 and len(telegram.accepted) == 1


async def test_staff_resend_sends_again(db, follows, outbox, telegram, zalo, tmp_path):
    follows.follow(CODE, "telegram", "6101", "vi")
    sender = make_sender(db, channels_for(telegram, zalo, tmp_path))
    EventIntake(db, DossierStore(db)).apply(parse_event(event("done")))
    await sender.run_once()
    [row] = outbox.rows()
    assert row["state"] == SENT
    assert outbox.resend(row["id"]) is True
    await sender.run_once()
    assert len(telegram.accepted) == 2
    await sender.channels["telegram"].close()
