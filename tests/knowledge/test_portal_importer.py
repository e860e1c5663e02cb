"""Tests of the National Public Service Portal importer.

Unit tests use short synthetic strings in the portal's flattened style; the tests marked
``portal_file`` read the real export from ``../shared`` beside the checkout and fail
when it is absent.
"""

from __future__ import annotations

import gzip
import json
import random
import unicodedata
from pathlib import Path

import pytest

from knowledge.importers.portal import (
    ImportReport,
    PortalFileError,
    iter_portal_file,
    load_portal_file,
    money_amounts,
    parse_amount,
    parse_channels,
    parse_documents,
    parse_fee,
    parse_legal_basis,
    parse_levels,
    parse_record,
    parse_result,
    parse_steps,
    parse_time,
    split_outside_parens,
)
from knowledge.schema import CHANNELS, LEVELS, TIME_UNITS, InvalidRecord

REPO = Path(__file__).resolve().parents[2]
PORTAL_FILE = REPO / ".." / "shared" / "data" / "dichvucong" / "procedures.jsonl.gz"
HANDCHECKED = Path(__file__).resolve().parent / "fixtures" / "portal_handchecked.json"
HEADER = "Hình thức nộpThời gianPhí, lệ phíMô tả"

# The export is always beside the checkout in CI: a missing file fails (conftest), never skips.
needs_portal_file = pytest.mark.usefixtures("portal_export")


def _raw(**overrides):
    raw = {
        "ma_thu_tuc": "1.000001",
        "ten_thu_tuc": "Đăng ký khai sinh",
        "linh_vuc": "Hộ tịch",
        "cap_thuc_hien": "Cấp tỉnh, Cấp xã",
        "doi_tuong_thuc_hien": "Công dân Việt Nam",
        "cach_thuc_thuc_hien": HEADER + "Trực tiếp5 Ngày làm việcMiễn phí",
        "detail_url": "https://dichvucong.gov.vn/p/1",
    }
    raw.update(overrides)
    return raw


# --- time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("7 Ngày làm việc", 7, "working_days"),
        ("15 Ngày", 15, "days"),
        ("02 Giờ", 2, "hours"),
        ("3 Tháng", 3, "months"),
        ("1 Năm", 1, "years"),
        ("1", 1, None),
        ("0,5 Ngày", 0.5, "days"),
    ],
)
def test_parse_time_units(text, value, unit):
    time = parse_time(text)
    assert (time.value, time.unit, time.text) == (value, unit, text)


def test_parse_time_without_number_keeps_text():
    assert parse_time("Không có thông tin").value is None
    assert parse_time("Không có thông tin").text == ""
    time = parse_time("Không phải trả kết quả cho người nộp thuế")
    assert (time.value, time.unit) == (None, None)
    assert time.text.startswith("Không phải")


# --- fees -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "amount"),
    [("200.000", 200_000), ("2,000,000", 2_000_000), ("15000000", 15_000_000), ("500", 500)],
)
def test_parse_amount_both_separators(number, amount):
    assert parse_amount(number) == amount


def test_money_amounts_in_free_text():
    text = (
        "Phí : 200.000 Đồng; Lệ phí : 100.000 Đồng; 2,000,000 VNĐ/lần; 8.000.000/lần; "
        "1,5 triệu đồng; 15000000/loại Đồng; 20.000Đ/tờ khai; theo Thông tư 64/2025/TT-BTC "
        "ngày 30/6/2025, giảm 50%"
    )
    assert money_amounts(text) == [
        200_000,
        100_000,
        2_000_000,
        8_000_000,
        1_500_000,
        15_000_000,
        20_000,
    ]


def test_fee_free_and_unknown():
    assert parse_fee("Miễn phí").free is True
    assert parse_fee("Miễn phí", "Không có").free is True
    assert parse_fee("Không có thông tin").free is None
    assert parse_fee("Không có thông tin").amounts_vnd == []
    assert parse_fee("0 VNĐ").free is True


def test_fee_amount_cell_english_format():
    fee = parse_fee("2,000,000 Việt Nam Đồng", "Phí kiểm tra: 2.000.000 đồng/01 đơn hàng")
    assert (fee.amounts_vnd, fee.free) == ([2_000_000], False)
    assert "2,000,000" in fee.text


def test_fee_several_amounts_in_note():
    fee = parse_fee("Miễn phí", "Phí : 200.000 Đồng (cấp mới) Lệ phí : 100.000 Đồng (cấp lại)")
    assert (fee.amounts_vnd, fee.free) == ([200_000, 100_000], False)


