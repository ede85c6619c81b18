"""The admin pages (``/admin/…``): org tree, users and grants, user import, audit.

Only holders of an admin role reach them (``common.admin_of``); every change
made here is audited in ``yidi_change``.
"""

from __future__ import annotations

from runtime.web.admin.audit import audit_export, audit_page
from runtime.web.admin.index import index
from runtime.web.admin.orgs import org_create, org_new_page, org_page, org_update, orgs_page
from runtime.web.admin.userimport import (
    import_confirm,
    import_page,
    import_progress,
    import_upload,
)
from runtime.web.admin.users import (
    grant_add,
    grant_remove,
    user_create,
    user_new_page,
    user_page,
    user_reset,
    user_update,
    users_page,
)

__all__ = [
    "audit_export",
    "audit_page",
    "grant_add",
    "grant_remove",
    "import_confirm",
    "import_page",
    "import_progress",
    "import_upload",
    "index",
    "org_create",
    "org_new_page",
    "org_page",
    "org_update",
    "orgs_page",
    "user_create",
    "user_new_page",
    "user_page",
    "user_reset",
    "user_update",
    "users_page",
]
