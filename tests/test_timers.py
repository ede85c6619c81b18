"""Deadlines through the real app on SQLite and PostgreSQL: a suggestion assigned with a due
date gets reminders and an overdue escalation to 督办 when the test clock moves; each timer fires
once; leaving the state cancels its timers; timers that fell due while the app was down fire at
start-up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.timers import deadlines, tick
from runtime.timers.calendar import calendar_of
from tests.timerkit import Clock, assign, local, query, run, started, submit
from tests.webkit import Browser

DUE = dt.date(2026, 3, 20)  # a Friday


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return None


@pytest.fixture
def site(db_url: str | None, tmp_path: Path) -> Iterator[tuple[TestClient, Path, Clock]]:
    clock = Clock(local(2026, 3, 2, 10, 0))  # a Monday
    with started(tmp_path, db_url, clock) as client:
        yield client, tmp_path, clock


def who(site: tuple[TestClient, Path, Clock], login: str) -> Browser:
    client, data_dir, _ = site
    return Browser(client, data_dir).login(login)


def timers(client: TestClient, rid: int) -> list[dict[str, Any]]:
    return list(
        run(
            client,
            query,
            client.app.state,  # type: ignore[attr-defined]
            'SELECT * FROM "yidi_timer" WHERE "record_id" = ? ORDER BY "id"',
            rid,
        )
    )


def fire(client: TestClient, clock: Clock, moment: dt.datetime) -> int:
    clock.set(moment)
    return int(run(client, tick, client.app.state))  # type: ignore[attr-defined]


def inbox(browser: Browser) -> str:
    """The signed-in user's inbox page (sign in again before switching users: one cookie jar)."""
    page = browser.get("/inbox")
    assert page.status_code == 200
    return str(page.text)


def test_reminders_overdue_and_escalation_follow_the_clock(
    site: tuple[TestClient, Path, Clock],
) -> None:
    client, _, clock = site
    rid = submit(who(site, "deputy_li"), "关于学校周边交通安全的建议")
    staff = who(site, "lc_staff")
    assert "新的代表建议：关于学校周边交通安全的建议" in inbox(staff)  # staff told at once
    review = [t for t in timers(client, rid) if t["state"] == "review"]
    assert [t["kind"] for t in review] == ["overdue"]  # 初审: 5 working days, overdue only
    assign(staff, rid, DUE)
    rows = timers(client, rid)
    assert {(t["state"], t["status"]) for t in rows if t["state"] == "review"} == {
        ("review", "cancelled")
    }  # leaving 初审 cancelled its deadline
    handling = [t for t in rows if t["state"] == "handling" and t["task_id"] is None]
    assert [(t["kind"], t["before"]) for t in handling] == [
        ("remind", 7),
        ("remind", 1),
        ("overdue", None),
    ]

    assert fire(client, clock, local(2026, 3, 13, 8, 59)) == 0
    assert "到期" not in inbox(who(site, "lc_edu"))
    assert fire(client, clock, local(2026, 3, 13, 9, 0)) == 1  # 7 days before: 09:00
    assert fire(client, clock, local(2026, 3, 13, 9, 5)) == 0  # never twice
    for login in ("lc_edu", "lc_transport"):  # the handlers: lead and co departments
        page = inbox(who(site, login))
        assert "将于 2026-03-20 到期" in page
        assert page.count("将于 2026-03-20 到期") == 1
    assert "将于 2026-03-20 到期" not in inbox(who(site, "lc_staff"))

    due_at, late = run(client, deadlines, client.app.state, "suggestions.suggestion", [rid])[rid]
    assert due_at.astimezone(clock.now.tzinfo) == local(2026, 3, 20, 23, 59, 59)
    assert late is False
    assert fire(client, clock, local(2026, 3, 20, 23, 59, 59)) == 1  # only the 1-day reminder
    assert fire(client, clock, local(2026, 3, 21, 0, 0, 1)) == 2  # overdue notice + escalation
    for login in ("lc_staff", "lc_leader"):  # staff and supervisor, one message each
        page = inbox(who(site, login))
        assert page.count("建议办理超期：关于学校周边交通安全的建议") == 1
    record = who(site, "lc_staff").get(f"/s/suggestions/r/suggestion/{rid}")
    assert "督办中" in record.text  # escalated by the system (overdue.fire: supervise)
    rows = timers(client, rid)
    assert {t["status"] for t in rows if t["state"] == "handling" and t["task_id"] is None} == {
        "fired"
    }
    assert [t["status"] for t in rows if t["kind"] == "fire"] == ["fired"]
    supervision = [t for t in rows if t["state"] == "supervision" and t["kind"] == "overdue"]
    assert len(supervision) == 1  # 督办: a new deadline of 15 working days
    cal = calendar_of(client.app.state)  # type: ignore[attr-defined]
    expected = cal.add(dt.date(2026, 3, 21), 15, working=True)
    found, late = run(client, deadlines, client.app.state, "suggestions.suggestion", [rid])[rid]
    assert found.astimezone(clock.now.tzinfo).date() == expected
    assert late is False
    assert fire(client, clock, local(2026, 3, 21, 0, 5)) == 0


