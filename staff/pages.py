"""The console's pages: server-rendered HTML (Jinja2), forms that post and redirect.

Every page but ``/login`` needs a session; every form carries the session's CSRF token
(``csrf_token``), and the login form a per-browser one (double-submit cookie). The
language is a cookie set by ``/lang/vi`` or ``/lang/en``. Charts are SVG drawn here.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from aiohttp import web

from desk.conversations import REVIEW_REASONS
from desk.handoffs import HANDOFF_STATUSES
from knowledge.schema import CHANNELS, TIME_UNITS
from staff import forms
from staff.accounts import MIN_PASSWORD, RANK, ROLES, Session, csrf_matches
from staff.api import SESSION_COOKIE
from staff.console import Conflict, Console, Forbidden, NotFound, QueueFilter
from staff.i18n import LANGUAGES, translator
from staff.review import ASK_INTENTS
from staff.web import CONSOLE, attempt_login, in_thread, set_session_cookie

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
LANG_COOKIE = "motcua_staff_lang"
LOGIN_CSRF_COOKIE = "motcua_login_csrf"
KNOWN_CHANNELS = ("rest", "webchat", "telegram", "zalo")
PAGE_SIZE = 50
CHART_COLORS = {
    "rest": "#1565c0",
    "webchat": "#2e7d32",
    "telegram": "#0288d1",
    "zalo": "#6a1b9a",
}


def leaf_changes(before: Any, after: Any, path: str = "", limit: int = 30) -> list[dict]:
    """Lists what differs between two JSON values, leaf by leaf (``channels[0].fee.text``).

    Lists of plain values count as one leaf, so ``[200000, 400000] → [250000]`` reads whole.
    """
    out: list[dict] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(out) >= limit or a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                walk(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
            return
        nested = isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
        if nested and any(isinstance(x, dict | list) for x in a + b):
            for n, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{n}]")
            return
        out.append({"path": where or "·", "before": a, "after": b})

    walk(before, after, path)
    return out


@lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pretty"] = lambda v: json.dumps(v, ensure_ascii=False, indent=1)[:4000]
    env.filters["pct"] = lambda v: "–" if v is None else f"{100 * v:.1f} %"
    env.filters["short"] = lambda v: json.dumps(v, ensure_ascii=False)[:300]
    env.globals["leaf_changes"] = leaf_changes
    return env


def language_of(request: web.Request) -> str:
    """The UI language: the cookie, else the browser's preference, else Vietnamese."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    accept = request.headers.get("Accept-Language", "")
    return "en" if accept.lower().startswith("en") else "vi"


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """Renders a page with the common context (language, user, CSRF token, path)."""
    lang = language_of(request)
    session: Session | None = request.get("session")
    html = (
        _environment()
        .get_template(template)
        .render(
            t=translator(lang),
            lang=lang,
            user=session.user if session else None,
            csrf=session.csrf_token if session else "",
            path=request.path_qs,
            rank=RANK,
            **context,
        )
    )
    return web.Response(status=status, text=html, content_type="text/html", charset="utf-8")


SAFE_TARGET = re.compile(r"/(?![/\\])[!-~]*")
"""A same-site path: one ``/``, then printable ASCII only (no spaces or controls)."""
UNSAFE_DECODED = re.compile(r"[\x00-\x1f\x7f\\]|^/[/\\]")
"""Controls, backslashes or a leading ``//`` once percent-decoded."""


def safe_next(target: str | None) -> str:
    r"""``target`` when it is a path on this site, else ``/`` (no open redirects).

    Browsers drop tabs and newlines from a URL, read ``\`` as ``/`` and follow
    ``//host`` to another site, so ``/%09/evil``, ``/\evil`` and ``//evil`` all leave the
    site. Refused: anything but printable ASCII (what needs more is percent-encoded), a
    backslash anywhere, a second ``/`` or ``\`` after the first, a scheme or a host; and,
    once more percent-decoded (for a proxy or browser that decodes twice), controls,
    backslashes, a leading ``//``, a scheme or a host.
    """
    if not target or not SAFE_TARGET.fullmatch(target) or "\\" in target:
        return "/"
    decoded = unquote(target)
    if UNSAFE_DECODED.search(decoded):
        return "/"
    for form in (target, decoded):
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return "/"
    return target


