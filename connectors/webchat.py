"""The web widget channel: serves ``web/widget.js`` and relays its messages to Rasa.

One ``<script>`` tag embeds the widget on any page::

    <script src="https://bot.example.vn/webhooks/webchat/widget.js" defer></script>

Routes under ``/webhooks/webchat/``:

* ``GET /`` — health;
* ``GET /widget.js``, ``GET /widget.css`` — the widget, read from ``web/`` at request time;
* ``GET /demo`` — a page that shows the embed snippet and embeds the widget;
* ``GET /notices?sender=`` — dossier notices waiting for this browser
  (:mod:`connectors.webchat_notices`);
* ``POST /webhook`` — the REST channel's webhook (same checks, see :mod:`connectors.relay`)
  with CORS for the origins in ``allowed_origins``; ``OPTIONS /webhook`` answers the preflight.

A browser POST whose ``Origin`` is not allowed gets a 403 before Rasa sees it; the
policy, shared with the REST webhook, is :class:`connectors.origins.OriginPolicy`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.origins import OriginPolicy, parse_origins
from connectors.relay import relay
from connectors.webchat_notices import widget_notices

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""Where ``widget.js``, ``widget.css`` and ``demo.html`` live."""

ORIGINS_ENV = "MOTCUA_WIDGET_ORIGINS"
"""Comma-separated origins allowed to embed the widget, e.g. ``https://*.hanoi.gov.vn``."""

STATIC_FILES = {
    "widget.js": "application/javascript; charset=utf-8",
    "widget.css": "text/css; charset=utf-8",
    "demo.html": "text/html; charset=utf-8",
}
"""The only files served, with their content types: nothing else under ``web/`` is reachable."""


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
        self.policy = OriginPolicy(allowed_origins)
        self.allowed_origins = self.policy.patterns
        self.web_dir = web_dir or WEB_DIR
        self.outbox = None
        """The notice outbox (default: the one in ``MOTCUA_DATABASE_URL``); tests set it."""

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
        return self.policy.allowed(origin, request)

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

        @hook.route("/notices", methods=["GET"])
        async def notices(request: Request) -> HTTPResponse:
            return await widget_notices(request, self.policy, self.outbox)

        @hook.route("/webhook", methods=["OPTIONS"])
        async def preflight(request: Request) -> HTTPResponse:
            return self.policy.preflight(request)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self.policy.refuse(request)
            if refused is not None:
                return refused
            headers = self.policy.headers(request)
            return await relay(request, on_new_message, self.name(), headers=headers)

        return hook

    def _static(self, name: str) -> HTTPResponse:
        """Serves one of :data:`STATIC_FILES`, read now so an edit shows without a restart."""
        try:
            body = (self.web_dir / name).read_bytes()
        except OSError:
            return response.json({"error": f"{name} is missing on the server"}, status=404)
        headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
        return response.raw(body, content_type=STATIC_FILES[name], headers=headers)


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
