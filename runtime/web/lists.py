"""List and board views: filters, search, sort and keyset paging, updated in place.

One URL answers both ways: the whole page, or (for htmx) the ``results``
block. Unknown filters or sort fields are answered with 400. References are
named through one lookup per kind, never a query per row. Counts are bounded.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from runtime.authz import view_object
from runtime.model import Entity, View
from runtime.storage.records import ListQuery, Record
from runtime.web import rowactions
from runtime.web.display import option_labels, ruled, system_text
from runtime.web.guard import viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import context, denied, view_of
from runtime.web.templating import render
from runtime.web.urls import form_url, record_url, view_url

COUNT_CAP = 10_000
SYSTEM_LABELS = {
    "state": "state",
    "created_at": "created_at",
    "updated_at": "updated_at",
    "owner": "owner",
    "org": "org",
    "id": "id",
    "created_by": "created_by",
    "updated_by": "updated_by",
}


async def both(first: Any, second: Any, *, parallel: bool) -> tuple[Any, Any]:
    """Two independent queries: at once where the database has a pool (PostgreSQL)."""
    if parallel:
        a, b = await asyncio.gather(first, second)
        return a, b
    return await first, await second


def column_label(entity: Entity, name: str, locale: str) -> Any:
    if name in entity.fields:
        return entity.fields[name].label
    return t(SYSTEM_LABELS.get(name, name), locale)


def build_query(view: View, params: QueryParams, request: Request) -> ListQuery:
    """The query of a view from the URL; unknown filters and sort fields → 400."""
    entity = view.entity
    access = request.app.state.access
    viewer = viewer_of(request)
    equals: dict[str, list[Any]] = {}
    for key in params:
        if not key.startswith("f."):
            continue
        name = key[2:]
        if name not in view.filters:
            raise HTTPException(400, f"unknown filter {name}")
        values = [v for v in params.getlist(key) if v != ""]
        if values:
            equals[name] = [_filter_value(entity, name, v) for v in values]
    sort = view.sort
    wanted = params.get("sort")
    if wanted:
        name = wanted.lstrip("-")
        if name not in entity.fields and name not in SYSTEM_LABELS:
            raise HTTPException(400, f"unknown sort field {name}")
        sort = [(name, wanted.startswith("-"))]
    q = (params.get("q") or "").strip()[:100]
    return ListQuery(
        where=[view.where] if view.where else [],
        equals=equals,
        search=(q, view.search) if q and view.search else None,
        sort=sort,
        after=params.get("after") or None,
        before=params.get("before") or None,
        limit=int(view.spec.get("page_size", 20)),
        scope=access.scope(viewer, entity, view_object(view.scenario, view.id), "open"),
    )


def _filter_value(entity: Entity, name: str, raw: str) -> Any:
    field = entity.fields.get(name)
    if field is None:
        return raw
    value, problem = field.widget.parse(raw, field.spec)
    if problem is not None:
        raise HTTPException(400, f"bad filter value for {name}")
    return value


def filter_options(
    view: View, params: QueryParams, request: Request, locale: str
) -> list[dict[str, Any]]:
    entity = view.entity
    out = []
    for name in view.filters:
        chosen = set(params.getlist(f"f.{name}"))
        options: list[tuple[str, str]] = []
        if name == "state" and entity.workflow:
            from runtime.model import text

            options = [
                (sid, text(s.get("label"), locale)) for sid, s in entity.workflow.states.items()
            ]
        elif name in entity.fields:
            f = entity.fields[name]
            if f.type in ("choice", "multichoice"):
                options = list(option_labels(f, locale).items())
            elif f.type == "bool":
                options = [("true", t("yes", locale)), ("false", t("no", locale))]
            elif f.type == "rating":
                options = [(str(n), "★" * n) for n in range(1, int(f.spec.get("max") or 5) + 1)]
            elif f.type == "org":
                from runtime.model import text

                kind = f.spec.get("kind")
                units = request.app.state.deployment.org.values()
                options = [
                    (u.id, text(u.label, locale)) for u in units if not kind or u.kind == kind
                ]
        out.append(
            {
                "id": name,
                "label": column_label(entity, name, locale),
                "options": [(v, label, v in chosen) for v, label in options],
            }
        )
    return out


async def names_for(
    request: Request, entity: Entity, rows: list[Record], columns: list[str]
) -> dict[str, dict[Any, str]]:
    """Labels of users, org units and referenced records shown in ``rows``: one lookup per kind."""
    store = request.app.state.store
    locale = request.state.locale
    users: set[Any] = set()
    refs: dict[str, set[Any]] = {}
    for name in columns:
        f = entity.fields.get(name)
        kind = f.type if f else ("user" if name in ("owner", "created_by", "updated_by") else None)
        if kind not in ("user", "ref"):
            continue
        for row in rows:
            value = row.get(name)
            items = value if isinstance(value, list) else [value]
            bucket = (
                users
                if kind == "user"
                else refs.setdefault(str(f.spec["entity"]) if f else "", set())
            )
            bucket.update(v for v in items if v is not None)
    names = await store.labels(users=users, refs=refs) if users or refs else {}
    from runtime.model import text

    names = dict(names)
    names["org"] = {u.id: text(u.label, locale) for u in request.app.state.deployment.org.values()}
    return names


def cells(
    entity: Entity,
    row: Record,
    columns: list[str],
    names: dict[str, dict[Any, str]],
    locale: str,
    state_labels: dict[str, str],
    rules: dict[str, str] | None = None,
    viewer_id: int | None = None,
) -> list[str]:
    out = []
    applied = rules if rules and row.get("owner") != viewer_id else {}
    for name in columns:
        if name in entity.fields:
            out.append(ruled(entity.fields[name], row.get(name), applied.get(name), locale, names))
        elif name == "state":
            out.append(state_labels.get(str(row.get("state")), str(row.get("state") or "")))
        else:
            out.append(system_text(name, row.get(name), locale, names))
    return out


def state_labels(entity: Entity, locale: str) -> dict[str, str]:
    from runtime.model import text

    if not entity.workflow:
        return {}
    return {sid: text(s.get("label"), locale) for sid, s in entity.workflow.states.items()}


def _url(base: str, params: QueryParams, **changes: str | None) -> str:
    items = [
        (k, v) for k, v in params.multi_items() if k not in changes and k not in ("after", "before")
    ]
    items += [(k, v) for k, v in changes.items() if v]
    return base + ("?" + urlencode(items) if items else "")


async def view_page(request: Request) -> Response:
    view = view_of(request)
    viewer = viewer_of(request)
    access = request.app.state.access
    if view.kind not in ("list", "board"):
        raise HTTPException(404)
    if not access.can_open_view(viewer, view):
        raise denied(viewer)
    return await render_view(request, view, request.query_params)


async def render_view(
    request: Request,
    view: View,
    params: QueryParams,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
    fragment: bool | None = None,
) -> Response:
    """A list or board page for ``params`` (also after a row's action, with its ``flash``).
    ``fragment``: only the part htmx swaps (``#results`` / ``#board``); None: as the request
    asks."""
    if view.kind == "board":
        return await board_page(
            request,
            view,
            params,
            flash=flash,
            flash_kind=flash_kind,
            status=status,
            fragment=fragment,
        )
    viewer = viewer_of(request)
    access = request.app.state.access
    locale = request.state.locale
    entity = view.entity
    store = request.app.state.store
    query = build_query(view, params, request)
    ctx = context(request)
    page, (count, exact) = await both(
        store.list(entity, query, ctx),
        store.count(entity, query, ctx, cap=COUNT_CAP),
        parallel=store.pg,
    )
    columns = view.columns
    rules = access.field_rules(viewer, entity)
    names = await names_for(request, entity, page.rows, columns)
    ids = [int(row["id"]) for row in page.rows]
    actions = await rowactions.row_actions(request, view, page.rows, viewer)
    deadlines = await rowactions.row_deadlines(request.app.state, entity, ids)
    labels = state_labels(entity, locale)
    base = view_url(view)
    current_sort = params.get("sort") or ""
    scenario = request.app.state.deployment.scenarios[view.scenario]
    new_forms = [
        {"label": f.label, "url": form_url(f)}
        for f in scenario.forms.values()
        if f.entity is entity
        and f.spec.get("mode", "create") == "create"
        and access.can_use_form(viewer, f)
    ]
    context_vars = {
        "page_title": view.label,
        "scenario_title": scenario.title,
        "view_label": view.label,
        "base_url": base,
        "q": params.get("q", ""),
        "sort": current_sort,
        "search_fields": view.search,
        "filters": filter_options(view, params, request, locale),
        "columns": [
            {
                "label": column_label(entity, c, locale),
                "sort_url": _url(
                    base,
                    params,
                    sort=("" if current_sort == "-" + c else "-") + c
                    if current_sort.lstrip("-") == c
                    else c,
                ),
                "sorted": current_sort.lstrip("-") == c,
                "desc": current_sort.startswith("-"),
            }
            for c in columns
        ],
        "rows": [
            {
                "id": row["id"],
                "url": record_url(entity, row["id"]),
                "cells": cells(entity, row, columns, names, locale, labels, rules, viewer.id),
                "version": row.get("row_version"),
                "actions": actions.get(int(row["id"]), []),
                "deadline": deadlines.get(int(row["id"])),
            }
            for row in page.rows
        ],
        "view_id": view.id,
        "list_query": urlencode(list(params.multi_items())),
        "has_actions": bool(rowactions.declared(view) or rowactions.offers_edit(view)),
        "has_deadlines": rowactions.has_deadlines(entity),
        "flash": flash,
        "flash_kind": flash_kind,
        "total_text": t("total" if exact else "total_more", locale, n=count),
        "next_url": _url(base, params, after=page.next) if page.next else None,
        "prev_url": _url(base, params, before=page.prev) if page.prev else None,
        "first_url": _url(base, params) if (params.get("after") or params.get("before")) else None,
        "can_export": bool(view.spec.get("export")),
        "export_csv": _url(base + "/export.csv", params),
        "export_xlsx": _url(base + "/export.xlsx", params),
        "can_import": bool(view.spec.get("import")),
        "import_url": base + "/import",
        "new_forms": new_forms,
    }
    if fragment is None:
        fragment = request.headers.get("HX-Target") == "results"
    block = "results" if fragment else None
    return render(request, "list.html", context_vars, block=block, status=status)


async def board_page(
    request: Request,
    view: View,
    params: QueryParams,
    *,
    flash: str | None = None,
    flash_kind: str = "ok",
    status: int = 200,
    fragment: bool | None = None,
) -> Response:
    locale = request.state.locale
    entity = view.entity
    store = request.app.state.store
    ctx = context(request)
    group = str(view.spec.get("group_by") or "state")
    if group == "state" and entity.workflow:
        lanes = [(sid, label) for sid, label in state_labels(entity, locale).items()]
    else:
        lanes = list(option_labels(entity.fields[group], locale).items())
    columns = [c for c in view.columns if c not in (entity.title_field, group)]
    viewer = viewer_of(request)
    rules = request.app.state.access.field_rules(viewer, entity)
    lanes_rows: list[tuple[str, Any, bool, list[Record]]] = []
    base = build_query(view, params, request)
    for value, label in lanes:
        query = dataclasses.replace(
            base, equals={**base.equals, group: [value]}, limit=20, after=None, before=None
        )
        page = await store.list(entity, query, ctx)
        count, exact = await store.count(entity, query, ctx, cap=COUNT_CAP)
        lanes_rows.append((label, count, exact, page.rows))
    every = [r for _, _, _, rows in lanes_rows for r in rows]
    actions = await rowactions.row_actions(request, view, every, viewer)
    deadlines = await rowactions.row_deadlines(
        request.app.state, entity, [int(r["id"]) for r in every]
    )
    names = await names_for(request, entity, every, columns)
    board = [
        {
            "label": label,
            "count_text": str(count) if exact else f"{count}+",
            "rows": [
                {
                    "id": r["id"],
                    "url": record_url(entity, r["id"]),
                    "title": r.get(entity.title_field),
                    "cells": cells(entity, r, columns, names, locale, {}, rules, viewer.id),
                    "version": r.get("row_version"),
                    "actions": actions.get(int(r["id"]), []),
                    "deadline": deadlines.get(int(r["id"])),
                }
                for r in rows
            ],
        }
        for label, count, exact, rows in lanes_rows
    ]
    scenario = request.app.state.deployment.scenarios[view.scenario]
    if fragment is None:
        fragment = request.headers.get("HX-Target") == "board"
    return render(
        request,
        "board.html",
        {
            "page_title": view.label,
            "scenario_title": scenario.title,
            "view_label": view.label,
            "board": board,
            "view_id": view.id,
            "list_query": urlencode(list(params.multi_items())),
            "flash": flash,
            "flash_kind": flash_kind,
        },
        block="board" if fragment else None,
        status=status,
    )
