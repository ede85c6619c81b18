"""``/admin/stranded``: records left in a state their workflow no longer has.

An upgrade may remove a state; a data migration moves the records out of it,
and whatever no migration moved is listed here for staff to move or close:
per entity, a count per state and the records themselves, linked. Each viewer
sees the records in the subtrees where they are the entity's staff (a role
that may edit it) or an admin (``Access.staff_scope``); anybody else gets 403,
an anonymous visitor is sent to sign in. The query is the one ``yidi catalog
upgrade`` uses for the console (``runtime.storage.stranded``).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime.access import Scope
from runtime.authz import ADMIN
from runtime.model import Entity
from runtime.storage.query import scope_sql
from runtime.storage.stranded import stranded_counts, stranded_rows
from runtime.web.guard import viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import denied
from runtime.web.templating import render
from runtime.web.urls import record_url

LIMIT = 200  # records listed per entity (the counts are complete)
TTL = 60.0  # seconds a count shown on the home page may be old


def _entities(request: Request) -> list[tuple[Entity, Scope]]:
    """The entities with a workflow whose staff view the viewer has, with its scope."""
    state = request.app.state
    viewer = viewer_of(request)
    out = []
    for scenario in state.deployment.scenarios.values():
        for entity in scenario.entities.values():
            if entity.workflow is None or entity.key not in state.store.tables:
                continue
            scope = state.access.staff_scope(viewer, entity)
            if not scope.nothing:
                out.append((entity, scope))
    return out


async def stranded_total(request: Request, *, cached: bool = False) -> int:
    """How many stranded records the viewer is shown (0 for a viewer without the page);
    ``cached`` reuses a count up to ``TTL`` seconds old (the home page's notice)."""
    state = request.app.state
    viewer = viewer_of(request)
    memo: dict[Any, tuple[float, int]] | None = getattr(state, "stranded_counts", None)
    if memo is None:
        memo = state.stranded_counts = {}
    key = (viewer.id, viewer.grants)
    hit = memo.get(key)
    if cached and hit is not None and time.monotonic() - hit[0] < TTL:
        return hit[1]
    store = state.store
    total = 0
    for entity, scope in _entities(request):
        table = store.table(entity)
        counts = await stranded_counts(
            store.db(),
            store.pg,
            table,
            _states(entity),
            removed=False,
            scope=scope_sql(store.pg, table, scope),
        )
        total += sum(counts.values())
    if len(memo) > 1000:
        memo.clear()
    memo[key] = (time.monotonic(), total)
    return total


def _states(entity: Entity) -> dict[str, Any]:
    return entity.workflow.states if entity.workflow is not None else {}


def may_see(request: Request) -> bool:
    viewer = viewer_of(request)
    if viewer.anonymous:
        return False
    return bool(_entities(request)) or request.app.state.access.authz.allowed(
        viewer, ADMIN, "manage"
    )


async def stranded_page(request: Request) -> Response:
    viewer = viewer_of(request)
    if not may_see(request):
        raise denied(viewer)
    store = request.app.state.store
    deployment = request.app.state.deployment
    groups: list[dict[str, Any]] = []
    for entity, scope in _entities(request):
        table = store.table(entity)
        where = scope_sql(store.pg, table, scope)
        states = _states(entity)
        counts = await stranded_counts(
            store.db(), store.pg, table, states, removed=False, scope=where
        )
        if not counts:
            continue
        rows = await stranded_rows(
            store.db(),
            store.pg,
            table,
            states,
            removed=False,
            scope=where,
            title=entity.spec.get("title_field"),
            limit=LIMIT,
        )
        groups.append(
            {
                "scenario": deployment.scenarios[entity.scenario].title,
                "label": entity.spec.get("label") or entity.id,
                "counts": sorted(counts.items()),
                "total": sum(counts.values()),
                "rows": [
                    {
                        "url": record_url(entity, row["id"]),
                        "id": row["id"],
                        "title": row.get("title") or f"#{row['id']}",
                        "state": row["state"],
                        "org": getattr(deployment.org.get(row["org"]), "label", row["org"]),
                    }
                    for row in rows
                ],
                "more": sum(counts.values()) > len(rows),
            }
        )
    return render(
        request,
        "stranded.html",
        {
            "groups": groups,
            "page_title": t("stranded", request.state.locale),
            "limit": LIMIT,
        },
    )
