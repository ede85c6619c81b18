"""Rows in and out of one table: values coerced, encoded, decoded; child rows.

Shared by the records layer and the schema converter; every function takes
the connection to use (a transaction or the pool).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.columns import InvalidValue, coerce, decode, encode
from runtime.storage.sql import placeholders, quote
from runtime.storage.tables import Table

CHUNK = 500  # ids per IN (…) and rows per multi-row INSERT


def coerce_values(table: Table, values: Mapping[str, Any]) -> dict[str, Any]:
    """Field values in Python form; unknown names are a ``ValueError``."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in table.children:
            out[name] = coerce_rows(table.children[name], value)
            continue
        column = table.columns.get(name)
        if column is None or column.field is None:
            raise ValueError(f"{table.entity.key} has no field '{name}'")
        out[name] = coerce(column.field, column.kind, value)
    return out


def coerce_rows(child: Table, value: Any) -> list[dict[str, Any]] | None:
    """Child rows: a list of row dicts (or what the children widget parses)."""
    assert child.field is not None
    if value is None or value == [] or value == "":
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(r, Mapping) for r in value):
        parsed, problem = child.field.widget.parse(value, child.field.spec)
        if problem is not None:
            raise InvalidValue(child.field.id, problem.en)
        value = parsed or []
    rows: list[dict[str, Any]] = []
    for row in value:
        unknown = set(row) - {c.name for c in child.data_columns()}
        if unknown:
            raise ValueError(f"{child.field.id}: unknown row fields {sorted(unknown)}")
        clean: dict[str, Any] = {}
        for column in child.data_columns():
            assert column.field is not None
            clean[column.name] = coerce(column.field, column.kind, row.get(column.name))
        if any(v is not None for v in clean.values()):
            rows.append(clean)
    return rows or None


def encode_value(table: Table, name: str, value: Any, pg: bool) -> Any:
    return encode(table.columns[name].kind, value, pg)


def decode_row(table: Table, row: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: decode(table.columns[name].kind, row[name]) for name in names}


async def insert_rows(
    conn: BaseDBAsyncClient,
    pg: bool,
    table: str,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    returning: bool = False,
) -> list[int]:
    """Insert encoded rows, several per statement; the new ids when ``returning``.

    The ids come back sorted: both databases number the rows of one
    ``INSERT … VALUES`` in order, so they line up with ``rows``.
    """
    if not rows:
        return []
    columns = ", ".join(quote(n) for n in names)
    per = max(1, min(CHUNK, 30000 // max(1, len(names))))  # stay under parameter limits
    ids: list[int] = []
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        groups = []
        params: list[Any] = []
        for row in chunk:
            groups.append(f"({placeholders(pg, len(names), len(params) + 1)})")
            params.extend(row)
        sql = f"INSERT INTO {quote(table)} ({columns}) VALUES {', '.join(groups)}"
        if returning:
            result = await conn.execute_query_dict(sql + ' RETURNING "id"', params)
            ids.extend(sorted(int(r["id"]) for r in result))
        else:
            await conn.execute_query(sql, params)
    return ids


async def write_children(
    conn: BaseDBAsyncClient,
    pg: bool,
    child: Table,
    parent_rows: Sequence[tuple[int, list[dict[str, Any]] | None]],
    *,
    replace: bool = False,
) -> None:
    """Store the child rows of each parent (replacing its old rows when ``replace``)."""
    if replace:
        ids = [pid for pid, _ in parent_rows]
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            await conn.execute_query(
                f"DELETE FROM {quote(child.name)} WHERE "
                f'"parent_id" IN ({placeholders(pg, len(part))})',
                part,
            )
    names = ["parent_id", "position", *[c.name for c in child.data_columns()]]
    encoded: list[list[Any]] = []
    for parent_id, rows in parent_rows:
        for position, row in enumerate(rows or []):
            values = [encode_value(child, n, row.get(n), pg) for n in names[2:]]
            encoded.append([parent_id, position, *values])
    await insert_rows(conn, pg, child.name, names, encoded)


async def read_children(
    conn: BaseDBAsyncClient, pg: bool, child: Table, parent_ids: Sequence[int]
) -> dict[int, list[dict[str, Any]]]:
    """The rows of each parent, in order (parents without rows are absent)."""
    names = [c.name for c in child.data_columns()]
    select = ", ".join(quote(n) for n in ["parent_id", *names])
    found: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(parent_ids), CHUNK):
        part = list(parent_ids[start : start + CHUNK])
        rows = await conn.execute_query_dict(
            f"SELECT {select} FROM {quote(child.name)} "
            f'WHERE "parent_id" IN ({placeholders(pg, len(part))}) '
            'ORDER BY "parent_id", "position"',
            part,
        )
        for row in rows:
            found.setdefault(int(row["parent_id"]), []).append(decode_row(child, row, names))
    return found
