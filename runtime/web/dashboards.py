"""Dashboard pages (驾驶舱) and their CSV downloads.

``/d/<scenario>/<dashboard>?org=<unit>`` shows the cards for one org unit's
subtree: by default the first unit where the viewer may open the dashboard
(a role of its ``roles`` held there); another unit only when it lies inside
one of those subtrees (else 403), so a county sees its own figures and its
stations', never a sibling county's. Number and rate cards come with a
rollup table of the next level down whose rows drill down (``?org=child``).
``/d/<scenario>/<dashboard>/<card>.csv`` is the same figures as CSV.
"""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from runtime.authz import dashboard_object
from runtime.dashboards import svg
from runtime.dashboards.cards import DIRECT, Agg, Card, Dashboard, Figures, build_dashboards
from runtime.model import text
from runtime.orgs import unit_name, within
from runtime.scoring import periods
from runtime.web.display import option_labels
from runtime.web.guard import require_login
from runtime.web.i18n import t
from runtime.web.lookup import context, now
from runtime.web.templating import render


def dashboards_of(request: Request) -> dict[str, Dashboard]:
    state = request.app.state
    found = getattr(state, "dashboards", None)
    if found is None:
        found = state.dashboards = build_dashboards(state.deployment)
    return found


def allowed_units(request: Request, dash: Dashboard) -> list[str]:
    viewer = require_login(request)
    return list(
        request.app.state.access.authz.units(
            viewer, dashboard_object(dash.scenario, dash.id), "open"
        )
    )