def _redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def _session_or_login(request: web.Request) -> Session:
    session = request.get("session")
    if session is None:
        raise _redirect("/login?next=" + quote(request.path_qs, safe=""))
    return session


def _need(request: web.Request, role: str) -> Session:
    session = _session_or_login(request)
    if RANK[session.user.role] < RANK[role]:
        raise web.HTTPForbidden(
            text=translator(language_of(request))("forbidden"), content_type="text/plain"
        )
    return session


async def _form(request: web.Request, session: Session) -> Any:
    form = await request.post()
    if not csrf_matches(session.csrf_token, form.get("csrf_token")):
        raise web.HTTPForbidden(text="missing or wrong CSRF token", content_type="text/plain")
    return form


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


_thread = in_thread


def _date(text: str | None) -> date | None:
    try:
        day = date.fromisoformat(text) if text else None
    except ValueError:
        return None
    return day if day is None or 1970 <= day.year <= 2999 else None


def _int(text: str | None, default: int = 0, low: int = 0, high: int = 10**6) -> int:
    try:
        return max(low, min(high, int(text or default)))
    except ValueError:
        return default


# ---------------------------------------------------------------------- login


async def login_page(request: web.Request) -> web.Response:
    """The login form (with its own CSRF token in a cookie)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        login_csrf=token,
        next=safe_next(request.query.get("next")),
        message=request.query.get("msg", ""),
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", path="/")
    return response


async def login_submit(request: web.Request) -> web.StreamResponse:
    """Checks the login form; on success sets the session cookie and redirects."""
    console = _console(request)
    form = await request.post()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    next_page = safe_next(form.get("next"))
    if not expected or not csrf_matches(expected, form.get("csrf_token")):
        raise _redirect("/login?msg=login_expired&next=" + quote(next_page, safe=""))
    username = str(form.get("username") or "")[:64]
    password = str(form.get("password") or "")[:1024]
    attempt = await attempt_login(request, username, password)
    if not attempt.decision.allowed:
        return render(
            request,
            "login.html",
            status=429,
            login_csrf=expected,
            next=next_page,
            message="login_limited",
        )
    if attempt.user is None:
        return render(
            request,
            "login.html",
            status=401,
            login_csrf=expected,
            next=next_page,
            message="login_failed",
        )
    token, _ = await _thread(console.accounts.create_session, attempt.user)
    response = web.HTTPSeeOther(next_page)
    set_session_cookie(response, token, console.settings)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/")
    raise response


async def logout_submit(request: web.Request) -> web.StreamResponse:
    """Ends the session."""
    session = _session_or_login(request)
    await _form(request, session)
    if request.get("token"):
        await _thread(_console(request).accounts.end_session, request["token"])
    response = web.HTTPSeeOther("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def set_language(request: web.Request) -> web.StreamResponse:
    """Switches the UI language and goes back."""
    lang = request.match_info["lang"]
    response = web.HTTPSeeOther(safe_next(request.query.get("next")))
    if lang in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="Lax", path="/", httponly=True
        )
    raise response


# ---------------------------------------------------------------------- dashboard


def bar_chart(per_day: list[dict], since: date, until: date) -> dict[str, Any]:
    """Lays out the stacked daily bars by channel as SVG rectangles."""
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)][-60:]
    counts: dict[str, dict[str, int]] = {d.isoformat(): {} for d in days}
    channels: list[str] = []
    for row in per_day:
        if row["day"] in counts:
            counts[row["day"]][row["channel"]] = row["questions"]
            if row["channel"] not in channels:
                channels.append(row["channel"])
    top = max([sum(c.values()) for c in counts.values()] + [1])
    width, height, left, bottom = 720, 220, 40, 24
    step = (width - left) / max(1, len(days))
    bars, labels = [], []
    for n, day in enumerate(days):
        y = height - bottom
        for channel in channels:
            value = counts[day.isoformat()].get(channel, 0)
            if not value:
                continue
            h = (height - bottom - 10) * value / top
            y -= h
            bars.append(
                {
                    "x": round(left + n * step + 1, 1),
                    "y": round(y, 1),
                    "w": round(max(1.0, step - 2), 1),
                    "h": round(h, 1),
                    "color": CHART_COLORS.get(channel, "#757575"),
                    "title": f"{day.isoformat()} {channel}: {value}",
                }
            )
        if len(days) <= 14 or n % max(1, len(days) // 7) == 0:
            labels.append(
                {"x": round(left + n * step + step / 2, 1), "text": day.strftime("%d/%m")}
            )
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "labels": labels,
        "top": top,
        "legend": [{"name": c, "color": CHART_COLORS.get(c, "#757575")} for c in channels],
        "base": height - bottom,
        "left": left,
    }


async def dashboard(request: web.Request) -> web.Response:
    """Questions per day and channel, top procedures, rates and the median response time."""
    _session_or_login(request)
    console = _console(request)
    today = datetime.now(timezone.utc).date()
    until = _date(request.query.get("until")) or today
    since = _date(request.query.get("since")) or until - timedelta(days=13)
    if since > until:
        since = until

    def work() -> dict:
        stats = console.stats(
            datetime.combine(since, time()), datetime.combine(until, time()) + timedelta(days=1)
        )
        names = {}
        for item in stats["top_procedures"]:
            p = console.catalogue.get(item["code"])
            names[item["code"]] = p.name if p else item["code"]
        return {"stats": stats, "names": names}

    data = await _thread(work)
    stats = data["stats"]
    top_max = max([i["count"] for i in stats["top_procedures"]] + [1])
    return render(
        request,
        "dashboard.html",
        nav="dashboard",
        stats=stats,
        names=data["names"],
        chart=bar_chart(stats["per_day"], since, until),
        top_max=top_max,
        since=since.isoformat(),
        until=until.isoformat(),
    )


# ---------------------------------------------------------------------- review


async def review_list(request: web.Request) -> web.Response:
    """The review queue with its filters."""
    _session_or_login(request)
    q = request.query
    since, until = _date(q.get("since")), _date(q.get("until"))
    status = (
        q.get("status")
        if q.get("status") in ("open", "all", "corrected", "ok", "dismissed")
        else "open"
    )
    filters = QueueFilter(
        channel=q.get("channel") or None,
        since=datetime.combine(since, time()) if since else None,
        until=datetime.combine(until, time()) + timedelta(days=1) if until else None,
        procedure=(q.get("procedure") or "").strip() or None,
        status=status,
        reason=q.get("reason") if q.get("reason") in REVIEW_REASONS else None,
    )
    page = _int(q.get("page"), 1, 1, 1000)
    items = await _thread(
        _console(request).queue, filters, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    args = {k: v for k, v in q.items() if k != "page" and v}
    return render(
        request,
        "review.html",
        nav="review",
        items=items[:PAGE_SIZE],
        more=len(items) > PAGE_SIZE,
        page=page,
        args=args,
        urlencode=urlencode,
        query=dict(q),
        channels=KNOWN_CHANNELS,
        reasons=REVIEW_REASONS,
        statuses=("open", "all", "corrected", "ok", "dismissed"),
    )


async def review_item(request: web.Request) -> web.Response:
    """One turn: the conversation, the correction search box, the resolve buttons."""
    _session_or_login(request)
    console = _console(request)
    turn_id = _int(request.match_info["turn_id"], 0, 0, 2**31 - 1)
    q = (request.query.get("q") or "").strip()[:300]

    def work() -> dict | None:
        try:
            detail = console.turn(turn_id)
        except NotFound:
            return None
        turn = detail["turn"]
        codes = [c for c in [turn.get("procedure_code"), *turn.get("candidates", [])] if c]
        answered = []
        for code in dict.fromkeys(codes):
            p = console.catalogue.get(code)
            answered.append({"code": code, "name": p.name if p else ""})
        hits = console.search(q or turn["text"], 8)
        return {**detail, "answered": answered, "hits": hits}

    detail = await _thread(work)
    if detail is None:
        return render(request, "message.html", status=404, nav="review", message="not_found")
    return render(
        request,
        "review_item.html",
        nav="review",
        d=detail,
        q=q,
        intents=ASK_INTENTS,
        msg=request.query.get("msg", ""),
    )


async def review_correct(request: web.Request) -> web.StreamResponse:
    """Saves a correction of a reviewed turn."""
    session = _need(request, "editor")
    form = await _form(request, session)
    turn_id = _int(request.match_info["turn_id"], 0, 0, 2**31 - 1)
    code = str(form.get("code") or "").strip()
    intent = str(form.get("intent") or "") or None
    try:
        await _thread(_console(request).correct, session.user, code, turn_id=turn_id, intent=intent)
    except (NotFound, ValueError) as exc:
        return render(request, "message.html", status=400, nav="review", message=str(exc))
    raise _redirect(f"/review/{turn_id}?msg=correction_saved")


async def review_resolve(request: web.Request) -> web.StreamResponse:
    """Marks a reviewed turn as fine or dismissed."""
    session = _need(request, "editor")
    form = await _form(request, session)
    turn_id = _int(request.match_info["turn_id"], 0, 0, 2**31 - 1)
    status = str(form.get("status") or "")
    try:
        await _thread(
            _console(request).resolve, session.user, turn_id, status, str(form.get("note") or "")
        )
    except (NotFound, ValueError) as exc:
        return render(request, "message.html", status=400, nav="review", message=str(exc))
    raise _redirect("/review")


# ---------------------------------------------------------------------- procedures


async def procedure_list(request: web.Request) -> web.Response:
    """The procedure search and the list of procedures edited by staff."""
    _session_or_login(request)
    console = _console(request)
    q = (request.query.get("q") or "").strip()[:300]

    def work() -> dict:
        edited = []
        for code, override in sorted(console.catalogue.overrides().items()):
            p = console.catalogue.get(code)
            official = console.catalogue.official(code)
            edited.append(
                {
                    "code": code,
                    "name": p.name if p else code,
                    "fields": sorted(override.fields),
                    "aliases": len(override.aliases),
                    "by": override.updated_by,
                    "at": override.updated_at.isoformat(timespec="minutes")
                    if override.updated_at
                    else "",
                    "changed": bool(
                        override.fields
                        and official
                        and official.content_hash() != override.base_hash
                    ),
                }
            )
        return {"hits": console.search(q, 20) if q else [], "edited": edited}

    data = await _thread(work)
    return render(request, "procedures.html", nav="procedures", q=q, **data)


def _procedure_context(console: Console, code: str) -> dict | None:
    try:
        detail = console.procedure(code)
    except NotFound:
        return None
    override = detail["override"] or {}
    staff_fields = override.get("fields") or {}
    shown = {
        name: staff_fields.get(name, detail["official"].get(name))
        for name in detail["editable_fields"]
    }
    history = console.audit.entries(target=f"procedure:{code}", limit=30)
    return {
        "d": detail,
        "shown": shown,
        "inputs": forms.form_inputs(shown),
        "staff_fields": staff_fields,
        "aliases": override.get("aliases") or [],
        "history": [h.to_dict() for h in history],
    }


async def procedure_page(request: web.Request) -> web.Response:
    """One procedure: the edit form, the official data and what changed under the edits."""
    _session_or_login(request)
    code = request.match_info["code"]
    context = await _thread(_procedure_context, _console(request), code)
    if context is None:
        return render(request, "message.html", status=404, nav="procedures", message="not_found")
    return render(
        request,
        "procedure.html",
        nav="procedures",
        channels=CHANNELS,
        units=TIME_UNITS,
        msg=request.query.get("msg", ""),
        error_text="",
        **context,
    )


async def procedure_save(request: web.Request) -> web.StreamResponse:
    """Saves the edit form: only fields whose inputs changed become staff values."""
    session = _need(request, "editor")
    form = await _form(request, session)
    code = request.match_info["code"]
    console = _console(request)

    def work() -> str | None:
        context = _procedure_context(console, code)
        if context is None:
            raise NotFound(code)
        changes = forms.changed_fields(form, context["shown"])
        if changes or context["d"]["official_changed"]:
            console.edit_procedure(session.user, code, changes)
        return None

    try:
        await _thread(work)
    except NotFound:
        return render(request, "message.html", status=404, nav="procedures", message="not_found")
    except (ValueError, Conflict) as exc:
        context = await _thread(_procedure_context, console, code)
        return render(
            request,
            "procedure.html",
            status=400,
            nav="procedures",
            channels=CHANNELS,
            units=TIME_UNITS,
            msg="",
            error_text=str(exc),
            **context,
        )
    raise _redirect(f"/procedures/{quote(code)}?msg=saved")


async def procedure_revert(request: web.Request) -> web.StreamResponse:
    """Removes every field edit of a procedure."""
    session = _need(request, "editor")
    await _form(request, session)
    code = request.match_info["code"]
    try:
        await _thread(_console(request).revert_procedure, session.user, code)
    except NotFound:
        return render(request, "message.html", status=404, nav="procedures", message="not_found")
    raise _redirect(f"/procedures/{quote(code)}?msg=saved")


# ---------------------------------------------------------------------- hand-offs


async def handoff_list(request: web.Request) -> web.Response:
    """Citizens who asked for a person."""
    _session_or_login(request)
    status = request.query.get("status")
    status = status if status in HANDOFF_STATUSES else None
    items = await _thread(_console(request).handoff_list, status)
    return render(
        request,
        "handoffs.html",
        nav="handoffs",
        items=items,
        current=status or "",
        statuses=HANDOFF_STATUSES,
    )


async def handoff_page(request: web.Request) -> web.Response:
    """One hand-off with the conversation, and the claim and done buttons."""
    _session_or_login(request)
    handoff_id = _int(request.match_info["handoff_id"], 0, 0, 2**31 - 1)
    try:
        detail = await _thread(_console(request).handoff, handoff_id)
    except NotFound:
        return render(request, "message.html", status=404, nav="handoffs", message="not_found")
    return render(request, "handoff.html", nav="handoffs", d=detail)


async def handoff_set(request: web.Request) -> web.StreamResponse:
    """Claims a hand-off or marks it done."""
    session = _need(request, "editor")
    await _form(request, session)
    handoff_id = _int(request.match_info["handoff_id"], 0, 0, 2**31 - 1)
    status = "claimed" if request.match_info["action"] == "claim" else "done"
    try:
        await _thread(_console(request).set_handoff, session.user, handoff_id, status)
    except Forbidden as exc:
        return render(request, "message.html", status=403, nav="handoffs", message=str(exc))
    except (NotFound, Conflict, ValueError) as exc:
        return render(request, "message.html", status=409, nav="handoffs", message=str(exc))
    raise _redirect(f"/handoffs/{handoff_id}")


# ---------------------------------------------------------------------- admin


async def audit_page(request: web.Request) -> web.Response:
    """The audit log (admins)."""
    _need(request, "admin")
    target = (request.query.get("target") or "").strip()[:128] or None
    page = _int(request.query.get("page"), 1, 1, 10000)
    entries = await _thread(
        _console(request).audit.entries,
        target=target,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    return render(
        request,
        "audit.html",
        nav="audit",
        entries=[e.to_dict() for e in entries[:PAGE_SIZE]],
        more=len(entries) > PAGE_SIZE,
        page=page,
        target=target or "",
    )


async def users_page(request: web.Request) -> web.Response:
    """Accounts (admins): list, create, change role, (de)activate."""
    _need(request, "admin")
    users = await _thread(_console(request).accounts.list_users)
    return render(
        request,
        "users.html",
        nav="users",
        users=[u.to_dict() for u in users],
        roles=ROLES,
        min_password=MIN_PASSWORD,
        error_text=request.query.get("error", "")[:200],
    )


async def users_create(request: web.Request) -> web.StreamResponse:
    """Creates an account from the form."""
    session = _need(request, "admin")
    form = await _form(request, session)
    try:
        await _thread(
            _console(request).create_user,
            session.user.username,
            str(form.get("username") or ""),
            str(form.get("password") or ""),
            str(form.get("role") or "viewer"),
        )
    except ValueError as exc:
        raise _redirect("/users?" + urlencode({"error": str(exc)})) from exc
    raise _redirect("/users")


async def users_update(request: web.Request) -> web.StreamResponse:
    """Changes an account's role or active flag."""
    session = _need(request, "admin")
    form = await _form(request, session)
    name = request.match_info["username"]
    role = str(form.get("role") or "") or None
    active = {"1": True, "0": False}.get(str(form.get("active") or ""))
    try:
        await _thread(_console(request).update_user, session.user, name, role=role, active=active)
    except (NotFound, Conflict, ValueError) as exc:
        raise _redirect("/users?" + urlencode({"error": str(exc)})) from exc
    raise _redirect("/users")


