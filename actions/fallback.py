"""What to do when the NLU is unsure of the intent."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import last_text, reply_language
from actions.procedures import _send
from actions.runtime import get_runtime

_HELP = {
    "vi": (
        "Dạ, em chưa hiểu ý anh/chị. Em có thể: tra cứu giấy tờ, lệ phí, thời hạn và nơi nộp "
        "của các thủ tục hành chính; tra cứu tình trạng hồ sơ theo mã (ví dụ "
        "000.00.20.H26-251103-0042); hoặc chuyển anh/chị gặp cán bộ."
    ),
    "en": (
        "Sorry, I did not understand. I can tell you the documents, fees, processing time and "
        "where to submit for administrative procedures; check a dossier's status by its code "
        "(e.g. 000.00.20.H26-251103-0042); or pass you to a staff member."
    ),
}


class ActionDefaultFallback(Action):
    """Tries the catalogue with the text; otherwise says what the assistant can do."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Answers an overview when search is confident, else explains what it can do."""
        text = last_text(tracker)
        language = reply_language(tracker)
        if text and not text.startswith("/"):
            # One search: without a current procedure, ask() answers only when confident.
            reply = get_runtime().assistant.ask(text, "overview", language)
            if reply.kind == "answer":
                return [SlotSet("language", language), *_send(dispatcher, reply, language)]
        dispatcher.utter_message(text=_HELP[language])
        return [SlotSet("language", language)]
