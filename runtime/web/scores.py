"""Score pages: rankings, recompute and publish (亮分), corrections, performance archives.

``/scores/<s>/<rule>``               managers: the live ranking of a unit's subtree
                                     (drill-down by ``?org=``), recompute, publish,
                                     pending corrections; subjects go to their archive
``/scores/<s>/<rule>/recompute``     POST, managers
``/scores/<s>/<rule>/publish``       POST, managers
``/scores/<s>/<rule>/corrections/<id>/<tid>``  POST, managers (a plain transition)
``/scores/<s>/<rule>/me``            the viewer's own archive
``/scores/<s>/<rule>/s/<subject>``   a deputy's or a station's archive (履职档案): every
                                     item by period with the records behind it; printable
``/scores/<s>/<rule>/o/<unit>``      a station's or deputy group's archive: its subjects

Managers are the rule's ``managers`` roles, over their subtrees (Casbin object
``<s>/scoring/<rule>``, action ``manage``); they see live and published
scores. A subject sees only its published snapshots: a deputy their own, the
people of a station (any role held at it or below) the station's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime.authz import scoring_object
from runtime.model import text
from runtime.orgs import unit_name, within
from runtime.scoring.engine import Scorer, ScoringError, attach
from runtime.scoring.rules import TOTAL, Rule, index_key
from runtime.web.guard import require_login
from runtime.web.i18n import t
from runtime.web.lookup import context
from runtime.web.templating import render


def attach_scoring(app: Any, store: Any) -> Scorer:
    """Give the app's store a scorer that follows every write (called in the lifespan)."""

    def clock() -> dt.datetime:
        found = getattr(app.state, "clock", None)
        return found() if found else dt.datetime.now(dt.UTC)

    return attach(store, clock)


async def seed_scores(store: Any) -> None:
    """Demo: compute each rule's current period and publish the last publishing period."""
    from runtime.scoring import periods

    scorer: Scorer = store.scorer
    for rule in scorer.rules.values():
        if await scorer.runs(rule.key):
            continue
        await scorer.recompute(rule.key, scorer.current(rule))
        last = periods.recent(rule.publish, scorer.today(), 2)[-1]
        await scorer.publish(rule.key, last.key, None)


def scorer_of(request: Request) -> Scorer:
    state = request.app.state
    found = getattr(state.store, "scorer", None)
    if found is None:
        found = attach_scoring(request.app, state.store)
    return found  # type: ignore[no-any-return]


def rule_of(request: Request) -> Rule:
    key = f"{request.path_params['scenario']}.{request.path_params['rule']}"
    rule = scorer_of(request).rules.get(key)
    if rule is None:
        raise HTTPException(404, "no such rule")
    return rule


def managed(request: Request, rule: Rule) -> list[str]:
    viewer = require_login(request)
    return list(
        request.app.state.access.authz.units(
            viewer, scoring_object(rule.scenario, rule.id), "manage"
        )
    )


def links(request: Request, scenario: str) -> list[dict[str, Any]]:
    """Menu entries: the ranking for managers, the archive for subjects."""
    viewer = getattr(request.state, "viewer", None)
    if viewer is None or viewer.anonymous:
        return []
    out = []
    for rule in scorer_of(request).rules.values():
        if rule.scenario != scenario:
            continue
        base = f"/scores/{rule.scenario}/{rule.id}"
        if managed(request, rule):
            out.append({"label": rule.label, "url": base, "order": -500})
        if own_subject(request, rule) is not None:
            label = {"zh": t("score_my_archive", "zh"), "en": t("score_my_archive", "en")}
            out.append({"label": label, "url": f"{base}/me", "order": -499})
    return out


def own_subject(request: Request, rule: Rule) -> str | None:
    """The viewer as a subject of ``rule``: their user id, or the unit of the rule's kind they sit in."""
    viewer = require_login(request)
    if rule.subject == "user":
        held = {role for _, role in viewer.grants}
        return str(viewer.id) if held & set(rule.platform_roles) else None
    scorer = scorer_of(request)
    for unit in viewer.orgs:
        found = scorer.ancestor(unit, rule.kind) if rule.kind else unit
        if found:
            return found
    return None


