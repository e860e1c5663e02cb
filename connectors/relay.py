"""The webhook shared by the REST channel and the web widget: check a message, hand it to Rasa.

``POST {"sender", "message", "metadata"}`` in, a JSON list of bot messages out:

* malformed JSON, a missing sender or a non-text message get a 400 with a clear reason,
  and so do metadata nested too deep or too large; a body over 64 KB gets a 413;
* an empty message gets a prompt, an oversized one is cut to 2,000 characters
  and the citizen is told;
* when Rasa produces no reply (the action server is down, an action failed), the
  citizen gets a polite "try again" instead of silence;
* one client address may send ``MOTCUA_CLIENT_MESSAGES_PER_MINUTE`` messages a minute
  (429 with ``Retry-After`` beyond), whatever sender ids it invents.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.common.tasks import guarded_turn
from connectors.guards import (
    MAX_REST_BODY_BYTES,
    MAX_REST_BODY_DEPTH,
    BodyError,
    channel_text,
    check_sender,
    check_text,
    parse_json_body,
    rest_metadata,
    valid_sender,
)
from infra.clients import AddressLimit, forwarded_client, is_loopback
from infra.settings import read

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _client_limit() -> tuple[AddressLimit, tuple]:
    """This process's per-address limit and the trusted proxies (read once)."""
    values = read()
    return AddressLimit(values["MOTCUA_CLIENT_MESSAGES_PER_MINUTE"]), values[
        "MOTCUA_TRUSTED_PROXIES"
    ]


def over_address_limit(request: Request) -> HTTPResponse | None:
    """A 429 when the request's client address is over its limit, else ``None``."""
    limit, trusted = _client_limit()
    forwarded = request.headers.getall("X-Forwarded-For", [])
    address = forwarded_client(request.ip, forwarded, trusted)
    if is_loopback(address):
        return None  # this machine (replays, benchmarks); a proxy here sends X-Forwarded-For
    wait = limit.retry_after(address)
    if not wait:
        return None
    seconds = str(max(1, round(wait)))
    return response.json(
        {"error": f"too many messages from this address; try again in {seconds} s"},
        status=429,
        headers={"Retry-After": seconds},
    )


def bad_request(reason: str) -> HTTPResponse:
    """Returns a 400 with ``{"error": reason}``."""
    return response.json({"error": reason}, status=400)


def parse_webhook_body(request: Request) -> tuple[str, str | None, dict | None] | HTTPResponse:
    """Reads ``sender``, ``message`` and ``metadata`` from a webhook body.

    The body is held to :data:`~connectors.guards.MAX_REST_BODY_BYTES` and
    :data:`~connectors.guards.MAX_REST_BODY_DEPTH`; the sender id is cleaned (a phone
    number or e-mail address becomes a pseudonym) and the metadata is cut down to the
    few keys a client may store (:func:`~connectors.guards.rest_metadata`).

    Args:
        request: The incoming POST.

    Returns:
        ``(sender, message, metadata)``, or a 400 (413 for a body too large) naming what
        is wrong.
    """
    try:
        payload = parse_json_body(request.body, MAX_REST_BODY_BYTES, MAX_REST_BODY_DEPTH)
    except BodyError as exc:
        return response.json({"error": exc.reason}, status=exc.status)
    if not isinstance(payload, dict):
        return bad_request("the body must be a JSON object")
    sender = payload.get("sender")
    if not valid_sender(sender):
        return bad_request("'sender' must be a non-empty string of at most 128 chars")
    message = payload.get("message")
    if message is not None and not isinstance(message, str):
        return bad_request("'message' must be a string")
    metadata = payload.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return bad_request("'metadata' must be an object")
    try:
        kept = rest_metadata(metadata) if metadata is not None else None
    except BodyError as exc:
        return bad_request(exc.reason)
    return check_sender(sender), message, kept


async def collect_replies(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    channel: str,
    sender: str,
    message: str | None,
    metadata: dict | None,
) -> list[dict[str, Any]]:
    """Hands one checked message to Rasa and returns what the citizen should see.

    Args:
        on_new_message: Rasa's handler for incoming messages.
        channel: The input channel's name (``rest``, ``webchat``), recorded on the message.
        sender: The conversation id.
        message: The citizen's text (``None`` counts as empty).
        metadata: Extra data for Rasa, passed through.

    Returns:
        The bot messages, never empty: a prompt for an empty message, a note when the text
        was cut, and the "busy" message when Rasa said nothing.
    """
    incoming = check_text(message)
    if incoming.empty:
        return [{"recipient_id": sender, "text": channel_text("empty", incoming.language)}]
    collector = CollectingOutputChannel()
    message = UserMessage(
        incoming.text, collector, sender, input_channel=channel, metadata=metadata
    )
    await guarded_turn(on_new_message(message), logger, channel, sender)
    messages = list(collector.messages)
    if incoming.truncated:
        note = channel_text("too_long", incoming.language, n=len(incoming.text))
        messages.insert(0, {"recipient_id": sender, "text": note})
    if not collector.messages:
        logger.warning("%s: no reply for %s; sending the busy message", channel, sender)
        messages.append({"recipient_id": sender, "text": channel_text("busy", incoming.language)})
    return messages


async def relay(
    request: Request,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    channel: str,
    headers: dict[str, str] | None = None,
) -> HTTPResponse:
    """Answers one webhook POST: checks the body, relays it, returns the replies as JSON.

    Args:
        request: The incoming POST.
        on_new_message: Rasa's handler for incoming messages.
        channel: The input channel's name.
        headers: Extra response headers (e.g. CORS), added to every answer.

    Returns:
        200 with the list of bot messages, 400 with the reason, or 429 over the limit.
    """
    parsed = over_address_limit(request) or parse_webhook_body(request)
    if isinstance(parsed, HTTPResponse):
        answer = parsed
    else:
        sender, message, metadata = parsed
        replies = await collect_replies(on_new_message, channel, sender, message, metadata)
        answer = response.json(replies)
    for name, value in (headers or {}).items():
        answer.headers[name] = value
    return answer
