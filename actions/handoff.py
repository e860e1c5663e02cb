"""Handing the conversation to a person at the one-stop shop."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import reply_language
from actions.runtime import get_runtime
from desk.handoffs import office_info

MAX_SUMMARY_CHARS = 600

_REFERENCE = {"vi": "Mã yêu cầu của anh/chị: #{id}.", "en": "Your request number: #{id}."}
_CONTEXT = {"vi": "Nội dung chuyển cán bộ", "en": "Summary for staff"}


def conversation_summary(tracker: Tracker, turns: int = 5) -> str:
    """Returns the citizen's last few messages, newest last, capped in length."""
    texts = [
        e.get("text") or ""
        for e in tracker.events
        if e.get("event") == "user"
        and (e.get("text") or "").strip()
        and not (e.get("text") or "").startswith("/")
    ]
    summary = " | ".join(texts[-turns:])
    return summary[-MAX_SUMMARY_CHARS:]


class ActionHandoff(Action):
    """Records a hand-off request for staff and tells the citizen when to expect contact."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Stores the request (sender, channel, transcript reference, context) and confirms."""
        language = reply_language(tracker)
        dossier = tracker.get_slot("dossier_code")
        procedure = tracker.get_slot("procedure_code")
        handoff = get_runtime().handoffs.create(
            sender=tracker.sender_id,
            channel=tracker.get_latest_input_channel() or "unknown",
            summary=conversation_summary(tracker),
            transcript_ref=f"tracker:{tracker.sender_id}",
            dossier_code=dossier,
            procedure_code=procedure,
            language=language,
        )
        lines = [office_info(language)["message"], _REFERENCE[language].format(id=handoff.id)]
        context = ", ".join(filter(None, [dossier, procedure]))
        if context:
            lines.append(f"{_CONTEXT[language]}: {context}")
        dispatcher.utter_message(text="\n".join(lines))
        return [SlotSet("language", language)]
