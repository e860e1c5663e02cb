"""The web widget channel: serves ``web/widget.js`` and relays its messages to Rasa.

One ``<script>`` tag embeds the widget on any page::

    <script src="https://bot.example.vn/webhooks/webchat/widget.js" defer></script>

Routes under ``/webhooks/webchat/``:

* ``GET /`` — health;
* ``GET /widget.js``, ``GET /widget.css`` — the widget, read from ``web/`` at request time;
* ``GET /demo`` — a page that shows the embed snippet and embeds the widget;
* ``POST /webhook`` — the REST channel's webhook (same checks, see :mod:`connectors.relay`)
  with CORS for the origins in ``allowed_origins``; ``OPTIONS /webhook`` answers the preflight.

A browser POST whose ``Origin`` is not allowed gets a 403 before Rasa sees it. Requests
without an ``Origin`` (curl, server-to-server) are not browser cross-origin calls and pass.

Rasa's own ``--cors "*"`` (sanic-cors) runs on every route. Its request middleware answers
every ``OPTIONS`` before any blueprint sees it, so under ``--cors "*"`` a preflight from a
disallowed origin still gets a permissive answer; the POST that follows is what gets the
403. The webhook's answers tell sanic-cors that CORS is already decided, so sanic-cors does
not add ``Access-Control-Allow-Origin`` to a 403 (nor to any other webhook answer).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.relay import relay

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""Where ``widget.js``, ``widget.css`` and ``demo.html`` live."""

ORIGINS_ENV = "MOTCUA_WIDGET_ORIGINS"
"""Comma-separated origins allowed to embed the widget, e.g. ``https://*.hanoi.gov.vn``."""

DEFAULT_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
"""Allowed, besides the server's own origin, when no ``allowed_origins`` is configured."""

STATIC_FILES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.html": "text/html; charset=utf-8",
}
"""The only files served, with their content types: nothing else under ``web/`` is reachable."""

_SANIC_CORS_EVALUATED = "_sanic_cors_e"
"""The ``request.ctx`` flag with which sanic-cors marks a request whose CORS is decided."""

_PATTERN = re.compile(r"^(https?)://(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}|\*))?$")


@dataclass(frozen=True)
class OriginPattern:
    """One allowed origin, as configured.

    ``https://ward.example.vn``, ``http://localhost:*`` (any port), ``https://*.hanoi.gov.vn``
    (any subdomain, not the domain itself) or ``*`` (any site).

    Attributes:
        scheme: ``http``, ``https``, or ``*`` for the pattern that allows every origin.
        host: The host name, lower case, without the ``*.`` of a wildcard.
        port: The port; ``None`` for the scheme's default, ``"*"`` for any.
        subdomains: Whether the pattern matches subdomains of ``host`` only.
    """

    scheme: str
    host: str
    port: str | None
    subdomains: bool

    @classmethod
    def parse(cls, text: str) -> OriginPattern:
        """Parses a configured origin.

        Raises:
            ValueError: For anything but ``scheme://host[:port]`` (no path, no trailing dot).
        """
        if text.strip() == "*":
            return cls("*", "", "*", False)
        match = _PATTERN.match(text.strip().lower().rstrip("/"))
        if not match:
            raise ValueError(
                f"webchat: allowed origin {text!r} is not of the form https://host[:port] "
                "(wildcards: https://*.example.vn, http://localhost:*)"
            )
        scheme, star, host, port = match.groups()
        if port == _default_port(scheme):
            port = None
        return cls(scheme, host, port, bool(star))

    def matches(self, origin: str) -> bool:
        """Tells whether a request's ``Origin`` header falls under this pattern."""
        parts = _split_origin(origin)
        if parts is None:
            return False
        scheme, host, port = parts
        if self.scheme == "*":
            return True
        if scheme != self.scheme or (self.port != "*" and port != self.port):
            return False
        if self.subdomains:
            return host.endswith("." + self.host)
        return host == self.host


def _default_port(scheme: str) -> str:
    return "443" if scheme == "https" else "80"


