"""Records stranded in a state their workflow no longer has (an upgrade removed it).

One query serves both the console (``yidi catalog upgrade`` lists the records
in the states the new version removes) and the staff page (``/admin/stranded``
lists records whose state is not a state of the current workflow, limited to
the viewer's part of the org tree).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.sql import P, Sql, quote
from runtime.storage.tables import Table


def _where(
    pg: bool, table: Table, states: Iterable[str], *, removed: bool, scope: Sql | None
) -> Sql:
    """``state IN (states)`` when ``removed`` (the states an upgrade removes), else
    ``state NOT IN (states)`` (the states the workflow has now)."""
    marks = [P(s) for s in sorted(set(states))]
    sql = Sql(pg, '"state" IS NOT NULL')
    if marks:
        sql.add(' AND "state" ', "IN (" if removed else "NOT IN (")
        sql.join([Sql(pg, m) for m in marks], ", ").add(")")
    elif removed:
        sql.add(" AND 1 = 0")
    if scope is not None:
        sql.add(" AND ", scope)
    return sql


async def stranded_rows(
    conn: BaseDBAsyncClient,
    pg: bool,
    table: Table,
    states: Iterable[str],
    *,
    removed: bool,
    scope: Sql | None = None,
    title: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """``id``, ``state``, ``org`` (and ``title``) of the stranded records, oldest first."""
    cols = '"id", "state", "org"'
    if title and title in table.columns:
        cols += f", {quote(title)} AS title"
    sql = Sql(pg, f"SELECT {cols} FROM {quote(table.name)} WHERE ")
    sql.add(_where(pg, table, states, removed=removed, scope=scope), ' ORDER BY "id"')
    if limit is not None:
        sql.add(f" LIMIT {int(limit)}")
    rows: list[dict[str, Any]] = await conn.execute_query_dict(*sql.render())
    return rows


async def stranded_counts(
    conn: BaseDBAsyncClient,
    pg: bool,
    table: Table,
    states: Iterable[str],
    *,
    removed: bool,
    scope: Sql | None = None,
) -> dict[str, int]:
    """How many stranded records per state."""
    sql = Sql(pg, f'SELECT "state", COUNT(*) AS n FROM {quote(table.name)} WHERE ')
    sql.add(_where(pg, table, states, removed=removed, scope=scope), ' GROUP BY "state"')
    rows = await conn.execute_query_dict(*sql.render())
    return {str(r["state"]): int(r["n"]) for r in rows}
