"""The scoring engine: compute a rule for a period, keep it current, publish it, read it.

``Scorer(store)`` holds the deployment's rules. ``recompute(rule, period)``
replaces the rows of (rule, period) in ``yidi_score`` with the result of one
aggregate statement (``runtime.scoring.sql``) in one transaction.
``on_write`` is the store's write hook: a record written to a source entity
updates, for each computed period whose window holds the record's date
(before and after the write), the subject concerned: its rows come from one
aggregate over its own records, then — when scores depend on the others
(ranks, normalised indices, a relative scale) — its ranking group is
re-ranked from the stored rows (``Builder.rerank``), never from the events.
``publish`` freezes (rule, period) into ``yidi_score_published`` (亮分).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.transactions import in_transaction

from runtime.expr import Context
from runtime.manifest import OrgUnit
from runtime.model import Entity
from runtime.scoring import periods
from runtime.scoring.periods import Period
from runtime.scoring.rules import TOTAL, Item, Rule, build_rules
from runtime.scoring.sql import Builder, Restrict, literal
from runtime.scoring.tables import COLUMNS, group_index_sql
from runtime.storage.columns import encode
from runtime.storage.sql import P, Sql, placeholders, quote
from runtime.storage.tables import column_sql

log = logging.getLogger("yidi.scoring")
LOCK_BASE = 7_310_600_000  # pg_advisory_xact_lock keys: one computation of a rule at a time


class ScoringError(ValueError):
    pass


class Scorer:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.deployment = store.deployment
        self.rules: dict[str, Rule] = build_rules(self.deployment)
        self.clock: Any = None  # a callable giving "now" (tests set the app's clock)
        self.indexed = False  # the group index checked (tables made before it lacked it)

    # -- basics ---------------------------------------------------------------------------

    @property
    def tz(self) -> str:
        return str(self.deployment.data.get("timezone") or "Asia/Shanghai")

    def now(self) -> dt.datetime:
        return self.clock() if self.clock else dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return periods.local_today(self.tz, self.now())

    def rule(self, key: str) -> Rule:
        found = self.rules.get(key)
        if found is None:
            raise ScoringError(f"unknown scoring rule {key!r} (known: {', '.join(self.rules)})")
        return found

    def current(self, rule: Rule) -> str:
        return periods.containing(rule.period, self.today()).key

    def window(self, rule: Rule, key: str) -> Period:
        try:
            return periods.window(rule.period, key)
        except periods.PeriodError as exc:
            raise ScoringError(str(exc)) from exc

    def ancestor(self, unit: str | None, kind: str | None) -> str:
        """The nearest unit of ``kind`` at or above ``unit`` ('' when none)."""
        org = self.deployment.org
        current: OrgUnit | None = org.get(unit) if unit else None
        while current is not None:
            if current.kind == kind:
                return current.id
            current = org.get(current.parent) if current.parent else None
        return ""

    def units(self, rule: Rule) -> list[tuple[str, str, str]]:
        subject_kind = rule.kind if rule.subject == "org" else None
        out = []
        for unit in self.deployment.org:
            subj = ""
            if rule.subject == "org":
                subj = self.ancestor(unit, subject_kind) if subject_kind else unit
            grp = self.ancestor(unit, rule.within) if rule.within else ""
            out.append((unit, subj, grp))
        return out

    def builder(self, rule: Rule, window: Period, *, solo: bool = False) -> Builder:
        """The statement builder; ``solo``: for one subject's update, where a deputy rule
        needs no unit table (the org tree is walked only for station rules)."""
        today = self.today()
        ctx = Context(now=self.now(), today=today)
        units = [] if solo and rule.subject == "user" else self.units(rule)
        return Builder(self.store.pg, rule, self.store.table, window, self.tz, units, ctx)

    # -- computing ------------------------------------------------------------------------

    async def recompute(
        self, key: str, period: str, restrict: Restrict | None = None, *, mark: bool = True
    ) -> int:
        """Replace the scores of (rule, period) — or of one group / subject — in one transaction."""
        rule = self.rule(key)
        window = self.window(rule, period)
        if restrict is not None and restrict.solo:
            await self.refresh(rule.key, window.key, [restrict])
            return await self.count(rule.key, window.key)
        builder = self.builder(rule, window)
        statement = builder.statement(window.key, restrict)
        pg = self.store.pg
        delete = Sql(pg, 'DELETE FROM "yidi_score" WHERE "rule" = ', P(rule.key, "text"))
        delete.add(' AND "period" = ', P(window.key, "text"))
        if restrict is not None and restrict.grp is not None:
            delete.add(' AND "grp" = ', P(restrict.grp, "text"))
        if restrict is not None and restrict.subject is not None:
            delete.add(' AND "subject" = ', P(str(restrict.subject), "text"))
        async with in_transaction(self.store.connection_name) as conn:
            if pg:
                await conn.execute_query(
                    "SELECT pg_advisory_xact_lock($1)", [LOCK_BASE + _small_hash(rule.key)]
                )
            if not self.indexed:
                await conn.execute_query(group_index_sql())
                self.indexed = True
            if builder.needs_units:
                for sql in builder.units_sql():
                    await conn.execute_query(
                        sql
                    )  # one statement: execute_script would COMMIT on SQLite
            await conn.execute_query(*delete.render())
            await conn.execute_query(*statement.render())
            if mark:
                await self._mark(conn, rule.key, window.key)
        subjects = await self.count(rule.key, window.key)
        if pg and restrict is None:
            await self._fresh_statistics(subjects)
        return subjects

    async def _fresh_statistics(self, subjects: int) -> None:
        """PostgreSQL plans a write's updates from the table statistics: when they still
        describe a score table smaller than the period just computed (its first
        computation), refresh them now rather than when autovacuum gets to it."""
        if subjects < 5_000:
            return
        rows = await self.store.db().execute_query_dict(
            "SELECT reltuples FROM pg_class WHERE relname = 'yidi_score' AND relkind = 'r'"
        )
        if rows and float(rows[0]["reltuples"]) < subjects:
            await self.store.db().execute_query('ANALYZE "yidi_score"')

    async def refresh(self, key: str, period: str, subjects: Sequence[Restrict]) -> None:
        """The incremental update of a write: each subject's rows from its own records
        (``Restrict(subject=…, grp=…)``), then each group concerned re-ranked from the
        stored rows when the rule's scores depend on one another; one transaction."""
        rule = self.rule(key)
        window = self.window(rule, period)
        builder = self.builder(rule, window, solo=True)
        pg = self.store.pg
        groups: dict[str, str | None] = {}
        async with in_transaction(self.store.connection_name) as conn:
            if pg:
                await conn.execute_query(
                    "SELECT pg_advisory_xact_lock($1)", [LOCK_BASE + _small_hash(rule.key)]
                )
            for restrict in subjects:
                assert restrict.solo and restrict.grp is not None
                delete = Sql(pg, 'DELETE FROM "yidi_score" WHERE "rule" = ', P(rule.key, "text"))
                delete.add(' AND "period" = ', P(window.key, "text"))
                delete.add(' AND "subject" = ', P(str(restrict.subject), "text"))
                await conn.execute_query(*delete.render())
                await conn.execute_query(*builder.statement(window.key, restrict).render())
                groups.setdefault(restrict.grp, restrict.path)
            if rule.grouped:
                for grp, path in groups.items():
                    await conn.execute_query(*builder.rerank(window.key, grp, path).render())
            await self._mark(conn, rule.key, window.key)

    async def count(self, key: str, period: str) -> int:
        """How many subjects (rule, period) scored."""
        marks = placeholders(self.store.pg, 3).split(", ")
        rows = await self.store.db().execute_query_dict(
            f'SELECT count(*) AS n FROM "yidi_score" WHERE "rule" = {marks[0]} '
            f'AND "period" = {marks[1]} AND "item" = {marks[2]}',
            [key, period, TOTAL],
        )
        return int(rows[0]["n"])

    async def _mark(self, conn: Any, rule: str, period: str) -> None:
        at = encode("datetime", self.now(), self.store.pg)
        marks = placeholders(self.store.pg, 3)
        await conn.execute_query(
            'INSERT INTO "yidi_score_run" ("rule", "period", "computed_at") '
            f'VALUES ({marks}) ON CONFLICT ("rule", "period") '
            'DO UPDATE SET "computed_at" = excluded."computed_at"',
            [rule, period, at],
        )

    async def runs(self, key: str) -> list[dict[str, Any]]:
        mark = "$1" if self.store.pg else "?"
        rows = await self.store.db().execute_query_dict(
            'SELECT "period", "computed_at", "published_at", "published_by" '
            f'FROM "yidi_score_run" WHERE "rule" = {mark} ORDER BY "period" DESC',
            [key],
        )
        return [dict(r) for r in rows]

    async def ensure(self, key: str, period: str) -> None:
        """Compute (rule, period) when it never was (a page asks for a period on demand)."""
        if not any(r["period"] == period and r["computed_at"] for r in await self.runs(key)):
            await self.recompute(key, period)

    # -- keeping scores current -----------------------------------------------------------

    async def on_write(
        self, entity: Entity, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> None:
        """The store's write hook: update the subjects a written record concerns."""
        for rule in self.rules.values():
            items = [i for i in rule.items.values() if i.entity.key == entity.key]
            if not items:
                continue
            if before is not None and after is not None and not _changes(items, before, after):
                continue  # nothing the rule reads moved (a note edited, a task assigned)
            runs = [r["period"] for r in await self.runs(rule.key) if r["computed_at"]]
            if not runs:
                continue
            if before is None and after is None:  # a bulk insert: recompute every live period
                for period in runs:
                    await self.recompute(rule.key, period)
                continue
            windows = [self.window(rule, p) for p in runs]
            targets: dict[str, dict[Restrict, None]] = {}  # period → subjects, in order
            found: dict[tuple[str, Any], Restrict | None] = {}
            for record in (before, after):
                if record is None:
                    continue
                for item in items:
                    day = periods.local_day(record.get(item.date_field), self.tz)
                    if day is None:
                        continue
                    touched = [w for w in windows if w.start <= day < w.end]
                    if not touched:
                        continue
                    link = (item.subject_field, record.get(item.subject_field))
                    if link not in found:  # one look-up per subject, not per item
                        found[link] = await self._restrict_for(rule, item, record)
                    restrict = found[link]
                    if restrict is None:
                        continue
                    for w in touched:
                        targets.setdefault(w.key, {})[restrict] = None
            for period, restricts in targets.items():
                await self.refresh(rule.key, period, list(restricts))

    async def _restrict_for(
        self, rule: Rule, item: Item, record: Mapping[str, Any]
    ) -> Restrict | None:
        value = record.get(item.subject_field)
        if value is None or isinstance(value, list):
            return None
        subject: str | int
        home: str | None
        if rule.subject == "org":
            subject = self.ancestor(str(value), rule.kind) if rule.kind else str(value)
            home = subject or None
        else:
            subject = int(value)
            home = await self._home_unit(rule, subject)
        if home is None:
            return None
        grp = self.ancestor(home, rule.within) if rule.within else ""
        return Restrict(
            grp=grp, subject=subject, path=self.deployment.org_path(grp) if grp else None
        )

    async def _home_unit(self, rule: Rule, user: int) -> str | None:
        """The deepest unit where ``user`` holds one of the rule's roles (None: not scored)."""
        from runtime.storage.platform import Grant

        units = await Grant.filter(user_id=user, role__in=rule.platform_roles).values_list(
            "org_unit_id", flat=True
        )
        paths = sorted(
            (self.deployment.org_path(str(u)) for u in units),
            key=lambda p: (-len(p), p),
        )
        return paths[0].strip("/").split("/")[-1] if paths else None

    # -- publishing -----------------------------------------------------------------------

    async def publish(
        self,
        key: str,
        period: str,
        actor: int | None,
        *,
        ip: str | None = None,
        via: str = "web",
    ) -> int:
        """Freeze (rule, period) as computed now; a republished period replaces its snapshot.
        ``actor`` (None: the system, e.g. the demo seed) is kept with the run and in an audit
        row (``yidi_change``: table ``yidi_score_run``, action ``publish``, ``via`` as note)."""
        rule = self.rule(key)
        window = self.window(rule, period)
        await self.recompute(rule.key, window.key)
        pg = self.store.pg
        cols = ", ".join(quote(c) for c in COLUMNS)
        marks = placeholders(pg, 2)
        async with in_transaction(self.store.connection_name) as conn:
            await conn.execute_query(
                f'DELETE FROM "yidi_score_published" WHERE "rule" = {marks.split(", ")[0]} '
                f'AND "period" = {marks.split(", ")[1]}',
                [rule.key, window.key],
            )
            count, _ = await conn.execute_query(
                f'INSERT INTO "yidi_score_published" ({cols}) SELECT {cols} FROM "yidi_score" '
                f'WHERE "rule" = {marks.split(", ")[0]} AND "period" = {marks.split(", ")[1]}',
                [rule.key, window.key],
            )
            await self._published(conn, rule.key, window.key, actor)
            await self._audit_publish(conn, rule.key, window.key, actor, ip, via, int(count or 0))
        return int(count or 0)

    async def _audit_publish(
        self,
        conn: Any,
        rule: str,
        period: str,
        actor: int | None,
        ip: str | None,
        via: str,
        rows: int,
    ) -> None:
        import json

        from runtime.storage.rowio import insert_rows
        from runtime.storage.writes import CHANGE_COLUMNS

        pg = self.store.pg
        marks = placeholders(pg, 2).split(", ")
        found = await conn.execute_query_dict(
            f'SELECT "id" FROM "yidi_score_run" WHERE "rule" = {marks[0]} AND "period" = {marks[1]}',
            [rule, period],
        )
        subjects = await conn.execute_query_dict(
            f'SELECT count(*) AS n FROM "yidi_score_published" WHERE "rule" = {marks[0]} '
            f'AND "period" = {marks[1]} AND "item" = \'{TOTAL}\'',
            [rule, period],
        )
        after = {"rule": rule, "period": period, "subjects": int(subjects[0]["n"]), "rows": rows}
        row = [
            "yidi_score_run",
            int(found[0]["id"]),
            "publish",
            actor,
            encode("datetime", self.now(), pg),
            ip,
            None,
            json.dumps(after, ensure_ascii=False),
            via if actor is not None else f"{via} (system)",
        ]
        await insert_rows(conn, pg, "yidi_change", CHANGE_COLUMNS, [row])

    async def _published(self, conn: Any, rule: str, period: str, actor: int | None) -> None:
        pg = self.store.pg
        at = encode("datetime", self.now(), pg)
        marks = placeholders(pg, 5)
        await conn.execute_query(
            'INSERT INTO "yidi_score_run" ("rule", "period", "computed_at", "published_at", '
            f'"published_by") VALUES ({marks}) ON CONFLICT ("rule", "period") DO UPDATE SET '
            '"published_at" = excluded."published_at", "published_by" = excluded."published_by"',
            [rule, period, at, at, actor],
        )

    async def published_periods(self, key: str) -> list[str]:
        return [r["period"] for r in await self.runs(key) if r["published_at"]]

    # -- reading --------------------------------------------------------------------------

    def _table(self, published: bool) -> str:
        return '"yidi_score_published"' if published else '"yidi_score"'

    async def totals(
        self,
        key: str,
        period: str,
        *,
        paths: Sequence[str] | None = None,
        published: bool = False,
        limit: int | None = None,
        subjects: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Total rows (score, rank, band) best first, within org ``paths`` when given."""
        pg = self.store.pg
        sql = Sql(
            pg,
            'SELECT "subject", "org", "org_path", "grp", "value", "points", "rank", "band" FROM ',
            self._table(published),
            ' WHERE "rule" = ',
            P(key, "text"),
            ' AND "period" = ',
            P(period, "text"),
            ' AND "item" = ',
            P(TOTAL, "text"),
        )
        if paths is not None:
            tests: list[Sql | str] = [_prefix(pg, '"org_path"', p) for p in paths]
            sql.add(" AND (").join(tests or ["1 = 0"], " OR ").add(")")
        if subjects is not None:
            wanted = [Sql(pg, P(str(s), "text")) for s in subjects]
            if not wanted:
                return []
            sql.add(' AND "subject" IN (').join(wanted, ", ").add(")")
        sql.add(' ORDER BY "points" DESC, "subject"')
        if limit is not None:
            sql.add(f" LIMIT {int(limit)}")
        rows = await self.store.db().execute_query_dict(*sql.render())
        return [dict(r) for r in rows]

    async def items_of(
        self, key: str, period: str, subjects: Sequence[str], *, published: bool = False
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """subject → item → {value, points} (items that matched nothing are absent)."""
        if not subjects:
            return {}
        pg = self.store.pg
        sql = Sql(
            pg,
            'SELECT "subject", "item", "value", "points", "rank", "band" FROM ',
            self._table(published),
            ' WHERE "rule" = ',
            P(key, "text"),
            ' AND "period" = ',
            P(period, "text"),
            ' AND "subject" IN (',
        )
        sql.join([Sql(pg, P(str(s), "text")) for s in subjects], ", ").add(")")
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for row in await self.store.db().execute_query_dict(*sql.render()):
            out.setdefault(str(row["subject"]), {})[str(row["item"])] = dict(row)
        return out

    async def evidence(
        self, key: str, period: str, item_id: str, subject: str, limit: int = 100
    ) -> list[dict[str, Any]]:
        """The records behind one item of one subject in the period (newest first)."""
        rule = self.rule(key)
        item = rule.items[item_id]
        window = self.window(rule, period)
        builder = self.builder(rule, window)
        entity = item.entity
        table = self.store.table(entity)
        pg = self.store.pg
        dialect = "postgres" if pg else "sqlite"
        title = entity.title_field if entity.title_field in table.columns else "id"
        date_col = column_sql(entity, item.date_field, dialect)
        link = column_sql(entity, item.subject_field, dialect)
        cols = f'{quote(table.name)}."id" AS id, {column_sql(entity, title, dialect)} AS title, {date_col} AS day'
        if item.sum:
            cols += f", {column_sql(entity, item.sum, dialect)} AS amount"
        sql = Sql(
            pg,
            f"SELECT {cols} FROM {quote(table.name)} WHERE ",
            builder.range_of(entity, item.date_field),
        )
        if item.where is not None:
            sql.add(" AND (", builder.expr(item.where, builder._field(entity)), ")")
        if rule.subject == "user":
            sql.add(f" AND {link} = ", P(int(subject), "bigint"))
        else:
            units = [u for u, s, _ in builder.units if s == subject] or [subject]
            sql.add(f" AND {link} IN (").join([Sql(pg, P(u, "text")) for u in units], ", ").add(")")
        sql.add(f' ORDER BY {date_col} DESC, {quote(table.name)}."id" DESC LIMIT {int(limit)}')
        rows = await self.store.db().execute_query_dict(*sql.render())
        return [dict(r) for r in rows]


def _changes(items: Sequence[Item], before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether an update moved anything the items read (their date, subject, summed field
    or a name their condition uses)."""
    names: set[str] = set()
    for item in items:
        names |= {item.date_field, item.subject_field}
        if item.sum:
            names.add(item.sum)
        if item.where is not None:
            names |= set(item.where.names)
    return any(before.get(n) != after.get(n) for n in names)


def _prefix(pg: bool, column: str, path: str) -> Sql:
    upper = path[:-1] + chr(ord(path[-1]) + 1)
    return Sql(pg, f"({column} >= ", P(path, "text"), f" AND {column} < ", P(upper, "text"), ")")


def _small_hash(text: str) -> int:
    value = 0
    for ch in text:
        value = (value * 131 + ord(ch)) % 1_000_000
    return value


__all__ = ["Restrict", "Scorer", "ScoringError", "attach", "literal"]


def attach(store: Any, clock: Any = None) -> Scorer:
    """A scorer for ``store`` that keeps computed periods current on every write."""
    scorer = Scorer(store)
    scorer.clock = clock
    store.write_hooks.append(scorer.on_write)
    store.scorer = scorer
    return scorer
