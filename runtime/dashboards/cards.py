"""The numbers of dashboard cards, computed in the database for one org unit's subtree.

Every card of an entity is one ``GROUP BY`` query restricted to the unit's
subtree (an ``org_path`` range, as every row rule of the store) and to the
card's ``where`` (compiled from the expression language):

- number / rate: grouped by ``org_path``, then rolled up the org tree in
  Python (the tree is small), which gives the unit's figure and its children's
  at the next dashboard level in one query;
- bar / pie / table: grouped by the card's field (``org``: by the next level);
- line: grouped by local day or month (the deployment's time zone), bucketed
  into the card's periods;
- ranking: the scoring engine's totals within the subtree.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from runtime.deployment import Deployment
from runtime.expr import Context
from runtime.manifest import KIND_RANK
from runtime.model import Entity, Label
from runtime.storage.query import ListQuery, where_sql
from runtime.storage.sql import Sql, quote
from runtime.storage.tables import column_sql

DIRECT = ""  # the rollup key of records held at the unit itself (not under a child)


@dataclass
class Card:
    id: str
    spec: dict[str, Any]
    entity: Entity | None

    @property
    def type(self) -> str:
        return str(self.spec["type"])

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def measure(self) -> tuple[str, str | None]:
        """(count|sum|avg|min|max, field)"""
        found = re.match(r"^(sum|avg|min|max)\((\w+)\)$", str(self.spec.get("measure", "count")))
        return (found.group(1), found.group(2)) if found else ("count", None)

    @property
    def width(self) -> int:
        return int(self.spec.get("width", 1))


@dataclass
class Dashboard:
    scenario: str
    id: str
    spec: dict[str, Any]
    cards: dict[str, Card] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.scenario}.{self.id}"

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def levels(self) -> list[str]:
        return list(self.spec.get("levels") or [])


def build_dashboards(deployment: Deployment) -> dict[str, Dashboard]:
    out: dict[str, Dashboard] = {}
    for sid, scenario in deployment.scenarios.items():
        for did, spec in (scenario.data.get("dashboards") or {}).items():
            dash = Dashboard(sid, did, spec)
            cards = sorted(
                (spec.get("cards") or {}).items(), key=lambda kv: kv[1].get("order", 100)
            )
            for cid, cspec in cards:
                ref = cspec.get("entity")
                entity = None
                if ref:
                    entity = deployment.entity(ref if "." in ref else f"{sid}.{ref}")
                dash.cards[cid] = Card(cid, cspec, entity)
            out[dash.key] = dash
    return out


@dataclass
class Agg:
    """A measure's parts, so that figures roll up exactly (avg = sum / count)."""

    n: int = 0  # rows
    total: float = 0.0
    count: int = 0  # non-null values
    low: float | None = None
    high: float | None = None

    def add(self, other: Agg) -> None:
        self.n += other.n
        self.total += other.total
        self.count += other.count
        if other.low is not None:
            self.low = other.low if self.low is None else min(self.low, other.low)
        if other.high is not None:
            self.high = other.high if self.high is None else max(self.high, other.high)

    def value(self, how: str) -> float | None:
        if how == "count":
            return float(self.n)
        if how == "sum":
            return self.total
        if how == "avg":
            return self.total / self.count if self.count else None
        return self.low if how == "min" else self.high


