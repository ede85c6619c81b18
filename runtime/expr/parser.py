"""From a Python ``ast`` tree to the typed tree (``nodes.Node``), checking types.

Only a whitelist of node types is accepted; everything else (attributes other
than ``user.id``/``user.org``, subscripts, lambdas, comprehensions, ``**`` …)
is an ``ExprError`` with the offset of the offending part and a hint.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping

from .errors import ExprError
from .functions import FUNCTIONS, check_call, coerce, need
from .nodes import Node
from .syntax import BIT_SYMBOLS, IF_NAME, NOT_ALLOWED, REFUSED_OPERATORS, Parsed, parse_source
from .types import (
    BOOL,
    DATE,
    DATETIME,
    NULL,
    NUMBER,
    OPAQUE,
    ORDERED,
    ORG,
    TEXT,
    USER,
    Type,
    describe,
    list_of,
    unify,
)

MAX_NUMBER = 1e15
MAX_LIST = 200

BUILTINS: dict[str, Type] = {"user": USER, "now": DATETIME, "today": DATE}
CONSTANTS: dict[str, bool | None] = {"true": True, "false": False, "null": None}

_ARITHMETIC = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Mod: "mod"}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%"}
_COMPARE = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
_CMP_SYMBOLS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "notin": "not",
}


#: the whitelist: the only Python syntax the builder accepts, and its method
_ACCEPTED: dict[type[ast.AST], str] = {
    ast.Constant: "_Constant",
    ast.Name: "_Name",
    ast.Attribute: "_Attribute",
    ast.List: "_List",
    ast.BoolOp: "_BoolOp",
    ast.UnaryOp: "_UnaryOp",
    ast.BinOp: "_BinOp",
    ast.Compare: "_Compare",
    ast.IfExp: "_IfExp",
    ast.Call: "_Call",
}


def parse(source: str, names: Mapping[str, Type]) -> tuple[Node, frozenset[str]]:
    """The typed tree of ``source`` and the record names it reads."""
    parsed = parse_source(source)
    builder = _Builder(parsed, names)
    return builder.build(parsed.tree), frozenset(builder.used)


class _Builder:
    def __init__(self, parsed: Parsed, names: Mapping[str, Type]) -> None:
        self.p = parsed
        self.names = names
        self.used: set[str] = set()

    def build(self, node: ast.AST) -> Node:
        name = _ACCEPTED.get(type(node))
        method = None if name is None else getattr(self, name)
        if method is None:
            what, hint = NOT_ALLOWED.get(type(node).__name__, (type(node).__name__, None))
            raise ExprError(f"{what} is not allowed in an expression", self.p.at(node), hint=hint)
        result: Node = method(node)
        return result

    # leaves ---------------------------------------------------------------

    def _Constant(self, node: ast.Constant) -> Node:
        at, value = self.p.at(node), node.value
        if value is None:
            return Node("lit", NULL, offset=at, nullable=True)
        if isinstance(value, bool):
            return Node("lit", BOOL, value=value, offset=at, nullable=False)
        if isinstance(value, int | float):
            return self._number(value, at)
        if isinstance(value, str):
            return Node("lit", TEXT, value=value, offset=at, nullable=False)
        raise ExprError(
            f"{type(value).__name__} literals are not supported",
            at,
            expected="a number, text, true, false or null",
        )

    def _number(self, value: int | float, at: int) -> Node:
        if not abs(value) <= MAX_NUMBER:  # also refuses inf and nan
            raise ExprError(
                "the number is too large", at, expected="a number between -1e15 and 1e15"
            )
        return Node("lit", NUMBER, value=value, offset=at, nullable=False)

    def _Name(self, node: ast.Name) -> Node:
        name, at = node.id, self.p.at(node)
        if name in CONSTANTS:
            value = CONSTANTS[name]
            if value is None:
                return Node("lit", NULL, offset=at, nullable=True)
            return Node("lit", BOOL, value=value, offset=at, nullable=False)
        if name in BUILTINS:
            return Node(name, BUILTINS[name], offset=at, nullable=name == "user")
        if name in self.names:
            self.used.add(name)
            return Node("field", self.names[name], value=name, offset=at)
        if name in FUNCTIONS or name == IF_NAME:
            name = "if" if name == IF_NAME else name
            raise ExprError(f"{name} is a function", at, hint=f"call it, e.g. {name}(x)")
        known = [*self.names, *BUILTINS, *CONSTANTS]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else None
        raise ExprError(f"unknown name '{name}'", at, hint=hint, expected="a field name")

    def _Attribute(self, node: ast.Attribute) -> Node:
        at = self.p.at(node)
        base = node.value
        if not (isinstance(base, ast.Name) and base.id == "user"):
            raise ExprError(
                "attributes are not allowed", at, hint="only user.id and user.org may be used"
            )
        if node.attr == "id":
            return Node("user", USER, offset=at, nullable=True)
        if node.attr == "org":
            return Node("user_org", ORG, offset=at, nullable=True)
        raise ExprError(f"user has no '{node.attr}'", at, expected="user.id or user.org")

    def _List(self, node: ast.List) -> Node:
        at = self.p.at(node)
        if len(node.elts) > MAX_LIST:
            raise ExprError("the list is too long", at, expected=f"at most {MAX_LIST} items")
        items = [self.build(e) for e in node.elts]
        item_type: Type | None = None
        for item in items:
            if item.op != "lit" or item.type == NULL:
                raise ExprError(
                    "list items must be written out (numbers or texts)",
                    item.offset,
                    expected="a number or a text",
                )
            common = item.type if item_type is None else unify(item_type, item.type)
            if common is None:
                raise ExprError(
                    "all items of a list must have the same type",
                    item.offset,
                    expected=describe(item_type or item.type),
                )
            item_type = common
        return Node(
            "list",
            list_of(item_type or Type("any")),
            tuple(items),
            value=tuple(i.value for i in items),
            offset=at,
            nullable=False,
        )

    # operators ------------------------------------------------------------

    def _BoolOp(self, node: ast.BoolOp) -> Node:
        op = "and" if isinstance(node.op, ast.And) else "or"
        args = tuple(self.build(v) for v in node.values)
        for arg in args:
            self._condition(arg, f"both sides of '{op}'")
        return Node(op, BOOL, args, offset=self.p.at(node), nullable=False)

    def _condition(self, arg: Node, what: str) -> None:
        if arg.type.kind != "bool":
            hint = None
            if arg.type.kind in ("number", "text"):
                zero = "0" if arg.type.kind == "number" else "''"
                hint = f"compare it, e.g. x != {zero}"
            raise ExprError(
                f"{what} must be a condition (true/false), not {describe(arg.type)}",
                arg.offset,
                hint=hint,
                expected="a condition",
            )

    def _UnaryOp(self, node: ast.UnaryOp) -> Node:
        at = self.p.at(node)
        if isinstance(node.op, ast.Invert):
            raise ExprError("'~' is not supported", at, hint="use 'not' for conditions")
        x = self.build(node.operand)
        if isinstance(node.op, ast.Not):
            self._condition(x, "the operand of 'not'")
            return Node("not", BOOL, (x,), offset=at, nullable=False)
        need(x, ("number",), "a number", "the operand of unary '-'/'+'")
        if isinstance(node.op, ast.UAdd):
            return x
        if x.op == "lit":
            return self._number(-x.value, at)
        return Node("neg", NUMBER, (x,), offset=at, nullable=x.nullable)

    def _BinOp(self, node: ast.BinOp) -> Node:
        refused = REFUSED_OPERATORS.get(type(node.op))
        if refused is not None:
            message, hint, symbol = refused
            at = self.p.between(node.left, node.right, symbol)
            raise ExprError(message, at, hint=hint)
        op = _ARITHMETIC.get(type(node.op))
        if op is None:
            symbol = BIT_SYMBOLS.get(type(node.op), "")
            raise ExprError(
                f"'{symbol}' is not supported (no bit operators)",
                self.p.between(node.left, node.right, symbol),
                hint="use and / or / not for conditions",
            )
        at = self.p.between(node.left, node.right, _SYMBOLS[op])
        a, b = self.build(node.left), self.build(node.right)
        for arg in (a, b):
            if arg.type == NULL:
                raise ExprError(
                    f"'{_SYMBOLS[op]}' with null is always null",
                    arg.offset,
                    hint="use coalesce(x, 0)",
                )
        if op == "add" and a.type == TEXT and b.type == TEXT:
            return Node("concat", TEXT, (a, b), offset=at, nullable=a.nullable or b.nullable)
        if op == "add" and TEXT in (a.type, b.type):
            raise ExprError(
                f"cannot add {describe(a.type)} and {describe(b.type)}",
                at,
                hint="'+' joins two texts or adds two numbers",
            )
        need(a, ("number",), "a number", f"the left side of '{_SYMBOLS[op]}'")
        need(b, ("number",), "a number", f"the right side of '{_SYMBOLS[op]}'")
        nullable = a.nullable or b.nullable or op in ("div", "mod")
        return Node(op, NUMBER, (a, b), offset=at, nullable=nullable)

    def _Compare(self, node: ast.Compare) -> Node:
        operands = [self.build(node.left), *(self.build(c) for c in node.comparators)]
        lefts = [node.left, *node.comparators]
        pairs: list[Node] = []
        for index, op_node in enumerate(node.ops):
            op = _COMPARE.get(type(op_node))
            symbol = _CMP_SYMBOLS.get(op or "", "")
            if isinstance(op_node, ast.In | ast.NotIn):
                symbol = "in" if isinstance(op_node, ast.In) else "not"
            at = self.p.between(lefts[index], lefts[index + 1], symbol or "is")
            a, b = operands[index], operands[index + 1]
            if isinstance(op_node, ast.Is | ast.IsNot):
                hint = "use '==' or '!='" if isinstance(op_node, ast.Is) else "use '!='"
                raise ExprError("'is' is not supported", at, hint=hint)
            if isinstance(op_node, ast.In | ast.NotIn):
                pair = self._in(a, b, at)
                if isinstance(op_node, ast.NotIn):
                    pair = Node("not", BOOL, (pair,), offset=at, nullable=False)
            else:
                assert op is not None
                a, b = coerce(a, b.type), coerce(b, a.type)
                operands[index], operands[index + 1] = a, b
                pair = self._compare(op, a, b, at)
            pairs.append(pair)
        if len(pairs) == 1:
            return pairs[0]
        if any(p.op not in _COMPARE.values() for p in pairs):
            raise ExprError(
                "a chain of comparisons may only use == != < <= > >=",
                self.p.at(node),
                hint="join the parts with 'and'",
            )
        return Node(
            "chain",
            BOOL,
            tuple(operands),
            value=tuple(p.op for p in pairs),
            offset=self.p.at(node),
            nullable=False,
        )

    def _compare(self, op: str, a: Node, b: Node, at: int) -> Node:
        symbol = _CMP_SYMBOLS[op]
        if op in ("eq", "ne") and NULL in (a.type, b.type):
            other = b if a.type == NULL else a
            test = Node("isnull", BOOL, (other,), offset=at, nullable=False)
            return test if op == "eq" else Node("not", BOOL, (test,), offset=at, nullable=False)
        if op not in ("eq", "ne") and NULL in (a.type, b.type):
            raise ExprError(
                f"'{symbol}' with null is always false", at, hint="use empty(x) or x == null"
            )
        for arg in (a, b):
            if arg.type.kind in OPAQUE:
                raise ExprError(
                    f"{describe(arg.type)} can only be compared with null",
                    arg.offset,
                    hint="use empty(x) or x == null",
                )
            if arg.type.is_list:
                raise ExprError(
                    "lists cannot be compared",
                    arg.offset,
                    hint="use contains(list, x) or empty(list)",
                )
        if op not in ("eq", "ne"):
            for arg in (a, b):
                if arg.type.kind not in ORDERED:
                    raise ExprError(
                        f"'{symbol}' cannot compare {describe(arg.type)}",
                        arg.offset,
                        expected="a number, text, date or datetime",
                        hint="use == or !=",
                    )
        if unify(a.type, b.type) is None:
            hint = None
            if {a.type, b.type} == {DATE, DATETIME}:
                hint = "use date(x) to compare a datetime with a date"
            raise ExprError(
                f"cannot compare {describe(a.type)} with {describe(b.type)}",
                at,
                hint=hint,
                expected=describe(a.type),
            )
        return Node(op, BOOL, (a, b), offset=at, nullable=False)

    def _in(self, x: Node, container: Node, at: int) -> Node:
        if container.op != "list":
            if not container.type.is_list:
                raise ExprError(
                    "the right side of 'in' must be a list",
                    container.offset,
                    expected="a list like ['a', 'b'] or a list field",
                )
            return check_call("contains", (container, x), at)
        if x.type == NULL or x.type.kind in OPAQUE or x.type.is_list:
            raise ExprError(
                f"'in' cannot look for {describe(x.type)}",
                x.offset,
                expected="a number, text, date or id",
            )
        items = tuple(coerce(item, x.type) for item in container.args)
        for item in items:
            if unify(x.type, item.type) is None:
                raise ExprError(
                    f"cannot look for {describe(x.type)} among {describe(item.type)} items",
                    item.offset,
                    expected=describe(x.type),
                )
        item_type = items[0].type if items else x.type
        listed = Node(
            "list",
            list_of(item_type),
            items,
            value=tuple(i.value for i in items),
            offset=container.offset,
            nullable=False,
        )
        return Node("in", BOOL, (x, listed), offset=at, nullable=False)

    def _IfExp(self, node: ast.IfExp) -> Node:
        args = (self.build(node.test), self.build(node.body), self.build(node.orelse))
        return check_call("if", args, self.p.at(node))

    def _Call(self, node: ast.Call) -> Node:
        at = self.p.at(node)
        if not isinstance(node.func, ast.Name):
            raise ExprError(
                "only the built-in functions can be called",
                at,
                hint="functions: " + ", ".join(FUNCTIONS),
            )
        if node.keywords:
            raise ExprError("keyword arguments are not supported", self.p.at(node.keywords[0]))
        name = "if" if node.func.id == IF_NAME else node.func.id
        args = [self.build(arg) for arg in node.args]
        return check_call(name, args, at)
