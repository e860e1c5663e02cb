"""Dossier codes, statuses, the public view, the store (SQLite and PostgreSQL) and demo data."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from desk.codes import (
    CODE_PROBLEMS,
    EXAMPLE_CODE,
    code_problem,
    code_received_on,
    find_code,
    normalize_code,
)
from desk.demo import add_working_days, demo_dossiers, seed_demo
from desk.dossiers import (
    CLOSED_STATUSES,
    DONE,
    IN_PROGRESS,
    NEEDS_MORE_DOCUMENTS,
    OVERDUE,
    RECEIVED,
    RETURNED,
    STATUS_LABELS,
    STATUSES,
    Dossier,
    DossierStore,
    UnknownDossier,
    effective_status,
    mask_name,
    public_view,
)
from infra.db import StoreUnavailable

TODAY = date(2026, 11, 23)


def _dossier(**changes) -> Dossier:
    base = Dossier(
        code="000.25.13.H26-261120-0007",
        procedure_code="1.001193",
        procedure_name="Đăng ký khai sinh",
        agency="UBND phường Cầu Giấy, thành phố Hà Nội",
        applicant_name="Trần Thị Bích Ngọc",
        applicant_phone="0912345678",
        received_on=date(2026, 11, 20),
        due_on=date(2026, 11, 23),
        status=IN_PROGRESS,
    )
    return replace(base, **changes)


@pytest.fixture
def store(tmp_path):
    store = DossierStore(f"sqlite:///{tmp_path / 'motcua.db'}")
    yield store
    store.dispose()


# --- codes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "000.00.20.H26-251103-0042",
        "000.00.20.h26-251103-0042",
        "000.00.20.h26 251103 0042",
        "000.00.20.H26-2511030042",
        "0000020H262511030042",
        "0000020h262511030042",
        "  000.00.20.H26 - 251103 - 0042  ",
        "000 00 20 H26 251103 0042",
        "000.00.20.H26–251103–0042",  # en dashes from a phone keyboard
        "000.00.20.H26_251103_0042",
    ],
)
def test_normalize_accepts_common_variants(typed):
    assert normalize_code(typed) == EXAMPLE_CODE
    assert code_problem(typed) is None


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        ("abcdefghij", "shape"),
        ("hồ sơ của tôi", "shape"),
        ("000.00.20.H26-251103-004", "shape"),  # sequence too short
        ("000.00.20.H26-25110-0042", "shape"),  # date too short
        ("000.00.20.H26-251103-00421", "shape"),  # too long
        ("000.00.20.26-251103-0042", "shape"),  # no province letter
        ("000.00.20.HH6-251103-0042", "shape"),
        ("000.00.20.H26-251399-0042", "date"),  # month 13
        ("000.00.20.H26-250230-0042", "date"),  # 30 February
        ("000.00.20.H26-250000-0042", "date"),
        ("000.00.20.H26-251103-0042' OR '1'='1", "shape"),
        ("000.00.20.H26-251103-0042; DROP TABLE dossiers;--", "shape"),
        ("%", "shape"),
    ],
)
def test_normalize_rejects_garbage_with_a_reason(typed, problem):
    assert normalize_code(typed) is None
    assert code_problem(typed) == problem
    assert EXAMPLE_CODE in CODE_PROBLEMS["vi"][problem]
    assert EXAMPLE_CODE in CODE_PROBLEMS["en"][problem]


def test_leap_day_is_a_real_date():
    assert normalize_code("000.00.20.H26-240229-0001") == "000.00.20.H26-240229-0001"
    assert normalize_code("000.00.20.H26-250229-0001") is None
    assert code_received_on("0000020h262402290001") == date(2024, 2, 29)
    assert code_received_on("nonsense") is None


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("hồ sơ 000.00.20.h26 251103 0042 đến đâu rồi?", EXAMPLE_CODE),
        ("Mã: 0000020H262511030042.", EXAMPLE_CODE),
        ("check 000.25.13.H26-261120-0007 please", "000.25.13.H26-261120-0007"),
        ("first 000.00.20.H26-251399-0042 then 000.00.20.H26-251103-0042", EXAMPLE_CODE),
        ("tôi chưa có mã hồ sơ", None),
        ("số điện thoại 0912345678", None),
        ("", None),
        ("x000.00.20.H26-251103-0042", None),  # glued to a word: not a code
    ],
)
def test_find_code_in_a_message(message, expected):
    assert find_code(message) == expected


# --- statuses and the public view ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "due_on", "expected"),
    [
        (IN_PROGRESS, TODAY + timedelta(days=1), IN_PROGRESS),
        (IN_PROGRESS, TODAY, IN_PROGRESS),  # due today: not late yet
        (IN_PROGRESS, TODAY - timedelta(days=1), OVERDUE),
        (RECEIVED, TODAY - timedelta(days=1), OVERDUE),
        (NEEDS_MORE_DOCUMENTS, TODAY - timedelta(days=30), OVERDUE),
        (DONE, TODAY - timedelta(days=1), DONE),
        (RETURNED, TODAY - timedelta(days=100), RETURNED),
        (IN_PROGRESS, None, IN_PROGRESS),  # no deadline
    ],
)
def test_overdue_is_computed_at_the_boundary(status, due_on, expected):
    assert effective_status(status, due_on, TODAY) == expected
    dossier = _dossier(status=status, due_on=due_on)
    assert dossier.effective_status(TODAY) == expected
    assert dossier.is_overdue(TODAY) is (expected == OVERDUE)


def test_every_status_has_both_labels():
    assert set(STATUS_LABELS) == set(STATUSES)
    for labels in STATUS_LABELS.values():
        assert labels["vi"] and labels["en"]
    assert STATUS_LABELS[OVERDUE]["vi"] == "Quá hạn giải quyết"


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("Nguyễn Văn An", "N*** V*** A***"),
        ("Trần Thị Bích Ngọc", "T*** T*** B*** N***"),
        ("đặng  thu", "Đ*** T***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_public_view_has_no_phone_and_no_full_name():
    dossier = _dossier(due_on=TODAY - timedelta(days=2), updated_at=datetime(2026, 11, 21, 2, 0))
    public = dossier.public(TODAY)
    data = public.to_dict()
    blob = json.dumps(data, ensure_ascii=False) + public.text("vi") + public.text("en")
    assert "0912345678" not in blob
    for word in ("Trần", "Bích", "Ngọc"):
        assert word not in blob
    assert data["applicant"] == "T*** T*** B*** N***"
    assert data["status"] == OVERDUE
    assert data["recorded_status"] == IN_PROGRESS
    assert data["days_left"] == -2
    assert set(data) == {
        "code",
        "procedure_code",
        "procedure_name",
        "agency",
        "received_on",
        "due_on",
        "status",
        "recorded_status",
        "updated_at",
        "applicant",
        "days_left",
        "verified",
    }
    assert "Quá hạn giải quyết (Đang giải quyết)" in public.text("vi")
    assert "Overdue (Being processed)" in public.text("en")
    assert "21/11/2026 09:00" in public.text("vi")  # stored UTC, shown in Vietnam time
    assert public_view(dossier, TODAY) == public


def test_closed_dossier_has_no_days_left():
    public = _dossier(status=DONE, due_on=TODAY - timedelta(days=5)).public(TODAY)
    assert public.status == DONE
    assert public.days_left is None


def test_working_days_skip_weekends():
    friday = date(2026, 11, 20)
    assert add_working_days(friday, 0) == friday
    assert add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert add_working_days(friday, 5) == date(2026, 11, 27)


# --- the store -----------------------------------------------------------------------------


def test_add_get_and_history(store):
    received_at = datetime(2026, 11, 20, 2, 0)
    added = store.add(
        _dossier(code="000.25.13.h26 261120 0007", updated_at=received_at), note="Tiếp nhận"
    )
    assert added.code == "000.25.13.H26-261120-0007"
    got = store.get("0002513H262611200007")
    assert got is not None
    assert got.applicant_phone == "0912345678"
    assert got.received_on == date(2026, 11, 20)
    assert got.status == IN_PROGRESS
    assert store.get("000.25.13.H26-261120-0008") is None
    assert store.get("garbage") is None
    assert store.count() == 1

    at = datetime(2026, 11, 22, 3, 0)
    updated = store.set_status(got.code, NEEDS_MORE_DOCUMENTS, "Thiếu tờ khai", at=at)
    assert updated.status == NEEDS_MORE_DOCUMENTS
    assert updated.updated_at == at
    store.set_status(got.code, DONE, at=at + timedelta(days=1))
    history = store.history(got.code)
    assert [h.status for h in history] == [IN_PROGRESS, NEEDS_MORE_DOCUMENTS, DONE]
    assert history[0].at == received_at
    assert history[0].note == "Tiếp nhận"
    assert history[1].note == "Thiếu tờ khai"
    assert store.history("000.25.13.H26-261120-0008") == []


def test_upsert_records_history_only_on_a_status_change(store):
    store.add(_dossier())
    store.upsert(_dossier(agency="UBND phường Ba Đình, thành phố Hà Nội"))
    assert len(store.history(_dossier().code)) == 1
    assert store.get(_dossier().code).agency.startswith("UBND phường Ba Đình")
    store.upsert(_dossier(status=DONE), note="Đã trả kết quả")
    assert [h.status for h in store.history(_dossier().code)] == [IN_PROGRESS, DONE]
    assert store.count() == 1


def test_invalid_status_and_unknown_dossier(store):
    store.add(_dossier())
    with pytest.raises(ValueError, match="overdue is computed"):
        store.set_status(_dossier().code, OVERDUE)
    with pytest.raises(ValueError, match="unknown dossier status"):
        store.add(_dossier(status="lost"))
    with pytest.raises(ValueError, match="invalid dossier code"):
        store.add(_dossier(code="12345"))
    with pytest.raises(UnknownDossier, match="no dossier with code"):
        store.set_status("000.25.13.H26-261120-0099", DONE)
    assert store.count() == 1


def test_list_and_count_by_status_including_overdue(store):
    store.add_many(
        [
            _dossier(code="000.25.13.H26-261101-0001", due_on=TODAY - timedelta(days=1)),
            _dossier(code="000.25.13.H26-261102-0002", due_on=TODAY),
            _dossier(code="000.25.13.H26-261103-0003", status=DONE, due_on=date(2026, 11, 1)),
            _dossier(code="000.25.13.H26-261104-0004", status=RETURNED, due_on=None),
        ]
    )
    assert [d.code for d in store.list(OVERDUE, today=TODAY)] == ["000.25.13.H26-261101-0001"]
    assert store.count(OVERDUE, today=TODAY) == 1
    assert store.count(IN_PROGRESS) == 2
    assert store.count(DONE) == 1
    assert [d.code[-4:] for d in store.list()] == ["0004", "0003", "0002", "0001"]
    assert len(store.list(limit=2)) == 2
    with pytest.raises(ValueError):
        store.list("lost")


def test_dead_database_gives_one_clear_error():
    store = DossierStore("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="cannot open the dossier database") as info:
        store.get(EXAMPLE_CODE)
    assert "MOTCUA_DATABASE_URL" in str(info.value)


def test_no_connection_at_construction():
    DossierStore("postgresql://nobody@127.0.0.1:1/none")  # must not raise


def test_postgresql_round_trip(pg_url):
    store = DossierStore(pg_url)
    try:
        assert seed_demo(store, TODAY) == len(demo_dossiers(TODAY))
        example = store.get("0000020h262511030042")
        assert example is not None
        assert example.effective_status(TODAY) == OVERDUE
        assert example.received_on == date(2025, 11, 3)
        assert example.applicant_name == "Nguyễn Văn An"
        store.set_status(EXAMPLE_CODE, DONE, "Đã trả kết quả", at=datetime(2026, 11, 23, 2))
        assert store.get(EXAMPLE_CODE).public(TODAY).status == DONE
        assert store.history(EXAMPLE_CODE)[-1].note == "Đã trả kết quả"
        assert store.count(OVERDUE, today=TODAY) == 2
        assert seed_demo(store, TODAY) == 0
    finally:
        store.dispose()
    # the tables really are in that schema of the PostgreSQL server
    engine = sa.create_engine(pg_url, future=True)
    with engine.connect() as conn:
        n = conn.execute(sa.text("SELECT count(*) FROM dossiers")).scalar()
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
    engine.dispose()
    assert n == len(demo_dossiers(TODAY))
    assert schema.startswith("motcua_test_")


# --- demo data -----------------------------------------------------------------------------


def test_demo_set_is_deterministic_and_varied():
    first = demo_dossiers(TODAY)
    assert [d for d, _, _ in first] == [d for d, _, _ in demo_dossiers(TODAY)]
    dossiers = [d for d, _, _ in first]
    assert 25 <= len(dossiers) <= 40
    assert len({d.code for d in dossiers}) == len(dossiers)
    assert all(normalize_code(d.code) == d.code for d in dossiers)
    assert all(code_received_on(d.code) == d.received_on for d in dossiers)
    statuses = Counter(d.effective_status(TODAY) for d in dossiers)
    for status in STATUSES:
        assert statuses[status] >= 2, status
    due_soon = [
        d
        for d in dossiers
        if d.status not in CLOSED_STATUSES and TODAY <= d.due_on <= TODAY + timedelta(days=2)
    ]
    assert len(due_soon) >= 2
    assert {"1.001193", "1.001456", "3.000333", "1.004222"} <= {d.procedure_code for d in dossiers}
    assert all(
        d.applicant_phone.startswith("09") and len(d.applicant_phone) == 10 for d in dossiers
    )
    for dossier, _, history in first:
        assert history[0].status == RECEIVED
        assert history[-1].status == dossier.status
        assert [h.at for h in history] == sorted(h.at for h in history)


def test_seed_demo_is_idempotent_and_holds_the_overdue_example(store):
    added = seed_demo(store, TODAY)
    assert added == store.count() >= 25
    assert seed_demo(store, TODAY) == 0
    assert store.count() == added
    example = store.get(EXAMPLE_CODE)
    assert example.status == IN_PROGRESS
    assert example.public(TODAY).status == OVERDUE
    assert example.procedure_code == "3.000333"
    assert [h.status for h in store.history(EXAMPLE_CODE)] == [RECEIVED, IN_PROGRESS]


def test_seed_demo_leaves_a_non_empty_table_alone(store):
    store.add(_dossier())
    assert seed_demo(store, TODAY) == 0
    assert store.count() == 1
    assert store.get(EXAMPLE_CODE) is None


def test_without_the_second_factor_only_the_bare_status_is_shown():
    dossier = _dossier(status=IN_PROGRESS, due_on=TODAY - timedelta(days=2))
    bare = dossier.public(TODAY, verified=False)
    data = bare.to_dict()
    assert data["status"] == OVERDUE and data["verified"] is False
    assert {k for k, v in data.items() if v not in (None, "")} == {
        "code",
        "status",
        "recorded_status",
        "verified",
    }
    text = bare.text("en")
    assert dossier.agency not in text and dossier.procedure_name not in text
    assert "Applicant" not in text and "due on" not in text.lower()
