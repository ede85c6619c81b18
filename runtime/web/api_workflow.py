"""The workflow in the JSON API: transitions, tasks and the to-do queue.

    GET  /api/s/<scenario>/<entity>/<id>/transitions          what I may take now, and the tasks
    POST /api/s/<scenario>/<entity>/<id>/transitions/<tid>    {"values": {…}, "comment": "…", "row_version": n}
    POST /api/s/<scenario>/<entity>/<id>/tasks/<task>/<act>   reply {"values"} | approve | reject {"comment"}
                                                               | delegate {"to": user id, "comment"}
    GET  /api/todo?after=<cursor>                             my open tasks and the records awaiting me
                                                               (records_next: entity → cursor)
    GET  /api/todo?records=<scenario.entity>&after=<cursor>   more of one entity's records

Errors use the API's stable codes: forbidden 403, not_found 404, conflict 409
(with ``current``: the record as it is now), invalid 422 (with ``fields``).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from runtime.engine import engine, taskwork
from runtime.engine.tasks import Task, of_record
from runtime.web.api import body_of, error, record_json, rules_for, signed_in, to_json
from runtime.web.guard import client_ip
from runtime.web.lookup import context, entity_of, record_id
from runtime.web.todo import task_items
from runtime.web.transitions import actions_for


def _locale(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").startswith("en") else "zh"


async def _visible(request: Request) -> tuple[Any, dict[str, Any]]:
    entity = entity_of(request)
    viewer = signed_in(request)
    record = await request.app.state.store.get(entity, record_id(request))
    if record is None or not request.app.state.access.sees(
        viewer, entity, record, context(request)
    ):
        raise HTTPException(404)
    return entity, dict(record)


def _answer(request: Request, entity: Any, result: engine.Result) -> Response:
    if result.ok:
        record = dict(result.record or {})
        return JSONResponse(
            {"data": record_json(entity, record, rules_for(request, entity, record))}
        )
    body: dict[str, Any] = {"code": result.code, "message": result.message}
    if result.fields:
        body["fields"] = result.fields
    if result.status == 409 and result.record is not None:
        current = dict(result.record)
        body["current"] = record_json(entity, current, rules_for(request, entity, current))
    return JSONResponse({"error": body}, status_code=result.status)


async def transitions_json(request: Request) -> Response:
    entity, record = await _visible(request)
    viewer = signed_in(request)
    actions = await actions_for(request, entity, record, viewer)
    tasks = await of_record(entity.scenario, entity.id, int(record["id"]))
    out = []
    for a in actions:
        tr = entity.workflow.transitions[a["id"]]
        out.append(
            {
                "id": a["id"],
                "label": a["label"],
                "form": list(tr.spec.get("form") or []),
                "require": list(tr.spec.get("require") or []),
                "comment": tr.spec.get("comment", "optional"),
            }
        )
    return JSONResponse(
        {
            "data": out,
            "row_version": record["row_version"],
            "tasks": [
                {**taskwork.task_json(task), "mine": task.belongs_to(viewer.id, viewer.orgs)}
                for task in tasks
            ],
        }
    )


async def take_transition(request: Request) -> Response:
    entity, record = await _visible(request)
    viewer = signed_in(request)
    data = await body_of(request)
    values = data.get("values") or {}
    version = data.get("row_version")
    if not isinstance(values, dict):
        return error(422, "invalid", "values must be an object", {"values": "object"})
    if version is not None and not isinstance(version, int):
        return error(422, "invalid", "row_version must be an integer", {"row_version": "integer"})
    comment = data.get("comment")
    result = await engine.take(
        request.app.state,
        entity,
        record["id"],
        str(request.path_params["tid"]),
        viewer=viewer,
        values=values,
        comment=comment if isinstance(comment, str) else None,
        expected_version=version,
        ip=client_ip(request),
        locale=_locale(request),
    )
    return _answer(request, entity, result)


async def task_action(request: Request) -> Response:
    entity, record = await _visible(request)
    viewer = signed_in(request)
    raw = str(request.path_params.get("task", ""))
    task = await Task.get_or_none(id=int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if task is None or (task.scenario, task.entity, task.record_id) != (
        entity.scenario,
        entity.id,
        int(record["id"]),
    ):
        raise HTTPException(404)
    data = await body_of(request)
    state = request.app.state
    locale = _locale(request)
    ip = client_ip(request)
    comment = data.get("comment") if isinstance(data.get("comment"), str) else None
    act = request.path_params.get("act")
    if act == "reply":
        values = data.get("values") or {}
        if not isinstance(values, dict):
            return error(422, "invalid", "values must be an object", {"values": "object"})
        result = await taskwork.reply(
            state, task.id, viewer=viewer, values=values, ip=ip, locale=locale
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
        target = data.get("to")
        result = await taskwork.delegate(
            state,
            task.id,
            viewer=viewer,
            to_user=target if isinstance(target, int) and not isinstance(target, bool) else None,
            comment=comment,
            ip=ip,
            locale=locale,
        )
    else:
        raise HTTPException(404)
    return _answer(request, entity, result)


async def todo_json(request: Request) -> Response:
    from runtime.engine.todo import awaiting, awaiting_page, my_tasks
    from runtime.web.todo import PAGE, RECORDS_PAGE, record_groups

    viewer = signed_in(request)
    state = request.app.state
    locale = _locale(request)
    key = request.query_params.get("records")
    if key:  # one entity's records awaiting me, from a cursor in records_next
        entity = state.deployment.entity(key) if len(key) < 200 else None
        if entity is None or entity.workflow is None:
            return error(404, "not_found", "unknown entity")
        try:
            one = await awaiting_page(
                state,
                viewer,
                entity,
                after=request.query_params.get("after") or None,
                limit=RECORDS_PAGE,
            )
        except ValueError:
            return error(400, "bad_request", "bad cursor")
        group = (await record_groups(state, viewer, locale, [one]))[0]
        return JSONResponse({"records": to_json(group["rows"]), "next": group["next"]})
    raw = request.query_params.get("after", "")
    after = int(raw) if raw.isdigit() and len(raw) < 19 else None
    page = await my_tasks(state.store, viewer, after=after, limit=PAGE)
    tasks = await task_items(state, viewer, page.rows, locale)
    groups = (
        await record_groups(
            state, viewer, locale, await awaiting(state, viewer, limit=RECORDS_PAGE)
        )
        if after is None
        else []
    )
    records = [row for g in groups for row in g["rows"]]
    more = {g["entity"]: g["next"] for g in groups if g["next"]}
    return JSONResponse(
        {
            "tasks": to_json(tasks),
            "records": to_json(records),
            "records_next": more,
            "next": page.next,
        }
    )
