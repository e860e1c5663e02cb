r"""The Telegram channel: a Rasa input/output pair on python-telegram-bot's ``Bot``.

Rasa's own Telegram channel (aiogram) re-registers the webhook on every start and
hits Telegram's rate limit (RasaHQ/rasa#4128), and trusts any caller of its URL.
This one:

* checks the ``X-Telegram-Bot-Api-Secret-Token`` header (403 otherwise), answers
  200 at once and handles the update in a background task, drops repeated
  ``update_id``\ s;
* registers the webhook only when Telegram reports another URL (:func:`ensure_webhook`);
* maps ``/start``, ``/help`` and ``/lang vi|en``, answers button taps, tells the
  citizen when a message is not text, too long or empty, and sends the "busy"
  text when Rasa produces nothing;
* sends plain text (no ``parse_mode``, so ``<``, ``&``, ``*``, ``_`` arrive as
  typed), split under 4,096 characters at line boundaries; button payloads longer
  than Telegram's 64 bytes travel as short keys;
* retries once after a ``RetryAfter`` or a timeout and never lets an API error
  escape.

Without a public URL, :func:`run_polling` long-polls ``getUpdates`` and relays
each message to the REST channel (``motcua telegram poll``).

Settings (``credentials.yml``, or the environment through :func:`credentials_from_env`)::

    connectors.telegram.TelegramInput:
      token: ${MOTCUA_TELEGRAM_TOKEN}
      webhook_url: https://bot.example.gov.vn/webhooks/telegram/webhook
      secret_token: ${MOTCUA_TELEGRAM_SECRET}
      api_base_url: https://api.telegram.org/bot   # optional

The map from short button keys back to payloads, and the update ids already handled,
live in the process; with ``MOTCUA_REDIS_URL`` (or the lock store's Redis) they live in
Redis (:mod:`connectors.shared`), so a tap or a retried update reaching another replica,
or arriving after a restart, is handled as if it had reached the same one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from connectors.guards import RecentKeys, channel_text, check_text
from connectors.shared import (
    SharedPayloadKeys,
    SharedRecentKeys,
    redis_client,
    redis_url_from_env,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT_CHARS = 4096
"""Telegram's limit for one message (counted in UTF-16 code units)."""
MAX_CALLBACK_BYTES = 64
"""Telegram's limit for a button's ``callback_data``."""
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_RETRY_WAIT_S = 30.0
"""A ``RetryAfter`` longer than this is not waited for: the message is dropped and logged."""

