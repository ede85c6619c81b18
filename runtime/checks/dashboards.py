"""Checks of dashboards: cards, their entities, measures, groupings and links."""

from __future__ import annotations

import re
from typing import Any

from runtime.checks.base import Context, as_map
from runtime.checks.entities import names_of
from runtime.expr import types as T
from runtime.mistakes import Path

NEEDS = {
    "number": ("entity",),
    "line": ("entity",),
    "bar": ("entity", "group_by"),
    "pie": ("entity", "group_by"),
    "table": ("entity", "group_by"),
    "rate": ("numerator", "denominator"),
    "ranking": ("scoring",),
}


def check_dashboards(ctx: Context) -> None:
    for did, dash in ctx.section("dashboards").items():
        dash = as_map(dash)
        path = ("dashboards", did)
        if "roles" in dash:
            ctx.known_each((*path, "roles"), dash["roles"], ctx.roles, "role")
        cards = as_map(dash.get("cards"))
        for cid, card in cards.items():
            _check_card(ctx, (*path, "cards", cid), as_map(card), cards)


def _check_card(ctx: Context, path: Path, card: dict[str, Any], cards: dict[str, Any]) -> None:
    kind = card.get("type")
    for key in NEEDS.get(str(kind), ()):
        if key not in card:
            ctx.add(path, f"a {kind} card needs '{key}'", expected=f"{key}: …", code="card")
    for key in ("numerator", "denominator"):
        if key in card and ctx.known((*path, key), card[key], cards, "card"):
            if as_map(cards[card[key]]).get("type") != "number":
                ctx.add(
                    (*path, key),
                    f"card '{card[key]}' is not a number card",
                    expected="a card of type number",
                    code="card",
                )
    if "scoring" in card:
        ctx.known((*path, "scoring"), card["scoring"], ctx.section("scoring"), "scoring rule")
    entity = ctx.entity_ref((*path, "entity"), card.get("entity"))
    if entity is None:
        return
    names = names_of(as_map(entity.get("fields")))
    ctx.expr((*path, "where"), card.get("where"), names, what="filter")
    match = re.match(r"^(sum|avg|min|max)\((\w+)\)$", str(card.get("measure", "count")))
    if match and ctx.known((*path, "measure"), match.group(2), names, "field"):
        if names[match.group(2)] != T.NUMBER:
            ctx.add(
                (*path, "measure"),
                f"'{match.group(2)}' is not a number",
                expected="a number, money or rating field",
                code="measure",
            )
    group = card.get("group_by")
    if isinstance(group, str):
        ctx.known((*path, "group_by"), group, names, "field")
    date = card.get("date_field")
    if isinstance(date, str) and ctx.known((*path, "date_field"), date, names, "field"):
        if names[date] not in (T.DATE, T.DATETIME):
            ctx.add(
                (*path, "date_field"),
                f"'{date}' is not a date",
                expected="a date or datetime field",
                code="date_field",
            )