class Figures:
    """Card data for one deployment: ``store`` runs the queries, ``tz`` places dates."""

    def __init__(self, store: Any, tz: str) -> None:
        self.store = store
        self.deployment: Deployment = store.deployment
        self.tz = tz
        self.pg = bool(store.pg)
        self.dialect = "postgres" if self.pg else "sqlite"
        self._shared: dict[tuple[Any, ...], asyncio.Future[dict[str, Agg]]] = {}

    # -- the org tree ----------------------------------------------------------------------

    def children(self, unit: str, levels: list[str]) -> list[str]:
        """The units one level down from ``unit`` in the dashboard's ``levels`` (may skip
        levels that are missing, e.g. a county → its stations when townships are not listed)."""
        org = self.deployment.org
        here = org.get(unit)
        if here is None:
            return []
        rank = KIND_RANK.get(here.kind, 99)
        base = self.deployment.org_path(unit)
        below = [
            u
            for u in org.values()
            if u.id != unit and self.deployment.org_path(u.id).startswith(base)
        ]
        wanted = [k for k in levels or list(KIND_RANK) if KIND_RANK.get(k, 0) > rank]
        for kind in sorted(wanted, key=lambda k: KIND_RANK[k]):
            found = [u.id for u in below if u.kind == kind]
            if found:
                return sorted(found, key=lambda u: self.deployment.org_path(u))
        return []

    def _child_of(self, path: str, base: str, children: list[str]) -> str:
        for child in children:
            if path.startswith(self.deployment.org_path(child)):
                return child
        return DIRECT

    # -- queries ---------------------------------------------------------------------------

    def _where(self, card: Card, unit: str, ctx: Context) -> Sql:
        assert card.entity is not None
        table = self.store.table(card.entity)
        expr = card.entity.compile(card.spec["where"]) if card.spec.get("where") else None
        query = ListQuery(where=[expr] if expr else [], within=[unit])
        return where_sql(self.pg, table, query, ctx, self.deployment.org_path)

    def _measure_columns(self, card: Card) -> str:
        _, fid = card.measure
        if fid is None:
            return "COUNT(*) AS n"
        assert card.entity is not None
        col = column_sql(card.entity, fid, self.dialect)
        return f"COUNT(*) AS n, SUM({col}) AS total, COUNT({col}) AS cnt, MIN({col}) AS low, MAX({col}) AS high"

    @staticmethod
    def _agg(row: dict[str, Any]) -> Agg:
        def num(key: str) -> float | None:
            value = row.get(key)
            return None if value is None else float(value)

        return Agg(
            int(row.get("n") or 0),
            num("total") or 0.0,
            int(row.get("cnt") or 0),
            num("low"),
            num("high"),
        )

    async def by_path(self, card: Card, unit: str, ctx: Context) -> dict[str, Agg]:
        """The card's measure per org path under ``unit`` (one query per entity, filter and
        measure: cards that share them share it, also when computed concurrently)."""
        assert card.entity is not None
        key = (card.entity.key, card.spec.get("where"), card.spec.get("measure"), unit)
        task = self._shared.get(key)
        if task is None:
            task = self._shared[key] = asyncio.ensure_future(self._by_path(card, unit, ctx))
        return await task

    async def _by_path(self, card: Card, unit: str, ctx: Context) -> dict[str, Agg]:
        assert card.entity is not None
        table = self.store.table(card.entity)
        sql = Sql(
            self.pg,
            f'SELECT {quote(table.name)}."org_path" AS key, {self._measure_columns(card)} '
            f"FROM {quote(table.name)} WHERE ",
            self._where(card, unit, ctx),
            f' GROUP BY {quote(table.name)}."org_path"',
        )
        rows = await self.store.db().execute_query_dict(*sql.render())
        return {str(r["key"]): self._agg(dict(r)) for r in rows}

    async def rollup(
        self, card: Card, unit: str, levels: list[str], ctx: Context
    ) -> tuple[Agg, dict[str, Agg]]:
        """The unit's figure and each child's (key ``DIRECT``: held at no child)."""
        base = self.deployment.org_path(unit)
        children = self.children(unit, levels)
        whole = Agg()
        parts: dict[str, Agg] = {c: Agg() for c in children}
        for path, agg in (await self.by_path(card, unit, ctx)).items():
            whole.add(agg)
            parts.setdefault(self._child_of(path, base, children), Agg()).add(agg)
        return whole, parts

    async def grouped(self, card: Card, unit: str, ctx: Context) -> list[tuple[Any, Agg]]:
        """The measure per value of the card's ``group_by`` field, largest first."""
        assert card.entity is not None
        table = self.store.table(card.entity)
        name = str(card.spec["group_by"])
        col = column_sql(card.entity, name, self.dialect)
        sql = Sql(
            self.pg,
            f"SELECT {col} AS key, {self._measure_columns(card)} FROM {quote(table.name)} WHERE ",
            self._where(card, unit, ctx),
            f" GROUP BY {col}",
        )
        rows = await self.store.db().execute_query_dict(*sql.render())
        out = [(r["key"], self._agg(dict(r))) for r in rows]
        how = card.measure[0]
        return sorted(out, key=lambda kv: (-(kv[1].value(how) or 0), str(kv[0])))

    async def trend(
        self, card: Card, unit: str, ctx: Context, today: dt.date
    ) -> list[tuple[str, Agg]]:
        """The measure per period (``by``), the last ``periods`` of them, oldest first."""
        assert card.entity is not None
        table = self.store.table(card.entity)
        by = str(card.spec.get("by") or "month")
        count = int(card.spec.get("periods") or 12)
        buckets = _buckets(by, today, count)
        name = str(card.spec.get("date_field") or "created_at")
        kind = table.columns[name].kind
        fine = "day" if by in ("day", "week") else "month"
        key = self._local(card.entity, name, kind, fine)
        start = buckets[0][1]
        sql = Sql(
            self.pg,
            f"SELECT {key} AS key, {self._measure_columns(card)} FROM {quote(table.name)} WHERE ",
            self._where(card, unit, ctx),
            " AND ",
            self._since(card.entity, name, kind, start),
            f" GROUP BY {key}",
        )
        rows = await self.store.db().execute_query_dict(*sql.render())
        found: dict[str, Agg] = defaultdict(Agg)
        for row in rows:
            if row["key"] is None:
                continue
            day = dt.date.fromisoformat(str(row["key"]) + ("-01" if fine == "month" else ""))
            label = _bucket_of(by, day)
            found[label].add(self._agg(dict(row)))
        return [(label, found.get(label, Agg())) for label, _ in buckets]

    def _local(self, entity: Entity, name: str, kind: str, fine: str) -> str:
        col = column_sql(entity, name, self.dialect)
        size = 10 if fine == "day" else 7
        pattern = "YYYY-MM-DD" if fine == "day" else "YYYY-MM"
        if kind == "date":
            return f"to_char({col}, '{pattern}')" if self.pg else f"substr({col}, 1, {size})"
        if self.pg:
            return f"to_char({col} AT TIME ZONE '{self.tz}', '{pattern}')"
        minutes = _offset_minutes(self.tz)
        return f"substr(datetime({col}, '{minutes:+d} minutes'), 1, {size})"

    def _since(self, entity: Entity, name: str, kind: str, start: dt.date) -> Sql:
        from runtime.storage.columns import encode
        from runtime.storage.sql import P

        col = column_sql(entity, name, self.dialect)
        if kind == "date":
            return Sql(self.pg, f"{col} >= ", P(encode("date", start, self.pg), "date"))
        moment = dt.datetime(start.year, start.month, start.day, tzinfo=ZoneInfo(self.tz))
        value = encode("datetime", moment, self.pg)
        return Sql(self.pg, f"{col} >= ", P(value, "timestamptz"))


def _offset_minutes(tz: str) -> int:
    offset = dt.datetime.now(ZoneInfo(tz)).utcoffset() or dt.timedelta(0)
    return int(offset.total_seconds() // 60)


def _bucket_of(by: str, day: dt.date) -> str:
    if by == "day":
        return day.isoformat()
    if by == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday.isoformat()
    if by == "month":
        return f"{day.year}-{day.month:02d}"
    if by == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def _buckets(by: str, today: dt.date, count: int) -> list[tuple[str, dt.date]]:
    """(label, first day) of the last ``count`` periods, oldest first."""
    out: list[tuple[str, dt.date]] = []
    day = today
    while len(out) < count:
        if by == "day":
            first = day
        elif by == "week":
            first = day - dt.timedelta(days=day.weekday())
        elif by == "month":
            first = day.replace(day=1)
        elif by == "quarter":
            first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        else:
            first = dt.date(day.year, 1, 1)
        out.append((_bucket_of(by, first), first))
        day = first - dt.timedelta(days=1)
    return list(reversed(out))