def test_fee_named_charge_without_amount_is_not_free():
    fee = parse_fee("Miễn phí", "Mức lệ phí cụ thể do Hội đồng nhân dân tỉnh quyết định.")
    assert (fee.amounts_vnd, fee.free) == ([], False)
    assert parse_fee("Miễn phí", "Miễn lệ phí (Thông tư số 47/2019/TT-BTC).").free is True


def test_fee_cell_in_thousands_is_reconciled_with_note():
    assert parse_fee("100 VNĐ", "100.000 đồng/lần").amounts_vnd == [100_000]
    assert parse_fee("25 VNĐ").amounts_vnd == [25]


def test_fee_in_foreign_currency_is_a_charge_without_vnd():
    fee = parse_fee("50 USD", "50 USD/giấy")
    assert (fee.amounts_vnd, fee.free) == ([], False)


# --- channel table --------------------------------------------------------------------------


def _rows(text):
    return [
        (c.channel, c.processing_time.value, c.processing_time.unit, c.fee.amounts_vnd, c.fee.free)
        for c in parse_channels(HEADER + text)
    ]


def test_channels_simple_rows():
    text = (
        "Trực tuyến5 Ngày làm việcMiễn phí"
        "Dịch vụ bưu chính15 NgàyKhông có thông tin"
        "Trực tiếp1Miễn phí"
    )
    assert _rows(text) == [
        ("online", 5, "working_days", [], True),
        ("post", 15, "days", [], None),
        ("in_person", 1, None, [], True),
    ]


def test_channels_note_and_description_with_numbers():
    text = (
        "Trực tiếp7 Ngày làm việc50,000 Việt Nam Đồng(50.000 đồng/thẻ; giảm 50% đến 31/12/2026)"
        "- Trực tiếp: nộp tại Công an cấp xã. 07 ngày làm việc, 2 bản.Trực tuyến02 Giờ"
        "Miễn phí(Không có)Nộp trên Cổng Dịch vụ công quốc gia"
    )
    channels = parse_channels(HEADER + text)
    assert [c.channel for c in channels] == ["in_person", "online"]
    assert channels[0].fee.amounts_vnd == [50_000]
    assert channels[0].description.startswith("- Trực tiếp: nộp tại Công an")
    assert (channels[1].processing_time.value, channels[1].processing_time.unit) == (2, "hours")
    assert channels[1].fee.free is True
    assert channels[1].description == "Nộp trên Cổng Dịch vụ công quốc gia"


def test_channels_bare_time_glued_to_amount():
    text = "Trực tuyến1100 VNĐ(100.000 đồng/lần)Trực tiếp120,000 VNĐDịch vụ bưu chính15200 VNĐ"
    assert _rows(text) == [
        ("online", 1, None, [100_000], False),
        ("in_person", 1, None, [20_000], False),
        ("post", 15, None, [200], False),
    ]


def test_channels_unknown_time_and_free_text_time():
    text = (
        "Trực tiếpKhông có thông tin30,000 Việt Nam Đồng(/giao dịch)"
        "Trực tuyếnKhông phải trả kết quả cho người nộp thuếMiễn phíQua Cổng"
    )
    rows = _rows(text)
    assert rows[0] == ("in_person", None, None, [30_000], False)
    assert rows[1] == ("online", None, None, [], True)


def test_channels_empty():
    assert parse_channels("") == []
    assert parse_channels(HEADER) == []


# --- documents ------------------------------------------------------------------------------


def test_documents_counts_copies_and_forms():
    text = (
        "--Tên giấy tờMẫu đơn, tờ khaiSố lượng"
        "Tờ khai đăng ký theo mẫuMẫu số 01.docx1 bản chính"
        "Giấy tờ chứng minh về trụ sở0 bản chính,1 bản sao"
        "Văn bản theo Nghị định 56/2023/NĐ-CP ngày 24/07/20231 bản chính,2 bản sao"
    )
    docs = parse_documents(text)
    assert [(d.name, d.originals, d.copies, d.form) for d in docs] == [
        ("Tờ khai đăng ký theo mẫu", 1, None, "Mẫu số 01.docx"),
        ("Giấy tờ chứng minh về trụ sở", 0, 1, ""),
        ("Văn bản theo Nghị định 56/2023/NĐ-CP ngày 24/07/2023", 1, 2, ""),
    ]


