"""The Telegram webhook: a checked secret, an answer at once, the update handled behind it."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Update

from connectors.common.memories import Memories, PayloadKeys, RecentKeys
from connectors.common.tasks import BackgroundTasks
from connectors.guards import (
    MAX_PLATFORM_BODY_BYTES,
    MAX_PLATFORM_BODY_DEPTH,
    BodyError,
    parse_json_body,
)
from connectors.telegram.api import (
    DEFAULT_API_BASE_URL,
    MAX_RETRY_WAIT_S,
    ensure_webhook,
    make_bot,
)
from connectors.telegram.output import TelegramOutput, run_turn
from connectors.telegram.settings import secret_setting, setting
from connectors.telegram.updates import PAYLOADS, parse_update

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


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
        token = setting(credentials, "token", required=True)
        secret = secret_setting(credentials)
        url = setting(credentials, "webhook_url", required=False)
        if url is not None and not url.startswith("https://"):
            logger.warning("telegram: Telegram only delivers to https URLs, not %s", url)
        base = setting(credentials, "api_base_url", required=False) or DEFAULT_API_BASE_URL
        redis_url = setting(credentials, "redis_url", required=False)
        if redis_url is None:
            return cls(str(token), secret, url, base)
        # Several replicas: button keys and handled update ids live in Redis.
        memories = Memories.open("telegram", redis_url)
        return cls(
            str(token), secret, url, base, payloads=memories.payloads, recent=memories.recent
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
        self.payloads = payloads or PAYLOADS
        self._bot = bot
        self._bot_ready = False
        self._bot_lock: asyncio.Lock | None = None
        self._webhook_checked = False
        self._recent = recent or RecentKeys(2048)
        self._tasks = BackgroundTasks(logger, "telegram")
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
        await self._tasks.drain()

    async def close(self, timeout: float = 10.0) -> None:
        """Finishes pending updates (up to ``timeout`` seconds) and closes the bot's client."""
        try:
            await asyncio.wait_for(self.drain(), timeout)
        except asyncio.TimeoutError:
            logger.warning("telegram: %d updates still running at shutdown", len(self._tasks))
        if self._bot is not None and self._bot_ready:
            await self._bot.shutdown()
            self._bot_ready = False

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
                payload = parse_json_body(
                    request.body, MAX_PLATFORM_BODY_BYTES, MAX_PLATFORM_BODY_DEPTH
                )
            except BodyError as exc:
                return response.json({"error": exc.reason}, status=exc.status)
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
            self._tasks.spawn(
                self.handle_update(update, on_new_message), f"update {update.update_id}"
            )
            return response.json({"status": "ok"})

        return hook
