"""What the form templates need for each field: label, input value, options, state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from runtime.model import Entity, Field, text
from runtime.web.display import option_labels
from runtime.web.display import raw as raw_text
from runtime.web.formdata import FILE_TYPES, Conditions

USER_CHOICES_LIMIT = 500

SIMILAR_TYPES = ("text", "longtext")  # fields that may ask for similar records (智能查重)


async def user_choices(request: Request, entity: Entity, f: Field) -> list[tuple[str, str]]:
    """Users who may be picked in a user field: holders of its scenario role (or everyone)."""
    from runtime.storage.platform import Grant, User

    scenario = request.app.state.deployment.scenarios[entity.scenario]
    role = f.spec.get("role")
    users = User.filter(active=True)
    if role:
        platform = scenario.role_map.get(role, [])
        ids = await Grant.filter(role__in=platform).values_list("user_id", flat=True)
        users = users.filter(id__in=list(set(ids)))
    rows = await users.order_by("name").limit(USER_CHOICES_LIMIT).values_list("id", "name")
    return [(str(i), str(n)) for i, n in rows]


def org_choices(
    request: Request, f: Field, locale: str, value: Any = None
) -> list[tuple[str, str]]:
    """The units an org field offers: those of its kind at the viewer's own level (a Lucheng
    staff member picks Lucheng's departments), plus whatever the field already holds."""
    from runtime.orgs import nearby_units
    from runtime.web.guard import viewer_of

    deployment = request.app.state.deployment
    viewer = viewer_of(request)
    wanted = nearby_units(deployment, None if viewer.anonymous else viewer.org, f.spec.get("kind"))
    held = value if isinstance(value, list) else [value]
    wanted += [v for v in held if isinstance(v, str) and v in deployment.org and v not in wanted]
    return [(u, text(deployment.org[u].label, locale)) for u in wanted]


async def field_state(
    request: Request,
    entity: Entity,
    f: Field,
    *,
    value: Any,
    raw: Any,
    error: str | None,
    cond: Conditions | None,
    check_url: str | None,
    files: list[dict[str, Any]] | None = None,
    oob: bool = False,
) -> dict[str, Any]:
    locale = request.state.locale
    options: list[tuple[str, str]] | None = None
    if f.type in ("choice", "multichoice"):
        options = list(option_labels(f, locale).items())
    elif f.type == "org":
        options = org_choices(request, f, locale, value)
    elif f.type == "user":
        options = await user_choices(request, entity, f)
    if raw is not None:
        shown = (
            raw
            if isinstance(raw, str)
            else ",".join(str(v) for v in raw)
            if isinstance(raw, list)
            else str(raw)
        )
        many = (
            [str(v) for v in raw]
            if isinstance(raw, list)
            else ([str(raw)] if raw not in ("", None) else [])
        )
    else:
        shown = raw_text(f, value)
        many = (
            [str(v) for v in value]
            if isinstance(value, list)
            else ([str(value)] if value is not None else [])
        )
    rows: list[Mapping[str, Any]] = []
    if f.type == "children":
        given = raw if isinstance(raw, list) else value if isinstance(value, list) else []
        rows = [dict(r) for r in given] + [{} for _ in range(3)]
    accept = f.spec.get("accept") or getattr(f.widget, "default_accept", None)
    return {
        "id": f.id,
        "label": f.label,
        "help": f.spec.get("help"),
        "template": f.widget.template or "_text.html",
        "spec": f.spec,
        "value": shown,
        "chosen": many,
        "options": options,
        "multiple": f.multiple,
        "error": error,
        "visible": cond.visible if cond else True,
        "required": cond.required if cond else False,
        "readonly": cond.readonly if cond else False,
        "check_url": None if f.type in FILE_TYPES or f.type == "children" else check_url,
        "similar_url": check_url.replace("/check?", "/similar?", 1)
        if check_url and "/f/" in check_url and f.spec.get("similar") and f.type in SIMILAR_TYPES
        else None,
        "files": files or [],
        "accept": ",".join("." + a for a in accept) if isinstance(accept, list | tuple) else None,
        "subfields": [
            {"id": s.id, "label": s.label, "required": s.spec.get("required") is True}
            for s in f.children.values()
        ]
        if f.type == "children"
        else [],
        "rows": rows,
        "oob": oob,
    }
