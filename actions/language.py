"""Switching the reply language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import dossier_in_focus, entity, last_text
from actions.procedures import send_reply
from actions.runtime import get_runtime
from knowledge.text import fold
from knowledge.understanding import requested_language as explicit_wish

_CONFIRM = {
    "vi": "Dạ, em sẽ trả lời bằng tiếng Việt. Anh/chị cần hỏi về thủ tục nào ạ?",
    "en": "Sure, I will answer in English. Which procedure can I help you with?",
}
_AGAIN = {
    "vi": "Dạ, em sẽ trả lời bằng tiếng Việt. Em nhắc lại câu trả lời vừa rồi:",
    "en": "Sure, I will answer in English. Here is my last answer again:",
}


def requested_language(text: str) -> str | None:
    """Returns the language a message asks for ("nói tiếng Anh đi" -> ``"en"``).

    The explicit wishes of :func:`knowledge.understanding.requested_language` first; a
    message the NLU took for a language change that only names a language ("tiếng Anh?",
    "English") counts too.
    """
    wish = explicit_wish(text)
    if wish is not None:
        return wish
    folded = fold(text)
    if any(w in folded for w in ("tieng anh", "english", "anh ngu")) or folded == "en":
        return "en"
    if any(w in folded for w in ("tieng viet", "vietnamese")) or folded == "vi":
        return "vi"
    return None


class ActionSetLanguage(Action):
    """Sets the reply language the citizen asked for and confirms in it."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Switches between Vietnamese and English (toggles when the wish is unclear).

        The choice is remembered (slot ``preferred_language``) until the citizen asks again.
        """
        wanted = requested_language(last_text(tracker))
        if wanted is None:
            payload = entity(tracker, "language")
            current = tracker.get_slot("language") or "vi"
            wanted = payload if payload in ("vi", "en") else ("en" if current == "vi" else "vi")
        events: list[EventType] = [
            SlotSet("language", wanted),
            SlotSet("preferred_language", wanted),
        ]
        code = tracker.get_slot("procedure_code")
        if code and not dossier_in_focus(tracker):
            # A procedure was being discussed: its last answer again, in the new language.
            aspects = tracker.get_slot("aspects") or [tracker.get_slot("aspect") or "overview"]
            reply = get_runtime().assistant.choose(code, aspects, wanted)
            if reply.kind == "answer":
                dispatcher.utter_message(text=_AGAIN[wanted])
                return [*events, *send_reply(dispatcher, reply, wanted)]
        dispatcher.utter_message(text=_CONFIRM[wanted])
        return events
