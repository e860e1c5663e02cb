import pytest

from actions.feedback import ActionFeedback
from actions.procedures import ActionAnswerProcedure
from tests.actions.conftest import run_action

pytestmark = pytest.mark.usefixtures("runtime")


async def test_an_answer_carries_thumbs_up_and_down_buttons():
    messages, _ = await run_action(ActionAnswerProcedure(), "follow_up_fee_on_passport")
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/feedback{"rating":"up"}',
        '/feedback{"rating":"down"}',
    ]
    assert messages[0]["buttons"][0]["title"].startswith("👍")


async def test_english_answer_buttons_are_in_english():
    messages, _ = await run_action(ActionAnswerProcedure(), "follow_up_online_in_english")
    assert [b["title"] for b in messages[0]["buttons"]] == ["👍 Helpful", "👎 Not helpful"]


async def test_offered_choices_keep_their_own_buttons():
    messages, _ = await run_action(ActionAnswerProcedure(), "vague_registration_question")
    assert all(b["payload"].startswith("/choose_procedure") for b in messages[0]["buttons"])


async def test_thumbs_down_apologises_and_offers_a_person():
    messages, slots = await run_action(ActionFeedback(), "thumbs_down_on_passport_answer")
    assert "xin lỗi" in messages[0]["text"].lower() and "gặp cán bộ" in messages[0]["text"]
    assert slots == {"language": "vi"}


async def test_thumbs_up_thanks_in_english():
    messages, _ = await run_action(ActionFeedback(), "thumbs_up_in_english")
    assert messages[0]["text"].startswith("Thank you")
