"""Taking transitions: checks, the transition form, effects, tasks, one atomic write.

``take`` is what a person does from a record page or the API. In order it
checks the record's version (a stale one is a conflict: "changed by X
meanwhile"), that the record is in a source state, that the viewer is an
actor (a role over the record's org unit, the owner, the current handler, a
user/org field), the transition form (the fields' own rules, ``require``,
``comment: required``) and the guard on the record as it would be after the
form. Then ``_move`` writes, in one transaction: the form's values, the
transition's and the target state's ``set``, the new state (optimistic lock on
the row version: of 20 simultaneous attempts exactly one succeeds), the old
state's open tasks cancelled and the target state's tasks opened. Only after
the commit are the timers and notifications told (``hooks``).

``fire_system`` is the same move for transitions taken by the system (task
rules, timers); it is idempotent: once the record has left the source
states it answers False.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from runtime import workflow
from runtime.access import Viewer
from runtime.engine import hooks
from runtime.engine.tasks import OPEN, Task
from runtime.expr import Context
from runtime.model import Entity, Transition, text
from runtime.storage.result import Conflict, Record
from runtime.web import formdata
from runtime.web.display import ZONE
from runtime.web.i18n import t

COMMENT_MAX = 2000


@dataclass
class Result:
    """What became of an action: ``ok``, or an HTTP status with a stable code and messages."""

    ok: bool
    status: int = 200
    code: str = "ok"  # ok | conflict | invalid | forbidden | not_found
    message: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    record: Record | None = None
    by: int | None = None  # conflict: who changed it meanwhile

    @classmethod
    def fail(cls, status: int, code: str, message: str, **kw: Any) -> Result:
        return cls(False, status, code, message, **kw)


# ------------------------------------------------------------------ helpers


def now_of(app_state: Any) -> datetime:
    """The app's clock (tests move ``app.state.clock``)."""
    clock = getattr(app_state, "clock", None)
    return clock() if clock else datetime.now(UTC)


def context_of(app_state: Any, viewer: Viewer | None) -> Context:
    moment = now_of(app_state)
    return Context(
        user_id=viewer.id if viewer else None,
        user_org=viewer.org if viewer else None,
        now=moment,
        today=moment.astimezone(ZONE).date(),
    )


def entity_of(app_state: Any, entity: Entity | str) -> Entity:
    if isinstance(entity, Entity):
        return entity
    found = app_state.deployment.entity(entity)
    if found is None:
        raise ValueError(f"unknown entity {entity!r}")
    return found  # type: ignore[no-any-return]


def state_spec(entity: Entity, state: str | None) -> dict[str, Any]:
    spec = entity.workflow.states.get(state or "") if entity.workflow else None
    return spec if isinstance(spec, dict) else {}


def tasks_spec(entity: Entity, state: str | None) -> dict[str, Any] | None:
    spec = state_spec(entity, state).get("tasks")
    return spec if isinstance(spec, dict) else None


def state_label(entity: Entity, state: str | None, locale: str) -> str:
    return text(state_spec(entity, state).get("label") or state or "", locale)


def ids(value: Any) -> list[Any]:
    if value in (None, "", []):
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


async def user_name(app_state: Any, user_id: int | None, locale: str) -> str:
    if user_id is None:
        return t("system", locale)
    names = (await app_state.store.labels(users={user_id})).get("user", {})
    return str(names.get(user_id) or t("someone", locale))


async def handlers(
    app_state: Any, entity: Entity | str, record_id: int
) -> tuple[set[int], set[str]]:
    """(user ids, org unit ids) of the record's current handlers: its open tasks' assignees."""
    ent = entity_of(app_state, entity)
    rows = await Task.filter(
        scenario=ent.scenario, entity=ent.id, record_id=int(record_id), status=OPEN
    ).values_list("assignee_user", "assignee_org")
    users = {int(u) for u, _ in rows if u is not None}
    orgs = {str(o) for _, o in rows if o is not None}
    return users, orgs


async def handlers_of(
    app_state: Any, entity: Entity | str, record_ids: list[int]
) -> dict[int, tuple[set[int], set[str]]]:
    """``handlers`` for a page of records in one query: record id → (user ids, org unit ids)."""
    ent = entity_of(app_state, entity)
    out: dict[int, tuple[set[int], set[str]]] = {int(i): (set(), set()) for i in record_ids}
    if not out:
        return out
    rows = await Task.filter(
        scenario=ent.scenario, entity=ent.id, record_id__in=sorted(out), status=OPEN
    ).values_list("record_id", "assignee_user", "assignee_org")
    for rid, user, org in rows:
        users, orgs = out[int(rid)]
        if user is not None:
            users.add(int(user))
        if org is not None:
            orgs.add(str(org))
    return out


