"""Telegram without a public URL: long-poll ``getUpdates`` and relay to the REST channel.

For development (``motcua telegram poll``): each message goes to Rasa's REST webhook and
its answer is sent back through :class:`TelegramOutput`, exactly as the webhook would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from telegram import Bot

from connectors.common.memories import PayloadKeys
from connectors.telegram.api import ALLOWED_UPDATES, DEFAULT_API_BASE_URL, call_api, make_bot
from connectors.telegram.output import TelegramOutput, run_turn
from connectors.telegram.updates import Turn, parse_update

logger = logging.getLogger(__name__)


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
