"""The lookup limiter: sliding window, shared through SQL, in memory."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from infra.db import StoreUnavailable
from infra.ratelimit import (
    PRUNE_ALL_AFTER_S,
    PRUNE_EVERY,
    Decision,
    MemoryLookupLimiter,
    SqlLookupLimiter,
    make_limiter,
    sender_key,
)

T0 = 1_763_000_000.0


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'motcua.db'}"


@pytest.fixture(params=["memory", "sqlite"])
def limiter(request, sqlite_url):
    if request.param == "memory":
        yield MemoryLookupLimiter(limit=10, window_s=3600)
    else:
        limiter = SqlLookupLimiter(sqlite_url, limit=10, window_s=3600)
        yield limiter
        limiter.dispose()


def test_allows_ten_then_refuses_the_eleventh(limiter):
    decisions = [limiter.check_and_record("user-1", now=T0 + i) for i in range(10)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions] == list(range(9, -1, -1))
    assert all(d.retry_after_s == 0 for d in decisions)
    refused = limiter.check_and_record("user-1", now=T0 + 100)
    assert refused == Decision(allowed=False, retry_after_s=3500, remaining=0)
    # refusals are not recorded: the wait still counts from the first attempt
    assert limiter.check_and_record("user-1", now=T0 + 3599).retry_after_s == 1
    # another sender has its own budget
    assert limiter.check_and_record("user-2", now=T0 + 100).allowed


def test_window_slides(limiter):
    for i in range(10):
        assert limiter.check_and_record("u", now=T0 + i * 60).allowed
    assert not limiter.check_and_record("u", now=T0 + 3599).allowed
    # the first attempt leaves the window at T0 + 3600: exactly one slot frees up
    again = limiter.check_and_record("u", now=T0 + 3600)
    assert again.allowed and again.remaining == 0
    refused = limiter.check_and_record("u", now=T0 + 3601)
    assert not refused.allowed
    assert refused.retry_after_s == 59  # the second attempt (T0 + 60) expires next
    # after a whole quiet window the full budget is back
    fresh = limiter.check_and_record("u", now=T0 + 3600 * 3)
    assert fresh == Decision(allowed=True, retry_after_s=0, remaining=9)


def test_datetime_now_is_accepted():
    limiter = MemoryLookupLimiter(limit=1, window_s=60)
    at = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
    assert limiter.check_and_record("u", now=at).allowed
    assert limiter.check_and_record("u", now=at.timestamp() + 30).retry_after_s == 30


def test_two_sql_limiters_on_one_file_share_the_budget(sqlite_url):
    first = SqlLookupLimiter(sqlite_url, limit=10, window_s=3600)
    second = SqlLookupLimiter(sqlite_url, limit=10, window_s=3600)
    try:
        for i in range(10):
            side = first if i % 2 else second
            assert side.check_and_record("user-1", now=T0 + i).allowed
        assert not first.check_and_record("user-1", now=T0 + 20).allowed
        assert not second.check_and_record("user-1", now=T0 + 20).allowed
        assert second.check_and_record("user-1", now=T0 + 3600).allowed
        assert first.count() == 10
    finally:
        first.dispose()
        second.dispose()


def test_senders_are_stored_as_hashes_and_old_rows_pruned(sqlite_url):
    limiter = SqlLookupLimiter(sqlite_url, limit=10, window_s=60)
    try:
        limiter.check_and_record("+84912345678", now=T0)
        limiter.check_and_record("other", now=T0)
        engine = sa.create_engine(sqlite_url, future=True)
        with engine.connect() as conn:
            senders = set(conn.execute(sa.text("SELECT sender FROM lookup_attempts")).scalars())
        engine.dispose()
        assert senders == {sender_key("+84912345678"), sender_key("other")}
        assert "+84912345678" not in senders
        # the sender's own expired rows go at its next attempt; the others' at prune()
        limiter.check_and_record("+84912345678", now=T0 + 61)
        assert limiter.count() == 2
        assert limiter.prune(now=T0 + 61) == 1
        assert limiter.count() == 1
    finally:
        limiter.dispose()


def test_sql_limiter_prunes_every_sender_now_and_then(sqlite_url):
    limiter = SqlLookupLimiter(sqlite_url, limit=1000, window_s=60)
    try:
        for i in range(PRUNE_EVERY - 1):
            limiter.check_and_record(f"s{i}", now=T0)
        assert limiter.count() == PRUNE_EVERY - 1
        limiter.check_and_record("last", now=T0 + 61)  # the PRUNE_EVERY-th call
        assert limiter.count() == PRUNE_EVERY  # others' attempts may be in longer windows
        for i in range(PRUNE_EVERY):
            limiter.check_and_record(f"later{i}", now=T0 + PRUNE_ALL_AFTER_S + 1)
        assert limiter.count() == PRUNE_EVERY + 1  # a day on, only recent attempts are left
    finally:
        limiter.dispose()


def test_a_short_window_limiter_never_erases_a_long_window_limiters_attempts(sqlite_url):
    hourly = SqlLookupLimiter(sqlite_url, limit=3, window_s=3600)
    minutely = SqlLookupLimiter(sqlite_url, limit=1000, window_s=60)
    try:
        for _ in range(3):
            assert hourly.check_and_record("slow", now=T0).allowed
        for i in range(PRUNE_EVERY + 1):  # prunes every key at least once
            minutely.check_and_record(f"fast{i}", now=T0 + 120)
        assert not hourly.check_and_record("slow", now=T0 + 600).allowed
    finally:
        hourly.dispose()
        minutely.dispose()


def test_memory_limiter_forgets_quiet_senders():
    limiter = MemoryLookupLimiter(limit=5, window_s=60)
    for i in range(PRUNE_EVERY - 1):
        limiter.check_and_record(f"s{i}", now=T0)
    limiter.check_and_record("last", now=T0 + 61)
    assert set(limiter._attempts) == {"last"}


def test_bad_settings_and_factory(sqlite_url):
    with pytest.raises(ValueError):
        MemoryLookupLimiter(limit=0)
    with pytest.raises(ValueError):
        MemoryLookupLimiter(window_s=0)
    assert isinstance(make_limiter(), MemoryLookupLimiter)
    sql = make_limiter(sqlite_url, limit=3, window_s=10)
    assert isinstance(sql, SqlLookupLimiter) and sql.limit == 3 and sql.window_s == 10
    sql.dispose()


def test_dead_database_gives_one_clear_error():
    limiter = SqlLookupLimiter("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="cannot open the lookup limit database"):
        limiter.check_and_record("u", now=T0)


def test_postgresql_limiter_shared_by_two_instances(pg_url):
    first, second = SqlLookupLimiter(pg_url, limit=3), SqlLookupLimiter(pg_url, limit=3)
    try:
        assert [first.check_and_record("u", now=T0 + i).allowed for i in range(2)] == [True] * 2
        assert second.check_and_record("u", now=T0 + 2).remaining == 0
        refused = second.check_and_record("u", now=T0 + 3)
        assert not refused.allowed and refused.retry_after_s == 3597
        assert first.check_and_record("u", now=T0 + 3600).allowed
    finally:
        first.dispose()
        second.dispose()


@pytest.mark.parametrize("kind", ["memory", "sql"])
def test_an_attempt_can_be_withdrawn_and_a_sender_counted(kind, sqlite_url):
    limiter = (
        MemoryLookupLimiter(limit=2, window_s=60)
        if kind == "memory"
        else SqlLookupLimiter(sqlite_url, limit=2, window_s=60)
    )
    assert limiter.check_and_record("u", now=T0).allowed
    assert limiter.check_and_record("u", now=T0 + 1).allowed
    assert limiter.count("u", now=T0 + 2) == 2 and limiter.count("v", now=T0 + 2) == 0
    assert not limiter.check_and_record("u", now=T0 + 2).allowed
    assert limiter.withdraw("u", T0 + 1) and not limiter.withdraw("u", T0 + 1)
    assert not limiter.withdraw("v", T0)
    assert limiter.count("u", now=T0 + 2) == 1 and limiter.count("u", now=T0 + 61) == 0
    assert limiter.check_and_record("u", now=T0 + 2).allowed
    if kind == "sql":
        assert limiter.count() == 2  # every sender, as before
        limiter.dispose()
