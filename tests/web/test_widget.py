"""The web widget in real headless Chromium, served by WebchatInput on a real Sanic server.

Needs Debian's ``chromium`` (``apt-get install -y chromium``) and the ``playwright`` package
(its wheel carries the driver; never ``playwright install``). Screenshots go to
``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from sanic import Sanic

from connectors.webchat import WebchatInput, credentials_from_env, parse_origins
from tests.connectors.conftest import _no_second_touchup, free_port, serve  # noqa: F401

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000

BIRTH = "1.001193"
MARRIAGE = "1.000894"
NAMES = {BIRTH: "Đăng ký khai sinh", MARRIAGE: "Đăng ký kết hôn"}
LINK = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma=1.001193"


def fake_assistant(received: list):
    """An ``on_new_message`` that answers like motcua: a procedure card, or candidates."""

    async def on_new_message(message) -> None:
        received.append(message)
        out, sender, text = message.output_channel, message.sender_id, message.text
        chosen = re.match(r'/choose_procedure\{"procedure_code":"([\d.]+)"\}', text)
        if chosen:
            code = chosen.group(1)
            await out.send_text_message(sender, f"Thủ tục: {NAMES[code]} (mã {code})")
        elif "khai sinh" in text:
            await out.send_text_message(
                sender, f"Thủ tục: {NAMES[BIRTH]} (mã {BIRTH})\nChi tiết: {LINK}."
            )
        elif "<img" in text:
            await out.send_text_message(sender, "<img src=x onerror=window.__pwned=1> <b>hi</b>")
        else:
            buttons = [
                {"title": name, "payload": f'/choose_procedure{{"procedure_code":"{code}"}}'}
                for code, name in NAMES.items()
            ]
            await out.send_text_with_buttons(sender, "Anh/chị hỏi thủ tục nào?", buttons)

    return on_new_message


# ---------------------------------------------------------------- HTTP, no browser


async def test_serves_the_widget_files_with_their_types():
    async with serve(WebchatInput(), fake_assistant([])) as (base, http):
        async with http.get(f"{base}/") as resp:
            assert resp.status == 200 and await resp.json() == {"status": "ok"}
        for path, kind in (
            ("widget.js", "application/javascript"),
            ("widget.css", "text/css"),
            ("demo", "text/html"),
        ):
            async with http.get(f"{base}/{path}") as resp:
                assert resp.status == 200
                assert resp.content_type == kind
                assert len(await resp.read()) > 500
        for path in ("../pyproject.toml", "%2e%2e/pyproject.toml", "demo.html/../../README.md"):
            async with http.get(f"{base}/{path}") as resp:
                assert resp.status == 404


async def test_origin_check_on_the_webhook():
    received = []
    channel = WebchatInput("https://*.hanoi.gov.vn, https://portal.example.vn")
    async with serve(channel, fake_assistant(received)) as (base, http):
        url = f"{base}/webhook"
        body = {"sender": "s1", "message": "đăng ký khai sinh"}
        for origin in ("https://phuongA.hanoi.gov.vn", "https://portal.example.vn"):
            async with http.post(url, json=body, headers={"Origin": origin}) as resp:
                assert resp.status == 200
                assert resp.headers["Access-Control-Allow-Origin"] == origin
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            async with http.options(url, headers=headers) as resp:
                assert resp.status == 204
                assert resp.headers["Access-Control-Allow-Origin"] == origin
                assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
        for origin in ("https://evil.example", "https://hanoi.gov.vn.evil.example", "null"):
            async with http.post(url, json=body, headers={"Origin": origin}) as resp:
                assert resp.status == 403
                assert "Access-Control-Allow-Origin" not in resp.headers
            async with http.options(url, headers={"Origin": origin}) as resp:
                assert resp.status == 403
        # No Origin (curl, a server) and the server's own origin pass.
        async with http.post(url, json=body) as resp:
            assert resp.status == 200
        own = base.split("/webhooks")[0]
        async with http.post(url, json=body, headers={"Origin": own}) as resp:
            assert resp.status == 200
    assert len(received) == 4


async def test_default_origins_are_localhost_any_port():
    async with serve(WebchatInput(), fake_assistant([])) as (base, http):
        body = {"sender": "s1", "message": "hi"}
        for origin, status in (
            ("http://localhost:8080", 200),
            ("http://127.0.0.1:3000", 200),
            ("https://ward.example.vn", 403),
        ):
            async with http.post(f"{base}/webhook", json=body, headers={"Origin": origin}) as r:
                assert r.status == status, origin


async def test_webhook_keeps_the_rest_checks():
    async with serve(WebchatInput(), fake_assistant([])) as (base, http):
        async with http.post(f"{base}/webhook", json={"message": "hi"}) as resp:
            assert resp.status == 400 and "sender" in (await resp.json())["error"]
        async with http.post(f"{base}/webhook", json={"sender": "s", "message": " "}) as resp:
            assert "hộ chiếu" in (await resp.json())[0]["text"]


async def test_403_holds_under_rasas_global_cors():
    """``rasa run --cors "*"`` adds sanic-cors to the whole app; it must not open the webhook."""
    from rasa.server import configure_cors

    received = []
    app = Sanic(f"test_{uuid.uuid4().hex[:8]}")
    configure_cors(app, "*")
    hook = WebchatInput().blueprint(fake_assistant(received))
    app.blueprint(hook, url_prefix="/webhooks/webchat")
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
    )
    await server.startup()
    await server.before_start()
    try:
        url = f"http://127.0.0.1:{port}/webhooks/webchat/webhook"
        body = {"sender": "s1", "message": "đăng ký khai sinh"}
        async with aiohttp.ClientSession() as http:
            bad = {"Origin": "https://evil.example"}
            # sanic-cors answers every preflight before any blueprint sees it (permissively,
            # under "*"); what keeps a disallowed site out is the POST's 403.
            async with http.options(url, headers=bad) as resp:
                assert resp.status == 200
            async with http.post(url, json=body, headers=bad) as resp:
                assert resp.status == 403
                assert "Access-Control-Allow-Origin" not in resp.headers
            good = {"Origin": "http://localhost:5000"}
            async with http.post(url, json=body, headers=good) as resp:
                assert resp.status == 200
                assert resp.headers.getall("Access-Control-Allow-Origin") == [good["Origin"]]
    finally:
        server.close()
        await server.wait_closed()
    assert len(received) == 1


def test_settings_from_credentials_and_env():
    assert credentials_from_env({}) == {}
    env = {"MOTCUA_WIDGET_ORIGINS": "https://a.vn, https://*.hanoi.gov.vn"}
    assert credentials_from_env(env) == {"allowed_origins": env["MOTCUA_WIDGET_ORIGINS"]}
    channel = WebchatInput.from_credentials(credentials_from_env(env))
    assert len(channel.allowed_origins) == 2
    assert WebchatInput.from_credentials(None).allowed_origins == parse_origins(None)
    with pytest.raises(ValueError, match="not of the form"):
        credentials_from_env({"MOTCUA_WIDGET_ORIGINS": "https://a.vn/path"})
    (anything,) = parse_origins("*")
    assert anything.matches("https://any.example")
    (default_port,) = parse_origins(["https://a.vn:443"])
    assert default_port.matches("https://a.vn") and not default_port.matches("http://a.vn")


# ---------------------------------------------------------------- browser


@asynccontextmanager
async def browser_context(**options):
    """A fresh Chromium context; fails (does not skip) when Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the widget's browser tests need Debian's Chromium. "
            "Run `apt-get install -y chromium` (never `playwright install`)."
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("playwright is missing: run `.venv/bin/pip install -e '.[dev]'`")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            context = await browser.new_context(**options)
            context.set_default_timeout(TIMEOUT_MS)
            yield context
        finally:
            await browser.close()


