"""Checks of scoring rules: sources, subjects, items, totals, indices and bands."""

from __future__ import annotations

from typing import Any

from runtime.checks.base import Context, as_map, as_str
from runtime.checks.entities import names_of
from runtime.expr import types as T
from runtime.mistakes import Path


def check_scoring(ctx: Context) -> None:
    for rid, rule in ctx.section("scoring").items():
        rule = as_map(rule)
        path = ("scoring", rid)
        subject = rule.get("subject")
        if subject == "user":
            if "role" in rule:
                ctx.known((*path, "role"), rule["role"], ctx.roles, "role")
            if "kind" in rule:
                ctx.add(
                    (*path, "kind"),
                    "kind applies to org subjects",
                    expected="role: <role>",
                    code="subject",
                    at_key=True,
                )
        elif subject == "org" and "role" in rule:
            ctx.add(
                (*path, "role"),
                "role applies to user subjects",
                expected="kind: <org kind>",
                code="subject",
                at_key=True,
            )
        items = as_map(rule.get("items"))
        for iid, item in items.items():
            _check_item(ctx, (*path, "items", iid), as_map(item), subject)
        item_names = dict.fromkeys(items, T.NUMBER)
        ctx.expr((*path, "total"), rule.get("total"), item_names, expect=T.NUMBER, what="total")
        for xid, index in as_map(rule.get("indices")).items():
            ctx.expr(
                (*path, "indices", xid, "formula"),
                as_map(index).get("formula"),
                item_names,
                expect=T.NUMBER,
                what="formula",
            )
        if "managers" in rule:
            ctx.known_each((*path, "managers"), rule["managers"], ctx.roles, "role")
        if "correction" in rule and ctx.known(
            (*path, "correction"), rule["correction"], ctx.entities, "entity"
        ):
            if ctx.workflow_of(str(rule["correction"])) is None:
                ctx.add(
                    (*path, "correction"),
                    f"entity '{rule['correction']}' has no workflow",
                    expected="an entity with a workflow (submitted → accepted / rejected)",
                    code="correction",
                )
        score = rule.get("score")
        if isinstance(score, str) and score != "total":
            ctx.known((*path, "score"), score, ["total", *as_map(rule.get("indices"))], "index")
        mins: dict[Any, str] = {}
        for bid, band in as_map(rule.get("bands")).items():
            low = as_map(band).get("min")
            if low in mins:
                ctx.add(
                    (*path, "bands", bid, "min"),
                    f"band '{mins[low]}' starts at {low} too",
                    expected="a different min per band",
                    code="bands",
                )
            mins[low] = bid


def _check_item(ctx: Context, path: Path, item: dict[str, Any], subject: Any) -> None:
    source = item.get("source")
    entity = ctx.entity_ref((*path, "source"), source)
    if entity is None:
        return
    fields = as_map(entity.get("fields"))
    names = names_of(fields)
    ctx.expr((*path, "where"), item.get("where"), names, what="filter")
    default_subject = "owner" if subject == "user" else "org"
    link = as_str(item.get("subject_field")) or default_subject
    wanted = {"user": ("user", T.USER), "org": ("org", T.ORG)}.get(str(subject))
    if (
        "subject_field" in item
        and ctx.known((*path, "subject_field"), link, names, "field")
        and wanted
    ):
        if as_map(fields.get(link)).get("multiple") is True:
            ctx.add(
                (*path, "subject_field"),
                f"'{link}' holds several values",
                expected=f"a field naming one {wanted[0]}",
                code="subject_field",
            )
        elif names[link] != wanted[1]:
            ctx.add(
                (*path, "subject_field"),
                f"'{link}' does not name a {wanted[0]}",
                expected=f"a {wanted[0]} field",
                code="subject_field",
            )
    date = item.get("date_field")
    if isinstance(date, str) and ctx.known((*path, "date_field"), date, names, "field"):
        if names[date] not in (T.DATE, T.DATETIME):
            ctx.add(
                (*path, "date_field"),
                f"'{date}' is not a date",
                expected="a date or datetime field",
                code="date_field",
            )
    total = item.get("sum")
    if isinstance(total, str) and ctx.known((*path, "sum"), total, fields, "field"):
        if names[total] != T.NUMBER:
            ctx.add(
                (*path, "sum"),
                f"'{total}' is not a number",
                expected="a number, money or rating field",
                code="sum_field",
            )
