"""The shared base of the records API: entity lookup, row decoding, one-row reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.model import Entity
from runtime.storage.columns import expr_value
from runtime.storage.result import Record
from runtime.storage.rowio import decode_row, read_children
from runtime.storage.sql import quote
from runtime.storage.tables import Table

if TYPE_CHECKING:
    from runtime.storage.db import Store


class RecordsBase:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def pg(self) -> bool:
        return self.store.pg

    def _resolve(self, entity: Entity | str) -> tuple[Entity, Table]:
        if not self.store.ready:
            # an unsynced table may lack columns, and SQLite reads an unknown
            # "name" as a string literal: never query before the schema sync
            raise RuntimeError("the store is not started: call `await store.start()` first")
        found = self.store.entity(entity)
        return found, self.store.table(found)

    def _names(self, table: Table) -> list[str]:
        return list(table.columns)

    def _record(self, table: Table, raw: Mapping[str, Any]) -> Record:
        return Record(table.entity.key, decode_row(table, raw, self._names(table)))

    def for_expr(self, entity: Entity | str, record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as the expression language reads it (money as ``cents / 100.0``),
        so that ``Expr.evaluate`` agrees with the SQL of ``Expr.to_sql``."""
        _, table = self._resolve(entity)
        out = dict(record)
        for name, column in table.columns.items():
            if name in out:
                out[name] = expr_value(column.kind, out[name])
        return out

    async def _fetch(
        self, conn: BaseDBAsyncClient, table: Table, record_id: int, children: bool = True
    ) -> Record | None:
        names = ", ".join(quote(n) for n in self._names(table))
        mark = "$1" if self.pg else "?"
        rows = await conn.execute_query_dict(
            f'SELECT {names} FROM {quote(table.name)} WHERE "id" = {mark}', [int(record_id)]
        )
        if not rows:
            return None
        record = self._record(table, rows[0])
        if children:
            for fid, child in table.children.items():
                found = await read_children(conn, self.pg, child, [record.id])
                record[fid] = found.get(record.id)
        return record
