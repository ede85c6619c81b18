"""Compile the typed tree to a Python closure ``(record, ctx) -> value``.

Every node is evaluated at most once per evaluation, so the work is linear in
the size of the expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from . import values as v
from .context import Context
from .nodes import Node

Record = Mapping[str, Any]
Fn = Callable[[Record, Context], Any]


def compile_python(node: Node) -> Fn:
    fn = _compile(node)
    if node.type.kind == "bool":
        return lambda r, c: bool(fn(r, c))
    return fn


def compare(op: str, a: Any, b: Any) -> bool:
    """``==``/``!=`` are null-safe; an ordering with a null side is false."""
    if isinstance(a, datetime):
        a = v.as_utc(a)
    if isinstance(b, datetime):
        b = v.as_utc(b)
    if op == "eq":
        return a is None and b is None if a is None or b is None else bool(a == b)
    if op == "ne":
        return not compare("eq", a, b)
    if a is None or b is None:
        return False
    if op == "lt":
        return bool(a < b)
    if op == "le":
        return bool(a <= b)
    if op == "gt":
        return bool(a > b)
    return bool(a >= b)


def _compile(node: Node) -> Fn:
    op = node.op
    fns = [_compile(arg) for arg in node.args]
    if op in ("lit", "list"):
        value = list(node.value) if op == "list" else node.value
        return lambda r, c: value
    if op == "field":
        name = node.value
        if node.type.kind == "datetime":
            return lambda r, c: _moment(r.get(name))
        return lambda r, c: r.get(name)
    if op in _CONTEXT:
        return _CONTEXT[op]
    if len(fns) == 1:
        return _unary(node, fns[0])
    if op in ("add", "sub", "mul", "div", "mod"):
        a, b = fns
        return lambda r, c: v.arith(op, a(r, c), b(r, c))
    if op in ("eq", "ne", "lt", "le", "gt", "ge"):
        a, b = fns
        return lambda r, c: compare(op, a(r, c), b(r, c))
    if op in _BINARY:
        a, b = fns
        f2 = _BINARY[op](node)
        return lambda r, c: f2(a(r, c), b(r, c))
    return _special(node, fns)


def _moment(value: Any) -> Any:
    return v.as_utc(value) if isinstance(value, datetime) else value


_CONTEXT: dict[str, Fn] = {
    "user": lambda r, c: c.user_id,
    "user_org": lambda r, c: c.user_org,
    "now": lambda r, c: c.now,
    "today": lambda r, c: c.today,
}


def _unary(node: Node, x: Fn) -> Fn:
    op = node.op
    if op == "not":
        return lambda r, c: not x(r, c)
    if op == "isnull":
        return lambda r, c: x(r, c) is None
    if op == "empty":
        kind = node.args[0].type.kind
        return lambda r, c: _empty(kind, x(r, c))
    if op == "round":
        digits = node.value
        return lambda r, c: v.round_half_away(x(r, c), digits)
    f1 = _UNARY[op]
    return lambda r, c: _nullsafe(f1, x(r, c))


def _nullsafe(f: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else f(value)


def _empty(kind: str, value: Any) -> bool:
    if value is None:
        return True
    if kind == "text":
        return bool(value == "")
    if kind == "list":
        return len(value) == 0
    return False


def _quarter(value: Any) -> Any:
    day = v.day_of(value)
    return None if day is None else (day.month + 2) // 3


_UNARY: dict[str, Callable[[Any], Any]] = {
    "neg": lambda x: -x,
    "abs": abs,
    "len": len,
    "date": v.day_of,
    "year": lambda x: v.day_of(x).year,  # type: ignore[union-attr]
    "month": lambda x: v.day_of(x).month,  # type: ignore[union-attr]
    "quarter": _quarter,
}


def _contains(node: Node) -> Callable[[Any, Any], Any]:
    def contains(whole: Any, part: Any) -> bool:
        return whole is not None and part is not None and part in whole

    return contains


def _startswith(node: Node) -> Callable[[Any, Any], Any]:
    def startswith(whole: Any, part: Any) -> bool:
        return whole is not None and part is not None and bool(whole.startswith(part))

    return startswith


def _minmax(node: Node) -> Callable[[Any, Any], Any]:
    pick = min if node.op == "min" else max

    def minmax(a: Any, b: Any) -> Any:
        return None if a is None or b is None else pick(_moment(a), _moment(b))

    return minmax


def _days_between(node: Node) -> Callable[[Any, Any], Any]:
    def days_between(a: Any, b: Any) -> Any:
        first, last = v.day_of(a), v.day_of(b)
        return None if first is None or last is None else (last - first).days

    return days_between


_BINARY: dict[str, Callable[[Node], Callable[[Any, Any], Any]]] = {
    "concat": lambda n: lambda a, b: None if a is None or b is None else a + b,
    "contains": _contains,
    "startswith": _startswith,
    "coalesce": lambda n: lambda a, b: b if a is None else a,
    "min": _minmax,
    "max": _minmax,
    "days_between": _days_between,
    "add_days": lambda n: v.add_days,
}


def _special(node: Node, fns: list[Fn]) -> Fn:
    op = node.op
    if op == "and":
        return lambda r, c: all(f(r, c) for f in fns)
    if op == "or":
        return lambda r, c: any(f(r, c) for f in fns)
    if op == "if":
        cond, yes, no = fns
        return lambda r, c: yes(r, c) if cond(r, c) else no(r, c)
    if op == "in":
        x = fns[0]
        items = list(node.args[1].value)
        return lambda r, c: _is_in(x(r, c), items)
    if op == "chain":
        ops: tuple[str, ...] = node.value
        return lambda r, c: _chain(ops, fns, r, c)
    raise AssertionError(f"no Python meaning for {op}")  # pragma: no cover


def _is_in(value: Any, items: list[Any]) -> bool:
    if value is None:
        return False
    value = _moment(value)
    return any(value == item for item in items)


def _chain(ops: tuple[str, ...], fns: list[Fn], r: Record, c: Context) -> bool:
    left = fns[0](r, c)
    for op, fn in zip(ops, fns[1:], strict=True):
        right = fn(r, c)
        if not compare(op, left, right):
            return False
        left = right
    return True
