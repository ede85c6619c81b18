"""Per-row workflow on list and board pages: the view's ``actions:`` and the rows' deadlines.

A view's ``actions:`` names transitions (and ``edit``) offered on each row or
card. For the page's rows only, a transition is offered when the workflow's
own checks hold (``workflow.in_source`` / ``is_actor`` / ``offered``: a false
guard hides it); the current handlers of every row come from one query, and
only when a declared transition names ``handler``. A transition without a
form, a required comment or a confirmation is one button that posts to the
transition's URL with the row's version (``engine.take`` checks everything
again: a stale row gets "changed by X meanwhile"); the others link to their
transition page. After the post the list answers in place (htmx swaps
``#results`` / ``#board``) or redirects back to the list (no JavaScript).

Deadlines: ``runtime.timers.deadlines`` for the page's rows, one query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime import workflow
from runtime.access import Viewer
from runtime.engine import engine, hooks
from runtime.model import Entity, Transition, View, text
from runtime.web.display import ZONE
from runtime.web.guard import client_ip
from runtime.web.i18n import t
from runtime.web.lookup import context
from runtime.web.transitions import direct, transition_url
from runtime.web.urls import edit_url, view_url

QUERY_MAX = 2000  # the list's query string carried through a row's post


def declared(view: View) -> list[Transition]:
    """The transitions a view offers on its rows, in the author's order (``edit`` apart)."""
    wf = view.entity.workflow
    if wf is None:
        return []
    out = []
    for name in view.spec.get("actions") or []:
        tr = wf.transitions.get(str(name))
        if tr is not None and "system" not in tr.actors:
            out.append(tr)
    return out


def offers_edit(view: View) -> bool:
    return "edit" in (view.spec.get("actions") or [])


async def row_actions(
    request: Request, view: View, rows: Sequence[Mapping[str, Any]], viewer: Viewer
) -> dict[int, list[dict[str, Any]]]:
    """record id → the buttons and links of the actions this viewer may take on it now."""
    entity = view.entity
    wanted = declared(view)
    edit = offers_edit(view)
    if viewer.anonymous or not rows or not (wanted or edit):
        return {}
    state = request.app.state
    access = state.access
    ctx = context(request)
    locale = request.state.locale
    ids = [int(r["id"]) for r in rows]
    current: dict[int, tuple[set[int], set[str]]] = {}
    if any("handler" in tr.actors for tr in wanted):
        current = await engine.handlers_of(state, entity, ids)
    from runtime.web.records import can_edit

    out: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        rid = int(row["id"])
        record = dict(row)
        items = []
        for tr in wanted:
            if not workflow.in_source(entity, tr, record.get("state")):
                continue
            if not workflow.is_actor(access, entity, tr, viewer, record, current.get(rid)):
                continue
            if not workflow.offered(tr, entity, record, ctx):
                continue
            items.append(
                {
                    "id": tr.id,
                    "label": text(tr.spec.get("label") or tr.id, locale),
                    "tone": tr.spec.get("tone", "default"),
                    "url": transition_url(entity, rid, tr.id),
                    "direct": direct(tr),
                }
            )
        if edit and can_edit(request, entity, record, viewer):
            items.append(
                {
                    "id": "edit",
                    "label": t("edit", locale),
                    "tone": "default",
                    "url": edit_url(entity, rid),
                    "direct": False,
                }
            )
        if items:
            out[rid] = items
    return out


def has_deadlines(entity: Entity) -> bool:
    """Does any state (or its tasks) of the entity's workflow declare a deadline?"""
    wf = entity.workflow
    if wf is None:
        return False
    for spec in wf.states.values():
        if not isinstance(spec, Mapping):
            continue
        tasks = spec.get("tasks")
        if spec.get("deadline") or (isinstance(tasks, Mapping) and tasks.get("deadline")):
            return True
    return False


async def row_deadlines(
    app_state: Any, entity: Entity, ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """record id → {due: the day, overdue: bool} for the rows that have a deadline now."""
    if not ids or not has_deadlines(entity):
        return {}
    found = await hooks.deadlines(app_state, entity, [int(i) for i in ids])
    return {
        int(rid): {"due": due.astimezone(ZONE).date().isoformat(), "overdue": bool(late)}
        for rid, (due, late) in found.items()
        if due is not None
    }


def carried_query(raw: str) -> QueryParams:
    """The list's query string as posted back by a row's form (bounded, re-encoded)."""
    return QueryParams(raw[:QUERY_MAX])


def back_url(view: View, params: QueryParams) -> str:
    items = list(params.multi_items())
    return view_url(view) + ("?" + urlencode(items) if items else "")


def posted_view(request: Request, entity: Entity, tr: Transition, data: Any) -> View:
    """The list view a row's post came from: one of the scenario's list or board views on this
    entity that offers the transition and that the viewer may open (else 404 / 403)."""
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    view: View | None = scenario.views.get(str(data.get("_list") or ""))
    if view is None or view.entity is not entity or view.kind not in ("list", "board"):
        raise HTTPException(404)
    if tr.id not in [d.id for d in declared(view)]:
        raise HTTPException(404)
    if not request.app.state.access.can_open_view(request.state.viewer, view):
        raise HTTPException(403)
    return view


async def take_from_list(
    request: Request, entity: Entity, record: Mapping[str, Any], tr: Transition, data: Any
) -> Response:
    """A row's button was pressed: take the transition, then show the list again."""
    from runtime.web import lists

    viewer: Viewer = request.state.viewer
    view = posted_view(request, entity, tr, data)
    params = carried_query(str(data.get("_query") or ""))
    if not direct(tr):  # it needs a form, a comment or a confirmation: its own page asks
        return RedirectResponse(transition_url(entity, record["id"], tr.id), status_code=303)
    raw = str(data.get("_version") or "")
    locale = request.state.locale
    result = await engine.take(
        request.app.state,
        entity,
        int(record["id"]),
        tr.id,
        viewer=viewer,
        values={},
        comment="",
        expected_version=int(raw) if raw.isdigit() and len(raw) < 19 else None,
        ip=client_ip(request),
        locale=locale,
    )
    htmx = request.headers.get("HX-Request") == "true"
    title = record.get(entity.title_field) if entity.title_field in entity.fields else None
    label = text(tr.spec.get("label") or tr.id, locale)
    if result.ok:
        if not htmx:
            return RedirectResponse(back_url(view, params), status_code=303)
        flash = t("row_action_done", locale, action=label, title=title or f"#{record['id']}")
        return await lists.render_view(request, view, params, flash=flash, fragment=True)
    message = result.message
    if result.fields:
        message = next(iter(result.fields.values()), message) or message
    return await lists.render_view(
        request,
        view,
        params,
        flash=message,
        flash_kind="error",
        status=result.status,
        fragment=htmx,
    )
