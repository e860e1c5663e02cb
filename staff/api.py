"""The console's JSON API under ``/api/``, and its OpenAPI 3 document from the same table.

:data:`ROUTES` is the single source: each :class:`Route` names its method, path, the
least role that may call it, its query and path parameters, its body schema and its
response schema. The server registers the routes from it, checks every request against
it (a malformed parameter or body is a 400 before the handler runs), and
:func:`openapi_document` writes ``/api/openapi.json`` from it.

Authentication: the session cookie set by ``POST /api/login`` (then every POST, PATCH
and DELETE must carry the session's CSRF token in ``X-CSRF-Token``), or the same
session token as ``Authorization: Bearer <token>`` for scripts (no CSRF token needed:
browsers never send it on their own).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from desk.conversations import OUTCOMES, REVIEW_REASONS
from desk.handoffs import HANDOFF_STATUSES
from knowledge.schema import CHANNELS, TIME_UNITS
from staff.accounts import MAX_PASSWORD, MIN_PASSWORD, ROLES, User
from staff.console import Console, QueueFilter
from staff.review import ASK_INTENTS

API_VERSION = "1.0.0"
SESSION_COOKIE = "motcua_staff"
CODE_RE = r"^([0-9]+\.[0-9]{6}|[A-Z0-9][A-Z0-9._-]{2,31})$"
USERNAME_RE = r"^[a-z0-9][a-z0-9._-]{1,63}$"


class ApiError(Exception):
    """An error answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Param:
    """A query or path parameter.

    Attributes:
        name: Its name.
        where: ``query`` or ``path``.
        schema: Its JSON schema (``integer`` and ``string`` with ``format: date`` are parsed).
        description: What it means.
    """

    name: str
    where: str
    schema: dict[str, Any]
    description: str = ""


@dataclass
class Call:
    """One API request, checked: who calls, with which parameters and body."""

    console: Console
    user: User | None
    params: dict[str, Any]
    body: Any
    client: str = ""
    session: Any = None


@dataclass
class Route:
    """One API operation.

    Attributes:
        method: HTTP method.
        path: OpenAPI path (``/api/turns/{turn_id}``; aiohttp reads the same syntax).
        handler: ``handler(call) -> (status, body)``; runs in a worker thread.
        summary: One line for the document.
        role: The least role that may call it; ``None`` for no login (only ``/api/login``).
        params: Query and path parameters.
        body: JSON schema of the request body, if it takes one.
        response: JSON schema of the success body.
        status: The success status.
        errors: Error statuses it may answer (401/403 are added for protected routes).
        media: Media type of the success body.
    """

    method: str
    path: str
    handler: Callable[[Call], tuple[int, Any]]
    summary: str
    role: str | None = "viewer"
    params: list[Param] = field(default_factory=list)
    body: dict[str, Any] | None = None
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    status: int = 200
    errors: tuple[int, ...] = (400,)
    media: str = "application/json"

    @property
    def operation_id(self) -> str:
        """A stable operation id from the handler's name."""
        return self.handler.__name__.lstrip("_")


# ---------------------------------------------------------------------- schemas

