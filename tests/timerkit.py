"""Helpers for tests of deadlines, timers and notifications: a movable clock, running
coroutines in the app's event loop, and a suggestion driven to 办理中 over HTTP."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.testclient import TestClient

from runtime.settings import Settings
from runtime.web.app import create_app
from tests.webkit import ROOT, Browser

ZONE = ZoneInfo("Asia/Shanghai")
NEW = "/s/suggestions/f/new"


class Clock:
    """``app.state.clock``: the time the app sees, moved by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, moment: dt.datetime) -> None:
        self.now = moment.astimezone(dt.UTC)


@contextmanager
def started(
    data_dir: Path,
    url: str | None,
    clock: Clock,
    *,
    scheduler_seconds: float = 0,
    manifest: Path | None = None,
) -> Iterator[TestClient]:
    """The demo app (or ``manifest``'s) with a test clock set before start-up (its start-up
    tick sees it)."""
    settings = Settings.from_env(
        {},
        data_dir=data_dir,
        manifest=manifest or ROOT / "scenarios.yaml",
        database_url=url or f"sqlite://{data_dir / 'yidi.sqlite3'}",
        demo=True,
        scheduler_seconds=scheduler_seconds,
    )
    app = create_app(settings)
    app.state.deployment.data["demo"] = {**app.state.deployment.data.get("demo", {}), "records": 0}
    app.state.clock = clock
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZONE)  # type: ignore[misc]


def run(client: TestClient, fn: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
    """Await ``fn(*args, **kw)`` in the app's event loop (its database connections live there)."""
    assert client.portal is not None
    return client.portal.call(functools.partial(fn, *args, **kw))


async def query(app_state: Any, sql: str, *params: Any) -> list[dict[str, Any]]:
    """A read for assertions; ``?`` marks become ``$n`` on PostgreSQL."""
    store = app_state.store
    if store.pg:
        count = iter(range(1, 1000))
        sql = re.sub(r"\?", lambda _: f"${next(count)}", sql)
    return [dict(r) for r in await store.db().execute_query_dict(sql, list(params))]


def record_id(location: str) -> int:
    found = re.search(r"/(\d+)(\?|$)", location)
    assert found, location
    return int(found.group(1))


def submit(deputy: Browser, title: str) -> int:
    """The deputy files a suggestion (the form submits it to 初审); its id."""
    deputy.get(NEW)
    response = deputy.post(
        NEW,
        {
            "title": title,
            "category": "教育",
            "session": "闭会期间",
            "body": "这是一条用于测试办理期限与提醒的建议内容，长度足够。",
        },
    )
    assert response.status_code == 303, response.text
    return record_id(str(response.headers["location"]))


def assign(
    staff: Browser, rid: int, due: dt.date, lead: str = "lc_jyj", co: str = "lc_jtj"
) -> None:
    """Staff assign it (交办) to a lead and a co-department with a due date."""
    url = f"/s/suggestions/r/suggestion/{rid}/t/accept"
    page = staff.get(url)
    assert page.status_code == 200, page.text
    response = staff.post(url, {"lead": lead, "co": co, "due": due.isoformat()})
    assert response.status_code == 303, response.text
