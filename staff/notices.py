"""Dossier notices for staff: followers per dossier, the outbox with delivery states, resend.

API (added to :data:`staff.api.ROUTES`, so the OpenAPI document lists them):

* ``GET /api/notices/followed`` — dossiers by active followers;
* ``GET /api/notices/followers?dossier_code=`` — one dossier's followers (channel,
  pseudonym, language, consent, since when; never the channel user id);
* ``GET /api/notices/outbox?state=&dossier_code=`` — notices, newest first, with their
  state, attempts and last error;
* ``POST /api/notices/resend {"notice_id": N}`` (editor) — deliver a finished notice
  again (audited).

The page ``/notices`` shows the same, with a resend button per notice.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from desk.codes import normalize_code
from desk.follows import FollowStore
from desk.outbox import STATES, Outbox
from staff.api import INT, LIMIT, ROUTES, STR, Call, Param, Route, _items
from staff.console import Console, NotFound
from staff.pages import _console, _form, _int, _need, _redirect, _session_or_login, _thread, render


def stores(console: Console) -> tuple[FollowStore, Outbox]:
    """The follow store and the outbox on the console's database (opened once)."""
    opened = getattr(console, "_notice_stores", None)
    if opened is None:
        opened = (FollowStore(console.db), Outbox(console.db))
        console._notice_stores = opened
    return opened


def resend(console: Console, actor: str, notice_id: int) -> dict[str, Any]:
    """Puts a finished notice back in the queue and writes it to the audit log.

    Raises:
        NotFound: No such notice, or it is still on its way.
    """
    _, outbox = stores(console)
    if not outbox.resend(notice_id):
        raise NotFound(f"no finished notice #{notice_id} (it may still be on its way)")
    console.audit.record(actor, "notice.resend", f"notice:{notice_id}")
    return {"id": notice_id, "resent": True}


# ---------------------------------------------------------------------- API

FOLLOWER = {
    "type": "object",
    "required": ["id", "dossier_code", "channel", "who", "language", "created_at", "active"],
    "properties": {
        "id": INT,
        "dossier_code": STR,
        "channel": STR,
        "who": STR,
        "language": STR,
        "consent": STR,
        "created_at": STR,
        "active": {"type": "boolean"},
    },
}
NOTICE = {
    "type": "object",
    "required": ["id", "dossier_code", "status", "channel", "state", "attempts"],
    "properties": {
        "id": INT,
        "dossier_code": STR,
        "status": STR,
        "channel": STR,
        "who": STR,
        "language": STR,
        "urgent": {"type": "boolean"},
        "state": {"type": "string", "enum": list(STATES)},
        "attempts": INT,
        "created_at": STR,
        "sent_at": {"type": ["string", "null"]},
        "last_error": STR,
    },
}
DOSSIER_CODE = Param(
    "dossier_code",
    "query",
    {"type": "string", "maxLength": 40, "example": "000.00.20.H26-251103-0042"},
)


def _code(raw: str | None) -> str | None:
    """The canonical code, or ``None`` for text that is no dossier code (nothing matches)."""
    return normalize_code(raw or "")


def _list_followed(call: Call) -> tuple[int, Any]:
    follows, _ = stores(call.console)
    rows = follows.counts(limit=call.params.get("limit", 50))
    return 200, {"items": [{"dossier_code": c, "followers": n} for c, n in rows]}


def _list_followers(call: Call) -> tuple[int, Any]:
    follows, _ = stores(call.console)
    code = _code(call.params.get("dossier_code"))
    found = follows.followers(code, active_only=False) if code else []
    return 200, {"items": [f.to_dict() for f in found]}


def _list_notices(call: Call) -> tuple[int, Any]:
    _, outbox = stores(call.console)
    raw = call.params.get("dossier_code")
    code = _code(raw)
    if raw and code is None:  # no dossier has such a code
        return 200, {"items": [], "counts": outbox.counts()}
    rows = outbox.rows(
        state=call.params.get("state"), code=code, limit=call.params.get("limit", 50)
    )
    return 200, {"items": rows, "counts": outbox.counts()}


def _resend_notice(call: Call) -> tuple[int, Any]:
    return 200, resend(call.console, call.user.username, call.body["notice_id"])


NOTICE_ROUTES = [
    Route(
        "GET",
        "/api/notices/followed",
        _list_followed,
        "Followed dossiers, most followers first",
        params=[LIMIT],
        response=_items(
            {
                "type": "object",
                "required": ["dossier_code", "followers"],
                "properties": {"dossier_code": STR, "followers": INT},
            }
        ),
    ),
    Route(
        "GET",
        "/api/notices/followers",
        _list_followers,
        "Who follows one dossier (no channel user ids; none for text that is no code)",
        params=[DOSSIER_CODE],
        response=_items(FOLLOWER),
    ),
    Route(
        "GET",
        "/api/notices/outbox",
        _list_notices,
        "Dossier notices, newest first, with their delivery state",
        params=[
            Param("state", "query", {"type": "string", "enum": list(STATES)}),
            DOSSIER_CODE,
            LIMIT,
        ],
        response={
            "type": "object",
            "required": ["items", "counts"],
            "properties": {
                "items": {"type": "array", "items": NOTICE},
                "counts": {"type": "object", "additionalProperties": INT},
            },
        },
    ),
    Route(
        "POST",
        "/api/notices/resend",
        _resend_notice,
        "Deliver a finished notice again",
        role="editor",
        body={
            "type": "object",
            "required": ["notice_id"],
            "additionalProperties": False,
            "properties": {"notice_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
        },
        response={
            "type": "object",
            "required": ["id", "resent"],
            "properties": {"id": INT, "resent": {"type": "boolean"}},
        },
        errors=(400, 404),
    ),
]
if not any(r.path.startswith("/api/notices/") for r in ROUTES):
    ROUTES.extend(NOTICE_ROUTES)


# ---------------------------------------------------------------------- page


async def notices_page(request: web.Request) -> web.Response:
    """Followed dossiers and the outbox, filtered by state or dossier."""
    _session_or_login(request)
    follows, outbox = stores(_console(request))
    state = request.query.get("state")
    state = state if state in STATES else None
    code = normalize_code(request.query.get("dossier_code") or "")
    rows = await _thread(outbox.rows, state=state, code=code, limit=200)
    counts = await _thread(outbox.counts)
    followed = await _thread(follows.counts, limit=50)
    followers = await _thread(follows.followers, code) if code else []
    return render(
        request,
        "notices.html",
        nav="notices",
        rows=rows,
        counts=counts,
        followed=followed,
        followers=[f.to_dict() for f in followers],
        state=state or "",
        code=code or "",
        states=STATES,
    )


async def notices_resend(request: web.Request) -> web.StreamResponse:
    """The page's resend button."""
    session = _need(request, "editor")
    await _form(request, session)
    notice_id = _int(request.match_info["notice_id"], 0, 0, 2**31 - 1)
    try:
        await _thread(resend, _console(request), session.user.username, notice_id)
    except NotFound as exc:
        return render(request, "message.html", status=409, nav="notices", message=str(exc))
    raise _redirect("/notices")


def add_routes(app: web.Application) -> None:
    """Registers the page and its resend button."""
    app.router.add_get("/notices", notices_page)
    app.router.add_post("/notices/{notice_id:[0-9]+}/resend", notices_resend)
