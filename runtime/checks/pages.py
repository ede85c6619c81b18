"""Checks of views and forms: entities, fields, roles, filters and prefill."""

from __future__ import annotations

from typing import Any

from runtime.checks.base import Context, as_list, as_map, as_str
from runtime.checks.entities import check_field_list, field_type, names_of
from runtime.expr import types as T
from runtime.mistakes import did_you_mean, one_of

GROUPABLE = {"choice", "bool", "org", "user", "rating"}
NOT_FILTERABLE = {"children", "file", "image", "audio", "video", "location", "longtext"}


def check_views(ctx: Context) -> None:
    for vid, view in ctx.section("views").items():
        view = as_map(view)
        path = ("views", vid)
        if "roles" in view:
            ctx.known_each((*path, "roles"), view["roles"], ctx.roles, "role")
        entity = view.get("entity")
        if not ctx.usable((*path, "entity"), entity):
            continue
        fields = ctx.fields(entity)
        names = names_of(fields)
        ctx.expr((*path, "where"), view.get("where"), names, what="filter")
        for key in ("columns", "fields", "search"):
            check_field_list(ctx, (*path, key), view.get(key), entity)
        for i, fid in enumerate(
            check_field_list(ctx, (*path, "filters"), view.get("filters"), entity)
        ):
            kind = as_map(fields.get(fid)).get("type")
            if kind in NOT_FILTERABLE:
                ctx.add(
                    (*path, "filters", i),
                    f"a {kind} field cannot be a filter",
                    expected="a choice, date, number, bool, user or org field",
                    code="filter_type",
                )
        sort = view.get("sort")
        items = list(enumerate(sort)) if isinstance(sort, list) else [(None, sort)]
        for i, item in items:
            name = item.lstrip("-") if isinstance(item, str) else None
            if name is not None and name not in names:
                ctx.add(
                    (*path, "sort") if i is None else (*path, "sort", i),
                    f"unknown field '{name}' to sort by",
                    expected=one_of([*fields, *names], 12, ordered=True),
                    hint=did_you_mean(name, names),
                    code="unknown_field",
                )
        group = view.get("group_by")
        if isinstance(group, str) and group != "state":
            if ctx.known((*path, "group_by"), group, [*fields, "state"], "field"):
                kind = as_map(fields.get(group)).get("type")
                if kind not in GROUPABLE:
                    ctx.add(
                        (*path, "group_by"),
                        f"cannot group by a {kind} field",
                        expected="a choice, bool, user, org or rating field, or state",
                        code="group_type",
                    )
        _check_actions(ctx, path, view, entity)
        if view.get("type") == "public" and not view.get("lookup"):
            ctx.add(
                path,
                "a public view needs a way to find a record",
                expected="lookup: receipt",
                code="public_lookup",
            )
        if view.get("lookup") == "receipt" and not as_map(ctx.entities.get(entity)).get("receipt"):
            ctx.add(
                (*path, "lookup"),
                f"entity '{entity}' gives no receipt codes",
                expected=f"entities.{entity}.receipt: true",
                code="receipt",
            )


def _check_actions(ctx: Context, path: tuple[Any, ...], view: dict[str, Any], entity: str) -> None:
    wf = ctx.workflow_of(entity)
    transitions = as_map(wf[1].get("transitions")) if wf else {}
    for key in ("actions", "bulk_actions"):
        pool = [*transitions, "edit"] if key == "actions" else list(transitions)
        if key in view:
            ctx.known_each((*path, key), view[key], pool, "action")


