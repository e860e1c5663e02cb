"""Tests for nlu.components (sure-language rule, LanguageDetector) and nlu/regexes.yml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu.components import (
    ROUTED_FROM,
    LanguageDetector,
    ProcedureRouter,
    route_intent,
    sure_language,
)


@pytest.mark.parametrize(
    "text",
    [
        "cho em hỏi làm hộ chiếu cần gì ạ",
        "Đăng ký kết hôn",
        "còn lệ phí?",
        "lam ho chieu can giay to gi",
        "het bao nhieu tien",
        "nop o dau",
        "lam online dc ko",
        "thu tuc tach ho",
        "tieng viet",
        "tờ đó",
        "làm giấy tờ cho mẹ",
        "cho em hỏi làm passport ở đâu",
    ],
)
def test_sure_vietnamese(text: str) -> None:
    assert sure_language(text) == "vi"


@pytest.mark.parametrize(
    "text",
    [
        "what documents do I need for a passport",
        "how much is it?",
        "and online?",
        "English please",
        "speak English please",
        "thanks a lot",
        "I just got my work permit",
        "can you check the status of application 000.00.20.H26-251104-0215",
        "I want to register my marriage with my fiancée in Hanoi, where do we apply",
    ],
)
def test_sure_english(text: str) -> None:
    assert sure_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ok",
        "1",
        "👍",
        "hi",
        "visa",
        "cam on",
        "/greet",
        '/change_language{"language":"en"}',
    ],
)
def test_not_sure(text: str) -> None:
    assert sure_language(text) is None


def _detector() -> LanguageDetector:
    return LanguageDetector.create({}, None, None, None)  # type: ignore[arg-type]


def _language_entities(message: Message) -> list[dict]:
    return [e for e in message.get(ENTITIES, []) if e["entity"] == "language"]


def test_process_adds_language_entity() -> None:
    text = "how long does it take"
    [message] = _detector().process([Message(data={TEXT: text})])
    assert _language_entities(message) == [
        {
            "entity": "language",
            "value": "en",
            "start": 0,
            "end": len(text),
            "extractor": "LanguageDetector",
            "confidence": 1.0,
        }
    ]


def test_process_keeps_other_entities_and_skips_unsure() -> None:
    code = {"entity": "dossier_code", "value": "000.00.20.H26-251103-0042", "start": 6, "end": 31}
    sure = Message(data={TEXT: "hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi", ENTITIES: [code]})
    unsure = Message(data={TEXT: "2"})
    out = _detector().process([sure, unsure])
    assert out[0].get(ENTITIES)[0] == code
    assert [e["value"] for e in _language_entities(out[0])] == ["vi"]
    assert _language_entities(out[1]) == []


def test_process_replaces_a_previous_language_entity() -> None:
    old = {"entity": "language", "value": "en", "start": 0, "end": 3}
    [message] = _detector().process([Message(data={TEXT: "nói tiếng Việt đi", ENTITIES: [old]})])
    assert [e["value"] for e in _language_entities(message)] == ["vi"]


def test_process_training_data_is_a_no_op() -> None:
    data = TrainingData([Message(data={TEXT: "xin chào", "intent": "greet"})])
    assert _detector().process_training_data(data) is data


# The regexes of nlu/regexes.yml, compiled as RegexEntityExtractor does (case-insensitive).


def _regex(name: str) -> re.Pattern[str]:
    data = yaml.safe_load((Path(__file__).resolve().parents[2] / "nlu" / "regexes.yml").read_text())
    [item] = [x for x in data["nlu"] if x.get("regex") == name]
    return re.compile(item["examples"].strip()[2:], re.IGNORECASE)


@pytest.mark.parametrize(
    "text, code",
    [
        ("hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi", "000.00.20.H26-251103-0042"),
        ("ho so 000.00.20.h26 251103 0042 xong chua", "000.00.20.h26 251103 0042"),
        ("tra cuu 0000020H262511030042", "0000020H262511030042"),
        ("ma H26.22-251101-0311 sao roi", "H26.22-251101-0311"),
        ("status of 000.00.20.H26.251103.0042?", "000.00.20.H26.251103.0042"),
    ],
)
def test_dossier_code_regex_accepts_common_variants(text: str, code: str) -> None:
    match = _regex("dossier_code").search(text)
    assert match is not None and match.group(0) == code


@pytest.mark.parametrize("text", ["0123456789", "H26-251103-0042", "call 0912345678"])
def test_dossier_code_regex_rejects_garbage(text: str) -> None:
    assert _regex("dossier_code").search(text) is None


@pytest.mark.parametrize(
    "text, digit",
    [("2", "2"), ("số 3", "3"), ("so 1 a", "1"), ("option 2", "2"), ("chọn cái thứ 3 nhé", "3")],
)
def test_option_regex_matches_only_the_digit(text: str, digit: str) -> None:
    match = _regex("option").search(text)
    assert match is not None and match.group(0) == digit


@pytest.mark.parametrize("text", ["12", "con toi 6 tuoi thi sao", "thứ 2 có làm việc không"])
def test_option_regex_ignores_numbers_inside_questions(text: str) -> None:
    assert _regex("option").search(text) is None


@pytest.mark.parametrize(
    ("text", "intent", "confidence", "routed"),
    [
        ("hello, how do I renew my passport?", "greet", 0.9, "ask_steps"),
        ("chào ad, làm hộ chiếu cần giấy tờ gì ạ", "greet", 0.8, "ask_documents"),
        ("thanks! and what about online?", "thank", 0.9, "ask_online"),
        ("em muốn làm giấy khai sinh cho con mà ko biet lam sao", "nlu_fallback", 0.3, "ask_steps"),
        ("please answer in English: how much is a passport", "change_language", 0.9, "ask_fee"),
        ("ai giúp em làm thủ tục ly hôn với", "request_human", 0.6, "ask_overview"),
        ("thời hạn làm sổ đỏ là bao lâu", "out_of_scope", 0.5, "ask_time"),
        # a procedure named as a phrase is a question even when taken for "are you a bot?"
        ("đăng ký khai tử cho bà nội", "bot_challenge", 0.6, "ask_overview"),
        ("thẻ bhyt nữa", "list_follows", 0.5, "ask_overview"),  # nothing of following
    ],
)
def test_router_answers_procedure_questions_the_classifier_missed(
    text: str, intent: str, confidence: float, routed: str
) -> None:
    assert route_intent(text, intent, confidence) == routed


@pytest.mark.parametrize(
    ("text", "intent", "confidence"),
    [
        ("hello", "greet", 0.99),
        ("cảm ơn bạn nhiều", "thank", 0.99),
        ("please answer in English", "change_language", 0.99),
        ("cho tôi gặp cán bộ về vụ hộ chiếu", "request_human", 0.9),
        ("mua cổ phiếu nào lãi", "out_of_scope", 0.95),
        ("làm hộ chiếu cần gì", "ask_documents", 0.9),
        ("hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi", "dossier_status", 0.9),
        ("/greet", "greet", 1.0),
        ("có phải robot trả lời không", "bot_challenge", 0.9),  # "trả lời": loose words
        ("bạn là trí tuệ nhân tạo à", "bot_challenge", 0.9),
        ("báo cho tôi khi hồ sơ hộ chiếu có kết quả", "follow_dossier", 0.9),
        ("tôi đang theo dõi những hồ sơ nào", "list_follows", 0.9),
    ],
)
def test_router_leaves_what_is_not_a_missed_procedure_question(
    text: str, intent: str, confidence: float
) -> None:
    assert route_intent(text, intent, confidence) is None


def test_router_component_replaces_the_intent_and_says_from_what() -> None:
    message = Message(data={TEXT: "hi! how much is a passport?"})
    message.set(INTENT, {"name": "greet", "confidence": 0.95})
    ProcedureRouter().process([message])
    assert message.get(INTENT)["name"] == "ask_fee"
    assert message.get(ROUTED_FROM) == "greet"


def test_an_explicit_language_wish_decides_the_language() -> None:
    assert sure_language("please answer in English") == "en"
    assert sure_language("nói tiếng Việt đi") == "vi"
    assert sure_language("trả lời bằng tiếng Anh nhé") == "en"


def test_router_reads_past_a_mistaken_dossier_or_out_of_scope_intent() -> None:
    long = "How do my in-laws get a red book for their land? They have lived there since 1995"
    assert route_intent(long, "dossier_status", 0.7) == "ask_overview"
    assert route_intent("làm sổ hồng chung cư cần gì", "out_of_scope", 0.95) == "ask_documents"
    assert route_intent("hồ sơ của tôi đến đâu rồi", "dossier_status", 0.9) is None
    assert route_intent("làm giả sổ đỏ được không", "out_of_scope", 0.6) is None
    text = "sổ đỏ 000.00.20.H26-251103-0042"
    assert route_intent(text, "dossier_status", 0.9, has_dossier_code=True) is None


def test_a_sure_out_of_scope_with_a_named_procedure_and_an_aspect_is_a_question() -> None:
    # The classifier can be sure and wrong on a long narrative around a procedure.
    text = "nhà em mới nhận căn hộ chung cư, làm sổ hồng mua của chủ đầu tư cần gì"
    assert route_intent(text, "out_of_scope", 1.0) == "ask_documents"
    # Forgery without diacritics, court cases and stock tips stay out of scope.
    assert route_intent("lam can cuoc gia o dau het bao nhieu", "out_of_scope", 1.0) is None
    assert route_intent("tòa sẽ xử vụ ly hôn của tôi thế nào", "out_of_scope", 0.9) is None
    assert route_intent("mua cổ phiếu nào lãi nhiều", "out_of_scope", 1.0) is None


def test_a_duration_without_any_dossier_word_is_a_time_question() -> None:
    assert route_intent("ok, 2 tuần có xong không?", "dossier_status", 0.8) == "ask_time"
    assert route_intent("hồ sơ của tôi xong chưa", "dossier_status", 0.9) is None


@pytest.mark.parametrize(
    "text", ["căn cứ pháp lý?", "theo quy định nào vậy", "which law?", "mẫu tờ khai?", "form?"]
)
def test_legal_basis_and_form_follow_ups_reach_the_procedure_answer(text: str) -> None:
    for intent in ("out_of_scope", "nlu_fallback", "greet"):
        assert route_intent(text, intent, 0.7) == "ask_overview"


@pytest.mark.parametrize("text", ["5678", "4 số cuối 5678", "last 4 digits: 5678"])
def test_the_last_digits_of_a_phone_go_to_the_dossier_lookup(text: str) -> None:
    assert route_intent(text, "nlu_fallback", 0.3) == "dossier_status"
    assert route_intent(text, "dossier_status", 0.9) is None


@pytest.mark.parametrize("intent", ["dossier_status", "out_of_scope", "nlu_fallback"])
def test_an_explicit_wish_for_a_person_is_a_hand_off(intent: str) -> None:
    text = "nộp lâu rồi mà chưa có kết quả, cho tôi gặp cán bộ"
    assert route_intent(text, intent, 0.7) == "request_human"
    assert route_intent(text, "request_human", 0.9) is None
    assert route_intent("cho tôi gặp cán bộ hỏi lệ phí hộ chiếu", "nlu_fallback", 0.3) != (
        "request_human"
    )  # it also asks something: answered