def _split_origin(origin: str) -> tuple[str, str, str | None] | None:
    """Splits an ``Origin`` header into (scheme, host, port or None for the default)."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    text_port = None if port is None or str(port) == _default_port(parts.scheme) else str(port)
    return parts.scheme, parts.hostname, text_port


def parse_origins(value: str | Iterable[str] | None) -> tuple[OriginPattern, ...]:
    """Reads the ``allowed_origins`` setting: a comma-separated string or a list.

    Returns:
        The patterns; the localhost defaults when ``value`` is empty or missing.

    Raises:
        ValueError: For a malformed origin.
    """
    items = value.split(",") if isinstance(value, str) else list(value or [])
    items = [str(item).strip() for item in items if str(item).strip()]
    return tuple(OriginPattern.parse(item) for item in items or DEFAULT_ORIGINS)


def same_origin(origin: str, request: Request) -> bool:
    """Tells whether ``origin`` is the server's own (the host the browser addressed)."""
    parts = _split_origin(origin)
    own = _split_origin(f"{request.scheme}://{request.host}") if request.host else None
    if parts is None or own is None:
        return False
    # Behind a TLS-terminating proxy the server sees http while the page is https: compare
    # host and port, and accept either scheme with its own default port.
    return parts[1] == own[1] and parts[2] == own[2]


class WebchatInput(InputChannel):
    """Web widget input channel (registered as ``webchat``)."""

    def __init__(
        self, allowed_origins: str | Iterable[str] | None = None, web_dir: Path | None = None
    ) -> None:
        """Creates the channel.

        Args:
            allowed_origins: Origins whose pages may call the webhook (besides the server's
                own); a comma-separated string or a list. Default: http://localhost and
                http://127.0.0.1 on any port.
            web_dir: Where the widget's files are (default: the project's ``web/``).

        Raises:
            ValueError: For a malformed origin.
        """
        self.allowed_origins = parse_origins(allowed_origins)
        self.web_dir = web_dir or WEB_DIR

    @classmethod
    def name(cls) -> str:
        """Channel name: the URLs are under ``/webhooks/webchat/``."""
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebchatInput:
        """Builds the channel from its ``credentials.yml`` section (``allowed_origins``).

        Raises:
            ValueError: For a malformed origin.
        """
        credentials = credentials or {}
        return cls(allowed_origins=credentials.get("allowed_origins"))

    def origin_allowed(self, origin: str | None, request: Request) -> bool:
        """Tells whether a request with this ``Origin`` header may use the webhook."""
        if not origin:
            return True  # not a cross-origin browser request
        if same_origin(origin, request):
            return True
        return any(pattern.matches(origin) for pattern in self.allowed_origins)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health, static file, demo and webhook routes."""
        hook = Blueprint("motcua_webchat", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/widget.js", methods=["GET"])
        async def widget_js(request: Request) -> HTTPResponse:
            return self._static("widget.js")

        @hook.route("/widget.css", methods=["GET"])
        async def widget_css(request: Request) -> HTTPResponse:
            return self._static("widget.css")

        @hook.route("/demo", methods=["GET"])
        async def demo(request: Request) -> HTTPResponse:
            return self._static("demo.html")

        @hook.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            _cors_decided(request)
            origin = request.headers.get("origin")
            if not self.origin_allowed(origin, request):
                return _forbidden(origin)
            headers = _cors_headers(origin)
            headers.update(
                {
                    "Access-Control-Allow-Methods": "POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                }
            )
            return response.empty(status=204, headers=headers)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            _cors_decided(request)
            origin = request.headers.get("origin")
            if not self.origin_allowed(origin, request):
                return _forbidden(origin)
            return await relay(request, on_new_message, self.name(), headers=_cors_headers(origin))

        return hook

    def _static(self, name: str) -> HTTPResponse:
        """Serves one of :data:`STATIC_FILES`, read now so an edit shows without a restart."""
        try:
            body = (self.web_dir / name).read_bytes()
        except OSError:
            return response.json({"error": f"{name} is missing on the server"}, status=404)
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return response.raw(body, content_type=STATIC_FILES[name], headers=headers)


def _cors_decided(request: Request) -> None:
    """Tells Rasa's global sanic-cors to leave this answer's CORS headers to us."""
    setattr(request.ctx, _SANIC_CORS_EVALUATED, "1")


def _cors_headers(origin: str | None) -> dict[str, str]:
    """CORS headers for an allowed request (none when it carried no ``Origin``)."""
    if not origin:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _forbidden(origin: str | None) -> HTTPResponse:
    return response.json(
        {"error": f"origin {origin} may not use this assistant; ask its operator to allow it"},
        status=403,
        headers={"Vary": "Origin"},
    )


def credentials_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """Returns the ``credentials.yml`` section for the widget.

    The widget needs no secret, so it is always on; ``MOTCUA_WIDGET_ORIGINS`` (comma-separated)
    lists the sites that may embed it. Checked here so a typo stops the start-up.

    Raises:
        ValueError: For a malformed origin in ``MOTCUA_WIDGET_ORIGINS``.
    """
    value = (env.get(ORIGINS_ENV) or "").strip()
    if not value:
        return {}
    parse_origins(value)
    return {"allowed_origins": value}
