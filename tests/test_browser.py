"""End to end in a real browser (Debian's Chromium driven by Playwright) against `yidi serve`:
create → list → filter → edit → export for the suggestions scenario, on a phone and a desktop.

Outside CI these tests skip with a reason when Chromium or Playwright is missing; with
CI=true they must run (.ci/run installs Chromium).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("YIDI_CHROMIUM", "/usr/bin/chromium")
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
BODY = "学校门口早晚高峰车辆拥堵，学生过马路存在安全隐患，建议增设护学岗和临时停车区。"


def sign_in(page: object, url: str, login: str, password: str) -> None:
    page.goto(url + "/login")  # type: ignore[attr-defined]
    page.fill("input[name=login]", login)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button.primary")  # type: ignore[attr-defined]


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (install Debian's chromium package)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    missing = _missing()
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true requires the browser tests: {missing}")
        pytest.skip(missing)
    data_dir = tmp_path_factory.mktemp("browser-data")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "YIDI_DATA_DIR": str(data_dir),
        "YIDI_MANIFEST": str(ROOT / "scenarios.yaml"),
    }
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/login", timeout=1)
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(
                        process.stdout.read().decode() if process.stdout else "server died"
                    ) from None
                time.sleep(0.2)
        password = (data_dir / "demo-password.txt").read_text().strip()
        yield url, password
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_create_list_filter_edit_export(server: tuple[str, str], size: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, password = server
    title = f"关于学校门口护学岗的建议（{size}）"
    expect.set_options(timeout=20_000)  # CI machines are shared: be patient, never flaky
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        try:
            deputy = browser.new_context(viewport=SIZES[size], locale="zh-CN")
            deputy.set_default_timeout(20_000)
            page = deputy.new_page()
            sign_in(page, url, "deputy_zhang", password)
            page.click("text=提出建议")
            page.fill("#i-title", title)
            page.select_option("#i-category", "交通出行")
            page.fill("#i-body", "太短")
            page.press("#i-body", "Tab")  # inline check on change, answered by the server
            expect(page.locator("#e-body")).to_contain_text("20")
            page.fill("#i-body", BODY)
            page.click("button.primary")
            expect(page.locator("h1")).to_contain_text(title)
            expect(page.locator(".badge")).to_contain_text("初审")
            deputy.close()

            staff = browser.new_context(viewport=SIZES[size], locale="zh-CN", accept_downloads=True)
            staff.set_default_timeout(20_000)
            page = staff.new_page()
            sign_in(page, url, "lc_staff", password)
            page.click("text=建议总览")
            page.select_option(
                "select[name='f.category']", "交通出行"
            )  # htmx updates the list in place
            expect(page).to_have_url(re.compile(r"f\.category="))
            expect(page.locator("#results")).to_contain_text(title)
            page.click(f"text={title}")
            page.click("text=编辑")
            page.fill("#i-title", title + "（已修改）")
            page.click("button.primary")
            expect(page.locator("h1")).to_contain_text("（已修改）")
            expect(page.locator(".timeline")).to_contain_text("修改")
            page.goto(url + "/s/suggestions/v/all")
            with page.expect_download() as download:
                page.click("text=导出 CSV")
            saved = tmp_path / "export.csv"
            download.value.save_as(saved)
            assert title + "（已修改）" in saved.read_text("utf-8-sig")
            page.screenshot(path=str(tmp_path / f"list-{size}.png"), full_page=True)
            staff.close()
        finally:
            browser.close()
