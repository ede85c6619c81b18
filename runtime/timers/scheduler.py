"""The scheduler inside the app: fires due timers, and delivers the webhook outbox.

``tick(app_state, now)`` claims due timers with a lease in the database and
fires them. Claiming is one statement: ``UPDATE … SET lease_owner, lease_until
WHERE id IN (SELECT … due, lease free or expired … FOR UPDATE SKIP LOCKED)
RETURNING …`` on PostgreSQL (SQLite, one writer at a time, runs the same
statement without the row locks). Each timer is then marked fired in the
same transaction as its effect (the inbox messages and webhook outbox rows
of its notice), and only while this process still holds its lease: with
several processes on one database every due timer fires exactly once, and a
process that died holding a lease leaves the timer to another once the lease
expires.

An overdue deadline that escalates (``overdue.fire``) queues a ``fire``
timer in that same transaction; the engine's idempotent ``fire_system`` takes
the transition, retried with backoff when it fails, recorded as ``failed``
after ``MAX_ATTEMPTS``.

The app runs ``tick`` once at start-up (timers that fell due while it was
down fire then) and every ``settings.scheduler_seconds`` after
(``YIDI_SCHEDULER_SECONDS``; 0 turns the scheduler off).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from typing import Any

from tortoise.transactions import in_transaction

from runtime.storage.columns import decode, encode
from runtime.storage.rowio import insert_rows
from runtime.storage.sql import P, Sql
from runtime.timers.due import OVERDUE, REMIND
from runtime.timers.timers import (
    COLUMNS,
    FAILED,
    FIRE,
    FIRED,
    PENDING,
    TABLE,
    deadline_spec,
    entity_of,
    now_of,
    watch_fields,
)

log = logging.getLogger("yidi.scheduler")

LEASE = dt.timedelta(seconds=60)
BATCH = 50
ROUNDS = 40  # batches per tick at most (the next tick takes the rest)
MAX_ATTEMPTS = 5
BACKOFF = dt.timedelta(seconds=30)


def owner_of(app_state: Any) -> str:
    """This process's name in leases: host, pid and a random part."""
    found = getattr(app_state, "scheduler_owner", None)
    if not found:
        found = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        app_state.scheduler_owner = found
    return str(found)