def test_a_reply_in_time_cancels_the_overdue_timer(site: tuple[TestClient, Path, Clock]) -> None:
    client, _, clock = site
    rid = submit(who(site, "deputy_li"), "关于增设公交站台的建议")
    staff = who(site, "lc_staff")
    assign(staff, rid, DUE, co="")
    run(
        client,
        _leave_and_enter,
        client.app.state,  # type: ignore[attr-defined]
        rid,
    )
    assert fire(client, clock, local(2026, 3, 25)) == 0  # nothing pending any more
    assert {t["status"] for t in timers(client, rid) if t["state"] == "handling"} == {"cancelled"}
    assert "超期" not in inbox(who(site, "lc_staff"))  # signed in again: the clock moved


async def _leave_and_enter(app_state: Any, rid: int) -> None:
    """The record moves on before its deadline (as the engine does after the replies)."""
    from runtime.engine.engine import fire_system

    assert await fire_system(app_state, "suggestions.suggestion", rid, "replied_all")


@pytest.mark.parametrize("scheduler", [3600.0])
def test_timers_due_while_the_app_was_down_fire_at_start_up(
    db_url: str | None, tmp_path: Path, scheduler: float
) -> None:
    clock = Clock(local(2026, 3, 2, 10, 0))
    with started(tmp_path, db_url, clock) as client:
        rid = submit(Browser(client, tmp_path).login("deputy_li"), "关于停机期间到期提醒的建议")
        assign(Browser(client, tmp_path).login("lc_staff"), rid, DUE)
    clock.set(local(2026, 3, 22, 8, 0))  # the app was down over the deadline
    with started(tmp_path, db_url, clock, scheduler_seconds=scheduler) as client:
        rows = run(
            client,
            query,
            client.app.state,  # type: ignore[attr-defined]
            'SELECT "kind", "state", "status" FROM "yidi_timer" WHERE "record_id" = ? '
            'AND "state" = \'handling\' AND "task_id" IS NULL',
            rid,
        )
        assert {r["status"] for r in rows} == {"fired"}  # fired by the start-up tick
        staff = Browser(client, tmp_path).login("lc_staff")
        assert "建议办理超期：关于停机期间到期提醒的建议" in inbox(staff)
        assert "督办中" in staff.get(f"/s/suggestions/r/suggestion/{rid}").text


