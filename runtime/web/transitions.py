"""Workflow on the record page: its actions, transition forms, and the record's tasks.

Pages (all work without JavaScript; htmx loads a form in place and swaps
back the form with its messages):

    GET  /s/<scenario>/r/<entity>/<id>/t/<tid>            the transition's form
    POST /s/<scenario>/r/<entity>/<id>/t/<tid>            take it (engine.take)
    GET  /s/<scenario>/r/<entity>/<id>/tasks/<task>       one task and its forms
    POST /s/<scenario>/r/<entity>/<id>/tasks/<task>/<act> reply | approve | reject | delegate

Every decision is the engine's: a page shows what ``workflow.open_to`` offers
and posts to ``engine.take`` / ``taskwork``, which check everything again.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime import workflow
from runtime.access import Viewer
from runtime.engine import engine, taskwork
from runtime.engine.tasks import OPEN, Task, of_record
from runtime.expr import Context
from runtime.model import Entity, Transition, text
from runtime.web import formdata
from runtime.web.display import show, system_text
from runtime.web.fieldviews import field_state
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import context, entity_of
from runtime.web.templating import render
from runtime.web.uploads import read_form, save_uploads
from runtime.web.urls import record_url


def transition_url(entity: Entity, rid: object, tid: str) -> str:
    return f"{record_url(entity, rid)}/t/{tid}"


def task_url(entity: Entity, rid: object, task_id: object) -> str:
    return f"{record_url(entity, rid)}/tasks/{task_id}"


async def take_if_allowed(
    request: Request, entity: Entity, record: dict[str, Any], tid: str, viewer: Viewer, ctx: Context
) -> dict[str, Any] | None:
    """Take ``tid`` right after a form created the record (``then:``); the record, or None."""
    result = await engine.take(
        request.app.state,
        entity,
        int(record["id"]),
        tid,
        viewer=viewer,
        expected_version=int(record["row_version"]),
        ip=client_ip(request),
        locale=request.state.locale,
    )
    return dict(result.record) if result.ok and result.record is not None else None


# ------------------------------------------------------------------ record page panel


def direct(tr: Transition) -> bool:
    """Taken by one button: no form, no required comment, no question first."""
    return (
        not tr.spec.get("form")
        and tr.spec.get("comment", "optional") != "required"
        and not tr.spec.get("confirm")
    )


async def actions_for(
    request: Request, entity: Entity, record: dict[str, Any], viewer: Viewer
) -> list[dict[str, Any]]:
    """The buttons of the transitions this viewer may take now (false guards hide them)."""
    if entity.workflow is None or viewer.anonymous:
        return []
    current = await engine.handlers(request.app.state, entity, record["id"])
    found = workflow.open_to(
        request.app.state.access, entity, viewer, record, context(request), current
    )
    locale = request.state.locale
    return [
        {
            "id": tr.id,
            "label": text(tr.spec.get("label") or tr.id, locale),
            "tone": tr.spec.get("tone", "default"),
            "url": transition_url(entity, record["id"], tr.id),
            "direct": direct(tr),
        }
        for tr in found
    ]


async def tasks_for(
    request: Request, entity: Entity, record: dict[str, Any], viewer: Viewer
) -> list[dict[str, Any]]:
    """The record's tasks (newest entry first), with the forms of the viewer's open ones."""
    rows = await of_record(entity.scenario, entity.id, int(record["id"]))
    if not rows:
        return []
    locale = request.state.locale
    people = {r.assignee_user for r in rows} | {r.done_by for r in rows}
    names = (await request.app.state.store.labels(users={p for p in people if p})).get("user", {})
    now = engine.now_of(request.app.state)
    out = []
    for task in sorted(rows, key=lambda r: (-r.round, r.id)):
        if task.status == "cancelled":
            continue
        out.append(await task_view(request, entity, record, task, viewer, names, now, locale))
    return out


async def task_view(
    request: Request,
    entity: Entity,
    record: dict[str, Any],
    task: Task,
    viewer: Viewer,
    names: dict[Any, str],
    now: Any,
    locale: str,
    *,
    sub: formdata.Submission | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    tent = taskwork.task_entity(entity, task.state)
    spec = engine.tasks_spec(entity, task.state) or {}
    mine = task.status == OPEN and task.belongs_to(viewer.id, viewer.orgs)
    values = []
    for fid, f in tent.fields.items():
        value = (task.data or {}).get(fid)
        if value in (None, "", []) or f.type in formdata.FILE_TYPES:
            continue
        values.append({"label": f.label, "text": show(f, value, locale, {})})
    fields = []
    if mine and task.mode == "parallel":
        conds = formdata.conditions(tent, list(tent.fields), {}, context(request))
        for fid, f in tent.fields.items():
            fields.append(
                await field_state(
                    request,
                    tent,
                    f,
                    value=None,
                    raw=sub.raw.get(fid) if sub else None,
                    error=sub.errors.get(fid) if sub else None,
                    cond=conds.get(fid),
                    check_url=None,
                )
            )
    colleagues = (
        await taskwork.colleagues(request.app.state, task, viewer)
        if mine and spec.get("delegate", True) is not False
        else []
    )
    due = task.due_at
    return {
        "id": task.id,
        "label": spec.get("label") or task.state,
        "who": taskwork.assignee_text(request.app.state, task, names, locale),
        "status": task.status,
        "status_text": t(f"task_status_{task.status}", locale),
        "answers": values,
        "comment": task.comment,
        "done_by": names.get(task.done_by) if task.done_by else None,
        "done_at": system_text("created_at", task.done_at, locale) if task.done_at else None,
        "due": system_text("created_at", due, locale)[:10] if due else None,
        "overdue": bool(due and task.status == OPEN and now > due),
        "mine": mine,
        "mode": task.mode,
        "fields": fields,
        "colleagues": colleagues,
        "url": task_url(entity, record["id"], task.id),
        "error": error,
        "comment_error": sub.errors.get("_comment") if sub else None,
        "to_error": sub.errors.get("to") if sub else None,
    }


async def panel(
    request: Request, entity: Entity, record: dict[str, Any], viewer: Viewer
) -> dict[str, Any]:
    """What the record page shows of the workflow: actions and tasks."""
    return {
        "actions": await actions_for(request, entity, record, viewer),
        "tasks": await tasks_for(request, entity, record, viewer),
        "row_version": record.get("row_version"),
    }


def timeline_entry(
    entity: Entity, action: str, note: str | None, locale: str
) -> tuple[str, str | None]:
    """(what happened, the note to show) for a workflow entry of the timeline."""
    if action == "transition":
        tid, comment = engine.split_note(note)
        tr = entity.workflow.transitions.get(tid) if entity.workflow else None
        label = tr.spec.get("label") if tr is not None else None
        if label:
            return text(label, locale), comment or None
        target = tr.to if tr is not None else None
        moved = t("action_transition", locale)
        if target:
            moved += f" → {engine.state_label(entity, target, locale)}"
        return moved, comment or None
    return t(f"action_{action}", locale), note


# ------------------------------------------------------------------ transition form


async def _record(request: Request, entity: Entity) -> dict[str, Any]:
    from runtime.web.records import visible_record

    return await visible_record(request, entity)


def _transition(entity: Entity, tid: str) -> Transition:
    tr = entity.workflow.transitions.get(tid) if entity.workflow else None
    if tr is None or "system" in tr.actors:
        raise HTTPException(404)
    return tr


async def transition_page(request: Request) -> Response:
    entity = entity_of(request)
    record = await _record(request, entity)
    tr = _transition(entity, request.path_params["tid"])
    viewer = viewer_of(request)
    offered = {a["id"] for a in await actions_for(request, entity, record, viewer)}
    if tr.id not in offered:
        raise HTTPException(403 if not viewer.anonymous else 401)
    return await render_transition(request, entity, record, tr, None)


async def render_transition(
    request: Request,
    entity: Entity,
    record: dict[str, Any],
    tr: Transition,
    sub: formdata.Submission | None,
    *,
    status: int = 200,
    message: str | None = None,
    comment: str = "",
) -> Response:
    locale = request.state.locale
    ctx = context(request)
    form = [fid for fid in tr.spec.get("form") or [] if fid in entity.fields]
    draft = dict(record)
    if sub is not None:
        draft.update(sub.values)
    conds = formdata.conditions(entity, form, draft, ctx)
    required = set(tr.spec.get("require") or [])
    fields = []
    for fid in form:
        state = await field_state(
            request,
            entity,
            entity.fields[fid],
            value=record.get(fid),
            raw=sub.raw.get(fid) if sub else None,
            error=sub.errors.get(fid) if sub else None,
            cond=conds.get(fid),
            check_url=None,
        )
        if fid in required:
            state["required"] = True
        fields.append(state)
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    title = record.get(entity.title_field) if entity.title_field in entity.fields else None
    return render(
        request,
        "transition.html",
        {
            "page_title": tr.spec.get("label") or tr.id,
            "scenario_title": scenario.title,
            "record_title": title or f"#{record['id']}",
            "record_url": record_url(entity, record["id"]),
            "label": text(tr.spec.get("label") or tr.id, locale),
            "confirm": tr.spec.get("confirm"),
            "tone": tr.spec.get("tone", "default"),
            "action": transition_url(entity, record["id"], tr.id),
            "fields": fields,
            "comment_mode": tr.spec.get("comment", "optional"),
            "comment": comment,
            "comment_error": sub.errors.get("_comment") if sub else None,
            "form_error": message or (sub.errors.get("_form") if sub else None),
            "row_version": record.get("row_version"),
        },
        status=status,
        block="wf_form" if request.headers.get("HX-Request") else None,
    )


def _version(data: Any) -> int | None:
    raw = str(data.get("_version") or "")
    return int(raw) if raw.isdigit() else None


def _done(request: Request, entity: Entity, rid: object) -> Response:
    target = record_url(entity, rid) + "?moved=1"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def transition_submit(request: Request) -> Response:
    entity = entity_of(request)
    record = await _record(request, entity)
    tr = _transition(entity, request.path_params["tid"])
    viewer = viewer_of(request)
    if viewer.anonymous:
        raise HTTPException(401)
    data = await read_form(request)
    if data.get("_list"):  # a row's button on a list or board page
        from runtime.web.rowactions import take_from_list

        return await take_from_list(request, entity, record, tr, data)
    locale = request.state.locale
    form = [fid for fid in tr.spec.get("form") or [] if fid in entity.fields]
    comment = str(data.get("_comment") or "")
    result = await engine.take(
        request.app.state,
        entity,
        record["id"],
        tr.id,
        viewer=viewer,
        values=data,
        comment=comment,
        expected_version=_version(data),
        ip=client_ip(request),
        locale=locale,
    )
    if result.ok:
        return _done(request, entity, record["id"])
    if result.status in (403, 404):
        raise HTTPException(result.status)
    sub = formdata.read(entity, form, data, locale)
    sub.errors.update(result.fields)
    current = dict(result.record) if result.record is not None else record
    return await render_transition(
        request,
        entity,
        current,
        tr,
        sub,
        status=result.status,
        message=result.message if result.status == 409 else result.fields.get("_form"),
        comment=comment,
    )


# ------------------------------------------------------------------ tasks


async def _task(request: Request, entity: Entity, record: dict[str, Any]) -> Task:
    raw = str(request.path_params.get("task", ""))
    task = await Task.get_or_none(id=int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if (
        task is None
        or task.scenario != entity.scenario
        or task.entity != entity.id
        or task.record_id != int(record["id"])
    ):
        raise HTTPException(404)
    return task


async def task_page(request: Request) -> Response:
    entity = entity_of(request)
    record = await _record(request, entity)
    task = await _task(request, entity, record)
    return await render_task(request, entity, record, task)


async def render_task(
    request: Request,
    entity: Entity,
    record: dict[str, Any],
    task: Task,
    *,
    sub: formdata.Submission | None = None,
    status: int = 200,
    error: str | None = None,
) -> Response:
    viewer = viewer_of(request)
    locale = request.state.locale
    people = {p for p in (task.assignee_user, task.done_by) if p}
    names = (await request.app.state.store.labels(users=people)).get("user", {})
    view = await task_view(
        request,
        entity,
        record,
        task,
        viewer,
        names,
        engine.now_of(request.app.state),
        locale,
        sub=sub,
        error=error,
    )
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    title = record.get(entity.title_field) if entity.title_field in entity.fields else None
    return render(
        request,
        "task.html",
        {
            "page_title": view["label"],
            "scenario_title": scenario.title,
            "record_title": title or f"#{record['id']}",
            "record_url": record_url(entity, record["id"]),
            "task": view,
        },
        status=status,
        block="task_body" if request.headers.get("HX-Request") else None,
    )


async def task_submit(request: Request) -> Response:
    entity = entity_of(request)
    record = await _record(request, entity)
    task = await _task(request, entity, record)
    viewer = viewer_of(request)
    if viewer.anonymous:
        raise HTTPException(401)
    act = request.path_params.get("act")
    data = await read_form(request)
    locale = request.state.locale
    state = request.app.state
    comment = str(data.get("_comment") or "")
    ip = client_ip(request)
    sub: formdata.Submission | None = None
    if act == "reply":
        tent = taskwork.task_entity(entity, task.state)
        sub = formdata.read(tent, list(tent.fields), data, locale)
        if task.status == OPEN and task.belongs_to(viewer.id, viewer.orgs):
            await save_uploads(request, tent, sub, viewer)
        if sub.errors:
            return await render_task(
                request,
                entity,
                record,
                task,
                sub=sub,
                status=422,
                error=t("form_has_errors", locale),
            )
        result = await taskwork.reply(
            state, task.id, viewer=viewer, values=data, files=sub.keep, ip=ip, locale=locale
        )
    elif act in ("approve", "reject"):
        result = await taskwork.decide(
            state,
            task.id,
            viewer=viewer,
            approve=act == "approve",
            comment=comment,
            ip=ip,
            locale=locale,
        )
    elif act == "delegate":
        raw = str(data.get("to") or "")
        result = await taskwork.delegate(
            state,
            task.id,
            viewer=viewer,
            to_user=int(raw) if raw.isdigit() and len(raw) < 19 else None,
            comment=comment,
            ip=ip,
            locale=locale,
        )
    else:
        raise HTTPException(404)
    if result.ok:
        return _done(request, entity, record["id"])
    if result.status in (403, 404):
        raise HTTPException(result.status)
    sub = sub or formdata.Submission()
    sub.errors.update(result.fields)
    fresh = await Task.get(id=task.id)
    return await render_task(
        request, entity, record, fresh, sub=sub, status=result.status, error=result.message
    )
