"""The expression language: syntax, types, errors (offsets, hints), bounds, API."""

from __future__ import annotations

import pickle
import time
from datetime import UTC, date, datetime

import pytest

from runtime.expr import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    FILE,
    LOCATION,
    NULL,
    NUMBER,
    ORG,
    REF,
    TEXT,
    USER,
    Context,
    ExprError,
    Type,
    compile_expr,
    list_of,
)
from runtime.expr.types import describe, unify

NAMES = {
    "title": TEXT,
    "标题": TEXT,
    "n": NUMBER,
    "m": NUMBER,
    "b": BOOL,
    "due": DATE,
    "at": DATETIME,
    "owner": USER,
    "lead": ORG,
    "parent": REF,
    "tags": list_of(TEXT),
    "photo": FILE,
    "place": LOCATION,
    "state": TEXT,
}
CTX = Context(user_id=7, user_org=3, now=datetime(2026, 11, 22, 8, 30, tzinfo=UTC))


def error(source: str, names: dict[str, Type] | None = None, **kw: object) -> ExprError:
    with pytest.raises(ExprError) as info:
        compile_expr(source, NAMES if names is None else names, **kw)  # type: ignore[arg-type]
    return info.value


# --- types --------------------------------------------------------------------


def test_types_are_small_immutable_values() -> None:
    assert list_of(TEXT) == list_of(TEXT) and list_of(TEXT) != list_of(NUMBER)
    assert str(list_of(TEXT)) == "list of text" and list_of(USER).is_list
    assert {TEXT, TEXT, NUMBER} == {TEXT, NUMBER}
    with pytest.raises(AttributeError):
        TEXT.kind = "number"  # type: ignore[misc]
    assert unify(NULL, DATE) == DATE and unify(DATE, NULL) == DATE
    assert unify(ANY, TEXT) == TEXT and unify(DATE, DATETIME) is None
    assert unify(list_of(ANY), list_of(TEXT)) == list_of(TEXT)
    assert describe(ORG) == "an org" and describe(NUMBER) == "a number"
    assert {t.kind for t in (REF, FILE, LOCATION)} == {"ref", "file", "location"}


# --- syntax -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "type_"),
    [
        ("12", NUMBER),
        ("-1.5", NUMBER),
        ("'中文'", TEXT),
        ('"双引号"', TEXT),
        ("true", BOOL),
        ("False", BOOL),
        ("null", NULL),
        ("None", NULL),
        ("[1, 2.5]", list_of(NUMBER)),
        ("['a', '中']", list_of(TEXT)),
        ("[]", list_of(ANY)),
        ("title", TEXT),
        ("标题 + 'x'", TEXT),
        ("user", USER),
        ("user.id", USER),
        ("user.org", ORG),
        ("now", DATETIME),
        ("today", DATE),
        ("1 < n <= 5", BOOL),
        ("n if b else m", NUMBER),
        ("if(b, 'a', 'b')", TEXT),
        ("x if(b) else y".replace("x", "n").replace("y", "m"), NUMBER),
        ("not if(b, false, true)", BOOL),
        ("n + -m * 2 / 3 % 4", NUMBER),
        ("state in ['draft', '草稿'] or state not in tags", BOOL),
        ("  n  ", NUMBER),
        ("n +\n  m", NUMBER),
        ("n  # a comment", NUMBER),
    ],
)
def test_valid_expressions(source: str, type_: Type) -> None:
    assert compile_expr(source, NAMES).type == type_


def test_if_calls_and_if_expressions_mix() -> None:
    expr = compile_expr("if(b, 'if(', title) if(contains(title, 'x if(y)')) else 'no'", NAMES)
    assert expr.evaluate({"b": True, "title": "a x if(y)"}, CTX) == "if("
    assert expr.evaluate({"b": True, "title": "a"}, CTX) == "no"
    assert compile_expr("[1, 2] if b else []", NAMES).type == list_of(NUMBER)
    assert "if is a function" in error("ıf").message


def test_names_lists_the_record_names_read() -> None:
    expr = compile_expr("title == '' and owner == user and due < today", NAMES)
    assert expr.names == frozenset({"title", "owner", "due"})
    assert expr.source == "title == '' and owner == user and due < today"


