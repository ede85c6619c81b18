"""``/admin/users``: accounts and their role grants.

A searchable list paged by login (keyset); a new account (login, name) has no
password until an admin resets it: the reset shows a strong random password
once, on that page only, and stores only its argon2 hash. Grants (a platform
role at an org unit) are added and removed here. An admin acts only on units
of their part of the tree, and only on accounts whose grants all lie there;
the last admin grant at the root of the tree cannot be removed (nor its
holder switched off). Every change is audited (``common.audit``).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from runtime.authz import admin_roles
from runtime.model import text
from runtime.orgs import is_active, ordered
from runtime.storage.platform import Grant, User
from runtime.storage.sql import P, Sql
from runtime.web import passwords
from runtime.web.admin.common import (
    ADMIN_LOCK,
    GRANT_TABLE,
    USER_TABLE,
    Admin,
    admin_of,
    at,
    audit_one,
    base_context,
    clean,
    deployment_of,
    flash_of,
    manages,
)
from runtime.web.admin.paging import fetch_page, like, page_url
from runtime.web.i18n import t
from runtime.web.sessions import Session
from runtime.web.templating import render
from runtime.web.uploads import read_form

LOGIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$")
NAME_MAX = 200
PAGE = 50
OK_KEYS = ("user_created", "user_saved", "grant_added", "grant_removed")
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def new_password() -> str:
    """16 random letters and digits in four groups (about 90 bits), e.g. ``Xk7m-Pq3r-…``."""
    while True:
        raw = "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))
        password = "-".join(raw[i : i + 4] for i in range(0, 16, 4))
        if not passwords.problems(password):
            return password


def role_options(request: Request) -> list[tuple[str, str]]:
    locale = request.state.locale
    roles = deployment_of(request).platform_roles
    return [(rid, text((spec or {}).get("label") or rid, locale)) for rid, spec in roles.items()]


def unit_options(request: Request, admin: Admin) -> list[tuple[str, str]]:
    """Active units the admin manages, indented by depth (for a select)."""
    locale = request.state.locale
    return [
        (u.id, "\u3000" * depth + text(u.label, locale))
        for u, depth in ordered(deployment_of(request))
        if is_active(u) and manages(request, admin, u.id)
    ]


def role_name(request: Request, role: str) -> str:
    spec = deployment_of(request).platform_roles.get(role) or {}
    return text(spec.get("label") or role, request.state.locale)


def unit_name(request: Request, unit: str) -> str:
    found = deployment_of(request).org.get(unit)
    return text(found.label, request.state.locale) if found else unit


# ------------------------------------------------------------------ the list


async def users_page(request: Request) -> Response:
    admin = admin_of(request)
    store = request.app.state.store
    pg = store.pg
    params = request.query_params
    deployment = deployment_of(request)
    q = clean(params.get("q"), 100)
    active = params.get("active", "")
    org = str(params.get("org") or "")
    role = str(params.get("role") or "")
    where: list[Sql] = []
    if q:
        pattern = like(q)
        where.append(
            Sql(
                pg,
                '(LOWER(u."login") LIKE ',
                P(pattern),
                " ESCAPE '\\' OR LOWER(u.\"name\") LIKE ",
                P(pattern),
                " ESCAPE '\\')",
            )
        )
    if active in ("1", "0"):
        where.append(Sql(pg, 'u."active"' if active == "1" else 'NOT u."active"'))
    if org in deployment.org or role in deployment.platform_roles:
        grant = Sql(pg, 'EXISTS (SELECT 1 FROM "yidi_grant" g WHERE g."user_id" = u."id"')
        if org in deployment.org:
            top = deployment.org_path(org)
            units = [u for u in deployment.org if deployment.org_path(u).startswith(top)]
            if len(units) < len(deployment.org):
                grant.add(' AND g."org_unit_id" IN (').join([Sql(pg, P(u)) for u in units], ", ")
                grant.add(")")
        if role in deployment.platform_roles:
            grant.add(' AND g."role" = ', P(role))
        where.append(grant.add(")"))
    after = clean(params.get("after"), 200) or None
    before = clean(params.get("before"), 200) or None
    page = await fetch_page(
        store.db(),
        pg,
        'SELECT u."id", u."login", u."name", u."active", u."password_hash" IS NOT NULL AS has_password '
        'FROM "yidi_user" u',
        where,
        'u."login"',
        "login",
        after=after,
        before=before,
        size=PAGE,
    )
    count_sql = Sql(pg, 'SELECT COUNT(*) AS n FROM "yidi_user" u')
    if where:
        count_sql.add(" WHERE ").join(where, " AND ")
    sql, values = count_sql.render()
    total = int((await store.db().execute_query_dict(sql, values))[0]["n"])
    ids = [int(r["id"]) for r in page.rows]
    held: dict[int, list[str]] = {}
    for g in (
        await Grant.filter(user_id__in=ids).order_by("id").values("user_id", "org_unit_id", "role")
    ):
        held.setdefault(int(g["user_id"]), []).append(
            f"{unit_name(request, g['org_unit_id'])} · {role_name(request, g['role'])}"
        )
    base = "/admin/users"
    rows = [
        {
            "url": f"/admin/users/{r['id']}",
            "login": r["login"],
            "name": r["name"],
            "active": bool(r["active"]),
            "has_password": bool(r["has_password"]),
            "grants": held.get(int(r["id"]), []),
        }
        for r in page.rows
    ]
    return render(
        request,
        "admin/users.html",
        base_context(
            request,
            "admin_users",
            q=q,
            active=active,
            org=org,
            role=role,
            units=unit_options(request, admin) if len(deployment.org) <= 5000 else [],
            roles=role_options(request),
            rows=rows,
            total_text=t("total", request.state.locale, n=total),
            next_url=page_url(base, params, after=page.next) if page.next else None,
            prev_url=page_url(base, params, before=page.prev) if page.prev else None,
            first_url=page_url(base, params) if (after or before) else None,
        ),
        block="results" if request.headers.get("HX-Target") == "results" else None,
    )


# ------------------------------------------------------------------ one user


async def _user(request: Request) -> User:
    uid = int(request.path_params["id"])
    user = await User.get_or_none(id=uid) if 0 < uid < 2**63 else None
    if user is None:
        raise HTTPException(404)
    return user


async def _grants(user: User) -> list[dict[str, Any]]:
    return list(
        await Grant.filter(user_id=user.id).order_by("id").values("id", "org_unit_id", "role")
    )


def may_manage(request: Request, admin: Admin, grants: list[dict[str, Any]]) -> bool:
    """An admin acts on an account only when every grant it holds lies in their part of the tree."""
    return all(manages(request, admin, str(g["org_unit_id"])) for g in grants)


async def _page(
    request: Request,
    admin: Admin,
    user: User,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    grant_values: dict[str, str] | None = None,
    password: str | None = None,
    error: str | None = None,
) -> Response:
    locale = request.state.locale
    grants = await _grants(user)
    manageable = may_manage(request, admin, grants)
    errors = errors or {}
    headers = {"Cache-Control": "no-store"} if password else None
    return render(
        request,
        "admin/user.html",
        base_context(
            request,
            "admin_user",
            account={
                "id": user.id,
                "login": user.login,
                "name": user.name,
                "active": user.active,
                "has_password": bool(user.password_hash),
                "locked": user.locked_until is not None and user.locked_until > at(request),
            },
            manageable=manageable,
            values=values or {"name": user.name, "active": user.active},
            grant_values=grant_values or {"org": "", "role": ""},
            errors=errors,
            error=error or (t("form_has_errors", locale) if errors else None),
            grants=[
                {
                    "id": g["id"],
                    "unit": unit_name(request, g["org_unit_id"]),
                    "unit_id": g["org_unit_id"],
                    "role": role_name(request, g["role"]),
                    "removable": manages(request, admin, str(g["org_unit_id"])),
                }
                for g in grants
            ],
            units=unit_options(request, admin),
            roles=role_options(request),
            password=password,
            flash=flash_of(request, OK_KEYS),
        ),
        status=status,
        headers=headers,
    )


async def user_page(request: Request) -> Response:
    admin = admin_of(request)
    user = await _user(request)
    return await _page(request, admin, user)


async def _require_manageable(request: Request, admin: Admin, user: User) -> None:
    if not may_manage(request, admin, await _grants(user)):
        raise HTTPException(403)


async def user_update(request: Request) -> Response:
    admin = admin_of(request)
    user = await _user(request)
    await _require_manageable(request, admin, user)
    locale = request.state.locale
    form = await read_form(request)
    name = clean(form.get("name"), 1000)
    values: dict[str, Any] = {
        "name": name,
        "active": form.get("active") in ("1", "on", "true"),
    }
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = t("required", locale)
    elif len(name) > NAME_MAX:
        errors["name"] = t("admin_too_long", locale, n=NAME_MAX)
    if user.active and not values["active"]:
        if user.id == admin.id:
            errors["active"] = t("admin_not_yourself", locale)
    if errors:
        return await _page(request, admin, user, status=422, errors=errors, values=values)
    before = {k: getattr(user, k) for k in ("name", "active") if getattr(user, k) != values[k]}
    after = {k: values[k] for k in before}
    if before:
        store = request.app.state.store
        async with in_transaction(store.connection_name) as conn:
            await _lock(conn, store.pg)
            if before.get("active") and not await _other_root_admin(request, conn, user.id):
                errors["active"] = t("admin_last_admin_user", locale)
            else:
                await User.filter(id=user.id).using_db(conn).update(**after)
                await audit_one(
                    request,
                    conn,
                    USER_TABLE,
                    user.id,
                    "update",
                    admin,
                    {"login": user.login, **before},
                    {"login": user.login, **after},
                )
        if errors:
            return await _page(request, admin, user, status=409, errors=errors, values=values)
        if "active" in after and not after["active"]:
            await Session.filter(user_id=user.id).delete()
    return RedirectResponse(f"/admin/users/{user.id}?ok=user_saved", status_code=303)


async def user_reset(request: Request) -> Response:
    """A new random password, shown once on this page; only its hash is stored."""
    admin = admin_of(request)
    user = await _user(request)
    await _require_manageable(request, admin, user)
    password = new_password()
    hashed = await asyncio.to_thread(passwords.hash_password, password)
    store = request.app.state.store
    async with in_transaction(store.connection_name) as conn:
        await (
            User.filter(id=user.id)
            .using_db(conn)
            .update(password_hash=hashed, failed_logins=0, locked_until=None)
        )
        await Session.filter(user_id=user.id).using_db(conn).delete()
        await audit_one(
            request, conn, USER_TABLE, user.id, "reset_password", admin, None, None, user.login
        )
    await user.refresh_from_db()
    return await _page(request, admin, user, password=password)


async def grant_add(request: Request) -> Response:
    admin = admin_of(request)
    user = await _user(request)
    locale = request.state.locale
    deployment = deployment_of(request)
    form = await read_form(request)
    values = {"org": clean(form.get("org"), 64), "role": clean(form.get("role"), 64)}
    errors: dict[str, str] = {}
    unit = deployment.org.get(values["org"]) if values["org"] else None
    if not values["org"]:
        errors["org"] = t("required", locale)
    elif unit is None:
        errors["org"] = t("admin_unknown_unit", locale, unit=values["org"])
    elif not manages(request, admin, unit.id):
        errors["org"] = t("admin_out_of_scope", locale)
    elif not is_active(unit):
        errors["org"] = t("admin_unit_inactive", locale)
    if not values["role"]:
        errors["role"] = t("required", locale)
    elif values["role"] not in deployment.platform_roles:
        errors["role"] = t("admin_unknown_role", locale, role=values["role"])
    if not errors and await Grant.exists(
        user_id=user.id, org_unit_id=values["org"], role=values["role"]
    ):
        errors["role"] = t("admin_grant_exists", locale)
    if errors:
        return await _page(request, admin, user, status=422, errors=errors, grant_values=values)
    store = request.app.state.store
    try:
        async with in_transaction(store.connection_name) as conn:
            grant = await Grant.create(
                user_id=user.id, org_unit_id=values["org"], role=values["role"], using_db=conn
            )
            after = {
                "user_id": user.id,
                "login": user.login,
                "org_unit_id": values["org"],
                "role": values["role"],
            }
            await audit_one(request, conn, GRANT_TABLE, grant.id, "create", admin, None, after)
    except IntegrityError:  # added by someone else a moment ago
        errors["role"] = t("admin_grant_exists", locale)
        return await _page(request, admin, user, status=422, errors=errors, grant_values=values)
    request.app.state.access.authz.forget()
    return RedirectResponse(f"/admin/users/{user.id}?ok=grant_added", status_code=303)


async def grant_remove(request: Request) -> Response:
    admin = admin_of(request)
    user = await _user(request)
    locale = request.state.locale
    form = await read_form(request)
    raw = clean(form.get("grant"), 20)
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(400)
    grant = await Grant.get_or_none(id=int(raw), user_id=user.id)
    if grant is None:
        raise HTTPException(404)
    if not manages(request, admin, grant.org_unit_id):
        raise HTTPException(403)
    store = request.app.state.store
    error = None
    async with in_transaction(store.connection_name) as conn:
        await _lock(conn, store.pg)
        if grant.role in admin_roles(deployment_of(request)) and not await _other_admin(
            request, conn, grant
        ):
            error = t("admin_last_admin", locale)
        else:
            await Grant.filter(id=grant.id).using_db(conn).delete()
            before = {
                "user_id": user.id,
                "login": user.login,
                "org_unit_id": grant.org_unit_id,
                "role": grant.role,
            }
            await audit_one(request, conn, GRANT_TABLE, grant.id, "delete", admin, before, None)
    if error:
        return await _page(request, admin, user, status=409, error=error)
    request.app.state.access.authz.forget()
    return RedirectResponse(f"/admin/users/{user.id}?ok=grant_removed", status_code=303)


async def _lock(conn: BaseDBAsyncClient, pg: bool) -> None:
    """One admin-grant removal at a time (SQLite serialises writers already)."""
    if pg:
        await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [ADMIN_LOCK])


def _roots(request: Request) -> list[str]:
    return [u.id for u in deployment_of(request).org.values() if u.parent is None]


async def _admin_grants(request: Request, conn: BaseDBAsyncClient) -> list[dict[str, Any]]:
    """Admin grants held by active accounts."""
    roles = admin_roles(deployment_of(request))
    return list(
        await Grant.filter(role__in=roles, user__active=True)
        .using_db(conn)
        .values("id", "user_id", "org_unit_id")
    )


async def _other_admin(request: Request, conn: BaseDBAsyncClient, grant: Grant) -> bool:
    """Whether an admin grant other than ``grant`` remains (at a root, when ``grant`` is there)."""
    others = [g for g in await _admin_grants(request, conn) if g["id"] != grant.id]
    roots = _roots(request)
    if grant.org_unit_id in roots:
        return any(g["org_unit_id"] in roots for g in others)
    return bool(others)


async def _other_root_admin(request: Request, conn: BaseDBAsyncClient, user_id: int) -> bool:
    """Whether switching ``user_id`` off leaves an active admin at the root (or needs none)."""
    roots = _roots(request)
    grants = await _admin_grants(request, conn)
    if not any(g["user_id"] == user_id and g["org_unit_id"] in roots for g in grants):
        return True
    return any(g["user_id"] != user_id and g["org_unit_id"] in roots for g in grants)


# ------------------------------------------------------------------ a new user


def _new_context(
    request: Request, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return base_context(
        request,
        "admin_user_new",
        values=values,
        errors=errors,
        error=t("form_has_errors", request.state.locale) if errors else None,
    )


async def user_new_page(request: Request) -> Response:
    admin_of(request)
    return render(
        request, "admin/user_new.html", _new_context(request, {"login": "", "name": ""}, {})
    )


async def user_create(request: Request) -> Response:
    admin = admin_of(request)
    locale = request.state.locale
    form = await read_form(request)
    values = {"login": clean(form.get("login"), 1000), "name": clean(form.get("name"), 1000)}
    errors: dict[str, str] = {}
    if not values["login"]:
        errors["login"] = t("required", locale)
    elif not LOGIN.match(values["login"]):
        errors["login"] = t("admin_login_format", locale)
    elif await User.exists(login=values["login"]):
        errors["login"] = t("admin_login_taken", locale)
    if not values["name"]:
        errors["name"] = t("required", locale)
    elif len(values["name"]) > NAME_MAX:
        errors["name"] = t("admin_too_long", locale, n=NAME_MAX)
    if not errors:
        store = request.app.state.store
        try:
            async with in_transaction(store.connection_name) as conn:
                user = await User.create(
                    login=values["login"], name=values["name"], active=True, using_db=conn
                )
                after = {"login": user.login, "name": user.name, "active": True}
                await audit_one(request, conn, USER_TABLE, user.id, "create", admin, None, after)
        except IntegrityError:
            errors["login"] = t("admin_login_taken", locale)
    if errors:
        return render(
            request, "admin/user_new.html", _new_context(request, values, errors), status=422
        )
    return RedirectResponse(f"/admin/users/{user.id}?ok=user_created", status_code=303)
