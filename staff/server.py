"""The staff console's web server: ``python -m staff.server [--port P] [--host H]``.

An aiohttp app: pages at ``/``, the JSON API at ``/api/`` (see :mod:`staff.api`), the
OpenAPI document at ``/api/openapi.json``, static files at ``/static/`` and ``/health``.
Only ``/health``, ``/login``, ``POST /api/login`` and the static files answer without a
session. Database work runs in worker threads so one slow query never stalls the others.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from infra.db import StoreUnavailable
from staff import notices, pages  # notices: adds its API routes to ROUTES
from staff.accounts import RANK, Session, csrf_matches
from staff.api import ROUTES, SESSION_COOKIE, ApiError, Call, Route, check_body, parse_params
from staff.console import Conflict, Console, Forbidden, NotFound
from staff.settings import get_staff_settings
from staff.web import (
    CONSOLE,
    add_security_headers,
    attempt_login,
    client_address,
    in_thread,
    set_session_cookie,
)

logger = logging.getLogger(__name__)

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY = 256 * 1024
PUBLIC_PATHS = frozenset({"/health", "/login", "/api/login"})


def session_token(request: web.Request) -> tuple[str | None, str]:
    """Returns the session token and how it came: ``bearer``, ``cookie`` or ``none``."""
    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip(), "bearer"
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, "cookie") if cookie else (None, "none")


def json_response(status: int, body: Any) -> web.Response:
    """A JSON response (UTF-8, no ASCII escapes)."""
    return web.json_response(
        body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False, default=str)
    )


def error(status: int, message: str) -> web.Response:
    """The API's error shape: ``{"error": message}``."""
    return json_response(status, {"error": message})


@web.middleware
async def session_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Finds the session, answers API errors as JSON and driver failures as 503."""
    console = request.app[CONSOLE]
    token, how = session_token(request)
    request["auth"] = how
    request["token"] = token
    try:
        request["session"] = await in_thread(console.accounts.get_session, token) if token else None
        response = await handler(request)
    except web.HTTPException as exc:
        if not request.path.startswith("/api/") or exc.status < 400:
            raise
        response = error(exc.status, exc.reason)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
    except StoreUnavailable as exc:
        logger.error("database unavailable: %s", exc)
        response = error(503, "the database is unavailable; try again shortly")
    return response


def csrf_ok(request: web.Request, session: Session, given: str | None) -> bool:
    """Whether an unsafe request may go ahead: bearer calls, or the session's CSRF token."""
    if request["auth"] == "bearer":
        return True
    return csrf_matches(session.csrf_token, given)


async def read_json(request: web.Request) -> Any:
    """Reads a JSON body (at most 256 KiB).

    Raises:
        ApiError: 400 when it is not JSON or too large.
    """
    if request.content_length and request.content_length > MAX_BODY:
        raise ApiError(400, "the body is too large")
    raw = await request.content.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise ApiError(400, "the body is too large")
    if not raw.strip():
        raise ApiError(400, "a JSON body is required")
    if request.content_type not in ("application/json", "") and not request.content_type.endswith(
        "+json"
    ):
        raise ApiError(400, "send the body as application/json")
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, "the body is not valid JSON") from exc


def api_handler(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wraps a route: login, role, CSRF, parameters and body checks, then the handler."""

    async def handle(request: web.Request) -> web.StreamResponse:
        console = request.app[CONSOLE]
        session: Session | None = request.get("session")
        try:
            if route.role is not None:
                if session is None:
                    return error(401, "log in first: POST /api/login")
                if RANK[session.user.role] < RANK[route.role]:
                    return error(403, f"this needs the {route.role} role")
                if request.method in UNSAFE and not csrf_ok(
                    request, session, request.headers.get("X-CSRF-Token")
                ):
                    return error(403, "missing or wrong X-CSRF-Token header")
            params = parse_params(route, dict(request.match_info), request.query)
            body = None
            if route.body is not None:
                body = await read_json(request)
                check_body(route, body)
            call = Call(
                console=console,
                user=session.user if session else None,
                params=params,
                body=body,
                client=client_address(request),
                session=session,
            )
            if route.operation_id == "login":
                return await _login(request, call)
            status, result = await in_thread(route.handler, call)
            if route.operation_id == "logout" and request["token"]:
                await in_thread(console.accounts.end_session, request["token"])
                response = json_response(status, result)
                response.del_cookie(SESSION_COOKIE, path="/")
                return response
            if route.media == "text/plain":
                return web.Response(status=status, text=result, content_type="text/plain")
            return json_response(status, result)
        except ApiError as exc:
            return error(exc.status, exc.message)
        except NotFound as exc:
            return error(404, str(exc))
        except Forbidden as exc:
            return error(403, str(exc))
        except Conflict as exc:
            return error(409, str(exc))
        except ValueError as exc:
            return error(400, str(exc))

    handle.__name__ = route.operation_id
    return handle


async def _login(request: web.Request, call: Call) -> web.StreamResponse:
    console = call.console
    attempt = await attempt_login(request, call.body["username"], call.body["password"])
    if not attempt.decision.allowed:
        response = error(429, "too many login attempts; try again later")
        response.headers["Retry-After"] = str(attempt.decision.retry_after_s)
        return response
    if attempt.user is None:
        return error(401, "wrong user name or password")
    token, session = await in_thread(console.accounts.create_session, attempt.user)
    body = {
        "user": attempt.user.to_dict(),
        "csrf_token": session.csrf_token,
        "token": token,
        "expires_at": session.expires_at.isoformat(timespec="seconds"),
    }
    response = json_response(200, body)
    set_session_cookie(response, token, console.settings)
    return response


async def health(request: web.Request) -> web.Response:
    """``{"status": "ok"}`` (no login; for load balancers and ``motcua run``)."""
    return json_response(200, {"status": "ok"})


def make_app(console: Console) -> web.Application:
    """Builds the console's aiohttp application around ``console``."""
    app = web.Application(middlewares=[session_middleware], client_max_size=MAX_BODY)
    app[CONSOLE] = console
    app.on_response_prepare.append(add_security_headers)
    app.router.add_get("/health", health)
    for route in ROUTES:
        app.router.add_route(route.method, route.path, api_handler(route))
    pages.add_routes(app)
    notices.add_routes(app)
    return app


def main(argv: list[str] | None = None) -> int:
    """Runs the console until interrupted."""
    settings = get_staff_settings()
    parser = argparse.ArgumentParser(prog="python -m staff.server", description=__doc__)
    parser.add_argument("--port", type=int, default=settings.port, help="MOTCUA_STAFF_PORT")
    parser.add_argument("--host", default=settings.host, help="MOTCUA_STAFF_HOST")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    console = Console(settings)
    console.prepare()
    threading.Thread(target=console.warm_up, name="search-warm-up", daemon=True).start()
    app = make_app(console)
    app.on_cleanup.append(lambda _app: in_thread(console.close))
    print(f"motcua staff console on http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
