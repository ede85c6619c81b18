"""Working on tasks: reply (主办/协办), approve or reject (会签), delegate to a colleague.

Each action closes its task with one conditional ``UPDATE … WHERE status =
'open'`` (two people of one department replying at once: one wins, the other
is told who was first) and writes a timeline entry in the same transaction.
After the commit the state's rule is checked (``settle``): a parallel state
moves on by its ``then`` when ``complete: all | lead | any`` holds; a
countersign takes ``on_reject`` at the first rejection and ``then`` once every
approver approved. The check runs after the commit, so of two replies
finishing at the same moment at least the later one sees both, and
``fire_system`` is idempotent, so the record moves exactly once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from runtime.access import Viewer
from runtime.checks.entities import names_of
from runtime.engine import hooks
from runtime.engine.engine import (
    COMMENT_MAX,
    Result,
    context_of,
    fire_system,
    now_of,
    tasks_spec,
    user_name,
)
from runtime.engine.tasks import OPEN, Task, current_round
from runtime.model import Entity, Field, text
from runtime.storage.result import jsonable
from runtime.storage.rowio import insert_rows
from runtime.storage.writes import CHANGE_COLUMNS
from runtime.web import formdata
from runtime.web.i18n import t
from widgets import load_widgets

_TASK_ENTITIES: dict[tuple[str, str], Entity] = {}


class _Taken(Exception):
    """The task was closed by someone else between reading and writing it."""


def task_entity(ent: Entity, state: str) -> Entity:
    """The task's own fields as an entity, so forms and widgets treat them like any other."""
    key = (ent.key, state)
    found = _TASK_ENTITIES.get(key)
    if found is None:
        spec = tasks_spec(ent, state) or {}
        fields = dict(spec.get("fields") or {})
        found = Entity(ent.scenario, ent.id, {"label": spec.get("label"), "fields": fields})
        names = names_of(fields, system=False)
        registry = load_widgets()
        found.fields = {
            fid: Field(fid, fspec, registry[fspec["type"]], names) for fid, fspec in fields.items()
        }
        _TASK_ENTITIES[key] = found
    return found


def assignee_text(app_state: Any, task: Task, names: Mapping[int, str], locale: str) -> str:
    """Who a task is for: the department (主办/协办), or the person."""
    org = app_state.deployment.org
    if task.assignee_org is not None and task.assignee_org in org:
        who = text(org[task.assignee_org].label, locale)
    else:
        who = str(names.get(task.assignee_user or 0) or t("someone", locale))
        if task.department and task.department in org:
            who = f"{text(org[task.department].label, locale)} · {who}"
    if task.mode == "parallel":
        who += f"（{t('task_lead' if task.is_lead else 'task_co', locale)}）"
    return who


async def _load(
    app_state: Any, task_id: int, viewer: Viewer, locale: str, mode: str | None = None
) -> tuple[Task | None, Entity | None, Result | None]:
    """The open task the viewer is an assignee of (of ``mode``, when given), or why not."""
    task = await Task.get_or_none(id=int(task_id))
    if task is None:
        return None, None, Result.fail(404, "not_found", t("not_found", locale))
    ent = app_state.deployment.entity(task.entity_key())
    if ent is None or ent.workflow is None:
        return None, None, Result.fail(404, "not_found", t("not_found", locale))
    if not task.belongs_to(viewer.id, viewer.orgs):
        return None, None, Result.fail(403, "forbidden", t("wf_not_allowed", locale))
    if task.status != OPEN:
        return None, None, await _closed(app_state, task, locale)
    if mode is not None and task.mode != mode:
        return None, None, Result.fail(403, "forbidden", t("wf_not_allowed", locale))
    return task, ent, None


async def _closed(app_state: Any, task: Task, locale: str) -> Result:
    fresh = await Task.get_or_none(id=task.id) or task
    who = await user_name(app_state, fresh.done_by, locale)
    return Result.fail(409, "conflict", t("task_closed_by", locale, who=who), by=fresh.done_by)


async def _timeline(
    app_state: Any,
    ent: Entity,
    record_id: int,
    action: str,
    actor: int | None,
    ip: str | None,
    after: Mapping[str, Any],
    note: str,
) -> None:
    store = app_state.store
    table = store.table(ent)
    row = store._change(
        table, record_id, action, actor, datetime.now(UTC), ip, None, dict(after), note
    )
    await insert_rows(store.db(), store.pg, "yidi_change", CHANGE_COLUMNS, [row])