STR = {"type": "string"}
NSTR = {"type": ["string", "null"]}
INT = {"type": "integer"}
NINT = {"type": ["integer", "null"]}
TIMESTAMP = {"type": "string", "format": "date-time"}
USER = {
    "type": "object",
    "required": ["username", "role", "active", "created_at"],
    "properties": {
        "username": STR,
        "role": {"type": "string", "enum": list(ROLES)},
        "active": {"type": "boolean"},
        "created_at": STR,
    },
}
TURN = {
    "type": "object",
    "required": ["id", "sender_id", "channel", "asked_at", "text", "outcome", "review_reasons"],
    "properties": {
        "id": INT,
        "sender_id": STR,
        "channel": STR,
        "asked_at": STR,
        "text": STR,
        "language": NSTR,
        "intent": NSTR,
        "confidence": {"type": ["number", "null"]},
        "procedure_code": NSTR,
        "candidates": {"type": "array", "items": STR},
        "outcome": {"type": "string", "enum": list(OUTCOMES)},
        "reply": STR,
        "response_ms": NINT,
        "rating": NSTR,
        "review_reasons": {"type": "array", "items": STR},
    },
}
RESOLUTION = {
    "type": ["object", "null"],
    "properties": {"turn_id": INT, "status": STR, "actor": STR, "at": STR, "note": STR},
}
QUEUE_ITEM = {
    "allOf": [TURN],
    "type": "object",
    "required": ["status"],
    "properties": {"status": STR, "resolution": RESOLUTION},
}
CORRECTION = {
    "type": "object",
    "required": ["id", "at", "actor", "question", "code", "language"],
    "properties": {
        "id": INT,
        "at": STR,
        "actor": STR,
        "turn_id": NINT,
        "question": STR,
        "code": STR,
        "previous_code": NSTR,
        "intent": NSTR,
        "language": STR,
    },
}
HANDOFF = {
    "type": "object",
    "required": ["id", "sender", "channel", "status", "created_at"],
    "properties": {
        "id": INT,
        "sender": STR,
        "channel": STR,
        "created_at": STR,
        "summary": STR,
        "transcript_ref": NSTR,
        "dossier_code": NSTR,
        "procedure_code": NSTR,
        "language": STR,
        "status": {"type": "string", "enum": list(HANDOFF_STATUSES)},
        "claimed_by": NSTR,
        "updated_at": STR,
    },
}
PROCEDURE = {
    "type": "object",
    "required": ["code", "name"],
    "properties": {"code": STR, "name": STR, "name_en": STR, "channels": {"type": "array"}},
}
PROCEDURE_DETAIL = {
    "type": "object",
    "required": ["code", "effective", "official", "official_changed", "conflicts"],
    "properties": {
        "code": STR,
        "effective": PROCEDURE,
        "official": PROCEDURE,
        "override": {"type": ["object", "null"]},
        "official_changed": {"type": "boolean"},
        "conflicts": {"type": "array", "items": {"type": "object"}},
        "editable_fields": {"type": "array", "items": STR},
    },
}
TEXT_LIST = {
    "type": ["array", "null"],
    "maxItems": 200,
    "items": {"type": "string", "maxLength": 2000},
}
CHANNEL = {
    "type": "object",
    "required": ["channel"],
    "additionalProperties": False,
    "properties": {
        "channel": {"type": "string", "enum": list(CHANNELS)},
        "processing_time": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "value": {"type": ["number", "null"], "minimum": 0, "maximum": 100000},
                "unit": {"type": ["string", "null"], "enum": [*TIME_UNITS, None]},
                "text": {"type": "string", "maxLength": 2000},
                "text_en": {"type": "string", "maxLength": 2000},
            },
        },
        "fee": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "amounts_vnd": {
                    "type": "array",
                    "maxItems": 20,
                    "items": {"type": "integer", "minimum": 0, "maximum": 10**12},
                },
                "free": {"type": ["boolean", "null"]},
                "text": {"type": "string", "maxLength": 2000},
                "text_en": {"type": "string", "maxLength": 2000},
                "amounts_usd": {
                    "type": "array",
                    "maxItems": 20,
                    "items": {"type": "number", "minimum": 0, "maximum": 10**9},
                },
            },
        },
        "description": {"type": "string", "maxLength": 2000},
        "description_en": {"type": "string", "maxLength": 2000},
    },
}
DOCUMENT = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 2000, "pattern": r"\S"},
        "originals": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
        "copies": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
        "form": {"type": "string", "maxLength": 500},
        "name_en": {"type": "string", "maxLength": 2000},
    },
}
EDIT_FIELDS = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "name_en": {"type": ["string", "null"], "maxLength": 500},
        "keywords": TEXT_LIST,
        "documents": {"type": ["array", "null"], "maxItems": 100, "items": DOCUMENT},
        "channels": {"type": ["array", "null"], "maxItems": 3, "items": CHANNEL},
        "agencies": TEXT_LIST,
        "applicants": TEXT_LIST,
        "conditions": {"type": ["string", "null"], "maxLength": 10000},
        "result": {"type": ["string", "null"], "maxLength": 2000},
        "steps": TEXT_LIST,
        "url": {"type": ["string", "null"], "maxLength": 500, "pattern": "^(https?://\\S+)?$"},
    },
}
STATS = {
    "type": "object",
    "required": ["questions", "per_day", "top_procedures", "fallback_rate", "thumbs_down_rate"],
    "properties": {
        "questions": INT,
        "per_day": {"type": "array", "items": {"type": "object"}},
        "top_procedures": {"type": "array", "items": {"type": "object"}},
        "fallback_rate": {"type": ["number", "null"]},
        "thumbs_down_rate": {"type": ["number", "null"]},
        "median_response_ms": {"type": ["number", "null"]},
        "open_reviews": INT,
        "open_handoffs": INT,
        "set_aside": INT,
        "refused_lookups": INT,
        "refused_lookups_by_scope": {"type": "object", "additionalProperties": INT},
        "recent_refusals": {"type": "array", "items": {"type": "object"}},
    },
}
AUDIT = {
    "type": "object",
    "required": ["id", "at", "actor", "action", "target"],
    "properties": {"id": INT, "at": STR, "actor": STR, "action": STR, "target": STR},
}


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": schema}},
    }


