"""HTTP plumbing shared by the console's pages and its server.

:mod:`staff.pages` and :mod:`staff.server` (the API) both use it: the app key of the
:class:`~staff.console.Console`, worker threads, the client's address behind a trusted
proxy, the session cookie, the security headers every response carries, and the login
flow both login forms go through. Neither of the two imports the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from infra.clients import forwarded_client
from staff.accounts import LoginDecision, User
from staff.api import SESSION_COOKIE
from staff.console import Console
from staff.settings import StaffSettings

CONSOLE = web.AppKey("console", Console)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
"""Headers every response carries, error pages and 404s included (a handler may set its
own ``Cache-Control``, as the static files do)."""


async def in_thread(work: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Runs blocking (database) work in a worker thread."""
    return await asyncio.get_running_loop().run_in_executor(None, lambda: work(*args, **kwargs))


def client_address(request: web.Request) -> str:
    """The client's address behind the trusted proxies (``MOTCUA_TRUSTED_PROXIES``)."""
    trusted = request.app[CONSOLE].settings.trusted_proxies
    return forwarded_client(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: puts :data:`SECURITY_HEADERS` on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def set_session_cookie(response: web.StreamResponse, token: str, settings: StaffSettings) -> None:
    """Sets the session cookie: HttpOnly, SameSite=Strict, Secure when configured."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="Strict",
        secure=settings.secure_cookie,
        path="/",
    )


@dataclass
class LoginAttempt:
    """How a login went: the gate's decision and, when the password was right, the user."""

    decision: LoginDecision
    user: User | None = None


async def attempt_login(request: web.Request, username: str, password: str) -> LoginAttempt:
    """The login flow of the page and the API alike: limit, slow down, check, audit."""
    console = request.app[CONSOLE]
    client = client_address(request)
    decision = await in_thread(console.login_gate, username, client)
    if not decision.allowed:
        return LoginAttempt(decision)
    if decision.delay_s:
        await asyncio.sleep(decision.delay_s)
    user = await in_thread(console.finish_login, username, password, client, decision)
    return LoginAttempt(decision, user)
