"""The REST channel: Rasa's ``/webhooks/rest/webhook`` with input checks and no silent failures.

Same URL and payload as Rasa's own REST channel (``{"sender", "message",
"metadata"}`` in, a JSON list of bot messages out), plus:

* malformed JSON, a missing sender or a non-text message get a 400 with a clear reason;
* an empty message gets a prompt, an oversized one is cut to 2,000 characters
  and the citizen is told;
* when Rasa produces no reply (the action server is down, an action failed), the
  citizen gets a polite "try again" instead of silence.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guards import channel_text, check_text, valid_sender

logger = logging.getLogger(__name__)


def _bad_request(reason: str) -> HTTPResponse:
    return response.json({"error": reason}, status=400)


class RestInput(InputChannel):
    """REST input channel (registered as ``rest``)."""

    @classmethod
    def name(cls) -> str:
        """Channel name: the URL is ``/webhooks/rest/webhook``."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Returns the health and webhook routes."""
        hook = Blueprint("motcua_rest_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                payload = request.json
            except Exception:  # sanic raises InvalidUsage on a broken body
                return _bad_request('the body must be JSON: {"sender": ..., "message": ...}')
            if not isinstance(payload, dict):
                return _bad_request("the body must be a JSON object")
            sender = payload.get("sender")
            if not valid_sender(sender):
                return _bad_request("'sender' must be a non-empty string of at most 128 chars")
            message = payload.get("message")
            if message is not None and not isinstance(message, str):
                return _bad_request("'message' must be a string")
            metadata = payload.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return _bad_request("'metadata' must be an object")
            incoming = check_text(message)
            if incoming.empty:
                return response.json(
                    [{"recipient_id": sender, "text": channel_text("empty", incoming.language)}]
                )
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        incoming.text,
                        collector,
                        sender,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except CancelledError:  # Rasa cancels a turn that outlives its timeout
                logger.error("rest: message from %s timed out", sender)
            except Exception:
                logger.exception("rest: message from %s failed", sender)
            messages = list(collector.messages)
            if incoming.truncated:
                note = channel_text("too_long", incoming.language, n=len(incoming.text))
                messages.insert(0, {"recipient_id": sender, "text": note})
            if not collector.messages:
                logger.warning("rest: no reply for %s; sending the busy message", sender)
                messages.append(
                    {"recipient_id": sender, "text": channel_text("busy", incoming.language)}
                )
            return response.json(messages)

        return hook
