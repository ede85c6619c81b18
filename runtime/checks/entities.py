"""Checks of entities and their fields: types, options, defaults, conditions, computed values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runtime.checks.base import RESERVED, SYSTEM_FIELDS, Context, as_map, as_str
from runtime.expr import types as T
from runtime.mistakes import Path, did_you_mean, one_of
from widgets import load_widgets

SYSTEM_TYPES: dict[str, T.Type] = {
    "id": T.NUMBER,
    "org": T.ORG,
    "owner": T.USER,
    "state": T.TEXT,
    "created_at": T.DATETIME,
    "updated_at": T.DATETIME,
    "created_by": T.USER,
    "updated_by": T.USER,
}
_KINDS: dict[str, T.Type] = {
    "text": T.TEXT,
    "number": T.NUMBER,
    "bool": T.BOOL,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "user": T.USER,
    "org": T.ORG,
    "ref": T.REF,
    "file": T.FILE,
    "location": T.LOCATION,
    "list": T.list_of(T.TEXT),
    "children": T.list_of(T.ANY),
}
TEXT_TYPES = {"text", "longtext", "phone", "idcard", "choice"}


def field_type(spec: Mapping[str, Any]) -> T.Type:
    """The expression type of a field's value."""
    widget = load_widgets().get(str(spec.get("type")))
    if widget is None:
        return T.ANY
    base = _KINDS.get(widget.expr_type, T.ANY)
    if spec.get("multiple") is True and widget.expr_type in ("user", "org", "ref"):
        return T.list_of(base)
    return base


def names_of(fields: Mapping[str, Any], *, system: bool = True) -> dict[str, T.Type]:
    """The expression names of a record: its fields plus the system fields."""
    names = dict(SYSTEM_TYPES) if system else {}
    for fid, spec in fields.items():
        if isinstance(spec, dict):
            names[fid] = field_type(spec)
    return names


def check_entities(ctx: Context) -> None:
    for eid, entity in ctx.entities.items():
        entity = as_map(entity)
        path = ("entities", eid)
        fields = as_map(entity.get("fields"))
        check_fields(ctx, (*path, "fields"), fields, names_of(fields))
        title = entity.get("title_field")
        if (
            fields
            and isinstance(title, str)
            and ctx.known((*path, "title_field"), title, fields, "field")
        ):
            kind = as_map(fields[title]).get("type")
            if isinstance(kind, str) and kind not in TEXT_TYPES:
                ctx.add(
                    (*path, "title_field"),
                    f"the title field '{title}' is a {kind} field",
                    expected="a text, longtext or choice field",
                    code="title_type",
                )
        if "edit_roles" in entity:
            ctx.known_each((*path, "edit_roles"), entity["edit_roles"], ctx.roles, "role")
        names = names_of(fields)
        for cid, check in as_map(entity.get("checks")).items():
            check = as_map(check)
            ctx.expr((*path, "checks", cid, "rule"), check.get("rule"), names, what="rule")
            if "field" in check:
                ctx.known((*path, "checks", cid, "field"), check["field"], fields, "field")


def check_fields(
    ctx: Context, path: Path, fields: Mapping[str, Any], names: Mapping[str, T.Type]
) -> None:
    """Check a map of fields (an entity's, a child table's, or a task's)."""
    registry = load_widgets()
    all_options = {key for w in registry.values() for key in w.options}
    roles = ctx.roles
    for fid, spec in fields.items():
        if not isinstance(spec, dict):
            continue
        fpath = (*path, fid)
        if fid in RESERVED:
            ctx.add(
                fpath,
                f"'{fid}' is a name the platform keeps for itself",
                expected="another id",
                hint=f"rename it, e.g. '{fid}_value'",
                code="reserved",
                at_key=True,
            )
        kind = spec.get("type")
        widget = registry.get(kind) if isinstance(kind, str) else None
        if widget is None:
            if isinstance(kind, str):
                ctx.known((*fpath, "type"), kind, registry, "field type")
            continue
        for key in spec:
            if key in all_options and key not in widget.options:
                users = sorted(w.name for w in registry.values() if key in w.options)
                ctx.add(
                    (*fpath, key),
                    f"'{key}' does not apply to a {kind} field",
                    expected=f"options of {kind}: " + (", ".join(sorted(widget.options)) or "none"),
                    hint=f"'{key}' is for {', '.join(users)} fields",
                    code="option_type",
                    at_key=True,
                )
        for key, message in widget.check_options(spec):
            ctx.add((*fpath, *option_path(key)), message, code="option")
        _check_default(ctx, fpath, spec, widget)
        for cond in ("required", "visible", "readonly"):
            if isinstance(spec.get(cond), str):
                ctx.expr((*fpath, cond), spec[cond], names, what="condition")
        if isinstance(spec.get("compute"), str):
            expected_type = field_type(spec)
            ctx.expr(
                (*fpath, "compute"),
                spec["compute"],
                names,
                expect=expected_type,
                what="computed value",
            )
        for key in ("masked_for", "hidden_for", "edit_roles"):
            if key in spec:
                ctx.known_each((*fpath, key), spec[key], roles, "role")
        if kind == "ref":
            ctx.entity_ref((*fpath, "entity"), spec.get("entity"))
        if kind == "user" and "role" in spec:
            ctx.known((*fpath, "role"), spec["role"], roles, "role")
        if kind == "children":
            rows = as_map(spec.get("fields"))
            check_fields(ctx, (*fpath, "fields"), rows, names_of(rows, system=False))
    _check_compute_cycles(ctx, path, fields)


