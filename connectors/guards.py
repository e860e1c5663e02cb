"""Checks every channel applies to what citizens send, and the reply when Rasa says nothing.

Everything from outside passes here before Rasa, its stores or the log see it: the text
(cleaned, cut, personal data masked: :func:`check_text`), the sender id (cleaned; a phone
number or e-mail address as id becomes a pseudonym: :func:`check_sender`), the JSON body
(size and depth: :func:`parse_json_body`) and the metadata (depth and size, strings
cleaned: :func:`check_metadata`; REST clients' reduced to a few known keys:
:func:`rest_metadata`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.privacy import EMAIL_MASK, PHONE_MASK, clean_text, mask_pii, pseudonym
from knowledge.query import detect_language

MAX_MESSAGE_CHARS = 2000
"""Longer messages are cut here (and the citizen is told)."""

MAX_SENDER_CHARS = 128

MAX_REST_BODY_BYTES = 64 * 1024
"""A REST or widget body: a message of 2,000 characters and small metadata fit many times."""
MAX_REST_BODY_DEPTH = 10
"""``{"metadata": ...}`` plus the metadata's own depth, with room to spare."""
MAX_PLATFORM_BODY_BYTES = 256 * 1024
"""A Telegram update or Zalo event (a few hundred bytes to a few KB)."""
MAX_PLATFORM_BODY_DEPTH = 32
"""Telegram nests messages in replies a few levels deep; Zalo events are flat."""
MAX_METADATA_DEPTH = 8
MAX_METADATA_BYTES = 4096
"""Metadata is stored with every event of the conversation: it must stay small."""
MAX_METADATA_TEXT = 256
"""A string in metadata is cut here."""
REST_METADATA_KEYS = frozenset(
    {
        "page",
        "url",
        "title",
        "lang",
        "language",
        "locale",
        "portal",
        "ward",
        "source",
        "client",
        "telegram",  # what ``motcua telegram poll`` relays (chat and message ids)
    }
)
"""The only metadata keys a REST or widget client may pass on (values: scalars, or one
flat object of scalars; strings masked)."""

logger = logging.getLogger(__name__)

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
    text = clean_text(text).strip()
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
    """Tells whether a sender id is a usable string (something left once cleaned)."""
    return isinstance(sender, str) and 0 < len(clean_text(sender).strip()) <= MAX_SENDER_CHARS


def check_sender(sender: str) -> str:
    """Returns the sender id to hand to Rasa: cleaned, and a pseudonym when it is personal.

    REST and widget clients choose their own ids, and a portal may use the citizen's
    phone number or e-mail address. Such an id would be stored with every tracker
    event, so it is replaced by its keyed pseudonym (:func:`infra.privacy.pseudonym`,
    the one the conversation log stores): the same id keeps the same conversation, and
    the id itself never reaches Rasa. Telegram and Zalo ids are platform numbers that
    replies are addressed to; they are only cleaned.
    """
    cleaned = clean_text(sender).strip()
    masked = mask_pii(cleaned)
    if PHONE_MASK in masked or EMAIL_MASK in masked:
        return pseudonym(cleaned)
    return cleaned


class BodyError(ValueError):
    """A request body or its metadata refused: the HTTP status and the reason to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests objects and arrays (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_json_body(raw: bytes | None, max_bytes: int, max_depth: int) -> Any:
    """Parses a webhook body within limits of size and nesting.

    Args:
        raw: The body as received.
        max_bytes: The largest body accepted.
        max_depth: The deepest nesting of objects and arrays accepted.

    Returns:
        The parsed JSON value.

    Raises:
        BodyError: 413 for a body over ``max_bytes``, 400 for one that is not JSON or nests
            deeper than ``max_depth`` (a body nested thousands deep is refused by the
            parser itself, never by a ``RecursionError`` further on).
    """
    raw = raw or b""
    if len(raw) > max_bytes:
        raise BodyError(413, f"the body is larger than {max_bytes // 1024} KB")
    try:
        value = json.loads(raw)
    except RecursionError:
        raise BodyError(400, f"the body nests deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise BodyError(400, "the body must be JSON (UTF-8)") from None
    if json_depth(value) > max_depth:
        raise BodyError(400, f"the body nests deeper than {max_depth} levels")
    return value


def _clean_value(value: Any) -> Any:
    """Cleans every string in ``value`` and cuts it to :data:`MAX_METADATA_TEXT` (no recursion)."""
    if isinstance(value, str):
        return clean_text(value)[:MAX_METADATA_TEXT]
    if not isinstance(value, Mapping | list):
        return value
    root: Any = {} if isinstance(value, Mapping) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, Mapping) else enumerate(source)
        for key, item in pairs:
            if isinstance(item, Mapping | list):
                copy: Any = {} if isinstance(item, Mapping) else []
                stack.append((item, copy))
            else:
                copy = clean_text(item)[:MAX_METADATA_TEXT] if isinstance(item, str) else item
            if isinstance(target, dict):
                target[clean_text(str(key))[:MAX_METADATA_TEXT]] = copy
            else:
                target.append(copy)
    return root


def check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Returns metadata fit to store with every event: limited in depth and size, cleaned.

    Raises:
        BodyError: 400 when it nests deeper than :data:`MAX_METADATA_DEPTH` or its JSON
            is over :data:`MAX_METADATA_BYTES`.
    """
    if not metadata:
        return {}
    if json_depth(metadata) > MAX_METADATA_DEPTH:
        raise BodyError(400, f"'metadata' nests deeper than {MAX_METADATA_DEPTH} levels")
    cleaned = _clean_value(metadata)
    size = len(json.dumps(cleaned, ensure_ascii=False, default=str).encode("utf-8"))
    if size > MAX_METADATA_BYTES:
        raise BodyError(400, f"'metadata' is larger than {MAX_METADATA_BYTES} bytes")
    return cleaned


def _scalar(value: Any) -> Any:
    """A string (masked), number or boolean as it may be stored; ``None`` for anything else."""
    if isinstance(value, str):
        return mask_pii(value)
    return value if isinstance(value, bool | int | float) else None


def rest_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keeps what a REST or widget client may store: known keys, scalar values, masked.

    The metadata passes :func:`check_metadata` first (so a deep or huge object is still
    answered with a 400); then every key but :data:`REST_METADATA_KEYS` is dropped, as
    is any value that is neither a string, number or boolean nor a flat object of them,
    and strings are masked (:func:`infra.privacy.mask_pii`): a page URL may carry a
    phone number.

    Raises:
        BodyError: As :func:`check_metadata`.
    """
    kept: dict[str, Any] = {}
    for key, value in check_metadata(metadata).items():
        if key not in REST_METADATA_KEYS:
            continue
        if isinstance(value, dict):
            flat = {k: _scalar(v) for k, v in value.items() if _scalar(v) is not None}
            if flat:
                kept[key] = flat
        elif _scalar(value) is not None:
            kept[key] = _scalar(value)
    dropped = set(metadata or {}) - set(kept)
    if dropped:
        logger.debug("metadata keys not kept: %s", sorted(map(str, dropped))[:10])
    return kept
