"""SQL text with parameters, numbered for SQLite (``?``) or PostgreSQL (``$n``).

Storage builds its statements from parts: plain text, ``P`` parameters and
already rendered SQL of a compiled expression (``Expr.to_sql`` numbers its own
PostgreSQL parameters from ``$1``; they are shifted when embedded here). The
numbers are given only when the whole statement is rendered, so fragments can
be built in any order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = re.compile(r"\$(\d+)")


def quote(name: str) -> str:
    """A quoted SQL identifier (the same in both databases)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class P:
    """A parameter; ``cast`` is its PostgreSQL type when it must be spelled out."""

    value: Any
    cast: str | None = None


@dataclass(frozen=True)
class Embedded:
    """SQL rendered elsewhere for the same dialect, with its parameters."""

    sql: str
    params: list[Any]


class Sql:
    """A statement under construction."""

    __slots__ = ("parts", "pg")

    def __init__(self, pg: bool, *parts: str | P | Embedded | Sql) -> None:
        self.pg = pg
        self.parts: list[str | P | Embedded | Sql] = list(parts)

    def add(self, *parts: str | P | Embedded | Sql) -> Sql:
        self.parts.extend(parts)
        return self

    def join(self, items: Iterable[Sql | str], separator: str) -> Sql:
        for index, item in enumerate(items):
            if index:
                self.parts.append(separator)
            self.parts.append(item)
        return self

    def __bool__(self) -> bool:
        return bool(self.parts)

    def render(self) -> tuple[str, list[Any]]:
        out: list[str] = []
        params: list[Any] = []
        self._walk(out, params)
        return "".join(out), params

    def _walk(self, out: list[str], params: list[Any]) -> None:
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, P):
                params.append(part.value)
                if self.pg:
                    cast = f"::{part.cast}" if part.cast else ""
                    out.append(f"${len(params)}{cast}")
                else:
                    out.append("?")
            elif isinstance(part, Embedded):
                if self.pg:
                    out.append(_shift(part.sql, len(params)))
                else:
                    out.append(part.sql)
                params.extend(part.params)
            else:
                part._walk(out, params)


def _shift(sql: str, offset: int) -> str:
    """Renumber ``$n`` placeholders by ``offset`` (expression SQL has no other ``$``)."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + offset}", sql)


def placeholders(pg: bool, count: int, start: int = 1) -> str:
    """``?, ?, ?`` or ``$1, $2, $3`` for a VALUES list."""
    if pg:
        return ", ".join(f"${n}" for n in range(start, start + count))
    return ", ".join("?" * count)
