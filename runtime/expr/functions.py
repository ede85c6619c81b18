"""The built-in functions: their signatures and result types.

``check_call`` turns a call with typed arguments into a typed node or raises
``ExprError`` pointing at the offending argument. The two compilers give the
functions their meaning (``python.py``, ``sql.py``).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from .errors import ExprError
from .nodes import Node
from .types import (
    BOOL,
    DATE,
    DATETIME,
    IDS,
    LIST_ITEMS,
    NUMBER,
    OPAQUE,
    ORDERED,
    TEXT,
    Type,
    describe,
    unify,
)

MAX_ROUND_DIGITS = 15

Checker = Callable[[Sequence[Node], int], Node]


def need(arg: Node, kinds: Sequence[str], expected: str, what: str) -> None:
    """Raise unless ``arg`` has one of ``kinds``."""
    if arg.type.kind in kinds:
        return
    if arg.type.kind == "null":
        raise ExprError(f"{what} cannot be null", arg.offset, expected=expected)
    hint = None
    if arg.type == DATETIME and "date" in kinds:
        hint = "use date(x) to take the date of a datetime"
    elif arg.type == DATE and "datetime" in kinds:
        hint = "this needs a datetime, not a date"
    elif arg.type.kind == "any":
        raise ExprError(f"the type of {what} is unknown here", arg.offset, expected=expected)
    raise ExprError(
        f"{what} must be {expected}, not {describe(arg.type)}",
        arg.offset,
        hint=hint,
        expected=expected,
    )


def coerce(arg: Node, target: Type) -> Node:
    """A literal written for a date, datetime or id becomes one.

    ``'2026-12-31'`` compared with a date is a date; ``3`` or ``'u3'`` compared
    with a user, org or ref is an id.
    """
    if arg.op != "lit":
        return arg
    if target.kind in IDS and arg.type in (NUMBER, TEXT):
        if isinstance(arg.value, int | str):
            return Node("lit", target, value=arg.value, offset=arg.offset, nullable=False)
        raise ExprError("an id must be a whole number or a text", arg.offset, expected="an id")
    if arg.type != TEXT or target not in (DATE, DATETIME):
        return arg
    text = str(arg.value)
    try:
        if target == DATE:
            if len(text) != 10:
                raise ValueError(text)
            return Node(
                "lit", DATE, value=date.fromisoformat(text), offset=arg.offset, nullable=False
            )
        moment = datetime.fromisoformat(text)
    except ValueError:
        form = "'YYYY-MM-DD'" if target == DATE else "'YYYY-MM-DDTHH:MM:SS+08:00'"
        raise ExprError(
            f"{text!r} is not a {target}", arg.offset, expected=f"a {target} like {form}"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return Node("lit", DATETIME, value=moment, offset=arg.offset, nullable=False)


def _same(a: Node, b: Node, what: str) -> Type:
    a, b = coerce(a, b.type), coerce(b, a.type)
    common = unify(a.type, b.type)
    if common is None:
        hint = (
            "use date(x) to compare a datetime with a date"
            if {a.type, b.type} == {DATE, DATETIME}
            else None
        )
        raise ExprError(
            f"{what}: {describe(a.type)} and {describe(b.type)} do not go together",
            b.offset,
            hint=hint,
            expected=describe(a.type),
        )
    return common


def _len(args: Sequence[Node], at: int) -> Node:
    (x,) = args
    if not (x.type.is_list or x.type == TEXT):
        need(x, ("text",), "text or a list", "the argument of len()")
    return Node("len", NUMBER, (x,), offset=at, nullable=x.nullable)


def _contains(args: Sequence[Node], at: int) -> Node:
    whole, part = args
    if whole.type.is_list and whole.type.item is not None:
        item = whole.type.item
        if item.kind not in LIST_ITEMS:
            raise ExprError(f"lists of {item} are not supported", whole.offset)
        if part.type.kind == "null":
            raise ExprError("cannot look for null in a list", part.offset, hint="use empty()")
        if unify(item, part.type) is None:
            need(part, (item.kind,), describe(item), "what to look for")
        return Node("contains", BOOL, (whole, part), offset=at, nullable=False)
    need(whole, ("text",), "text or a list", "the first argument of contains()")
    need(part, ("text",), "text", "the second argument of contains()")
    return Node("contains", BOOL, (whole, part), offset=at, nullable=False)


def _startswith(args: Sequence[Node], at: int) -> Node:
    for arg, which in zip(args, ("first", "second"), strict=True):
        need(arg, ("text",), "text", f"the {which} argument of startswith()")
    return Node("startswith", BOOL, tuple(args), offset=at, nullable=False)


def _empty(args: Sequence[Node], at: int) -> Node:
    return Node("empty", BOOL, tuple(args), offset=at, nullable=False)


def _coalesce(args: Sequence[Node], at: int) -> Node:
    a, b = args
    a, b = coerce(a, b.type), coerce(b, a.type)
    common = _same(a, b, "coalesce()")
    return Node("coalesce", common, (a, b), offset=at, nullable=a.nullable and b.nullable)


def _if(args: Sequence[Node], at: int) -> Node:
    cond, a, b = args
    need(cond, ("bool",), "a condition (true/false)", "the condition of if()")
    a, b = coerce(a, b.type), coerce(b, a.type)
    common = _same(a, b, "the two results of if()")
    return Node("if", common, (cond, a, b), offset=at, nullable=a.nullable or b.nullable)


def _moment_literal(arg: Node) -> Node:
    """A text literal where a date or datetime is wanted: a date if it is one, else a datetime."""
    if arg.op == "lit" and arg.type == TEXT:
        return coerce(arg, DATE if len(str(arg.value)) == 10 else DATETIME)
    return arg


def _days_between(args: Sequence[Node], at: int) -> Node:
    args = [_moment_literal(arg) for arg in args]
    for arg in args:
        need(arg, ("date", "datetime"), "a date or datetime", "an argument of days_between()")
    return Node(
        "days_between", NUMBER, tuple(args), offset=at, nullable=any(a.nullable for a in args)
    )


def _add_days(args: Sequence[Node], at: int) -> Node:
    day, count = coerce(args[0], DATE), args[1]
    need(day, ("date",), "a date", "the first argument of add_days()")
    need(count, ("number",), "a number", "the second argument of add_days()")
    return Node("add_days", DATE, (day, count), offset=at)


def _part(name: str) -> Checker:
    def check(args: Sequence[Node], at: int) -> Node:
        x = _moment_literal(args[0])
        need(x, ("date", "datetime"), "a date or datetime", f"the argument of {name}()")
        return Node(name, NUMBER, (x,), offset=at, nullable=x.nullable)

    return check


def _date(args: Sequence[Node], at: int) -> Node:
    (x,) = args
    if x.op == "lit" and x.type == TEXT:
        return coerce(x, DATE)
    need(x, ("datetime", "date"), "a datetime", "the argument of date()")
    if x.type == DATE:
        return x
    return Node("date", DATE, (x,), offset=at, nullable=x.nullable)


def _minmax(name: str) -> Checker:
    def check(args: Sequence[Node], at: int) -> Node:
        a, b = args
        a, b = coerce(a, b.type), coerce(b, a.type)
        for arg in (a, b):
            need(arg, tuple(ORDERED), "a number, text, date or datetime", f"{name}()")
        common = _same(a, b, f"{name}()")
        return Node(name, common, (a, b), offset=at, nullable=a.nullable or b.nullable)

    return check


def _abs(args: Sequence[Node], at: int) -> Node:
    (x,) = args
    need(x, ("number",), "a number", "the argument of abs()")
    return Node("abs", NUMBER, (x,), offset=at, nullable=x.nullable)


def _round(args: Sequence[Node], at: int) -> Node:
    x = args[0]
    need(x, ("number",), "a number", "the first argument of round()")
    digits = 0
    if len(args) == 2:
        d = args[1]
        if d.op != "lit" or not isinstance(d.value, int) or isinstance(d.value, bool):
            raise ExprError(
                "the digits of round() must be a whole number written out",
                d.offset,
                expected="a whole number like 2",
            )
        digits = d.value
        if abs(digits) > MAX_ROUND_DIGITS:
            raise ExprError(
                "round() keeps at most 15 digits",
                d.offset,
                expected=f"a whole number from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}",
            )
    return Node("round", NUMBER, (x,), value=digits, offset=at, nullable=x.nullable)


#: name → (fewest arguments, most arguments, checker)
FUNCTIONS: dict[str, tuple[int, int, Checker]] = {
    "len": (1, 1, _len),
    "contains": (2, 2, _contains),
    "startswith": (2, 2, _startswith),
    "empty": (1, 1, _empty),
    "coalesce": (2, 2, _coalesce),
    "days_between": (2, 2, _days_between),
    "add_days": (2, 2, _add_days),
    "year": (1, 1, _part("year")),
    "month": (1, 1, _part("month")),
    "quarter": (1, 1, _part("quarter")),
    "date": (1, 1, _date),
    "min": (2, 2, _minmax("min")),
    "max": (2, 2, _minmax("max")),
    "abs": (1, 1, _abs),
    "round": (1, 2, _round),
    "if": (3, 3, _if),
}


def check_call(name: str, args: Sequence[Node], at: int) -> Node:
    """The typed node of ``name(*args)``; ``at`` is the offset of the call."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        close = difflib.get_close_matches(name, list(FUNCTIONS), n=1)
        hint = f"did you mean {close[0]}()?" if close else "functions: " + ", ".join(FUNCTIONS)
        raise ExprError(f"unknown function {name}()", at, hint=hint)
    low, high, checker = spec
    if not low <= len(args) <= high:
        count = str(low) if low == high else f"{low} or {high}"
        plural = "" if count == "1" else "s"
        raise ExprError(f"{name}() takes {count} argument{plural}, got {len(args)}", at)
    for arg in args:
        if arg.type.kind in OPAQUE and name not in ("empty", "coalesce", "if"):
            raise ExprError(f"{describe(arg.type)} only supports empty() and == null", arg.offset)
    return checker(args, at)