@asynccontextmanager
async def host_site(html: str):
    """Serves ``html`` at ``/`` on another port: a ward's site embedding the widget.

    A real loopback server, not a Playwright route: Chromium blocks a page it thinks is
    public from calling a loopback address (Local Network Access).
    """
    from aiohttp import web

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield port
    finally:
        await runner.cleanup()


def screenshot_path(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)


async def ask(page, text: str) -> None:
    await page.fill("#mcw-input", text)
    await page.press("#mcw-input", "Enter")


async def bot_texts(page) -> list[str]:
    return await page.locator(".mcw-msg-bot .mcw-text").all_inner_texts()


async def test_conversation_buttons_reload_and_dropped_connection():
    received = []
    async with (
        serve(WebchatInput(), fake_assistant(received)) as (base, _http),
        browser_context(viewport={"width": 1280, "height": 800}) as context,
    ):
        page = await context.new_page()
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{base}/demo")
        snippet = await page.inner_text("#snippet")
        assert snippet.endswith('/webhooks/webchat/widget.js" defer></script>')

        # Open: focus moves into the panel.
        await page.click(".mcw-launcher")
        assert await page.get_attribute(".mcw-launcher", "aria-expanded") == "true"
        assert await page.evaluate("document.activeElement.id") == "mcw-input"
        assert await page.get_attribute(".mcw-panel", "role") == "dialog"
        assert await page.get_attribute(".mcw-log", "aria-live") == "polite"

        # A question gets the procedure card; its link is a real, safe link.
        await ask(page, "đăng ký khai sinh cần gì")
        card = page.locator(".mcw-msg-bot", has_text=f"mã {BIRTH}")
        await card.wait_for()
        link = card.locator("a")
        assert await link.get_attribute("href") == LINK  # the final "." is not in the link
        assert await link.get_attribute("rel") == "noopener noreferrer nofollow"

        # A vague question offers buttons; a click sends the payload and shows the title.
        await ask(page, "đăng ký")
        await page.locator(".mcw-choice", has_text=NAMES[MARRIAGE]).click()
        await page.locator(".mcw-msg-bot", has_text=f"mã {MARRIAGE}").wait_for()
        assert received[-1].text == f'/choose_procedure{{"procedure_code":"{MARRIAGE}"}}'
        users = await page.locator(".mcw-msg-user .mcw-text").all_inner_texts()
        assert users[-1] == NAMES[MARRIAGE]
        assert await page.locator(".mcw-choice").count() == 0  # buttons go once used

        # Bot text is text, never HTML.
        await ask(page, "<img>")
        await page.locator(".mcw-msg-bot", has_text="<b>hi</b>").wait_for()
        assert await page.evaluate("window.__pwned") is None
        assert await page.locator(".mcw-log img").count() == 0
        await page.screenshot(path=screenshot_path("widget-desktop.png"))

        # A reload keeps the conversation and the sender id.
        sender = await page.evaluate("window.motcuaWidget.senderId()")
        assert {m.sender_id for m in received} == {sender}
        before = await bot_texts(page)
        await page.reload()
        await page.locator(".mcw-msg-bot", has_text=f"mã {MARRIAGE}").wait_for()
        assert await bot_texts(page) == before
        assert await page.evaluate("window.motcuaWidget.senderId()") == sender
        assert await page.is_visible(".mcw-panel")  # it was open: it stays open

        # Offline: the message waits, the citizen sees "reconnecting"; back online, it goes.
        count = len(received)
        await context.set_offline(True)
        await ask(page, "đăng ký khai sinh lần nữa")
        notice = page.locator(".mcw-notice")
        await notice.filter(has_text="kết nối lại").wait_for()
        assert "đang chờ gửi" in await page.locator(".mcw-msg-user").last.inner_text()
        assert len(received) == count
        await context.set_offline(False)
        await notice.wait_for(state="hidden", timeout=20_000)
        assert [m.text for m in received[count:]] == ["đăng ký khai sinh lần nữa"]
        assert "đang chờ gửi" not in await page.locator(".mcw-msg-user").last.inner_text()
        assert (await bot_texts(page))[-1].startswith(f"Thủ tục: {NAMES[BIRTH]}")
        assert received[-1].sender_id == sender
        assert errors == []


