"""The Bot API: a PTB ``Bot``, calls that never raise, and webhook registration."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
ALLOWED_UPDATES = ["message", "callback_query"]
MAX_RETRY_WAIT_S = 30.0
"""A ``RetryAfter`` longer than this is not waited for: the message is dropped and logged."""


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