def _check_default(ctx: Context, path: Path, spec: Mapping[str, Any], widget: Any) -> None:
    if "default" not in spec or spec["default"] is None:
        return
    if "compute" in spec:
        ctx.add(
            (*path, "default"),
            "a computed field cannot have a default",
            expected="either default or compute",
            code="default_compute",
            at_key=True,
        )
        return
    value, problem = widget.parse(spec["default"], spec)
    if problem is None and value is not None:
        problem = widget.validate(value, spec)
    if problem is not None:
        reason = problem.en[:1].lower() + problem.en[1:]
        options = [o.get("value") if isinstance(o, dict) else o for o in spec.get("options") or []]
        ctx.add(
            (*path, "default"),
            f"the default {spec['default']!r} does not fit a {spec.get('type')} field: {reason}",
            expected=one_of((str(o) for o in options), ordered=True) if options else None,
            code="bad_default",
        )


def _check_compute_cycles(ctx: Context, path: Path, fields: Mapping[str, Any]) -> None:
    """Computed fields may not depend on themselves; each cycle is reported once, named."""
    uses: dict[str, list[str]] = {}
    for fid, spec in fields.items():
        source = as_str(as_map(spec).get("compute"))
        if source:
            uses[fid] = [name for name in fields if _mentions(source, name)]
            if any(_mentions(source, word) for word in ("now", "today")):
                ctx.add(
                    (*path, fid, "compute"),
                    "a computed value cannot use now or today",
                    expected="an expression over fields only",
                    hint="computed values are stored; filter on today in a view's where instead",
                    code="compute_clock",
                )
    reported: set[frozenset[str]] = set()
    for start in uses:
        cycle = _cycle_from(start, uses)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            ctx.add(
                (*path, start, "compute"),
                "computed fields depend on each other: " + " → ".join([*cycle, cycle[0]]),
                expected="computed values without cycles",
                code="cycle",
            )


def _cycle_from(start: str, uses: Mapping[str, list[str]]) -> list[str] | None:
    """The fields of a cycle through ``start``, in order, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, trail = stack.pop()
        for nxt in uses.get(current, ()):
            if nxt == start:
                return trail
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def option_path(key: str) -> tuple[str | int, ...]:
    """A widget's option key ('options[2]', 'fields.qty.min') as path parts."""
    parts: list[str | int] = []
    for piece in key.split("."):
        name, *indexes = re.split(r"\[(\d+)\]", piece)
        if name:
            parts.append(name)
        parts += [int(i) for i in indexes if i]
    return tuple(parts)


def _mentions(source: str, name: str) -> bool:
    return re.search(rf"(?<![\w.'\"]){re.escape(name)}(?![\w'\"])", source) is not None


def field_ids(ctx: Context, entity: str, *, system: bool = True) -> list[str]:
    ids = list(ctx.fields(entity))
    return ids + list(SYSTEM_FIELDS) if system else ids


def check_field_list(
    ctx: Context, path: Path, value: Any, entity: str, *, system: bool = True, what: str = "field"
) -> list[str]:
    """Each item of a list of field ids must be a field of ``entity``; return the known ones."""
    pool = field_ids(ctx, entity, system=system)
    if not ctx.fields(entity):
        return []  # the entity's fields were refused by the schema: said once there
    good = []
    for i, item in enumerate(value if isinstance(value, list) else []):
        if not isinstance(item, str):
            continue
        if item in pool:
            good.append(item)
        else:
            ctx.add(
                (*path, i),
                f"unknown {what} '{item}' of entity '{entity}'",
                expected=one_of(pool, 12, ordered=True),
                hint=did_you_mean(item, pool),
                code="unknown_field",
            )
    return good
