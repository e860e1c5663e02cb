"""A local fake of the Telegram Bot API for tests (aiohttp on 127.0.0.1, a free port).

Answers ``POST /bot<token>/<method>`` like Telegram does (``{"ok": true, "result": ...}``
with realistic objects), records every call, serves queued updates to ``getUpdates``
and can be told to fail::

    async with FakeTelegram() as tg:
        bot = make_bot(tg.token, tg.api_base_url)
        tg.fail("sendMessage", status=429, retry_after=1)   # the next sendMessage only
        ...
        await tg.wait_for("sendMessage", 2)
        assert tg.sent_texts() == [...]
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token_for-the-fake"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Một cửa",
    "username": "motcua_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_JSON_FIELDS = {
    "allowed_updates",
    "caption_entities",
    "entities",
    "link_preview_options",
    "reply_markup",
    "reply_parameters",
}
_INT_FIELDS = {"chat_id", "offset", "limit", "timeout", "message_id", "message_thread_id"}


@dataclass
class Call:
    """One recorded API call."""

    method: str
    params: dict[str, Any]


def _decode_form(form: dict[str, str]) -> dict[str, Any]:
    """PTB sends form fields with JSON-encoded non-string values: decode the known ones."""
    params: dict[str, Any] = {}
    for key, value in form.items():
        if key in _JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in _INT_FIELDS:
            try:
                params[key] = int(value)
            except ValueError:
                params[key] = value
        elif value in ("true", "false"):
            params[key] = value == "true"
        else:
            params[key] = value
    return params


class FakeTelegram:
    """The fake server; use as ``async with FakeTelegram() as tg``."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.allowed_updates: list[str] | None = None
        self._updates: list[dict[str, Any]] = []
        self._failures: dict[str, list[tuple[int, int | None]]] = {}
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.down_until = 0.0
        """Until this ``time.monotonic()``, ``sendMessage`` answers 500 (an outage)."""
        self.blocked: set[int] = set()
        """Chats that blocked the bot: ``sendMessage`` to them answers 403."""
        self.accepted: list[dict[str, Any]] = []
        """Parameters of every ``sendMessage`` answered with success (delivered)."""

    @property
    def api_base_url(self) -> str:
        """Prefix for ``Bot(base_url=...)`` (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls

    def queue_update(self, update: dict[str, Any]) -> None:
        """Queues an update for ``getUpdates``."""
        self._updates.append(update)

    def fail(self, method: str, status: int = 500, retry_after: int | None = None) -> None:
        """Makes the next call of ``method`` fail (call again to fail several times)."""
        self._failures.setdefault(method, []).append((status, retry_after))

    def called(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of ``method``, in order."""
        return [c.params for c in self.calls if c.method == method]

    def sent_texts(self) -> list[str]:
        """Texts of every ``sendMessage``, in order."""
        return [p["text"] for p in self.called("sendMessage")]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> None:
        """Waits until ``method`` was called at least ``count`` times."""

        async def enough() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: len(self.called(method)) >= count)

        await asyncio.wait_for(enough(), timeout)

    # -- the API

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Lan"},
            "from": BOT_USER,
            **content,
        }

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = _decode_form(dict(await request.post()))
        async with self._changed:
            self.calls.append(Call(method, params))
            self._changed.notify_all()
        if method == "sendMessage" and time.monotonic() < self.down_until:
            return web.json_response(
                {"ok": False, "error_code": 500, "description": "Internal Server Error"}, status=500
            )
        if method == "sendMessage" and params.get("chat_id") in self.blocked:
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 403,
                    "description": "Forbidden: bot was blocked by the user",
                },
                status=403,
            )
        failures = self._failures.get(method)
        if failures:
            status, retry_after = failures.pop(0)
            body: dict[str, Any] = {"ok": False, "error_code": status}
            if retry_after is not None:
                body["description"] = f"Too Many Requests: retry after {retry_after}"
                body["parameters"] = {"retry_after": retry_after}
            else:
                body["description"] = "Internal Server Error"
            return web.json_response(body, status=status)
        try:
            result = await self._answer(method, params)
        except KeyError as exc:
            return web.json_response(
                {"ok": False, "error_code": 400, "description": f"Bad Request: {exc} missing"},
                status=400,
            )
        if result is NotImplemented:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.json_response({"ok": True, "result": result})

    async def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getWebhookInfo":
            info: dict[str, Any] = {
                "url": self.webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": 0,
            }
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
            return info
        if method == "setWebhook":
            self.webhook_url = params["url"]
            self.webhook_secret = params.get("secret_token")
            self.allowed_updates = params.get("allowed_updates")
            return True
        if method == "deleteWebhook":
            self.webhook_url = ""
            return True
        if method == "sendMessage":
            text = params["text"]
            if not text or len(text) > 4096:
                raise KeyError("text of 1-4096 characters")
            self.accepted.append(params)
            content: dict[str, Any] = {"text": text}
            if params.get("reply_markup"):
                content["reply_markup"] = params["reply_markup"]
            return self._message(params["chat_id"], **content)
        if method == "sendPhoto":
            photo = [{"file_id": "AgAD-photo", "file_unique_id": "u1", "width": 320, "height": 240}]
            return self._message(params["chat_id"], photo=photo)
        if method == "answerCallbackQuery":
            return bool(params["callback_query_id"])  # required, as on Telegram
        if method == "getUpdates":
            offset = params.get("offset") or 0
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and params.get("timeout"):
                await asyncio.sleep(min(float(params["timeout"]), 0.2))
            return list(self._updates)[: params.get("limit") or 100]
        return NotImplemented
