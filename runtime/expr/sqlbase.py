"""The building blocks the SQL compiler uses for both dialects.

Parameters, null handling of tests, naming a fragment used several times, and
the few operations SQLite and PostgreSQL spell differently (doubles, floor,
truncation, datetime comparison keys, the UTC date of a value).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import Context
from .nodes import Node
from .sqltext import Binder, Frag, Param, pg_cast
from .values import datetime_key

WHOLE = "4503599627370496.0"  # 2**52: doubles this big are whole numbers


class SqlBase:
    def __init__(self, dialect: str, column: Callable[[str], str], ctx: Context) -> None:
        if dialect not in ("sqlite", "postgres"):
            raise ValueError(f"unknown SQL dialect {dialect!r} (sqlite or postgres)")
        self.pg = dialect == "postgres"
        self.column = column
        self.ctx = ctx
        self.binder = Binder()
        self.real = "double precision" if self.pg else "REAL"

    # helpers --------------------------------------------------------------

    def param(self, value: Any) -> Frag:
        if value is None:
            return Frag("NULL", simple=True)
        return Frag(Param(value, pg_cast(value)), simple=True)

    def nullable(self, node: Node) -> bool:
        """May the SQL value of ``node`` be null?"""
        if node.op == "user":
            return self.ctx.user_id is None
        if node.op == "user_org":
            return self.ctx.user_org is None
        return node.nullable

    def bind(self, frag: Frag, body: Callable[[Frag], Frag]) -> Frag:
        return self.binder.bind(frag, body)

    def num(self, frag: Frag) -> Frag:
        return Frag("CAST(", frag, f" AS {self.real})")

    def atom(self, frag: Frag, nullable: bool, positive: bool) -> Frag:
        """A test whose SQL is null where Python says false."""
        if positive or not nullable:
            return frag
        return Frag("COALESCE(", frag, ", FALSE)")

    def key(self, frag: Frag, kind: str) -> Frag:
        """What SQLite compares a datetime by: UTC text with 6 digits of microseconds."""
        if self.pg or kind != "datetime":
            return frag
        param = frag.param
        if param is not None:
            return Frag(Param(datetime_key(param.value), "text"), simple=True)
        if frag.parts == ("NULL",):
            return frag
        return self.bind(
            frag,
            lambda x: Frag(
                "(strftime('%Y-%m-%d %H:%M:%S', ",
                x,
                ") || CASE WHEN substr(",
                x,
                ", 20, 1) = '.' THEN substr(",
                x,
                ", 21, 6) ELSE '000000' END)",
            ),
        )

    def day(self, frag: Frag, kind: str) -> Frag:
        """The (UTC) date of a date or datetime, for computing with it.

        asyncpg stores ``date.max``/``date.min`` (and the datetime ones) as
        ±infinity; PostgreSQL reads those back as the last and first Python days.
        """
        if not self.pg:
            return Frag("date(", frag, ")") if kind == "datetime" else frag
        if kind == "datetime":
            frag = Frag("CAST((", frag, " AT TIME ZONE 'UTC') AS date)")
        return self.bind(
            frag,
            lambda d: Frag(
                "CASE WHEN ",
                d,
                " = DATE 'infinity' THEN DATE '9999-12-31' WHEN ",
                d,
                " = DATE '-infinity' THEN DATE '0001-01-01' ELSE ",
                d,
                " END",
            ),
        )

    def floor(self, frag: Frag) -> Frag:
        if self.pg:
            return Frag("floor(", frag, ")")
        return self.bind(
            frag,
            lambda q: Frag(
                "CASE WHEN abs(",
                q,
                f") >= {WHOLE} THEN ",
                q,
                " ELSE CAST(",
                q,
                " AS INTEGER) - (",
                q,
                " < CAST(",
                q,
                " AS INTEGER)) END",
            ),
        )

    def trunc(self, frag: Frag) -> Frag:
        if self.pg:
            return Frag("trunc(", frag, ")")
        return Frag("CAST(CAST(", frag, " AS INTEGER) AS REAL)")
