"""Rasa's replies to a Telegram chat, and one turn from update to reply."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from rasa.core.channels.channel import OutputChannel
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message

from connectors.common.memories import PayloadKeys
from connectors.common.splitting import split_lines, utf16_len
from connectors.common.tasks import guarded_turn
from connectors.guards import channel_text
from connectors.telegram.api import MAX_RETRY_WAIT_S, call_api
from connectors.telegram.updates import PAYLOADS, Turn

logger = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TEXT_CHARS = 4096
"""Telegram's limit for one message (counted in UTF-16 code units)."""
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


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Splits ``text`` into messages of at most ``limit`` UTF-16 units at line boundaries.

    A single line longer than ``limit`` is split inside (at a space when there is one
    in its second half). Blank chunks are dropped.
    """
    return split_lines(text, limit, utf16_len)


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
        self.payloads = payloads or PAYLOADS
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
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
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
    await guarded_turn(ask_rasa(turn.text), logger, "telegram", turn.sender)
    if output.asked == before:
        logger.warning("telegram: no reply for %s; sending the busy message", turn.sender)
        await output._send_text(turn.sender, channel_text("busy", turn.language))
