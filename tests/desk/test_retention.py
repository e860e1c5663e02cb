"""Retention deletes old conversations everywhere they are kept, and nothing newer."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from desk.conversations import ConversationLog
from desk.handoffs import CLAIMED, DONE, HandoffStore
from desk.retention import purge
from infra.privacy import pseudonym

NOW = datetime(2026, 12, 1, 12, 0)


def _user(sender, when):
    ts = (when - datetime(1970, 1, 1)).total_seconds()
    return {"sender_id": sender, "event": "user", "timestamp": ts, "text": "hỏi", "parse_data": {}}


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'motcua.db'}"


def test_purge_deletes_old_turns_and_closed_handoffs_only(url):
    log = ConversationLog(url)
    log.ingest([_user("old", NOW - timedelta(days=40)), _user("new", NOW - timedelta(days=2))])
    handoffs = HandoffStore(url)
    old_done = handoffs.create("old", "rest", now=NOW - timedelta(days=40))
    handoffs.set_status(old_done.id, DONE, now=NOW - timedelta(days=39))
    old_claimed = handoffs.create("old2", "rest", now=NOW - timedelta(days=40))
    handoffs.set_status(old_claimed.id, CLAIMED, claimed_by="lan", now=NOW - timedelta(days=39))

    report = purge(url, 30, now=NOW)

    assert (report.turns, report.handoffs, report.tracker_events) == (1, 1, None)
    assert [t.sender_id for t in log.turns()] == [pseudonym("new")]
    assert [h.id for h in handoffs.list()] == [old_claimed.id]
    assert purge(url, 30, now=NOW).to_dict()["turns"] == 0  # a second run (cron) is a no-op


def test_purge_deletes_old_rasa_tracker_events(url, pg_url):
    engine = sa.create_engine(pg_url, future=True)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE events (id serial primary key, sender_id text, timestamp float)")
        )
        old = (NOW - timedelta(days=91) - datetime(1970, 1, 1)).total_seconds()
        new = (NOW - timedelta(days=1) - datetime(1970, 1, 1)).total_seconds()
        conn.execute(
            sa.text(
                "INSERT INTO events (sender_id, timestamp) VALUES ('a', :o), ('a', :o), ('b', :n)"
            ),
            {"o": old, "n": new},
        )
    report = purge(url, 90, tracker_url=pg_url, now=NOW)
    assert report.tracker_events == 2
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT sender_id FROM events")).scalars().all() == ["b"]
    engine.dispose()


def test_purge_refuses_zero_days(url):
    with pytest.raises(ValueError):
        purge(url, 0, now=NOW)
