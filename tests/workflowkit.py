"""Helpers for the workflow tests: people taking actions over HTTP, as a browser would."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.webkit import Browser

REC = "/s/suggestions/r/suggestion"
BODY = "这是一条用于测试的建议内容，长度超过二十个字，写明了问题和建议。"


class People:
    """One client, signing in as whoever acts next (each sign-in is a fresh session)."""

    def __init__(self, client: TestClient, data_dir: Path) -> None:
        self.client = client
        self.data_dir = data_dir
        self.login: str | None = None
        self.browser = Browser(client, data_dir)

    def forget(self) -> None:
        """Sign in afresh next time (after the test clock moved past the sessions' life)."""
        self.login = None

    def __call__(self, login: str) -> Browser:
        if self.login != login:
            self.browser = Browser(self.client, self.data_dir).login(login)
            self.login = login
        return self.browser


def record_id(location: str) -> int:
    found = re.search(r"/(\d+)(\?|$)", location)
    assert found, location
    return int(found.group(1))


def actions(page: str) -> list[str]:
    """The transitions offered on a record page."""
    return re.findall(r'data-action="(\w+)"', page)


def version(page: str) -> str:
    found = re.search(r'name="_version" value="(\d+)"', page)
    assert found, "no row version on the page"
    return found.group(1)


def state_badge(page: str) -> str:
    found = re.search(r'<span class="badge[^"]*">([^<]+)</span>\s*</div>', page)
    assert found
    return found.group(1)


def error_of(page: str, field: str) -> str:
    found = re.search(rf'id="e-{re.escape(field)}" role="alert">([^<]*)<', page)
    return found.group(1) if found else ""


def task_ids(page: str, act: str = "reply") -> list[int]:
    """The ids of the open tasks this viewer may act on (their forms on the page)."""
    return [int(i) for i in re.findall(rf"/tasks/(\d+)/{act}\"", page)]


def new_suggestion(b: Browser, title: str) -> int:
    response = b.post(
        "/s/suggestions/f/new",
        {"title": title, "category": "教育", "session": "闭会期间", "body": BODY},
    )
    assert response.status_code == 303, response.text
    return record_id(response.headers["location"])


def joint_suggestion(b: Browser, title: str, cosigners: list[int]) -> int:
    response = b.post(
        "/s/suggestions/f/joint",
        {
            "_step": "2",
            "title": title,
            "category": "交通出行",
            "session": "闭会期间",
            "body": BODY,
            "cosigners": [str(c) for c in cosigners],
        },
    )
    assert response.status_code == 303, response.text
    return record_id(response.headers["location"])


def take(b: Browser, rid: int, tid: str, data: dict[str, Any] | None = None) -> Any:
    """Open the transition from the record page (as a person would) and post its form."""
    page = b.get(f"{REC}/{rid}")
    assert tid in actions(page.text), (tid, actions(page.text))
    form = b.get(f"{REC}/{rid}/t/{tid}")
    assert form.status_code == 200, form.text
    return b.post(f"{REC}/{rid}/t/{tid}", {"_version": version(form.text), **(data or {})})


def user_ids(client: TestClient, *logins: str) -> list[int]:
    from runtime.storage.platform import User

    async def find() -> list[int]:
        rows = dict(await User.filter(login__in=list(logins)).values_list("login", "id"))
        return [int(rows[name]) for name in logins]

    return client.portal.call(find)  # type: ignore[no-any-return]


def add_user(client: TestClient, login: str, name: str, unit: str, role: str) -> int:
    """Another account with the demo password (a colleague to delegate to)."""
    from runtime.storage.platform import Grant, User
    from runtime.web.passwords import hash_password

    data_dir = client.app.state.settings.data_dir  # type: ignore[attr-defined]
    from runtime.demo import demo_password

    async def make() -> int:
        user = await User.create(
            login=login, name=name, password_hash=hash_password(demo_password(data_dir))
        )
        await Grant.create(user_id=user.id, org_unit_id=unit, role=role)
        return int(user.id)

    return client.portal.call(make)  # type: ignore[no-any-return]


def in_days(n: int) -> str:
    return (dt.date.today() + dt.timedelta(days=n)).isoformat()
