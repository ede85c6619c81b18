"""``/admin/audit``: the ``Change`` rows, newest first, filtered, paged and exported.

Filters: table (a platform table or an entity), action, actor (login), a
date range (local days) and the record id (for an org unit: its id). The
CSV export streams the filtered rows in batches. Nothing here writes:
``Change`` rows are never edited or deleted through any route.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote as url_quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from runtime.model import text
from runtime.storage.columns import decode, encode
from runtime.storage.platform import User
from runtime.storage.sql import P, Sql
from runtime.web.admin.common import (
    GRANT_TABLE,
    ORG_TABLE,
    PLATFORM_TABLES,
    USER_TABLE,
    admin_of,
    base_context,
    clean,
    deployment_of,
)
from runtime.web.admin.paging import fetch_page, page_url
from runtime.web.display import ZONE
from runtime.web.i18n import t
from runtime.web.templating import render

PAGE = 50
BATCH = 1000
ACTIONS = ("create", "update", "transition", "delete", "reset_password")
SELECT = (
    'SELECT c."id", c."table", c."record_id", c."action", c."actor", c."at", c."ip", '
    'c."before", c."after", c."note" FROM "yidi_change" c'
)
SHOWN = 200  # characters of one value shown on the page


def tables(request: Request) -> list[tuple[str, str]]:
    """(table name, label) of every audited table: the platform's, then each entity's."""
    locale = request.state.locale
    out = [(name, t(f"admin_table_{name}", locale)) for name in PLATFORM_TABLES]
    store = request.app.state.store
    for table in store.tables.values():
        entity = table.entity
        scenario = deployment_of(request).scenarios.get(entity.scenario)
        title = text(scenario.title, locale) if scenario else entity.scenario
        out.append((table.name, f"{title} · {text(entity.label, locale)}"))
    return out


class Filters:
    """The filters of the URL, checked; ``errors`` maps a filter to its message."""

    def __init__(self, request: Request) -> None:
        params = request.query_params
        locale = request.state.locale
        self.values = {
            k: clean(params.get(k), 200)
            for k in ("table", "action", "actor", "from", "to", "record")
        }
        self.errors: dict[str, str] = {}
        self.known_tables = dict(tables(request))
        if self.values["table"] and self.values["table"] not in self.known_tables:
            self.errors["table"] = t("admin_unknown_value", locale)
        if self.values["action"] and self.values["action"] not in ACTIONS:
            self.errors["action"] = t("admin_unknown_value", locale)
        self.start = self._day("from", locale)
        self.end = self._day("to", locale)
        if self.start and self.end and self.end < self.start:
            self.errors["to"] = t("admin_bad_range", locale)
        self.actor: int | None = None

    def _day(self, key: str, locale: str) -> dt.date | None:
        raw = self.values[key]
        if not raw:
            return None
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            self.errors[key] = t("admin_bad_date", locale)
            return None

    async def resolve(self, request: Request) -> None:
        login = self.values["actor"]
        if login:
            found = await User.get_or_none(login=login) if len(login) <= 128 else None
            if found is None:
                self.errors["actor"] = t("admin_unknown_login", request.state.locale)
            else:
                self.actor = int(found.id)

    def where(self, pg: bool) -> list[Sql]:
        out: list[Sql] = []
        v = self.values
        if v["table"]:
            out.append(Sql(pg, 'c."table" = ', P(v["table"])))
        if v["action"]:
            out.append(Sql(pg, 'c."action" = ', P(v["action"])))
        if self.actor is not None:
            out.append(Sql(pg, 'c."actor" = ', P(self.actor)))
        if self.start:
            out.append(Sql(pg, 'c."at" >= ', P(_moment(self.start, pg), "timestamptz")))
        if self.end:
            end = self.end + dt.timedelta(days=1)
            out.append(Sql(pg, 'c."at" < ', P(_moment(end, pg), "timestamptz")))
        record = v["record"]
        if record.isdigit() and len(record) < 19:
            out.append(Sql(pg, 'c."record_id" = ', P(int(record))))
        elif record:  # an org unit's id: kept in the note of its changes
            out.append(Sql(pg, 'c."table" = ', P(ORG_TABLE), ' AND c."note" = ', P(record)))
        return out


def _moment(day: dt.date, pg: bool) -> Any:
    """The start of a local day, encoded as the ``at`` column stores it."""
    start = dt.datetime.combine(day, dt.time(), ZONE)
    return encode("datetime", start, pg)


def _json(raw: Any) -> dict[str, Any] | None:
    if raw is None or raw == "":
        return None
    value = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return value if isinstance(value, dict) else {"value": value}


def _short(value: Any) -> str:
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return shown if len(shown) <= SHOWN else shown[:SHOWN] + "…"


def _record_url(request: Request, row: dict[str, Any]) -> str | None:
    table, rid = row["table"], row["record_id"]
    if table == USER_TABLE:
        return f"/admin/users/{rid}"
    if table == ORG_TABLE and row.get("note"):
        return f"/admin/orgs/{row['note']}"
    if table == GRANT_TABLE:
        after = _json(row.get("after")) or _json(row.get("before")) or {}
        return f"/admin/users/{after['user_id']}" if after.get("user_id") else None
    for entity_table in request.app.state.store.tables.values():
        if entity_table.name == table:
            entity = entity_table.entity
            return f"/s/{entity.scenario}/r/{entity.id}/{rid}"
    return None


async def _actors(rows: list[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    ids = sorted({int(r["actor"]) for r in rows if r["actor"] is not None})
    found = await User.filter(id__in=ids).values("id", "login", "name") if ids else []
    return {int(u["id"]): (str(u["login"]), str(u["name"])) for u in found}


def _entry(
    request: Request, row: dict[str, Any], actors: dict[int, tuple[str, str]]
) -> dict[str, Any]:
    locale = request.state.locale
    before, after = _json(row["before"]) or {}, _json(row["after"]) or {}
    keys = list(dict.fromkeys([*before, *after]))
    moment = decode("datetime", row["at"])
    actor = actors.get(int(row["actor"])) if row["actor"] is not None else None
    return {
        "id": row["id"],
        "at": moment.astimezone(ZONE).strftime("%Y-%m-%d %H:%M:%S") if moment else "",
        "table": dict(tables(request)).get(row["table"], row["table"]),
        "record": row["note"] if row["table"] == ORG_TABLE else row["record_id"],
        "url": _record_url(request, row),
        "action": t(f"admin_action_{row['action']}", locale)
        if row["action"] in ACTIONS
        else row["action"],
        "actor": f"{actor[1]}（{actor[0]}）" if actor else t("system", locale),
        "ip": row["ip"] or "",
        "changes": [
            {
                "key": k,
                "before": _short(before[k]) if k in before else "",
                "after": _short(after[k]) if k in after else "",
            }
            for k in keys
        ],
    }


async def audit_page(request: Request) -> Response:
    admin_of(request)
    store = request.app.state.store
    params = request.query_params
    filters = Filters(request)
    await filters.resolve(request)
    base = "/admin/audit"
    rows: list[dict[str, Any]] = []
    next_url = prev_url = None
    if not filters.errors:
        after = params.get("after", "")
        before = params.get("before", "")
        page = await fetch_page(
            store.db(),
            store.pg,
            SELECT,
            filters.where(store.pg),
            'c."id"',
            "id",
            after=int(after) if after.isdigit() and len(after) < 19 else None,
            before=int(before) if before.isdigit() and len(before) < 19 else None,
            size=PAGE,
            descending=True,
        )
        actors = await _actors(page.rows)
        rows = [_entry(request, r, actors) for r in page.rows]
        next_url = page_url(base, params, after=page.next) if page.next else None
        prev_url = page_url(base, params, before=page.prev) if page.prev else None
    locale = request.state.locale
    return render(
        request,
        "admin/audit.html",
        base_context(
            request,
            "admin_audit",
            values=filters.values,
            errors=filters.errors,
            tables=tables(request),
            actions=[(a, t(f"admin_action_{a}", locale)) for a in ACTIONS],
            rows=rows,
            next_url=next_url,
            prev_url=prev_url,
            first_url=page_url(base, params)
            if (params.get("after") or params.get("before"))
            else None,
            export_url=page_url(base + "/export.csv", params),
        ),
        status=422 if filters.errors else 200,
        block="results" if request.headers.get("HX-Target") == "results" else None,
    )


HEADER = (
    "id",
    "at",
    "table",
    "record_id",
    "action",
    "actor",
    "actor_login",
    "ip",
    "before",
    "after",
    "note",
)


def _safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in exported text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def audit_export(request: Request) -> Response:
    admin_of(request)
    store = request.app.state.store
    filters = Filters(request)
    await filters.resolve(request)
    if filters.errors:
        return await audit_page(request)
    where = filters.where(store.pg)

    async def body() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(HEADER)
        yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
        after = None
        while True:
            page = await fetch_page(
                store.db(),
                store.pg,
                SELECT,
                where,
                'c."id"',
                "id",
                after=after,
                size=BATCH,
                descending=True,
            )
            if not page.rows:
                break
            actors = await _actors(page.rows)
            buffer.seek(0)
            buffer.truncate()
            for r in page.rows:
                moment = decode("datetime", r["at"])
                actor = actors.get(int(r["actor"])) if r["actor"] is not None else None
                writer.writerow(
                    [
                        _safe(v)
                        for v in (
                            r["id"],
                            moment.isoformat() if moment else "",
                            r["table"],
                            r["record_id"],
                            r["action"],
                            r["actor"] if r["actor"] is not None else "",
                            actor[0] if actor else "",
                            r["ip"] or "",
                            _dump(r["before"]),
                            _dump(r["after"]),
                            r["note"] or "",
                        )
                    ]
                )
            yield buffer.getvalue().encode("utf-8")
            if page.next is None:
                break
            after = page.next

    stamp = dt.datetime.now(ZONE).strftime("%Y%m%d-%H%M")
    name = f"{t('admin_audit', request.state.locale)}-{stamp}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{url_quote(name)}"},
    )


def _dump(raw: Any) -> str:
    value = _json(raw)
    return "" if value is None else json.dumps(value, ensure_ascii=False)