async def _close(
    app_state: Any,
    task: Task,
    ent: Entity,
    *,
    status: str,
    viewer: Viewer,
    data: Mapping[str, Any] | None,
    comment: str,
    ip: str | None,
    action: str,
    note: str,
) -> bool:
    moment = now_of(app_state)
    try:
        async with in_transaction(app_state.store.connection_name):
            count = await Task.filter(id=task.id, status=OPEN).update(
                status=status,
                data=jsonable(dict(data)) if data is not None else None,
                comment=comment or None,
                done_at=moment,
                done_by=viewer.id,
            )
            if not count:
                raise _Taken
            after = {"task": task.id, **(jsonable(dict(data)) if data else {})}
            await _timeline(app_state, ent, task.record_id, action, viewer.id, ip, after, note)
    except _Taken:
        return False
    await hooks.on_task_close(app_state, task.id)
    return True


async def reply(
    app_state: Any,
    task_id: int,
    *,
    viewer: Viewer,
    values: Mapping[str, Any] | None = None,
    files: Mapping[str, list[int]] | None = None,
    ip: str | None = None,
    locale: str = "zh",
) -> Result:
    """An assignee of a parallel task replies with the task's fields (answer, reply letter…)."""
    task, ent, refused = await _load(app_state, task_id, viewer, locale, "parallel")
    if refused is not None:
        return refused
    assert task is not None and ent is not None
    tent = task_entity(ent, task.state)
    ids = list(tent.fields)
    kept = {k: list(v) for k, v in (files or {}).items() if k in tent.fields}
    sub = formdata.read(tent, ids, dict(values or {}), locale)
    draft: dict[str, Any] = {}
    formdata.complete(
        tent, ids, sub, draft, context_of(app_state, viewer), locale, existing_files=kept
    )
    if sub.errors:
        return Result.fail(422, "invalid", t("form_has_errors", locale), fields=sub.errors)
    data = {fid: draft.get(fid) for fid in ids if tent.fields[fid].type not in formdata.FILE_TYPES}
    data.update({fid: kept[fid] for fid in kept if kept[fid]})
    names = {viewer.id: viewer.name} if viewer.id is not None else {}
    summary = _summary(tent, data, locale)
    note = f"{assignee_text(app_state, task, names, 'zh')}：{summary}"
    if not await _close(
        app_state,
        task,
        ent,
        status="done",
        viewer=viewer,
        data=data,
        comment="",
        ip=ip,
        action="task_reply",
        note=note,
    ):
        return await _closed(app_state, task, locale)
    if kept:
        await app_state.store.link_files(ent, task.record_id, kept)
    await settle(app_state, ent, task.record_id, task.state)
    return Result(True, record=await app_state.store.get(ent, task.record_id))


def _summary(tent: Entity, data: Mapping[str, Any], locale: str) -> str:
    from runtime.web.display import show

    parts = []
    for fid, f in tent.fields.items():
        value = data.get(fid)
        if value in (None, "", []) or f.type in formdata.FILE_TYPES:
            continue
        parts.append(show(f, value, locale, {}))
    return " · ".join(parts)


async def decide(
    app_state: Any,
    task_id: int,
    *,
    viewer: Viewer,
    approve: bool,
    comment: str | None = None,
    ip: str | None = None,
    locale: str = "zh",
) -> Result:
    """An approver of a countersign approves, or rejects (with a reason)."""
    task, ent, refused = await _load(app_state, task_id, viewer, locale, "countersign")
    if refused is not None:
        return refused
    assert task is not None and ent is not None
    note = (comment or "").strip()
    if not approve and not note:
        return Result.fail(
            422,
            "invalid",
            t("form_has_errors", locale),
            fields={"_comment": t("wf_reason_required", locale)},
        )
    if len(note) > COMMENT_MAX:
        return Result.fail(
            422,
            "invalid",
            t("form_has_errors", locale),
            fields={"_comment": t("wf_comment_long", locale, n=COMMENT_MAX)},
        )
    status = "approved" if approve else "rejected"
    line = t("task_approved" if approve else "task_rejected", "zh")
    if not await _close(
        app_state,
        task,
        ent,
        status=status,
        viewer=viewer,
        data=None,
        comment=note,
        ip=ip,
        action=f"task_{'approve' if approve else 'reject'}",
        note=f"{line}：{note}" if note else line,
    ):
        return await _closed(app_state, task, locale)
    await settle(app_state, ent, task.record_id, task.state)
    return Result(True, record=await app_state.store.get(ent, task.record_id))


