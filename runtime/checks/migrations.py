"""Checks of ``migrations``: what each step names must exist in this (the new) version.

``move_state`` moves records to a state of the entity's workflow (the states it
moves from are usually ones this version removed, so they are not checked);
``rename_field`` copies a field this version no longer has into one it has;
``set`` gives a field a value or an expression's value, on the records a
``where`` condition admits. A migration's ``from`` range must not admit the
package's own version (records made under it need no migration), and each
range appears once (a step is known by its range and position).
"""

from __future__ import annotations

from typing import Any

from runtime.checks.base import Context, as_list, as_map, as_str
from runtime.checks.entities import field_type, names_of
from runtime.mistakes import Path, did_you_mean, one_of
from runtime.semver import Version, parse_range
from widgets import load_widgets

KINDS = ("move_state", "rename_field", "set")
COPYABLE_NOT = ("children",)  # field types kept in child tables: no column to copy into


def check_migrations(ctx: Context) -> None:
    seen: dict[str, int] = {}
    for i, migration in enumerate(as_list(ctx.data.get("migrations"))):
        migration = as_map(migration)
        path: Path = ("migrations", i)
        source = as_str(migration.get("from"))
        if source is not None:
            _check_range(ctx, (*path, "from"), source, seen, i)
        for j, item in enumerate(as_list(migration.get("steps"))):
            item = as_map(item)
            if len(item) != 1:
                continue  # the schema says: exactly one kind per step
            ((kind, spec),) = item.items()
            if kind in KINDS and isinstance(spec, dict):
                _check_step(ctx, (*path, "steps", j, kind), kind, spec)


def _check_range(ctx: Context, path: Path, source: str, seen: dict[str, int], i: int) -> None:
    allowed = parse_range(source)
    if allowed is None:
        return  # the schema's pattern already said it
    own = Version.parse(str(ctx.data.get("version")))
    if own is not None and allowed.contains(own):
        ctx.add(
            path,
            f"'{source}' admits this package's own version {own}",
            expected=f"a range of older versions, e.g. '<{own}'",
            hint="a migration changes records made under older versions",
            code="migration_range",
        )
    if source in seen:
        ctx.add(
            path,
            f"migration {seen[source] + 1} already has from: '{source}'",
            expected="one migration per range; add steps to that migration",
            code="duplicate",
        )
    else:
        seen[source] = i


def _check_step(ctx: Context, path: Path, kind: str, spec: dict[str, Any]) -> None:
    entity = spec.get("entity")
    if not ctx.usable((*path, "entity"), entity):
        return
    assert isinstance(entity, str)
    fields = ctx.fields(entity)
    names = names_of(fields)
    if isinstance(spec.get("where"), str):
        ctx.expr((*path, "where"), spec["where"], names, what="condition")
    if kind == "move_state":
        found = ctx.workflow_of(entity)
        if found is None:
            ctx.add(
                (*path, "entity"),
                f"entity '{entity}' has no workflow, so no states to move records to",
                expected="an entity with a workflow",
                code="no_workflow",
            )
            return
        states = as_map(found[1].get("states"))
        to = spec.get("to")
        ctx.known((*path, "to"), to, states, "state")
        for k, source in enumerate(as_list(spec.get("from"))):
            where = (*path, "from", k) if isinstance(spec.get("from"), list) else (*path, "from")
            if source == to:
                ctx.add(where, f"moves records from '{to}' to itself", code="migration_same")
    elif kind == "rename_field":
        old, new = spec.get("from"), spec.get("to")
        if not _target(ctx, (*path, "to"), new, fields):
            return
        if old == new:
            ctx.add((*path, "from"), f"copies '{old}' into itself", code="migration_same")
        elif isinstance(old, str) and old in fields:
            ctx.add(
                (*path, "from"),
                f"field '{old}' is still a field of '{entity}' in this version",
                expected="a field an older version had and this one removed",
                hint="to change values of a current field use a set step",
                code="migration_field",
            )
    else:
        _check_set(ctx, path, spec, fields, names)


def _target(ctx: Context, path: Path, fid: Any, fields: dict[str, Any]) -> bool:
    """``fid`` names a field of this version with a column of its own."""
    if not ctx.known(path, fid, fields, "field"):
        return False
    kind = as_map(fields[fid]).get("type")
    if kind in COPYABLE_NOT or "compute" in as_map(fields[fid]):
        ctx.add(
            path,
            f"field '{fid}' is {'computed' if kind not in COPYABLE_NOT else 'a ' + str(kind) + ' field'}"
            " and cannot be written by a migration",
            expected="a plain field: "
            + one_of(
                f
                for f, s in fields.items()
                if as_map(s).get("type") not in COPYABLE_NOT and "compute" not in as_map(s)
            ),
            code="migration_field",
        )
        return False
    return True


def _check_set(
    ctx: Context, path: Path, spec: dict[str, Any], fields: dict[str, Any], names: Any
) -> None:
    fid = spec.get("field")
    if not isinstance(fid, str) or not _target(ctx, (*path, "field"), fid, fields):
        return
    field = as_map(fields[fid])
    if ("value" in spec) == ("expression" in spec):
        ctx.add(
            path,
            "a set step needs either value or expression",
            expected="value: 闭会期间, or expression: \"coalesce(session, '闭会期间')\"",
            code="migration_set",
            at_key=True,
        )
        return
    if "expression" in spec:
        ctx.expr(
            (*path, "expression"),
            spec["expression"],
            names,
            expect=field_type(field),
            what="value",
        )
        return
    widget = load_widgets().get(str(field.get("type")))
    if widget is None or spec["value"] is None:
        return
    value, problem = widget.parse(spec["value"], field)
    if problem is None and value is not None:
        problem = widget.validate(value, field)
    if problem is not None:
        options = [o.get("value") if isinstance(o, dict) else o for o in field.get("options") or []]
        ctx.add(
            (*path, "value"),
            f"{spec['value']!r} does not fit the {field.get('type')} field '{fid}': "
            + problem.en[:1].lower()
            + problem.en[1:],
            expected=one_of((str(o) for o in options), ordered=True) if options else None,
            hint=did_you_mean(str(spec["value"]), [str(o) for o in options]) if options else None,
            code="bad_value",
        )
