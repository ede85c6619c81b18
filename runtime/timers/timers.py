"""The timer table and the hooks the workflow engine calls.

A state's ``deadline:`` (or its tasks' ``deadline:``) becomes rows of
``yidi_timer`` when the record enters the state (or a task opens): one per
reminder and one for the overdue moment. The scheduler fires them; leaving
the state (closing the task) cancels what has not fired yet and closes the
deadline, so lists and the to-do queue stop showing it.

``status``: ``pending`` → ``fired``, or ``cancelled`` (left the state first),
or ``failed`` (an escalation that kept failing). ``kind``: ``remind``,
``overdue``, or ``fire`` (the system transition an overdue deadline takes,
retried on its own so a failing escalation never loses the overdue notice).
``lease_owner``/``lease_until`` say which process holds a due timer while
it fires; after firing ``lease_owner`` stays as the record of who fired it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import tortoise.fields as tf
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from runtime.model import Entity
from runtime.storage.columns import IsoDatetimeField, decode, encode
from runtime.storage.rowio import CHUNK, insert_rows
from runtime.storage.sql import P, Sql
from runtime.timers.calendar import calendar_of
from runtime.timers.due import OVERDUE, Planned, plan

PENDING, FIRED, CANCELLED, FAILED = "pending", "fired", "cancelled", "failed"
FIRE = "fire"
TABLE = "yidi_timer"
COLUMNS = (
    "scenario",
    "entity",
    "record_id",
    "task_id",
    "state",
    "kind",
    "status",
    "due_at",
    "fire_at",
    "before",
    "mark",
    "action",
    "attempts",
    "created_at",
)


class Timer(Model):
    id = tf.BigIntField(primary_key=True)
    scenario = tf.CharField(max_length=64)
    entity = tf.CharField(max_length=64)
    record_id = tf.BigIntField()
    task_id = tf.BigIntField(null=True)
    state = tf.CharField(max_length=64)
    kind = tf.CharField(max_length=16)  # remind | overdue | fire
    status = tf.CharField(max_length=16, default=PENDING)
    due_at = IsoDatetimeField()
    fire_at = IsoDatetimeField()
    fired_at = IsoDatetimeField(null=True)
    closed_at = IsoDatetimeField(null=True)  # the record left the state / the task closed
    before = tf.IntField(null=True)  # a reminder's days before the deadline
    mark = tf.BooleanField(default=True)  # overdue: shown as overdue in lists and to-dos
    action = tf.CharField(max_length=64, null=True)  # fire: the system transition
    lease_owner = tf.CharField(max_length=128, null=True)
    lease_until = IsoDatetimeField(null=True)
    attempts = tf.IntField(default=0)
    error = tf.TextField(null=True)
    created_at = IsoDatetimeField()

    class Meta:
        table = TABLE
        indexes = (("status", "fire_at"), ("scenario", "entity", "record_id"), ("task_id",))


__models__ = [Timer]


def now_of(app_state: Any) -> dt.datetime:
    """The app's time: ``app.state.clock()`` when a test set one, else the wall clock (UTC)."""
    clock = getattr(app_state, "clock", None)
    moment: dt.datetime = clock() if clock else dt.datetime.now(dt.UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def entity_of(app_state: Any, entity: Entity | str) -> Entity:
    if isinstance(entity, Entity):
        return entity
    found: Entity | None = app_state.deployment.entity(entity)
    if found is None:
        raise ValueError(f"unknown entity {entity!r}")
    return found


def state_spec(entity: Entity, state: str) -> dict[str, Any]:
    wf = entity.workflow
    spec = wf.states.get(state) if wf is not None else None
    return dict(spec) if isinstance(spec, Mapping) else {}


def deadline_spec(entity: Entity, state: str, *, task: bool = False) -> dict[str, Any] | None:
    """The ``deadline:`` of a state, or of its tasks."""
    spec = state_spec(entity, state)
    if task:
        spec = dict(spec.get("tasks") or {})
    found = spec.get("deadline")
    return dict(found) if isinstance(found, Mapping) else None


def _field(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)


def _moment(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    found: dt.datetime = decode("datetime", value)
    return found


async def _insert(
    db: BaseDBAsyncClient,
    pg: bool,
    entity: Entity,
    record_id: int,
    state: str,
    planned: Sequence[Planned],
    now: dt.datetime,
    *,
    task_id: int | None = None,
    mark: bool = True,
) -> None:
    rows = [
        [
            entity.scenario,
            entity.id,
            int(record_id),
            task_id,
            state,
            p.kind,
            PENDING,
            encode("datetime", p.due_at, pg),
            encode("datetime", p.fire_at, pg),
            p.before,
            encode("bool", mark, pg),
            None,
            0,
            encode("datetime", now, pg),
        ]
        for p in planned
    ]
    await insert_rows(db, pg, TABLE, COLUMNS, rows)


async def _close(db: BaseDBAsyncClient, pg: bool, now: dt.datetime, where: Sql) -> int:
    """Cancel what has not fired and close the deadline (never an escalation in flight)."""
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "status" = CASE WHEN "status" = ', P(PENDING))
    sql.add(" THEN ", P(CANCELLED), ' ELSE "status" END, "closed_at" = ')
    sql.add(P(encode("datetime", now, pg)), " WHERE ", where)
    sql.add(' AND "closed_at" IS NULL AND "kind" <> ', P(FIRE))
    count, _ = await db.execute_query(*sql.render())
    return int(count or 0)


def of_record(pg: bool, entity: Entity, record_id: int) -> Sql:
    """The WHERE part naming one record's timers."""
    sql = Sql(pg, '"scenario" = ', P(entity.scenario), ' AND "entity" = ', P(entity.id))
    return sql.add(' AND "record_id" = ', P(int(record_id)))


async def on_enter(
    app_state: Any, entity: Entity | str, record: Mapping[str, Any], state: str
) -> int:
    """Schedule the deadline of ``state`` for a record that just entered it; the timers made."""
    ent = entity_of(app_state, entity)
    store = app_state.store
    db, pg = store.db(), store.pg
    now = now_of(app_state)
    record_id = int(record["id"])
    await _close(db, pg, now, of_record(pg, ent, record_id).add(' AND "task_id" IS NULL'))
    spec = deadline_spec(ent, state)
    if spec is None:
        return 0
    planned = plan(spec, record, now, calendar_of(app_state))
    mark = (spec.get("overdue") or {}).get("mark", True) is not False
    await _insert(db, pg, ent, record_id, state, planned, now, mark=mark)
    return len(planned)


async def scheduled(app_state: Any, entity: Entity) -> set[int]:
    """Records of ``entity`` that have state deadlines planned (open or done)."""
    pg = app_state.store.pg
    sql = Sql(pg, f'SELECT DISTINCT "record_id" FROM "{TABLE}" WHERE "scenario" = ')
    sql.add(P(entity.scenario), ' AND "entity" = ', P(entity.id), ' AND "task_id" IS NULL')
    rows = await app_state.store.db().execute_query_dict(*sql.render())
    return {int(r["record_id"]) for r in rows}


async def field_changed(
    app_state: Any,
    entity: Entity,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """A store write hook: an edit of the date a deadline reads (e.g. staff extend ``due``
    while the record is in 办理中) schedules that deadline again from now: the state's own
    deadline, and the deadlines of the state's open tasks (``tasks.deadline.field``)."""
    if not before or not after or entity.workflow is None:
        return
    state = after.get("state")
    if not state or before.get("state") != state:
        return  # a transition: the engine tells on_leave / on_enter itself
    spec = deadline_spec(entity, str(state))
    name = str(spec.get("field") or "") if spec else ""
    if name and before.get(name) != after.get(name):
        await on_enter(app_state, entity, after, str(state))
    task_spec = deadline_spec(entity, str(state), task=True)
    task_name = str(task_spec.get("field") or "") if task_spec else ""
    changed = {n for n in (name, task_name) if n and before.get(n) != after.get(n)}
    if changed:
        await _tasks_follow(app_state, entity, after, str(state), task_name in changed)


async def _tasks_follow(
    app_state: Any, entity: Entity, record: Mapping[str, Any], state: str, replan: bool
) -> int:
    """The open tasks of ``state`` take the edited date: their ``due_at`` (what the to-do page
    shows) and, when their own deadline reads the field (``replan``), their timers; the number
    of tasks rescheduled."""
    try:
        from runtime.engine.engine import field_due
        from runtime.engine.engine import state_spec as engine_state
        from runtime.engine.tasks import OPEN, Task
    except ImportError:  # the engine is not installed
        return 0
    tasks = await Task.filter(
        scenario=entity.scenario,
        entity=entity.id,
        record_id=int(record["id"]),
        state=state,
        status=OPEN,
    )
    if not tasks:
        return 0
    spec = engine_state(entity, state)
    task_spec = dict(spec.get("tasks") or {})
    due = field_due(entity, task_spec.get("deadline"), record) or field_due(
        entity, spec.get("deadline"), record
    )
    store = app_state.store
    db, pg = store.db(), store.pg
    now = now_of(app_state)
    deadline = deadline_spec(entity, state, task=True) if replan else None
    for task in tasks:
        if deadline is not None:
            await _close(db, pg, now, Sql(pg, '"task_id" = ', P(int(task.id))))
            planned = plan(deadline, record, now, calendar_of(app_state))
            mark = (deadline.get("overdue") or {}).get("mark", True) is not False
            await _insert(
                db, pg, entity, int(record["id"]), state, planned, now, task_id=task.id, mark=mark
            )
    await Task.filter(id__in=[t.id for t in tasks], status=OPEN).update(due_at=due)
    return len(tasks)


def watch_fields(app_state: Any) -> None:
    """Follow edits of deadline fields (once per store)."""
    store = app_state.store
    hooks = getattr(store, "write_hooks", None)
    if hooks is None or getattr(store, "_deadline_hook", None) is not None:
        return

    async def hook(
        entity: Entity, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> None:
        await field_changed(app_state, entity, before, after)

    store._deadline_hook = hook
    hooks.append(hook)


async def on_leave(app_state: Any, entity: Entity | str, record_id: int) -> int:
    """The record left its state: cancel its pending timers, close its deadlines."""
    ent = entity_of(app_state, entity)
    store = app_state.store
    pg = store.pg
    return await _close(store.db(), pg, now_of(app_state), of_record(pg, ent, record_id))


async def on_task_open(
    app_state: Any, entity: Entity | str, record: Mapping[str, Any], task: Any
) -> int:
    """Schedule the deadline of a task (its state's ``tasks.deadline``), from the task's opening."""
    ent = entity_of(app_state, entity)
    state = str(_field(task, "state") or record.get("state") or "")
    spec = deadline_spec(ent, state, task=True)
    task_id = int(_field(task, "id"))
    if spec is None:
        return 0
    store = app_state.store
    db, pg = store.db(), store.pg
    now = now_of(app_state)
    opened = _moment(_field(task, "created_at")) or now
    planned = plan(spec, record, opened, calendar_of(app_state))
    mark = (spec.get("overdue") or {}).get("mark", True) is not False
    await _insert(db, pg, ent, int(record["id"]), state, planned, now, task_id=task_id, mark=mark)
    due = next((p.due_at for p in planned if p.kind == OVERDUE), None)
    if due is not None and _field(task, "due_at") is None:
        await _set_task_due(task_id, due)
    return len(planned)


async def _set_task_due(task_id: int, due: dt.datetime) -> None:
    """Write the deadline on the engine's task row when it has none (the to-do page shows it)."""
    try:
        from runtime.engine.tasks import Task
    except ImportError:  # the engine is not installed
        return
    await Task.filter(id=task_id, due_at=None).update(due_at=due)


async def on_task_close(app_state: Any, task_id: int) -> int:
    store = app_state.store
    pg = store.pg
    where = Sql(pg, '"task_id" = ', P(int(task_id)))
    return await _close(store.db(), pg, now_of(app_state), where)


async def deadlines(
    app_state: Any, entity: Entity | str, record_ids: Sequence[int]
) -> dict[int, tuple[dt.datetime, bool]]:
    """record id → (its current deadline, overdue?) for lists and the to-do queue.

    The record's own deadline wins over its tasks'; among tasks the earliest.
    Overdue means the deadline passed (even before the scheduler's next tick)
    and the deadline marks overdue (``overdue.mark``, default true).
    """
    ent = entity_of(app_state, entity)
    store = app_state.store
    db, pg = store.db(), store.pg
    now = now_of(app_state)
    wanted = sorted({int(i) for i in record_ids})
    best: dict[int, tuple[bool, dt.datetime, bool]] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        sql = Sql(pg, 'SELECT "record_id", "task_id", "due_at", "fire_at", "status", "mark" ')
        sql.add(f'FROM "{TABLE}" WHERE "scenario" = ', P(ent.scenario), ' AND "entity" = ')
        sql.add(P(ent.id), ' AND "kind" = ', P(OVERDUE), ' AND "closed_at" IS NULL')
        sql.add(' AND "record_id" IN (').join([Sql(pg, P(i)) for i in part], ", ").add(")")
        rows = await db.execute_query_dict(*sql.render())
        for row in rows:
            due = decode("datetime", row["due_at"])
            fire_at = decode("datetime", row["fire_at"])
            late = bool(row["mark"]) and (row["status"] == FIRED or fire_at <= now)
            own = row["task_id"] is None
            rid = int(row["record_id"])
            held = best.get(rid)
            if held is None or (own, -due.timestamp()) > (held[0], -held[1].timestamp()):
                best[rid] = (own, due, late)
    return {rid: (due, late) for rid, (_, due, late) in best.items()}
