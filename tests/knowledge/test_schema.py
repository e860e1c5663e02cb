import pytest

from knowledge.schema import InvalidRecord, Procedure


def _minimal(**extra):
    return {"code": "1.001193", "name": "Đăng ký khai sinh", **extra}


def test_round_trip_keeps_every_field(mini_catalogue):
    for procedure in mini_catalogue:
        again = Procedure.from_dict(procedure.to_dict())
        assert again == procedure
        assert again.content_hash() == procedure.content_hash()


def test_content_hash_changes_with_content():
    a = Procedure.from_dict(_minimal())
    b = Procedure.from_dict(_minimal(name_en="Birth registration"))
    assert a.content_hash() != b.content_hash()


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"name": "x"}, "missing code"),
        ({"code": "abc def", "name": "x"}, "code must look like"),
        ({"code": "1.001193"}, "missing name"),
        (_minimal(levels=["planet"]), "unknown level"),
        (_minimal(channels=[{"channel": "fax"}]), "unknown channel"),
        (_minimal(channels=[{"channel": "online", "fee": {"amounts_vnd": [-5]}}]), "negative fee"),
        (
            _minimal(channels=[{"channel": "online", "processing_time": {"unit": "weeks"}}]),
            "unknown time unit",
        ),
        (_minimal(channels=[{"channel": "online", "fee": {"free": "yes"}}]), "fee.free"),
        (_minimal(documents=[{"name": ""}]), "document has no name"),
        (_minimal(url="ftp://x"), "url must start"),
        (_minimal(channels=[{"channel": "online", "fee": {"amounts_vnd": ["many"]}}]), "malformed"),
        ("not a dict", "expected an object"),
    ],
)
def test_invalid_records_name_code_and_reason(record, reason):
    with pytest.raises(InvalidRecord) as info:
        Procedure.from_dict(record)
    assert reason in info.value.reason
    if isinstance(record, dict) and record.get("code"):
        assert info.value.code == record["code"]


def test_documents_may_be_plain_strings_and_text_is_nfc():
    p = Procedure.from_dict(_minimal(documents=["Tờ khai"], name="Đa\u0306ng ky\u0301"))
    assert p.documents[0].name == "Tờ khai"
    assert p.name == "Đăng ký"


def test_channel_lookup(mini_catalogue):
    birth = mini_catalogue[0]
    assert birth.channel("online").fee.free is True
    assert birth.channel("post") is None
