"""The to-do page (待办): my open tasks and the records awaiting my action, across scenarios."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from runtime.access import Viewer
from runtime.engine import hooks
from runtime.engine.engine import now_of, state_label, tasks_spec
from runtime.engine.taskwork import assignee_text
from runtime.engine.todo import RecordPage, awaiting, awaiting_page, my_tasks
from runtime.model import Entity, text
from runtime.web.display import ZONE
from runtime.web.guard import require_login
from runtime.web.i18n import t
from runtime.web.templating import render
from runtime.web.urls import record_url

PAGE = 30  # tasks per page
RECORDS_PAGE = 50  # records awaiting me, per entity and page


def _cursor(request: Request) -> int | None:
    raw = request.query_params.get("after", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def due_text(due: Any) -> str:
    if isinstance(due, datetime):
        return due.astimezone(ZONE).date().isoformat()
    if isinstance(due, date):
        return due.isoformat()
    return ""


def _is_over(due: Any, now: datetime) -> bool:
    if isinstance(due, datetime):
        return now > due
    if isinstance(due, date):
        return now.astimezone(ZONE).date() > due
    return False


async def task_items(
    app_state: Any, viewer: Viewer, rows: list[dict[str, Any]], locale: str
) -> list[dict[str, Any]]:
    """Display items for task rows: one title query and one deadline call per entity."""
    deployment = app_state.deployment
    by_entity: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        by_entity[f"{row['scenario']}.{row['entity']}"].append(int(row["record_id"]))
    store = app_state.store
    users = {int(r["assignee_user"]) for r in rows if r["assignee_user"] is not None}
    labels = await store.labels(users=users, refs=dict(by_entity))
    deadlines: dict[str, dict[int, tuple[Any, bool]]] = {}
    for key, ids in by_entity.items():
        entity = deployment.entity(key)
        if entity is not None:
            deadlines[key] = await hooks.deadlines(app_state, entity, sorted(set(ids)))
    now = now_of(app_state)
    out = []
    from runtime.engine.tasks import Task

    for row in rows:
        key = f"{row['scenario']}.{row['entity']}"
        entity = deployment.entity(key)
        if entity is None:
            continue
        scenario = deployment.scenarios[entity.scenario]
        spec = tasks_spec(entity, row["state"]) or {}
        due, over = row["due_at"], False
        if due is not None:
            over = _is_over(due, now)
        elif int(row["record_id"]) in deadlines.get(key, {}):
            due, over = deadlines[key][int(row["record_id"])]
        task = Task(
            **{
                k: row[k]
                for k in row
                if k in ("assignee_user", "assignee_org", "department", "is_lead", "mode")
            }
        )
        out.append(
            {
                "scenario": text(scenario.title, locale),
                "kind": text(spec.get("label") or row["state"], locale),
                "title": labels.refs(key).get(int(row["record_id"])) or f"#{row['record_id']}",
                "url": record_url(entity, row["record_id"]) + f"#task-{row['id']}",
                "who": assignee_text(app_state, task, labels.users, locale),
                "due": due_text(due),
                "overdue": bool(over),
                "task": int(row["id"]),
                "record": int(row["record_id"]),
                "entity": key,
            }
        )
    return out


def record_rows(
    app_state: Any,
    entity: Entity,
    rows: list[dict[str, Any]],
    found: dict[int, tuple[Any, bool]],
    locale: str,
) -> list[dict[str, Any]]:
    now = now_of(app_state)
    scenario = app_state.deployment.scenarios[entity.scenario]
    out = []
    for row in rows:
        due, over = found.get(int(row["id"]), (None, False))
        out.append(
            {
                "scenario": text(scenario.title, locale),
                "kind": state_label(entity, row["state"], locale),
                "title": row.get("title") or f"#{row['id']}",
                "url": record_url(entity, row["id"]),
                "due": due_text(due),
                "overdue": bool(over) or (due is not None and _is_over(due, now)),
                "record": int(row["id"]),
                "entity": entity.key,
                "state": row["state"],
            }
        )
    return out


def more_url(entity: Entity, cursor: str) -> str:
    return "/todo?" + urlencode({"records": entity.key, "after": cursor})


async def record_groups(
    app_state: Any, viewer: Viewer, locale: str, pages: list[RecordPage]
) -> list[dict[str, Any]]:
    """Per entity: its rows to show, and the link to the next page of them."""
    out = []
    for page in pages:
        entity = page.entity
        found = await hooks.deadlines(app_state, entity, [int(r["id"]) for r in page.rows])
        out.append(
            {
                "entity": entity.key,
                "label": text(entity.label, locale),
                "rows": record_rows(app_state, entity, page.rows, found, locale),
                "next": page.next,
                "next_url": more_url(entity, page.next) if page.next else None,
            }
        )
    return out


async def record_items(app_state: Any, viewer: Viewer, locale: str) -> list[dict[str, Any]]:
    """The first page of every entity's records awaiting the viewer, as one list."""
    groups = await record_groups(app_state, viewer, locale, await awaiting(app_state, viewer))
    return [row for group in groups for row in group["rows"]]


async def records_page(request: Request, viewer: Viewer, key: str) -> Response:
    """/todo?records=<scenario.entity>&after=<cursor>: one entity's records awaiting me, paged."""
    state = request.app.state
    locale = request.state.locale
    entity = state.deployment.entity(key) if len(key) < 200 else None
    if entity is None or entity.workflow is None:
        raise HTTPException(404)
    raw = request.query_params.get("after") or None
    try:
        page = await awaiting_page(state, viewer, entity, after=raw, limit=RECORDS_PAGE)
    except ValueError as exc:
        raise HTTPException(400, "bad cursor") from exc
    groups = await record_groups(state, viewer, locale, [page])
    return render(
        request,
        "todo.html",
        {
            "page_title": {"zh": "待办", "en": "To do"},
            "only_records": True,
            "records_title": t("todo_records_of", locale, entity=text(entity.label, locale)),
            "groups": groups,
            "first_url": "/todo?" + urlencode({"records": entity.key}) if raw else None,
        },
    )


async def todo_page(request: Request) -> Response:
    viewer = require_login(request)
    state = request.app.state
    locale = request.state.locale
    key = request.query_params.get("records")
    if key:
        return await records_page(request, viewer, key)
    after = _cursor(request)
    page = await my_tasks(state.store, viewer, after=after, limit=PAGE)
    tasks = await task_items(state, viewer, page.rows, locale)
    groups = (
        await record_groups(
            state, viewer, locale, await awaiting(state, viewer, limit=RECORDS_PAGE)
        )
        if after is None
        else []
    )
    return render(
        request,
        "todo.html",
        {
            "page_title": {"zh": "待办", "en": "To do"},
            "tasks": tasks,
            "groups": groups,
            "records_title": t("todo_records", locale),
            "next_url": f"/todo?after={page.next}" if page.next else None,
            "first_url": "/todo" if after is not None else None,
        },
    )