async def colleagues(app_state: Any, task: Task, viewer: Viewer) -> list[tuple[int, str]]:
    """Who a task may be handed to: active users of the same org unit, the viewer excepted."""
    from runtime.storage.platform import Grant, User

    units = (
        [task.assignee_org]
        if task.assignee_org
        else [task.department]
        if task.department
        else viewer.orgs
    )
    user_ids = await Grant.filter(org_unit_id__in=[u for u in units if u]).values_list(
        "user_id", flat=True
    )
    wanted = sorted({int(u) for u in user_ids} - {viewer.id, task.assignee_user})
    if not wanted:
        return []
    rows = await User.filter(id__in=wanted, active=True).order_by("name").values_list("id", "name")
    return [(int(i), str(n)) for i, n in rows]


async def delegate(
    app_state: Any,
    task_id: int,
    *,
    viewer: Viewer,
    to_user: int | None,
    comment: str | None = None,
    ip: str | None = None,
    locale: str = "zh",
) -> Result:
    """Hand an open task to a colleague of the same org unit; recorded in the timeline."""
    task, ent, refused = await _load(app_state, task_id, viewer, locale)
    if refused is not None:
        return refused
    assert task is not None and ent is not None
    if (tasks_spec(ent, task.state) or {}).get("delegate", True) is False:
        return Result.fail(403, "forbidden", t("wf_not_allowed", locale))
    pool = dict(await colleagues(app_state, task, viewer))
    if to_user is None or int(to_user) not in pool:
        return Result.fail(
            422,
            "invalid",
            t("form_has_errors", locale),
            fields={"to": t("task_not_colleague", locale)},
        )
    note = (comment or "").strip()[:COMMENT_MAX]
    moment = now_of(app_state)
    department = task.assignee_org or task.department or viewer.org
    names = {viewer.id: viewer.name} if viewer.id is not None else {}
    line = f"{assignee_text(app_state, task, names, 'zh')} → {pool[int(to_user)]}"
    try:
        async with in_transaction(app_state.store.connection_name):
            successor = await Task.create(
                scenario=task.scenario,
                entity=task.entity,
                record_id=task.record_id,
                state=task.state,
                round=task.round,
                mode=task.mode,
                assignee_user=int(to_user),
                assignee_org=None,
                department=department,
                is_lead=task.is_lead,
                status=OPEN,
                due_at=task.due_at,
                created_at=moment,
                delegated_from=task.id,
            )
            count = await Task.filter(id=task.id, status=OPEN).update(
                status="delegated",
                comment=note or None,
                done_at=moment,
                done_by=viewer.id,
                delegated_to=successor.id,
            )
            if not count:
                raise _Taken
            await _timeline(
                app_state,
                ent,
                task.record_id,
                "task_delegate",
                viewer.id,
                ip,
                {"task": task.id, "to_task": successor.id, "to": int(to_user)},
                f"{line}：{note}" if note else line,
            )
    except _Taken:
        return await _closed(app_state, task, locale)
    await hooks.on_task_close(app_state, task.id)
    record = await app_state.store.get(ent, task.record_id)
    if record is not None:
        await hooks.on_task_open(app_state, ent, record, successor)
    return Result(True, record=record)


async def settle(app_state: Any, ent: Entity, record_id: int, state: str) -> bool:
    """Move the record on when its state's task rule holds; True when it moved."""
    spec = tasks_spec(ent, state)
    record = await app_state.store.get(ent, record_id)
    if spec is None or record is None or record.get("state") != state:
        return False
    rows = await current_round(ent.scenario, ent.id, record_id, state)
    if not rows:
        return False
    if spec.get("mode") == "countersign":
        rejected = [r for r in rows if r.status == "rejected"]
        if rejected and spec.get("on_reject"):
            reason = rejected[0].comment or ""
            return await fire_system(
                app_state, ent, record_id, str(spec["on_reject"]), reason=reason
            )
        if all(r.status == "approved" for r in rows) and spec.get("then"):
            return await fire_system(app_state, ent, record_id, str(spec["then"]))
        return False
    rule = spec.get("complete", "all")
    done = [r for r in rows if r.status == "done"]
    if rule == "all":
        ready = len(done) == len(rows)
    elif rule == "lead":
        ready = any(r.is_lead for r in done)
    else:
        ready = bool(done)
    if ready and spec.get("then"):
        return await fire_system(app_state, ent, record_id, str(spec["then"]))
    return False


def task_json(task: Task) -> dict[str, Any]:
    return json.loads(json.dumps(task.as_dict(), default=str, ensure_ascii=False))
