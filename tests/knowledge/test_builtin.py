"""The built-in catalogue: every value has a source, English is complete, and every
departure from the official record is explained in the data."""

import json

import pytest

from knowledge.builtin import (
    BuiltinEntry,
    builtin_files,
    check_sources,
    compare_with_official,
    english_complete,
    fee_amount_known,
    load_builtin_entries,
    parse_entries,
    source_problem,
    unexplained_differences,
)
from knowledge.importers.portal import load_portal_file
from knowledge.schema import Procedure


@pytest.fixture(scope="module")
def entries() -> list[BuiltinEntry]:
    return load_builtin_entries()


def test_the_builtin_catalogue_holds_the_procedures_residents_use(entries):
    assert len(entries) >= 400
    fields = {e.procedure.field for e in entries}
    for area in ("Hộ tịch", "Đất đai", "Quản lý xuất nhập cảnh", "Thuế"):
        assert area in fields
    codes = [e.procedure.code for e in entries]
    assert len(codes) == len(set(codes))


def test_every_file_is_valid_and_no_entry_is_dropped():
    for resource in builtin_files():
        data = json.loads(resource.read_text("utf-8"))
        parsed, errors = parse_entries(data, resource.name)
        assert not errors, (resource.name, errors[:5])
        assert len(parsed) == len(data["procedures"])
        assert not any(k.startswith("_") for e in data["procedures"] for k in e), resource.name


def test_every_builtin_value_carries_a_source(entries):
    problems = [p for e in entries for p in check_sources(e)]
    assert not problems, "\n".join(problems[:40])


def test_builtin_entries_are_fully_english(entries):
    missing = {e.procedure.code: english_complete(e.procedure) for e in entries}
    missing = {code: m for code, m in missing.items() if m}
    assert not missing, list(missing.items())[:20]


def test_fees_a_citizen_can_act_on(entries):
    known = sum(fee_amount_known(e.procedure) for e in entries)
    # 0.864 today: the rest are fees each province sets that we could not confirm for
    # Hanoi (civil status with a foreign element, some land steps), and say so plainly.
    assert known / len(entries) >= 0.85


def test_the_source_check_catches_what_it_must():
    assert source_problem("record 1.001193 cach_thuc_thuc_hien", "1.001193") is None
    assert source_problem("Thông tư 244/2016/TT-BTC", "1.001193") is None
    assert source_problem("Luật Hộ tịch số 60/2014/QH13", "1.001193") is None
    assert "unknown record field" in source_problem("record 1.001193 gia_tien", "1.001193")
    assert source_problem("common knowledge", "1.001193")
    entry = BuiltinEntry(
        Procedure.from_dict(
            {
                "code": "1.000001",
                "name": "A",
                "result": "r",
                "channels": [{"channel": "online", "fee": {"free": True}}],
            }
        ),
        sources={"name": "record 1.000001 ten_thu_tuc", "result": "my memory"},
        differences=[{"field": "channels.online.fee", "why": ""}],
    )
    problems = check_sources(entry)
    assert any("result" in p for p in problems)
    assert any("channels.online.fee: no source" in p for p in problems)
    assert any("channels.online.time: no source" in p for p in problems)
    assert any("lacks its field or its why" in p for p in problems)


def test_differences_must_be_explained():
    official = Procedure.from_dict(
        {
            "code": "1.000001",
            "name": "A",
            "channels": [
                {"channel": "in_person", "fee": {"free": True}, "processing_time": {"value": 5,
                 "unit": "working_days"}},
            ],
        }
    )  # fmt: skip
    ours = Procedure.from_dict(
        {
            "code": "1.000001",
            "name": "A",
            "channels": [
                {"channel": "in_person", "fee": {"amounts_vnd": [200000], "free": False},
                 "processing_time": {"value": 5, "unit": "working_days"}},
                {"channel": "online"},
            ],
        }
    )  # fmt: skip
    found = {key for key, _theirs, _ours in compare_with_official(ours, official)}
    assert found == {"channels", "channels.in_person.fee"}
    entry = BuiltinEntry(ours, differences=[{"field": "channels", "why": "newer decree"}])
    assert [p.split(" ")[1] for p in unexplained_differences(entry, official)] == [
        "channels.in_person.fee:"
    ]


@pytest.mark.slow
def test_builtin_entries_agree_with_the_official_records_or_say_why(entries, portal_export):
    official = {p.code: p for p in load_portal_file(portal_export).procedures}
    missing = [e.procedure.code for e in entries if e.procedure.code not in official]
    assert not missing, missing
    problems = [p for e in entries for p in unexplained_differences(e, official[e.procedure.code])]
    assert not problems, "\n".join(problems[:40])


def test_provenance_tells_staff_edit_builtin_and_official(entries):
    from knowledge.builtin import provenance

    code = entries[0].procedure.code
    origins = {p["field"]: p for p in provenance(code, staff_fields=["url"])}
    assert origins["url"]["origin"] == "staff"
    assert origins["name"]["origin"] == "builtin" and origins["name"]["source"].startswith(
        "record " + code
    )
    assert "in_person" in origins["channels"]["source"] or "online" in origins["channels"]["source"]
    assert {p["origin"] for p in provenance("9.999999")} == {"official"}
