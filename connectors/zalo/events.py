"""Zalo webhook events: which need an answer, who sent them, and the id retries share."""

from __future__ import annotations

from typing import Any

from connectors.zalo.signature import as_id
from infra.privacy import clean_text

TEXT_EVENTS = frozenset({"user_send_text", "anonymous_send_text"})
MEDIA_EVENTS = frozenset(
    {
        "user_send_image",
        "user_send_file",
        "user_send_link",
        "user_send_audio",
        "user_send_video",
        "user_send_sticker",
        "user_send_location",
        "user_send_gif",
        "anonymous_send_image",
        "anonymous_send_file",
        "anonymous_send_sticker",
    }
)
QUIET_EVENTS = frozenset(
    {"user_received_message", "user_seen_message", "unfollow", "user_click_button"}
)
"""Known events that need no answer (receipts, unfollows, clicks Zalo also sends as text)."""

GREET_PAYLOAD = "/greet"


def event_key(event: dict[str, Any]) -> str:
    """The id Zalo's retries share: ``message.msg_id``, else event, sender and timestamp."""
    message = event.get("message")
    msg_id = as_id(message.get("msg_id")) if isinstance(message, dict) else ""
    if msg_id:
        return msg_id
    return f"{event.get('event_name')}:{sender_id(event)}:{as_id(event.get('timestamp'))}"


def sender_id(event: dict[str, Any]) -> str:
    """The user an event comes from: ``sender.id``, or ``follower.id`` for (un)follows."""
    for key in ("sender", "follower"):
        who = event.get(key)
        sender = clean_text(as_id(who.get("id"))) if isinstance(who, dict) else ""
        if sender:
            return sender
    return ""
