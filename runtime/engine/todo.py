"""The to-do queue (待办): what awaits an action by me or my department, across scenarios.

Two kinds of items:

- open tasks assigned to me or to one of my org units (主办/协办 replies,
  会签 decisions, delegated tasks). One indexed branch per assignee key
  (``assignee_user = me``, ``assignee_org = unit``), each an index range scan
  of ``(assignee_*, status, id)`` limited to a page; the branches are merged
  by id. Paging is keyset (``id < cursor``): the cost of a page does not grow
  with the number of tasks.
- records in a state where I may take a transition (a role over their org
  unit, their owner, a user/org field naming me), as one SQL condition per
  entity built from the transitions' sources, actors and guards (a guard that
  reads the transition's form is left to the form). States that hand out
  tasks await their assignees, so they are listed through the tasks only.
  Paged per entity by keyset on ``(updated_at, id)``, newest change first:
  the first page of each entity on the to-do page, the rest behind its
  "more" link, so nothing awaiting an action is out of reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runtime.access import Scope, Viewer
from runtime.authz import transition_object
from runtime.engine.engine import context_of, tasks_spec
from runtime.model import Entity
from runtime.storage.columns import decode
from runtime.storage.query import (
    ListQuery,
    make_cursor,
    read_cursor,
    select_sql,
    sort_order,
    where_sql,
)
from runtime.storage.sql import P, Sql, quote

TASK_COLUMNS = (
    "id",
    "scenario",
    "entity",
    "record_id",
    "state",
    "mode",
    "assignee_user",
    "assignee_org",
    "department",
    "is_lead",
    "due_at",
    "created_at",
)


@dataclass
class TaskPage:
    rows: list[dict[str, Any]] = field(default_factory=list)
    next: int | None = None  # the cursor of the next page (an id)


async def my_tasks(
    store: Any, viewer: Viewer, *, after: int | None = None, limit: int = 20
) -> TaskPage:
    """Open tasks for the viewer or their org units, newest first, ``limit`` per page."""
    if viewer.anonymous:
        return TaskPage()
    pg = store.pg
    keys: list[tuple[str, Any]] = [("assignee_user", int(viewer.id))] if viewer.id else []  # type: ignore[arg-type]
    keys += [("assignee_org", unit) for unit in viewer.orgs]
    columns = ", ".join(quote(c) for c in TASK_COLUMNS)
    found: dict[int, dict[str, Any]] = {}
    db = store.db()
    for column, value in keys:
        sql = Sql(pg, f'SELECT {columns} FROM "yidi_task" WHERE {quote(column)} = ', P(value))
        sql.add(" AND \"status\" = 'open'")
        if after is not None:
            sql.add(' AND "id" < ', P(int(after)))
        sql.add(f' ORDER BY "id" DESC LIMIT {int(limit) + 1}')
        for raw in await db.execute_query_dict(*sql.render()):
            row = dict(raw)
            row["due_at"] = decode("datetime", row["due_at"])
            row["created_at"] = decode("datetime", row["created_at"])
            row["is_lead"] = bool(row["is_lead"])
            found[int(row["id"])] = row
    ordered = [found[i] for i in sorted(found, reverse=True)]
    page = TaskPage(ordered[:limit])
    if len(ordered) > limit:
        page.next = int(ordered[limit - 1]["id"])
    return page


def awaiting_sql(app_state: Any, entity: Entity, viewer: Viewer) -> Sql | None:
    """One condition: the records of ``entity`` in which the viewer may take a transition."""
    wf = entity.workflow
    store = app_state.store
    if wf is None or viewer.anonymous:
        return None
    pg = store.pg
    table = store.table(entity)
    access = app_state.access
    deployment = app_state.deployment
    scenario = deployment.scenarios[entity.scenario]
    ctx = context_of(app_state, viewer)
    branches: list[Sql | str] = []
    for tr in wf.transitions.values():
        if "system" in tr.actors:
            continue
        sources = tr.sources
        if sources is None:
            sources = [s for s in wf.states if not wf.final(s)]
        sources = [s for s in sources if tasks_spec(entity, s) is None]
        if not sources:
            continue
        paths: list[str] = []
        owner = None
        assigned: list[tuple[str, bool, Any]] = []
        for actor in tr.actors:
            f = entity.fields.get(actor)
            if actor == "owner":
                owner = viewer.id
            elif actor in scenario.roles:
                obj = transition_object(entity.scenario, entity.id, tr.id)
                paths += [deployment.org_path(u) for u in access.authz.units(viewer, obj, "take")]
            elif f is not None and f.type == "user":
                assigned.append((actor, f.multiple, viewer.id))
            elif f is not None and f.type == "org":
                assigned += [(actor, f.multiple, unit) for unit in viewer.orgs]
        if not paths and owner is None and not assigned:
            continue
        query = ListQuery(
            equals={"state": sources},
            scope=Scope(org_paths=tuple(sorted(set(paths))), owner=owner, assigned=tuple(assigned)),
        )
        source = tr.spec.get("when")
        form = set(tr.spec.get("form") or [])
        if source:
            expr = entity.compile(source)
            if not (set(expr.names) & form):
                query.where.append(expr)
        branches.append(Sql(pg, "(", where_sql(pg, table, query, ctx, deployment.org_path), ")"))
    if not branches:
        return None
    return Sql(pg, "(").join(branches, " OR ").add(")")


@dataclass
class RecordPage:
    """One entity's records awaiting the viewer: a page, and the cursor of the next one."""

    entity: Entity
    rows: list[dict[str, Any]] = field(default_factory=list)
    next: str | None = None  # a keyset cursor over (updated_at, id), newest first


async def awaiting_page(
    app_state: Any,
    viewer: Viewer,
    entity: Entity,
    *,
    after: str | None = None,
    limit: int = 50,
) -> RecordPage:
    """A page of ``entity``'s records awaiting the viewer, newest change first, keyset-paged
    (``after``: a cursor from the previous page; a bad one is a ``ValueError``)."""
    page = RecordPage(entity)
    where = awaiting_sql(app_state, entity, viewer)
    if where is None:
        return page
    store = app_state.store
    table = store.table(entity)
    order = sort_order(table, [("updated_at", True)])
    cursor = read_cursor(order, after) if after else None
    title = entity.title_field if entity.title_field in table.columns else "id"
    names = ["id", "state", "updated_at", *([title] if title != "id" else [])]
    sql = select_sql(store.pg, table, names, where, order, cursor, False, int(limit) + 1)
    raw = list(await store.db().execute_query_dict(*sql.render()))
    if len(raw) > limit:
        page.next = make_cursor(order, dict(raw[limit - 1]))
    for found in raw[:limit]:
        row = dict(found)
        row["updated_at"] = decode("datetime", row["updated_at"])
        row["title"] = row.get(title) if title != "id" else None
        page.rows.append(row)
    return page


async def awaiting(app_state: Any, viewer: Viewer, *, limit: int = 50) -> list[RecordPage]:
    """Per entity with a workflow, the first page of records awaiting the viewer's action
    (entities with none are left out); each page's ``next`` leads on."""
    out = []
    for scenario in app_state.deployment.scenarios.values():
        for entity in scenario.entities.values():
            page = await awaiting_page(app_state, viewer, entity, limit=limit)
            if page.rows:
                out.append(page)
    return out


__all__ = ["RecordPage", "TaskPage", "awaiting", "awaiting_page", "awaiting_sql", "my_tasks"]
