"""Hand-offs to staff and the office information given meanwhile."""

from __future__ import annotations

from datetime import datetime

import pytest

from desk.handoffs import (
    CLAIMED,
    DONE,
    OFFICE_INFO,
    OPEN,
    HandoffStore,
    office_info,
)
from infra.db import StoreUnavailable
from infra.privacy import pseudonym


@pytest.fixture
def store(tmp_path):
    store = HandoffStore(f"sqlite:///{tmp_path / 'motcua.db'}")
    yield store
    store.dispose()


def test_create_get_list(store):
    at = datetime(2026, 11, 23, 2, 30)
    first = store.create(
        "tg:123",
        "telegram",
        "Hỏi về hồ sơ quá hạn",
        transcript_ref="conv-123",
        dossier_code="000.00.20.H26-251103-0042",
        language="vi",
        now=at,
    )
    second = store.create(
        "zalo:9", "zalo", "Passport question", procedure_code="1.001456", language="en"
    )
    assert first.id != second.id
    got = store.get(first.id)
    assert got == first
    assert got.status == OPEN and got.claimed_by is None
    assert got.created_at == at and got.updated_at == at
    assert got.dossier_code == "000.00.20.H26-251103-0042"
    assert store.get(9999) is None
    assert [h.id for h in store.list()] == [first.id, second.id]
    assert [h.sender for h in store.list(OPEN)] == [pseudonym("tg:123"), pseudonym("zalo:9")]
    assert store.list(DONE) == []
    assert store.count() == 2


def test_claim_and_finish(store):
    handoff = store.create("web:1", "rest", "Cần gặp cán bộ")
    claimed = store.set_status(handoff.id, CLAIMED, claimed_by="cb.lan")
    assert claimed.status == CLAIMED and claimed.claimed_by == "cb.lan"
    done = store.set_status(handoff.id, DONE)
    assert done.status == DONE and done.claimed_by == "cb.lan"
    assert store.count(OPEN) == 0 and store.count(DONE) == 1
    assert store.set_status(12345, DONE) is None
    with pytest.raises(ValueError, match="unknown hand-off status"):
        store.set_status(handoff.id, "lost")
    with pytest.raises(ValueError, match="unknown hand-off status"):
        store.list("lost")


def test_to_dict_is_json_ready(store):
    data = store.create("web:1", "rest", now=datetime(2026, 11, 23, 2, 30)).to_dict()
    assert data["created_at"] == "2026-11-23T02:30:00"
    assert data["status"] == OPEN


def test_a_sender_is_required(store):
    with pytest.raises(ValueError, match="sender"):
        store.create("", "rest")


def test_office_info_in_both_languages():
    for language in ("vi", "en"):
        info = OFFICE_INFO[language]
        assert "1022" in info["hotline"] and "1022" in info["message"]
        assert "8:00–17:00" in info["hours"] and "8:00–12:00" in info["hours"]
    assert "Thứ Hai–Thứ Sáu" in OFFICE_INFO["vi"]["hours"]
    assert office_info("fr") == OFFICE_INFO["vi"]
    assert office_info("en")["message"].startswith("Your request")


def test_dead_database_gives_one_clear_error():
    store = HandoffStore("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="cannot open the handoff database"):
        store.create("u", "rest")
