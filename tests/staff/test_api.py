"""The console over real HTTP: login, CSRF, roles, parameter checks, pages and forms."""

from __future__ import annotations

import json
import re
import socket

import aiohttp
import pytest
from aiohttp import web

from staff.api import ROUTES
from staff.console import Console
from staff.server import make_app
from staff.settings import StaffSettings
from staff.web import SECURITY_HEADERS
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


# ---------------------------------------------------------------------- the probe's findings


async def _login_status(http, base: str, name: str, password: str, **headers) -> int:
    body = {"username": name, "password": password}
    async with http.post(f"{base}/api/login", json=body, headers=headers) as resp:
        return resp.status


async def test_padded_or_folded_names_share_one_login_limit(server):
    """Whitespace, no-break spaces, case and full-width forms are one name to the limit."""
    base = server["base"]
    async with aiohttp.ClientSession() as http:
        assert await _login_status(http, base, " XEM\u00a0", PASSWORD) == 200  # same account
        statuses = [
            await _login_status(http, base, name, "not the password")
            for name in (" xem", "XEM", "xem\u00a0", "\u3000ｘｅｍ\t", "Xem")
        ]
    assert statuses == [401, 401, 401, 401, 429]


async def test_the_page_and_the_api_share_the_login_limit(server):
    base = server["base"]
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        for name in ("xem", " Xem "):
            assert await _login_status(http, base, name, "nope") == 401
        async with http.get(f"{base}/login") as resp:
            token = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text()).group(1)
        statuses = []
        for name in ("XEM\u00a0", "ｘｅｍ", "xem"):
            form = {"username": name, "password": "nope", "csrf_token": token}
            async with http.post(f"{base}/login", data=form, allow_redirects=False) as resp:
                statuses.append(resp.status)
    assert statuses == [401, 401, 429]


async def test_a_client_chosen_forwarded_for_does_not_escape_the_address_limit(server):
    """Only the hop the trusted proxy wrote counts; what the client put before it does not."""
    base = server["base"]
    async with aiohttp.ClientSession() as http:
        statuses = [
            await _login_status(
                http, base, "xem", "nope", **{"X-Forwarded-For": f"10.9.9.{n}, 198.51.100.7"}
            )
            for n in range(5)
        ]
        other = await _login_status(
            http, base, "xem", "nope", **{"X-Forwarded-For": "10.9.9.1, 198.51.100.8"}
        )
    assert statuses == [401, 401, 401, 401, 429] and other == 401


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(tmp_path):
    settings = StaffSettings(
        database_url=f"sqlite:///{tmp_path / 'motcua.db'}", login_limit=2, trusted_proxies=()
    )
    console = Console(settings)
    console.prepare()
    runner = web.AppRunner(make_app(console))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            statuses = [
                await _login_status(http, base, "xem", "x", **{"X-Forwarded-For": f"10.0.0.{n}"})
                for n in range(3)
            ]
        assert statuses == [401, 401, 429]
        assert {e.target for e in console.audit.entries(action="login.failed")} == {
            "address:127.0.0.1"
        }
    finally:
        await runner.cleanup()
        console.close()


async def test_failed_logins_and_lockouts_are_audited_for_admins(server):
    base, console = server["base"], server["console"]
    secret = "Tr0ub4dor&3-attempt"
    headers = {"X-Forwarded-For": "198.51.100.9"}
    async with aiohttp.ClientSession() as http:
        for name in ("xem", "XEM ", "xem", "xem", "xem"):
            await _login_status(http, base, name, secret, **headers)
        await _login_status(http, base, "Sai mật khẩu rồi!", secret, **headers)
    failed = console.audit.entries(action="login.failed")
    assert [(e.actor, e.target) for e in failed[-4:]] == [("xem", "address:198.51.100.9")] * 4
    assert [e.after["scope"] for e in console.audit.entries(action="login.lockout")] == [
        "user+address"
    ]
    http, _ = await login(base, "root")
    async with http:
        async with http.get(f"{base}/audit") as resp:
            page = await resp.text()
        async with http.get(f"{base}/api/audit?actor=xem") as resp:
            api = await resp.json()
    assert "login.failed" in page and "login.lockout" in page and "198.51.100.9" in page
    assert "(not a user name)" in page and "Sai mật khẩu" not in page
    assert secret not in page and secret not in json.dumps(api)
    assert {e["action"] for e in api["items"]} == {"login.failed", "login.lockout"}
    assert all(secret not in json.dumps(e.to_dict()) for e in console.audit.entries(limit=500))