def test_a_task_deadline_reminds_its_assignee(site: tuple[TestClient, Path, Clock]) -> None:
    """会签: each co-signer's task is due 7 days after it opens, with a reminder 1 day before."""
    client, _, clock = site
    deputy = who(site, "deputy_li")
    zhang = run(
        client,
        query,
        client.app.state,  # type: ignore[attr-defined]
        'SELECT "id" FROM "yidi_user" WHERE "login" = \'deputy_zhang\'',
    )[0]["id"]
    response = deputy.post(
        "/s/suggestions/f/joint",
        {
            "_step": "2",
            "title": "关于联名增设口袋公园的建议",
            "category": "城乡建设",
            "session": "闭会期间",
            "body": "这是一条联名建议，用于测试会签任务的办理期限与提醒。",
            "cosigners": [str(zhang)],
        },
    )
    assert response.status_code == 303, response.text
    rid = int(str(response.headers["location"]).split("?")[0].rstrip("/").rsplit("/", 1)[1])
    rows = [t for t in timers(client, rid) if t["task_id"] is not None]
    assert [(t["state"], t["kind"], t["before"]) for t in rows] == [
        ("cosign", "remind", 1),
        ("cosign", "overdue", None),
    ]
    task = run(
        client,
        query,
        client.app.state,  # type: ignore[attr-defined]
        'SELECT "due_at" FROM "yidi_task" WHERE "id" = ?',
        rows[0]["task_id"],
    )[0]
    assert task["due_at"] is not None  # the to-do page shows the task's deadline
    assert fire(client, clock, local(2026, 3, 8, 9, 0)) == 1
    assert "将于 2026-03-09 到期" in inbox(who(site, "deputy_zhang"))
    assert "将于 2026-03-09 到期" not in inbox(who(site, "deputy_li"))
    due, late = run(client, deadlines, client.app.state, "suggestions.suggestion", [rid])[rid]  # type: ignore[attr-defined]
    assert due.astimezone(clock.now.tzinfo).date() == dt.date(2026, 3, 9) and late is False
    assert fire(client, clock, local(2026, 3, 10, 0, 0, 1)) == 1  # overdue: marked, nobody told
    due, late = run(client, deadlines, client.app.state, "suggestions.suggestion", [rid])[rid]  # type: ignore[attr-defined]
    assert late is True


async def _extend(app_state: Any, rid: int, due: dt.date, actor_login: str) -> None:
    """Staff extend the due date while the suggestion is in 办理中 (an edit, not a transition)."""
    store = app_state.store
    rows = await store.db().execute_query_dict(
        f'SELECT "id" FROM "yidi_user" WHERE "login" = \'{actor_login}\''
    )
    record = await store.get("suggestions.suggestion", rid)
    await store.update(
        "suggestions.suggestion",
        rid,
        {"due": due},
        actor=int(rows[0]["id"]),
        expected_version=record.version,
    )


def test_extending_the_due_date_moves_the_deadline(site: tuple[TestClient, Path, Clock]) -> None:
    client, _, clock = site
    rid = submit(who(site, "deputy_li"), "关于延长办理期限的建议")
    assign(who(site, "lc_staff"), rid, DUE)
    clock.set(local(2026, 3, 19, 10, 0))  # after the 7-day reminder time, before the deadline
    run(client, _extend, client.app.state, rid, dt.date(2026, 4, 30), "lc_staff")  # type: ignore[attr-defined]
    live = [t for t in timers(client, rid) if t["state"] == "handling" and t["status"] == "pending"]
    assert [(t["kind"], t["before"]) for t in live if t["task_id"] is None] == [
        ("remind", 7),
        ("remind", 1),
        ("overdue", None),
    ]
    assert fire(client, clock, local(2026, 3, 21, 0, 0, 1)) == 0  # the old deadline is gone
    due, late = run(client, deadlines, client.app.state, "suggestions.suggestion", [rid])[rid]  # type: ignore[attr-defined]
    assert due.astimezone(clock.now.tzinfo).date() == dt.date(2026, 4, 30) and late is False
    assert fire(client, clock, local(2026, 4, 23, 9, 0)) == 1  # 7 days before the new date