async def subject_names(request: Request, rule: Rule, subjects: list[str]) -> dict[str, str]:
    locale = request.state.locale
    if rule.subject == "org":
        deployment = request.app.state.deployment
        return {s: unit_name(deployment, s, locale) for s in subjects}
    labels = await request.app.state.store.labels(users=[int(s) for s in subjects if s.isdigit()])
    return {str(k): v for k, v in labels.users.items()}


def period_of(request: Request, scorer: Scorer, rule: Rule) -> str:
    wanted = (request.query_params.get("period") or "").strip()
    key = wanted or scorer.current(rule)
    try:
        return scorer.window(rule, key).key
    except ScoringError as exc:
        raise HTTPException(400, str(exc)) from exc


# -------------------------------------------------------------------- ranking (managers)


async def rule_page(request: Request) -> Response:
    rule = rule_of(request)
    units = managed(request, rule)
    if not units:
        if own_subject(request, rule) is not None:
            return RedirectResponse(f"/scores/{rule.scenario}/{rule.id}/me", status_code=303)
        raise HTTPException(403, "forbidden")
    scorer = scorer_of(request)
    deployment = request.app.state.deployment
    locale = request.state.locale
    period = period_of(request, scorer, rule)
    unit = request.query_params.get("org") or units[0]
    if not within(deployment, unit, units):
        raise HTTPException(403, "forbidden")
    await scorer.ensure(rule.key, period)
    rows = await scorer.totals(rule.key, period, paths=[deployment.org_path(unit)], limit=500)
    names = await subject_names(request, rule, [r["subject"] for r in rows])
    runs = await publishers(request, await scorer.runs(rule.key))
    base = f"/scores/{rule.scenario}/{rule.id}"
    children = [
        {"label": unit_name(deployment, u.id, locale), "url": f"{base}?period={period}&org={u.id}"}
        for u in deployment.org.values()
        if u.parent == unit and u.kind != "department"
    ]
    return render(
        request,
        "scores/rule.html",
        {
            "page_title": rule.label,
            "rule": rule,
            "base": base,
            "period": period,
            "periods": _period_choices(scorer, rule, runs),
            "runs": runs,
            "unit": unit,
            "unit_name": unit_name(deployment, unit, locale),
            "children": children,
            "rows": [_total_row(rule, r, names, locale, base, period) for r in rows],
            "corrections": await _pending(request, rule, units),
            "flash": _flash(request),
            "group_url": f"{base}/o/{unit}?period={period}",
        },
    )


