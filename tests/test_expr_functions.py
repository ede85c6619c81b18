"""Each operator and function: its value in Python, in SQLite and in PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from runtime.expr import (
    BOOL,
    DATE,
    DATETIME,
    NUMBER,
    ORG,
    TEXT,
    USER,
    Context,
    compile_expr,
    list_of,
)

NAMES = {
    "n": NUMBER,
    "t": TEXT,
    "b": BOOL,
    "d": DATE,
    "m": DATETIME,
    "m2": DATETIME,
    "tags": list_of(TEXT),
    "owner": USER,
    "lead": ORG,
}
SQLITE = {
    "n": "",
    "t": "TEXT",
    "b": "INTEGER",
    "d": "TEXT",
    "m": "TEXT",
    "m2": "TEXT",
    "tags": "TEXT",
    "owner": "INTEGER",
    "lead": "INTEGER",
}
POSTGRES = {
    "n": "double precision",
    "t": "text",
    "b": "boolean",
    "d": "date",
    "m": "timestamptz",
    "m2": "timestamptz",
    "tags": "jsonb",
    "owner": "bigint",
    "lead": "bigint",
}
CTX = Context(
    user_id=7, user_org=3, now=datetime(2026, 11, 22, 8, 30, tzinfo=UTC), today=date(2026, 11, 22)
)
NIGHT = datetime(2026, 1, 31, 23, 59, 30, tzinfo=UTC)
D = date(2026, 1, 31)

CASES: list[tuple[str, dict[str, Any], Any]] = [
    # arithmetic
    ("n / 0", {"n": 1}, None),
    ("n / 2", {"n": 3}, 1.5),
    ("7 / 2", {}, 3.5),
    ("n % 0", {"n": 5}, None),
    ("-7 % 3", {}, 2),
    ("7 % -3", {}, -2),
    ("7.5 % 2", {}, 1.5),
    ("-7.5 % 2", {}, 0.5),
    ("n % 2 == 1", {"n": 9}, True),
    ("n + 1", {"n": None}, None),
    ("n * 2", {"n": -0.5}, -1.0),
    ("-n", {"n": 3}, -3),
    ("0.1 + 0.2 == 0.3", {}, False),
    ("'人大' + '代表'", {}, "人大代表"),
    ("t + 'x'", {"t": None}, None),
    # round: half away from zero
    ("round(2.5)", {}, 3),
    ("round(-2.5)", {}, -3),
    ("round(0.5)", {}, 1),
    ("round(1.5)", {}, 2),
    ("round(-0.4)", {}, 0),
    ("round(7)", {}, 7),
    ("round(0.125, 2)", {}, 0.13),
    ("round(2.675, 2)", {}, 2.68),  # Python says 2.67 (banker's, binary)
    ("round(1250, -2)", {}, 1300),
    ("round(-1250, -2)", {}, -1300),
    ("round(1234.5, -2)", {}, 1200),
    ("round(n, 1)", {"n": None}, None),
    ("round(n)", {"n": 4503599627370497}, 4503599627370497),
    ("abs(-3)", {}, 3),
    ("abs(n)", {"n": None}, None),
    # min / max
    ("min(3, 2.5)", {}, 2.5),
    ("max('a', '中')", {}, "中"),
    ("min(n, 1)", {"n": None}, None),
    ("max(d, '2026-02-01')", {"d": D}, date(2026, 2, 1)),
    (
        "min(m, m2)",
        {"m": NIGHT.replace(microsecond=2), "m2": NIGHT.replace(microsecond=1)},
        NIGHT.replace(microsecond=1),
    ),
    ("max(m, m2)", {"m": NIGHT, "m2": None}, None),
    # len / contains / startswith / empty / coalesce
    ("len('代表😀')", {}, 3),
    ("len('')", {}, 0),
    ("len(tags)", {"tags": ["a", "中"]}, 2),
    ("len(t)", {"t": None}, None),
    ("contains('人大代表', '代表')", {}, True),
    ("contains(t, '')", {"t": ""}, True),
    ("contains(t, 'a')", {"t": None}, False),
    ("not contains(t, 'a')", {"t": None}, True),
    ("contains(tags, '中')", {"tags": ["中", "a"]}, True),
    ("contains(tags, 'a')", {"tags": None}, False),
    ("contains(tags, t)", {"tags": ["a"], "t": None}, False),
    ("'a' in tags", {"tags": ["b"]}, False),
    ("'a' not in tags", {"tags": None}, True),
    ("startswith('人大代表', '人大')", {}, True),
    ("startswith(t, '')", {"t": ""}, True),
    ("startswith(t, '代表')", {"t": "人大代表"}, False),
    ("startswith(t, 'a')", {"t": None}, False),
    ("empty(t)", {"t": ""}, True),
    ("empty(t)", {"t": None}, True),
    ("empty(t)", {"t": " "}, False),
    ("empty(tags)", {"tags": []}, True),
    ("empty(tags)", {"tags": ["a"]}, False),
    ("empty(n)", {"n": 0}, False),
    ("empty(d)", {"d": None}, True),
    ("coalesce(t, '无')", {"t": None}, "无"),
    ("coalesce(t, '无')", {"t": ""}, ""),
    ("coalesce(b, true)", {"b": None}, True),
    # dates and datetimes
    ("days_between(d, '2026-03-01')", {"d": date(2026, 2, 1)}, 28),
    ("days_between('2026-01-01', '2025-12-31')", {}, -1),
    ("days_between(m, d)", {"m": NIGHT, "d": D}, 0),
    ("days_between(d, m)", {"m": None, "d": D}, None),
    ("days_between(today, d)", {"d": date(2026, 12, 25)}, 33),
    ("add_days(d, 30)", {"d": D}, date(2026, 3, 2)),
    ("add_days(d, -1.9)", {"d": D}, date(2026, 1, 30)),
    ("add_days(d, 1)", {"d": date(9999, 12, 31)}, None),
    ("add_days(d, -1)", {"d": date(1, 1, 1)}, None),
    ("add_days(d, 1e15)", {"d": D}, None),
    ("add_days(d, n)", {"d": D, "n": None}, None),
    ("add_days(today, 7)", {}, date(2026, 11, 29)),
    ("year(d)", {"d": D}, 2026),
    ("quarter(d)", {"d": date(2026, 11, 22)}, 4),
    ("quarter(d)", {"d": date(2026, 3, 31)}, 1),
    ("month(m)", {"m": NIGHT}, 1),
    ("year(m)", {"m": None}, None),
    ("date(m)", {"m": NIGHT}, D),
    ("date(m) == d", {"m": NIGHT, "d": D}, True),
    ("m < m2", {"m": NIGHT, "m2": NIGHT.replace(microsecond=1)}, True),
    ("m == m2", {"m": NIGHT, "m2": NIGHT}, True),
    ("m >= now", {"m": NIGHT}, False),
    ("d in ['2026-01-31', '2026-02-01']", {"d": D}, True),
    ("d < today", {"d": D}, True),
    ("now > '2026-11-22T08:00:00Z'", {}, True),
    ("today == '2026-11-22'", {}, True),
    # conditions with null
    ("b", {"b": None}, False),
    ("not b", {"b": None}, True),
    ("b == null", {"b": None}, True),
    ("b != true", {"b": None}, True),
    ("b == false", {"b": None}, False),
    ("if(b, 1, 2)", {"b": None}, 2),
    ("1 if b else 2", {"b": True}, 1),
    ("n < 1", {"n": None}, False),
    ("not (n < 1)", {"n": None}, True),
    ("n == null", {"n": None}, True),
    ("n != 1", {"n": None}, True),
    ("n == 1", {"n": None}, False),
    ("t == ''", {"t": None}, False),
    ("n in [1, 2]", {"n": None}, False),
    ("n not in [1, 2]", {"n": None}, True),
    ("n in []", {"n": 1}, False),
    ("n not in []", {"n": None}, True),
    ("1 < n <= 5", {"n": 5}, True),
    ("1 < n <= 5", {"n": 1}, False),
    ("1 < n < 5", {"n": None}, False),
    ("not (1 < n < 5)", {"n": None}, True),
    ("(n > 1) == (t == 'a')", {"n": None, "t": None}, True),
    ("b or n > 1", {"b": None, "n": 2}, True),
    ("b and n > 1", {"b": True, "n": None}, False),
    # text order is code point order
    ("'Z' < 'a'", {}, True),
    ("'a' < '中'", {}, True),
    ("'中' < '😀'", {}, True),
    ("t < 'b'", {"t": "aa"}, True),
    ("t >= '代表'", {"t": "代"}, False),
    # user, org
    ("owner == user", {"owner": 7}, True),
    ("owner != user", {"owner": None}, True),
    ("lead == user.org", {"lead": 3}, True),
    ("owner in [1, 7]", {"owner": 7}, True),
    ("user == null", {}, False),
]


def same(kind: str, expected: Any, got: Any) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if kind == "bool":
        return bool(got) == expected
    if kind == "number":
        return math.isclose(expected, got, rel_tol=1e-12, abs_tol=1e-12)
    if kind == "date" and isinstance(got, str):
        got = date.fromisoformat(got)
    if kind == "datetime" and isinstance(got, str):
        got = datetime.fromisoformat(got)
    return bool(expected == got)


def full(record: dict[str, Any]) -> dict[str, Any]:
    return {name: record.get(name) for name in NAMES}


@pytest.mark.parametrize(("source", "record", "expected"), CASES)
def test_python(source: str, record: dict[str, Any], expected: Any) -> None:
    expr = compile_expr(source, NAMES)
    got = expr.evaluate(record, CTX)
    assert same(expr.type.kind, expected, got), got
    if expr.type == BOOL:
        assert got is True or got is False


def test_python_round_returns_whole_numbers_as_int() -> None:
    assert compile_expr("round(2.5)", NAMES).evaluate({}, CTX) == 3
    assert isinstance(compile_expr("round(2.5)", NAMES).evaluate({}, CTX), int)
    assert isinstance(compile_expr("round(2.25, 1)", NAMES).evaluate({}, CTX), float)


def test_python_reads_missing_names_as_null() -> None:
    assert compile_expr("empty(t) and n == null", NAMES).evaluate({}, CTX) is True


@pytest.fixture(scope="module")
def sqlite_db() -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(":memory:")
    columns = ", ".join(f"{n} {t}" for n, t in SQLITE.items())
    db.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {columns})")
    yield db
    db.close()


def sqlite_value(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


@pytest.mark.parametrize(("source", "record", "expected"), CASES)
def test_sqlite(
    sqlite_db: sqlite3.Connection, source: str, record: dict[str, Any], expected: Any
) -> None:
    row = full(record)
    sqlite_db.execute("DELETE FROM t")
    sqlite_db.execute(
        f"INSERT INTO t VALUES (1, {', '.join('?' * len(row))})",
        [sqlite_value(v) for v in row.values()],
    )
    expr = compile_expr(source, NAMES)
    sql, params = expr.to_sql("sqlite", lambda n: f"t.{n}", CTX, value=True)
    (got,) = sqlite_db.execute(f"SELECT {sql} FROM t", params).fetchone()
    assert same(expr.type.kind, expected, got), (sql, params, got)
    if expr.type == BOOL:
        where, params = expr.to_sql("sqlite", lambda n: f"t.{n}", CTX)
        found = sqlite_db.execute(f"SELECT count(*) FROM t WHERE {where}", params).fetchone()
        assert found == (int(expected),), where


@pytest.mark.postgres
def test_postgres(pg_dsn: str) -> None:
    import asyncpg

    async def main() -> list[str]:
        conn = await asyncpg.connect(pg_dsn)
        wrong: list[str] = []
        try:
            columns = ", ".join(f"{n} {t}" for n, t in POSTGRES.items())
            await conn.execute(f"CREATE TABLE t (id integer PRIMARY KEY, {columns})")
            marks = ", ".join(
                f"${i}::jsonb" if t == "jsonb" else f"${i}"
                for i, t in enumerate(POSTGRES.values(), 2)
            )
            for source, record, expected in CASES:
                row = [json.dumps(v) if isinstance(v, list) else v for v in full(record).values()]
                await conn.execute("DELETE FROM t")
                await conn.execute(f"INSERT INTO t VALUES ($1, {marks})", 1, *row)
                expr = compile_expr(source, NAMES)
                sql, params = expr.to_sql("postgres", lambda n: f"t.{n}", CTX, value=True)
                got = await conn.fetchval(f"SELECT {sql} FROM t", *params)
                if not same(expr.type.kind, expected, got):
                    wrong.append(f"{source}: {got!r} != {expected!r} ({sql})")
                if expr.type == BOOL:
                    where, params = expr.to_sql("postgres", lambda n: f"t.{n}", CTX)
                    count = await conn.fetchval(f"SELECT count(*) FROM t WHERE {where}", *params)
                    if count != int(expected):
                        wrong.append(f"{source}: WHERE chose {count} ({where})")
        finally:
            await conn.close()
        return wrong

    assert asyncio.run(main()) == []


def test_every_function_is_exercised() -> None:
    from runtime.expr.functions import FUNCTIONS

    used = " ".join(source for source, _, _ in CASES)
    assert [name for name in FUNCTIONS if f"{name}(" not in used] == []
    assert {DATE, DATETIME, USER, ORG, TEXT} <= set(NAMES.values())
