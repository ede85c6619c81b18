"""The lease that makes a timer fire once, on SQLite and PostgreSQL: a process whose lease ran
out loses the timer to another and writes nothing; a record that left its state while its timer
was being fired sends no notice; a failing escalation is retried with backoff, then recorded as
failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.timers import on_enter, on_leave
from runtime.timers.scheduler import LEASE, MAX_ATTEMPTS, claim, fire, tick
from tests.timerkit import Clock, local, query, run, started

ENTITY = "suggestions.suggestion"
OVERDUE_AT = local(2026, 3, 21, 0, 0, 1)


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Clock]]:
    url = str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None
    clock = Clock(local(2026, 3, 2, 10, 0))
    with started(tmp_path, url, clock) as client:
        yield client, clock


async def _handling(app_state: Any) -> int:
    store = app_state.store
    rows = await store.db().execute_query_dict(
        'SELECT "id" FROM "yidi_user" WHERE "login" = \'deputy_li\''
    )
    record = await store.create(
        ENTITY,
        {
            "title": "租约测试建议",
            "category": "教育",
            "body": "用于测试定时器租约的建议内容，足够长。",
            "lead": "lc_jyj",
            "due": dt.date(2026, 3, 20),
        },
        actor=int(rows[0]["id"]),
        org="lc_wuma_st",
        state="handling",
    )
    await on_enter(app_state, ENTITY, record, "handling")
    return int(record["id"])


def overdue_notices(client: TestClient) -> int:
    rows = run(
        client,
        query,
        client.app.state,  # type: ignore[attr-defined]
        'SELECT count(*) AS n FROM "yidi_message" WHERE "event" = \'overdue.handling\'',
    )
    return int(rows[0]["n"])


def test_a_process_whose_lease_ran_out_writes_nothing(site: tuple[TestClient, Clock]) -> None:
    client, _ = site
    state = client.app.state  # type: ignore[attr-defined]
    run(client, _handling, state)
    first = run(client, claim, state, OVERDUE_AT, "process-a")
    assert [r["kind"] for r in first] == ["remind", "remind", "overdue"]
    assert run(client, claim, state, OVERDUE_AT + dt.timedelta(seconds=5), "process-c") == []
    later = OVERDUE_AT + LEASE + dt.timedelta(seconds=1)
    second = run(client, claim, state, later, "process-b")  # a's lease expired: b takes over
    assert [r["id"] for r in second] == [r["id"] for r in first]
    overdue_a = next(r for r in first if r["kind"] == "overdue")
    assert run(client, fire, state, overdue_a, "process-a", OVERDUE_AT) is False
    assert overdue_notices(client) == 0  # a's notice was rolled back with its failed mark
    overdue_b = next(r for r in second if r["kind"] == "overdue")
    assert run(client, fire, state, overdue_b, "process-b", later) is True
    assert overdue_notices(client) == 2  # lc_staff and lc_leader, once
    assert run(client, fire, state, overdue_b, "process-b", later) is False  # never twice


def test_leaving_the_state_while_firing_sends_nothing(site: tuple[TestClient, Clock]) -> None:
    client, _ = site
    state = client.app.state  # type: ignore[attr-defined]
    rid = run(client, _handling, state)
    rows = run(client, claim, state, OVERDUE_AT, "process-a")
    run(client, on_leave, state, ENTITY, rid)  # e.g. the last reply arrived at that moment
    assert [run(client, fire, state, r, "process-a", OVERDUE_AT) for r in rows] == [False] * 3
    assert overdue_notices(client) == 0


def test_a_failing_escalation_is_retried_then_recorded(
    site: tuple[TestClient, Clock], monkeypatch: pytest.MonkeyPatch
) -> None:
    import runtime.engine.engine as engine

    calls: list[str] = []

    async def broken(app_state: Any, entity: Any, record_id: int, tid: str, **kw: Any) -> bool:
        calls.append(tid)
        raise RuntimeError("the engine is down")

    monkeypatch.setattr(engine, "fire_system", broken)
    client, clock = site
    state = client.app.state  # type: ignore[attr-defined]
    run(client, _handling, state)
    clock.set(OVERDUE_AT)
    assert run(client, tick, state) == 3  # both reminders and the overdue notice …
    assert overdue_notices(client) == 2  # … went out although its escalation failed
    assert calls == ["supervise"]
    moment = OVERDUE_AT
    for _ in range(MAX_ATTEMPTS + 2):
        moment += dt.timedelta(hours=2)  # past every backoff
        clock.set(moment)
        run(client, tick, state)
    assert calls == ["supervise"] * MAX_ATTEMPTS
    (row,) = run(
        client,
        query,
        state,
        'SELECT "status", "attempts", "error" FROM "yidi_timer" WHERE "kind" = \'fire\'',
    )
    assert (row["status"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert "the engine is down" in row["error"]