LIMIT = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50})
OFFSET = Param(
    "offset", "query", {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0}
)
SINCE = Param("since", "query", {"type": "string", "format": "date"}, "first day (UTC)")
UNTIL = Param("until", "query", {"type": "string", "format": "date"}, "last day (UTC)")
TURN_ID = Param(
    "turn_id", "path", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "example": 1}
)
HANDOFF_ID = Param(
    "handoff_id", "path", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "example": 1}
)
CODE = Param("code", "path", {"type": "string", "pattern": CODE_RE, "example": "1.001456"})


# ---------------------------------------------------------------------- handlers


def _day_range(params: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` (days, both included) as ``[start, end)`` datetimes."""
    since = params.get("since")
    until = params.get("until")
    start = datetime.combine(since, time()) if since else None
    end = None
    if until:
        end = datetime.combine(until, time()) + timedelta(days=1) if until < date.max else None
    return start, end


def _me(call: Call) -> tuple[int, Any]:
    return 200, {"user": call.user.to_dict(), "csrf_token": call.session.csrf_token}


def _logout(call: Call) -> tuple[int, Any]:
    return 200, {"ok": True}  # the server ends the session


def _review_queue(call: Call) -> tuple[int, Any]:
    p = call.params
    since, until = _day_range(p)
    filters = QueueFilter(
        channel=p.get("channel"),
        since=since,
        until=until,
        procedure=p.get("procedure"),
        status=p.get("status") or "open",
        reason=p.get("reason"),
    )
    items = call.console.queue(filters, limit=p.get("limit", 50), offset=p.get("offset", 0))
    return 200, {"items": items}


def _get_turn(call: Call) -> tuple[int, Any]:
    return 200, call.console.turn(call.params["turn_id"])


def _resolve_turn(call: Call) -> tuple[int, Any]:
    body = call.body
    result = call.console.resolve(
        call.user, call.params["turn_id"], body["status"], body.get("note", "")
    )
    return 200, result


def _create_correction(call: Call) -> tuple[int, Any]:
    body = call.body
    correction = call.console.correct(
        call.user,
        body["code"],
        turn_id=body.get("turn_id"),
        question=body.get("question"),
        intent=body.get("intent"),
    )
    return 201, correction


def _list_corrections(call: Call) -> tuple[int, Any]:
    p = call.params
    return 200, {
        "items": call.console.corrections(limit=p.get("limit", 50), offset=p.get("offset", 0))
    }


def _search_procedures(call: Call) -> tuple[int, Any]:
    p = call.params
    return 200, {"items": call.console.search(p.get("q", ""), p.get("limit", 10))}


def _get_procedure(call: Call) -> tuple[int, Any]:
    return 200, call.console.procedure(call.params["code"])


def _edit_procedure(call: Call) -> tuple[int, Any]:
    return 200, call.console.edit_procedure(call.user, call.params["code"], call.body["fields"])


def _revert_procedure(call: Call) -> tuple[int, Any]:
    return 200, call.console.revert_procedure(call.user, call.params["code"])


def _list_handoffs(call: Call) -> tuple[int, Any]:
    return 200, {"items": call.console.handoff_list(call.params.get("status"))}


def _get_handoff(call: Call) -> tuple[int, Any]:
    return 200, call.console.handoff(call.params["handoff_id"])


def _claim_handoff(call: Call) -> tuple[int, Any]:
    return 200, call.console.set_handoff(call.user, call.params["handoff_id"], "claimed")


def _finish_handoff(call: Call) -> tuple[int, Any]:
    return 200, call.console.set_handoff(call.user, call.params["handoff_id"], "done")


def _get_stats(call: Call) -> tuple[int, Any]:
    since, until = _day_range(call.params)  # since after until: an empty range
    return 200, call.console.stats(since, until)


def _list_audit(call: Call) -> tuple[int, Any]:
    p = call.params
    entries = call.console.audit.entries(
        target=p.get("target"),
        actor=p.get("actor"),
        action=p.get("action"),
        limit=p.get("limit", 50),
        offset=p.get("offset", 0),
    )
    return 200, {"items": [e.to_dict() for e in entries]}


def _list_users(call: Call) -> tuple[int, Any]:
    return 200, {"items": [u.to_dict() for u in call.console.accounts.list_users()]}


def _create_user(call: Call) -> tuple[int, Any]:
    b = call.body
    if call.console.accounts.get_user(b["username"]) is not None:
        raise ApiError(409, f"user {b['username']!r} exists already")
    user = call.console.create_user(call.user.username, b["username"], b["password"], b["role"])
    return 201, user.to_dict()


def _update_user(call: Call) -> tuple[int, Any]:
    b = call.body
    user = call.console.update_user(
        call.user,
        call.params["username"],
        role=b.get("role"),
        active=b.get("active"),
        password=b.get("password"),
        keep_session=call.session.id,
    )
    return 200, user.to_dict()


def _export_training(call: Call) -> tuple[int, Any]:
    return 200, call.console.export_training(call.params.get("format", "retrieval"))


def _login(call: Call) -> tuple[int, Any]:  # the server handles it (cookies)
    raise NotImplementedError


def _openapi(call: Call) -> tuple[int, Any]:
    return 200, openapi_document()


ROUTES: list[Route] = [
    Route(
        "POST",
        "/api/login",
        _login,
        "Log in; sets the session cookie and returns the CSRF and bearer tokens",
        role=None,
        body={
            "type": "object",
            "required": ["username", "password"],
            "additionalProperties": False,
            "properties": {
                "username": {"type": "string", "minLength": 1, "maxLength": 64},
                "password": {"type": "string", "minLength": 1, "maxLength": MAX_PASSWORD},
            },
        },
        response={
            "type": "object",
            "required": ["user", "csrf_token", "token", "expires_at"],
            "properties": {"user": USER, "csrf_token": STR, "token": STR, "expires_at": STR},
        },
        errors=(400, 401, 429),
    ),
    Route(
        "POST",
        "/api/logout",
        _logout,
        "Log out (ends the session)",
        response={"type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}},
    ),
    Route(
        "GET",
        "/api/me",
        _me,
        "Who is logged in, and the session's CSRF token",
        response={
            "type": "object",
            "required": ["user", "csrf_token"],
            "properties": {"user": USER, "csrf_token": STR},
        },
    ),
    Route(
        "GET",
        "/api/review",
        _review_queue,
        "The review queue: fallbacks, low confidence, thumbs-down and hand-off requests",
        params=[
            Param("channel", "query", {"type": "string", "maxLength": 32}),
            SINCE,
            UNTIL,
            Param("procedure", "query", {"type": "string", "pattern": CODE_RE}),
            Param(
                "status",
                "query",
                {"type": "string", "enum": ["open", "all", "corrected", "ok", "dismissed"]},
            ),
            Param("reason", "query", {"type": "string", "enum": list(REVIEW_REASONS)}),
            LIMIT,
            OFFSET,
        ],
        response=_items(QUEUE_ITEM),
    ),
    Route(
        "GET",
        "/api/turns/{turn_id}",
        _get_turn,
        "One turn with its conversation, resolution and corrections",
        params=[TURN_ID],
        response={
            "type": "object",
            "required": ["turn", "status", "transcript", "corrections"],
            "properties": {
                "turn": TURN,
                "status": STR,
                "resolution": RESOLUTION,
                "transcript": {"type": "array", "items": TURN},
                "corrections": {"type": "array", "items": CORRECTION},
            },
        },
        errors=(400, 404),
    ),
    Route(
        "POST",
        "/api/turns/{turn_id}/resolution",
        _resolve_turn,
        "Resolve a reviewed turn without a correction (the answer was fine, or dismissed)",
        role="editor",
        params=[TURN_ID],
        body={
            "type": "object",
            "required": ["status"],
            "additionalProperties": False,
            "properties": {
                "status": {"type": "string", "enum": ["ok", "dismissed"]},
                "note": {"type": "string", "maxLength": 2000},
            },
        },
        response=RESOLUTION | {"type": "object"},
        errors=(400, 404),
    ),
    Route(
        "POST",
        "/api/corrections",
        _create_correction,
        "Correct a misunderstood question: the right procedure (the question becomes its alias)",
        role="editor",
        body={
            "type": "object",
            "required": ["code"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": CODE_RE},
                "turn_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
                "question": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": r"\S"},
                "intent": {"type": "string", "enum": list(ASK_INTENTS)},
            },
            "anyOf": [{"required": ["turn_id"]}, {"required": ["question"]}],
        },
        response=CORRECTION,
        status=201,
        errors=(400, 404),
    ),
    Route(
        "GET",
        "/api/corrections",
        _list_corrections,
        "Corrections, newest first",
        params=[LIMIT, OFFSET],
        response=_items(CORRECTION),
    ),
    Route(
        "GET",
        "/api/procedures",
        _search_procedures,
        "Search procedures (the correction search box)",
        params=[
            Param("q", "query", {"type": "string", "maxLength": 300}),
            Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 50}),
        ],
        response=_items(
            {
                "type": "object",
                "required": ["code", "name", "score"],
                "properties": {
                    "code": STR,
                    "name": STR,
                    "name_en": STR,
                    "score": {"type": "number"},
                },
            }
        ),
    ),
    Route(
        "GET",
        "/api/procedures/{code}",
        _get_procedure,
        "A procedure as citizens see it, its official record, the staff edits and conflicts",
        params=[CODE],
        response=PROCEDURE_DETAIL,
        errors=(400, 404),
    ),
    Route(
        "PATCH",
        "/api/procedures/{code}",
        _edit_procedure,
        "Edit what citizens see (field values; null removes a field's edit); live within 2 s",
        role="editor",
        params=[CODE],
        body={
            "type": "object",
            "required": ["fields"],
            "additionalProperties": False,
            "properties": {"fields": EDIT_FIELDS},
        },
        response=PROCEDURE_DETAIL,
        errors=(400, 404),
    ),
    Route(
        "DELETE",
        "/api/procedures/{code}/edits",
        _revert_procedure,
        "Remove every field edit of a procedure (back to the official values)",
        role="editor",
        params=[CODE],
        response=PROCEDURE_DETAIL,
        errors=(400, 404),
    ),
    Route(
        "GET",
        "/api/handoffs",
        _list_handoffs,
        "Citizens who asked for a person (oldest first)",
        params=[Param("status", "query", {"type": "string", "enum": list(HANDOFF_STATUSES)})],
        response=_items(HANDOFF),
    ),
    Route(
        "GET",
        "/api/handoffs/{handoff_id}",
        _get_handoff,
        "One hand-off with the citizen's conversation",
        params=[HANDOFF_ID],
        response={
            "type": "object",
            "required": ["handoff", "transcript"],
            "properties": {"handoff": HANDOFF, "transcript": {"type": "array", "items": TURN}},
        },
        errors=(400, 404),
    ),
    Route(
        "POST",
        "/api/handoffs/{handoff_id}/claim",
        _claim_handoff,
        "Claim a hand-off",
        role="editor",
        params=[HANDOFF_ID],
        response=HANDOFF,
        errors=(400, 404, 409),
    ),
    Route(
        "POST",
        "/api/handoffs/{handoff_id}/done",
        _finish_handoff,
        "Mark a hand-off done",
        role="editor",
        params=[HANDOFF_ID],
        response=HANDOFF,
        errors=(400, 404, 409),
    ),
    Route(
        "GET",
        "/api/stats",
        _get_stats,
        "Dashboard figures: questions per day and channel, top procedures, rates, median time",
        params=[SINCE, UNTIL],
        response=STATS,
    ),
    Route(
        "GET",
        "/api/audit",
        _list_audit,
        "The audit log, newest first",
        role="admin",
        params=[
            Param("target", "query", {"type": "string", "maxLength": 128}),
            Param("actor", "query", {"type": "string", "maxLength": 64}),
            Param(
                "action",
                "query",
                {"type": "string", "maxLength": 64},
                "e.g. login.failed, login.lockout, handoff.denied, procedure.edit",
            ),
            LIMIT,
            OFFSET,
        ],
        response=_items(AUDIT),
    ),
    Route("GET", "/api/users", _list_users, "Staff accounts", role="admin", response=_items(USER)),
    Route(
        "POST",
        "/api/users",
        _create_user,
        "Create a staff account",
        role="admin",
        body={
            "type": "object",
            "required": ["username", "password", "role"],
            "additionalProperties": False,
            "properties": {
                "username": {"type": "string", "pattern": USERNAME_RE},
                "password": {
                    "type": "string",
                    "minLength": MIN_PASSWORD,
                    "maxLength": MAX_PASSWORD,
                },
                "role": {"type": "string", "enum": list(ROLES)},
            },
        },
        response=USER,
        status=201,
        errors=(400, 409),
    ),
    Route(
        "PATCH",
        "/api/users/{username}",
        _update_user,
        "Change an account's role, active flag or password",
        role="admin",
        params=[Param("username", "path", {"type": "string", "pattern": USERNAME_RE})],
        body={
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "properties": {
                "role": {"type": "string", "enum": list(ROLES)},
                "active": {"type": "boolean"},
                "password": {
                    "type": "string",
                    "minLength": MIN_PASSWORD,
                    "maxLength": MAX_PASSWORD,
                },
            },
        },
        response=USER,
        errors=(400, 404, 409),
    ),
    Route(
        "GET",
        "/api/export/training",
        _export_training,
        "Corrections as training data: retrieval questions (JSON lines) or Rasa NLU (YAML)",
        role="editor",
        params=[Param("format", "query", {"type": "string", "enum": ["retrieval", "nlu"]})],
        response={"type": "string"},
        media="text/plain",
    ),
    Route(
        "GET",
        "/api/openapi.json",
        _openapi,
        "This document",
        response={"type": "object", "required": ["openapi", "paths"]},
    ),
]


# ---------------------------------------------------------------------- checking


def parse_params(route: Route, path: dict[str, str], query: Any) -> dict[str, Any]:
    """Reads and checks a route's parameters.

    Raises:
        ApiError: 400 for a malformed or out-of-range value, an unknown enum value, or a
            repeated query parameter.
    """
    out: dict[str, Any] = {}
    for param in route.params:
        if param.where == "path":
            raw = path.get(param.name)
        else:
            values = query.getall(param.name, [])
            if len(values) > 1:
                raise ApiError(400, f"{param.name} is given more than once")
            raw = values[0] if values else None
        if raw is None:
            if "default" in param.schema:
                out[param.name] = param.schema["default"]
            continue
        out[param.name] = _parse_value(param, raw)
    return out


def _parse_value(param: Param, raw: str) -> Any:
    schema = param.schema
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,12}", raw.strip()):
            raise ApiError(400, f"{param.name} must be an integer")
        value: Any = int(raw)
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ApiError(400, f"{param.name} must be between {low} and {high}")
        return value
    value = raw.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        raise ApiError(400, f"{param.name} has at most {schema['maxLength']} characters")
    if "enum" in schema and value not in schema["enum"]:
        raise ApiError(400, f"{param.name} must be one of {', '.join(schema['enum'])}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        raise ApiError(400, f"{param.name} is malformed")
    if schema.get("format") == "date":
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                raise ValueError(value)
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ApiError(400, f"{param.name} must be a date like 2026-12-01") from exc
    return value


_validators: dict[str, Any] = {}


def check_body(route: Route, body: Any) -> None:
    """Checks a request body against the route's schema.

    Raises:
        ApiError: 400 naming the first problem.
    """
    import jsonschema

    validator = _validators.get(route.operation_id)
    if validator is None:
        validator = jsonschema.Draft7Validator(route.body)
        _validators[route.operation_id] = validator
    error = next(iter(sorted(validator.iter_errors(body), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.path) or "body"
        raise ApiError(400, f"{where}: {error.message[:300]}")


# ---------------------------------------------------------------------- the document


def _openapi_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Turns JSON-schema ``type: [x, "null"]`` into OpenAPI 3.0's ``nullable``."""
    if isinstance(schema, list):
        return [_openapi_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            kinds = [v for v in value if v != "null"]
            out["type"] = kinds[0]
            if "null" in value:
                out["nullable"] = True
        elif key == "enum":
            out[key] = value
        elif isinstance(value, dict):
            out[key] = (
                {k: _openapi_schema(v) for k, v in value.items()}
                if key == "properties"
                else _openapi_schema(value)
            )
        elif isinstance(value, list):
            out[key] = [_openapi_schema(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


ERROR_SCHEMA = {"type": "object", "required": ["error"], "properties": {"error": STR}}
ERROR_TEXT = {
    400: "Malformed parameter or body (or a password the password policy refuses)",
    401: "Not logged in (or the session expired)",
    403: "Role too low, the CSRF token is missing, or the hand-off is claimed by someone else",
    404: "Not found",
    409: "Conflicts with the current state",
    429: "Too many login attempts; retry later",
}


def openapi_document() -> dict[str, Any]:
    """Returns the OpenAPI 3.0 document of :data:`ROUTES`."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        op: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.path.split("/")[2]],
            "responses": {
                str(route.status): {
                    "description": "OK",
                    "content": {route.media: {"schema": _openapi_schema(route.response)}},
                }
            },
        }
        if route.role is None:
            op["security"] = []
        else:
            op["description"] = f"Needs the {route.role} role or higher."
        errors = set(route.errors) | ({401, 403} if route.role else set())
        for status in sorted(errors):
            op["responses"][str(status)] = {
                "description": ERROR_TEXT[status],
                "content": {"application/json": {"schema": ERROR_SCHEMA}},
            }
        if route.params:
            op["parameters"] = [
                {
                    "name": p.name,
                    "in": p.where,
                    "required": p.where == "path",
                    "schema": _openapi_schema(p.schema),
                    **({"description": p.description} if p.description else {}),
                }
                for p in route.params
            ]
        if route.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _openapi_schema(route.body)}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "motcua staff console API",
            "version": API_VERSION,
            "description": (
                "Review what the assistant got wrong, correct it, refine procedures and "
                "handle hand-offs. Log in with POST /api/login; then send the session "
                "cookie with the X-CSRF-Token header on POST, PATCH and DELETE, or send "
                "Authorization: Bearer <token>."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "cookieAuth": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
            }
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
        "paths": paths,
    }
