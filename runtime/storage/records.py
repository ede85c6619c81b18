"""Records: the only way the web layer reads and writes entity tables.

Writes (``writes.Writes``): ``create``, ``update`` with optimistic locking
(``UPDATE … WHERE id = ? AND row_version = ?``; a stale version raises
``Conflict`` with what is stored now), ``delete``, ``bulk_create``; each in
one transaction with its audit ``Change`` row. Reads (here): ``get``, ``list``
(one keyset-paged SELECT, no OFFSET), bounded ``count``, ``stream`` in
batches, ``labels`` (one query per kind), ``history``; and attachments.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.expr import Context
from runtime.model import Entity, text
from runtime.storage import files
from runtime.storage.platform import Attachment, Change
from runtime.storage.query import (
    MAX_LIMIT,
    ListQuery,
    make_cursor,
    read_cursor,
    select_sql,
    sort_order,
    where_sql,
)
from runtime.storage.result import Conflict, Labels, NotFound, Page, Record
from runtime.storage.rowio import CHUNK, read_children
from runtime.storage.sql import Sql, placeholders, quote
from runtime.storage.tables import RECEIPT
from runtime.storage.writes import Writes, receipt_code

__all__ = ["Conflict", "ListQuery", "NotFound", "Page", "Record", "Records", "receipt_code"]

Rows = list[Record]
Changes = list[Change]


class Records(Writes):
    async def get(self, entity: Entity | str, record_id: int) -> Record | None:
        _, table = self._resolve(entity)
        return await self._fetch(self.store.db(), table, record_id)

    async def get_by_receipt(self, entity: Entity | str, code: str) -> Record | None:
        _, table = self._resolve(entity)
        if RECEIPT not in table.columns:
            return None
        mark = "$1" if self.pg else "?"
        rows = await self.store.db().execute_query_dict(
            f'SELECT "id" FROM {quote(table.name)} WHERE "receipt" = {mark}', [code.strip().upper()]
        )
        return await self.get(entity, int(rows[0]["id"])) if rows else None

    async def _page(self, entity: Entity | str, query: ListQuery, ctx: Context, limit: int) -> Page:
        _, table = self._resolve(entity)
        if query.after and query.before:
            raise ValueError("give after or before, not both")
        order = sort_order(table, query.sort)
        flip = query.before is not None
        given = query.before or query.after
        cursor = read_cursor(order, given) if given else None
        where = where_sql(self.pg, table, query, ctx, self.store.deployment.org_path)
        sql = select_sql(self.pg, table, self._names(table), where, order, cursor, flip, limit + 1)
        raw = list(await self.store.db().execute_query_dict(*sql.render()))
        more = len(raw) > limit
        raw = raw[:limit]
        if flip:
            raw.reverse()
        page = Page([self._record(table, r) for r in raw])
        for fid, child in table.children.items():  # one query per child table, not per row
            found = await read_children(self.store.db(), self.pg, child, [r.id for r in page.rows])
            for row in page.rows:
                row[fid] = found.get(row.id)
        if raw:
            first, last = make_cursor(order, raw[0]), make_cursor(order, raw[-1])
            if flip:  # paging back: later rows exist (we came from them)
                page.next, page.prev = last, first if more else None
            else:
                page.next, page.prev = last if more else None, first if query.after else None
        return page

    async def list(
        self, entity: Entity | str, query: ListQuery | None = None, ctx: Context | None = None
    ) -> Page:
        """One page: ``query.limit`` rows (at most 1000) and the cursors around them."""
        query, ctx = query or ListQuery(), ctx or Context()
        limit = max(1, min(int(query.limit), MAX_LIMIT))
        return await self._page(entity, query, ctx, limit)

    async def count(
        self,
        entity: Entity | str,
        query: ListQuery | None = None,
        ctx: Context | None = None,
        cap: int = 10000,
    ) -> tuple[int, bool]:
        """(n, exact): the number of matching rows, counted up to ``cap``."""
        query, ctx = query or ListQuery(), ctx or Context()
        _, table = self._resolve(entity)
        where = where_sql(self.pg, table, query, ctx, self.store.deployment.org_path)
        sql = Sql(self.pg, f"SELECT count(*) AS n FROM (SELECT 1 FROM {quote(table.name)} WHERE ")
        sql.add(where, f" LIMIT {int(cap) + 1}) AS c")
        rows = await self.store.db().execute_query_dict(*sql.render())
        n = int(rows[0]["n"])
        return (cap, False) if n > cap else (n, True)

    async def stream(
        self,
        entity: Entity | str,
        query: ListQuery | None = None,
        ctx: Context | None = None,
        batch: int = 1000,
    ) -> AsyncIterator[Rows]:
        """Every matching row, in batches of at most ``batch`` (one query each per table)."""
        query, ctx = query or ListQuery(), ctx or Context()
        current = dataclasses.replace(query, before=None)
        while True:
            page = await self._page(entity, current, ctx, max(1, batch))
            if page.rows:
                yield page.rows
            if not page.next:
                return
            current = dataclasses.replace(current, after=page.next)

    async def labels(
        self,
        users: Iterable[int] = (),
        refs: Mapping[str, Iterable[int]] | None = None,
        orgs: Iterable[str] = (),
        locale: str = "zh",
    ) -> Labels:
        """Display names, one query per kind (users; each referenced entity).

        ``refs`` keys are ``scenario.entity`` or a bare entity id (as a ref
        field's ``entity`` option says); the result keeps the key given.
        """
        labels = Labels()
        db = self.store.db()
        wanted = sorted({int(u) for u in users if u is not None})
        found_users = labels.users
        head = 'SELECT "id", "name" AS label FROM "yidi_user"'
        for row in await _in_chunks(db, self.pg, head, wanted):
            found_users[int(row["id"])] = str(row["label"])
        for key, ids in (refs or {}).items():
            ent, table = self._resolve(self._entity_key(key))
            found = labels.refs(key)
            want = sorted({int(i) for i in ids if i is not None})
            title = ent.title_field
            if title not in table.columns:
                found.update({i: f"#{i}" for i in want})
                continue
            head = f'SELECT "id", {quote(title)} AS label FROM {quote(table.name)}'
            for row in await _in_chunks(db, self.pg, head, want):
                found[int(row["id"])] = "" if row["label"] is None else str(row["label"])
        for unit in orgs:
            org = self.store.deployment.org.get(unit)
            if org is not None:
                labels.orgs[unit] = text(org.label, locale)
        return labels

    def _entity_key(self, key: str) -> str:
        if "." in key:
            return key
        matches = [e.key for e in self.store.deployment.entities() if e.id == key]
        if len(matches) != 1:
            raise ValueError(f"unknown or ambiguous entity {key!r}")
        return matches[0]

    async def history(self, entity: Entity | str, record_id: int) -> Changes:
        """The record's ``Change`` rows, oldest first."""
        _, table = self._resolve(entity)
        return await Change.filter(table=table.name, record_id=int(record_id)).order_by("id")

    # ------------------------------------------------------------ files

    async def save_file(
        self,
        name: str,
        content_type: str,
        data: files.Source,
        max_bytes: int | None = None,
        *,
        created_by: int | None = None,
        actor: int | None = None,
    ) -> Attachment:
        """Store an upload (``files.save_file``); ``actor`` is an alias of ``created_by``.

        ``max_bytes`` defaults to ``store.upload_limit`` (set it from YIDI_UPLOAD_MB).
        """
        return await files.save_file(
            self.store.data_dir,
            name,
            content_type,
            data,
            self.store.upload_limit if max_bytes is None else max_bytes,
            created_by=created_by if created_by is not None else actor,
        )

    async def link(
        self, ids: Sequence[int], entity: Entity | str, record_id: int, field: str
    ) -> None:
        ent, _ = self._resolve(entity)
        await files.link(self.store.db(), self.pg, list(ids), ent.key, record_id, field)

    async def link_files(
        self, entity: Entity | str, record_id: int, keep: Mapping[str, Sequence[int]]
    ) -> None:
        """``link`` for several fields: {field: attachment ids}."""
        for fid, ids in keep.items():
            if ids:
                await self.link(ids, entity, record_id, fid)

    def file_path(self, attachment: Attachment) -> Path:
        return files.file_path(self.store.data_dir, attachment)


async def _in_chunks(
    db: BaseDBAsyncClient, pg: bool, head: str, ids: Sequence[int]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        part = list(ids[start : start + CHUNK])
        rows = await db.execute_query_dict(
            f'{head} WHERE "id" IN ({placeholders(pg, len(part))})', part
        )
        out.extend(dict(r) for r in rows)
    return out
