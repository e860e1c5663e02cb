"""The console over real HTTP: login, CSRF, roles, parameter checks, pages and forms."""

from __future__ import annotations

import re
import socket

import aiohttp
import pytest
from aiohttp import web

from staff.api import ROUTES
from staff.console import Console
from staff.server import make_app
from staff.settings import StaffSettings
from tests.staff.conftest import PASSWORD, T0, events

PASSPORT = "1.001456"
SAMPLE_PATH_VALUES = {"turn_id": "1", "handoff_id": "1", "code": PASSPORT, "username": "lan"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def server(tmp_path):
    settings = StaffSettings(database_url=f"sqlite:///{tmp_path / 'motcua.db'}", login_limit=4)
    console = Console(settings)
    console.prepare()
    for name, role in (("lan", "editor"), ("root", "admin"), ("xem", "viewer")):
        console.create_user("cli", name, PASSWORD, role)
    console.conversations.ingest(
        events("s1", "giấy tờ làm passport", code=PASSPORT, ts=T0, confidence=0.4)
    )
    runner = web.AppRunner(make_app(console))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield {"base": f"http://127.0.0.1:{port}", "console": console}
    await runner.cleanup()
    console.close()


async def login(base: str, name: str = "lan") -> tuple[aiohttp.ClientSession, dict]:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(f"{base}/api/login", json={"username": name, "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        return http, await r.json()


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)


async def test_no_route_answers_without_login(server):
    async with aiohttp.ClientSession() as http:
        for route in ROUTES:
            if route.role is None:
                continue
            url = server["base"] + concrete(route.path)
            async with http.request(route.method, url, json={}) as resp:
                assert resp.status == 401, (route.method, route.path, resp.status)
                assert "error" in await resp.json()
        for page in (
            "/",
            "/review",
            "/review/1",
            "/procedures",
            "/procedures/1.001456",
            "/handoffs",
            "/audit",
            "/users",
            "/export",
        ):
            async with http.get(server["base"] + page, allow_redirects=False) as resp:
                assert resp.status == 303 and resp.headers["Location"].startswith("/login"), page
        async with http.get(server["base"] + "/health") as resp:
            assert resp.status == 200


async def test_login_gives_a_cookie_a_csrf_token_and_a_bearer_token(server):
    http, body = await login(server["base"])
    async with http:
        assert body["user"]["role"] == "editor" and body["csrf_token"] and body["token"]
        async with http.get(server["base"] + "/api/me") as resp:
            assert (await resp.json())["csrf_token"] == body["csrf_token"]
        cookie = next(c for c in http.cookie_jar if c.key == "motcua_staff")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.post(
            server["base"] + "/api/logout", headers={"X-CSRF-Token": body["csrf_token"]}
        ) as resp:
            assert resp.status == 200
        async with http.get(server["base"] + "/api/me") as resp:
            assert resp.status == 401
    async with aiohttp.ClientSession() as plain:
        headers = {"Authorization": f"Bearer {body['token']}"}
        async with plain.get(server["base"] + "/api/me", headers=headers) as resp:
            assert resp.status == 401  # logged out means the token is dead too


async def test_wrong_passwords_then_the_rate_limit(server):
    async with aiohttp.ClientSession() as http:
        url = server["base"] + "/api/login"
        statuses = []
        for _ in range(5):
            async with http.post(url, json={"username": "xem", "password": "nope"}) as resp:
                statuses.append(resp.status)
                retry = resp.headers.get("Retry-After")
        assert statuses == [401, 401, 401, 401, 429] and int(retry) > 0


async def test_unsafe_calls_need_the_csrf_header_with_the_cookie(server):
    http, body = await login(server["base"])
    url = server["base"] + f"/api/procedures/{PASSPORT}"
    edit = {"fields": {"name_en": "Passport (edited)"}}
    async with http:
        async with http.patch(url, json=edit) as resp:
            assert resp.status == 403 and "CSRF" in (await resp.json())["error"]
        async with http.patch(url, json=edit, headers={"X-CSRF-Token": "forged"}) as resp:
            assert resp.status == 403
        async with http.patch(url, json=edit, headers={"X-CSRF-Token": body["csrf_token"]}) as resp:
            assert resp.status == 200
            assert (await resp.json())["effective"]["name_en"] == "Passport (edited)"
    async with aiohttp.ClientSession() as bearer:  # scripts: bearer token, no CSRF needed
        headers = {"Authorization": f"Bearer {body['token']}"}
        async with bearer.patch(url, json={"fields": {"name_en": None}}, headers=headers) as resp:
            assert resp.status == 200 and (await resp.json())["override"] is None


async def test_roles(server):
    viewer, v = await login(server["base"], "xem")
    editor, e = await login(server["base"], "lan")
    base = server["base"]
    async with viewer, editor:
        async with viewer.get(f"{base}/api/procedures/{PASSPORT}") as resp:
            assert resp.status == 200
        body = {"fields": {"name_en": "x"}}
        async with viewer.patch(
            f"{base}/api/procedures/{PASSPORT}",
            json=body,
            headers={"X-CSRF-Token": v["csrf_token"]},
        ) as resp:
            assert resp.status == 403
        async with editor.get(f"{base}/api/users") as resp:
            assert resp.status == 403
        async with editor.get(f"{base}/api/audit") as resp:
            assert resp.status == 403


async def test_malformed_requests_are_400_not_500(server):
    http, body = await login(server["base"], "root")
    h = {"X-CSRF-Token": body["csrf_token"]}
    base = server["base"]
    async with http:
        for path in (
            "/api/review?limit=abc",
            "/api/review?limit=0",
            "/api/review?since=2026-13-01",
            "/api/review?status=maybe",
            "/api/turns/abc",
            "/api/procedures/not-a-code",
            "/api/review?limit=1&limit=2",
        ):
            async with http.get(base + path) as resp:
                assert resp.status == 400, path
        for payload in (
            b"{not json",
            b"[]",
            b'{"fields": {"code": "x"}}',
            b'{"fields": {"channels": [{"channel": "pigeon"}]}}',
        ):
            async with http.patch(
                f"{base}/api/procedures/{PASSPORT}",
                data=payload,
                headers={**h, "Content-Type": "application/json"},
            ) as resp:
                assert resp.status == 400, payload
        async with http.get(f"{base}/api/turns/424242") as resp:
            assert resp.status == 404
        async with http.post(
            f"{base}/api/users",
            json={"username": "lan", "password": PASSWORD, "role": "viewer"},
            headers=h,
        ) as resp:
            assert resp.status == 409
        async with http.get(f"{base}/api/nothing-here") as resp:
            assert resp.status == 404 and "error" in await resp.json()


async def test_security_headers(server):
    async with aiohttp.ClientSession() as http, http.get(server["base"] + "/login") as resp:
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_openapi_document_lists_every_route(server):
    http, _ = await login(server["base"])
    async with http, http.get(server["base"] + "/api/openapi.json") as resp:
        doc = await resp.json()
    assert doc["openapi"].startswith("3.")
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert operations == {(r.method, r.path) for r in ROUTES}
    assert doc["paths"]["/api/login"]["post"]["security"] == []


async def test_forms_need_their_csrf_tokens(server):
    base = server["base"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        form = {"username": "lan", "password": PASSWORD, "next": "/review"}
        async with http.post(f"{base}/login", data=form, allow_redirects=False) as resp:
            assert resp.status == 303 and "login_expired" in resp.headers["Location"]
        async with http.get(f"{base}/login") as resp:
            page = await resp.text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        async with http.post(
            f"{base}/login", data={**form, "csrf_token": token}, allow_redirects=False
        ) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/review"
        async with http.get(f"{base}/procedures/{PASSPORT}") as resp:
            page = await resp.text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        async with http.post(
            f"{base}/procedures/{PASSPORT}", data={"name_en": "Hộ chiếu EN"}, allow_redirects=False
        ) as resp:
            assert resp.status == 403
        async with http.post(
            f"{base}/procedures/{PASSPORT}",
            data={"name_en": "Hộ chiếu EN", "csrf_token": csrf},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 303
    assert server["console"].catalogue.get(PASSPORT).name_en == "Hộ chiếu EN"


async def test_the_fee_form_changes_only_the_fee(server):
    base = server["base"]
    http, body = await login(base)
    async with http:
        async with http.get(f"{base}/procedures/{PASSPORT}") as resp:
            page = await resp.text()
        fields = dict(re.findall(r'<input name="([^"]+)" value="([^"]*)"', page))
        import html

        form = {k: html.unescape(v) for k, v in fields.items()}
        for textarea in re.finditer(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
            form[textarea.group(1)] = html.unescape(textarea.group(2))
        for box in re.findall(r'name="(ch_\w+_on)" value="1" checked', page):
            form[box] = "1"
        for select in re.finditer(r'<select name="(ch_\w+)">(.*?)</select>', page, re.S):
            chosen = re.search(r'<option value="([^"]*)" selected', select.group(2))
            form[select.group(1)] = chosen.group(1) if chosen else ""
        form["ch_in_person_fee_amounts"] = "250.000"
        form["csrf_token"] = body["csrf_token"]
        async with http.post(
            f"{base}/procedures/{PASSPORT}", data=form, allow_redirects=False
        ) as resp:
            assert resp.status == 303, await resp.text()
    override = server["console"].catalogue.override(PASSPORT)
    assert list(override.fields) == ["channels"]
    channels = server["console"].catalogue.get(PASSPORT).channels
    assert channels[0].fee.amounts_vnd == [250000]
    official = server["console"].catalogue.official(PASSPORT).channels
    assert [c.fee for c in channels[1:]] == [c.fee for c in official[1:]]
    assert [c.processing_time for c in channels] == [c.processing_time for c in official]


async def test_language_switch(server):
    base = server["base"]
    http, _ = await login(base)
    async with http:
        async with http.get(f"{base}/lang/en?next=/review") as resp:
            assert "Review queue" in await resp.text()
        async with http.get(f"{base}/lang/vi?next=/review") as resp:
            assert "Cần xem lại" in await resp.text()
        async with http.get(f"{base}/lang/vi?next=//evil.example", allow_redirects=False) as resp:
            assert resp.headers["Location"] == "/"


async def test_an_api_edit_reaches_live_search_at_its_next_refresh(server, tmp_path):
    from infra.settings import Settings
    from knowledge.service import LiveSearch, open_search

    settings = Settings.from_env(
        {
            "MOTCUA_HOME": str(tmp_path),
            "MOTCUA_EMBEDDING_MODEL": "hashing",
            "MOTCUA_DATABASE_URL": server["console"].settings.database_url,
        }
    )
    now = [0.0]
    live = LiveSearch(open_search(settings), interval_s=2.0, clock=lambda: now[0])
    http, body = await login(server["base"])
    async with http:
        async with http.get(f"{server['base']}/api/procedures/{PASSPORT}") as resp:
            channels = (await resp.json())["effective"]["channels"]
        channels[0]["fee"]["amounts_vnd"] = [250000]
        async with http.patch(
            f"{server['base']}/api/procedures/{PASSPORT}",
            json={"fields": {"channels": channels}},
            headers={"X-CSRF-Token": body["csrf_token"]},
        ) as resp:
            assert resp.status == 200
    assert live.search.get(PASSPORT).channels[0].fee.amounts_vnd != [250000]  # not yet due
    now[0] = 2.0
    assert live.search.get(PASSPORT).channels[0].fee.amounts_vnd == [250000]


async def test_the_procedure_page_shows_an_official_change_under_an_edit(server):
    from knowledge.schema import Procedure

    console = server["console"]
    editor = console.accounts.get_user("lan")
    official = console.catalogue.official(PASSPORT)
    console.edit_procedure(editor, PASSPORT, {"name_en": "Passport (staff)"})
    newer = Procedure.from_dict({**official.to_dict(), "name_en": "Ordinary passport (2027)"})
    console.catalogue.upsert([newer])
    http, _ = await login(server["base"])
    async with http, http.get(f"{server['base']}/procedures/{PASSPORT}") as resp:
        page = await resp.text()
    assert 'id="official-changed"' in page
    assert official.name_en in page and "Ordinary passport (2027)" in page
    assert "Passport (staff)" in page


async def test_the_audit_page_shows_each_change_field_by_field(server):
    console = server["console"]
    console.edit_procedure(console.accounts.get_user("lan"), PASSPORT, {"name_en": "Passport X"})
    http, _ = await login(server["base"], "root")
    async with http, http.get(f"{server['base']}/audit") as resp:
        page = await resp.text()
    assert "procedure.edit" in page and "<code>name_en</code>" in page
    assert "Passport X" in page and "user.create" in page