def test_literals_read_as_dates_datetimes_and_ids_where_compared_with_them() -> None:
    assert compile_expr("due < '2026-12-31'", NAMES).evaluate({"due": date(2026, 1, 1)}, CTX)
    assert compile_expr("at >= '2026-11-22T08:00:00+00:00'", NAMES).evaluate({"at": CTX.now}, CTX)
    assert compile_expr("owner in [7, 8]", NAMES).evaluate({"owner": 7}, CTX)
    assert compile_expr("lead == 'org-3'", NAMES).evaluate({"lead": "org-3"}, CTX)
    assert compile_expr("date('2026-01-02') == due", NAMES).evaluate({"due": date(2026, 1, 2)}, CTX)


# --- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "offset", "words", "hint"),
    [
        ("titel == 'x'", 0, "unknown name 'titel'", "did you mean 'title'?"),
        ("n > 1 and  ownr == user", 11, "unknown name 'ownr'", "did you mean 'owner'?"),
        ("标题 == 1", 3, "cannot compare a text with a number", None),
        ("'中文' + n", 5, "cannot add a text and a number", "'+' joins"),
        ("n ** 2", 2, "'**'", "x * x"),
        ("9**9**9", 1, "'**'", "multiply"),
        ("n // 2", 2, "'//'", "round(a / b)"),
        ("n & 1", 2, "'&'", None),
        ("due < now", 4, "cannot compare a date with a datetime", "use date(x)"),
        ("due < 'tomorrow'", 6, "'tomorrow' is not a date", None),
        ("n and b", 0, "must be a condition", "x != 0"),
        ("user.name", 0, "user has no 'name'", None),
        ("title.upper()", 0, "only the built-in functions", None),
        ("title.x", 0, "attributes are not allowed", "user.id and user.org"),
        ("title[0]", 0, "indexing", "contains()"),
        ("lenn(title)", 0, "unknown function lenn()", "did you mean len()?"),
        ("len(title, 1)", 0, "len() takes 1 argument, got 2", None),
        ("len(x=title)", 4, "keyword arguments", None),
        ("n is None", 2, "'is' is not supported", "'=='"),
        ("a && b", 2, "invalid syntax", "use 'and'"),
        ("n = 1", 2, "invalid syntax", "use '=='"),
        ("n > 1 and", 9, "invalid syntax", None),
        ("photo == 1", 0, "a file can only be compared with null", "empty(x)"),
        ("len(place)", 4, "a location only supports empty() and == null", None),
        ("tags == tags", 0, "lists cannot be compared", "contains"),
        ("b < true", 0, "'<' cannot compare a bool", None),
        ("n < null", 2, "always false", "empty(x)"),
        ("n + null", 4, "always null", "coalesce"),
        ("lambda: 1", 0, "lambda", None),
        ("[x for x in tags]", 0, "comprehension", None),
        ("f'{n}'", 0, "f-string", None),
        ("(n := 1)", 1, "':='", None),
        ("(1, 2)", 0, "tuple", "[a, b]"),
        ("[1, 'a']", 4, "same type", None),
        ("[n]", 1, "written out", None),
        ("round(n, m)", 9, "digits of round()", None),
        ("owner == lead", 6, "cannot compare a user with an org", None),
        ("if(n, 1, 2)", 3, "must be a condition", None),
        ("coalesce(n, 'a')", 12, "do not go together", None),
        ("add_days(at, 1)", 9, "must be a date", "use date(x)"),
        ("len", 0, "len is a function", "len(x)"),
        ("'a' in n", 7, "must be a list", None),
        ("'a' < title in tags", 0, "chain", None),
        ("1j", 0, "complex", None),
    ],
)
def test_errors_point_at_the_mistake(
    source: str, offset: int, words: str, hint: str | None
) -> None:
    err = error(source)
    assert words in err.message, err
    assert err.offset == offset, err
    if hint is not None:
        assert err.hint is not None and hint in err.hint, err
    assert str(err).startswith(f"at {offset}: ")


def test_offsets_count_characters_across_lines() -> None:
    err = error("标题 == '一' and\n  未知 > 1")
    assert err.offset == len("标题 == '一' and\n  ")
    err = error("标题 == '一二三' and n ** 2")
    assert err.offset == len("标题 == '一二三' and n ")


def test_expected_type_is_checked() -> None:
    err = error("n + 1", expect=BOOL)
    assert err.expected == "a condition (true/false)" and "a number" in err.message
    assert error("title", expect=NUMBER).expected == "a number"
    assert compile_expr("null", NAMES, expect=NUMBER).type == NULL
    assert compile_expr("owner == user", NAMES, expect=BOOL).type == BOOL
    with pytest.raises(ExprError):
        compile_expr("null", NAMES, expect=BOOL)