def backoff(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, 4 min … at most an hour."""
    wait: dt.timedelta = BACKOFF * (2 ** max(0, attempts - 1))
    return min(wait, dt.timedelta(hours=1))


async def claim(
    app_state: Any, now: dt.datetime, owner: str, limit: int = BATCH
) -> list[dict[str, Any]]:
    """Lease up to ``limit`` due timers to ``owner``; the rows this process now holds."""
    store = app_state.store
    pg = store.pg
    moment = encode("datetime", now, pg)
    pick = Sql(pg, f'SELECT "id" FROM "{TABLE}" WHERE "status" = ', P(PENDING))
    pick.add(' AND "fire_at" <= ', P(moment))
    pick.add(' AND ("lease_until" IS NULL OR "lease_until" < ', P(moment), ")")
    pick.add(' ORDER BY "fire_at", "id" LIMIT ', P(int(limit)))
    if pg:
        pick.add(" FOR UPDATE SKIP LOCKED")
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "lease_owner" = ', P(owner), ', "lease_until" = ')
    sql.add(P(encode("datetime", now + LEASE, pg)), ', "attempts" = "attempts" + 1')
    sql.add(' WHERE "id" IN (', pick, ") RETURNING *")
    rows = await store.db().execute_query_dict(*sql.render())
    return sorted((dict(r) for r in rows), key=lambda r: (str(r["fire_at"]), int(r["id"])))


async def _mark_fired(conn: Any, pg: bool, timer_id: int, owner: str, now: dt.datetime) -> bool:
    """Fired, if this process still holds the lease and nobody cancelled it meanwhile."""
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "status" = ', P(FIRED), ', "fired_at" = ')
    sql.add(P(encode("datetime", now, pg)), ', "error" = NULL WHERE "id" = ', P(timer_id))
    sql.add(' AND "lease_owner" = ', P(owner), ' AND "status" = ', P(PENDING))
    count, _ = await conn.execute_query(*sql.render())
    return bool(count)


async def _release(
    app_state: Any, row: dict[str, Any], owner: str, now: dt.datetime, error: str
) -> None:
    """A failed attempt: retry after a backoff, or give up after ``MAX_ATTEMPTS``."""
    store = app_state.store
    pg = store.pg
    attempts = int(row["attempts"])
    status = FAILED if attempts >= MAX_ATTEMPTS else PENDING
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "status" = ', P(status), ', "lease_until" = ')
    sql.add(P(encode("datetime", now + backoff(attempts), pg)), ', "error" = ', P(error[:2000]))
    sql.add(' WHERE "id" = ', P(int(row["id"])), ' AND "lease_owner" = ', P(owner))
    sql.add(' AND "status" = ', P(PENDING))
    await store.db().execute_query(*sql.render())


async def _notice(app_state: Any, row: dict[str, Any], owner: str, now: dt.datetime) -> bool:
    """A reminder or an overdue notice: marked fired with its messages, in one transaction."""
    from runtime.notify import emit

    store = app_state.store
    pg = store.pg
    entity = entity_of(app_state, f"{row['scenario']}.{row['entity']}")
    record = await store.get(entity, int(row["record_id"]))
    task = await _task(row["task_id"])
    state, kind = str(row["state"]), str(row["kind"])
    spec = deadline_spec(entity, state, task=row["task_id"] is not None) or {}
    async with in_transaction(store.connection_name) as conn:
        if not await _mark_fired(conn, pg, int(row["id"]), owner, now):
            return False
        if record is not None:
            context = {
                "due_at": decode("datetime", row["due_at"]),
                "before": row["before"],
                "task": task,
                "timer_id": int(row["id"]),
            }
            await emit(
                app_state,
                entity,
                record,
                f"{kind}.{state}",
                actor=None,
                conn=conn,
                context=context,
                source=f"timer:{row['id']}",
            )
        action = (spec.get("overdue") or {}).get("fire") if kind == OVERDUE else None
        if action and record is not None and record.get("state") == state:
            await _queue_fire(conn, pg, row, str(action), now)
    return True


async def _queue_fire(
    conn: Any, pg: bool, row: dict[str, Any], action: str, now: dt.datetime
) -> None:
    moment = encode("datetime", now, pg)
    values = [
        row["scenario"],
        row["entity"],
        row["record_id"],
        row["task_id"],
        row["state"],
        FIRE,
        PENDING,
        row["due_at"],
        moment,
        None,  # before
        encode("bool", False, pg),
        action,
        0,
        moment,
    ]
    await insert_rows(conn, pg, TABLE, COLUMNS, [values])


async def _escalate(app_state: Any, row: dict[str, Any], owner: str, now: dt.datetime) -> bool:
    """The system transition of an overdue deadline, through the engine (idempotent)."""
    from runtime.engine.engine import fire_system

    entity = entity_of(app_state, f"{row['scenario']}.{row['entity']}")
    reason = f"overdue.{row['state']}"
    await fire_system(app_state, entity, int(row["record_id"]), str(row["action"]), reason=reason)
    store = app_state.store
    async with in_transaction(store.connection_name) as conn:
        return await _mark_fired(conn, store.pg, int(row["id"]), owner, now)


async def _task(task_id: Any) -> Any:
    if task_id is None:
        return None
    try:
        from runtime.engine.tasks import Task
    except ImportError:
        return None
    return await Task.get_or_none(id=int(task_id))


async def fire(app_state: Any, row: dict[str, Any], owner: str, now: dt.datetime) -> bool:
    """Fire one claimed timer; False when it was not this process's to fire after all."""
    try:
        if row["kind"] == FIRE:
            return await _escalate(app_state, row, owner, now)
        if row["kind"] in (REMIND, OVERDUE):
            return await _notice(app_state, row, owner, now)
        raise ValueError(f"unknown timer kind {row['kind']!r}")
    except Exception as exc:
        log.exception("timer %s failed", row.get("id"))
        await _release(app_state, row, owner, now, f"{type(exc).__name__}: {exc}")
        return False


async def tick(app_state: Any, now: dt.datetime | None = None) -> int:
    """Fire every due timer (and deliver due webhook messages); the number of timers fired.

    One tick handles at most ``ROUNDS`` × ``BATCH`` timers; the loop runs the next
    at once when more are due (after a long downtime), so start-up is never held long.
    """
    fired, _ = await run_tick(app_state, now)
    return fired


async def run_tick(app_state: Any, now: dt.datetime | None = None) -> tuple[int, bool]:
    """(timers fired, whether more may be due)."""
    now = now or now_of(app_state)
    owner = owner_of(app_state)
    fired = 0
    more = True
    for _ in range(ROUNDS):  # until nothing is due (an overdue notice may queue its escalation)
        rows = await claim(app_state, now, owner)
        if not rows:
            more = False
            break
        for row in rows:
            fired += int(await fire(app_state, row, owner, now))
    from runtime.notify.webhook import deliver_due

    await deliver_due(app_state, now, owner)
    return fired, more


class Scheduler:
    """The loop of one app process, started and stopped by the app's lifespan."""

    def __init__(self, app_state: Any) -> None:
        self.app_state = app_state
        self.every = float(getattr(app_state.settings, "scheduler_seconds", 30.0) or 0)
        self.task: asyncio.Task[None] | None = None
        self.started_with_more = False

    @property
    def enabled(self) -> bool:
        return self.every > 0

    async def start(self) -> None:
        watch_fields(self.app_state)  # deadlines follow edits of their date field
        if not self.enabled:
            return
        # what fell due while the app was down fires now (a bounded batch; the loop does the rest)
        self.started_with_more = await self._safe_tick()
        self.task = asyncio.create_task(self._loop(), name="yidi-scheduler")

    async def _safe_tick(self) -> bool:
        """One tick; whether more timers may be due right now."""
        try:
            _, more = await run_tick(self.app_state)
            return more
        except Exception:
            log.exception("scheduler tick failed")
            return False

    async def _loop(self) -> None:
        more = self.started_with_more
        while True:
            if not more:
                await asyncio.sleep(self.every)
            more = await self._safe_tick()

    async def stop(self) -> None:
        if self.task is None:
            return
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        self.task = None