_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_COMMAND_RE = re.compile(r"^/([A-Za-z0-9_]+)(?:@\w+)?$")
_PAYLOAD_KEY_PREFIX = "p:"
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
_SEND_MESSAGE_KEYS = frozenset(
    {
        "disable_notification",
        "entities",
        "link_preview_options",
        "message_thread_id",
        "parse_mode",
        "protect_content",
        "reply_markup",
    }
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


# --------------------------------------------------------------------------- settings


def credentials_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """Returns the channel's credentials from ``MOTCUA_TELEGRAM_*`` variables.

    Args:
        env: The environment (usually ``os.environ``).

    Returns:
        ``None`` when ``MOTCUA_TELEGRAM_TOKEN`` is unset or empty (the channel is off),
        otherwise a dict for :meth:`TelegramInput.from_credentials` holding the set keys
        (a missing secret is left for ``from_credentials`` to report).
    """
    token = (env.get("MOTCUA_TELEGRAM_TOKEN") or "").strip()
    if not token:
        return None
    credentials = {"token": token}
    for key, variable in (
        ("webhook_url", "MOTCUA_TELEGRAM_WEBHOOK_URL"),
        ("secret_token", "MOTCUA_TELEGRAM_SECRET"),
        ("api_base_url", "MOTCUA_TELEGRAM_API_URL"),
    ):
        value = (env.get(variable) or "").strip()
        if value:
            credentials[key] = value
    redis_url = redis_url_from_env(env)
    if redis_url:
        credentials["redis_url"] = redis_url
    return credentials


def _setting(credentials: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    value = credentials.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RasaException(
                f"telegram channel: credentials need '{key}' "
                f"(MOTCUA_TELEGRAM_{'SECRET' if key == 'secret_token' else key.upper()})"
            )
        return None
    if not isinstance(value, str):
        raise RasaException(f"telegram channel: '{key}' must be a string")
    value = value.strip()
    if value.startswith("${"):
        raise RasaException(f"telegram channel: '{key}' is an unexpanded variable: {value}")
    return value


def make_bot(token: str, api_base_url: str = DEFAULT_API_BASE_URL, poll_timeout: int = 0) -> Bot:
    """Returns a PTB ``Bot`` talking to ``api_base_url`` (not yet initialised).

    Args:
        token: The bot token.
        api_base_url: Bot API prefix the token is appended to.
        poll_timeout: Long-poll seconds ``getUpdates`` will use (its read timeout allows for it).
    """
    return Bot(
        token,
        base_url=api_base_url,
        request=HTTPXRequest(connection_pool_size=32, read_timeout=10.0, connect_timeout=5.0),
        get_updates_request=HTTPXRequest(
            connection_pool_size=2, read_timeout=poll_timeout + 10.0, connect_timeout=5.0
        ),
    )


# --------------------------------------------------------------------------- small helpers


class PayloadKeys:
    """Maps button payloads too long for ``callback_data`` to short keys ``p:<n>`` and back."""

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._counter = 0
        self._by_payload: OrderedDict[str, str] = OrderedDict()
        self._by_key: dict[str, str] = {}

    def callback_data(self, payload: str) -> str:
        """Returns what to put in ``callback_data`` for ``payload`` (itself when it fits)."""
        fits = len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES
        if fits and not payload.startswith(_PAYLOAD_KEY_PREFIX):
            return payload
        key = self._by_payload.get(payload)
        if key is not None:
            self._by_payload.move_to_end(payload)
            return key
        self._counter += 1
        key = f"{_PAYLOAD_KEY_PREFIX}{self._counter}"
        self._by_payload[payload] = key
        self._by_key[key] = payload
        if len(self._by_payload) > self._size:
            _, old_key = self._by_payload.popitem(last=False)
            self._by_key.pop(old_key, None)
        return key

    def payload(self, data: str) -> str | None:
        """Returns the payload behind ``callback_data``; ``None`` for a forgotten key."""
        if data.startswith(_PAYLOAD_KEY_PREFIX):
            return self._by_key.get(data)
        return data


_PAYLOADS = PayloadKeys()
"""The process-wide map shared by every output and input channel unless one is given."""


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int) -> list[str]:
    """Splits one over-long line, at a space where possible."""
    parts = []
    while _utf16_len(line) > limit:
        cut = limit
        while _utf16_len(line[:cut]) > limit:  # astral characters count twice
            cut -= 1
        space = line.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        parts.append(line[:cut])
        line = line[cut:]
    if line:
        parts.append(line)
    return parts


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Splits ``text`` into messages of at most ``limit`` UTF-16 units at line boundaries.

    A single line longer than ``limit`` is split inside (at a space when there is one
    in its second half). Blank chunks are dropped.
    """
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        if _utf16_len(current) + _utf16_len(line) <= limit:
            current += line
            continue
        if current.strip():
            chunks.append(current.rstrip("\n"))
        current = ""
        if _utf16_len(line) <= limit:
            current = line
            continue
        pieces = _hard_split(line.rstrip("\n"), limit)
        chunks.extend(pieces[:-1])
        current = pieces[-1] if pieces else ""
    if current.strip():
        chunks.append(current.rstrip("\n"))
    return chunks


def _seconds(delay: int | float | timedelta) -> float:
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


async def call_api(
    what: str,
    make_call: Callable[[], Awaitable[T]],
    max_retry_wait: float = MAX_RETRY_WAIT_S,
) -> T | None:
    """Calls the Bot API; retries once after ``RetryAfter`` or a timeout; never raises.

    Args:
        what: Name of the call, for the log.
        make_call: Returns a fresh awaitable of the call on each try.
        max_retry_wait: Longest ``RetryAfter`` worth waiting for, in seconds.

    Returns:
        The call's result, or ``None`` when it failed (the failure is logged).
    """
    for attempt in (1, 2):
        try:
            return await make_call()
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB deprecates the int form of retry_after
                warnings.simplefilter("ignore")
                wait = _seconds(exc.retry_after)
            if attempt == 2 or wait > max_retry_wait:
                logger.error("telegram: %s rate-limited (retry after %ss); dropped", what, wait)
                return None
            logger.warning("telegram: %s rate-limited; retrying in %ss", what, wait)
            await asyncio.sleep(wait)
        except TimedOut:
            if attempt == 2:
                logger.error("telegram: %s timed out twice; dropped", what)
                return None
            logger.warning("telegram: %s timed out; retrying once", what)
        except Forbidden as exc:
            logger.warning(
                "telegram: %s refused (the user may have blocked the bot): %s", what, exc
            )
            return None
        except BadRequest as exc:
            logger.error("telegram: %s rejected by the Bot API: %s", what, exc)
            return None
        except TelegramError as exc:
            logger.error("telegram: %s failed: %s: %s", what, type(exc).__name__, exc)
            return None
        except Exception:
            logger.exception("telegram: %s failed unexpectedly", what)
            return None
    return None  # pragma: no cover


async def ensure_webhook(
    bot: Bot,
    url: str,
    secret: str,
    *,
    force: bool = False,
    allowed_updates: list[str] | None = None,
) -> bool:
    """Registers ``url`` as the bot's webhook unless Telegram already has it.

    Telegram does not report the secret, so after changing only the secret call this
    with ``force=True`` (or register through another URL).

    Args:
        bot: An initialised bot.
        url: The public webhook URL.
        secret: The ``secret_token`` Telegram will echo in every update's header.
        force: Register even when the URL matches.
        allowed_updates: Update kinds to receive (default: messages and button taps).

    Returns:
        Whether ``setWebhook`` was called.

    Raises:
        TelegramError: When Telegram cannot be asked or refuses the registration.
    """
    allowed = allowed_updates or ALLOWED_UPDATES
    info = await bot.get_webhook_info()
    if info.last_error_message:
        logger.warning("telegram: last webhook delivery error: %s", info.last_error_message)
    same = info.url == url and (
        not info.allowed_updates or set(info.allowed_updates) == set(allowed)
    )
    if same and not force:
        logger.info("telegram: webhook already set to %s", url)
        return False
    await bot.set_webhook(url, secret_token=secret, allowed_updates=allowed)
    logger.info("telegram: webhook registered: %s", url)
    return True


# --------------------------------------------------------------------------- updates


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
    payloads = payloads or _PAYLOADS
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
        elif payload.strip():
            turn.text = payload.strip()
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


# --------------------------------------------------------------------------- output


class TelegramOutput(OutputChannel):
    """Sends Rasa's messages to a Telegram chat as plain text (no parse mode).

    Args:
        bot: An initialised bot.
        payloads: The map for long button payloads (the process-wide one by default).
        max_retry_wait: Longest ``RetryAfter`` worth waiting for, in seconds.
    """

    @classmethod
    def name(cls) -> str:
        """Channel name."""
        return "telegram"

    def __init__(
        self,
        bot: Bot,
        payloads: PayloadKeys | None = None,
        max_retry_wait: float = MAX_RETRY_WAIT_S,
    ) -> None:
        self.bot = bot
        self.payloads = payloads or _PAYLOADS
        self.max_retry_wait = max_retry_wait
        self.asked = 0
        """How many messages Rasa asked this output to send."""

    async def _call(self, what: str, make_call: Callable[[], Awaitable[T]]) -> T | None:
        return await call_api(what, make_call, self.max_retry_wait)

    async def _send_text(self, chat_id: str, text: str, markup: Any = None, **extra: Any) -> None:
        chunks = split_text(text or "")
        if not chunks:
            logger.warning("telegram: empty text for %s not sent", chat_id)
            return
        self.asked += 1
        for n, chunk in enumerate(chunks):
            last = n == len(chunks) - 1
            kwargs = {**extra, "reply_markup": markup} if last and markup is not None else extra

            async def send(chunk: str = chunk, kwargs: dict[str, Any] = kwargs) -> Message:
                return await self.bot.send_message(chat_id, chunk, **kwargs)

            await self._call("sendMessage", send)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends ``text``, split at line boundaries under 4,096 characters."""
        await self._send_text(recipient_id, text)

    def _button(self, n: int, button: Mapping[str, Any]) -> InlineKeyboardButton:
        title = str(button.get("title") or button.get("payload") or n)[:200]
        url = button.get("url")
        payload = str(button.get("payload") or "")
        if url or (button.get("type") == "web_url" and payload.startswith("http")):
            return InlineKeyboardButton(title, url=url or payload)
        return InlineKeyboardButton(title, callback_data=self.payloads.callback_data(payload))

    def inline_keyboard(self, buttons: Iterable[Mapping[str, Any]]) -> InlineKeyboardMarkup:
        """Returns an inline keyboard with one button per row."""
        rows = [[self._button(n, b)] for n, b in enumerate(buttons, 1) if isinstance(b, Mapping)]
        return InlineKeyboardMarkup(rows)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        **kwargs: Any,
    ) -> None:
        """Sends ``text`` with an inline keyboard (on its last part when it is split)."""
        markup = self.inline_keyboard(buttons or [])
        await self._send_text(recipient_id, text or "…", markup if markup.inline_keyboard else None)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        """Sends a photo by URL."""
        self.asked += 1
        await self._call("sendPhoto", lambda: self.bot.send_photo(recipient_id, photo=image))

    def _markup_from_json(self, markup: Any) -> Any:
        if isinstance(markup, Mapping) and isinstance(markup.get("inline_keyboard"), list):
            rows = []
            for row in markup["inline_keyboard"]:
                if not isinstance(row, list):
                    continue
                rows.append(
                    [
                        self._button(
                            n, {"title": b.get("text"), **b, "payload": b.get("callback_data")}
                        )
                        for n, b in enumerate(row, 1)
                        if isinstance(b, Mapping)
                    ]
                )
            return InlineKeyboardMarkup(rows)
        return markup

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """Sends a custom message: ``text`` plus allowed ``sendMessage`` options, or ``photo``.

        Unknown keys are ignored (logged), so a custom response cannot inject arbitrary
        API parameters such as another ``chat_id``.
        """
        if not isinstance(json_message, Mapping):
            logger.warning("telegram: custom message is not an object; ignored")
            return
        if json_message.get("photo") and not json_message.get("text"):
            self.asked += 1
            caption = json_message.get("caption")
            await self._call(
                "sendPhoto",
                lambda: self.bot.send_photo(
                    recipient_id, photo=str(json_message["photo"]), caption=caption
                ),
            )
            return
        text = json_message.get("text")
        if not isinstance(text, str) or not text.strip():
            logger.warning("telegram: custom message without text ignored: %s", list(json_message))
            return
        extra = {k: v for k, v in json_message.items() if k in _SEND_MESSAGE_KEYS}
        ignored = set(json_message) - _SEND_MESSAGE_KEYS - {"text"}
        if ignored:
            logger.warning("telegram: custom message keys ignored: %s", sorted(ignored))
        markup = self._markup_from_json(extra.pop("reply_markup", None))
        await self._send_text(recipient_id, text, markup, **extra)


