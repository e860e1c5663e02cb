"""Which web pages may call the REST and widget webhooks (CORS), and the answers they get.

Rasa's own ``--cors "*"`` (sanic-cors) runs on every route, and under Rasa's settings it
reflects any ``Origin`` with ``Access-Control-Allow-Credentials: true``. The webhooks
decide CORS themselves instead (:class:`OriginPolicy`): a browser request from a page
that is not the server's own and not allowed gets a 403 before Rasa sees it; an allowed
one gets its origin back, never with credentials (the webhooks use no cookies).
Requests without an ``Origin`` (curl, server-to-server) are not browser cross-origin
calls and pass.

sanic-cors's request middleware answers every ``OPTIONS`` before any blueprint sees it,
so under ``--cors "*"`` a preflight from a disallowed origin still gets a permissive
answer; the POST that follows is what gets the 403. The webhooks' answers tell sanic-cors
that CORS is already decided, so it adds nothing to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

DEFAULT_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")
"""Allowed, besides the server's own origin, when no ``allowed_origins`` is configured."""

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


class OriginPolicy:
    """The pages allowed to call a webhook from a browser, and the CORS answers.

    Args:
        allowed_origins: Origins whose pages may call it (besides the server's own); a
            comma-separated string or a list. Default: http://localhost and
            http://127.0.0.1 on any port.

    Raises:
        ValueError: For a malformed origin.
    """

    def __init__(self, allowed_origins: str | Iterable[str] | None = None) -> None:
        self.patterns = parse_origins(allowed_origins)

    def allowed(self, origin: str | None, request: Request) -> bool:
        """Tells whether a request with this ``Origin`` header may use the webhook."""
        if not origin:
            return True  # not a cross-origin browser request
        if same_origin(origin, request):
            return True
        return any(pattern.matches(origin) for pattern in self.patterns)

    def refuse(self, request: Request) -> HTTPResponse | None:
        """Takes the CORS decision from sanic-cors; returns the 403 for a disallowed page."""
        setattr(request.ctx, _SANIC_CORS_EVALUATED, "1")
        origin = request.headers.get("origin")
        return None if self.allowed(origin, request) else _forbidden(origin)

    def headers(self, request: Request) -> dict[str, str]:
        """CORS headers for an allowed request (none when it carried no ``Origin``)."""
        origin = request.headers.get("origin")
        if not origin:
            return {}
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}

    def preflight(self, request: Request) -> HTTPResponse:
        """Answers ``OPTIONS`` for the webhook (where sanic-cors does not answer first)."""
        refused = self.refuse(request)
        if refused is not None:
            return refused
        headers = self.headers(request)
        headers.update(
            {
                "Access-Control-Allow-Methods": "POST, OPTIONS",
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": "600",
            }
        )
        return response.empty(status=204, headers=headers)


def _forbidden(origin: str | None) -> HTTPResponse:
    return response.json(
        {"error": f"origin {origin} may not use this assistant; ask its operator to allow it"},
        status=403,
        headers={"Vary": "Origin"},
    )
