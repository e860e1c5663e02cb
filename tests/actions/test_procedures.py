import pytest

from actions.fallback import ActionDefaultFallback
from actions.language import ActionSetLanguage, requested_language
from actions.procedures import ActionAnswerProcedure, ActionChooseProcedure, pick_from_text
from tests.actions.conftest import run_action

pytestmark = pytest.mark.usefixtures("runtime")


async def test_answers_documents_and_remembers_the_procedure():
    messages, slots = await run_action(ActionAnswerProcedure(), "asked_passport_documents")
    assert slots["procedure_code"] == "1.001456"
    assert slots["aspect"] == "documents" and slots["language"] == "vi"
    text = messages[0]["text"]
    assert "1.001456" in text and "Hồ sơ cần chuẩn bị" in text
    assert "Chi tiết: https://dichvucong.gov.vn/" in text


async def test_follow_up_fee_stays_on_the_passport():
    messages, slots = await run_action(ActionAnswerProcedure(), "follow_up_fee_on_passport")
    assert slots["procedure_code"] == "1.001456" and slots["aspect"] == "fee"
    assert "200.000 đ" in messages[0]["text"]


async def test_english_follow_up_about_online():
    messages, slots = await run_action(ActionAnswerProcedure(), "follow_up_online_in_english")
    assert slots["procedure_code"] == "3.000333" and slots["language"] == "en"
    assert "online" in messages[0]["text"].lower()
    assert "3.000333" in messages[0]["text"]


async def test_new_topic_leaves_the_current_procedure():
    messages, slots = await run_action(ActionAnswerProcedure(), "switch_to_marriage")
    # Marriage registration comes first, answered or offered with its variants (mobile
    # registration, re-registration): never the passport under discussion.
    assert slots.get("procedure_code", "1.000894") == "1.000894"
    assert (slots.get("candidates") or ["1.000894"])[0] == "1.000894"
    assert "1.000894" in messages[0]["text"] and "1.001456" not in messages[0]["text"]


async def test_vague_question_offers_three_buttons_and_keeps_the_question():
    messages, slots = await run_action(ActionAnswerProcedure(), "vague_registration_question")
    assert len(messages[0]["buttons"]) == 3
    assert messages[0]["buttons"][0]["payload"].startswith("/choose_procedure{")
    assert slots["candidates"] and len(slots["candidates"]) == 3
    assert slots["pending_text"] == "đăng ký cần gì"
    assert "procedure_code" not in slots


async def test_words_that_clarify_offered_choices_answer_the_original_question():
    messages, slots = await run_action(
        ActionAnswerProcedure(), "clarifies_offered_choices_in_words"
    )
    assert slots["procedure_code"] == "1.014064"
    assert slots["aspect"] == "steps" and slots["pending_text"] is None
    assert "Trình tự thực hiện" in messages[0]["text"]


async def test_option_number_picks_the_candidate_and_answers_the_pending_aspect():
    messages, slots = await run_action(ActionChooseProcedure(), "candidates_offered_option_2")
    assert slots["procedure_code"] == "1.000894" and slots["candidates"] is None
    assert "1.000894" in messages[0]["text"] and "Phí, lệ phí" in messages[0]["text"]


async def test_button_payload_picks_the_code_in_english():
    messages, slots = await run_action(ActionChooseProcedure(), "candidate_button_tapped")
    assert slots["procedure_code"] == "1.004873"
    assert "Processing time" in messages[0]["text"]


async def test_a_number_picks_an_alternative_listed_under_an_answer():
    # No choice was pending (the assistant answered its best guess and listed two others
    # as buttons): "cái thứ 2" picks the second of those, it is not searched.
    messages, slots = await run_action(
        ActionChooseProcedure(), "picks_an_alternative_listed_under_an_answer"
    )
    assert slots["procedure_code"] == "1.014064"
    assert "1.014064" in messages[0]["text"]


async def test_an_ordinal_with_nothing_offered_stays_on_the_procedure():
    # The last message had only feedback buttons: "cai dau tien" is not searched ("cai"
    # would find drug rehabilitation).
    messages, slots = await run_action(ActionChooseProcedure(), "ordinal_with_nothing_offered")
    assert slots["procedure_code"] == "3.000346"
    assert "Thời hạn giải quyết" in messages[0]["text"]


@pytest.mark.parametrize(
    ("tracker", "code"),
    [
        ("picks_the_answered_first_of_three_choices", "1.014063"),
        ("picks_the_third_of_three_choices_after_the_first_was_answered", "1.014062"),
    ],
)
async def test_numbers_keep_the_numbers_of_the_choices_offered(tracker, code):
    # Asked an aspect instead of picking, the assistant answered choice 1 and kept 2 and 3
    # as buttons titled "2. …" and "3. …": "số 1" is the one answered, "cái thứ 3" the 3rd.
    messages, slots = await run_action(ActionChooseProcedure(), tracker)
    assert slots["procedure_code"] == code
    assert code in messages[0]["text"]


def test_pick_from_text():
    codes = ["a", "b", "c"]
    assert pick_from_text("số 2", codes) == "b"
    assert pick_from_text("the third one", codes) == "c"
    assert pick_from_text("cái thứ nhất", codes) == "a"
    assert pick_from_text("7", codes) is None
    assert pick_from_text("2", []) is None
    assert pick_from_text("cái đầu tiên ạ", codes) == "a"
    # Amounts are no option numbers.
    assert pick_from_text("1 tuần có xong không?", codes) is None
    assert pick_from_text("3 days?", codes) is None


async def test_change_language_confirms_in_the_new_language():
    messages, slots = await run_action(ActionSetLanguage(), "change_language_to_english")
    assert slots == {"language": "en", "preferred_language": "en"}
    assert "English" in messages[0]["text"]
    assert requested_language("tieng viet nhe") == "vi"
    assert requested_language("hello") is None


async def test_a_language_wish_after_an_answer_repeats_it_in_that_language():
    messages, slots = await run_action(ActionSetLanguage(), "change_language_after_an_answer")
    assert slots["language"] == "vi" and slots["preferred_language"] == "vi"
    assert slots["procedure_code"] == "1.001456" and slots["aspects"] == ["fee"]
    assert "tiếng Việt" in messages[0]["text"]
    assert "Phí, lệ phí" in messages[1]["text"] and "1.001456" in messages[1]["text"]


async def test_after_a_procedure_answer_a_progress_question_is_about_the_procedure():
    messages, slots = await run_action(
        ActionAnswerProcedure(), "progress_question_after_a_procedure_answer"
    )
    assert slots["procedure_code"] == "1.001456"
    assert "000.00.20.H26-251103-0042" not in messages[0]["text"]


async def test_fallback_says_what_it_can_do():
    messages, slots = await run_action(ActionDefaultFallback(), "fallback_gibberish")
    assert "000.00.20.H26-251103-0042" in messages[0]["text"]
    assert slots == {"language": "vi"}
