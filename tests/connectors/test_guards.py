import json

import pytest

from connectors.guards import (
    MAX_MESSAGE_CHARS,
    MAX_METADATA_BYTES,
    BodyError,
    check_metadata,
    check_sender,
    check_text,
    json_depth,
    parse_json_body,
    rest_metadata,
    valid_sender,
)


def test_incoming_text_is_masked_before_rasa_sees_it():
    incoming = check_text("  hồ sơ 000.00.20.H26-251103-0042, sđt 0912345678, cccd 001203004567 ")
    assert incoming.text == "hồ sơ 000.00.20.H26-251103-0042, sđt [phone], cccd [id]"


def test_long_text_is_cut_then_masked():
    incoming = check_text("a" * (MAX_MESSAGE_CHARS + 5) + " 0912345678")
    assert incoming.truncated and len(incoming.text) == MAX_MESSAGE_CHARS


# --- issue 13: what reaches Rasa and the stores --------------------------------------------


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch):
    monkeypatch.setenv("MOTCUA_PSEUDONYM_KEY", "test-key")


def test_lone_surrogates_and_control_characters_never_pass():
    assert check_text("hộ\ud800 chiếu\x00\x07\u202e").text == "hộ chiếu"
    assert not valid_sender("\ud800") and not valid_sender("\x00\x01")
    assert check_sender(" u1\udc00\x1b ") == "u1"
    cleaned = check_metadata({"page": "a\ud800b", "k\x00": ["\x07x"]})
    assert cleaned == {"page": "ab", "k": ["x"]}
    json.dumps([check_sender("u\ud800"), cleaned], ensure_ascii=False).encode("utf-8")


def test_phone_or_email_sender_ids_become_stable_pseudonyms():
    for personal in ("0912345678", "+84 912 345 678", "lan.nguyen@gmail.com"):
        pseudonym = check_sender(personal)
        assert pseudonym.startswith("p-") and pseudonym == check_sender(personal)
    assert check_sender("0912345678") != check_sender("0912345679")
    for plain in ("u1", "3f1c2a9e-5b7d-4e21-9c3a-7d2b8e6f1a04", "987654321"):
        assert check_sender(plain) == plain  # platform and widget ids are kept


def test_bodies_are_held_to_size_and_depth():
    assert parse_json_body(b'{"a": [1, {"b": 2}]}', 1024, 3) == {"a": [1, {"b": 2}]}
    for depth in (900, 100_000):  # the second one the parser itself refuses
        with pytest.raises(BodyError) as refused:
            parse_json_body(("[" * depth + "]" * depth).encode(), 10**6, 16)
        assert refused.value.status == 400 and "deeper" in refused.value.reason
    with pytest.raises(BodyError) as refused:
        parse_json_body(b" " * 2048, 1024, 16)
    assert refused.value.status == 413
    assert json_depth({"a": [{"b": {}}]}) == 4 and json_depth("x") == 0


def test_metadata_is_held_to_depth_and_size():
    deep = {}
    for _ in range(9):
        deep = {"x": deep}
    with pytest.raises(BodyError, match="deeper than 8"):
        check_metadata(deep)
    with pytest.raises(BodyError, match=f"larger than {MAX_METADATA_BYTES}"):
        check_metadata({f"k{i}": "v" * 200 for i in range(30)})
    assert check_metadata({"page": "x" * 5000}) == {"page": "x" * 256}  # long strings are cut


def test_rest_metadata_keeps_known_small_keys_masked():
    metadata = {
        "page": "ward",
        "url": "https://phuong.hanoi.gov.vn/hoi?sdt=0912345678",
        "phone": "0912345678",
        "profile": {"name": "Lan", "email": "lan@gmail.com"},
        "telegram": {"chat_id": 42, "deep": {"x": 1}},
        "lang": ["vi"],
    }
    assert rest_metadata(metadata) == {
        "page": "ward",
        "url": "https://phuong.hanoi.gov.vn/hoi?sdt=[phone]",
        "telegram": {"chat_id": 42},
    }
