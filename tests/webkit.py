"""Helpers for tests that drive the real app over HTTP (Starlette's TestClient).

``make_client`` builds the demo deployment's app on a real database (a SQLite
file, or a fresh PostgreSQL database), runs its lifespan (schema sync, demo
users and records) and returns a client. ``Browser`` wraps a client with a
signed-in user and reads CSRF tokens from the pages, as a browser would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from runtime.demo import demo_password
from runtime.settings import Settings
from runtime.web.app import create_app

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(r'name="_csrf" value="([0-9a-f]+)"')


@contextmanager
def make_client(
    data_dir: Path,
    database_url: str | None = None,
    *,
    records: int = 0,
    manifest: Path | None = None,
) -> Iterator[TestClient]:
    settings = Settings.from_env(
        {},
        data_dir=data_dir,
        manifest=manifest or ROOT / "scenarios.yaml",
        database_url=database_url or f"sqlite://{data_dir / 'yidi.sqlite3'}",
        demo=True,
        scheduler_seconds=0,  # tests fire timers themselves: runtime.timers.tick with a test clock
    )
    app = create_app(settings)
    demo = dict(app.state.deployment.data.get("demo") or {})
    demo["records"] = records
    app.state.deployment.data["demo"] = demo
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


class Browser:
    """A client acting for one person: signs in, keeps cookies, sends CSRF tokens."""

    def __init__(self, client: TestClient, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir
        self.token = ""

    def refresh_token(self, url: str = "/login") -> str:
        page = self.client.get(url)
        found = TOKEN.search(page.text)
        if found:
            self.token = found.group(1)
        return self.token

    def login(self, login: str) -> Browser:
        self.client.cookies.clear()
        self.refresh_token("/login")
        response = self.client.post(
            "/login",
            data={
                "login": login,
                "password": demo_password(self.data_dir),
                "_csrf": self.token,
                "next": "/",
            },
        )
        assert response.status_code == 303, response.text
        self.refresh_token("/")
        return self

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, **kw)

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        payload = dict(data or {})
        payload.setdefault("_csrf", self.token)
        return self.client.post(url, data=payload, **kw)

    def htmx(self, method: str, url: str, **kw: Any) -> Any:
        headers = {"HX-Request": "true", "X-CSRF-Token": self.token, **kw.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kw)
