"""From source text to a Python ``ast`` tree, within bounds.

Nothing here raises anything but ``ExprError``: oversized input is refused
before parsing, and every failure of the Python parser (syntax, recursion,
memory, bad literals) is turned into an ``ExprError`` with an offset.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from itertools import pairwise

from .errors import ExprError

MAX_SOURCE = 2000
MAX_NODES = 300
MAX_DEPTH = 40

#: ``if(c, a, b)`` is written with a keyword; the call is renamed to this
#: (same length) so that Python's parser accepts it
IF_NAME = "ıf"

#: operators Python has and the language refuses: message, hint, symbol
REFUSED_OPERATORS = {
    ast.Pow: ("'**' (power) is not supported", "multiply instead, e.g. x * x", "**"),
    ast.FloorDiv: (
        "'//' is not supported",
        "use round(a / b), or a % b for the remainder",
        "//",
    ),
    ast.MatMult: ("'@' is not supported", None, "@"),
}
#: the bit operators, all refused
BIT_SYMBOLS = {
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.LShift: "<<",
    ast.RShift: ">>",
}
#: Python syntax the language refuses: what it is, and a hint
NOT_ALLOWED = {
    "Subscript": ("indexing", "use contains() or startswith()"),
    "Tuple": ("a tuple", "write a list as [a, b]"),
    "Set": ("a set", "write a list as [a, b]"),
    "Dict": ("a dict", None),
    "JoinedStr": ("an f-string", "join texts with +"),
    "FormattedValue": ("an f-string", "join texts with +"),
    "Lambda": ("lambda", None),
    "NamedExpr": ("':='", "use '==' to compare"),
    "ListComp": ("a comprehension", None),
    "SetComp": ("a comprehension", None),
    "DictComp": ("a comprehension", None),
    "GeneratorExp": ("a comprehension", None),
    "Starred": ("'*'", None),
    "Slice": ("slicing", "use startswith()"),
    "Await": ("await", None),
    "Yield": ("yield", None),
    "YieldFrom": ("yield", None),
}
_KEYWORDS = frozenset({"and", "or", "not", "if", "else", "in", "is", "lambda"})
_SKIP = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
_HINTS = (
    ("&&", "use 'and'"),
    ("||", "use 'or'"),
    ("<>", "use '!='"),
    ("===", "use '=='"),
)


class Parsed:
    """A parsed expression, and how to turn the parser's offsets into ours."""

    def __init__(self, tree: ast.expr, text: str, lead: int) -> None:
        self.tree = tree
        self.text = text  # what the parser saw (without leading blanks)
        self.lead = lead
        data = text.encode("utf-8")
        self._chars = [0] * (len(data) + 1)
        count = 0
        for index, byte in enumerate(data):
            if byte & 0xC0 != 0x80:  # a lead byte starts a new character
                count += 1
            self._chars[index] = count - 1
        self._chars[len(data)] = count
        self._data = data

    def char(self, col: int) -> int:
        """The character offset in the original source of parser byte column ``col``."""
        col = max(0, min(col, len(self._data)))
        return self.lead + self._chars[col]

    def at(self, node: ast.AST) -> int:
        return self.char(getattr(node, "col_offset", 0))

    def between(self, left: ast.AST, right: ast.AST, symbol: str) -> int:
        """The offset of ``symbol`` between two nodes (an operator), else of ``left``."""
        start = getattr(left, "end_col_offset", None) or 0
        end = getattr(right, "col_offset", 0)
        gap = self._data[start:end].decode("utf-8", errors="replace")
        index = gap.find(symbol)
        return self.char(start) + index if index >= 0 else self.at(left)


def parse_source(source: str) -> Parsed:
    if not isinstance(source, str):
        raise ExprError("an expression must be text", 0, expected="text")
    if len(source) > MAX_SOURCE:
        raise ExprError(
            f"the expression is too long ({len(source)} characters)",
            MAX_SOURCE,
            expected=f"at most {MAX_SOURCE} characters",
        )
    text = source.replace("\r", " ").replace("\n", " ")
    body = text.lstrip(" \t\f")
    lead = len(text) - len(body)
    if not body.strip():
        raise ExprError("the expression is empty", 0, expected="an expression")
    body = _rename_if_calls(body)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        offset = lead + max(0, (exc.offset or _end_offset(body) or 1) - 1)
        hint, where = _syntax_hint(source)
        offset = where if where is not None else min(offset, len(source))
        raise ExprError(_syntax_message(exc.msg), offset, hint=hint) from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply", 0) from None
    except Exception as exc:  # ValueError, OverflowError …: a literal the parser refused
        raise ExprError(f"cannot read the expression: {exc}", 0) from None
    parsed = Parsed(tree.body, body, lead)
    _check_size(parsed)
    return parsed


def _end_offset(body: str) -> int | None:
    """Where the parser stops when it reads ``body`` as statements (it says more there)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(body, mode="exec")
    except SyntaxError as exc:
        return exc.offset
    except Exception:  # the first attempt already failed; any answer will do
        return None
    return None


def _syntax_message(msg: str) -> str:
    return msg or "invalid syntax"


def _syntax_hint(source: str) -> tuple[str | None, int | None]:
    """A hint for a common slip, and where it is."""
    for needle, hint in _HINTS:
        if needle in source:
            return hint, source.index(needle)
    for pattern, hint in ((r"(?<![=!<>])=(?!=)", "use '==' to compare"), (r"!(?!=)", "use 'not'")):
        found = re.search(pattern, source)
        if found:
            return hint, found.start()
    return None, None


def _rename_if_calls(text: str) -> str:
    """Rename ``if(`` used as a function (not the ``a if c else b`` form) to ``ıf(``."""
    if "if" not in text:
        return text
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT)
        ]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return text  # the parser will say what is wrong
    chars = list(text)
    previous: tokenize.TokenInfo | None = None
    for token, following in pairwise(tokens):
        if (
            token.type == tokenize.NAME
            and token.string == "if"
            and following.string == "("
            and token.start[0] == 1
            and not _ends_operand(previous)
        ):
            chars[token.start[1]] = IF_NAME[0]
        previous = token
    return "".join(chars)


def _ends_operand(token: tokenize.TokenInfo | None) -> bool:
    if token is None:
        return False
    if token.type == tokenize.NAME:
        return token.string not in _KEYWORDS
    if token.type in (tokenize.NUMBER, tokenize.STRING):
        return True
    return token.type == tokenize.OP and token.string in ")]}"


def _check_size(parsed: Parsed) -> None:
    count = 0
    stack: list[tuple[ast.AST, int]] = [(parsed.tree, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExprError(
                "the expression is too long", parsed.at(node), expected=f"at most {MAX_NODES} parts"
            )
        if depth > MAX_DEPTH:
            raise ExprError(
                "the expression is nested too deeply",
                parsed.at(node),
                expected=f"at most {MAX_DEPTH} levels",
            )
        stack.extend(
            (child, depth + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, _SKIP)
        )
