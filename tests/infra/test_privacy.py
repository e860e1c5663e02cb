import logging

import pytest

from infra.privacy import PiiLogFilter, mask_pii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("số CCCD của tôi là 001203004567", "số CCCD của tôi là [id]"),
        ("CMND 123456789 bị mất", "CMND [id] bị mất"),
        ("cccd 0012 0300 4567 nhé", "cccd [id] nhé"),
        ("gọi lại cho tôi 0912345678", "gọi lại cho tôi [phone]"),
        ("sđt 0912 345 678.", "sđt [phone]."),
        ("sđt 091.234.5678 ạ", "sđt [phone] ạ"),
        ("call +84 912 345 678", "call [phone]"),
        ("mail nguyen.van.a+hs@gmail.com giúp", "mail [email] giúp"),
        ("ID 001203004567, phone 0987654321, a@b.vn", "ID [id], phone [phone], [email]"),
    ],
)
def test_masks_ids_phones_and_emails(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi",
        "ma ho so 000 00 20 h26 251103 0042",
        "00000020H262511030042",
        "thủ tục 1.001193 lệ phí 1.500.000 đồng",
        "phạt 150.000.000 đồng",
        "nộp ngày 20/11/2025 lúc 10:30",
        "làm hộ chiếu cần giấy tờ gì",
    ],
)
def test_keeps_dossier_codes_procedure_codes_dates_and_money(text):
    assert mask_pii(text) == text


def test_empty_and_none():
    assert mask_pii("") == ""
    assert mask_pii(None) == ""


def test_log_filter_masks_formatted_message():
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "user %s said %s", ("u1", "0912345678"), None
    )
    assert PiiLogFilter().filter(record)
    assert record.getMessage() == "user u1 said [phone]"


def test_installed_masking_covers_handlers_added_later(caplog):
    from infra.privacy import install_log_filter

    previous = logging.getLogRecordFactory()
    try:
        install_log_filter()
        install_log_filter()
        with caplog.at_level(logging.INFO):
            logging.getLogger("later.library").info("mail %s", "a.b@gmail.com")
        assert caplog.records[-1].getMessage() == "mail [email]"
    finally:
        logging.setLogRecordFactory(previous)
