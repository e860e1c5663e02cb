"""What to do when the NLU is unsure of the intent."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import last_text, reply_language
from actions.procedures import send_reply
from actions.runtime import get_runtime
from knowledge.understanding import default_lexicon, detect_aspects

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
        """Answers (or offers candidates) when the text names a procedure, else explains."""
        text = last_text(tracker)
        language = reply_language(tracker)
        if text and not text.startswith("/"):
            # Understanding first: a message that names a procedure topic is a procedure
            # question even when the NLU was unsure (answered, or the candidates offered).
            assistant = get_runtime().assistant
            aspects = detect_aspects(text) or ["overview"]
            reply = assistant.ask(text, aspects, language, tracker.get_slot("procedure_code"))
            if reply.kind == "answer" or (
                reply.kind == "choose" and default_lexicon().names_topic(text)
            ):
                events = send_reply(dispatcher, reply, language)
                if reply.kind == "choose":
                    events.append(SlotSet("pending_text", text))
                return [SlotSet("language", language), *events]
        dispatcher.utter_message(text=_HELP[language])
        return [SlotSet("language", language)]
