"""Compile the typed tree to SQL for SQLite or PostgreSQL.

``value`` gives the SQL of a node's value, which is null exactly where the
Python value is None. ``cond`` gives the SQL of a condition in one of two
modes: *strict* (always true or false, like Python) or *positive* (null may
stand for false: right inside ``WHERE``, ``AND``/``OR`` and ``CASE WHEN``, and
it keeps plain ``col = $1`` tests that an index can serve).
"""

from __future__ import annotations

from collections.abc import Callable

from .nodes import COMPARISONS, Node
from .sqlbase import WHOLE, SqlBase
from .sqltext import Frag, Param, join
from .types import Type, unify

_SYMBOL = {"eq": "=", "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


class SqlCompiler(SqlBase):
    def top(self, node: Node, value: bool) -> Frag:
        if node.type.kind == "bool":
            return self.cond(node, positive=not value)
        return self.value(node)

    # values ---------------------------------------------------------------

    def value(self, node: Node) -> Frag:
        op = node.op
        if op in ("lit", "list"):
            return self.param(list(node.value) if op == "list" else node.value)
        if op == "field":
            return Frag(self.column(node.value), simple=True)
        if op in ("user", "user_org", "now", "today"):
            ctx = self.ctx
            values = {
                "user": ctx.user_id,
                "user_org": ctx.user_org,
                "now": ctx.now,
                "today": ctx.today,
            }
            return self.param(values[op])
        if node.type.kind == "bool" and op not in ("if", "coalesce"):
            return self.cond(node, positive=False)
        if op == "if":
            test = self.cond(node.args[0], positive=True)
            yes, no = self.value(node.args[1]), self.value(node.args[2])
            return Frag("CASE WHEN ", test, " THEN ", yes, " ELSE ", no, " END")
        method: Callable[[Node, list[Frag]], Frag] = getattr(self, "_" + op)
        return method(node, [self.value(arg) for arg in node.args])

    def _neg(self, node: Node, a: list[Frag]) -> Frag:
        return Frag("(-", a[0], ")")

    def _arith(self, symbol: str, a: list[Frag]) -> Frag:
        right = self.num(a[1]) if self.pg else a[1]
        return Frag("(", self.num(a[0]), f" {symbol} ", right, ")")

    def _add(self, node: Node, a: list[Frag]) -> Frag:
        return self._arith("+", a)

    def _sub(self, node: Node, a: list[Frag]) -> Frag:
        return self._arith("-", a)

    def _mul(self, node: Node, a: list[Frag]) -> Frag:
        return self._arith("*", a)

    def _div(self, node: Node, a: list[Frag]) -> Frag:
        right = self.num(a[1]) if self.pg else a[1]
        return Frag("(", self.num(a[0]), " / NULLIF(", right, ", 0))")

    def _mod(self, node: Node, a: list[Frag]) -> Frag:
        # x - y * floor(x / y), in doubles; null when y is 0
        def body(x: Frag, y: Frag) -> Frag:
            quotient = Frag(self.num(x), " / NULLIF(", self.num(y), ", 0)")
            return Frag(
                "CASE WHEN ",
                y,
                " = 0 THEN NULL ELSE ",
                self.num(x),
                " - ",
                self.num(y),
                " * ",
                self.floor(quotient),
                " END",
            )

        return self.bind(a[0], lambda x: self.bind(a[1], lambda y: body(x, y)))

    def _concat(self, node: Node, a: list[Frag]) -> Frag:
        return Frag("(", a[0], " || ", a[1], ")")

    def _coalesce(self, node: Node, a: list[Frag]) -> Frag:
        return Frag("COALESCE(", a[0], ", ", a[1], ")")

    def _len(self, node: Node, a: list[Frag]) -> Frag:
        if node.args[0].type.is_list:
            return Frag("jsonb_array_length(" if self.pg else "json_array_length(", a[0], ")")
        return Frag("char_length(" if self.pg else "length(", a[0], ")")

    def _abs(self, node: Node, a: list[Frag]) -> Frag:
        return Frag("abs(", a[0], ")")

    def _days_between(self, node: Node, a: list[Frag]) -> Frag:
        first, last = (self.day(f, arg.type.kind) for f, arg in zip(a, node.args, strict=True))
        if self.pg:
            return Frag("(", last, " - ", first, ")")
        return Frag("CAST(julianday(", last, ") - julianday(", first, ") AS INTEGER)")

    def _add_days(self, node: Node, a: list[Frag]) -> Frag:
        day, count = self.day(a[0], "date"), a[1]
        if self.pg:
            whole = Frag(
                "CAST(LEAST(GREATEST(trunc(", self.num(count), "), -4000000), 4000000) AS integer)"
            )
            days = Frag("((", day, " - DATE '0001-01-01') + ", whole, ")")
            return self.bind(
                days,
                lambda d: Frag(
                    "CASE WHEN ",
                    d,
                    " BETWEEN 0 AND 3652058 THEN DATE '0001-01-01' + LEAST(GREATEST(",
                    d,
                    ", 0), 3652058) END",
                ),
            )
        julian = Frag("(julianday(", day, ") + CAST(", count, " AS INTEGER))")
        return self.bind(
            julian,
            lambda j: Frag(
                "CASE WHEN ", j, " BETWEEN 1721425.5 AND 5373483.5 THEN date(", j, ") END"
            ),
        )

    def _part(self, node: Node, a: list[Frag], field: str, pattern: str) -> Frag:
        kind = node.args[0].type.kind
        if self.pg:
            return Frag(f"CAST(EXTRACT({field} FROM ", self.day(a[0], kind), ") AS integer)")
        return Frag(f"CAST(strftime('{pattern}', ", a[0], ") AS INTEGER)")

    def _year(self, node: Node, a: list[Frag]) -> Frag:
        return self._part(node, a, "YEAR", "%Y")

    def _month(self, node: Node, a: list[Frag]) -> Frag:
        return self._part(node, a, "MONTH", "%m")

    def _quarter(self, node: Node, a: list[Frag]) -> Frag:
        if self.pg:
            return self._part(node, a, "QUARTER", "")
        return Frag("((", self._part(node, a, "", "%m"), " + 2) / 3)")

    def _date(self, node: Node, a: list[Frag]) -> Frag:
        if self.pg:
            return Frag("CAST((", a[0], " AT TIME ZONE 'UTC') AS date)")
        return Frag("date(", a[0], ")")

    def _min(self, node: Node, a: list[Frag]) -> Frag:
        return self._minmax(node, a, "min", "<=")

    def _max(self, node: Node, a: list[Frag]) -> Frag:
        return self._minmax(node, a, "max", ">=")

    def _minmax(self, node: Node, a: list[Frag], name: str, symbol: str) -> Frag:
        kind = node.type.kind
        if not self.pg and kind != "datetime":
            return Frag(f"{name}(", a[0], ", ", a[1], ")")  # null when either is null

        def body(x: Frag, y: Frag) -> Frag:
            either = Frag("CASE WHEN ", x, " IS NULL OR ", y, " IS NULL THEN NULL ")
            if self.pg:
                collate = ' COLLATE "C"' if kind == "text" else ""
                pick = "LEAST(" if name == "min" else "GREATEST("
                return Frag(either, "ELSE ", pick, x, collate, ", ", y, collate, ") END")
            return Frag(
                either,
                "WHEN ",
                self.key(x, kind),
                f" {symbol} ",
                self.key(y, kind),
                " THEN ",
                x,
                " ELSE ",
                y,
                " END",
            )

        return self.bind(a[0], lambda x: self.bind(a[1], lambda y: body(x, y)))

    def _round(self, node: Node, a: list[Frag]) -> Frag:
        digits: int = node.value
        scale = Frag(Param(10.0 ** abs(digits), "double precision"), simple=True)

        def nearest(y: Frag) -> Frag:  # y >= 0: the nearest whole number, halves up
            return self.bind(
                y,
                lambda v: Frag(
                    "CASE WHEN ",
                    v,
                    f" >= {WHOLE} THEN ",
                    v,
                    " ELSE ",
                    self.trunc(v),
                    " + CASE WHEN ",
                    v,
                    " - ",
                    self.trunc(v),
                    " >= 0.5 THEN 1.0 ELSE 0.0 END END",
                ),
            )

        def body(x: Frag) -> Frag:
            size = Frag("CAST(abs(", x, f") AS {self.real})")
            if digits >= 0:
                rounded = Frag(
                    "CASE WHEN ",
                    size,
                    f" >= {WHOLE} THEN ",
                    size,
                    " ELSE ",
                    nearest(Frag(size, " * ", scale)),
                    " / ",
                    scale,
                    " END",
                )
            else:
                rounded = Frag(nearest(Frag(size, " / ", scale)), " * ", scale)
            return Frag("((", rounded, ") * CASE WHEN ", x, " < 0 THEN -1.0 ELSE 1.0 END)")

        return self.bind(a[0], body)

    # conditions -----------------------------------------------------------

    def cond(self, node: Node, positive: bool) -> Frag:
        op = node.op
        if op in ("and", "or"):
            return join((self.cond(arg, positive) for arg in node.args), f" {op.upper()} ")
        if op == "not":
            return Frag("(NOT ", self.cond(node.args[0], positive=False), ")")
        if op in COMPARISONS:
            a, b = node.args
            return self.compare(op, a, b, self.value(a), self.value(b), positive)
        if op == "chain":
            return self._chain(node, positive)
        if op == "isnull":
            return Frag("(", self.value(node.args[0]), " IS NULL)")
        if op in ("in", "contains", "startswith", "empty"):
            method: Callable[[Node, bool], Frag] = getattr(self, "_test_" + op)
            return method(node, positive)
        return self.atom(self.value(node), self.nullable(node), positive)

    def compare(self, op: str, a: Node, b: Node, x: Frag, y: Frag, positive: bool) -> Frag:
        common = unify(a.type, b.type) or Type("any")
        x, y = self.key(x, common.kind), self.key(y, common.kind)
        null_a, null_b = self.nullable(a), self.nullable(b)
        if op in ("eq", "ne") and ((null_a and null_b) or (op == "ne" and (null_a or null_b))):
            if self.pg:
                word = " IS NOT DISTINCT FROM " if op == "eq" else " IS DISTINCT FROM "
            else:
                word = " IS " if op == "eq" else " IS NOT "
            return Frag("(", x, word, y, ")")
        if self.pg and common.kind == "text" and op not in ("eq", "ne"):
            x = Frag(x, ' COLLATE "C"')
        test = Frag("(", x, f" {_SYMBOL[op]} ", y, ")")
        return self.atom(test, null_a or null_b, positive)

    def _chain(self, node: Node, positive: bool) -> Frag:
        operands = [self.value(arg) for arg in node.args]
        ops: tuple[str, ...] = node.value

        def build(index: int, done: list[Frag]) -> Frag:
            if index == len(operands):
                tests = [
                    self.compare(op, node.args[i], node.args[i + 1], done[i], done[i + 1], positive)
                    for i, op in enumerate(ops)
                ]
                return join(tests, " AND ")
            if 0 < index < len(operands) - 1:
                return self.bind(operands[index], lambda f: build(index + 1, [*done, f]))
            return build(index + 1, [*done, operands[index]])

        return build(0, [])

    def _test_in(self, node: Node, positive: bool) -> Frag:
        x, listed = node.args
        if not listed.args:
            return Frag("FALSE")
        kind = x.type.kind
        items = [self.key(self.param(item), kind) for item in listed.value]
        test = Frag("(", self.key(self.value(x), kind), " IN ", join(items, ", "), ")")
        return self.atom(test, self.nullable(x), positive)

    def _test_contains(self, node: Node, positive: bool) -> Frag:
        whole, part = node.args
        a, b = self.value(whole), self.value(part)
        nullable = self.nullable(whole) or self.nullable(part)
        if not whole.type.is_list:
            test = Frag("(strpos(" if self.pg else "(instr(", a, ", ", b, ") > 0)")
            return self.atom(test, nullable, positive)
        if not self.pg:
            return Frag("EXISTS (SELECT 1 FROM json_each(", a, ") WHERE value = ", b, ")")
        if not self.nullable(part):
            test = Frag("(", a, " @> jsonb_build_array(", b, "))")
            return self.atom(test, self.nullable(whole), positive)
        return self.bind(
            b,
            lambda e: self.atom(
                Frag("(", e, " IS NOT NULL AND ", a, " @> jsonb_build_array(", e, "))"),
                nullable,
                positive,
            ),
        )

    def _test_startswith(self, node: Node, positive: bool) -> Frag:
        whole, part = node.args
        a, b = self.value(whole), self.value(part)
        test = (
            Frag("starts_with(", a, ", ", b, ")")
            if self.pg
            else Frag("(instr(", a, ", ", b, ") = 1)")
        )
        return self.atom(test, self.nullable(whole) or self.nullable(part), positive)

    def _test_empty(self, node: Node, positive: bool) -> Frag:
        (arg,) = node.args
        x = self.value(arg)
        if arg.type.kind == "text":
            return Frag("(COALESCE(", x, ", '') = '')")
        if arg.type.is_list:
            length = "jsonb_array_length(" if self.pg else "json_array_length("
            return Frag("(COALESCE(", length, x, "), 0) = 0)")
        return Frag("(", x, " IS NULL)")
