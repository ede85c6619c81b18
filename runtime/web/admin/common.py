"""What every admin page shares: the admin gate, the admin's scope, and the audit writer.

Only holders of an admin role (``platform/admin``, ``manage`` in Casbin) pass
``admin_of``; anonymous visitors are sent to sign in, everybody else gets
403. An admin manages the subtrees of the units where they hold the role
(``scope``): a county admin adds units, grants roles and resets passwords
only there, so nobody can raise their own rights above their grant.

Every change an admin makes writes an append-only ``Change`` row (the same
table the record writes use): the platform table, the record id, the action,
the admin, the time, the client's IP and the changed values before and after.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.access import Viewer
from runtime.authz import ADMIN, admin_roles
from runtime.deployment import Deployment
from runtime.orgs import within
from runtime.storage.columns import encode
from runtime.storage.result import jsonable
from runtime.storage.rowio import insert_rows
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import denied, now

CHANGE_COLUMNS = ("table", "record_id", "action", "actor", "at", "ip", "before", "after", "note")
USER_TABLE = "yidi_user"
GRANT_TABLE = "yidi_grant"
ORG_TABLE = "yidi_org_unit"  # its ids are text: Change.record_id is 0, the unit id is in note
PLATFORM_TABLES = (USER_TABLE, GRANT_TABLE, ORG_TABLE, "yidi_score_run")  # + score publications
ADMIN_LOCK = 7_310_580_023  # pg_advisory_xact_lock key: grant removals one at a time


@dataclass(frozen=True)
class Admin:
    """The signed-in admin and the units whose subtrees they manage."""

    viewer: Viewer
    units: tuple[str, ...]
    ip: str | None

    @property
    def id(self) -> int:
        assert self.viewer.id is not None
        return self.viewer.id


def admin_of(request: Request) -> Admin:
    """The admin asking, or 401 (anonymous: sent to sign in) / 403 (anyone else)."""
    viewer = viewer_of(request)
    authz = request.app.state.access.authz
    if viewer.anonymous or not authz.allowed(viewer, ADMIN, "manage"):
        raise denied(viewer)
    units = tuple(authz.units(viewer, ADMIN, "manage"))
    return Admin(viewer, units, client_ip(request))


def deployment_of(request: Request) -> Deployment:
    deployment: Deployment = request.app.state.deployment
    return deployment


def manages(request: Request, admin: Admin, unit: str) -> bool:
    """Whether the unit lies in the admin's part of the tree."""
    return within(deployment_of(request), unit, admin.units)


def root_admin(request: Request, admin: Admin) -> bool:
    """Whether the admin manages the whole tree (every root unit)."""
    deployment = deployment_of(request)
    roots = [u.id for u in deployment.org.values() if u.parent is None]
    return all(manages(request, admin, r) for r in roots)


def is_admin_role(request: Request, role: str) -> bool:
    return role in admin_roles(deployment_of(request))


def at(request: Request) -> dt.datetime:
    return now(request)


def change_row(
    pg: bool,
    table: str,
    record_id: int,
    action: str,
    admin: Admin,
    moment: dt.datetime,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> list[Any]:
    """One ``yidi_change`` row, encoded as ``runtime.storage.writes`` encodes its own."""

    def dump(values: Mapping[str, Any] | None) -> str | None:
        if values is None:
            return None
        return json.dumps(jsonable(dict(values)), ensure_ascii=False)

    return [
        table,
        int(record_id),
        action,
        admin.id,
        encode("datetime", moment, pg),
        admin.ip,
        dump(before),
        dump(after),
        note,
    ]


async def audit(conn: BaseDBAsyncClient, pg: bool, rows: Sequence[Sequence[Any]]) -> None:
    """Append ``Change`` rows (several per statement); never updated, never deleted."""
    await insert_rows(conn, pg, "yidi_change", CHANGE_COLUMNS, rows)


async def audit_one(
    request: Request,
    conn: BaseDBAsyncClient,
    table: str,
    record_id: int,
    action: str,
    admin: Admin,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    note: str | None = None,
) -> None:
    """Append the one ``Change`` row of an admin's action, stamped now."""
    pg = request.app.state.store.pg
    row = change_row(pg, table, record_id, action, admin, at(request), before, after, note)
    await audit(conn, pg, [row])


def flash_of(request: Request, allowed: Sequence[str]) -> str | None:
    """The message a redirect asked for (``?ok=key``), when it is one of ``allowed``."""
    key = request.query_params.get("ok", "")
    return t(f"admin_ok_{key}", request.state.locale) if key in allowed else None


def base_context(request: Request, title_key: str, **extra: Any) -> dict[str, Any]:
    locale = request.state.locale
    return {"page_title": t(title_key, locale), "flash": None, **extra}


def clean(value: Any, limit: int) -> str:
    """A posted text value: a string, stripped, control characters removed, at most ``limit``."""
    raw = value if isinstance(value, str) else ""
    kept = "".join(c for c in raw if c.isprintable() or c == " ")
    return kept.strip()[:limit]
