"""Helpers shared by the actions: reply language and the citizen's last text."""

from __future__ import annotations

from rasa_sdk import Tracker

from knowledge.query import detect_language


def reply_language(tracker: Tracker) -> str:
    """Returns ``"vi"`` or ``"en"``: the ``language`` slot, else a guess from the message."""
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
