"""Telegram updates read as turns: what a message, command or button tap asks of the assistant."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from telegram import Message, Update, User

from connectors.common.memories import PayloadKeys
from connectors.guards import MAX_MESSAGE_CHARS, channel_text, check_text
from infra.privacy import clean_text

_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?$")
_CONTENT_TYPES = (
    "sticker",
    "photo",
    "voice",
    "audio",
    "video",
    "video_note",
    "document",
    "animation",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
_TEXTS = {
    "vi": {
        "help": (
            "Em là trợ lý thủ tục hành chính một cửa. Anh/chị cứ hỏi bằng lời thường, ví dụ:\n"
            "• làm hộ chiếu cần giấy tờ gì\n"
            "• đăng ký khai sinh mất bao lâu\n"
            "• hồ sơ 000.00.20.H26-251103-0042 đến đâu rồi\n"
            "Lệnh: /start chào, /help trợ giúp, /lang en (English) hoặc /lang vi (tiếng Việt)."
        ),
        "lang_usage": "Dùng /lang vi (tiếng Việt) hoặc /lang en (English).",
        "only_text": (
            "Xin lỗi, em chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi, "
            'ví dụ: "làm hộ chiếu cần giấy tờ gì".'
        ),
        "expired": "Nút này đã hết hạn, anh/chị vui lòng hỏi lại.",
    },
    "en": {
        "help": (
            "I answer questions about administrative procedures. Just ask in your own words, "
            "e.g.:\n"
            "• what documents do I need for a passport\n"
            "• how long does birth registration take\n"
            "• status of dossier 000.00.20.H26-251103-0042\n"
            "Commands: /start hello, /help this help, /lang vi (Vietnamese) or /lang en "
            "(English)."
        ),
        "lang_usage": "Use /lang en (English) or /lang vi (Vietnamese).",
        "only_text": (
            "Sorry, I can only read text messages. Please type your question, e.g. "
            '"what documents do I need for a passport".'
        ),
        "expired": "This button has expired; please ask again.",
    },
}


def telegram_text(key: str, language: str) -> str:
    """Returns a Telegram-only channel text ("help", "lang_usage", "only_text", "expired")."""
    return _TEXTS["en" if language == "en" else "vi"][key]


PAYLOADS = PayloadKeys()
"""The process-wide map shared by every output and input channel unless one is given."""


@dataclass
class Turn:
    """What one update asks of the assistant.

    Attributes:
        sender: The Rasa sender id (the chat id).
        language: Language for channel-level texts.
        text: What to feed Rasa (``None``: nothing).
        reply: A channel-level answer that replaces Rasa.
        notice: A channel-level note sent before Rasa's answer (e.g. message cut).
        callback_query_id: The button tap to acknowledge.
        metadata: Passed to Rasa with the message.
    """

    sender: str
    language: str
    text: str | None = None
    reply: str | None = None
    notice: str | None = None
    callback_query_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def _language_hint(user: User | None) -> str | None:
    code = ((user.language_code if user else None) or "").lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("vi"):
        return "vi"
    return None


def _metadata(update: Update, message: Message | None, user: User | None) -> dict[str, Any]:
    data: dict[str, Any] = {"update_id": update.update_id}
    if message is not None:
        data["chat_id"] = message.chat.id
        data["chat_type"] = message.chat.type
        data["message_id"] = message.message_id
    if user is not None:
        data["user_id"] = user.id
        if user.language_code:
            data["language_code"] = user.language_code
    return {"telegram": data}


def _command_turn(turn: Turn, command: str, argument: str) -> Turn:
    if command == "start":
        turn.text = "/greet"
    elif command == "help":
        turn.reply = telegram_text("help", turn.language)
    elif command == "lang":
        wanted = argument.strip().lower()[:2]
        if wanted in ("vi", "en"):
            turn.text = "/change_language" + json.dumps({"language": wanted})
        else:
            turn.reply = telegram_text("lang_usage", turn.language)
    else:
        turn.reply = telegram_text("help", turn.language)
    return turn


def parse_update(update: Update, payloads: PayloadKeys | None = None) -> Turn | None:
    """Turns an update into a :class:`Turn`; ``None`` for updates needing no answer.

    Args:
        update: The parsed update.
        payloads: The map behind short button keys (the process-wide one by default).
    """
    payloads = payloads or PAYLOADS
    query = update.callback_query
    if query is not None:
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        turn = Turn(
            str(chat_id),
            _language_hint(query.from_user) or "vi",
            callback_query_id=query.id,
            metadata=_metadata(update, None, query.from_user),
        )
        turn.metadata["telegram"]["chat_id"] = chat_id
        payload = payloads.payload(query.data or "")
        if payload is None:
            turn.reply = telegram_text("expired", turn.language)
        elif clean_text(payload).strip():  # a modified client can send any callback_data
            turn.text = clean_text(payload).strip()[:MAX_MESSAGE_CHARS]
        return turn

    message = update.message
    if message is None:  # edits, channel posts, membership changes: nothing to answer
        return None
    user = message.from_user
    if user is not None and user.is_bot:
        return None
    hint = _language_hint(user)
    turn = Turn(str(message.chat.id), hint or "vi", metadata=_metadata(update, message, user))
    if message.text is None:
        if any(getattr(message, kind, None) for kind in _CONTENT_TYPES):
            turn.reply = telegram_text("only_text", turn.language)
            return turn
        return None  # service messages (members joined, pinned, ...)
    first, _, rest = message.text.strip().partition(" ")
    command = _COMMAND_RE.match(first)
    if command:
        return _command_turn(turn, command.group(1).lower(), rest)
    incoming = check_text(message.text)
    turn.language = incoming.language if incoming.text else turn.language
    if incoming.empty:
        turn.reply = channel_text("empty", turn.language)
        return turn
    turn.text = incoming.text
    if incoming.truncated:
        turn.notice = channel_text("too_long", turn.language, n=len(incoming.text))
    return turn
