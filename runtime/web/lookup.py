"""Finding what a URL names (scenario, view, form, entity) and the evaluation context."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request

from runtime.access import Viewer
from runtime.expr import Context
from runtime.model import Entity, Form, Scenario, View
from runtime.web.display import ZONE
from runtime.web.guard import viewer_of


def scenario_of(request: Request) -> Scenario:
    found = request.app.state.deployment.scenarios.get(request.path_params.get("scenario"))
    if found is None:
        raise HTTPException(404)
    return found  # type: ignore[no-any-return]


def view_of(request: Request) -> View:
    view = scenario_of(request).views.get(request.path_params.get("view"))
    if view is None:
        raise HTTPException(404)
    return view


def form_of(request: Request) -> Form:
    form = scenario_of(request).forms.get(request.path_params.get("form"))
    if form is None:
        raise HTTPException(404)
    return form


def entity_of(request: Request) -> Entity:
    entity = scenario_of(request).entities.get(request.path_params.get("entity"))
    if entity is None:
        raise HTTPException(404)
    return entity


def record_id(request: Request) -> int:
    raw = str(request.path_params.get("id", ""))
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(404)
    return int(raw)


def now(request: Request) -> dt.datetime:
    """The app's clock (tests set ``app.state.clock``)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else dt.datetime.now(dt.UTC)


def context(request: Request, viewer: Viewer | None = None, **extra: Any) -> Context:
    viewer = viewer or viewer_of(request)
    moment = now(request)
    return Context(
        user_id=viewer.id, user_org=viewer.org, now=moment, today=moment.astimezone(ZONE).date()
    )


def denied(viewer: Viewer) -> HTTPException:
    """401 for anonymous visitors (they are sent to sign in), 403 for the signed-in."""
    return HTTPException(401 if viewer.anonymous else 403)
