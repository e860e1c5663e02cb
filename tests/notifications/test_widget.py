"""The widget's notices: waiting in the outbox, shown once when the page is next opened.

The browser test drives Debian's Chromium through Playwright (see tests/web/test_widget.py).
"""

from __future__ import annotations

from connectors.webchat import WebchatInput
from desk.dossiers import DossierStore
from desk.outbox import SENT, WAITING
from notify.events import EventIntake, parse_event
from tests.connectors.conftest import _no_second_touchup, serve  # noqa: F401
from tests.notifications.conftest import CODE, event
from tests.web.test_widget import ask, bot_texts, browser_context, fake_assistant


def widget(outbox) -> WebchatInput:
    channel = WebchatInput()
    channel.outbox = outbox
    return channel


async def test_the_notices_endpoint_hands_each_notice_over_once(db, follows, outbox):
    follows.follow(CODE, "webchat", "browser-1", "en")
    EventIntake(db, DossierStore(db)).apply(parse_event(event("done")))
    assert outbox.counts()[WAITING] == 1
    async with serve(widget(outbox), fake_assistant([])) as (base, http):
        async with http.get(f"{base}/notices", params={"sender": "browser-2"}) as resp:
            assert resp.status == 200 and (await resp.json()) == {"notices": []}
        async with http.get(f"{base}/notices", params={"sender": "browser-1"}) as resp:
            [notice] = (await resp.json())["notices"]
        assert notice["code"] == CODE and notice["status"] == "done"
        assert "has moved to: Completed" in notice["text"]
        async with http.get(f"{base}/notices", params={"sender": "browser-1"}) as resp:
            assert (await resp.json())["notices"] == []
        async with http.get(f"{base}/notices") as resp:
            assert resp.status == 400
        headers = {"Origin": "https://evil.example"}
        async with http.get(f"{base}/notices?sender=x", headers=headers) as resp:
            assert resp.status == 403
    assert outbox.counts()[SENT] == 1


async def test_the_widget_shows_a_notice_when_its_page_is_opened_again(db, follows, outbox):
    async with (
        serve(widget(outbox), fake_assistant([])) as (base, _http),
        browser_context(viewport={"width": 1280, "height": 800}) as context,
    ):
        page = await context.new_page()
        await page.goto(f"{base}/demo")
        await page.click(".mcw-launcher")
        await ask(page, "đăng ký khai sinh cần gì")
        await page.locator(".mcw-msg-bot", has_text="Thủ tục: Đăng ký khai sinh").wait_for()
        sender = await page.evaluate("window.motcuaWidget.senderId()")
        await page.close()  # the citizen leaves; the dossier moves meanwhile
        follows.follow(CODE, "webchat", sender, "vi")
        EventIntake(db, DossierStore(db)).apply(parse_event(event("done")))

        page = await context.new_page()
        await page.goto(f"{base}/demo")
        notice = page.locator(".mcw-msg-bot", has_text="vừa chuyển sang trạng thái")
        await notice.wait_for()
        assert CODE in await notice.inner_text()
        await page.reload()  # kept in the history, not fetched twice
        await page.locator(".mcw-msg-bot", has_text="vừa chuyển sang trạng thái").wait_for()
        texts = await bot_texts(page)
        assert sum("vừa chuyển sang trạng thái" in t for t in texts) == 1
    assert outbox.counts()[SENT] == 1