def check_forms(ctx: Context) -> None:
    code_forms = {as_str(as_map(c).get("form")) for c in ctx.section("codes").values()}
    for fid, form in ctx.section("forms").items():
        form = as_map(form)
        path = ("forms", fid)
        if "roles" in form:
            ctx.known_each((*path, "roles"), form["roles"], ctx.roles, "role")
        entity = form.get("entity")
        if not ctx.usable((*path, "entity"), entity):
            continue
        fields = ctx.fields(entity)
        layouts = [k for k in ("fields", "sections", "steps") if k in form]
        if len(layouts) > 1:
            ctx.add(
                (*path, layouts[1]),
                f"a form has either fields, sections or steps, not {layouts[0]} and {layouts[1]}",
                expected="one of fields, sections, steps",
                code="form_layout",
                at_key=True,
            )
        on_form: list[str] = []
        seen: dict[str, str] = {}
        on_form += check_field_list(
            ctx, (*path, "fields"), form.get("fields"), entity, system=False
        )
        for layout in ("sections", "steps"):
            for sid, part in as_map(form.get(layout)).items():
                part = as_map(part)
                got = check_field_list(
                    ctx, (*path, layout, sid, "fields"), part.get("fields"), entity, system=False
                )
                for f in got:
                    if f in seen:
                        ctx.add(
                            (*path, layout, sid, "fields", part["fields"].index(f)),
                            f"field '{f}' is already in {layout[:-1]} '{seen[f]}'",
                            expected="each field once",
                            code="duplicate",
                        )
                    seen[f] = sid
                on_form += got
                if isinstance(part.get("visible"), str):
                    ctx.expr(
                        (*path, layout, sid, "visible"),
                        part["visible"],
                        names_of(fields),
                        what="condition",
                    )
        if not layouts:
            on_form = [f for f, spec in fields.items() if "compute" not in as_map(spec)]
        for i, f in enumerate(on_form):
            if "compute" in as_map(fields.get(f)):
                ctx.add(
                    (*path, "fields", i) if "fields" in form else path,
                    f"'{f}' is computed and cannot be on a form",
                    expected="an editable field",
                    code="computed_on_form",
                )
        _check_prefill(ctx, path, form, entity, fields, fid in code_forms)
        missing = [
            f
            for f, spec in fields.items()
            if as_map(spec).get("required") is True
            and f not in on_form
            and "default" not in as_map(spec)
            and "compute" not in as_map(spec)
            and f not in as_map(form.get("prefill"))
            and form.get("mode") != "edit"
        ]
        for f in missing:
            ctx.add(
                path,
                f"required field '{f}' is neither on the form nor prefilled",
                expected=f"'{f}' in fields, or a default or prefill",
                code="required_missing",
                at_key=True,
            )
        then = form.get("then")
        if isinstance(then, str):
            wf = ctx.workflow_of(entity)
            transitions = as_map(wf[1].get("transitions")) if wf else {}
            if ctx.known((*path, "then"), then, transitions, "transition") and wf:
                states = as_map(wf[1].get("states"))
                initial = as_str(wf[1].get("initial")) or next(iter(states), None)
                starts = as_list(as_map(transitions[then]).get("from"))
                if initial and "*" not in starts and initial not in starts:
                    ctx.add(
                        (*path, "then"),
                        f"transition '{then}' does not start from the initial state '{initial}'",
                        expected=f"a transition from '{initial}'",
                        code="then_state",
                    )
        if form.get("public") and "roles" in form:
            ctx.add(
                (*path, "roles"),
                "a public form is open to everyone; roles do not apply",
                expected="either public: true or roles",
                code="public_roles",
                at_key=True,
            )


def _check_prefill(
    ctx: Context,
    path: tuple[Any, ...],
    form: dict[str, Any],
    entity: str,
    fields: dict[str, Any],
    opened_by_code: bool,
) -> None:
    names: dict[str, T.Type] = {}
    if opened_by_code:
        names["code"] = T.ANY
    for key, source in as_map(form.get("prefill")).items():
        if ctx.known((*path, "prefill", key), key, fields, "field", at_key=True):
            ctx.expr(
                (*path, "prefill", key),
                source,
                names,
                expect=field_type(as_map(fields[key])),
                what="prefill",
            )
