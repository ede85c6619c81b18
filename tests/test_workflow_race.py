"""20 people take the same transition at the same moment against a real server: exactly one succeeds.

``yidi serve`` runs as people run it (SQLite file, or PostgreSQL); 20 threads,
each with its own connection, post at once (a barrier releases them): once
through the page form carrying the version the page showed, once through the
JSON API without a version (the row lock alone decides). Every loser gets a
409 saying who changed the record meanwhile; the record moved once, with one
set of tasks and one timeline entry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest

from tests.test_serve import ROOT, free_port, wait_up

ATTEMPTS = 20


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Person:
    def __init__(self, base: str, login: str, password: str) -> None:
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect()
        )
        self.token = self.csrf("/login")
        self.send("POST", "/login", {"login": login, "password": password, "next": "/"})
        self.token = self.csrf("/")

    def csrf(self, path: str) -> str:
        found = re.search(r'name="_csrf" value="([0-9a-f]+)"', self.get(path))
        assert found
        return found.group(1)

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=30) as response:
            return str(response.read().decode())

    def send(
        self, method: str, path: str, form: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[int, str]:
        """One request (urllib opens a connection per request); (status, body). No redirects."""
        headers = {"X-CSRF-Token": self.token}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        else:
            data = urllib.parse.urlencode(
                {**(form or {}), "_csrf": self.token}, doseq=True
            ).encode()
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "YIDI_MANIFEST": str(ROOT / "scenarios.yaml"),
        "YIDI_DATA_DIR": str(tmp_path),
        "YIDI_SCHEDULER_SECONDS": "0",
    }
    if request.param == "postgres":
        env["DATABASE_URL"] = request.getfixturevalue("pg_dsn")
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, process)
        yield base, (tmp_path / "demo-password.txt").read_text().strip()
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout:
            process.stdout.close()


def at_once(attempt: Any) -> list[tuple[int, str]]:
    barrier = threading.Barrier(ATTEMPTS)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = attempt()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def new_suggestion(deputy: Person, title: str) -> int:
    status, _ = deputy.send(
        "POST",
        "/s/suggestions/f/new",
        {
            "title": title,
            "category": "教育",
            "session": "闭会期间",
            "body": "这是一条用于并发测试的建议内容，长度超过二十个字。",
        },
    )
    assert status == 303
    found = re.search(
        rf'href="/s/suggestions/r/suggestion/(\d+)">{title}<', deputy.get("/s/suggestions/v/mine")
    )
    assert found
    return int(found.group(1))


def test_twenty_concurrent_attempts_one_success(server: tuple[str, str]) -> None:
    base, password = server
    deputy = Person(base, "deputy_li", password)
    staff = Person(base, "lc_staff", password)
    path = "/s/suggestions/r/suggestion"

    # through the page: everyone saw the same version of the form
    rid = new_suggestion(deputy, "并发交办测试建议")
    form = staff.get(f"{path}/{rid}/t/accept")
    found = re.search(r'name="_version" value="(\d+)"', form)
    assert found
    seen = found.group(1)
    values = {"_version": seen, "lead": "lc_jyj", "co": ["lc_jtj"], "due": "2099-12-31"}
    results = at_once(lambda: staff.send("POST", f"{path}/{rid}/t/accept", values))
    codes = sorted(code for code, _ in results)
    assert codes == [303] + [409] * (ATTEMPTS - 1), codes
    assert all("王芳 已在此期间修改了该记录" in text for code, text in results if code == 409)
    listed = json.loads(staff.get(f"/api/s/suggestions/suggestion/{rid}/transitions"))
    assert len(listed["tasks"]) == 2  # one set of tasks: the lead's and the co-department's
    record = json.loads(staff.get(f"/api/s/suggestions/suggestion/{rid}"))["data"]
    assert record["state"] == "handling" and record["row_version"] == int(seen) + 1
    assert staff.get(f"{path}/{rid}").count("<strong>王芳</strong> 交办") == 1

    # through the API without a version: the database alone decides
    rid = new_suggestion(deputy, "并发退回测试建议")
    body = {"comment": "请补充材料"}
    results = at_once(
        lambda: staff.send(
            "POST", f"/api/s/suggestions/suggestion/{rid}/transitions/reject", body=body
        )
    )
    codes = sorted(code for code, _ in results)
    assert codes == [200] + [409] * (ATTEMPTS - 1), codes
    assert {json.loads(text)["error"]["code"] for code, text in results if code == 409} == {
        "conflict"
    }
    record = json.loads(staff.get(f"/api/s/suggestions/suggestion/{rid}"))["data"]
    assert record["state"] == "draft"
    assert staff.get(f"{path}/{rid}").count("<strong>王芳</strong> 退回修改") == 1