def links(request: Request, scenario: str) -> list[dict[str, Any]]:
    """Menu entries of the dashboards of ``scenario`` the viewer may open."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None or viewer.anonymous:
        return []
    out = []
    for dash in dashboards_of(request).values():
        if dash.scenario == scenario and allowed_units(request, dash):
            out.append(
                {
                    "label": dash.label,
                    "url": f"/d/{dash.scenario}/{dash.id}",
                    "order": dash.spec.get("order", 100) - 1000,
                }
            )
    return out


def resolve(request: Request) -> tuple[Dashboard, str, list[str]]:
    """The dashboard, the unit shown and the units the viewer may open; 404 / 403 otherwise."""
    key = f"{request.path_params['scenario']}.{request.path_params['dashboard']}"
    dash = dashboards_of(request).get(key)
    if dash is None:
        raise HTTPException(404, "no such dashboard")
    units = allowed_units(request, dash)
    if not units:
        raise HTTPException(403, "forbidden")
    deployment = request.app.state.deployment
    unit = request.query_params.get("org") or units[0]
    if not within(deployment, unit, units):
        raise HTTPException(403, "forbidden")
    return dash, unit, units


def figures(request: Request) -> Figures:
    state = request.app.state
    return Figures(state.store, str(state.deployment.data.get("timezone") or "Asia/Shanghai"))


async def card_rows(
    request: Request, dash: Dashboard, card: Card, unit: str, figs: Figures
) -> dict[str, Any]:
    """What a card shows: its figure, or its rows (label, value, drill-down link)."""
    locale = request.state.locale
    ctx = context(request)
    how = card.measure[0]
    deployment = request.app.state.deployment
    out: dict[str, Any] = {"card": card, "rows": [], "value": None}

    def row(key: str, label: str, value: float | None, drill: str | None = None) -> dict[str, Any]:
        return {
            "key": key,
            "label": label,
            "value": value,
            "text": svg.number(value),
            "drill": drill,
        }

    if card.type in ("number", "rate") or (card.spec.get("group_by") == "org"):
        if card.type == "rate":
            cards = dash.cards
            top, top_parts = await figs.rollup(
                cards[card.spec["numerator"]], unit, dash.levels, ctx
            )
            low, low_parts = await figs.rollup(
                cards[card.spec["denominator"]], unit, dash.levels, ctx
            )
            how_top = cards[card.spec["numerator"]].measure[0]
            how_low = cards[card.spec["denominator"]].measure[0]

            def ratio(a: Agg, b: Agg) -> float | None:
                x, y = a.value(how_top), b.value(how_low)
                return None if not y or x is None else round(x / y * 100, 1)

            out["value"] = ratio(top, low)
            out["percent"] = True
            parts = {
                k: (top_parts.get(k, Agg()), low_parts.get(k, Agg()))
                for k in {*top_parts, *low_parts}
            }
            values = {k: ratio(a, b) for k, (a, b) in parts.items()}
        else:
            whole, split = await figs.rollup(card, unit, dash.levels, ctx)
            out["value"] = whole.value(how)
            values = {k: v.value(how) for k, v in split.items()}
        children = figs.children(unit, dash.levels)
        for child in children:
            drill = f"/d/{dash.scenario}/{dash.id}?org={child}"
            out["rows"].append(
                row(child, unit_name(deployment, child, locale), values.get(child), drill)
            )
        if DIRECT in values and (values[DIRECT] or card.type != "rate"):
            out["rows"].append(row(DIRECT, t("dash_direct", locale), values[DIRECT]))
    elif card.type in ("bar", "pie", "table"):
        f = card.entity.fields.get(card.spec["group_by"]) if card.entity else None
        labels: dict[Any, str] = {}
        grouped = await figs.grouped(card, unit, ctx)
        if f is not None and f.type in ("choice", "multichoice"):
            labels = {k: str(v) for k, v in option_labels(f, locale).items()}
        elif f is not None and f.type == "user":
            names = await request.app.state.store.labels(
                users=[k for k, _ in grouped if k is not None]
            )
            labels = {k: v for k, v in names.users.items()}
        elif (f is not None and f.type == "org") or card.spec["group_by"] == "org":
            labels = {k: unit_name(deployment, str(k), locale) for k, _ in grouped if k}
        for key, agg in grouped[: int(card.spec.get("limit", 10)) if card.type == "table" else 12]:
            name = t("dash_none", locale) if key is None else labels.get(key, str(key))
            out["rows"].append(row(str(key), name, agg.value(how)))
    elif card.type == "line":
        today = periods.local_today(figs.tz, now(request))
        for label, agg in await figs.trend(card, unit, ctx, today):
            out["rows"].append(row(label, label, agg.value(how)))
    elif card.type == "ranking":
        out["rows"] = await ranking_rows(request, dash, card, unit)
    out["text"] = svg.number(out["value"])
    title = text(card.label, locale)
    if card.type == "bar":
        out["chart"] = svg.bar([(r["label"], r["value"]) for r in out["rows"]], title)
    elif card.type == "pie":
        out["chart"] = svg.pie([(r["label"], r["value"]) for r in out["rows"]], title)
        for n, r in enumerate(out["rows"]):
            r["colour"] = svg.colour(n)
    elif card.type == "line":
        out["chart"] = svg.line([(r["label"], r["value"]) for r in out["rows"]], title)
    return out


async def ranking_rows(
    request: Request, dash: Dashboard, card: Card, unit: str
) -> list[dict[str, Any]]:
    from runtime.web.scores import scorer_of, subject_names

    scorer = scorer_of(request)
    key = f"{dash.scenario}.{card.spec['scoring']}"
    rule = scorer.rule(key)
    period = scorer.current(rule)
    await scorer.ensure(key, period)
    deployment = request.app.state.deployment
    rows = await scorer.totals(
        key, period, paths=[deployment.org_path(unit)], limit=int(card.spec.get("limit", 10))
    )
    names = await subject_names(request, rule, [r["subject"] for r in rows])
    locale = request.state.locale
    out = []
    for r in rows:
        band = rule.band(r["band"])
        out.append(
            {
                "key": r["subject"],
                "label": names.get(str(r["subject"]), str(r["subject"])),
                "value": r["points"],
                "text": svg.number(round(float(r["points"] or 0), 2)),
                "rank": r["rank"],
                "band": text(band.label, locale) if band else "",
                "tone": band.tone if band else "neutral",
                "drill": f"/scores/{rule.scenario}/{rule.id}/s/{r['subject']}?period={period}",
                "period": period,
            }
        )
    return out


def trail(request: Request, dash: Dashboard, unit: str, units: list[str]) -> list[dict[str, str]]:
    """Breadcrumbs from the highest unit the viewer may open down to ``unit``."""
    deployment = request.app.state.deployment
    locale = request.state.locale
    chain = []
    current = deployment.org.get(unit)
    while current is not None:
        chain.append(current.id)
        if current.id in units:
            break
        current = deployment.org.get(current.parent) if current.parent else None
    return [
        {"label": unit_name(deployment, u, locale), "url": f"/d/{dash.scenario}/{dash.id}?org={u}"}
        for u in reversed(chain)
    ]


async def dashboard_page(request: Request) -> Response:
    dash, unit, units = resolve(request)
    figs = figures(request)
    jobs = [card_rows(request, dash, card, unit, figs) for card in dash.cards.values()]
    # PostgreSQL has a pool of connections: the cards' queries run at once
    cards = list(await asyncio.gather(*jobs)) if figs.pg else [await job for job in jobs]
    return render(
        request,
        "dashboard.html",
        {
            "page_title": dash.label,
            "dash": dash,
            "unit": unit,
            "unit_name": unit_name(request.app.state.deployment, unit, request.state.locale),
            "trail": trail(request, dash, unit, units),
            "cards": cards,
            "base": f"/d/{dash.scenario}/{dash.id}",
        },
    )


async def card_csv(request: Request) -> Response:
    dash, unit, _ = resolve(request)
    card = dash.cards.get(request.path_params["card"])
    if card is None:
        raise HTTPException(404, "no such card")
    data = await card_rows(request, dash, card, unit, figures(request))
    locale = request.state.locale
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([t("dash_unit", locale), t("dash_item", locale), t("dash_value", locale)])
    name = unit_name(request.app.state.deployment, unit, locale)
    if data["value"] is not None or card.type in ("number", "rate"):
        writer.writerow([name, text(card.label, locale), _plain(data["value"])])
    for r in data["rows"]:
        writer.writerow([name, _safe(r["label"]), _plain(r["value"])])
    filename = f"{dash.id}-{card.id}-{unit}.csv"
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _plain(value: Any) -> str:
    if value is None:
        return ""
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{number:.4f}".rstrip("0")


def _safe(value: str) -> str:
    """No formula injection when the CSV opens in a spreadsheet."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value