async def conflict(app_state: Any, current: Record, locale: str) -> Result:
    by = current.get("updated_by")
    who = await user_name(app_state, by, locale) if by is not None else t("someone", locale)
    return Result.fail(
        409, "conflict", t("conflict_meanwhile", locale, who=who), record=current, by=by
    )


# ------------------------------------------------------------------ take


async def take(
    app_state: Any,
    entity: Entity | str,
    record_id: int,
    tid: str,
    *,
    viewer: Viewer,
    values: Mapping[str, Any] | None = None,
    comment: str | None = None,
    expected_version: int | None = None,
    ip: str | None = None,
    locale: str = "zh",
) -> Result:
    """A person takes transition ``tid`` of a record (see the module's docstring)."""
    ent = entity_of(app_state, entity)
    tr = ent.workflow.transitions.get(tid) if ent.workflow else None
    store = app_state.store
    record = await store.get(ent, int(record_id))
    if tr is None or record is None:
        return Result.fail(404, "not_found", t("not_found", locale))
    if "system" in tr.actors or viewer.anonymous:
        return Result.fail(403, "forbidden", t("wf_not_allowed", locale))
    if expected_version is not None and record.version != expected_version:
        return await conflict(app_state, record, locale)
    if not workflow.in_source(ent, tr, record.get("state")):
        return Result.fail(
            409,
            "conflict",
            t("wf_not_in_state", locale, state=state_label(ent, record.get("state"), locale)),
            record=record,
        )
    current = await handlers(app_state, ent, record.id)
    if not workflow.is_actor(app_state.access, ent, tr, viewer, record, current):
        return Result.fail(403, "forbidden", t("wf_not_allowed", locale))
    ctx = context_of(app_state, viewer)
    form = [fid for fid in tr.spec.get("form") or [] if fid in ent.fields]
    draft: dict[str, Any] = dict(record)
    sub = formdata.read(ent, form, dict(values or {}), locale)
    formdata.complete(ent, form, sub, draft, ctx, locale)
    for fid in tr.spec.get("require") or []:
        if fid not in sub.errors and draft.get(fid) in (None, "", []):
            sub.errors[fid] = t("required", locale)
    note = (comment or "").strip()
    mode = tr.spec.get("comment", "optional")
    if mode == "none":
        note = ""
    elif mode == "required" and not note:
        sub.errors["_comment"] = t("wf_comment_required", locale)
    if len(note) > COMMENT_MAX:
        sub.errors["_comment"] = t("wf_comment_long", locale, n=COMMENT_MAX)
    if sub.errors:
        return Result.fail(422, "invalid", t("form_has_errors", locale), fields=sub.errors)
    if not workflow.guard_holds(tr, ent, draft, ctx):
        if not workflow.guard_reads_form(tr, ent):
            return Result.fail(403, "forbidden", t("wf_guard_false", locale))
        read = [f for f in form if f in ent.compile(tr.spec["when"]).names]
        target = read[0] if len(read) == 1 else "_form"
        message = t("wf_guard_false", locale)
        return Result.fail(422, "invalid", message, fields={target: message})
    changes = {
        fid: draft.get(fid) for fid in form if ent.fields[fid].type not in formdata.FILE_TYPES
    }
    return await move(
        app_state,
        ent,
        record,
        tr,
        changes,
        actor=viewer.id,
        ctx=ctx,
        comment=note,
        ip=ip,
        locale=locale,
    )


async def fire_system(
    app_state: Any, entity: Entity | str, record_id: int, tid: str, *, reason: str | None = None
) -> bool:
    """The system takes ``tid`` (a task rule or a timer). False when it no longer applies."""
    ent = entity_of(app_state, entity)
    tr = ent.workflow.transitions.get(tid) if ent.workflow else None
    if tr is None:
        return False
    for _ in range(5):  # someone may edit the record at the same moment: read again and retry
        record = await app_state.store.get(ent, int(record_id))
        if record is None or not workflow.in_source(ent, tr, record.get("state")):
            return False
        ctx = context_of(app_state, None)
        if not workflow.guard_holds(tr, ent, record, ctx):
            return False
        result = await move(
            app_state, ent, record, tr, {}, actor=None, ctx=ctx, comment=reason or "", ip=None
        )
        if result.ok:
            return True
        if result.code != "conflict":
            return False
    return False


