"""`yidi serve` as people run it: refusing an incompatible schema, and two processes on one PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copy_deployment(tmp: Path) -> Path:
    shutil.copytree(ROOT / "scenarios", tmp / "scenarios")
    shutil.copy(ROOT / "scenarios.yaml", tmp / "scenarios.yaml")
    return tmp / "scenarios.yaml"


def yidi(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_incompatible_change_refuses_to_start_and_shows_the_plan(tmp_path: Path) -> None:
    manifest = copy_deployment(tmp_path)
    env = {"YIDI_MANIFEST": str(manifest), "YIDI_DATA_DIR": str(tmp_path / "data")}
    first = yidi(["migrate", "--apply"], env)  # creates the tables
    assert first.returncode == 0, first.stderr
    package = tmp_path / "scenarios" / "suggestions" / "scenario.yaml"
    text = package.read_text("utf-8").replace(
        "      affected:\n        type: number", "      affected:\n        type: text"
    )
    package.write_text(text.replace("        decimals: 0\n        unit: 人\n", ""), "utf-8")
    refused = yidi(["serve", "--port", str(free_port())], env)
    assert refused.returncode == 1
    assert "start-up is refused" in refused.stderr
    assert "affected" in refused.stderr and "yidi migrate --apply" in refused.stderr
    plan = yidi(["migrate"], env)
    assert "affected" in plan.stdout
    applied = yidi(["migrate", "--apply"], env)
    assert applied.returncode == 0, applied.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        try:
            urllib.request.urlopen(url + "/login", timeout=1)
            return
        except OSError:
            assert process.poll() is None, (
                process.stdout.read().decode() if process.stdout else "died"
            )
            time.sleep(0.2)
    raise AssertionError("server did not start")


class Client:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return str(response.read().decode())

    def post(self, path: str, data: dict[str, str]) -> str:
        token = re.search(
            r'name="_csrf" value="([0-9a-f]+)"', self.get("/login" if path == "/login" else "/")
        )
        assert token
        body = urllib.parse.urlencode({**data, "_csrf": token.group(1)}).encode()
        with self.opener.open(self.base + path, body, timeout=10) as response:
            return str(response.read().decode())


def test_two_processes_share_one_postgresql_database(tmp_path: Path, pg_dsn: str) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": pg_dsn,
        "YIDI_MANIFEST": str(ROOT / "scenarios.yaml"),
        "YIDI_DATA_DIR": str(tmp_path),
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "serve", "--demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]  # both start at once: schema sync must not race
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, process in zip(bases, processes, strict=True):
            wait_up(base, process)
        password = (tmp_path / "demo-password.txt").read_text().strip()
        one, two = Client(bases[0]), Client(bases[1])
        for client in (one, two):
            client.post("/login", {"login": "deputy_li", "password": password, "next": "/"})
        one.post(
            "/s/suggestions/f/new",
            {
                "title": "进程一提交的建议",
                "category": "教育",
                "session": "闭会期间",
                "body": "这是一条从第一个进程提交、在第二个进程查看的建议内容。",
            },
        )
        assert "进程一提交的建议" in two.get("/s/suggestions/v/mine")
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
            if process.stdout:
                process.stdout.close()