def test_errors_survive_pickling() -> None:
    err = pickle.loads(pickle.dumps(error("titel")))
    assert (err.offset, err.hint) == (0, "did you mean 'title'?")


# --- bounds -------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "9**9**9",
        "'a'*10**10",
        "999999**3999999",
        "'a' * 10000000000",
        "1" * 1999,
        "(" * 250 + "1" + ")" * 250,
        "-" * 1500 + "1",
        "not " * 400 + "b",
        "[" * 100 + "]" * 100,
        "n" + " + n" * 300,
        "1e400",
        "len('" + "x" * 2000 + "')",
        "[" + ", ".join(["1"] * 201) + "]",
        "\x00",
        "'\ud800'",
    ],
)
def test_bounds_are_refused_quickly(source: str) -> None:
    start = time.perf_counter()
    with pytest.raises(ExprError):
        compile_expr(source, NAMES)
    assert time.perf_counter() - start < 0.5


def test_each_bound_has_a_clear_message() -> None:
    assert "too long" in error("n" + " " * 2000).message
    assert error("n" + " " * 2000).expected == "at most 2000 characters"
    assert "too long" in error(" and ".join(["b"] * 300)).message
    assert compile_expr(" and ".join(["b"] * 299), NAMES).type == BOOL
    assert "nested too deeply" in error("-" * 41 + "n").message
    assert "too large" in error("1000000000000001").message
    assert compile_expr("1000000000000000 + -1e15", NAMES).type == NUMBER
    assert "the list is too long" in error(f"[{', '.join(['1'] * 201)}]").message
    assert compile_expr(f"n in [{', '.join(['1'] * 200)}]", NAMES).type == BOOL
    assert "empty" in error("   ").message
    assert error(123).message == "an expression must be text"  # type: ignore[arg-type]


# --- API and SQL shape --------------------------------------------------------


def test_context_defaults() -> None:
    ctx = Context()
    assert ctx.now.tzinfo is not None and ctx.today == ctx.now.date()
    naive = Context(now=datetime(2026, 1, 1, 12))
    assert naive.now.tzinfo == UTC
    assert Context(today=date(2026, 1, 2)).today == date(2026, 1, 2)


def test_sql_uses_parameters_for_every_literal_and_context_value() -> None:
    expr = compile_expr("title == '标题' and n > 41 and owner == user and due < today", NAMES)
    col = lambda name: f'"t"."{name}"'  # noqa: E731
    sql, params = expr.to_sql("sqlite", col, CTX)
    assert "标题" not in sql and "41" not in sql and "2026" not in sql
    assert params == ["标题", 41, 7, "2026-11-22"]
    sql, params = expr.to_sql("postgres", col, CTX)
    assert "$1::text" in sql and "$2::bigint" in sql and "$4::date" in sql
    assert params == ["标题", 41, 7, date(2026, 11, 22)]


def test_where_form_keeps_plain_index_friendly_tests() -> None:
    expr = compile_expr("owner == user", NAMES)
    col = lambda name: f'"t"."{name}"'  # noqa: E731
    assert expr.to_sql("postgres", col, CTX) == ('("t"."owner" = $1::bigint)', [7])
    assert expr.to_sql("sqlite", col, CTX) == ('("t"."owner" = ?)', [7])
    assert expr.to_sql("sqlite", col, CTX, value=True)[0].startswith("COALESCE(")
    anonymous = Context(now=CTX.now)
    assert expr.to_sql("postgres", col, anonymous) == (
        '("t"."owner" IS NOT DISTINCT FROM NULL)',
        [],
    )


def test_postgres_reuses_a_parameter_number() -> None:
    sql, params = compile_expr("round(n, 2)", NAMES).to_sql("postgres", str, CTX)
    assert params == [100.0] and sql.count("$1::double precision") > 1


def test_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="dialect"):
        compile_expr("n", NAMES).to_sql("mysql", str, CTX)


def test_sql_grows_linearly_with_nesting() -> None:
    source = "n"
    for _ in range(12):
        source = f"round({source} % 3, 1)"
    sql, params = compile_expr(source, NAMES).to_sql("sqlite", str, CTX)
    assert len(sql) < 20_000 and len(params) < 200
    sql, _ = compile_expr(source, NAMES).to_sql("postgres", str, CTX)
    assert len(sql) < 20_000
