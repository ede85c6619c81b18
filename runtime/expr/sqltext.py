"""SQL text under construction: fragments, parameters, and rendering per dialect.

A ``Frag`` is a tree of strings, parameters and other fragments; it becomes
text only at the end, when the placeholders are numbered (``?`` for SQLite,
``$1`` … for PostgreSQL, where a parameter used twice keeps its number).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

from .values import as_utc, sqlite_value

#: a fragment at most this big may be repeated; a bigger one is computed once
#: in a scalar sub-select, so the SQL grows linearly with the expression
INLINE = 12


class Param:
    """One parameter; ``cast`` is its PostgreSQL type."""

    __slots__ = ("cast", "value")

    def __init__(self, value: Any, cast: str) -> None:
        self.value = value
        self.cast = cast


class Frag:
    __slots__ = ("parts", "simple", "size")

    def __init__(self, *parts: str | Param | Frag, simple: bool = False) -> None:
        self.parts = parts
        self.simple = simple
        size = 0
        for part in parts:
            size += part.size if isinstance(part, Frag) else 1
        self.size: int = size

    @property
    def param(self) -> Param | None:
        """The parameter this fragment consists of, if it is just one."""
        if len(self.parts) == 1 and isinstance(self.parts[0], Param):
            return self.parts[0]
        return None


def join(parts: Iterable[Frag], separator: str) -> Frag:
    items: list[str | Param | Frag] = []
    for index, part in enumerate(parts):
        if index:
            items.append(separator)
        items.append(part)
    return Frag("(", *items, ")")


class Binder:
    """Gives a fragment a name when it must be used several times."""

    def __init__(self) -> None:
        self.count = 0

    def bind(self, frag: Frag, body: Callable[[Frag], Frag]) -> Frag:
        if frag.simple or frag.size <= INLINE:
            return body(frag)
        self.count += 1
        name = f"_yv{self.count}"
        inner = body(Frag(name, simple=True))
        return Frag("(SELECT ", inner, " FROM (SELECT ", frag, f" AS {name}) AS _ys{self.count})")


def pg_cast(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, float):
        return "double precision"
    if isinstance(value, datetime):
        return "timestamptz"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list | tuple):
        return "jsonb"
    return "text"


def render(frag: Frag, postgres: bool) -> tuple[str, list[Any]]:
    out: list[str] = []
    params: list[Any] = []
    numbers: dict[int, int] = {}

    def walk(part: str | Param | Frag) -> None:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Param):
            if not postgres:
                out.append("?")
                params.append(_sqlite(part.value))
                return
            number = numbers.get(id(part))
            if number is None:
                params.append(_postgres(part.value))
                number = numbers[id(part)] = len(params)
            out.append(f"${number}::{part.cast}")
        else:
            for child in part.parts:
                walk(child)

    walk(frag)
    return "".join(out), params


def _sqlite(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return sqlite_value(value)


def _postgres(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    if isinstance(value, datetime):
        return as_utc(value)
    return value