async def publishers(request: Request, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Runs with ``publisher``: who published (a user's name, or the system's label)."""
    ids = [int(r["published_by"]) for r in runs if r.get("published_by") is not None]
    names = (await request.app.state.store.labels(users=ids)).users if ids else {}
    system = t("score_published_by_system", request.state.locale)
    return [
        dict(
            r,
            publisher=names.get(int(r["published_by"]), f"#{r['published_by']}")
            if r.get("published_by") is not None
            else system,
        )
        for r in runs
    ]


def _period_choices(scorer: Scorer, rule: Rule, runs: list[dict[str, Any]]) -> list[str]:
    from runtime.scoring import periods

    today = scorer.today()
    keys = [p.key for p in periods.recent(rule.period, today, 3)]
    if rule.publish != rule.period:
        keys += [p.key for p in periods.recent(rule.publish, today, 4)]
    keys += [r["period"] for r in runs]
    return sorted(set(keys), reverse=True)


def _total_row(
    rule: Rule, r: dict[str, Any], names: dict[str, str], locale: str, base: str, period: str
) -> dict[str, Any]:
    band = rule.band(r["band"])
    return {
        "subject": r["subject"],
        "name": names.get(str(r["subject"]), str(r["subject"])),
        "unit": r["org"],
        "score": _num(r["points"]),
        "total": _num(r["value"]),
        "rank": r["rank"],
        "band": text(band.label, locale) if band else "",
        "tone": band.tone if band else "neutral",
        "url": f"{base}/s/{r['subject']}?period={period}",
    }


def _num(value: Any) -> str:
    if value is None:
        return "–"
    number = round(float(value), 2)
    return str(int(number)) if number.is_integer() else f"{number:.2f}"


def _flash(request: Request) -> str | None:
    locale = request.state.locale
    done = request.query_params.get("done")
    if done in ("recomputed", "published", "corrected"):
        return t(f"score_{done}", locale)
    return None


async def _pending(request: Request, rule: Rule, units: list[str]) -> list[dict[str, Any]]:
    """Correction requests waiting in the first state of their workflow, in the managed subtrees."""
    if not rule.correction:
        return []
    store = request.app.state.store
    entity = request.app.state.deployment.entity(f"{rule.scenario}.{rule.correction}")
    if entity is None or entity.workflow is None:
        return []
    from runtime.storage.records import ListQuery

    query = ListQuery(equals={"state": [entity.workflow.initial]}, within=units, limit=50)
    page = await store.list(entity, query, context(request))
    names = await store.labels(users=[r.get("owner") for r in page.rows])
    locale = request.state.locale
    wf = entity.workflow
    out = []
    for record in page.rows:
        fields = [
            (text(f.label, locale), record.get(fid))
            for fid, f in entity.fields.items()
            if record.get(fid) not in (None, "", [])
        ]
        out.append(
            {
                "id": record.id,
                "who": names.users.get(record.get("owner"), ""),
                "fields": fields,
                "url": f"/s/{entity.scenario}/r/{entity.id}/{record.id}",
                "actions": [
                    {"id": tid, "label": text(tr.spec.get("label") or tid, locale)}
                    for tid, tr in wf.transitions.items()
                    if tr.sources is None or wf.initial in tr.sources
                ],
            }
        )
    return out


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(v) for k, v in form.items() if isinstance(v, str)}


async def recompute(request: Request) -> Response:
    rule = rule_of(request)
    if not managed(request, rule):
        raise HTTPException(403, "forbidden")
    form = await _form(request)
    scorer = scorer_of(request)
    try:
        period = scorer.window(rule, form.get("period") or scorer.current(rule)).key
    except ScoringError as exc:
        raise HTTPException(400, str(exc)) from exc
    await scorer.recompute(rule.key, period)
    return RedirectResponse(
        f"/scores/{rule.scenario}/{rule.id}?period={period}&done=recomputed", status_code=303
    )


async def publish(request: Request) -> Response:
    rule = rule_of(request)
    if not managed(request, rule):
        raise HTTPException(403, "forbidden")
    viewer = require_login(request)
    form = await _form(request)
    scorer = scorer_of(request)
    try:
        period = scorer.window(rule, form.get("period") or scorer.current(rule)).key
    except ScoringError as exc:
        raise HTTPException(400, str(exc)) from exc
    from runtime.web.guard import client_ip

    await scorer.publish(rule.key, period, viewer.id, ip=client_ip(request))
    return RedirectResponse(
        f"/scores/{rule.scenario}/{rule.id}?period={period}&done=published", status_code=303
    )


async def correct(request: Request) -> Response:
    """Take a transition (accept / reject) of a correction request, as any record transition."""
    from runtime.access import in_scope
    from runtime.web.lookup import record_id
    from runtime.web.transitions import take_if_allowed

    rule = rule_of(request)
    units = managed(request, rule)
    if not units or not rule.correction:
        raise HTTPException(403, "forbidden")
    viewer = require_login(request)
    state = request.app.state
    entity = state.deployment.entity(f"{rule.scenario}.{rule.correction}")
    tid = request.path_params["tid"]
    if entity is None or entity.workflow is None or tid not in entity.workflow.transitions:
        raise HTTPException(404, "not found")
    record = await state.store.get(entity, record_id(request))
    if record is None or not in_scope(state.access.scope(viewer, entity), record):
        raise HTTPException(404, "not found")
    taken = await take_if_allowed(request, entity, dict(record), tid, viewer, context(request))
    if taken is None:
        raise HTTPException(403, "forbidden")
    return RedirectResponse(f"/scores/{rule.scenario}/{rule.id}?done=corrected", status_code=303)


# -------------------------------------------------------------------- archives


async def my_archive(request: Request) -> Response:
    rule = rule_of(request)
    subject = own_subject(request, rule)
    if subject is None:
        raise HTTPException(403, "forbidden")
    return RedirectResponse(f"/scores/{rule.scenario}/{rule.id}/s/{subject}", status_code=303)


async def _subject_place(request: Request, rule: Rule, subject: str) -> str | None:
    """The org path of a subject (None when it is not one)."""
    deployment = request.app.state.deployment
    scorer = scorer_of(request)
    if rule.subject == "org":
        unit = deployment.org.get(subject)
        if unit is None or (rule.kind and unit.kind != rule.kind):
            return None
        return str(deployment.org_path(subject))
    if not subject.isdigit():
        return None
    home = await scorer._home_unit(rule, int(subject))
    return deployment.org_path(home) if home else None


async def subject_archive(request: Request) -> Response:
    rule = rule_of(request)
    subject = str(request.path_params["subject"])
    deployment = request.app.state.deployment
    place = await _subject_place(request, rule, subject)
    if place is None:
        raise HTTPException(404, "not found")
    units = managed(request, rule)
    is_manager = any(place.startswith(deployment.org_path(u)) for u in units)
    # the roles of a dashboard whose ranking card lists this rule read the archives behind
    # its rows (live, as the card shows them) within their subtrees, and manage nothing
    reader = is_manager or any(
        place.startswith(deployment.org_path(u)) for u in ranking_readers(request, rule)
    )
    if not reader and own_subject(request, rule) != subject:
        raise HTTPException(404, "not found")
    scorer = scorer_of(request)
    locale = request.state.locale
    published = await scorer.published_periods(rule.key)
    runs = await scorer.runs(rule.key)
    choices = sorted(
        set(published)
        | ({scorer.current(rule)} | {r["period"] for r in runs} if reader else set()),
        reverse=True,
    )
    period = request.query_params.get("period") or (choices[0] if choices else None)
    if period is not None:
        try:
            period = scorer.window(rule, period).key
        except ScoringError as exc:
            raise HTTPException(400, str(exc)) from exc
    live = reader and request.query_params.get("view") != "published"
    sections: list[dict[str, Any]] = []
    head: dict[str, Any] | None = None
    if period is not None and (live or period in published):
        if live:
            await scorer.ensure(rule.key, period)
        use_published = not live
        found = (await scorer.items_of(rule.key, period, [subject], published=use_published)).get(
            subject, {}
        )
        total = found.get(TOTAL)
        if total is not None:
            band = rule.band(total.get("band"))
            head = {
                "score": _num(total["points"]),
                "total": _num(total["value"]),
                "rank": total.get("rank"),
                "band": text(band.label, locale) if band else "",
                "tone": band.tone if band else "neutral",
            }
        for item in rule.items.values():
            row = found.get(item.id) or {}
            records = []
            if row:
                for r in await scorer.evidence(rule.key, period, item.id, subject, limit=50):
                    records.append(
                        {
                            "title": r.get("title") or f"#{r['id']}",
                            "day": str(r.get("day") or "")[:10],
                            "amount": r.get("amount"),
                            "url": f"/s/{item.entity.scenario}/r/{item.entity.id}/{r['id']}",
                        }
                    )
            sections.append(
                {
                    "id": item.id,
                    "label": text(item.label, locale),
                    "value": _num(row.get("value") or 0),
                    "points": _num(row.get("points") or 0),
                    "rule": _item_rule(item, locale),
                    "records": records,
                }
            )
        for xid, index in rule.indices.items():
            row = found.get(index_key(xid)) or {}
            sections.append(
                {
                    "id": xid,
                    "label": text(index.label, locale),
                    "value": _num(row.get("value")),
                    "points": _num(row.get("points")),
                    "rule": index.formula.source,
                    "records": [],
                    "index": True,
                }
            )
    names = await subject_names(request, rule, [subject])
    return render(
        request,
        "scores/archive.html",
        {
            "page_title": rule.label,
            "rule": rule,
            "name": names.get(subject, subject),
            "place": unit_name(deployment, place.strip("/").split("/")[-1], locale),
            "period": period,
            "periods": choices,
            "published": set(published),
            "live": live,
            "manager": reader,  # may switch between live and published
            "head": head,
            "sections": sections,
            "base": f"/scores/{rule.scenario}/{rule.id}",
            "subject": subject,
            "correction_url": _correction_url(request, rule)
            if own_subject(request, rule) == subject
            else None,
        },
    )


def ranking_readers(request: Request, rule: Rule) -> list[str]:
    """The units where the viewer may open a dashboard with a ranking card of ``rule``."""
    from runtime.web.dashboards import allowed_units, dashboards_of

    out: list[str] = []
    for dash in dashboards_of(request).values():
        if dash.scenario != rule.scenario:
            continue
        if any(
            c.type == "ranking" and c.spec.get("scoring") == rule.id for c in dash.cards.values()
        ):
            out += allowed_units(request, dash)
    return out


def _item_rule(item: Any, locale: str) -> str:
    parts = [t("score_points_each", locale, points=_num(item.points))]
    if item.cap is not None:
        parts.append(t("score_cap", locale, cap=_num(item.cap)))
    if item.weight != 1:
        parts.append(t("score_weight", locale, weight=_num(item.weight)))
    return "，".join(parts) if locale != "en" else ", ".join(parts)


def _correction_url(request: Request, rule: Rule) -> str | None:
    if not rule.correction:
        return None
    scenario = request.app.state.deployment.scenarios[rule.scenario]
    for form in scenario.forms.values():
        if form.entity.id == rule.correction and request.app.state.access.can_use_form(
            require_login(request), form
        ):
            return f"/s/{rule.scenario}/f/{form.id}"
    return None


async def group_archive(request: Request) -> Response:
    """All subjects in a unit's subtree (a station, a deputy group) with their items."""
    rule = rule_of(request)
    units = managed(request, rule)
    deployment = request.app.state.deployment
    unit = str(request.path_params["unit"])
    if unit not in deployment.org or not within(deployment, unit, units):
        raise HTTPException(404 if unit not in deployment.org else 403, "not found")
    scorer = scorer_of(request)
    locale = request.state.locale
    period = period_of(request, scorer, rule)
    await scorer.ensure(rule.key, period)
    totals = await scorer.totals(rule.key, period, paths=[deployment.org_path(unit)], limit=2000)
    subjects = [str(r["subject"]) for r in totals]
    items = await scorer.items_of(rule.key, period, subjects)
    names = await subject_names(request, rule, subjects)
    base = f"/scores/{rule.scenario}/{rule.id}"
    columns = [(i.id, text(i.label, locale)) for i in rule.items.values()]
    rows = []
    sums = dict.fromkeys([c for c, _ in columns], 0.0)
    for r in totals:
        mine = items.get(str(r["subject"]), {})
        values = {}
        for cid, _ in columns:
            points = float((mine.get(cid) or {}).get("points") or 0)
            sums[cid] += points
            values[cid] = _num(points)
        rows.append(dict(_total_row(rule, r, names, locale, base, period), values=values))
    scores = [float(r["points"] or 0) for r in totals]
    return render(
        request,
        "scores/group.html",
        {
            "page_title": rule.label,
            "rule": rule,
            "unit_name": unit_name(deployment, unit, locale),
            "period": period,
            "columns": columns,
            "rows": rows,
            "sums": {k: _num(v) for k, v in sums.items()},
            "average": _num(sum(scores) / len(scores)) if scores else "–",
            "base": base,
        },
    )
