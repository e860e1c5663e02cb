"""Switching the reply language."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, last_text
from knowledge.text import fold
from knowledge.understanding import requested_language as explicit_wish

_CONFIRM = {
    "vi": "Dạ, em sẽ trả lời bằng tiếng Việt. Anh/chị cần hỏi về thủ tục nào ạ?",
    "en": "Sure, I will answer in English. Which procedure can I help you with?",
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
        dispatcher.utter_message(text=_CONFIRM[wanted])
        return [SlotSet("language", wanted), SlotSet("preferred_language", wanted)]
