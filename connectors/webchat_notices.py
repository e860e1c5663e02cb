"""The widget's notices: ``GET /webhooks/webchat/notices?sender=<id>``.

The widget cannot be pushed to, so notices for a browser that follows a dossier wait in
the outbox (``waiting``, :mod:`desk.outbox`) until its page is next opened; the widget
then asks here with its sender id (a random id kept in the browser, as unguessable as a
session token) and gets ``{"notices": [{"code", "status", "text"}]}``, oldest first, each
once. Like every notice they carry only the code and the bare status
(:mod:`notify.texts`). The same origin policy as the webhook applies.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.guards import check_sender, valid_sender
from connectors.origins import OriginPolicy
from desk.outbox import Outbox
from infra.db import Database, StoreUnavailable
from notify.texts import notice_text

logger = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def default_outbox() -> Outbox:
    """The outbox in ``MOTCUA_DATABASE_URL`` (opened on first use)."""
    from infra.settings import read

    return Outbox(Database(read()["MOTCUA_DATABASE_URL"]))


async def widget_notices(
    request: Request, policy: OriginPolicy, outbox: Outbox | None = None
) -> HTTPResponse:
    """Hands the waiting notices of ``?sender=`` to the widget (and marks them delivered)."""
    refused = policy.refuse(request)
    if refused is not None:
        return refused
    headers = {**policy.headers(request), "Cache-Control": "no-store"}
    sender = request.args.get("sender")
    if not valid_sender(sender):
        return response.json(
            {"error": "'sender' must be a non-empty string of at most 128 chars"},
            status=400,
            headers=headers,
        )
    try:
        notices = await asyncio.to_thread(
            (outbox or default_outbox()).pull, "webchat", check_sender(sender)
        )
    except StoreUnavailable as exc:
        logger.error("webchat: notices unavailable: %s", exc)
        return response.json({"notices": []}, headers=headers)
    body = [
        {
            "code": n.dossier_code,
            "status": n.status,
            "text": notice_text(n.dossier_code, n.status, n.language),
        }
        for n in notices
    ]
    return response.json({"notices": body}, headers=headers)
