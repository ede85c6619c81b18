"""Two `yidi serve` processes on one fresh PostgreSQL database, both running the scheduler:
every due timer fires exactly once — one overdue notice per person, one escalation per record —
and both processes take part."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from runtime.timers import on_enter
from tests.test_serve import free_port, wait_up
from tests.timerkit import Clock, local, run, started

ROOT = Path(__file__).resolve().parent.parent
ENTITY = "suggestions.suggestion"
RECORDS = 40
pytestmark = pytest.mark.postgres


async def _handling(app_state: Any, n: int) -> None:
    """``n`` suggestions in 办理中 with a due date; their deadlines scheduled as the engine would."""
    store = app_state.store
    rows = await store.db().execute_query_dict(
        'SELECT "id" FROM "yidi_user" WHERE "login" = \'deputy_li\''
    )
    for i in range(n):
        record = await store.create(
            ENTITY,
            {
                "title": f"多进程定时器测试建议{i:03d}",
                "category": "教育",
                "body": "用于测试多进程定时器只触发一次的建议内容。",
                "lead": "lc_jyj",
                "due": dt.date(2026, 3, 20),
            },
            actor=int(rows[0]["id"]),
            org="lc_wuma_st",
            state="handling",
        )
        await on_enter(app_state, ENTITY, record, "handling")


async def sql(dsn: str, statement: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(statement, *args))
    finally:
        await conn.close()


def test_each_due_timer_fires_exactly_once_across_two_processes(
    tmp_path: Path, pg_dsn: str
) -> None:
    with started(tmp_path, pg_dsn, Clock(local(2026, 3, 2, 10, 0))) as client:
        run(client, _handling, client.app.state, RECORDS)  # type: ignore[attr-defined]
    timers = asyncio.run(sql(pg_dsn, 'SELECT "id", "kind" FROM "yidi_timer"'))
    assert sorted({r["kind"] for r in timers}) == ["overdue", "remind"]
    assert len(timers) == RECORDS * 3  # two reminders and the overdue moment each
    # nothing is due until a common moment a little ahead of both processes' clocks
    asyncio.run(sql(pg_dsn, 'UPDATE "yidi_timer" SET "fire_at" = now() + interval \'1 hour\''))
    env = {
        **os.environ,
        "DATABASE_URL": pg_dsn,
        "YIDI_MANIFEST": str(ROOT / "scenarios.yaml"),
        "YIDI_DATA_DIR": str(tmp_path),
        "YIDI_SCHEDULER_SECONDS": "0.2",
    }
    ports = [free_port(), free_port()]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "runtime.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    try:
        for port, process in zip(ports, processes, strict=True):
            wait_up(f"http://127.0.0.1:{port}", process)
        asyncio.run(
            sql(pg_dsn, 'UPDATE "yidi_timer" SET "fire_at" = now() + interval \'1 second\'')
        )
        for _ in range(300):  # both loops run every 0.2 s; wait for them to drain the table
            pending = asyncio.run(
                sql(
                    pg_dsn,
                    'SELECT count(*) AS n FROM "yidi_timer" '
                    "WHERE \"status\" = 'pending' AND \"state\" = 'handling'",
                )
            )
            if pending[0]["n"] == 0:
                break
            time.sleep(0.2)
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
            if process.stdout:
                process.stdout.close()

    rows = asyncio.run(
        sql(pg_dsn, 'SELECT "kind", "status", "lease_owner", "state" FROM "yidi_timer"')
    )
    later = [r for r in rows if r["state"] == "supervision"]  # 督办's own new deadline
    assert {(r["kind"], r["status"]) for r in later} == {("overdue", "pending")}
    assert len(later) == RECORDS
    rows = [r for r in rows if r["state"] == "handling"]
    assert {(r["kind"], r["status"]) for r in rows} == {
        ("remind", "fired"),
        ("overdue", "fired"),
        ("fire", "fired"),
    }
    assert sum(r["kind"] == "fire" for r in rows) == RECORDS  # one escalation queued per record
    owners = {r["lease_owner"] for r in rows}
    assert len(owners) == 2, owners  # both processes fired timers
    notices = asyncio.run(
        sql(
            pg_dsn,
            'SELECT "source", "user_id", count(*) AS n FROM "yidi_message" '
            'WHERE "event" = \'overdue.handling\' GROUP BY "source", "user_id"',
        )
    )
    assert len(notices) == RECORDS * 2  # staff and supervisor (lc_staff, lc_leader) per record
    assert {r["n"] for r in notices} == {1}  # … each exactly once
    moves = asyncio.run(
        sql(
            pg_dsn,
            'SELECT "record_id", count(*) AS n FROM "yidi_change" '
            'WHERE "action" = \'transition\' AND "note" LIKE \'supervise%\' GROUP BY "record_id"',
        )
    )
    assert len(moves) == RECORDS and {r["n"] for r in moves} == {1}  # one escalation each
    states = asyncio.run(
        sql(pg_dsn, 'SELECT "state", count(*) AS n FROM "suggestions__suggestion" GROUP BY "state"')
    )
    assert {r["state"]: r["n"] for r in states} == {"supervision": RECORDS}
