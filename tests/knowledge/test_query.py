import pytest

from knowledge.query import MAX_QUERY_CHARS, analyse, detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("làm lại căn cước bị mất cần gì", "vi"),
        ("lam ho chieu mat bao lau", "vi"),
        ("xin giay xac nhan doc than o dau", "vi"),
        ("fee for a criminal record certificate", "en"),
        ("How do I register the birth of my baby?", "en"),
        ("and online?", "en"),
        ("", "vi"),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


def test_vietnamese_query_expands_citizen_vocabulary():
    query = analyse("lam lai so do bi mat")
    flat = {w for segment in query.segments for w in segment}
    assert query.language == "vi"
    assert query.segments[0] == ["lam", "lai", "so", "do", "bi", "mat"]
    assert {"giay", "chung", "nhan"} <= flat


def test_english_query_is_translated_to_vietnamese_terms():
    query = analyse("How do I get a passport?")
    flat = {w for segment in query.segments for w in segment}
    assert query.language == "en"
    assert {"ho", "chieu"} <= flat
    assert "passport" in query.english


def test_huge_input_is_capped():
    assert len(analyse("a" * 50_000).text) == MAX_QUERY_CHARS


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("khai tu online tren dich vu cong duoc ko", ["khai", "tu", "duoc", "ko"]),
        ("Làm hộ chiếu trên cổng dịch vụ công được không", ["lam", "ho", "chieu", "duoc", "khong"]),
        ("đăng ký xe qua mạng", ["dang", "ky", "xe"]),
        ("nộp trực tuyến toàn trình", ["nop"]),
        # "mang" alone is "bring", "mạng lưới" a network: both stay.
        ("mang theo giấy tờ gì", ["mang", "theo", "giay", "to", "gi"]),
    ],
)
def test_asking_to_apply_online_is_an_aspect_not_a_topic(text, words):
    assert analyse(text).words == words
