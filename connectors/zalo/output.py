"""Rasa's replies to a Zalo user: numbered options instead of buttons, text split at 2,000."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

from rasa.core.channels.channel import OutputChannel

from connectors.common.memories import OptionMemory, SharedOptionMemory
from connectors.common.splitting import split_lines
from connectors.zalo.api import MAX_ZALO_TEXT, ZaloApi

logger = logging.getLogger(__name__)

_TEXT_ONLY = {
    "vi": (
        "Xin lỗi, hiện em chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi, "
        'ví dụ: "làm hộ chiếu cần giấy tờ gì".'
    ),
    "en": (
        "Sorry, I can only read text messages. Please type your question, e.g. "
        '"what documents do I need for a passport".'
    ),
}

_OPTION_REPLY = re.compile(
    r"^\s*(?:(?:số|so|option|number|no\.?|#)\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE
)
_LEADING_NUMBER = re.compile(r"^\s*\d{1,2}\s*[.)]\s*")


def option_number(text: str | None) -> int | None:
    """Reads a reply that is just an option number: ``"2"``, ``"số 2"``, ``"2."``.

    Returns:
        The number (1-based), or ``None`` when the text says more than a number.
    """
    match = _OPTION_REPLY.match(text or "")
    return int(match.group(1)) if match else None


def numbered_text(text: str | None, buttons: Iterable[Mapping[str, Any]]) -> tuple[str, list[str]]:
    """Turns Rasa buttons into numbered lines appended to ``text``.

    Titles already numbered by the bot (``"1. Cấp hộ chiếu"``) are renumbered, not doubled.

    Args:
        text: The message text.
        buttons: Rasa buttons (``title`` and ``payload``).

    Returns:
        The text with ``"1. ..."`` lines, and the payloads in the same order.
    """
    lines = [text.rstrip()] if text and text.strip() else []
    payloads: list[str] = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or title)
        payloads.append(payload)
        lines.append(f"{len(payloads)}. {_LEADING_NUMBER.sub('', title, count=1)}")
    return "\n".join(lines), payloads


def split_text(text: str, limit: int = MAX_ZALO_TEXT) -> list[str]:
    """Splits ``text`` into messages of at most ``limit`` characters, on line boundaries.

    A single line longer than ``limit`` is cut at a space in its second half (or hard at
    the limit when it has none); each message is stripped of surrounding blanks.
    """
    chunks = split_lines(text.strip(), limit)
    return [chunk.strip() for chunk in chunks if chunk.strip()]


def text_only_reply(language: str) -> str:
    """The polite "I read only text" reply, in ``language`` (Vietnamese by default)."""
    return _TEXT_ONLY["en" if language == "en" else "vi"]


class ZaloOutput(OutputChannel):
    """Sends Rasa's replies to one Zalo user.

    Args:
        api: The Zalo API client.
        options: Where numbered options are remembered.
        recipient: Extra recipient fields for anonymous users (``conversation_id``).
    """

    def __init__(
        self,
        api: ZaloApi,
        options: OptionMemory | SharedOptionMemory,
        recipient: dict[str, str] | None = None,
    ) -> None:
        self.api = api
        self.options = options
        self.recipient = recipient or {}
        self.sent = 0
        """Messages Zalo accepted through this output."""
        self.attempted = 0
        """Messages this output tried to send."""

    @classmethod
    def name(cls) -> str:
        """Channel name."""
        return "zalo"

    def _recipient(self, recipient_id: str) -> dict[str, str]:
        if self.recipient.get("conversation_id"):
            return {"anonymous_id": recipient_id, **self.recipient}
        return {"user_id": recipient_id}

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, split into several messages when longer than 2,000 characters."""
        for chunk in split_text(text or ""):
            self.attempted += 1
            if await self.api.send_text(self._recipient(recipient_id), chunk):
                self.sent += 1

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Sends the text with the buttons as numbered lines and remembers their payloads."""
        message, payloads = numbered_text(text, buttons)
        if payloads:
            self.options.offer(recipient_id, payloads)
        await self.send_text_message(recipient_id, message)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sends the image's address as text."""
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: str, **kwargs: Any) -> None:
        """Sends the attachment's address as text."""
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Sends a custom message's ``text`` when it has one; raw JSON never reaches users."""
        text = json_message.get("text") if isinstance(json_message, dict) else None
        if isinstance(text, str) and text.strip():
            await self.send_text_message(recipient_id, text)
        else:
            logger.info("zalo: custom message without text not sent to %s", recipient_id)
