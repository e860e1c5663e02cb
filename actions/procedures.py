"""Actions that answer questions about a procedure."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (
    dossier_in_focus,
    entity,
    language_events,
    last_offered,
    last_text,
    latest_intent,
    reply_language,
)
from actions.dossiers import ActionDossierStatus
from actions.runtime import get_runtime
from desk.conversations import feedback_buttons
from knowledge.assistant import INTENT_ASPECTS, Reply
from knowledge.text import fold
from knowledge.understanding import asks_about_progress, detect_aspects, has_cue

_ORDINALS = {
    "1": 1, "mot": 1, "nhat": 1, "first": 1, "one": 1,
    "2": 2, "hai": 2, "second": 2, "two": 2,
    "3": 3, "ba": 3, "third": 3, "three": 3,
}  # fmt: skip
_NUMBER = re.compile(
    r"\b([1-9])\b(?! (tuan|ngay|thang|nam|tuoi|gio|lan|ban|bo|trieu|nghin|"
    r"ngan|k|tr|week|weeks|day|days|month|months|year|years|hour|hours|copy|copies)\b)"
)
"""An option number ("2", "số 2"), not an amount ("1 tuần", "2 bản", "3 days")."""


def send_reply(
    dispatcher: CollectingDispatcher, reply: Reply, language: str = "vi"
) -> list[EventType]:
    """Sends a reply (its buttons, or feedback buttons under an answer); returns slot events."""
    buttons = reply.buttons or (feedback_buttons(language) if reply.kind == "answer" else [])
    if buttons:
        dispatcher.utter_message(text=reply.text, buttons=buttons)
    else:
        dispatcher.utter_message(text=reply.text)
    events: list[EventType] = [SlotSet("aspect", reply.aspect), SlotSet("aspects", reply.aspects)]
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
        if dossier_in_focus(tracker) and asks_about_progress(text):
            # "khi nào xong?" right after a dossier lookup: about that dossier, not a
            # procedure (the search would find one that has "xong" in its name).
            return await ActionDossierStatus().run(dispatcher, tracker, domain)
        language = reply_language(tracker)
        aspects = asked_aspects(text, latest_intent(tracker))
        assistant = get_runtime().assistant
        offered = tracker.get_slot("candidates") or None
        pending = tracker.get_slot("pending_text") if offered else None
        reply = None
        if offered and aspects == ["overview"]:
            # "căn cước ạ" after an offer answers the question that was pending.
            aspects = tracker.get_slot("aspects") or [tracker.get_slot("aspect") or "overview"]
        if offered:
            # Choices are pending: an aspect-only follow-up keeps them, a message naming
            # one of them answers it.
            reply = assistant.follow_choices(text, aspects, language, offered)
        if reply is None and pending:
            # The citizen answers the offer with words ("căn cước ạ"): read them together
            # with the question they clarify, and keep its aspect.
            text = f"{pending} {text}"
            if aspects == ["overview"]:
                aspects = [tracker.get_slot("aspect") or "overview"]
        if reply is None:
            code = tracker.get_slot("procedure_code")
            reply = assistant.ask(text, aspects, language, code, offered)
        events = send_reply(dispatcher, reply, language)
        if reply.kind == "choose":
            events.append(SlotSet("pending_text", pending or text))
        else:
            events.append(SlotSet("pending_text", None))
        return [*language_events(tracker, language), *events]


def asked_aspects(text: str, intent: str) -> list[str]:
    """Returns the aspects a message asks.

    Every one it names when it names several ("cần giấy tờ gì và hết bao nhiêu tiền"),
    else the one the NLU recognised.
    """
    aspect = INTENT_ASPECTS.get(intent, "overview")
    named = detect_aspects(text)
    if len(named) >= 2:
        return named if aspect in named or aspect == "overview" else [aspect, *named]
    if named and (aspect == "overview" or not has_cue(text, aspect)):
        # The words name one aspect and nothing in them backs the classifier's choice
        # ("1 tuần có xong không?" is about time, whatever the classifier said).
        return named
    return [aspect]


def pick_from_text(text: str, candidates: list[str | None]) -> str | None:
    """Returns the candidate a message like "2", "số 2" or "the second one" picks."""
    if not candidates:
        return None
    folded = fold(text)
    match = _NUMBER.search(folded)
    position = int(match.group(1)) if match else None
    if position is None:
        words = [w for w in folded.split() if not w.isdigit()]  # digits: only as options
        position = next((_ORDINALS[w] for w in words if w in _ORDINALS), None)
    if position is None and re.search(r"\bdau tien\b", folded):
        position = 1  # "cái đầu tiên"
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
        candidates = tracker.get_slot("candidates") or last_offered(tracker)
        option = entity(tracker, "option")
        code = entity(tracker, "procedure_code")
        if code is None and option is not None:
            code = pick_from_text(option, candidates)
        if code is None:
            code = pick_from_text(last_text(tracker), candidates)
        assistant = get_runtime().assistant
        aspect = tracker.get_slot("aspects") or tracker.get_slot("aspect") or "overview"
        if code is None and not candidates and pick_from_text(last_text(tracker), "123") is None:
            # Nothing was offered: "1 tuần có xong không?" is a question, not a pick.
            text = last_text(tracker)
            named = detect_aspects(text)
            reply = assistant.ask(
                text, named or aspect, language, tracker.get_slot("procedure_code")
            )
        elif code is None and not candidates and tracker.get_slot("procedure_code"):
            # "cái đầu tiên" with nothing offered: the procedure under discussion (its words
            # are no question: "cái" would find "cai nghiện").
            reply = assistant.choose(tracker.get_slot("procedure_code"), aspect, language)
        elif code is None:
            pending = tracker.get_slot("pending_text") or last_text(tracker)
            reply = assistant.ask(pending, aspect, language, tracker.get_slot("procedure_code"))
        else:
            reply = assistant.choose(code, aspect, language)
        return [*language_events(tracker, language), *send_reply(dispatcher, reply, language)]