async def created(
    app_state: Any, entity: Entity | str, record: Mapping[str, Any], *, actor: int | None
) -> None:
    """A record was just created: its first state's tasks, timers and the ``created`` event."""
    ent = entity_of(app_state, entity)
    if ent.workflow is None:
        await hooks.emit(app_state, ent, record, "created", actor=actor)
        return
    state = str(record.get("state") or ent.workflow.initial)
    spec = tasks_spec(ent, state)
    opened: list[Task] = []
    if spec is not None:
        async with in_transaction(app_state.store.connection_name):
            opened = await open_tasks(app_state, ent, record, state, spec, now_of(app_state))
    await hooks.emit(app_state, ent, record, "created", actor=actor)
    await hooks.emit(app_state, ent, record, f"enter.{state}", actor=actor)
    await hooks.on_enter(app_state, ent, record, state)
    for task in opened:
        await hooks.on_task_open(app_state, ent, record, task)


async def backfill(app_state: Any) -> int:
    """Open the tasks and plan the deadlines of records that sit in a state without them
    (sample or imported records written straight to a state); the number of records done."""
    from runtime.storage.query import ListQuery
    from runtime.timers.timers import deadline_spec, scheduled

    store = app_state.store
    count = 0
    for ent in app_state.deployment.entities():
        wf = ent.workflow
        if wf is None:
            continue
        planned = await scheduled(app_state, ent)
        for state in wf.states:
            spec = tasks_spec(ent, state)
            if spec is None and deadline_spec(ent, state) is None:
                continue
            have = (
                set(
                    await Task.filter(
                        scenario=ent.scenario, entity=ent.id, state=state
                    ).values_list("record_id", flat=True)
                )
                if spec is not None
                else planned
            )
            async for rows in store.stream(ent, ListQuery(equals={"state": [state]})):
                for record in rows:
                    if record.id in have:
                        continue
                    opened: list[Task] = []
                    if spec is not None:
                        async with in_transaction(store.connection_name):
                            opened = await open_tasks(
                                app_state, ent, record, state, spec, now_of(app_state)
                            )
                    await hooks.on_enter(app_state, ent, record, state)
                    for task in opened:
                        await hooks.on_task_open(app_state, ent, record, task)
                    count += 1
    return count


# ------------------------------------------------------------------ the write


def audit_note(tid: str, comment: str) -> str:
    """The ``Change.note`` of a transition: its id, then the comment on the next line."""
    return f"{tid}\n{comment}" if comment else tid


def split_note(note: str | None) -> tuple[str, str]:
    tid, _, comment = (note or "").partition("\n")
    return tid, comment


async def move(
    app_state: Any,
    ent: Entity,
    record: Record,
    tr: Transition,
    changes: Mapping[str, Any],
    *,
    actor: int | None,
    ctx: Context,
    comment: str,
    ip: str | None,
    locale: str = "zh",
) -> Result:
    """Write a transition atomically, then tell timers and notifications."""
    assert ent.workflow is not None
    store = app_state.store
    target = tr.to
    draft = dict(record)
    draft.update(changes)
    values = dict(changes)
    for spec in (tr.spec.get("set"), state_spec(ent, target).get("set")):
        found = workflow.sets(ent, spec, draft, ctx)
        values.update(found)
        draft.update(found)
    values["state"] = target
    entered = target != record.get("state")
    moment = now_of(app_state)
    cancelled: list[int] = []
    opened: list[Task] = []
    spec = tasks_spec(ent, target) if entered else None
    try:
        async with in_transaction(store.connection_name):
            updated = await store.update(
                ent,
                record.id,
                values,
                actor=actor,
                expected_version=record.version,
                ip=ip,
                action="transition",
                note=audit_note(tr.id, comment),
            )
            if entered:
                cancelled = await cancel_open(ent, record.id, moment)
                if spec is not None:
                    opened = await open_tasks(app_state, ent, updated, target, spec, moment)
    except Conflict as exc:
        return await conflict(app_state, exc.current, locale)
    for task_id in cancelled:
        await hooks.on_task_close(app_state, task_id)
    if entered:
        await hooks.on_leave(app_state, ent, record.id)
    await hooks.emit(app_state, ent, updated, f"transition.{tr.id}", actor=actor, comment=comment)
    if entered:
        await hooks.emit(app_state, ent, updated, f"enter.{target}", actor=actor, comment=comment)
        await hooks.on_enter(app_state, ent, updated, target)
        for task in opened:
            await hooks.on_task_open(app_state, ent, updated, task)
        if spec is not None and not opened and spec.get("then"):
            # nobody to ask (no department or co-signer named): the rule holds at once
            await fire_system(app_state, ent, record.id, str(spec["then"]))
            updated = await store.get(ent, record.id) or updated
    return Result(True, record=updated)


