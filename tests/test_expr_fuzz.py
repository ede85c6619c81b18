"""Fuzzing: whatever the text, compiling raises nothing but ExprError, and fast.

Mutants of valid expressions that still compile must evaluate without error and
agree with SQLite on a few records.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.expr import (
    BOOL,
    DATE,
    DATETIME,
    FILE,
    NUMBER,
    ORG,
    TEXT,
    USER,
    Context,
    ExprError,
    compile_expr,
    list_of,
)

NAMES = {
    "n": NUMBER,
    "k": NUMBER,
    "t": TEXT,
    "b": BOOL,
    "d": DATE,
    "m": DATETIME,
    "tags": list_of(TEXT),
    "owner": USER,
    "lead": ORG,
    "photo": FILE,
}
CTX = Context(user_id=1, user_org=2, now=datetime(2026, 11, 22, 8, 30, 0, 5, tzinfo=UTC))
ROWS: list[dict[str, Any]] = [
    {name: None for name in NAMES},
    {
        "n": 0,
        "k": -3,
        "t": "",
        "b": False,
        "d": date(2026, 11, 22),
        "m": CTX.now,
        "tags": [],
        "owner": 1,
        "lead": 2,
        "photo": "a.png",
    },
    {
        "n": 2.5,
        "k": 7,
        "t": "人大代表",
        "b": True,
        "d": date(1, 1, 1),
        "m": datetime(2000, 2, 29, 23, 59, 59, tzinfo=UTC),
        "tags": ["a", "中文"],
        "owner": 3,
        "lead": None,
        "photo": None,
    },
    {
        "n": -1e9,
        "k": 1,
        "t": "a😀",
        "b": None,
        "d": date(9999, 12, 31),
        "m": None,
        "tags": ["中文"],
        "owner": None,
        "lead": 9,
        "photo": None,
    },
]
SEEDS = [
    "n + k * 2 > 3 and not b",
    "round(n / k, 2) % 3",
    "if(b, t, '无') + '中文'",
    "1 < n <= k or t in ['a', '中文']",
    "contains(tags, t) or startswith(t, '人大')",
    "days_between(d, today) > 30 and add_days(d, k) != null",
    "year(m) * 100 + month(m) >= quarter(d)",
    "coalesce(owner, user) == user and lead == user.org",
    "min(n, k) - max(abs(n), -k)",
    "empty(photo) or photo == null",
    "date(m) < d if b else m >= now",
    "len(t) + len(tags) - round(n)",
    "'中文' not in tags and owner in [1, 2]",
    "max(t, 'b') < min('z', t + t)",
    "n % 0 == null and k / 0 == null",
    "(n if n > k else k) * -1",
]
TOKENS = [
    *" ()[],.'\"+-*/%<>=!~&|^@:;#\\_\n\t0123456789eE",
    "中",
    "😀",
    "if",
    " and ",
    " or ",
    " not ",
    " in ",
    "**",
    "//",
    "==",
    "null",
    "true",
    "user.",
    "lambda",
    "[0]",
    "__class__",
    "9" * 30,
    "1e308",
    ",)",
    "f'",
    "'''",
]


@st.composite
def mutants(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 6)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate", "swap"]))
        token = draw(st.sampled_from(TOKENS))
        if action == "insert":
            text = text[:i] + token + text[i:]
        elif action == "delete":
            text = text[:i] + text[j:]
        elif action == "replace":
            text = text[:i] + token + text[j:]
        elif action == "duplicate":
            text = text[:j] + text[i:j] + text[j:]
        elif j - i >= 2:
            text = text[:i] + text[j - 1] + text[i + 1 : j - 1] + text[i] + text[j:]
    return text


def compiles_or_refuses(source: str) -> Any:
    start = time.perf_counter()
    try:
        expr = compile_expr(source, NAMES)
    except ExprError as err:
        assert isinstance(err.offset, int) and 0 <= err.offset <= max(len(source), 2000)
        assert err.message
        expr = None
    assert time.perf_counter() - start < 1.0, source
    return expr


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_any_text_compiles_or_raises_expr_error(source: str) -> None:
    compiles_or_refuses(source)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from([*TOKENS, "n", "t", "b", "tags", "len(", "round("]), max_size=25).map(
        "".join
    )
)
def test_token_soup_compiles_or_raises_expr_error(source: str) -> None:
    compiles_or_refuses(source)


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE t (id INTEGER PRIMARY KEY, {', '.join(NAMES)})")
    for i, row in enumerate(ROWS, 1):
        values = [
            json.dumps(v, ensure_ascii=False)
            if isinstance(v, list)
            else v.isoformat()
            if isinstance(v, date)
            else v
            for v in row.values()
        ]
        conn.execute(f"INSERT INTO t VALUES (?, {', '.join('?' * len(values))})", [i, *values])
    yield conn
    conn.close()


def agree(kind: str, python: Any, sql: Any) -> bool:
    if python is None or sql is None:
        return python is None and sql is None
    if isinstance(python, bool) or kind == "bool":
        return bool(python) == bool(sql)
    if isinstance(python, int | float) and isinstance(sql, int | float):
        return math.isclose(python, sql, rel_tol=1e-9, abs_tol=1e-9) or python == sql
    if isinstance(python, datetime):
        return python == datetime.fromisoformat(sql)
    if isinstance(python, date):
        return python == date.fromisoformat(sql)
    if isinstance(python, list):
        return python == json.loads(sql)
    return bool(python == sql)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutants())
def test_mutants_compile_or_refuse_and_then_agree(db: sqlite3.Connection, source: str) -> None:
    expr = compiles_or_refuses(source)
    if expr is None:
        return
    sql, params = expr.to_sql("sqlite", lambda n: f"t.{n}", CTX, value=True)
    got = dict(db.execute(f"SELECT id, {sql} FROM t ORDER BY id", params).fetchall())
    for i, row in enumerate(ROWS, 1):
        value = expr.evaluate(row, CTX)
        assert agree(expr.type.kind, value, got[i]), (source, i, value, got[i])
    if expr.type == BOOL:
        where, params = expr.to_sql("sqlite", lambda n: f"t.{n}", CTX)
        chosen = {r[0] for r in db.execute(f"SELECT id FROM t WHERE {where}", params)}
        assert chosen == {i for i, row in enumerate(ROWS, 1) if expr.evaluate(row, CTX)}
    expr.to_sql("postgres", lambda n: f"t.{n}", CTX)


def test_seeds_are_valid() -> None:
    for seed in SEEDS:
        assert compiles_or_refuses(seed) is not None, seed
