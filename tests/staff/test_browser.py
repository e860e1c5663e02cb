"""The console's pages in real headless Chromium against the real server (no Rasa)."""

from __future__ import annotations

from tests.staff.conftest import PASSWORD
from tests.staff.test_api import server  # noqa: F401  (the fixture)
from tests.web.test_widget import browser_context, screenshot_path


async def test_login_live_search_and_no_page_errors(server):  # noqa: F811
    base = server["base"]
    problems: list[str] = []
    async with browser_context(viewport={"width": 1100, "height": 800}, locale="vi-VN") as ctx:
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        # the wrong password's page is a 401, which Chromium reports as a failed load
        await page.goto(f"{base}/")
        assert "/login" in page.url
        assert await page.locator("h1").inner_text() == "Đăng nhập"
        await page.fill("input[name=username]", "lan")
        await page.fill("input[name=password]", "wrong password")
        await page.click("button[type=submit]")
        await page.locator("p.alert", has_text="Sai tên đăng nhập").wait_for()
        await page.fill("input[name=username]", "lan")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{base}/")
        await page.goto(f"{base}/review")
        await page.locator("#review-queue a").first.click()
        await page.locator("#procedure-search").press_sequentially("ly lich tu phap", delay=20)
        # typed, not submitted: the suggestions come from /api/procedures
        await page.locator("#correct-form input[value='3.000333']").wait_for()
        assert "?q=" not in page.url
        await page.click("a[lang=en]")
        await page.locator("h2", has_text="Correct: pick the right procedure").wait_for()
        await page.screenshot(path=screenshot_path("staff-review-live-search.png"), full_page=True)
    assert [p for p in problems if "status of 401" not in p] == [], problems