async def test_a_message_queued_offline_survives_a_reload():
    received = []
    async with (
        serve(WebchatInput(), fake_assistant(received)) as (base, _http),
        browser_context() as context,
    ):
        page = await context.new_page()
        await page.goto(f"{base}/demo")
        await page.click(".mcw-launcher")
        await context.set_offline(True)
        await ask(page, "đăng ký khai sinh")
        await page.locator(".mcw-notice", has_text="kết nối lại").wait_for()
        # Keep the webhook unreachable across the reload: the new page must send the message.
        await page.route("**/webhooks/webchat/webhook", lambda route: route.abort())
        await context.set_offline(False)
        await page.reload()
        await page.locator(".mcw-notice", has_text="kết nối lại").wait_for()
        await page.unroute("**/webhooks/webchat/webhook")
        await page.evaluate("window.dispatchEvent(new Event('online'))")
        await page.locator(".mcw-msg-bot", has_text=f"mã {BIRTH}").wait_for(timeout=20_000)
        assert [m.text for m in received] == ["đăng ký khai sinh"]
        assert await page.locator(".mcw-msg-user").count() == 1


async def test_keyboard_only():
    received = []
    async with (
        serve(WebchatInput(), fake_assistant(received)) as (base, _http),
        browser_context() as context,
    ):
        page = await context.new_page()
        await page.goto(f"{base}/demo")
        await page.keyboard.press("Tab")
        assert await page.evaluate("document.activeElement.className") == "mcw-launcher"
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "mcw-input"
        await page.keyboard.type("đăng ký")
        await page.keyboard.press("Enter")
        await page.locator(".mcw-choice").first.wait_for()
        # The quick replies come right before the input in the Tab order.
        await page.keyboard.press("Shift+Tab")
        focused = await page.evaluate("document.activeElement.textContent")
        assert focused == NAMES[MARRIAGE]
        await page.keyboard.press("Enter")
        await page.locator(".mcw-msg-bot", has_text=f"mã {MARRIAGE}").wait_for()
        # The header buttons are reachable too, and are labelled.
        labels = await page.eval_on_selector_all(
            ".mcw-panel button",
            "els => els.map(e => e.getAttribute('aria-label') || e.textContent)",
        )
        assert all(label.strip() for label in labels)
        await page.focus("#mcw-input")
        await page.keyboard.press("Escape")
        assert await page.is_hidden(".mcw-panel")
        assert await page.evaluate("document.activeElement.className") == "mcw-launcher"
        assert await page.get_attribute(".mcw-launcher", "aria-expanded") == "false"


