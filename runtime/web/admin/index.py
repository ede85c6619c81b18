"""``/admin``: the admin's start page, linking the sections; a notice when records are
left in states an upgrade removed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from runtime.web.admin.common import admin_of, base_context
from runtime.web.stranded import stranded_total
from runtime.web.templating import render

SECTIONS = (
    ("/admin/orgs", "admin_orgs", "admin_orgs_help"),
    ("/admin/users", "admin_users", "admin_users_help"),
    ("/admin/users/import", "admin_import", "admin_import_help"),
    ("/admin/audit", "admin_audit", "admin_audit_help"),
    ("/admin/stranded", "admin_stranded", "admin_stranded_help"),
)


async def index(request: Request) -> Response:
    admin_of(request)
    stranded = await stranded_total(request)
    return render(
        request,
        "admin/index.html",
        base_context(request, "admin", sections=SECTIONS, stranded=stranded),
    )
