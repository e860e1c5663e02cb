"""Serve a channel's blueprint on a real Sanic server on a free port."""

from __future__ import annotations

import socket
import uuid
from contextlib import asynccontextmanager

import aiohttp
import pytest
from rasa.server import configure_cors
from sanic import Sanic
from sanic.touchup import TouchUp

_touched = False
_touchup = TouchUp.run


def _touch_once(app) -> None:
    """Sanic 21.12 rewrites its HTTP classes when an app starts (TouchUp) and fails when a
    second app in the same process rewrites them again; tests start one app per test."""
    global _touched
    if not _touched:
        _touchup(app)
        _touched = True


@pytest.fixture(autouse=True)
def _no_second_touchup(monkeypatch):
    monkeypatch.setattr(TouchUp, "run", staticmethod(_touch_once))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def serve(channel, on_new_message, cors=None):
    """Runs ``channel``'s blueprint under /webhooks/<name>/ and yields (base URL, session).

    ``cors`` adds Rasa's global sanic-cors as ``rasa run --cors`` does (e.g. ``"*"``).
    """
    app = Sanic(f"test_{uuid.uuid4().hex[:8]}")
    if cors is not None:
        configure_cors(app, cors)
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    try:
        async with aiohttp.ClientSession() as session:
            yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}", session
    finally:
        server.close()
        await server.wait_closed()
