"""智能查重: records like the one being typed, shown under a ``similar: true`` field.

While a deputy types a title, the form asks (htmx, debounced) for existing
records whose text shares character pairs with it. Candidates come from the
database through the first list view the viewer may open, so its row rules
apply (a deputy sees their own records, staff their county's); they are then
ranked by the overlap of character pairs (Chinese has no spaces to split
words on, and pairs of characters work well for short titles).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from runtime.authz import view_object
from runtime.model import text
from runtime.storage.records import ListQuery
from runtime.web.guard import viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import context, denied, form_of
from runtime.web.urls import record_url

NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
COMMON = {"关于", "建议", "的建", "问题", "加强", "进一步", "一步", "进一"}
MIN_CHARS = 4
PAIRS_ASKED = 6  # substring queries per keystroke pause, each bounded
PER_PAIR = 40
SHOWN = 5
THRESHOLD = 0.25


def pairs(value: str) -> set[str]:
    """The character pairs of a text, punctuation and spaces removed."""
    flat = NOISE.sub("", value.lower())
    return {flat[i : i + 2] for i in range(len(flat) - 1)}


def likeness(a: set[str], b: set[str]) -> float:
    """Overlap of two pair sets, relative to the shorter text (0..1)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


async def similar(request: Request) -> Response:
    form = form_of(request)
    viewer = viewer_of(request)
    access = request.app.state.access
    if viewer.anonymous or not access.can_use_form(viewer, form):
        raise denied(viewer)
    entity = form.entity
    name = request.query_params.get("field", "")
    f = entity.fields.get(name)
    if name not in form.field_ids or f is None or not f.spec.get("similar"):
        raise HTTPException(400, "unknown field")
    typed = (request.query_params.get(name) or "")[:500]
    wanted = pairs(typed)
    view = access.first_view(viewer, entity)
    if len(NOISE.sub("", typed)) < MIN_CHARS or view is None:
        return HTMLResponse("")
    scope = access.scope(viewer, entity, view_object(view.scenario, view.id), "open")
    ctx = context(request)
    store = request.app.state.store
    asked = sorted(wanted - COMMON, key=lambda p: (-len(p.encode()), p))[:PAIRS_ASKED]
    found: dict[int, dict[str, object]] = {}
    for pair in asked:
        query = ListQuery(
            where=[view.where] if view.where else [],
            search=(pair, [name]),
            scope=scope,
            limit=PER_PAIR,
        )
        for row in (await store.list(entity, query, ctx)).rows:
            found.setdefault(row.id, dict(row))
    ranked = sorted(
        ((likeness(wanted, pairs(str(r.get(name) or ""))), rid, r) for rid, r in found.items()),
        key=lambda x: (-x[0], -x[1]),
    )
    hits = [(rid, r) for score, rid, r in ranked if score >= THRESHOLD][:SHOWN]
    if not hits:
        return HTMLResponse("")
    locale = request.state.locale
    states = entity.workflow.states if entity.workflow else {}
    items = []
    for rid, r in hits:
        state = states.get(str(r.get("state") or ""), {})
        label = state.get("label") if isinstance(state, dict) else state
        badge = f' <span class="badge">{escape(text(label, locale))}</span>' if label else ""
        items.append(
            f'<li><a href="{escape(record_url(entity, rid))}" target="_blank" rel="noopener">'
            f"{escape(str(r.get(name) or ''))}</a>{badge}</li>"
        )
    html = Markup(
        f'<p class="similar-title">{escape(t("similar", locale))}</p><ul>{"".join(items)}</ul>'
    )
    return HTMLResponse(str(html))
