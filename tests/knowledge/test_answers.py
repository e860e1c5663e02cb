import pytest

from knowledge.answers import ASPECTS, compose_answer, format_fee, format_time, format_vnd
from knowledge.schema import Fee, ProcessingTime


@pytest.fixture
def passport(mini_catalogue):
    return next(p for p in mini_catalogue if p.code == "1.000003")


@pytest.fixture
def birth(mini_catalogue):
    return next(p for p in mini_catalogue if p.code == "1.000001")


def test_money_and_time_formats():
    assert format_vnd(200000, "vi") == "200.000 đ"
    assert format_vnd(200000, "en") == "200,000 VND"
    assert format_time(ProcessingTime(7, "working_days", "x"), "vi") == "7 ngày làm việc"
    assert format_time(ProcessingTime(7.0, "working_days", "x"), "en") == "7 working days"
    assert format_time(ProcessingTime(None, None, "Ngay trong ngày"), "vi") == "Ngay trong ngày"
    assert format_time(ProcessingTime(None, None, ""), "en") == "no information"
    assert format_fee(Fee([], True, "Miễn phí"), "en") == "Free of charge"
    assert format_fee(Fee([], None, "Không có thông tin"), "vi") == "chưa có thông tin"
    assert format_fee(Fee([70000], False, "70.000 đồng"), "vi") == "70.000 đ"


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_answer_names_the_procedure_its_code_and_link(birth, aspect, language):
    text = compose_answer(birth, aspect, language)
    assert "1.000001" in text
    assert birth.url in text
    assert ("Birth registration" in text) == (language == "en")


def test_fee_answer_carries_the_catalogue_amounts(passport):
    vi = compose_answer(passport, "fee", "vi")
    assert "200.000 đ / 400.000 đ" in vi
    en = compose_answer(passport, "fee", "en")
    assert "200,000 VND / 400,000 VND" in en and "Fees" in en


def test_same_value_on_every_channel_is_said_once(birth):
    text = compose_answer(birth, "time", "vi")
    assert text.count("1 ngày làm việc") == 1
    assert "nộp trực tiếp, trực tuyến" in text


def test_documents_list_counts(passport):
    text = compose_answer(passport, "documents", "vi")
    assert "- Ảnh 4x6 nền trắng (2 bản chính)" in text
    assert "- Tờ khai TK01" in text


def test_online_answer_when_there_is_no_online_channel(passport, birth):
    assert "chưa nộp trực tuyến được" in compose_answer(passport, "online", "vi")
    assert "Yes, you can apply online" in compose_answer(birth, "online", "en")


def test_unknown_aspect_falls_back_to_the_overview(birth):
    assert compose_answer(birth, "weather", "vi") == compose_answer(birth, "overview", "vi")
