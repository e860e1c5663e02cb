"""Helpers shared by the actions: reply language and the citizen's last text."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from knowledge.query import detect_language
from knowledge.understanding import requested_language


def reply_language(tracker: Tracker) -> str:
    """Returns ``"vi"`` or ``"en"``, the language to reply in.

    An explicit wish in the latest message ("please answer in English") wins, then a wish
    made earlier in the conversation (slot ``preferred_language``), then the language the
    NLU heard (slot ``language``), else a guess from the message.
    """
    wish = requested_language(last_text(tracker))
    if wish is not None:
        return wish
    preferred = tracker.get_slot("preferred_language")
    if preferred in ("vi", "en"):
        return preferred
    slot = tracker.get_slot("language")
    if slot in ("vi", "en"):
        return slot
    return detect_language(last_text(tracker))


def last_text(tracker: Tracker) -> str:
    """Returns the text of the latest user message ("" for none)."""
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str:
    """Returns the name of the latest user message's intent ("" for none)."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name") or ""


def entity(tracker: Tracker, name: str) -> str | None:
    """Returns the first value of entity ``name`` in the latest message, if any."""
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def language_events(tracker: Tracker, language: str) -> list[EventType]:
    """Returns the slot events that keep the reply language (and remember a wish)."""
    events: list[EventType] = [SlotSet("language", language)]
    if requested_language(last_text(tracker)) is not None:
        events.append(SlotSet("preferred_language", language))
    return events


_SUBJECT_ACTIONS = frozenset(
    {"action_dossier_status", "action_answer_procedure", "action_choose_procedure"}
)


def dossier_in_focus(tracker: Tracker) -> bool:
    """Tells whether the latest subject of the conversation is a dossier, not a procedure.

    True when a dossier was looked up and no procedure was answered since.
    """
    if not tracker.get_slot("dossier_code"):
        return False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") in _SUBJECT_ACTIONS:
            return event["name"] == "action_dossier_status"
    return False


_PICKED_CODE = re.compile(r'"procedure_code"\s*:\s*"([^"]+)"')
_TITLE_NUMBER = re.compile(r"^\s*(\d+)\.\s")


def last_offered(tracker: Tracker) -> list[str | None]:
    """Returns the procedure codes of the buttons under the assistant's last message.

    An answer that also lists other candidates ("1. Cấp đổi thẻ căn cước") offers them as
    buttons without a pending choice: "cái thứ 2" picks from these. Buttons numbered in
    their titles keep their numbers ("2. …", "3. …" under the answer to the first of three
    choices): a number no button carries is the procedure under discussion.
    """
    for event in reversed(tracker.events):
        if event.get("event") != "bot":
            continue
        numbered: dict[int, str] = {}
        for n, button in enumerate((event.get("data") or {}).get("buttons") or [], 1):
            code = _PICKED_CODE.search(str(button.get("payload", "")))
            if code:
                title = _TITLE_NUMBER.match(str(button.get("title", "")))
                numbered[int(title.group(1)) if title else n] = code.group(1)
        if not numbered:
            return []
        current = tracker.get_slot("procedure_code")
        return [numbered.get(n, current) for n in range(1, max(numbered) + 1)]
    return []