# --------------------------------------------------------------------------- the turn


async def run_turn(
    turn: Turn,
    output: TelegramOutput,
    ask_rasa: Callable[[str], Awaitable[None]],
) -> None:
    """Runs one turn: acknowledges a tap, sends notes, asks Rasa, and never stays silent.

    Args:
        turn: What the update asks.
        output: Where replies go.
        ask_rasa: Feeds ``turn.text`` to Rasa; Rasa's replies go through ``output``.
    """
    if turn.callback_query_id:
        await output._call(
            "answerCallbackQuery",
            lambda: output.bot.answer_callback_query(turn.callback_query_id),
        )
    if turn.notice:
        await output._send_text(turn.sender, turn.notice)
    if turn.reply:
        await output._send_text(turn.sender, turn.reply)
    if turn.text is None:
        return
    before = output.asked
    try:
        await ask_rasa(turn.text)
    except asyncio.CancelledError:  # Rasa cancels a turn that outlives its timeout
        logger.error("telegram: message from %s timed out", turn.sender)
    except Exception:
        logger.exception("telegram: message from %s failed", turn.sender)
    if output.asked == before:
        logger.warning("telegram: no reply for %s; sending the busy message", turn.sender)
        await output._send_text(turn.sender, channel_text("busy", turn.language))