def test_documents_group_headings_are_own_entries():
    text = (
        "a) Đối với cá nhân:Tên giấy tờMẫu đơn, tờ khaiSố lượngĐơn đề nghị1 bản chính"
        "b) Đối với tổ chức:Tên giấy tờMẫu đơn, tờ khaiSố lượng- Văn bản đề nghị (bản chính "
        "để đối chiếu)01 bản chính"
    )
    docs = parse_documents(text)
    assert [(d.name, d.originals) for d in docs] == [
        ("a) Đối với cá nhân:", None),
        ("Đơn đề nghị", 1),
        ("b) Đối với tổ chức:", None),
        ("Văn bản đề nghị (bản chính để đối chiếu)", 1),
    ]


# --- other fields ---------------------------------------------------------------------------


def test_split_outside_parens_keeps_bracketed_commas():
    assert split_outside_parens(
        "Tổ chức (không bao gồm doanh nghiệp, HTX), Công dân Việt Nam, Công dân Việt Nam"
    ) == ["Tổ chức (không bao gồm doanh nghiệp, HTX)", "Công dân Việt Nam"]


def test_levels():
    assert parse_levels("Cấp bộ, Cấp tỉnh, Cấp huyện, Cấp xã, Cơ quan khác") == list(LEVELS)


def test_steps_by_marker_and_by_line():
    assert parse_steps("Bước 1: Nộp hồ sơ\n\nchi tiết\nBước 2: Nhận kết quả") == [
        "Bước 1: Nộp hồ sơ chi tiết",
        "Bước 2: Nhận kết quả",
    ]
    assert parse_steps("Nộp hồ sơ.\n\nNhận kết quả.") == ["Nộp hồ sơ.", "Nhận kết quả."]
    assert parse_steps("Không có thông tin") == []


def test_result_drops_codes_and_tail():
    text = (
        "Giấy phépMã: KQ.G19.000181Văn bản từ chốiMã: G19-KQ0060102"
        "Từ khóaKhông có thông tinMô tảKhông có thông tin"
    )
    assert parse_result(text) == "Giấy phép; Văn bản từ chối"


def test_legal_basis_names_and_numbers():
    text = (
        "Tên văn bản pháp lýMã văn bảnHướng dẫn xử lý khiếu nại68/2013/TT-BCA"
        "Luật Khiếu nại năm 201102/2011/QH13Nghị định 05/2012/NĐ-CP05/2012/NĐ-CP"
    )
    assert parse_legal_basis(text) == [
        "Hướng dẫn xử lý khiếu nại (68/2013/TT-BCA)",
        "Luật Khiếu nại năm 2011 (02/2011/QH13)",
        "Nghị định 05/2012/NĐ-CP",
    ]


# --- records and files ----------------------------------------------------------------------


def test_parse_record_maps_fields_and_composes_unicode():
    decomposed = unicodedata.normalize("NFD", "Đăng ký khai sinh")
    procedure = parse_record(
        _raw(
            ten_thu_tuc=decomposed,
            co_quan_thuc_hien="Ủy ban nhân dân cấp xã",
            co_quan_co_tham_quyen="Ủy ban nhân dân cấp xã; Sở Tư pháp",
            yeu_cau_dieu_kien="Không có thông tin",
            ket_qua_xu_ly="Giấy khai sinhMã: KQ.G01.1Từ khóaKhông có thông tin",
        )
    )
    assert procedure.name == "Đăng ký khai sinh"
    assert procedure.name == unicodedata.normalize("NFC", procedure.name)
    assert procedure.levels == ["province", "commune"]
    assert procedure.agencies == ["Ủy ban nhân dân cấp xã", "Sở Tư pháp"]
    assert procedure.conditions == ""
    assert procedure.result == "Giấy khai sinh"
    assert procedure.source == "portal"
    assert procedure.channel("in_person").processing_time.unit == "working_days"


def test_parse_record_without_code_raises():
    with pytest.raises(InvalidRecord) as info:
        parse_record(_raw(ma_thu_tuc=""))
    assert "code" in info.value.reason


