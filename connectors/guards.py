"""Checks every channel applies to what citizens send, and the reply when Rasa says nothing."""

from __future__ import annotations

from dataclasses import dataclass

from infra.privacy import mask_pii
from knowledge.query import detect_language

MAX_MESSAGE_CHARS = 2000
"""Longer messages are cut here (and the citizen is told)."""

MAX_SENDER_CHARS = 128

_TEXTS = {
    "vi": {
        "busy": (
            "Xin lỗi anh/chị, hệ thống đang bận nên em chưa trả lời được. "
            "Anh/chị vui lòng thử lại sau ít phút, hoặc gọi tổng đài 1022."
        ),
        "empty": 'Anh/chị vui lòng nhập câu hỏi, ví dụ: "làm hộ chiếu cần giấy tờ gì".',
        "too_long": "Tin nhắn khá dài nên em chỉ đọc {n} ký tự đầu tiên.",
    },
    "en": {
        "busy": (
            "Sorry, the service is busy and could not answer. Please try again in a few "
            "minutes, or call the 1022 hotline."
        ),
        "empty": 'Please type a question, e.g. "what documents do I need for a passport".',
        "too_long": "Your message was long, so I read only its first {n} characters.",
    },
}


@dataclass
class Incoming:
    """A checked incoming message.

    Attributes:
        text: The text to hand to Rasa (cut to :data:`MAX_MESSAGE_CHARS`).
        language: Best guess of the citizen's language, for channel-level replies.
        truncated: Whether the text was cut.
    """

    text: str
    language: str
    truncated: bool

    @property
    def empty(self) -> bool:
        """Whether there is nothing to answer."""
        return not self.text.strip()


def check_text(text: str | None) -> Incoming:
    """Normalises an incoming text: strips it, caps its length, masks personal data.

    ID-card numbers, phone numbers and e-mail addresses are replaced here, before Rasa
    sees the message, so trackers, conversation events, the staff console and logs never
    hold them (:func:`infra.privacy.mask_pii`; dossier codes are kept).
    """
    text = (text or "").strip()
    truncated = len(text) > MAX_MESSAGE_CHARS
    if truncated:
        text = text[:MAX_MESSAGE_CHARS]
    text = mask_pii(text)
    return Incoming(text, detect_language(text) if text else "vi", truncated)


def channel_text(key: str, language: str, **values: object) -> str:
    """Returns a channel-level message ("busy", "empty", "too_long") in ``language``."""
    texts = _TEXTS["en" if language == "en" else "vi"]
    return texts[key].format(**values)


def valid_sender(sender: object) -> bool:
    """Tells whether a sender id is a usable string."""
    return isinstance(sender, str) and 0 < len(sender.strip()) <= MAX_SENDER_CHARS