# --------------------------------------------------------------------------- input


class TelegramInput(InputChannel):
    """Telegram webhook channel (registered as ``telegram``).

    Args:
        token: The bot token.
        secret_token: The secret Telegram echoes in ``X-Telegram-Bot-Api-Secret-Token``.
        webhook_url: Public URL to register (``None``: registered elsewhere).
        api_base_url: Bot API prefix (a local fake in tests).
        bot: A ready bot to use instead of building one.
        max_retry_wait: Longest ``RetryAfter`` worth waiting for, in seconds.
    """

    @classmethod
    def name(cls) -> str:
        """Channel name: the URL is ``/webhooks/telegram/webhook``."""
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        """Builds the channel; raises ``RasaException`` naming a missing or bad setting."""
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None  # for the type checker
        token = _setting(credentials, "token", required=True)
        secret = _setting(credentials, "secret_token", required=True)
        if not _SECRET_RE.match(secret or ""):
            raise RasaException(
                "telegram channel: 'secret_token' must be 1-256 characters of A-Z, a-z, 0-9, _ -"
            )
        url = _setting(credentials, "webhook_url", required=False)
        if url is not None and not url.startswith("https://"):
            logger.warning("telegram: Telegram only delivers to https URLs, not %s", url)
        base = _setting(credentials, "api_base_url", required=False) or DEFAULT_API_BASE_URL
        redis_url = _setting(credentials, "redis_url", required=False)
        if redis_url is None:
            return cls(str(token), str(secret), url, base)
        # Several replicas: button keys and handled update ids live in Redis.
        client = redis_client(redis_url)
        return cls(
            str(token),
            str(secret),
            url,
            base,
            payloads=SharedPayloadKeys(client, "telegram:payloads", MAX_CALLBACK_BYTES),
            recent=SharedRecentKeys(client, "telegram:seen"),
        )

    def __init__(
        self,
        token: str,
        secret_token: str,
        webhook_url: str | None = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        *,
        bot: Bot | None = None,
        max_retry_wait: float = MAX_RETRY_WAIT_S,
        payloads: PayloadKeys | None = None,
        recent: RecentKeys | None = None,
    ) -> None:
        self.token = token
        self.secret_token = secret_token
        self.webhook_url = webhook_url
        self.api_base_url = api_base_url
        self.max_retry_wait = max_retry_wait
        self.payloads = payloads or _PAYLOADS
        self._bot = bot
        self._bot_ready = False
        self._bot_lock: asyncio.Lock | None = None
        self._webhook_checked = False
        self._recent = recent or RecentKeys(2048)
        self._tasks: set[asyncio.Task] = set()
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def get_bot(self) -> Bot:
        """Returns the bot, initialised once (``getMe``) on first use."""
        if self._bot_ready and self._bot is not None:
            return self._bot
        if self._bot_lock is None:
            self._bot_lock = asyncio.Lock()
        async with self._bot_lock:
            if self._bot is None:
                self._bot = make_bot(self.token, self.api_base_url)
            if not self._bot_ready:
                await self._bot.initialize()
                self._bot_ready = True
        return self._bot

    async def startup(self) -> None:
        """Initialises the bot and registers the webhook if needed; logs instead of raising."""
        try:
            bot = await self.get_bot()
            if self.webhook_url and not self._webhook_checked:
                await ensure_webhook(bot, self.webhook_url, self.secret_token)
                self._webhook_checked = True
        except Exception as exc:
            logger.error("telegram: start-up check failed (will retry on the next update): %s", exc)

    async def drain(self) -> None:
        """Waits until every update received so far has been handled."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, timeout: float = 10.0) -> None:
        """Finishes pending updates (up to ``timeout`` seconds) and closes the bot's client."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except asyncio.TimeoutError:
            logger.warning("telegram: %d updates still running at shutdown", len(self._tasks))
        if self._bot is not None and self._bot_ready:
            await self._bot.shutdown()
            self._bot_ready = False

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("telegram: update handling failed", exc_info=task.exception())

    async def _in_order(self, chat: str, coroutine: Awaitable[None]) -> None:
        """Runs ``coroutine`` after earlier updates of the same chat (FIFO lock per chat)."""
        lock, users = self._chat_locks.get(chat, (asyncio.Lock(), 0))
        self._chat_locks[chat] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._chat_locks[chat]
            if users <= 1:
                del self._chat_locks[chat]
            else:
                self._chat_locks[chat] = (lock, users - 1)

    async def handle_update(
        self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Handles one update: parse, ask Rasa, reply (what the background task runs)."""
        turn = parse_update(update, self.payloads)
        if turn is None:
            return

        async def go() -> None:
            if not self._webhook_checked and self.webhook_url:
                await self.startup()
            bot = await self.get_bot()
            output = TelegramOutput(bot, self.payloads, self.max_retry_wait)

            async def ask_rasa(text: str) -> None:
                await on_new_message(
                    UserMessage(
                        text,
                        output,
                        turn.sender,
                        input_channel=self.name(),
                        metadata=turn.metadata,
                    )
                )

            await run_turn(turn, output, ask_rasa)

        await self._in_order(turn.sender, go())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health and webhook routes, with start-up and shutdown listeners."""
        hook = Blueprint("motcua_telegram_webhook", __name__)

        @hook.after_server_start
        async def start(app: Any, loop: Any) -> None:
            await self.startup()

        @hook.before_server_stop
        async def stop(app: Any, loop: Any) -> None:
            await self.close()

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER) or ""
            if not hmac.compare_digest(given.encode(), self.secret_token.encode()):
                logger.warning(
                    "telegram: update with a %s secret header refused (if the secret was "
                    "changed, register the webhook again with force=True)",
                    "wrong" if given else "missing",
                )
                return response.json({"error": "forbidden"}, status=403)
            try:
                payload = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                return response.json({"error": "the body must be a JSON Update"}, status=400)
            if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
                return response.json({"error": "an Update needs an integer update_id"}, status=400)
            try:
                update = Update.de_json(payload, None)
            except Exception as exc:
                logger.warning("telegram: malformed update %s: %s", payload.get("update_id"), exc)
                return response.json({"error": "malformed Update"}, status=400)
            if self._recent.seen(update.update_id):
                logger.info("telegram: duplicate update %s dropped", update.update_id)
                return response.json({"status": "duplicate"})
            self._spawn(self.handle_update(update, on_new_message))
            return response.json({"status": "ok"})

        return hook


