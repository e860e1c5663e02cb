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


def test_several_aspects_are_answered_together_once_framed(passport):
    text = compose_answer(passport, ["documents", "fee"], "en")
    assert "Documents to prepare" in text and "Fees" in text
    assert text.count("Procedure:") == 1 and text.count("Fees and times can change") == 1
    assert text.index("Documents to prepare") < text.index("Fees")


def _curated(**extra):
    from knowledge.schema import Procedure

    return Procedure.from_dict(
        {
            "code": "1.000009",
            "name": "Cấp Phiếu lý lịch tư pháp",
            "name_en": "Judicial record certificate",
            "documents": [{"name": "Tờ khai", "name_en": "Application form"}],
            "steps": ["Nộp tờ khai", "Nhận phiếu"],
            "steps_en": ["Submit the form", "Collect the certificate"],
            "channels": [
                {
                    "channel": "online",
                    "processing_time": {"value": 10, "unit": "working_days", "text": "10 ngày",
                                        "text_en": "10 working days"},
                    "fee": {"amounts_vnd": [200000], "free": False, "text": "200.000 đồng/lần",
                            "text_en": "200,000 VND per request (Circular 244/2016/TT-BTC)"},
                }
            ],
            **extra,
        }
    )  # fmt: skip


def test_a_builtin_procedure_reads_as_english():
    procedure = _curated()
    documents = compose_answer(procedure, "documents", "en")
    assert "Application form" in documents and "Tờ khai" not in documents
    assert "Vietnamese" not in documents  # no "details are in Vietnamese" note
    steps = compose_answer(procedure, "steps", "en")
    assert "Submit the form" in steps
    fee = compose_answer(procedure, "fee", "en")
    assert "200,000 VND" in fee and "Circular 244/2016/TT-BTC" in fee
    assert "Tờ khai" in compose_answer(procedure, "documents", "vi")


def test_an_imported_only_procedure_is_framed_in_english_and_says_so():
    from knowledge.schema import Procedure

    procedure = Procedure.from_dict(
        {
            "code": "1.000010",
            "name": "Cấp lại thẻ căn cước",
            "documents": [{"name": "Tờ khai căn cước"}],
            "channels": [{"channel": "in_person", "fee": {"free": True}}],
        }
    )
    text = compose_answer(procedure, "documents", "en")
    assert "unofficial translation" in text
    assert "official details below are in Vietnamese" in text
    assert "Documents to prepare" in text and "Tờ khai căn cước" in text
    assert "unofficial" not in compose_answer(procedure, "documents", "vi")


def test_legal_basis_lists_the_records_documents_by_number(passport):
    passport.legal_basis = ["Luật Xuất cảnh, nhập cảnh số 49/2019/QH14", "Thông tư 31/2023/TT-BCA"]
    vi = compose_answer(passport, "legal", "vi")
    en = compose_answer(passport, "legal", "en")
    assert "Căn cứ pháp lý:" in vi and "- Luật Xuất cảnh, nhập cảnh số 49/2019/QH14" in vi
    assert "Legal basis:" in en and "31/2023/TT-BCA" in en
    passport.legal_basis = []
    assert "chưa ghi căn cứ pháp lý" in compose_answer(passport, "legal", "vi")


def test_forms_lists_only_the_official_forms(passport):
    from knowledge.schema import Document

    passport.documents = [
        Document("Tờ khai đề nghị cấp hộ chiếu", 1, 0, "Mẫu TK01"),
        Document("Ảnh chân dung 4x6", 2, 0, ""),
        Document("Đơn đề nghị cấp lại", 1, 0, ""),
    ]
    text = compose_answer(passport, "forms", "vi")
    assert "Mẫu đơn, tờ khai:" in text and "Mẫu TK01" in text and "Đơn đề nghị cấp lại" in text
    assert "Ảnh chân dung" not in text
    passport.documents = [Document("Ảnh chân dung 4x6", 2, 0, "")]
    assert "no special form" in compose_answer(passport, "forms", "en")
