"""A local fake of Zalo's OA APIs, and signed webhook requests, for offline channel tests.

``FakeZalo`` serves, on 127.0.0.1 and a free port:

* ``POST /v3.0/oa/message/cs``: records each message sent with the current access token;
  answers ``{"error": -216, ...}`` once the token is expired (:meth:`FakeZalo.expire_token`)
  or for any other token;
* ``POST /v4/oa/access_token``: checks the ``secret_key`` header, ``app_id`` and the
  refresh token, then issues a new access token and a NEW refresh token, invalidating
  the old one (as Zalo does).

Usage::

    async with FakeZalo(app_id="123", app_secret="s") as zalo:
        ...  # point the channel at zalo.url
        await zalo.wait_for_messages(1)
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connectors.zalo import SIGNATURE_HEADER, signature


def signed_request(
    payload: dict[str, Any], app_id: str, secret: str, *, escaped: bool = False
) -> tuple[bytes, dict[str, str]]:
    """Builds a webhook body and headers signed the way Zalo signs them.

    Args:
        payload: The event; ``app_id`` and ``timestamp`` are filled in when missing.
        app_id: The Zalo app id.
        secret: The OA secret key.
        escaped: Write non-ASCII characters as ``\\uXXXX`` escapes (how a lone surrogate
            can travel in JSON).

    Returns:
        The raw body and the headers (``Content-Type`` and ``X-ZEvent-Signature``).
    """
    payload = {"app_id": app_id, "timestamp": str(int(time.time() * 1000)), **payload}
    raw = json.dumps(payload, ensure_ascii=escaped).encode("utf-8")
    mac = signature(str(payload["app_id"]), raw, str(payload["timestamp"]), secret)
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: f"mac={mac}"}


@dataclass
class SentMessage:
    """One message the fake accepted."""

    recipient: dict[str, Any]
    text: str
    access_token: str


@dataclass
class FakeZalo:
    """The fake OA API server (an async context manager).

    Attributes:
        app_id: The app id refreshes must name.
        app_secret: The ``secret_key`` refreshes must carry.
        access_token: The token sends must carry.
        refresh_token: The refresh token currently valid.
    """

    app_id: str = "4318201926419930011"
    app_secret: str = "app-secret"
    access_token: str = "access-0"
    refresh_token: str = "refresh-0"
    sent: list[SentMessage] = field(default_factory=list)
    send_attempts: list[dict[str, Any]] = field(default_factory=list)
    refresh_requests: list[dict[str, Any]] = field(default_factory=list)
    send_delays: list[float] = field(default_factory=list)
    """Seconds to stall the next sends (one entry per send; those are not delivered)."""
    refresh_broken: bool = False
    """When set, the token endpoint answers an error."""
    down_until: float = 0.0
    """Until this ``time.monotonic()``, sends answer HTTP 502 (an outage)."""
    outside_window: set = field(default_factory=set)
    """User ids who have not written to the OA recently: sends to them get error -230."""
    _generation: int = 0
    _runner: web.AppRunner | None = None
    url: str = ""

    def expire_token(self) -> None:
        """Makes the current access token expired: sends with it get error -216."""
        self.access_token = f"{self.access_token}-revoked"

    @property
    def texts(self) -> list[str]:
        """The texts accepted so far."""
        return [m.text for m in self.sent]

    async def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[str]:
        """Waits until at least ``n`` messages were accepted; returns the texts."""
        deadline = time.monotonic() + timeout
        while len(self.sent) < n:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {n} messages, got {len(self.sent)}: {self.texts}")
            await asyncio.sleep(0.01)
        return self.texts

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.send_attempts.append(body)
        if self.send_delays:  # a stalled send is never delivered
            await asyncio.sleep(self.send_delays.pop(0))
            return web.json_response({"error": -32, "message": "stalled"})
        if time.monotonic() < self.down_until:
            return web.Response(status=502, text="Bad Gateway")
        if (body.get("recipient") or {}).get("user_id") in self.outside_window:
            return web.json_response(
                {"error": -230, "message": "User has not interacted with the OA in 7 days"}
            )
        token = request.headers.get("access_token", "")
        if token != self.access_token:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        text = (body.get("message") or {}).get("text") or ""
        if not text or len(text) > 2000:
            return web.json_response({"error": -201, "message": "text is invalid"})
        self.sent.append(SentMessage(body.get("recipient") or {}, text, token))
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": f"m{len(self.sent)}"}}
        )

    async def _refresh(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.refresh_requests.append(
            {"form": form, "secret_key": request.headers.get("secret_key")}
        )
        if self.refresh_broken:
            return web.json_response(
                {"error": -14014, "error_name": "Internal error", "error_description": "down"}
            )
        if request.headers.get("secret_key") != self.app_secret:
            return web.json_response({"error": -14002, "error_name": "Invalid secret key"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return web.json_response({"error": -14001, "error_name": "Invalid parameter"})
        if form.get("refresh_token") != self.refresh_token:
            return web.json_response({"error": -14014, "error_name": "Invalid refresh token"})
        self._generation += 1
        self.access_token = f"access-{self._generation}"
        self.refresh_token = f"refresh-{self._generation}"
        return web.json_response(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": "90000",
            }
        )

    async def __aenter__(self) -> FakeZalo:
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v4/oa/access_token", self._refresh)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
