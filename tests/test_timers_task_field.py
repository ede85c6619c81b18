"""A task's deadline read from a date field follows edits of that field, on SQLite and
PostgreSQL over HTTP with the test clock: staff extend ``due`` on the edit page while the
departments handle the suggestion, and the tasks' reminders, overdue moments and the deadline
on the to-do page move to the new date (the old ones never fire)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.timers import tick
from tests.timerkit import Clock, assign, local, query, run, started, submit
from tests.webkit import ROOT, Browser

REC = "/s/suggestions/r/suggestion"
DUE = dt.date(2026, 3, 20)  # a Friday
LATER = dt.date(2026, 4, 30)
TASKS = """          lead: lead
          complete: all
          then: replied_all
"""


def task_deadline_deployment(folder: Path) -> Path:
    """The demo deployment, with the handling tasks due by the suggestion's ``due`` field and a
    reminder one day before."""
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    shutil.copy(ROOT / "scenarios.yaml", folder / "scenarios.yaml")
    spec = folder / "scenarios" / "suggestions" / "workflow.yaml"
    text = spec.read_text("utf-8")
    assert text.count(TASKS) == 2  # handling, then supervision
    extra = "          deadline: {field: due, remind: {before: [1], notify: handler}}\n"
    spec.write_text(text.replace(TASKS, TASKS + extra, 1), "utf-8")
    return folder / "scenarios.yaml"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    return str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None


def who(client: TestClient, data_dir: Path, login: str) -> Browser:
    return Browser(client, data_dir).login(login)


def task_timers(client: TestClient, rid: int) -> list[dict[str, Any]]:
    sql = (
        'SELECT "task_id", "kind", "before", "status", "due_at", "closed_at" FROM "yidi_timer" '
        'WHERE "record_id" = ? AND "task_id" IS NOT NULL ORDER BY "id"'
    )
    return list(run(client, query, client.app.state, sql, rid))  # type: ignore[attr-defined]


def local_day(value: Any) -> dt.date:
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return moment.astimezone(local(2026, 1, 1).tzinfo).date()


def extend(staff: Browser, rid: int, due: dt.date) -> None:
    """Staff move the due date on the record's edit page (an edit, not a transition)."""
    page = staff.get(f"{REC}/{rid}/edit")
    assert page.status_code == 200, page.text
    found = re.search(r'name="_version" value="(\d+)"', page.text)
    assert found
    saved = staff.post(
        f"{REC}/{rid}/edit",
        {
            "_version": found.group(1),
            "title": "关于延长办理期限的建议",
            "category": "教育",
            "session": "闭会期间",
            "body": "这是一条用于测试办理期限与提醒的建议内容，长度足够。",
            "lead": "lc_jyj",
            "co": "lc_jtj",
            "due": due.isoformat(),
        },
    )
    assert saved.status_code == 303, saved.text


def todo_due(browser: Browser) -> list[str]:
    page = browser.get("/todo").text
    return re.findall(r'<span class="due[^"]*">([0-9-]+)', page)


def test_editing_the_field_moves_the_task_deadlines(tmp_path: Path, db_url: str | None) -> None:
    manifest = task_deadline_deployment(tmp_path / "deploy")
    data = tmp_path / "data"
    data.mkdir()
    clock = Clock(local(2026, 3, 2, 10, 0))
    with started(data, db_url, clock, manifest=manifest) as client:
        rid = submit(who(client, data, "deputy_li"), "关于延长办理期限的建议")
        assign(who(client, data, "lc_staff"), rid, DUE)
        first = task_timers(client, rid)
        assert sorted((t["kind"], t["before"]) for t in first) == [
            ("overdue", None),
            ("overdue", None),
            ("remind", 1),
            ("remind", 1),
        ]
        assert {local_day(t["due_at"]) for t in first} == {DUE}
        assert todo_due(who(client, data, "lc_edu")) == [DUE.isoformat()]

        clock.set(local(2026, 3, 10, 10, 0))
        extend(who(client, data, "lc_staff"), rid, LATER)
        rows = task_timers(client, rid)
        old = [t for t in rows if t["closed_at"] is not None]
        live = [t for t in rows if t["closed_at"] is None]
        assert len(old) == 4 and {t["status"] for t in old} == {"cancelled"}
        assert sorted((t["kind"], t["before"], t["status"]) for t in live) == [
            ("overdue", None, "pending"),
            ("overdue", None, "pending"),
            ("remind", 1, "pending"),
            ("remind", 1, "pending"),
        ]
        assert {local_day(t["due_at"]) for t in live} == {LATER}
        assert todo_due(who(client, data, "lc_edu")) == [LATER.isoformat()]

        # the old reminder and overdue moments pass: nothing fires
        clock.set(local(2026, 3, 21, 0, 0, 1))
        assert run(client, tick, client.app.state) == 0  # type: ignore[attr-defined]
        # one day before the new date each department is reminded by its task
        clock.set(local(2026, 4, 29, 9, 0))
        assert run(client, tick, client.app.state) >= 2  # type: ignore[attr-defined]
        fired = [t for t in task_timers(client, rid) if t["status"] == "fired"]
        assert sorted((t["kind"], t["before"]) for t in fired) == [("remind", 1), ("remind", 1)]
        inbox = who(client, data, "lc_edu").get("/inbox").text
        assert "将于 2026-04-30 到期" in inbox and "将于 2026-03-20 到期" not in inbox
        page = who(client, data, "lc_edu").get("/todo").text
        assert "已超期" not in page


def test_task_deadlines_shown_follow_the_state_field_in_the_demo(
    tmp_path: Path, db_url: str | None
) -> None:
    """In the demo only the state's deadline reads ``due``; its tasks show that date on the
    to-do page, and show the new one after staff extend it."""
    clock = Clock(local(2026, 3, 2, 10, 0))
    with started(tmp_path, db_url, clock) as client:
        rid = submit(who(client, tmp_path, "deputy_li"), "关于延长办理期限的建议")
        assign(who(client, tmp_path, "lc_staff"), rid, DUE)
        assert todo_due(who(client, tmp_path, "lc_transport")) == [DUE.isoformat()]
        extend(who(client, tmp_path, "lc_staff"), rid, LATER)
        assert todo_due(who(client, tmp_path, "lc_transport")) == [LATER.isoformat()]
        assert task_timers(client, rid) == []  # the tasks have no timers of their own
        clock.set(local(2026, 3, 21, 0, 0, 1))
        page = who(client, tmp_path, "lc_transport").get("/todo").text
        assert "已超期" not in page and LATER.isoformat() in page