# --------------------------------------------------------------------------- polling


async def relay_to_rest(session: Any, rest_url: str, turn: Turn) -> list[dict[str, Any]]:
    """POSTs a turn's text to the REST channel; returns Rasa's messages (``[]`` on failure)."""
    body = {"sender": turn.sender, "message": turn.text, "metadata": turn.metadata}
    try:
        async with session.post(rest_url, json=body) as resp:
            if resp.status != 200:
                logger.error("telegram poll: REST answered %s", resp.status)
                return []
            messages = await resp.json()
    except Exception as exc:
        logger.error("telegram poll: REST call failed: %s", exc)
        return []
    return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []


async def render(output: TelegramOutput, recipient: str, message: Mapping[str, Any]) -> None:
    """Sends one bot message as Rasa's REST channel returns it (text, buttons, image, custom)."""
    message = {k: v for k, v in message.items() if k != "recipient_id"}
    await output.send_response(recipient, message)


async def poll_once(
    bot: Bot,
    session: Any,
    rest_url: str,
    offset: int | None,
    *,
    poll_timeout: int = 30,
    payloads: PayloadKeys | None = None,
) -> int | None:
    """Fetches one batch of updates, answers each through the REST channel.

    Returns:
        The offset for the next ``getUpdates``.
    """
    updates = await call_api(
        "getUpdates",
        lambda: bot.get_updates(
            offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
        ),
    )
    if updates is None:  # logged by call_api; do not spin on a failing API
        await asyncio.sleep(2.0 if poll_timeout else 0.1)
        return offset
    for update in updates:
        offset = update.update_id + 1
        turn = parse_update(update, payloads)
        if turn is None:
            continue
        output = TelegramOutput(bot, payloads)

        async def ask_rasa(text: str, turn: Turn = turn, output: TelegramOutput = output) -> None:
            for message in await relay_to_rest(session, rest_url, turn):
                await render(output, turn.sender, message)

        try:
            await run_turn(turn, output, ask_rasa)
        except Exception:
            logger.exception("telegram poll: update %s failed", update.update_id)
    return offset


