"""Staff see followers and the outbox, and resend a notice, over the console's real HTTP API."""

from __future__ import annotations

from aiohttp import web

from desk.demo import seed_demo
from desk.dossiers import DossierStore
from desk.follows import FollowStore
from desk.outbox import SENT, Outbox
from notify.events import EventIntake, parse_event
from staff.console import Console
from staff.server import make_app
from staff.settings import StaffSettings
from tests.notifications.conftest import CODE, event
from tests.staff.conftest import PASSWORD
from tests.staff.test_api import free_port, login


async def test_followers_outbox_and_resend(tmp_path):
    settings = StaffSettings(database_url=f"sqlite:///{tmp_path / 'motcua.db'}", login_limit=100)
    console = Console(settings)
    console.prepare()
    console.create_user("cli", "lan", PASSWORD, "editor")
    console.create_user("cli", "xem", PASSWORD, "viewer")
    seed_demo(DossierStore(console.db))
    FollowStore(console.db).follow(CODE, "telegram", "12345", "vi")
    EventIntake(console.db).apply(parse_event(event("done")))
    outbox = Outbox(console.db)
    [notice] = outbox.claim(1)
    outbox.delivered(notice.id)
    runner = web.AppRunner(make_app(console))
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}"
    try:
        http, me = await login(base, "xem")
        async with http:
            async with http.get(f"{base}/api/notices/followed") as r:
                assert (await r.json())["items"] == [{"dossier_code": CODE, "followers": 1}]
            async with http.get(f"{base}/api/notices/followers?dossier_code={CODE}") as r:
                [follower] = (await r.json())["items"]
            assert follower["channel"] == "telegram" and "12345" not in str(follower)
            async with http.get(f"{base}/api/notices/outbox?state=sent") as r:
                body = await r.json()
            assert [n["id"] for n in body["items"]] == [notice.id] and body["counts"][SENT] == 1
            async with http.get(f"{base}/api/notices/followers?dossier_code=x") as r:
                assert r.status == 200 and (await r.json())["items"] == []
            headers = {"X-CSRF-Token": me["csrf_token"]}
            async with http.post(
                f"{base}/api/notices/resend", json={"notice_id": notice.id}, headers=headers
            ) as r:
                assert r.status == 403  # a viewer may not
            async with http.get(f"{base}/notices?dossier_code={CODE}") as r:
                page = await r.text()
            assert r.status == 200 and CODE in page and "telegram" in page
        http, me = await login(base, "lan")
        async with http:
            headers = {"X-CSRF-Token": me["csrf_token"]}
            async with http.post(
                f"{base}/api/notices/resend", json={"notice_id": notice.id}, headers=headers
            ) as r:
                assert r.status == 200 and (await r.json())["resent"] is True
            async with http.post(
                f"{base}/api/notices/resend", json={"notice_id": notice.id}, headers=headers
            ) as r:
                assert r.status == 404  # already queued again
        assert outbox.counts()["pending"] == 1
        assert console.audit.entries(action="notice.resend")
    finally:
        await runner.cleanup()
        console.close()
