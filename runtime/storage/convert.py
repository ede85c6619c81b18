"""A column whose kind changed: keep the old one, add the new one, convert values.

Each stored value is read in the old kind's Python form and run through the
new field's widget ``parse``; what it refuses stays only in the old column
(``<col>__old<N>``) and is counted.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations.schema_editor.base import BaseSchemaEditor

from runtime.storage.columns import InvalidValue, coerce, decode, encode
from runtime.storage.introspect import read_catalog
from runtime.storage.rowio import coerce_rows, write_children
from runtime.storage.sql import quote
from runtime.storage.tables import Column, Table

if TYPE_CHECKING:
    from runtime.storage.db import Store

BATCH = 500


async def record_state(
    conn: BaseDBAsyncClient, pg: bool, table: str, column: str, kind: str
) -> None:
    marks = "$1, $2, $3" if pg else "?, ?, ?"
    await conn.execute_query(
        'INSERT INTO "yidi_column_state" ("table", "column", "signature") '
        f"VALUES ({marks}) "
        'ON CONFLICT ("table", "column") DO UPDATE SET "signature" = excluded."signature"',
        [table, column, kind],
    )


def _raw(value: Any) -> Any:
    """An old value as a widget reads raw input (dates and datetimes as ISO text)."""
    if isinstance(value, date):
        return value.isoformat()
    return value


def convert_value(column: Column, value: Any) -> Any:
    """An old value (in the form a widget reads) as ``column`` stores it; ``InvalidValue``
    (or ``ValueError``…) when the column's field refuses it."""
    spec = column.field
    assert spec is not None
    parsed, problem = spec.widget.parse(value, spec.spec)
    if problem is not None:
        raise InvalidValue(column.name, problem.en)
    return coerce(spec, column.kind, parsed)


def old_value(old_kind: str, raw: Any) -> Any:
    """A stored value of a column of ``old_kind`` as a widget reads raw input."""
    return _raw(decode(old_kind, raw)) if old_kind != "unknown" else raw


async def change_column(
    store: Store,
    conn: BaseDBAsyncClient,
    ddl: BaseSchemaEditor,
    table: Table,
    column: str,
    old_kind: str,
) -> str:
    pg = store.pg
    child = table.children.get(column)
    if child is None and table.columns[column].field is None:
        raise RuntimeError(
            f"system column {table.name}.{column} has an unexpected type; it must be fixed by hand"
        )
    present = (await read_catalog(conn, store.dialect)).columns(table.name)
    for index in table.indexes:
        if column in index.columns:
            await conn.execute_query(f"DROP INDEX IF EXISTS {quote(index.name)}")
    old_name: str | None = None
    if column in present:
        number = 1
        while f"{column}__old{number}" in present:
            number += 1
        old_name = f"{column}__old{number}"
        await conn.execute_query(
            f"ALTER TABLE {quote(table.name)} RENAME COLUMN {quote(column)} TO {quote(old_name)}"
        )
        await record_state(conn, pg, table.name, old_name, old_kind)
    if child is None:
        assert table.model is not None
        await ddl.add_field(table.model, column)
        new_kind = table.columns[column].kind
    else:
        new_kind = "children"
    await record_state(conn, pg, table.name, column, new_kind)
    if old_name is None:
        return "the new column starts empty; the old child rows are kept"
    converted = failed = 0
    last = 0
    source = quote(old_name)
    mark = "$1" if pg else "?"
    while True:
        rows = await conn.execute_query_dict(
            f'SELECT "id", {source} AS "old" FROM {quote(table.name)} '
            f'WHERE {source} IS NOT NULL AND "id" > {mark} ORDER BY "id" LIMIT {BATCH}',
            [last],
        )
        if not rows:
            break
        updates: list[list[Any]] = []
        children: list[tuple[int, list[dict[str, Any]] | None]] = []
        for row in rows:
            last = int(row["id"])
            try:
                value = old_value(old_kind, row["old"])
                if child is not None:
                    children.append((last, coerce_rows(child, value)))
                else:
                    new = convert_value(table.columns[column], value)
                    updates.append([encode(new_kind, new, pg), last])
            except (InvalidValue, ValueError, TypeError, ArithmeticError):
                failed += 1
                continue
            converted += 1
        if updates:
            sql = (
                f'UPDATE {quote(table.name)} SET {quote(column)} = $1 WHERE "id" = $2'
                if pg
                else f'UPDATE {quote(table.name)} SET {quote(column)} = ? WHERE "id" = ?'
            )
            await conn.execute_many(sql, updates)
        if children and child is not None:
            await write_children(conn, pg, child, children, replace=True)
    return (
        f"{converted} value(s) converted, {failed} could not be converted "
        f"(all old values stay in {table.name}.{old_name})"
    )