async def run_polling(
    token: str,
    api_base_url: str = DEFAULT_API_BASE_URL,
    rasa_rest_url: str = "http://localhost:5005/webhooks/rest/webhook",
    *,
    poll_timeout: int = 30,
    iterations: int | None = None,
) -> None:
    """Long-polls Telegram and relays messages to Rasa's REST channel (development use).

    Deletes any webhook first (Telegram refuses ``getUpdates`` while one is set).

    Args:
        token: The bot token.
        api_base_url: Bot API prefix.
        rasa_rest_url: The REST channel's webhook URL.
        poll_timeout: Long-poll seconds per ``getUpdates``.
        iterations: Stop after this many polls (``None``: run until cancelled).
    """
    import aiohttp

    bot = make_bot(token, api_base_url, poll_timeout)
    await bot.initialize()
    try:
        await bot.delete_webhook()
        logger.info("telegram poll: polling as @%s, relaying to %s", bot.username, rasa_rest_url)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            offset: int | None = None
            done = 0
            while iterations is None or done < iterations:
                before = offset
                offset = await poll_once(
                    bot, session, rasa_rest_url, offset, poll_timeout=poll_timeout
                )
                done += 1
                if offset == before and poll_timeout == 0 and iterations is None:
                    await asyncio.sleep(1.0)
    finally:
        await bot.shutdown()
