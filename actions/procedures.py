"""Actions that answer questions about a procedure."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import entity, last_text, latest_intent, reply_language
from actions.runtime import get_runtime
from knowledge.assistant import INTENT_ASPECTS, Reply
from knowledge.conversations import feedback_buttons
from knowledge.text import fold

_ORDINALS = {
    "1": 1, "mot": 1, "nhat": 1, "first": 1, "one": 1,
    "2": 2, "hai": 2, "second": 2, "two": 2,
    "3": 3, "ba": 3, "third": 3, "three": 3,
}  # fmt: skip
_NUMBER = re.compile(r"\b([1-9])\b")


def _send(dispatcher: CollectingDispatcher, reply: Reply, language: str = "vi") -> list[EventType]:
    buttons = reply.buttons or (feedback_buttons(language) if reply.kind == "answer" else [])
    if buttons:
        dispatcher.utter_message(text=reply.text, buttons=buttons)
    else:
        dispatcher.utter_message(text=reply.text)
    events: list[EventType] = [SlotSet("aspect", reply.aspect)]
    if reply.kind == "answer":
        events += [SlotSet("procedure_code", reply.procedure_code), SlotSet("candidates", None)]
    elif reply.kind == "choose":
        events.append(SlotSet("candidates", reply.candidates))
    return events


class ActionAnswerProcedure(Action):
    """Answers the aspect asked about the procedure the message names or the current one."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Searches the text and answers, keeps the current procedure, or offers choices."""
        text = last_text(tracker)
        language = reply_language(tracker)
        aspect = INTENT_ASPECTS.get(latest_intent(tracker), "overview")
        pending = tracker.get_slot("pending_text") if tracker.get_slot("candidates") else None
        if pending:
            # Choices were offered and the citizen answers with words ("căn cước ạ"): read
            # them together with the question they clarify, and keep its aspect.
            text = f"{pending} {text}"
            if aspect == "overview":
                aspect = tracker.get_slot("aspect") or aspect
        assistant = get_runtime().assistant
        offered = tracker.get_slot("candidates") or None
        reply = assistant.ask(text, aspect, language, tracker.get_slot("procedure_code"), offered)
        events = _send(dispatcher, reply, language)
        events.append(SlotSet("pending_text", text if reply.kind == "choose" else None))
        return [SlotSet("language", language), *events]


def pick_from_text(text: str, candidates: list[str]) -> str | None:
    """Returns the candidate a message like "2", "số 2" or "the second one" picks."""
    if not candidates:
        return None
    folded = fold(text)
    match = _NUMBER.search(folded)
    position = int(match.group(1)) if match else None
    if position is None:
        position = next((_ORDINALS[w] for w in folded.split() if w in _ORDINALS), None)
    if position is None or not 1 <= position <= len(candidates):
        return None
    return candidates[position - 1]


class ActionChooseProcedure(Action):
    """Answers the pending question for the candidate the citizen picked."""

    def name(self) -> str:
        """Action name in the domain."""
        return "action_choose_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Resolves the pick (payload code, option number, ordinal word) and answers."""
        language = reply_language(tracker)
        candidates = tracker.get_slot("candidates") or []
        option = entity(tracker, "option")
        code = entity(tracker, "procedure_code")
        if code is None and option is not None:
            code = pick_from_text(option, candidates)
        if code is None:
            code = pick_from_text(last_text(tracker), candidates)
        assistant = get_runtime().assistant
        aspect = tracker.get_slot("aspect") or "overview"
        if code is None:
            pending = tracker.get_slot("pending_text") or last_text(tracker)
            reply = assistant.ask(pending, aspect, language, tracker.get_slot("procedure_code"))
        else:
            reply = assistant.choose(code, aspect, language)
        return [SlotSet("language", language), *_send(dispatcher, reply, language)]