async def test_phone_width_english_cross_origin_embed():
    """A ward's page on another origin (localhost, allowed by default) with data- options."""
    received = []
    html = (
        "<!doctype html><html><head><meta name=viewport content='width=device-width'></head>"
        "<body><h1>Phường Tràng Tiền</h1>"
        "<script src='{base}/widget.js' data-lang='en' data-open='true' "
        "data-title='Ward help' data-color='#0d47a1'></script></body></html>"
    )
    async with (
        serve(WebchatInput(), fake_assistant(received)) as (base, _http),
        host_site(html.format(base=base)) as port,
        browser_context(viewport={"width": 360, "height": 740}, is_mobile=True) as context,
    ):
        page = await context.new_page()
        await page.goto(f"http://localhost:{port}/")
        panel = page.locator(".mcw-panel")
        await panel.wait_for()
        assert await page.inner_text(".mcw-title") == "Ward help"
        assert await page.get_attribute("#mcw-input", "placeholder") == (
            "Type a question, e.g. what do I need for a passport?"
        )
        assert await page.inner_text("label[for=mcw-input]") == "Your question"
        box = await panel.bounding_box()
        assert box == {"x": 0, "y": 0, "width": 360, "height": 740}
        colour = await page.eval_on_selector(
            ".mcw-header", "e => getComputedStyle(e).backgroundColor"
        )
        assert colour == "rgb(13, 71, 161)"
        await ask(page, "đăng ký")
        await page.locator(".mcw-choice").first.wait_for()
        await page.screenshot(path=screenshot_path("widget-phone.png"))
        assert received[0].input_channel == "webchat"
        # Stored per server: the record is named for the server, not the ward's page.
        keys = await page.evaluate("Object.keys(localStorage)")
        assert keys == [f"motcua-widget:{base.split('/webhooks')[0]}"]
        record = json.loads(await page.evaluate(f"localStorage.getItem({json.dumps(keys[0])})"))
        assert record["sender"] == received[0].sender_id


async def test_a_disallowed_site_cannot_use_the_assistant():
    received = []
    html = "<!doctype html><body><script src='{base}/widget.js' data-open='true'></script>"
    async with (
        serve(WebchatInput("https://portal.example.vn"), fake_assistant(received)) as (base, _),
        host_site(html.format(base=base)) as port,
        browser_context() as context,
    ):
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{port}/")
        status = await page.evaluate(
            """url => fetch(url, {method: "POST", headers: {"Content-Type": "text/plain"},
                                  body: JSON.stringify({sender: "x", message: "hi"})})
                      .then(r => r.status, e => "blocked")""",
            f"{base}/webhook",
        )
        assert status == "blocked"  # a 403 without CORS headers: the page cannot even read it
        await ask(page, "đăng ký khai sinh")
        await page.locator(".mcw-notice", has_text="kết nối lại").wait_for()
    assert received == []
