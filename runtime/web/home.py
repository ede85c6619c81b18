"""The home page: the scenarios, forms and views this user may use."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from runtime.authz import ADMIN
from runtime.web.guard import viewer_of
from runtime.web.templating import render
from runtime.web.urls import form_url, view_url


def menu(request: Request) -> list[dict[str, Any]]:
    state = request.app.state
    viewer = viewer_of(request)
    groups = []
    for scenario in state.deployment.scenarios.values():
        forms = [
            {"label": f.label, "url": form_url(f), "order": f.spec.get("order", 100)}
            for f in scenario.forms.values()
            if f.spec.get("mode", "create") == "create"
            and not f.spec.get("public")
            and not viewer.anonymous
            and state.access.can_use_form(viewer, f)
        ]
        views = [
            {"label": v.label, "url": view_url(v), "order": v.spec.get("order", 100)}
            for v in scenario.views.values()
            if v.kind in ("list", "board")
            and not viewer.anonymous
            and state.access.can_open_view(viewer, v)
        ]
        views += cockpit_links(request, scenario.id)  # dashboards, rankings, archives
        if forms or views:
            groups.append(
                {
                    "title": scenario.title,
                    "forms": sorted(forms, key=lambda x: x["order"]),
                    "views": sorted(views, key=lambda x: x["order"]),
                }
            )
    return groups


def cockpit_links(request: Request, scenario: str) -> list[dict[str, Any]]:
    from runtime.web import dashboards, scores

    return [*dashboards.links(request, scenario), *scores.links(request, scenario)]


def admin_links(request: Request) -> list[dict[str, str]]:
    """The admin pages, for a viewer who holds an admin role somewhere."""
    viewer = viewer_of(request)
    if viewer.anonymous or not request.app.state.access.authz.allowed(viewer, ADMIN, "manage"):
        return []
    pages = {"orgs": "orgs", "users": "users", "import": "users/import", "audit": "audit"}
    return [{"key": f"admin_{k}", "url": f"/admin/{path}"} for k, path in pages.items()]


def staff_links(request: Request) -> list[dict[str, str]]:
    """The scenario catalog (``/catalog``, served by every deployment), for admins and staff."""
    from runtime.web.stranded import may_see

    return [{"key": "catalog", "url": "/catalog"}] if may_see(request) else []


async def stranded_notice(request: Request) -> int:
    """Records left in states an upgrade removed, for the staff who handle them (or 0)."""
    from runtime.web.stranded import may_see, stranded_total

    return await stranded_total(request, cached=True) if may_see(request) else 0


async def home(request: Request) -> Response:
    return render(
        request,
        "home.html",
        {
            "groups": menu(request),
            "admin_links": admin_links(request),
            "staff_links": staff_links(request),
            "stranded": await stranded_notice(request),
        },
    )
