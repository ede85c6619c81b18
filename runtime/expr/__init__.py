"""The expression language of scenarios: conditions, computed values, filters, scores.

One small, safe language, parsed once (``ast.parse`` walked with a whitelist),
type-checked, and compiled two ways — to a Python evaluator and to SQL for
SQLite and PostgreSQL — that agree on every record::

    expr = compile_expr("state == 'draft' and due < today", names, expect=BOOL)
    expr.evaluate(record, ctx)                                  # -> True / False
    sql, params = expr.to_sql("postgres", lambda f: f'"t"."{f}"', ctx)

Syntax: literals (``12``, ``1.5``, ``'文本'``, ``true``/``false``/``null`` or
``True``/``False``/``None``, lists ``[1, 2]`` of literals of one type); record
names from the caller's table; ``user`` (= ``user.id``), ``user.org``, ``now``,
``today``; ``and or not``; ``== != < <= > >=`` (chains like ``1 < x <= 5``);
``+ - * / %`` (``+`` also joins texts); ``in`` / ``not in`` a list literal or a
list field; ``a if c else b``; the functions ``len contains startswith empty
coalesce days_between add_days year month quarter date min max abs round if``.
A text literal compared with a date (datetime) is read as one
(``due < '2026-12-31'``), a whole number or text compared with an id as an id.
``true``/``false``/``null`` and ``user``/``now``/``today`` win over record
names of the same spelling. Bounds: 2000 characters, 300 nodes, depth 40,
numbers up to 1e15, lists up to 200 items.

Semantics (both compilers implement exactly these):

- Conditions are two-valued. ``==``/``!=`` are null-safe (``x == null`` is true
  only for null); ``<``… with a null side are false; ``not`` of such a false is
  true. A null bool field used as a condition is false, and a whole bool
  expression evaluates to ``True``/``False``, never ``None``.
- Arithmetic with null gives null. Numbers are doubles in SQL; Python keeps
  integers exact while they stay within ±2**53 (so the values agree). ``/`` is
  real division; ``/ 0`` and ``% 0`` give null. ``%`` takes the sign of the
  divisor (``-7 % 3 == 2``, as in Python and spreadsheets).
- ``round(x)``/``round(x, n)`` round half away from zero (not Python's
  banker's rounding), computed with the same double operations everywhere.
- ``len`` counts characters (Chinese too) or list items; null gives null.
- ``contains``/``startswith`` with a null side are false; ``x in [...]`` with a
  null ``x`` is false and ``not in`` is its negation. ``empty(x)`` is true for
  null, ``''`` and ``[]``. ``coalesce(a, b)`` is ``a`` unless null.
- Datetimes compare to the microsecond. ``date(dt)``, ``year``/``month``/``quarter``
  and ``days_between`` take the UTC date of a datetime. ``days_between(a, b)`` is
  ``b - a`` in whole days. ``add_days(d, n)`` adds the whole part of ``n``
  (truncated toward zero); a result outside the years 1–9999 is null.
- ``min``/``max`` of two values of one orderable type; null if either is null.
- Texts order by code point (PostgreSQL uses ``COLLATE "C"`` for that).
- ``user``, ``user.org``, ``now`` and ``today`` come from ``Context``. With no
  signed-in user ``user`` is null, so ``owner == user`` matches ownerless rows.

SQL storage contract: SQLite keeps text, numbers as INTEGER/REAL, bools 0/1,
dates as ``'YYYY-MM-DD'``, datetimes as UTC ISO text as ``datetime.isoformat()``
writes it (no or six fractional digits), ids as INTEGER or TEXT and lists as a
JSON array in TEXT; PostgreSQL uses text, bigint/double precision/numeric,
boolean, date, timestamptz, bigint/text ids and jsonb lists. Every literal and
every context value is a parameter (``?`` for SQLite, ``$n`` with a cast for
PostgreSQL/asyncpg).

Known limits of agreement: numbers beyond ±2**53 (where SQL doubles and exact
Python integers part), float overflow (PostgreSQL raises where Python and
SQLite give infinity), and texts containing NUL characters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .context import Context
from .errors import ExprError
from .nodes import Node
from .parser import parse
from .python import compile_python
from .sql import SqlCompiler
from .sqltext import render
from .types import (
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
    Type,
    describe,
    list_of,
    unify,
)

__all__ = [
    "ANY",
    "BOOL",
    "DATE",
    "DATETIME",
    "FILE",
    "LOCATION",
    "NULL",
    "NUMBER",
    "ORG",
    "REF",
    "TEXT",
    "USER",
    "Context",
    "Expr",
    "ExprError",
    "Type",
    "compile_expr",
    "list_of",
]


class Expr:
    """A compiled expression: evaluate it in Python, or turn it into SQL."""

    __slots__ = ("_evaluate", "names", "node", "source", "type")

    def __init__(self, source: str, node: Node, names: frozenset[str]) -> None:
        self.source = source
        self.node = node
        self.type: Type = node.type
        self.names = names  # the record names the expression reads
        self._evaluate = compile_python(node)

    def __repr__(self) -> str:
        return f"Expr({self.source!r}, type={self.type})"

    def evaluate(self, record: Mapping[str, Any], ctx: Context) -> Any:
        """The value for one record (a missing name reads as null)."""
        return self._evaluate(record, ctx)

    def to_sql(
        self,
        dialect: str,
        column: Callable[[str], str],
        ctx: Context,
        *,
        value: bool = False,
    ) -> tuple[str, list[Any]]:
        """SQL text and parameters, for ``dialect`` ``"sqlite"`` or ``"postgres"``.

        ``column(name)`` gives the (quoted) SQL of a record name. A bool expression
        gives, by default, a ``WHERE`` condition in which null means false (that
        keeps index-friendly ``col = $1`` tests); with ``value=True`` it is strictly
        true or false, as ``evaluate`` says — use that in a SELECT list.
        """
        compiler = SqlCompiler(dialect, column, ctx)
        return render(compiler.top(self.node, value), postgres=compiler.pg)


def compile_expr(source: str, names: Mapping[str, Type], *, expect: Type | None = None) -> Expr:
    """Parse and type-check ``source`` against the record ``names``; raise ``ExprError``.

    ``expect`` is the type the caller needs (``BOOL`` for conditions).
    """
    node, used = parse(source, names)
    if expect is not None:
        fits = unify(node.type, expect) is not None
        if not fits or (expect.kind == "bool" and node.type.kind != "bool"):
            wanted = "a condition (true/false)" if expect.kind == "bool" else describe(expect)
            raise ExprError(
                f"expected {wanted}, but this is {describe(node.type)}",
                node.offset,
                expected=wanted,
            )
    return Expr(source, node, used)