REDIRECT_PAYLOADS = [
    "//evil.example",
    "///evil.example",
    "/%5Cevil.example",
    "%5C%5Cevil.example",
    "/%5C/evil.example",
    "/%09/evil.example",
    "%09//evil.example",
    "/%0A/evil.example",
    "/%0D%0A/evil.example",
    "/%00/evil.example",
    "/%20/evil.example",
    "%20//evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%252F/evil.example",
    "/%2509/evil.example",
    "/%255Cevil.example",
    "https://evil.example",
    "https:evil.example",
    "HTTPS%3A%2F%2Fevil.example",
    "javascript:alert(1)",
    "JaVaScRiPt%3Aalert(1)",
    "data:text/html,hi",
    "/%E3%80%80/evil.example",
    "/%EF%BC%8F/evil.example",
    "%EF%BC%8F%EF%BC%8Fevil.example",
    "evil.example",
]


@pytest.mark.parametrize("payload", REDIRECT_PAYLOADS)
async def test_no_open_redirect_through_next(server, payload):
    from yarl import URL

    base = server["base"]
    async with aiohttp.ClientSession() as http:
        url = URL(f"{base}/lang/en?next={payload}", encoded=True)
        async with http.get(url, allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/", payload
        async with http.get(URL(f"{base}/login?next={payload}", encoded=True)) as resp:
            assert 'name="next" value="/"' in await resp.text()


async def test_next_keeps_same_site_paths(server):
    from yarl import URL

    async with aiohttp.ClientSession() as http:
        for target in ("/review?status=all", "/procedures/1.001456", "/review?q=gi%E1%BA%A5y"):
            url = URL(f"{server['base']}/lang/en?next={target.replace('%', '%25')}", encoded=True)
            async with http.get(url.with_query({"next": target}), allow_redirects=False) as resp:
                assert resp.headers["Location"] == target


async def test_only_the_claimer_or_an_admin_completes_a_hand_off(server):
    from desk.handoffs import HandoffStore

    base, console = server["base"], server["console"]
    console.create_user("cli", "hoa", PASSWORD, "editor")
    store = HandoffStore(console.db)
    first = store.create("s1", "rest", "muốn gặp cán bộ").id
    second = store.create("s2", "rest", "muốn gặp cán bộ").id
    lan, lan_body = await login(base, "lan")
    hoa, hoa_body = await login(base, "hoa")
    root, root_body = await login(base, "root")
    async with lan, hoa, root:
        for handoff in (first, second):
            async with lan.post(
                f"{base}/api/handoffs/{handoff}/claim",
                headers={"X-CSRF-Token": lan_body["csrf_token"]},
            ) as resp:
                assert resp.status == 200
        async with hoa.post(
            f"{base}/api/handoffs/{first}/done", headers={"X-CSRF-Token": hoa_body["csrf_token"]}
        ) as resp:
            assert resp.status == 403 and "claimed by lan" in (await resp.json())["error"]
        async with hoa.post(
            f"{base}/handoffs/{first}/done",
            data={"csrf_token": hoa_body["csrf_token"]},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 403 and "claimed by lan" in await resp.text()
        async with hoa.get(f"{base}/handoffs/{first}") as resp:
            assert f"/handoffs/{first}/done" not in await resp.text()
        assert console.handoff(first)["handoff"]["status"] == "claimed"
        async with lan.post(
            f"{base}/api/handoffs/{first}/done", headers={"X-CSRF-Token": lan_body["csrf_token"]}
        ) as resp:
            assert resp.status == 200 and (await resp.json())["status"] == "done"
        async with root.post(
            f"{base}/api/handoffs/{second}/done",
            headers={"X-CSRF-Token": root_body["csrf_token"]},
        ) as resp:
            assert resp.status == 200
    denied = console.audit.entries(target=f"handoff:{first}", action="handoff.denied")
    assert [(e.actor, e.after) for e in denied] == [("hoa", {"tried": "done"})] * 2
    store.dispose()


async def test_every_response_carries_the_security_headers(server):
    async def boom(request):
        raise RuntimeError("a bug")

    console = server["console"]
    app = make_app(console)
    app.router.add_get("/boom", boom)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    viewer, _ = await login(base, "xem")
    try:
        async with aiohttp.ClientSession() as http, viewer:
            for method, path, client in (
                ("GET", "/login", http),
                ("GET", "/no-such-page", http),
                ("GET", "/api/no-such-thing", http),
                ("GET", "/static/no-such-file.css", http),
                ("GET", "/review/not-a-number", http),
                ("POST", "/health", http),
                ("GET", "/boom", http),
                ("GET", "/users", viewer),
                ("GET", "/review/424242", viewer),
                ("GET", "/api/users", viewer),
            ):
                async with client.request(method, base + path, allow_redirects=False) as resp:
                    assert resp.status >= 400 or path == "/login", (path, resp.status)
                    for name, value in SECURITY_HEADERS.items():
                        assert resp.headers.get(name) == value, (path, resp.status, name)
    finally:
        await runner.cleanup()
