"""Property tests: the Python evaluator and the SQL of an expression agree.

Hypothesis draws records (nulls, Chinese text, dates, datetimes, negative and
zero numbers, bools, multi-choice lists) and well-typed expressions from a
grammar; each record goes into a real table (SQLite, and PostgreSQL when a
server answers) and the rows where ``evaluate`` is true must be exactly the
rows ``WHERE <sql>`` selects; values must be equal row by row.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.expr import (
    BOOL,
    DATE,
    DATETIME,
    NUMBER,
    ORG,
    TEXT,
    USER,
    Context,
    Expr,
    compile_expr,
    list_of,
)

NAMES = {
    "n1": NUMBER,
    "n2": NUMBER,
    "t1": TEXT,
    "t2": TEXT,
    "b1": BOOL,
    "b2": BOOL,
    "d1": DATE,
    "d2": DATE,
    "m1": DATETIME,
    "m2": DATETIME,
    "tags": list_of(TEXT),
    "nums": list_of(NUMBER),
    "owner": USER,
    "org": ORG,
}
SQLITE_COLUMNS = {
    "n1": "",  # no affinity: integers and reals stay as given
    "n2": "INTEGER",
    "t1": "TEXT",
    "t2": "TEXT",
    "b1": "INTEGER",
    "b2": "INTEGER",
    "d1": "TEXT",
    "d2": "TEXT",
    "m1": "TEXT",
    "m2": "TEXT",
    "tags": "TEXT",
    "nums": "TEXT",
    "owner": "INTEGER",
    "org": "INTEGER",
}
PG_COLUMNS = {
    "n1": "double precision",
    "n2": "bigint",
    "t1": "text",
    "t2": "text",
    "b1": "boolean",
    "b2": "boolean",
    "d1": "date",
    "d2": "date",
    "m1": "timestamptz",
    "m2": "timestamptz",
    "tags": "jsonb",
    "nums": "jsonb",
    "owner": "bigint",
    "org": "bigint",
}
FIELDS = list(NAMES)

# --- records ----------------------------------------------------------------

WORDS = ["", "a", "Z", "中文", "代表a", "😀", "é", "ab", "中"]
numbers = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-80_000, 80_000).map(lambda i: i / 8),
    st.sampled_from([0, -0.0, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, 2.675, 1.005, 1e9 + 0.5]),
)
texts = st.one_of(st.sampled_from(WORDS), st.text(alphabet="aZb 中文代表😀é-", max_size=5))
dates = st.one_of(
    st.dates(date(1990, 1, 1), date(2040, 12, 31)),
    st.sampled_from([date(1, 1, 1), date(9999, 12, 31), date(2026, 11, 22)]),
)
moments = st.one_of(
    st.datetimes(datetime(1990, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(
        [
            datetime(2026, 11, 22, 8, 30, tzinfo=UTC),
            datetime(2026, 11, 22, 8, 30, 0, 1, tzinfo=UTC),
            datetime(2026, 11, 22, 23, 59, 59, 999999, tzinfo=UTC),
        ]
    ),
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n1": numbers,
    "n2": st.integers(-50, 50),
    "t1": texts,
    "t2": texts,
    "b1": st.booleans(),
    "b2": st.booleans(),
    "d1": dates,
    "d2": dates,
    "m1": moments,
    "m2": moments,
    "tags": st.lists(st.sampled_from(WORDS), max_size=3),
    "nums": st.lists(st.sampled_from([0, 1, 2.5, -3]), max_size=3),
    "owner": st.sampled_from([1, 2, 3]),
    "org": st.sampled_from([10, 20]),
}
records = st.fixed_dictionaries({k: st.none() | v for k, v in VALUES.items()})
contexts = st.builds(
    Context,
    user_id=st.sampled_from([1, 2, None]),
    user_org=st.sampled_from([10, None]),
    now=moments,
    today=dates,
)

# --- expressions ------------------------------------------------------------

LEAVES: dict[str, st.SearchStrategy[str]] = {
    "number": st.one_of(
        st.sampled_from(["n1", "n2", "n1", "n2"]),
        st.sampled_from(["0", "1", "3", "-1", "-7", "0.5", "2.5", "-2.5", "0.1", "1e3", "-0.0"]),
        st.integers(-50, 50).map(str),
        st.sampled_from(["len(t1)", "len(tags)", "len(nums)", "year(d1)", "month(m1)"]),
    ),
    "text": st.sampled_from(["t1", "t2", "t1", "''", "'a'", "'中文'", "'代表a'", "'Z'", "'😀'"]),
    "bool": st.sampled_from(
        [
            "b1",
            "b2",
            "true",
            "false",
            "owner == user",
            "owner != user.id",
            "org == user.org",
            "user == null",
            "tags == null",
            "empty(tags)",
            "'a' in tags",
            "'中文' not in tags",
            "contains(nums, 2.5)",
            "n2 in nums",
            "owner in [1, 3]",
        ]
    ).map(lambda s: f"({s})" if " " in s else s),
    "date": st.sampled_from(["d1", "d2", "today", "date('2026-01-01')", "d1"]),
    "datetime": st.sampled_from(["m1", "m2", "now", "m1"]),
}
ORDERED = ["number", "text", "date", "datetime"]


def _fmt(template: str) -> Any:
    return lambda parts: template.format(*parts)


@functools.cache
def gen(kind: str, depth: int) -> st.SearchStrategy[str]:
    leaves = LEAVES[kind]
    if depth == 0:
        return leaves
    d = depth - 1

    def of(template: str, *kinds: str) -> st.SearchStrategy[str]:
        return st.tuples(*(gen(k, d) for k in kinds)).map(_fmt(template))

    common = [
        of("coalesce({}, {})", kind, kind),
        of("if({}, {}, {})", "bool", kind, kind),
        of("({1} if {0} else {2})", "bool", kind, kind),
    ]
    if kind in ORDERED:
        common += [of("min({}, {})", kind, kind), of("max({}, {})", kind, kind)]
    if kind == "number":
        ops = st.sampled_from(["+", "-", "*", "/", "%"])
        arith = st.tuples(gen("number", d), ops, gen("number", d)).map(
            lambda p: f"({p[0]} {p[1]} {p[2]})"
        )
        moment = st.one_of(gen("date", d), gen("datetime", d))
        extra = [
            arith,
            arith,
            of("-({})", "number"),
            of("abs({})", "number"),
            of("round({})", "number"),
            st.tuples(gen("number", d), st.integers(-2, 3)).map(lambda p: f"round({p[0]}, {p[1]})"),
            of("len({})", "text"),
            st.tuples(moment, moment).map(lambda p: f"days_between({p[0]}, {p[1]})"),
            st.tuples(st.sampled_from(["year", "month", "quarter"]), moment).map(
                lambda p: f"{p[0]}({p[1]})"
            ),
        ]
    elif kind == "text":
        extra = [of("({} + {})", "text", "text")]
    elif kind == "date":
        extra = [of("date({})", "datetime"), of("add_days({}, {})", "date", "number")]
    elif kind == "datetime":
        extra = []
    else:
        extra = _bools(d)
    return st.one_of(leaves, leaves, *common, *extra)


def _bools(d: int) -> list[st.SearchStrategy[str]]:
    cmp = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])

    def compare(kind: str) -> st.SearchStrategy[str]:
        return st.tuples(gen(kind, d), cmp, gen(kind, d)).map(lambda p: f"({p[0]} {p[1]} {p[2]})")

    def of(template: str, *kinds: str) -> st.SearchStrategy[str]:
        return st.tuples(*(gen(k, d) for k in kinds)).map(_fmt(template))

    nullable = st.sampled_from(["number", "text", "date", "datetime", "bool"])
    return [
        *(compare(kind) for kind in ORDERED),
        compare("number"),
        st.tuples(gen("bool", d), st.sampled_from(["==", "!="]), gen("bool", d)).map(
            lambda p: f"(({p[0]}) {p[1]} ({p[2]}))"
        ),
        st.tuples(gen("number", d), cmp, gen("number", d), cmp, gen("number", d)).map(
            lambda p: f"({p[0]} {p[1]} {p[2]} {p[3]} {p[4]})"
        ),
        of("({} and {})", "bool", "bool"),
        of("({} or {})", "bool", "bool"),
        of("(not {})", "bool"),
        of("({} in [1, 2.5, -3, 0])", "number"),
        of("({} not in ['a', '中文', ''])", "text"),
        of("({} in ['2026-11-22', '2000-02-29'])", "date"),
        of("({} in tags)", "text"),
        of("contains({}, {})", "text", "text"),
        of("contains(tags, {})", "text"),
        of("startswith({}, {})", "text", "text"),
        *(of("empty({})", kind) for kind in ("number", "text", "date")),
        nullable.flatmap(lambda k: gen(k, d)).map(lambda s: f"({s} == null)"),
        nullable.flatmap(lambda k: gen(k, d)).map(lambda s: f"({s} != null)"),
    ]


def expressions(depth: int = 3) -> st.SearchStrategy[str]:
    return st.sampled_from(["bool", "bool", "number", "text", "date", "datetime"]).flatmap(
        lambda kind: gen(kind, depth)
    )


# --- comparing ----------------------------------------------------------------


def same(kind: str, python: Any, sql: Any) -> bool:
    if python is None or sql is None:
        return python is None and sql is None
    if kind == "bool":
        return bool(python) == bool(sql)
    if kind == "number":
        return math.isclose(python, sql, rel_tol=1e-9, abs_tol=1e-9)
    if kind == "date" and isinstance(sql, str):
        sql = date.fromisoformat(sql)
    if kind == "datetime" and isinstance(sql, str):
        sql = datetime.fromisoformat(sql)
    if kind == "list" and isinstance(sql, str):
        sql = json.loads(sql)
    return bool(python == sql)


def check(expr: Expr, rows: list[dict[str, Any]], ctx: Context, run: Any) -> None:
    """``run(sql_fragment, params_for, where)`` returns {id: value} or a set of ids."""
    kind = expr.type.kind
    expected = {i: expr.evaluate(row, ctx) for i, row in enumerate(rows, 1)}
    values = run(expr, value=True)
    for i, got in values.items():
        assert same(kind, expected[i], got), (expr.source, rows[i - 1], expected[i], got)
    if kind == "bool":
        chosen = {i for i, v in expected.items() if v}
        assert run(expr, value=False, where=True) == chosen, expr.source
        assert run(expr, value=True, where=True) == chosen, expr.source


# --- SQLite -------------------------------------------------------------------


def sqlite_row(row: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for name in FIELDS:
        value = row[name]
        if isinstance(value, list):
            value = json.dumps(value, ensure_ascii=False)
        elif isinstance(value, datetime | date):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = int(value)
        out.append(value)
    return out


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    path: Path = tmp_path_factory.mktemp("expr") / "agree.sqlite3"
    db = sqlite3.connect(path)
    columns = ", ".join(f'"{n}" {t}' for n, t in SQLITE_COLUMNS.items())
    db.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    yield db
    db.close()


def sqlite_runner(db: sqlite3.Connection, ctx: Context) -> Any:
    def run(expr: Expr, value: bool, where: bool = False) -> Any:
        sql, params = expr.to_sql("sqlite", lambda n: f'"t"."{n}"', ctx, value=value)
        if where:
            return {r[0] for r in db.execute(f"SELECT id FROM t WHERE {sql}", params)}
        return dict(db.execute(f"SELECT id, {sql} FROM t ORDER BY id", params).fetchall())

    return run


def fill_sqlite(db: sqlite3.Connection, rows: list[dict[str, Any]]) -> None:
    db.execute("DELETE FROM t")
    marks = ", ".join("?" for _ in FIELDS)
    names = ", ".join(f'"{n}"' for n in FIELDS)
    db.executemany(
        f"INSERT INTO t (id, {names}) VALUES (?, {marks})",
        [[i, *sqlite_row(row)] for i, row in enumerate(rows, 1)],
    )


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    rows=st.lists(records, min_size=1, max_size=6),
    sources=st.lists(expressions(), min_size=1, max_size=4),
    ctx=contexts,
)
def test_sqlite_agrees_with_python(
    sqlite_db: sqlite3.Connection, rows: list[dict[str, Any]], sources: list[str], ctx: Context
) -> None:
    fill_sqlite(sqlite_db, rows)
    run = sqlite_runner(sqlite_db, ctx)
    for source in sources:
        check(compile_expr(source, NAMES), rows, ctx, run)


# --- PostgreSQL ------------------------------------------------------------------


def pg_row(row: dict[str, Any]) -> list[Any]:
    return [json.dumps(row[n]) if isinstance(row[n], list) else row[n] for n in FIELDS]


@pytest.mark.postgres
def test_postgres_agrees_with_python(pg_dsn: str) -> None:
    import asyncpg

    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(pg_dsn))
    try:
        columns = ", ".join(f'"{n}" {t}' for n, t in PG_COLUMNS.items())
        loop.run_until_complete(conn.execute(f"CREATE TABLE t (id integer PRIMARY KEY, {columns})"))
        marks = ", ".join(
            f"${i}::jsonb" if PG_COLUMNS[n] == "jsonb" else f"${i}" for i, n in enumerate(FIELDS, 2)
        )
        insert = f"INSERT INTO t (id, {', '.join(FIELDS)}) VALUES ($1, {marks})"

        def runner(ctx: Context) -> Any:
            def run(expr: Expr, value: bool, where: bool = False) -> Any:
                sql, params = expr.to_sql("postgres", lambda n: f't."{n}"', ctx, value=value)
                if where:
                    found = loop.run_until_complete(
                        conn.fetch(f"SELECT id FROM t WHERE {sql}", *params)
                    )
                    return {r[0] for r in found}
                found = loop.run_until_complete(
                    conn.fetch(f"SELECT id, {sql} AS v FROM t ORDER BY id", *params)
                )
                if expr.type.is_list:
                    return {r[0]: None if r[1] is None else json.loads(r[1]) for r in found}
                return {r[0]: r[1] for r in found}

            return run

        @settings(
            max_examples=150,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(
            rows=st.lists(records, min_size=1, max_size=6),
            sources=st.lists(expressions(), min_size=1, max_size=4),
            ctx=contexts,
        )
        def prop(rows: list[dict[str, Any]], sources: list[str], ctx: Context) -> None:
            async def fill() -> None:
                await conn.execute("DELETE FROM t")
                await conn.executemany(insert, [[i, *pg_row(r)] for i, r in enumerate(rows, 1)])

            loop.run_until_complete(fill())
            run = runner(ctx)
            for source in sources:
                check(compile_expr(source, NAMES), rows, ctx, run)

        prop()
    finally:
        loop.run_until_complete(conn.close())
        loop.close()