def test_load_file_reports_bad_lines_and_records_and_goes_on(tmp_path):
    path = tmp_path / "portal.jsonl"
    lines = [
        json.dumps(_raw(), ensure_ascii=False),
        "{not json",
        json.dumps(_raw(ma_thu_tuc=""), ensure_ascii=False),
        json.dumps(_raw(ma_thu_tuc="1.000002"), ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = load_portal_file(path)
    assert isinstance(report, ImportReport)
    assert [p.code for p in report.procedures] == ["1.000001", "1.000002"]
    assert report.errors[0][0] == "line 2"
    assert report.errors[1][0] == "<no code>"
    items = list(iter_portal_file(path))
    assert isinstance(items[1], PortalFileError) and items[1].line == 2


def test_load_gzip_and_json_list(tmp_path):
    gz = tmp_path / "portal.jsonl.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(_raw(), ensure_ascii=False) + "\n")
    assert [p.code for p in load_portal_file(gz).procedures] == ["1.000001"]
    listing = tmp_path / "portal.json"
    listing.write_text(json.dumps([_raw(), _raw(ma_thu_tuc="1.000003")]), encoding="utf-8")
    assert len(load_portal_file(listing).procedures) == 2


# --- the real export ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def portal_report():
    return load_portal_file(PORTAL_FILE)


@needs_portal_file
def test_real_file_loads_without_errors(portal_report):
    assert portal_report.errors == []
    assert len(portal_report.procedures) == 2642
    assert len({p.code for p in portal_report.procedures}) == 2642


@needs_portal_file
def test_real_file_channel_values(portal_report):
    rows = [c for p in portal_report.procedures for c in p.channels]
    assert all(p.channels for p in portal_report.procedures)
    assert all(c.channel in CHANNELS for c in rows)
    assert all(c.processing_time.unit in (*TIME_UNITS, None) for c in rows)
    with_value = sum(c.processing_time.value is not None for c in rows)
    with_fee_answer = sum(c.fee.free is not None for c in rows)
    assert with_value / len(rows) >= 0.93  # the rest say "Không có thông tin" or free text
    assert with_fee_answer / len(rows) >= 0.80
    assert all(a > 0 for c in rows for a in c.fee.amounts_vnd)


@needs_portal_file
def test_real_file_other_fields(portal_report):
    procedures = portal_report.procedures
    assert all(p.name == unicodedata.normalize("NFC", p.name) for p in procedures)
    assert all(set(p.levels) <= set(LEVELS) and p.levels for p in procedures)
    assert sum(bool(p.documents) for p in procedures) / len(procedures) >= 0.95
    assert sum(bool(p.legal_basis) for p in procedures) / len(procedures) >= 0.95
    assert sum(bool(p.steps) for p in procedures) / len(procedures) >= 0.95
    assert not any("Mã: KQ" in p.result or "Từ khóa" in p.result for p in procedures)
    assert all(p.url.startswith("https://") for p in procedures)


@needs_portal_file
def test_real_file_documents_look_like_documents(portal_report):
    documents = [d for p in portal_report.procedures for d in p.documents]
    assert not any("Tên giấy tờ" in d.name for d in documents)
    counted = [d for d in documents if d.originals is not None or d.copies is not None]
    assert len(counted) / len(documents) >= 0.85
    assert all((d.originals or 0) < 50 and (d.copies or 0) < 50 for d in counted)


@needs_portal_file
def test_handchecked_sample_agreement(portal_report, capsys):
    expected = json.loads(HANDCHECKED.read_text(encoding="utf-8"))["expected"]
    by_code = {p.code: p for p in portal_report.procedures}
    total = matched = 0
    mismatches = []
    for code, rows in expected.items():
        got = [
            [
                c.channel,
                c.processing_time.value,
                c.processing_time.unit,
                c.fee.amounts_vnd,
                c.fee.free,
            ]
            for c in by_code[code].channels
        ]
        for index, want in enumerate(rows):
            total += 1
            have = got[index] if index < len(got) else None
            if have == want:
                matched += 1
            else:
                mismatches.append((code, index, want, have))
        if len(got) > len(rows):
            total += len(got) - len(rows)
            mismatches.extend((code, i, None, got[i]) for i in range(len(rows), len(got)))
    with capsys.disabled():
        print(f"\nhand-checked channel rows: {matched}/{total} = {matched / total:.1%}")
        for mismatch in mismatches:
            print("  mismatch", mismatch)
    assert matched / total >= 0.95


@needs_portal_file
def test_random_records_parse_stably():
    # Parsing is deterministic and idempotent through the schema's own validation.
    with gzip.open(PORTAL_FILE, "rt", encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    for line in random.Random(5).sample(lines, 20):
        first = parse_record(json.loads(line))
        assert first.content_hash() == parse_record(json.loads(line)).content_hash()
