"""One aggregate statement per rule: from the source records to the rows of ``yidi_score``.

``score_sql`` builds a single ``WITH … INSERT INTO yidi_score … SELECT`` for
SQLite and PostgreSQL:

``yidi_units_tmp``  (a temporary table filled before the statement, indexed by unit)
           the org tree: unit → subject unit (org rules) and ranking group (the
           ancestor of the ranking kind);
``subj``   the subjects: holders of the rule's roles (each at the deepest unit
           where they hold one), or the org units of the rule's kind;
``src_n``  one scan per source table (and subject field): every item on it is a
           ``SUM(CASE WHEN <where, compiled from the expression language> …)``,
           grouped by subject, the period's range in the ``WHERE`` (index-friendly);
``pts``    the sources joined to the subjects; points per item:
           ``LEAST(raw × points, cap) × weight``;
``tot``    the total (the sum or the rule's ``total`` expression, compiled), capped;
``nrm``    the total scaled and each item normalised within its group (window MAX);
``fin``    the indices (their formulas compiled over the normalised items);
``rk``     the score, its rank within the group (RANK or DENSE_RANK) and band;
and the final SELECT unpivots each subject into item rows, a total row and index rows.

A restriction turns the same statement into the incremental update of a
write: ``Restrict(subject=…, grp=…)`` (the subject's group known) computes one
subject's rows from its own records only (an index lookup on the subject
field, no unit table); ``rerank`` then re-derives the total, indices, ranks and
bands of the subject's whole group from the item rows already stored in
``yidi_score`` (one ``UPDATE … FROM`` over window functions: normalising needs
the group's maxima, taken from the stored item points, never from events).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from runtime.expr import Context, Expr
from runtime.model import Entity
from runtime.scoring.periods import Period
from runtime.scoring.rules import TOTAL, Item, Rule, index_key
from runtime.scoring.tables import COLUMNS
from runtime.storage.columns import encode
from runtime.storage.sql import Embedded, P, Sql, quote
from runtime.storage.tables import Table, column_sql

_SAFE = re.compile(r"^[A-Za-z0-9_\-]*$")
UNITS = "yidi_units_tmp"  # a temporary table: per connection, filled in the statement's transaction


@dataclass(frozen=True)
class Restrict:
    """Recompute only one ranking group (``grp``) or one subject.

    With both ``subject`` and ``grp``, the subject alone, placed in the group
    given (the incremental update of a write)."""

    grp: str | None = None
    subject: str | int | None = None
    path: str | None = None  # the group's org path (narrows the people looked at)

    @property
    def solo(self) -> bool:
        return self.subject is not None and self.grp is not None


def literal(value: str) -> str:
    """A text literal (org unit ids are plain; anything else is quoted safely)."""
    if _SAFE.match(value):
        return f"'{value}'"
    return "'" + value.replace("'", "''") + "'"


class Builder:
    def __init__(
        self,
        pg: bool,
        rule: Rule,
        table_of: Callable[[Entity], Table],
        window: Period,
        tz: str,
        units: Sequence[tuple[str, str, str]],
        ctx: Context,
    ) -> None:
        self.pg = pg
        self.rule = rule
        self.table_of = table_of
        self.window = window
        self.tz = tz
        self.units = units
        self.ctx = ctx
        self.dialect = "postgres" if pg else "sqlite"
        self.items = list(rule.items.values())
        self.col = {item.id: f"i{n}" for n, item in enumerate(self.items)}
        self.index_col = {xid: f"x{n}" for n, xid in enumerate(rule.indices)}

    # -- helpers ---------------------------------------------------------------------------

    def num(self, value: float) -> str:
        text = repr(float(value))
        return f"CAST({text} AS double precision)" if self.pg else text

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    def expr(self, expr: Expr, column: Callable[[str], str], *, value: bool = True) -> Embedded:
        """A compiled expression; ``value=False`` for a condition inside WHERE / CASE WHEN,
        where null may stand for false."""
        sql, params = expr.to_sql(self.dialect, column, self.ctx, value=value)
        return Embedded(sql, params)

    def range_of(self, entity: Entity, name: str) -> Sql:
        """``name`` within the window: local days for a date, UTC instants for a datetime."""
        table = self.table_of(entity)
        column = table.columns[name]
        col = column_sql(entity, name, self.dialect)
        if column.kind == "date":
            lo, hi = self.window.start, self.window.end
            cast = "date"
        else:
            lo, hi = self.window.utc(self.tz)
            cast = "timestamptz"
        return Sql(
            self.pg,
            f"{col} >= ",
            P(encode(column.kind, lo, self.pg), cast),
            f" AND {col} < ",
            P(encode(column.kind, hi, self.pg), cast),
        )

    @property
    def needs_units(self) -> bool:
        return self.rule.subject == "org" or self.rule.within is not None

    def uses_units(self, restrict: Restrict | None) -> bool:
        """Whether the statement reads the unit table (a solo update never does)."""
        return self.needs_units and not (restrict is not None and restrict.solo)

    # -- parts -------------------------------------------------------------------------------

    def units_sql(self) -> list[str]:
        """Statements that fill the temporary unit table (run first, in the same transaction)."""
        text = "text" if self.pg else "TEXT"
        out = [
            f"CREATE TEMP TABLE IF NOT EXISTS {UNITS} "
            f"(unit {text} PRIMARY KEY, subj {text} NOT NULL, grp {text} NOT NULL)",
            f"DELETE FROM {UNITS}",
        ]
        rows = [f"({literal(u)}, {literal(s)}, {literal(g)})" for u, s, g in self.units]
        for start in range(0, len(rows), 500):
            out.append(
                f"INSERT INTO {UNITS} (unit, subj, grp) VALUES {', '.join(rows[start : start + 500])}"
            )
        return out

    def subjects(self, restrict: Restrict | None) -> Sql:
        pg = self.pg
        solo = restrict is not None and restrict.solo
        grp: Sql | str = "COALESCE(u.grp, '')" if self.needs_units else "''"
        join = f"LEFT JOIN {UNITS} u ON u.unit = {{unit}} " if self.needs_units else ""
        if solo:
            assert restrict is not None and restrict.grp is not None
            grp, join = Sql(pg, P(restrict.grp, "text")), ""
        if self.rule.subject == "user":
            roles = self.rule.platform_roles or ["-"]
            collate = ' COLLATE "C"' if pg else ""
            sql = Sql(
                pg,
                "subj AS (SELECT x.user_id AS subject, x.org_unit_id AS org, x.path AS org_path, ",
                grp,
                " AS grp FROM (SELECT g.user_id, g.org_unit_id, o.path, ROW_NUMBER() OVER "
                f"(PARTITION BY g.user_id ORDER BY length(o.path) DESC, o.path{collate}) AS rn "
                'FROM "yidi_grant" g JOIN "yidi_org_unit" o ON o.id = g.org_unit_id '
                'JOIN "yidi_user" usr ON usr.id = g.user_id WHERE usr.active AND g.role IN (',
            )
            sql.join([Sql(pg, P(r, "text")) for r in roles], ", ").add(")")
            if restrict is not None and restrict.subject is not None:
                sql.add(" AND g.user_id = ", P(int(restrict.subject), "bigint"))
            elif restrict is not None and restrict.path:
                # only people holding a role somewhere in the group (their deepest grant may be there)
                sql.add(
                    ' AND g.user_id IN (SELECT g2.user_id FROM "yidi_grant" g2 JOIN "yidi_org_unit" o2 '
                    f"ON o2.id = g2.org_unit_id WHERE substr(o2.path, 1, {len(restrict.path)}) = ",
                    P(restrict.path, "text"),
                    ")",
                )
            sql.add(" ) x ", join.format(unit="x.org_unit_id"), "WHERE x.rn = 1")
            subject = "x.user_id"
        else:
            sql = Sql(
                pg,
                "subj AS (SELECT o.id AS subject, o.id AS org, o.path AS org_path, ",
                grp,
                ' AS grp FROM "yidi_org_unit" o ',
                join.format(unit="o.id"),
                "WHERE 1 = 1",
            )
            if self.rule.kind:
                sql.add(" AND o.kind = ", P(self.rule.kind, "text"))
            subject = "o.id"
        if restrict is not None and restrict.grp is not None and not solo:
            sql.add(f" AND {grp} = ", P(restrict.grp, "text"))
        if restrict is not None and restrict.subject is not None:
            if self.rule.subject == "user":
                sql.add(f" AND {subject} = ", P(int(restrict.subject), "bigint"))
            else:
                sql.add(f" AND {subject} = ", P(str(restrict.subject), "text"))
        return sql.add(")")

    def source(self, n: int, items: list[Item], restrict: Restrict | None) -> Sql:
        pg = self.pg
        entity = items[0].entity
        table = self.table_of(entity)
        link = column_sql(entity, items[0].subject_field, self.dialect)
        dates = list(dict.fromkeys(i.date_field for i in items))
        shared = len(dates) == 1
        solo = restrict is not None and restrict.solo
        head: Sql | str
        if solo and self.rule.subject == "user":
            assert restrict is not None
            subject = link
            head = Sql(
                pg, f"FROM {quote(table.name)} WHERE {link} = ", P(int(restrict.subject), "bigint")
            )
        elif solo:
            assert restrict is not None
            mine = [u for u, s, _ in self.units if s == str(restrict.subject)] or ["-"]
            subject = "subject"
            head = Sql(pg, f"FROM {quote(table.name)} WHERE {link} IN (")
            head.join([Sql(pg, P(u, "text")) for u in mine], ", ").add(")")
        elif self.rule.subject == "user":
            subject, head = link, f"FROM {quote(table.name)} WHERE {link} IS NOT NULL"
        else:
            subject = "u.subj"
            head = f"FROM {quote(table.name)} JOIN {UNITS} u ON u.unit = {link} WHERE u.subj <> ''"
        if solo and self.rule.subject == "org":
            assert restrict is not None
            sql = Sql(pg, f"src{n} AS (SELECT ", P(str(restrict.subject), "text"), " AS subject")
        else:
            sql = Sql(pg, f"src{n} AS (SELECT {subject} AS subject")
        for item in items:
            tests: list[Sql | str] = []
            if item.where is not None:
                where = self.expr(item.where, self._field(entity), value=False)
                tests.append(Sql(pg, "(", where, ")"))
            if not shared:
                tests.append(Sql(pg, "(", self.range_of(entity, item.date_field), ")"))
            if item.sum:
                amount = f"COALESCE({column_sql(entity, item.sum, self.dialect)}, 0)"
            else:
                amount = "1"
            if tests:
                sql.add(", SUM(CASE WHEN ").join(tests, " AND ")
                sql.add(f" THEN {amount} ELSE 0 END) AS {self.col[item.id]}")
            else:
                sql.add(f", SUM({amount}) AS {self.col[item.id]}")
        sql.add(" ", head, " AND (")
        ranges: list[Sql | str] = [Sql(pg, "(", self.range_of(entity, d), ")") for d in dates]
        sql.join(ranges, " OR ").add(")")
        if solo and self.rule.subject == "org":
            return sql.add(")")  # one subject: a single aggregate row
        if restrict is not None and not solo:
            sql.add(f" AND {subject} IN (SELECT subject FROM subj)")
        return sql.add(f" GROUP BY {subject})")

    def _field(self, entity: Entity) -> Callable[[str], str]:
        return lambda name: column_sql(entity, name, self.dialect)

    def groups(self) -> list[list[Item]]:
        """Items that share a source table and subject field: one scan each."""
        found: dict[tuple[str, str], list[Item]] = {}
        for item in self.items:
            found.setdefault((item.entity.key, item.subject_field), []).append(item)
        return list(found.values())

    def points(self, groups: list[list[Item]]) -> str:
        """Each source joined to the subjects (one hash or index join per source), then
        ``LEAST(raw × points, cap) × weight`` per item."""
        source = {item.id: n for n, items in enumerate(groups) for item in items}
        parts = []
        for item in self.items:
            c = self.col[item.id]
            raw = f"COALESCE(a{source[item.id]}.{c}, 0)"
            value = f"{raw} * {self.num(item.points)}"
            if item.cap is not None:
                value = self.least(value, self.num(item.cap))
            parts.append(f"{raw} AS r_{c}, ({value}) * {self.num(item.weight)} AS p_{c}")
        joins = " ".join(
            f"LEFT JOIN src{n} a{n} ON a{n}.subject = s.subject" for n in range(len(groups))
        )
        return (
            "pts AS (SELECT s.subject, s.org, s.org_path, s.grp, "
            + ", ".join(parts)
            + f" FROM subj s {joins})"
        )

    def total(self) -> Sql:
        rule = self.rule
        if rule.total is not None:
            col = {i.id: f"p_{self.col[i.id]}" for i in self.items}
            value: Sql | str = Sql(
                self.pg, "COALESCE(", self.expr(rule.total, lambda n: col[n]), ", 0)"
            )
        else:
            value = " + ".join(f"p_{self.col[i.id]}" for i in self.items) or "0"
        sql = Sql(self.pg, "tot AS (SELECT pts.*, ")
        if rule.cap is not None:
            sql.add(f"{'LEAST' if self.pg else 'MIN'}(", value, f", {self.num(rule.cap)})")
        else:
            sql.add("(", value, ")")
        name = "t1" if self.rescaled or self.rule.indices else "total"
        return sql.add(f" AS {name} FROM pts)")

    @property
    def rescaled(self) -> bool:
        return self.rule.scale is not None

    def normalised(self) -> str:
        rule = self.rule
        if rule.scale is None:
            total = "t1"
        elif rule.best is not None:
            total = f"t1 * {self.num(rule.scale)} / {self.num(rule.best)}"
        else:
            top = "MAX(t1) OVER (PARTITION BY grp)"
            total = f"COALESCE(t1 * {self.num(rule.scale)} / NULLIF({top}, 0), 0)"
        parts = [f"{total} AS total"]
        if rule.indices:
            for item in self.items:
                c = self.col[item.id]
                top = f"MAX(p_{c}) OVER (PARTITION BY grp)"
                parts.append(
                    f"CASE WHEN {top} > 0 THEN p_{c} * {self.num(100)} / {top} "
                    f"ELSE {self.num(0)} END AS n_{c}"
                )
        return f"nrm AS (SELECT tot.*, {', '.join(parts)} FROM tot)"

    def indices(self) -> Sql:
        sql = Sql(self.pg, "fin AS (SELECT nrm.*")
        for xid, index in self.rule.indices.items():
            prefix = "n_" if index.normalize else "p_"
            col = {i.id: f"{prefix}{self.col[i.id]}" for i in self.items}
            sql.add(", COALESCE(", self.expr(index.formula, col.__getitem__), ", 0)")
            sql.add(f" AS {self.index_col[xid]}")
        return sql.add(" FROM nrm)")

    def ranked(self, source: str = "fin") -> str:
        rule = self.rule
        score = "total" if rule.score == "total" else self.index_col[rule.score]
        rank = "DENSE_RANK()" if rule.ties == "dense" else "RANK()"
        rnk = (
            f"{rank} OVER (PARTITION BY grp ORDER BY {score} DESC)"
            if rule.ranked
            else "CAST(NULL AS INTEGER)"
        )
        return f"rk AS (SELECT {source}.*, {score} AS score, {rnk} AS rnk FROM {source})"

    def band(self) -> str:
        bands = self.rule.bands
        if not bands:
            return "NULL"
        whens = " ".join(f"WHEN rk.score >= {self.num(b.min)} THEN {literal(b.id)}" for b in bands)
        return f"CASE {whens} END"

    def final(self, period: str) -> Sql:
        pg = self.pg
        keys = [(i.id, f"rk.r_{self.col[i.id]}", f"rk.p_{self.col[i.id]}") for i in self.items]
        keys.append((TOTAL, "rk.total", "rk.score"))
        for xid, col in self.index_col.items():
            keys.append((index_key(xid), f"rk.{col}", f"rk.{col}"))
        value = " ".join(f"WHEN {literal(k)} THEN {v}" for k, v, _ in keys)
        points = " ".join(f"WHEN {literal(k)} THEN {p}" for k, _, p in keys)
        names = " UNION ALL ".join(f"SELECT {literal(k)} AS item" for k, _, _ in keys)
        text = "text" if pg else "TEXT"
        kept = " OR ".join(
            f"(k.item = {literal(i.id)} AND rk.r_{self.col[i.id]} <> 0)" for i in self.items
        )
        fixed = ", ".join(literal(k) for k, _, _ in keys[len(self.items) :])
        where = f"k.item IN ({fixed})" + (f" OR {kept}" if kept else "")
        columns = ", ".join(quote(c) for c in COLUMNS)
        return Sql(
            pg,
            f'INSERT INTO "yidi_score" ({columns}) SELECT ',
            P(self.rule.key, "text"),
            ", ",
            P(period, "text"),
            f", CAST(rk.subject AS {text}), rk.org, rk.org_path, rk.grp, k.item, "
            f"CASE k.item {value} END, CASE k.item {points} END, "
            f"CASE WHEN k.item = '{TOTAL}' THEN rk.rnk END, "
            f"CASE WHEN k.item = '{TOTAL}' THEN {self.band()} END "
            f"FROM rk CROSS JOIN ({names}) k WHERE {where}",
        )

    def statement(self, period: str, restrict: Restrict | None = None) -> Sql:
        pg = self.pg
        ctes: list[Sql | str] = []
        ctes.append(self.subjects(restrict))
        groups = self.groups()
        for n, items in enumerate(groups):
            ctes.append(self.source(n, items, restrict))
        ctes += [self.points(groups), self.total()]
        last = "tot"
        if self.rescaled or self.rule.indices:
            ctes += [self.normalised(), self.indices()]
            last = "fin"
        ctes.append(self.ranked(last))
        return Sql(pg, "WITH ").join(ctes, ", ").add(" ", self.final(period))

    # -- re-ranking a group from its stored rows ------------------------------------------

    def stored(self, period: str, grp: str, path: str | None) -> Sql:
        """``pts`` from ``yidi_score``: each subject of the group (its total row) with the
        points of its stored item rows (an item without a row scored 0) and the ids of its
        total and index rows. One pass over the group's rows: an index range per item key
        on (rule, period, item, org_path)."""
        pg = self.pg
        parts = [
            f"COALESCE(SUM(CASE WHEN item = {literal(item.id)} THEN points END), "
            f"{self.num(0)}) AS p_{self.col[item.id]}"
            for item in self.items
        ]
        parts.append(f"MAX(CASE WHEN item = '{TOTAL}' THEN id END) AS id_total")
        parts += [
            f"MAX(CASE WHEN item = {literal(index_key(x))} THEN id END) AS id_{c}"
            for x, c in self.index_col.items()
        ]
        wanted = [TOTAL, *(item.id for item in self.items), *map(index_key, self.index_col)]
        keys = ", ".join(literal(k) for k in wanted)
        sql = Sql(
            pg,
            "pts AS (SELECT subject, org, org_path, grp",
            "".join(", " + part for part in parts),
            ' FROM "yidi_score" WHERE "rule" = ',
            P(self.rule.key, "text"),
            ' AND "period" = ',
            P(period, "text"),
            f' AND "item" IN ({keys}) AND "grp" = ',
            P(grp, "text"),
        )
        if path:
            upper = path[:-1] + chr(ord(path[-1]) + 1)
            sql.add(' AND "org_path" >= ', P(path, "text"), ' AND "org_path" < ', P(upper, "text"))
        return sql.add(
            " GROUP BY subject, org, org_path, grp "
            f"HAVING MAX(CASE WHEN item = '{TOTAL}' THEN 1 ELSE 0 END) = 1)"
        )

    def rerank(self, period: str, grp: str, path: str | None = None) -> Sql:
        """Re-derive the total, indices, rank and band of every subject of group ``grp`` from
        the stored item rows, updating (by primary key) only the rows whose figures change.
        The same steps as the full statement (``tot`` … ``rk``) over the same stored points,
        so the result equals a full recompute of the group."""
        pg = self.pg
        ctes: list[Sql | str] = [self.stored(period, grp, path), self.total()]
        last = "tot"
        if self.rescaled or self.rule.indices:
            ctes += [self.normalised(), self.indices()]
            last = "fin"
        ctes.append(self.ranked(last))
        text = "text" if pg else "TEXT"
        rows = [
            f"SELECT rk.id_total AS id, rk.total AS v, rk.score AS p, rk.rnk AS r, "
            f"{self.band()} AS b FROM rk"
        ]
        rows += [
            f"SELECT rk.id_{c}, rk.{c}, rk.{c}, CAST(NULL AS INTEGER), CAST(NULL AS {text}) "
            f"FROM rk WHERE rk.id_{c} IS NOT NULL"
            for c in self.index_col.values()
        ]
        ctes.append(f"nv AS ({' UNION ALL '.join(rows)})")
        differs = "IS DISTINCT FROM" if pg else "IS NOT"
        changed = " OR ".join(
            f'"yidi_score"."{c}" {differs} nv.{n}'
            for c, n in (("value", "v"), ("points", "p"), ("rank", "r"), ("band", "b"))
        )
        return (
            Sql(pg, "WITH ")
            .join(ctes, ", ")
            .add(
                ' UPDATE "yidi_score" SET "value" = nv.v, "points" = nv.p, "rank" = nv.r, '
                f'"band" = nv.b FROM nv WHERE "yidi_score"."id" = nv.id AND ({changed})'
            )
        )
