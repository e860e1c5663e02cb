"""The REST channel: Rasa's ``/webhooks/rest/webhook`` with input checks and no silent failures.

Same URL and payload as Rasa's own REST channel (``{"sender", "message",
"metadata"}`` in, a JSON list of bot messages out), plus:

* malformed JSON, a missing sender or a non-text message get a 400 with a clear reason;
* an empty message gets a prompt, an oversized one is cut to 2,000 characters
  and the citizen is told;
* when Rasa produces no reply (the action server is down, an action failed), the
  citizen gets a polite "try again" instead of silence;
* browsers may call it only from the server's own pages and those of the widget's
  allow-list (``MOTCUA_WIDGET_ORIGINS``), never with credentials
  (:class:`connectors.origins.OriginPolicy`).

The checks and the relay live in :mod:`connectors.relay`, shared with the web widget.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.origins import OriginPolicy
from connectors.relay import relay
from infra.privacy import install_log_filter
from infra.settings import read


class RestInput(InputChannel):
    """REST input channel (registered as ``rest``).

    Args:
        allowed_origins: Pages (besides the server's own) whose browsers may call the
            webhook; default: ``MOTCUA_WIDGET_ORIGINS``, else localhost.
    """

    def __init__(self, allowed_origins: str | Iterable[str] | None = None) -> None:
        if allowed_origins is None:
            allowed_origins = read()["MOTCUA_WIDGET_ORIGINS"]
        self.policy = OriginPolicy(allowed_origins)

    @classmethod
    def name(cls) -> str:
        """Channel name: the URL is ``/webhooks/rest/webhook``."""
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        """Builds the channel (``allowed_origins`` may be given, as for the widget)."""
        return cls((credentials or {}).get("allowed_origins"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health and webhook routes (and masks personal data in the server's log)."""
        install_log_filter()  # the REST channel is always on: cover the whole Rasa server
        hook = Blueprint("motcua_rest_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

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
