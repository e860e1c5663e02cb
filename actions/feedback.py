"""The 👍/👎 a citizen gives an answer: acknowledged here, reviewed by staff.

The rating itself travels with the conversation events to the conversation log
(:mod:`desk.conversations`), which puts thumbs-down answers in the review queue.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import last_text, reply_language
from desk.conversations import rating_of

_THANKS = {
    "vi": {
        "up": "Dạ, em cảm ơn anh/chị đã đánh giá! Anh/chị cần hỏi thêm gì cứ nhắn em nhé.",
        "down": (
            "Dạ, em xin lỗi vì câu trả lời chưa đúng ý anh/chị. Cán bộ sẽ xem lại để em trả lời "
            'tốt hơn. Anh/chị có thể hỏi lại bằng cách khác, hoặc nhắn "gặp cán bộ" để được '
            "hỗ trợ trực tiếp."
        ),
    },
    "en": {
        "up": "Thank you for the feedback! Just message me if you need anything else.",
        "down": (
            "Sorry the answer did not help. Our staff will review it so I answer better. You can "
            'ask again in other words, or write "talk to a person" for direct help.'
        ),
    },
}


class ActionFeedback(Action):
    """Thanks the citizen for a rating, and says what to do after a thumbs-down."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Replies to the rating in the citizen's language."""
        language = reply_language(tracker)
        entities = (tracker.latest_message or {}).get("entities") or []
        rating = rating_of(last_text(tracker), entities)
        dispatcher.utter_message(text=_THANKS[language][rating])
        return [SlotSet("language", language)]
