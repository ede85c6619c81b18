"""智能查重 in a real browser (Chromium through Playwright) against `yidi serve`: typing a title
the way an input method does (text inserted, no key events) lists the deputy's similar
suggestion under the title box, without touching the field's error message.

Skips with a reason outside CI when Chromium or Playwright is missing (see test_browser.py).
"""

from __future__ import annotations

from tests.test_browser import BODY, CHROMIUM, server, sign_in  # noqa: F401  (the fixture)


def test_similar_titles_appear_while_typing(server: tuple[str, str]) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, password = server
    title = "关于增设社区公共充电桩的建议"
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            sign_in(page, url, "deputy_li", password)
            page.goto(url + "/s/suggestions/f/new")
            page.fill("#i-title", title)
            page.select_option("#i-category", "交通出行")
            page.fill("#i-body", BODY)
            page.click("button.primary")
            expect(page.locator("main .badge")).to_contain_text("初审")

            page.goto(url + "/s/suggestions/f/new")
            page.focus("#i-title")
            page.keyboard.insert_text(
                "社区公共充电桩不足"
            )  # as an IME commits: an input event only
            hint = page.locator("#s-title")
            expect(hint).to_contain_text("相似的已有记录")
            expect(hint.locator("a", has_text=title)).to_have_count(1)
            expect(page.locator("#e-title")).to_have_text("")
        finally:
            browser.close()


def test_the_list_search_narrows_while_typing(server: tuple[str, str]) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, password = server
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            sign_in(page, url, "deputy_li", password)
            page.goto(url + "/s/suggestions/f/new")
            page.fill("#i-title", "关于修缮五马街老城墙的建议")
            page.select_option("#i-category", "其他")
            page.fill("#i-body", BODY)
            page.click("button.primary")
            expect(page.locator("main .badge")).to_contain_text("初审")
            page.goto(url + "/s/suggestions/v/mine")
            page.evaluate("window.__kept = true")
            page.focus("input[type=search]")
            page.keyboard.insert_text("老城墙")  # as an input method commits: no key events
            expect(page.locator("#results tbody tr")).to_have_count(1)
            expect(page.locator("#results tbody tr")).to_contain_text("老城墙")
            assert page.evaluate("window.__kept") is True  # updated in place by htmx
        finally:
            browser.close()
