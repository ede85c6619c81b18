"""``/admin/orgs``: the org tree, and the units admins add, edit and switch off.

The units of ``scenarios.yaml`` are read-only here (change the manifest for
them). Below any active unit of their part of the tree an admin adds a unit:
an id (snake_case, unique across the tree), a label in Chinese and English
and a kind one level below the parent's (or a department, which may sit
anywhere). Added units are edited (labels) and switched off or on again; a
unit with active units or grants under it cannot be switched off.
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from runtime.model import text
from runtime.orgs import (
    KINDS,
    UNIT_ID,
    is_active,
    kinds_below,
    label_of,
    load_org,
    ordered,
)
from runtime.storage.platform import Grant
from runtime.storage.platform import OrgUnit as OrgRow
from runtime.web.admin.common import (
    ORG_TABLE,
    Admin,
    admin_of,
    at,
    audit,
    audit_one,
    base_context,
    change_row,
    clean,
    deployment_of,
    flash_of,
    manages,
)
from runtime.web.i18n import t
from runtime.web.templating import render
from runtime.web.uploads import read_form

LABEL_MAX = 100


def kind_text(kind: str, locale: str) -> str:
    return t(f"kind_{kind}", locale) if kind in KINDS else kind


async def orgs_page(request: Request) -> Response:
    admin = admin_of(request)
    deployment = deployment_of(request)
    await load_org(deployment)  # another process may have changed the tree
    locale = request.state.locale
    units = []
    for unit, depth in ordered(deployment):
        managed = manages(request, admin, unit.id)
        declared = getattr(unit, "source", "manifest") == "manifest"
        units.append(
            {
                "id": unit.id,
                "label": text(unit.label, locale),
                "kind": kind_text(unit.kind, locale),
                "depth": depth,
                "declared": declared,
                "active": is_active(unit),
                "add_url": f"/admin/orgs/new?parent={unit.id}"
                if managed and is_active(unit)
                else None,
                "edit_url": f"/admin/orgs/{unit.id}" if managed and not declared else None,
            }
        )
    return render(
        request,
        "admin/orgs.html",
        base_context(
            request,
            "admin_orgs",
            units=units,
            flash=flash_of(request, ("org_created", "org_saved")),
        ),
    )


def _parent(request: Request, admin: Admin, parent_id: str) -> Any:
    deployment = deployment_of(request)
    parent = deployment.org.get(parent_id)
    if parent is None:
        raise HTTPException(404)
    if not manages(request, admin, parent_id):
        raise HTTPException(403)
    return parent


def _new_context(
    request: Request, parent: Any, values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    locale = request.state.locale
    deployment = deployment_of(request)
    return base_context(
        request,
        "admin_org_new",
        parent={
            "id": parent.id,
            "label": text(parent.label, locale),
            "kind": kind_text(parent.kind, locale),
        },
        kinds=[(k, kind_text(k, locale)) for k in kinds_below(deployment, parent.id)],
        values=values,
        errors=errors,
        form_error=t("form_has_errors", locale) if errors else None,
    )


async def org_new_page(request: Request) -> Response:
    admin = admin_of(request)
    parent = _parent(request, admin, str(request.query_params.get("parent") or ""))
    values = {"parent": parent.id, "id": "", "zh": "", "en": "", "kind": ""}
    return render(request, "admin/org_new.html", _new_context(request, parent, values, {}))


async def org_create(request: Request) -> Response:
    admin = admin_of(request)
    form = await read_form(request)
    locale = request.state.locale
    deployment = deployment_of(request)
    parent = _parent(request, admin, clean(form.get("parent"), 64))
    values = {
        "parent": parent.id,
        "id": clean(form.get("id"), 200),
        "zh": clean(form.get("zh"), 1000),
        "en": clean(form.get("en"), 1000),
        "kind": clean(form.get("kind"), 64),
    }
    errors: dict[str, str] = {}
    if not is_active(parent):
        errors["parent"] = t("admin_unit_inactive", locale)
    uid = values["id"]
    if not uid:
        errors["id"] = t("required", locale)
    elif not UNIT_ID.match(uid) or uid == "new":
        errors["id"] = t("admin_unit_id_format", locale)
    elif uid in deployment.org or await OrgRow.exists(id=uid):
        errors["id"] = t("admin_unit_id_taken", locale)
    errors.update(_label_errors(values, locale))
    kind = values["kind"]
    allowed = kinds_below(deployment, parent.id)
    if not kind:
        errors["kind"] = t("required", locale)
    elif kind not in KINDS:
        errors["kind"] = t("admin_kind_unknown", locale)
    elif kind not in allowed:
        errors["kind"] = t(
            "admin_kind_level",
            locale,
            kind=kind_text(kind, locale),
            parent=kind_text(parent.kind, locale),
            allowed="、".join(kind_text(k, locale) for k in allowed),
        )
    if errors:
        return render(
            request,
            "admin/org_new.html",
            _new_context(request, parent, values, errors),
            status=422,
        )
    label = label_of(values["zh"], values["en"])
    path = deployment.org_path(parent.id) + uid + "/"
    store = request.app.state.store
    moment = at(request)
    after = {"parent_id": parent.id, "kind": kind, "label": label, "path": path}
    try:
        async with in_transaction(store.connection_name) as conn:
            await OrgRow.create(id=uid, using_db=conn, **after)
            change = change_row(
                store.pg, ORG_TABLE, 0, "create", admin, moment, None, {"id": uid, **after}, uid
            )
            await audit(conn, store.pg, [change])
    except IntegrityError:  # the same id, added by someone else a moment ago
        errors["id"] = t("admin_unit_id_taken", locale)
        return render(
            request,
            "admin/org_new.html",
            _new_context(request, parent, values, errors),
            status=422,
        )
    await load_org(deployment)
    request.app.state.access.authz.forget()
    return RedirectResponse(f"/admin/orgs?ok=org_created#u-{uid}", status_code=303)


def _label_errors(values: dict[str, str], locale: str) -> dict[str, str]:
    errors = {}
    if not values["zh"]:
        errors["zh"] = t("required", locale)
    elif len(values["zh"]) > LABEL_MAX:
        errors["zh"] = t("admin_too_long", locale, n=LABEL_MAX)
    if len(values["en"]) > 2 * LABEL_MAX:
        errors["en"] = t("admin_too_long", locale, n=2 * LABEL_MAX)
    return errors


def _unit(request: Request, admin: Admin) -> Any:
    deployment = deployment_of(request)
    uid = str(request.path_params.get("id", ""))
    unit = deployment.org.get(uid)
    if unit is None:
        raise HTTPException(404)
    return unit


async def _edit_context(
    request: Request, unit: Any, admin: Admin, values: dict[str, Any], errors: dict[str, str]
) -> dict[str, Any]:
    locale = request.state.locale
    deployment = deployment_of(request)
    parent = deployment.org.get(unit.parent) if unit.parent else None
    declared = getattr(unit, "source", "manifest") == "manifest"
    return base_context(
        request,
        "admin_org_edit",
        unit={
            "id": unit.id,
            "label": text(unit.label, locale),
            "kind": kind_text(unit.kind, locale),
            "path": deployment.org_path(unit.id),
            "parent": text(parent.label, locale) if parent else None,
            "declared": declared,
            "active": is_active(unit),
        },
        editable=not declared and manages(request, admin, unit.id),
        grants=await Grant.filter(org_unit_id=unit.id).count(),
        values=values,
        errors=errors,
        form_error=t("form_has_errors", locale) if errors else None,
        flash=flash_of(request, ("org_saved",)),
    )


def _values_of(unit: Any) -> dict[str, Any]:
    label = unit.label if isinstance(unit.label, dict) else {"zh": text(unit.label)}
    return {"zh": label.get("zh", ""), "en": label.get("en", ""), "active": is_active(unit)}


async def org_page(request: Request) -> Response:
    admin = admin_of(request)
    unit = _unit(request, admin)
    return render(
        request, "admin/org.html", await _edit_context(request, unit, admin, _values_of(unit), {})
    )


async def org_update(request: Request) -> Response:
    admin = admin_of(request)
    unit = _unit(request, admin)
    locale = request.state.locale
    deployment = deployment_of(request)
    if getattr(unit, "source", "manifest") == "manifest" or not manages(request, admin, unit.id):
        raise HTTPException(403)
    form = await read_form(request)
    values: dict[str, Any] = {
        "zh": clean(form.get("zh"), 1000),
        "en": clean(form.get("en"), 1000),
        "active": form.get("active") in ("1", "on", "true"),
    }
    errors = _label_errors(values, locale)
    if is_active(unit) and not values["active"]:
        below = [u for u in deployment.org.values() if u.parent == unit.id and is_active(u)]
        held = await Grant.filter(org_unit_id=unit.id).count()
        if below:
            errors["active"] = t("admin_unit_has_children", locale, n=len(below))
        elif held:
            errors["active"] = t("admin_unit_has_grants", locale, n=held)
    if values["active"] and not is_active(unit):
        parent = deployment.org.get(unit.parent) if unit.parent else None
        if parent is not None and not is_active(parent):
            errors["active"] = t("admin_unit_inactive", locale)
    if errors:
        return render(
            request,
            "admin/org.html",
            await _edit_context(request, unit, admin, values, errors),
            status=422,
        )
    old = _values_of(unit)
    before = {k: old[k] for k in ("zh", "en", "active") if old[k] != values[k]}
    after = {k: values[k] for k in before}
    if before:
        store = request.app.state.store
        label = label_of(values["zh"], values["en"], values["active"])
        async with in_transaction(store.connection_name) as conn:
            await OrgRow.filter(id=unit.id).using_db(conn).update(label=label)
            await audit_one(
                request,
                conn,
                ORG_TABLE,
                0,
                "update",
                admin,
                {"id": unit.id, **before},
                {"id": unit.id, **after},
                unit.id,
            )
        await load_org(deployment)
    return RedirectResponse(f"/admin/orgs/{unit.id}?ok=org_saved", status_code=303)
