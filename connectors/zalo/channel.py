"""The Zalo webhook: checked signature and app, an answer at once, the event handled behind it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common.memories import Memories
from connectors.common.tasks import BackgroundTasks, guarded_turn
from connectors.guards import (
    MAX_PLATFORM_BODY_BYTES,
    MAX_PLATFORM_BODY_DEPTH,
    BodyError,
    channel_text,
    check_metadata,
    check_text,
    parse_json_body,
)
from connectors.zalo.api import DEFAULT_API_BASE_URL, DEFAULT_OAUTH_BASE_URL, ZaloApi
from connectors.zalo.events import (
    GREET_PAYLOAD,
    MEDIA_EVENTS,
    QUIET_EVENTS,
    TEXT_EVENTS,
    event_key,
    sender_id,
)
from connectors.zalo.output import ZaloOutput, option_number, text_only_reply
from connectors.zalo.settings import CREDENTIAL_ENV, REQUIRED_CREDENTIALS, default_token_store
from connectors.zalo.signature import SIGNATURE_HEADER, as_id, header, verify
from connectors.zalo.tokens import ZaloTokens, open_token_store
from knowledge.query import detect_language

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = MAX_PLATFORM_BODY_BYTES
"""Webhook bodies are a few hundred bytes; anything this large is refused (413)."""


def _reject(status: int, reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class ZaloInput(InputChannel):
    """Zalo Official Account input channel (registered as ``zalo``).

    Args:
        app_id: The Zalo app id (its events carry it; others are refused).
        app_secret: The app secret key, for refreshing the access token.
        oa_secret_key: The OA secret key, for webhook signatures.
        access_token: The initial OA access token.
        refresh_token: The initial OA refresh token.
        token_store: SQLAlchemy URL or JSON file path where rotated tokens persist.
        api_base_url: Base of the OpenAPI.
        oauth_base_url: Base of the OAuth API.
        timeout: Seconds allowed for one outbound HTTP call.
        redis_url: Redis for the numbered options and handled ids when several replicas
            serve the channel (``MOTCUA_REDIS_URL``, else ``MOTCUA_LOCK_STORE_URL``).
    """

    def __init__(
        self,
        app_id: str,
        app_secret: str,
        oa_secret_key: str,
        access_token: str,
        refresh_token: str,
        token_store: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        oauth_base_url: str = DEFAULT_OAUTH_BASE_URL,
        timeout: float = 10.0,
        redis_url: str | None = None,
    ) -> None:
        self.app_id = str(app_id)
        self.oa_secret_key = oa_secret_key
        self.store = open_token_store(token_store)
        self.tokens = ZaloTokens(self.app_id, access_token, refresh_token, self.store)
        self.api = ZaloApi(
            self.app_id, app_secret, self.tokens, api_base_url, oauth_base_url, timeout
        )
        # numbered options and handled ids: in Redis when several replicas serve the channel
        memories = Memories.open("zalo", redis_url)
        self.options = memories.options
        self.seen = memories.recent
        self._tasks = BackgroundTasks(logger, "zalo")

    @classmethod
    def name(cls) -> str:
        """Channel name: the URL is ``/webhooks/zalo/webhook``."""
        return "zalo"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ZaloInput:
        """Builds the channel from the ``zalo`` section of ``credentials.yml``.

        Raises:
            ValueError: When a required key is missing, naming it and its variable.
        """
        credentials = credentials or {}
        missing = [key for key in REQUIRED_CREDENTIALS if not str(credentials.get(key) or "")]
        if missing:
            names = ", ".join(f"{key} ({CREDENTIAL_ENV[key]})" for key in missing)
            raise ValueError(f"zalo channel: missing credentials: {names}")
        return cls(
            app_id=str(credentials["app_id"]),
            app_secret=str(credentials["app_secret"]),
            oa_secret_key=str(credentials["oa_secret_key"]),
            access_token=str(credentials["access_token"]),
            refresh_token=str(credentials["refresh_token"]),
            token_store=str(credentials.get("token_store") or default_token_store()),
            api_base_url=str(credentials.get("api_base_url") or DEFAULT_API_BASE_URL),
            oauth_base_url=str(credentials.get("oauth_base_url") or DEFAULT_OAUTH_BASE_URL),
            timeout=float(credentials.get("timeout") or 10.0),
            redis_url=str(credentials.get("redis_url") or "") or None,
        )

    def get_output_channel(self) -> OutputChannel:
        """An output for messages the bot starts (e.g. reminders)."""
        return ZaloOutput(self.api, self.options)

    async def drain(self) -> None:
        """Waits until every event received so far has been handled."""
        await self._tasks.drain()

    async def aclose(self) -> None:
        """Waits for pending events, then closes the HTTP client and the token store."""
        await self.drain()
        await self.api.aclose()
        self.store.dispose()

    async def _to_rasa(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: str,
        sender: str,
        output: ZaloOutput,
        language: str,
        message_id: str | None,
        metadata: dict[str, Any],
    ) -> None:
        """Feeds one message to Rasa; says "busy" when Rasa says nothing."""
        message = UserMessage(
            text,
            output,
            sender,
            input_channel=self.name(),
            message_id=message_id,
            metadata=metadata,
        )
        await guarded_turn(on_new_message(message), logger, "zalo", sender)
        if output.attempted == 0:
            logger.warning("zalo: no reply for %s; sending the busy message", sender)
            await output.send_text_message(sender, channel_text("busy", language))

    async def handle_event(
        self, event: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """Handles one verified, de-duplicated event (runs after the webhook answered)."""
        name = str(event.get("event_name") or "")
        message = event.get("message") if isinstance(event.get("message"), dict) else {}
        sender = sender_id(event)
        if not sender:
            logger.warning("zalo: %s event without a sender id ignored", name)
            return
        conversation = as_id(message.get("conversation_id"))
        recipient = {"conversation_id": conversation} if name.startswith("anonymous_") else {}
        output = ZaloOutput(self.api, self.options, recipient if conversation else None)
        msg_id = as_id(message.get("msg_id")) or None
        metadata = check_metadata(
            {
                "zalo": {
                    "event_name": name,
                    "msg_id": msg_id,
                    "timestamp": as_id(event.get("timestamp")),
                    "user_id_by_app": as_id(event.get("user_id_by_app")),
                }
            }
        )
        if name == "follow":
            self.options.take(sender)
            await self._to_rasa(on_new_message, GREET_PAYLOAD, sender, output, "vi", None, metadata)
            return
        if name in MEDIA_EVENTS:
            self.options.take(sender)
            caption = message.get("text") if isinstance(message.get("text"), str) else ""
            language = detect_language(caption) if caption.strip() else "vi"
            await output.send_text_message(sender, text_only_reply(language))
            return
        raw = message.get("text")
        incoming = check_text(raw if isinstance(raw, str) else "")
        options = self.options.take(sender)
        if incoming.empty:
            await output.send_text_message(sender, channel_text("empty", incoming.language))
            return
        text = incoming.text
        number = option_number(text)
        if number is not None and 1 <= number <= len(options):
            text = options[number - 1]
            metadata["zalo"]["option"] = number
        elif incoming.truncated:
            note = channel_text("too_long", incoming.language, n=len(incoming.text))
            await output.send_text_message(sender, note)
            output.attempted = 0  # the note is not Rasa's reply
        await self._to_rasa(
            on_new_message, text, sender, output, incoming.language, msg_id, metadata
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health and webhook routes."""
        hook = Blueprint("motcua_zalo_webhook", __name__)
        if not self.tokens.loaded:
            self.tokens.load()

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            raw = request.body or b""
            try:
                event = parse_json_body(raw, MAX_BODY_BYTES, MAX_PLATFORM_BODY_DEPTH)
            except BodyError as exc:
                return _reject(exc.status, exc.reason)
            if not isinstance(event, dict):
                return _reject(400, "the body must be a JSON object")
            if not header(request.headers, SIGNATURE_HEADER):
                logger.warning("zalo: webhook without %s refused", SIGNATURE_HEADER)
                return _reject(401, f"missing {SIGNATURE_HEADER}")
            if not verify(request.headers, raw, self.oa_secret_key):
                logger.warning("zalo: webhook with a bad signature refused")
                return _reject(403, "bad signature")
            if as_id(event.get("app_id")) != self.app_id:
                logger.warning("zalo: event for another app (%s) refused", event.get("app_id"))
                return _reject(403, "unknown app_id")
            name = str(event.get("event_name") or "")
            if name.startswith("oa_") or name in QUIET_EVENTS:
                return response.json({"status": "ignored"})
            if name not in TEXT_EVENTS and name not in MEDIA_EVENTS and name != "follow":
                logger.info("zalo: unknown event %r ignored", name)
                return response.json({"status": "ignored"})
            if self.seen.seen(event_key(event)):
                logger.info("zalo: duplicate %s event dropped: %s", name, event_key(event))
                return response.json({"status": "duplicate"})
            message = event.get("message")
            msg_id = as_id(message.get("msg_id")) if isinstance(message, dict) else ""
            self._tasks.spawn(self.handle_event(event, on_new_message), f"{name} event {msg_id}")
            return response.json({"status": "ok"})

        @hook.listener("after_server_stop")
        async def close(app: Any, loop: Any) -> None:
            await self.aclose()

        return hook
