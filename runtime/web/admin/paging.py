"""Keyset paging for the admin lists: ``after``/``before`` a key, never an offset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.sql import P, Sql


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next: Any = None  # the key to continue after
    prev: Any = None  # the key to go back before


async def fetch_page(
    db: BaseDBAsyncClient,
    pg: bool,
    select: str,
    where: Sequence[Sql],
    key_sql: str,
    key: str,
    *,
    after: Any = None,
    before: Any = None,
    size: int = 50,
    descending: bool = False,
) -> Page:
    """One page of ``select`` (``… FROM …``) filtered by ``where``, ordered by the unique ``key``."""
    conditions = list(where)
    backward = before is not None and after is None
    if after is not None:
        conditions.append(Sql(pg, f"{key_sql} {'<' if descending else '>'} ", P(after)))
    if backward:
        conditions.append(Sql(pg, f"{key_sql} {'>' if descending else '<'} ", P(before)))
    sql = Sql(pg, select)
    if conditions:
        sql.add(" WHERE ").join(conditions, " AND ")
    ascending = descending == backward
    sql.add(f" ORDER BY {key_sql} {'ASC' if ascending else 'DESC'} LIMIT {int(size) + 1}")
    text, params = sql.render()
    rows = [dict(r) for r in await db.execute_query_dict(text, params)]
    more = len(rows) > size
    rows = rows[:size]
    if backward:
        rows.reverse()
        return Page(
            rows, next=rows[-1][key] if rows else None, prev=rows[0][key] if more and rows else None
        )
    return Page(
        rows,
        next=rows[-1][key] if more and rows else None,
        prev=rows[0][key] if after is not None and rows else None,
    )


def page_url(base: str, params: QueryParams, **changes: Any) -> str:
    """``base`` with the current filters, without the paging keys, plus ``changes``."""
    items = [
        (k, v)
        for k, v in params.multi_items()
        if k not in changes and k not in ("after", "before", "ok")
    ]
    items += [(k, str(v)) for k, v in changes.items() if v is not None and v != ""]
    return base + ("?" + urlencode(items) if items else "")


def like(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere (``%``, ``_`` and ``\\`` escaped)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"