async def cancel_open(ent: Entity, record_id: int, moment: datetime) -> list[int]:
    """Close the record's open tasks (it left their state); their ids."""
    rows = await Task.filter(
        scenario=ent.scenario, entity=ent.id, record_id=record_id, status=OPEN
    ).values_list("id", flat=True)
    if rows:
        await Task.filter(id__in=list(rows), status=OPEN).update(status="cancelled", done_at=moment)
    return [int(r) for r in rows]


async def assignees(
    app_state: Any, ent: Entity, record: Mapping[str, Any], spec: Mapping[str, Any]
) -> list[tuple[int | None, str | None, bool]]:
    """(user, org unit, is lead) per task a state's ``tasks`` hands out, lead first, no repeats."""
    lead_field = spec.get("lead")
    scenario = app_state.deployment.scenarios[ent.scenario]
    out: list[tuple[int | None, str | None, bool]] = []
    seen: set[tuple[int | None, str | None]] = set()
    actors = ids(spec.get("to"))
    if lead_field in actors:  # the lead's task first: a unit named as both lead and co is the lead
        actors = [lead_field, *[a for a in actors if a != lead_field]]
    for actor in actors:
        f = ent.fields.get(actor)
        found: list[tuple[int | None, str | None]] = []
        if f is not None and f.type == "user":
            found = [(int(u), None) for u in ids(record.get(actor))]
        elif f is not None and f.type == "org":
            found = [(None, str(o)) for o in ids(record.get(actor))]
        elif actor == "owner" and record.get("owner") is not None:
            found = [(int(record["owner"]), None)]
        elif actor in scenario.roles:
            found = [(u, None) for u in await role_holders(app_state, scenario, actor, record)]
        for key in found:
            if key not in seen:
                seen.add(key)
                out.append((key[0], key[1], actor == lead_field))
    return out


async def role_holders(
    app_state: Any, scenario: Any, role: str, record: Mapping[str, Any]
) -> list[int]:
    """Users holding ``role`` (its platform roles) at the record's org unit or above it."""
    from runtime.storage.platform import Grant

    path = str(record.get("org_path") or "")
    units = [u for u in path.strip("/").split("/") if u]
    platform = scenario.role_map.get(role, [])
    if not units or not platform:
        return []
    found = await Grant.filter(org_unit_id__in=units, role__in=platform).values_list(
        "user_id", flat=True
    )
    return sorted({int(u) for u in found})


def field_due(ent: Entity, deadline: Any, record: Mapping[str, Any]) -> datetime | None:
    """A deadline held by a date field: the end of that day, local time."""
    if not isinstance(deadline, dict) or not deadline.get("field"):
        return None
    value = record.get(str(deadline["field"]))
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(), ZONE) - timedelta(microseconds=1)
    return None


async def open_tasks(
    app_state: Any,
    ent: Entity,
    record: Mapping[str, Any],
    state: str,
    spec: Mapping[str, Any],
    moment: datetime,
) -> list[Task]:
    """The tasks of a state's new entry (one per assignee)."""
    previous = (
        await Task.filter(
            scenario=ent.scenario, entity=ent.id, record_id=int(record["id"]), state=state
        )
        .order_by("-round")
        .first()
    )
    number = (previous.round + 1) if previous else 1
    due = field_due(ent, spec.get("deadline"), record) or field_due(
        ent, state_spec(ent, state).get("deadline"), record
    )
    dept = app_state.deployment.org
    out = []
    for user, org, lead in await assignees(app_state, ent, record, spec):
        out.append(
            await Task.create(
                scenario=ent.scenario,
                entity=ent.id,
                record_id=int(record["id"]),
                state=state,
                round=number,
                mode=str(spec.get("mode", "parallel")),
                assignee_user=user,
                assignee_org=org,
                department=org if org in dept else None,
                is_lead=lead,
                status=OPEN,
                due_at=due,
                created_at=moment,
            )
        )
    return out