async def export_page(request: web.Request) -> web.StreamResponse:
    """Downloads the corrections as training data (``?format=retrieval|nlu``)."""
    _need(request, "editor")
    fmt = request.query.get("format", "retrieval")
    if fmt not in ("retrieval", "nlu"):
        fmt = "retrieval"
    text = await _thread(_console(request).export_training, fmt)
    name = "staff_corrections.jsonl" if fmt == "retrieval" else "staff_corrections_nlu.yml"
    return web.Response(
        text=text,
        content_type="text/plain",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def static_file(request: web.Request) -> web.StreamResponse:
    """Serves the console's CSS and JavaScript (no login needed; nothing secret)."""
    name = request.match_info["name"]
    if name not in {p.name for p in STATIC.iterdir()}:
        raise web.HTTPNotFound()
    response = web.FileResponse(STATIC / name)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def add_routes(app: web.Application) -> None:
    """Registers the pages on ``app``."""
    r = app.router
    r.add_get("/login", login_page)
    r.add_post("/login", login_submit)
    r.add_post("/logout", logout_submit)
    r.add_get("/lang/{lang}", set_language)
    r.add_get("/", dashboard)
    r.add_get("/review", review_list)
    r.add_get("/review/{turn_id:[0-9]+}", review_item)
    r.add_post("/review/{turn_id:[0-9]+}/correct", review_correct)
    r.add_post("/review/{turn_id:[0-9]+}/resolve", review_resolve)
    r.add_get("/procedures", procedure_list)
    r.add_get("/procedures/{code}", procedure_page)
    r.add_post("/procedures/{code}", procedure_save)
    r.add_post("/procedures/{code}/revert", procedure_revert)
    r.add_get("/handoffs", handoff_list)
    r.add_get("/handoffs/{handoff_id:[0-9]+}", handoff_page)
    r.add_post("/handoffs/{handoff_id:[0-9]+}/{action:claim|done}", handoff_set)
    r.add_get("/audit", audit_page)
    r.add_get("/users", users_page)
    r.add_post("/users", users_create)
    r.add_post("/users/{username}", users_update)
    r.add_get("/export", export_page)
    r.add_get("/static/{name}", static_file)
