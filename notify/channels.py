"""Delivering one notice through a platform's own API, with the outcome as a value.

Each sender answers :class:`Outcome`: ``sent``; ``retry`` (the platform is down, slow
or rate-limiting: try again later, ``after`` seconds at the earliest when it said so);
``refused`` (it will never take this message: the citizen blocked the bot, Zalo's
interaction window is closed). The sender loop (:mod:`notify.sender`) turns these into
outbox states.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from connectors.telegram.api import DEFAULT_API_BASE_URL, make_bot
from connectors.zalo.api import ZaloApi

logger = logging.getLogger(__name__)

SENT = "sent"
RETRY = "retry"
REFUSED = "refused"

ZALO_REFUSALS = {
    -213: "the user does not follow the OA",
    -230: "outside Zalo's interaction window (no message from the user in the last 7 days)",
}
"""Zalo OA API errors that retrying cannot fix; the notice is recorded as refused."""


@dataclass(frozen=True)
class Outcome:
    """What became of one delivery.

    Attributes:
        kind: ``sent``, ``retry`` or ``refused``.
        detail: Why (for the outbox's ``last_error``).
        after: For ``retry``: seconds the platform asked to wait (0: use the backoff).
        throttled: The platform said "too many requests" (the whole channel slows down).
    """

    kind: str
    detail: str = ""
    after: float = 0.0
    throttled: bool = False


class ChannelSender(Protocol):
    """Sends a text to one user of one platform."""

    async def send(self, address: str, text: str) -> Outcome:
        """Delivers ``text`` to ``address``."""

    async def close(self) -> None:
        """Releases connections."""


class TelegramSender:
    """Notices through the Bot API's ``sendMessage`` (python-telegram-bot's ``Bot``).

    Args:
        token: The bot token.
        api_base_url: The Bot API prefix (a local fake in tests).
    """

    def __init__(self, token: str, api_base_url: str = DEFAULT_API_BASE_URL) -> None:
        self.bot = make_bot(token, api_base_url or DEFAULT_API_BASE_URL)
        self._ready = False
        self._lock = asyncio.Lock()

    async def _initialize(self) -> None:
        async with self._lock:
            if not self._ready:
                await self.bot.initialize()
                self._ready = True

    async def send(self, address: str, text: str) -> Outcome:
        """Sends ``text`` to chat ``address``."""
        try:
            if not self._ready:
                await self._initialize()
            await self.bot.send_message(address, text)
        except RetryAfter as exc:
            with warnings.catch_warnings():  # PTB deprecates the int form of retry_after
                warnings.simplefilter("ignore")
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            return Outcome(RETRY, f"rate limited: retry after {seconds:g}s", seconds, True)
        except Forbidden as exc:
            return Outcome(REFUSED, f"telegram refused: {exc}"[:200])
        except BadRequest as exc:
            return Outcome(REFUSED, f"telegram rejected: {exc}"[:200])
        except TelegramError as exc:
            return Outcome(RETRY, f"telegram: {type(exc).__name__}: {exc}"[:200])
        except Exception as exc:  # a notice must never kill the sender
            logger.exception("notify: telegram send failed unexpectedly")
            return Outcome(RETRY, f"telegram: {type(exc).__name__}"[:200])
        return Outcome(SENT)

    async def close(self) -> None:
        """Shuts the bot's HTTP clients."""
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


class ZaloSender:
    """Notices through the OA consulting-message API (:class:`connectors.zalo.api.ZaloApi`).

    Zalo accepts consulting messages only within a window after the user last wrote to
    the OA; outside it the API answers an error (:data:`ZALO_REFUSALS`), and the notice
    is recorded as refused instead of being retried.
    """

    def __init__(self, api: ZaloApi) -> None:
        self.api = api

    async def send(self, address: str, text: str) -> Outcome:
        """Sends ``text`` to Zalo user ``address``."""
        try:
            result = await self.api.send({"user_id": address}, text)
        except Exception as exc:  # the API client returns values; this is a bug guard
            logger.exception("notify: zalo send failed unexpectedly")
            return Outcome(RETRY, f"zalo: {type(exc).__name__}")
        error = result.get("error")
        if error == 0:
            return Outcome(SENT)
        if error in ZALO_REFUSALS:
            return Outcome(REFUSED, f"zalo {error}: {ZALO_REFUSALS[error]}")
        return Outcome(RETRY, f"zalo {error}: {str(result.get('message'))[:150]}")

    async def close(self) -> None:
        """Closes the HTTP client."""
        await self.api.aclose()
