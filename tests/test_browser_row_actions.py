"""A list's row buttons in a real browser (Chromium through Playwright) against `yidi serve`:
staff follow 退回修改 from their list to its page (it asks for a comment); the deputy presses
提交 on the row of their list and htmx puts the list back in place, the row now in 初审.

Skips with a reason outside CI when Chromium or Playwright is missing (see test_browser.py).
"""

from __future__ import annotations

from pathlib import Path

from tests.test_browser import BODY, CHROMIUM, server, sign_in  # noqa: F401  (the fixture)


def test_row_buttons_in_a_browser(server: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, password = server
    title = "关于在列表中直接提交的建议"
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            deputy = browser.new_context(locale="zh-CN")
            page = deputy.new_page()
            sign_in(page, url, "deputy_zhang", password)
            page.click("text=提出建议")
            page.fill("#i-title", title)
            page.select_option("#i-category", "交通出行")
            page.fill("#i-body", BODY)
            page.click("button.primary")
            expect(page.locator("main .badge")).to_contain_text("初审")

            staff = browser.new_context(locale="zh-CN")
            spage = staff.new_page()
            sign_in(spage, url, "lc_staff", password)
            spage.goto(url + "/s/suggestions/v/all")
            row = spage.locator("tr", has_text=title)
            row.locator("[data-action=reject]").click()  # needs a comment: its own page
            expect(spage.locator("h1")).to_contain_text("退回修改")
            spage.fill("#i-_comment", "请补充路口名称")
            spage.locator("#wf-form button.danger").click()
            expect(spage.locator("main .badge")).to_contain_text("草稿")
            staff.close()

            page.goto(url + "/s/suggestions/v/mine")
            row = page.locator("tr", has_text=title)
            expect(row).to_contain_text("草稿")
            page.evaluate("window.__kept = true")  # gone if the page were loaded again
            row.locator("button[data-action=submit]").click()
            expect(page.locator("#results .flash")).to_contain_text(f"已提交：{title}")
            expect(page.locator("tr", has_text=title)).to_contain_text("初审")
            expect(
                page.locator("tr", has_text=title).locator("[data-action=submit]")
            ).to_have_count(0)
            assert page.evaluate("window.__kept") is True  # swapped in place by htmx
            assert page.url.endswith("/s/suggestions/v/mine")
            page.screenshot(path=str(tmp_path / "row-actions.png"), full_page=True)
            deputy.close()
        finally:
            browser.close()
