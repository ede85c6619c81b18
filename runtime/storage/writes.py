"""Writing records: create, update (optimistic locking), delete, bulk create.

Every write runs in one transaction together with its audit ``Change`` row.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from runtime.expr import Context
from runtime.model import Entity
from runtime.storage import files
from runtime.storage.base import RecordsBase
from runtime.storage.columns import CENT, FILE_TYPES, InvalidValue, coerce, encode
from runtime.storage.result import Conflict, NotFound, Record, Taken, jsonable
from runtime.storage.rowio import coerce_values, insert_rows, write_children
from runtime.storage.sql import P, Sql, placeholders, quote
from runtime.storage.tables import RECEIPT, Table

CHANGE_COLUMNS = ("table", "record_id", "action", "actor", "at", "ip", "before", "after", "note")
SYSTEM_UPDATABLE = ("state", "owner", "org")
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def receipt_code() -> str:
    """12 unambiguous characters (60 bits) as XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _now() -> datetime:
    return datetime.now(UTC)


class Writes(RecordsBase):
    def _org(self, org: str) -> str:
        if org not in self.store.deployment.org:
            raise ValueError(f"unknown org unit {org!r}")
        return self.store.deployment.org_path(org)

    def _state(self, entity: Entity, state: str | None) -> str | None:
        workflow = entity.workflow
        if workflow is None:
            if state is not None:
                raise ValueError(f"{entity.key} has no workflow, so no state")
            return None
        state = state or workflow.initial
        if state not in workflow.states:
            raise ValueError(f"{entity.key} has no state {state!r}")
        return state

    def _compute(
        self, entity: Entity, table: Table, merged: dict[str, Any], actor: int | None
    ) -> dict[str, Any]:
        """Computed fields, evaluated in order on the (merged) record."""
        out: dict[str, Any] = {}
        for fid, f in entity.fields.items():
            if f.compute is None or fid not in table.columns:
                continue
            column = table.columns[fid]
            ctx = Context(user_id=actor)
            value = f.compute.evaluate(self.for_expr(entity, merged), ctx)
            if column.kind == "cents" and isinstance(value, int | float):
                value = Decimal(repr(float(value))).quantize(CENT, ROUND_HALF_UP)
            try:
                out[fid] = coerce(f, column.kind, value)
            except (InvalidValue, TypeError, ArithmeticError):
                out[fid] = None
            merged[fid] = out[fid]
        return out

    def _prepare(
        self,
        entity: Entity,
        table: Table,
        values: Mapping[str, Any],
        *,
        actor: int | None,
        owner: int | None,
        org: str,
        state: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """Every column value of a new record, in Python form (children included)."""
        data = coerce_values(table, values)
        for fid, f in entity.fields.items():
            if fid not in values and "default" in f.spec and f.compute is None:
                with contextlib.suppress(ValueError, TypeError):
                    data[fid] = coerce_values(table, {fid: f.spec["default"]})[fid]
        scenario = self.store.deployment.scenarios[entity.scenario]
        record: dict[str, Any] = {
            "id": None,
            "org": org,
            "org_path": self._org(org),
            "owner": actor if owner is None else owner,
            "state": self._state(entity, state),
            "created_at": now,
            "updated_at": now,
            "created_by": actor,
            "updated_by": actor,
            "row_version": 1,
            "scenario_version": scenario.version,
        }
        if RECEIPT in table.columns:
            record[RECEIPT] = receipt_code()
        for name in [c.name for c in table.data_columns()] + list(table.children):
            record[name] = data.get(name)
        record.update(self._compute(entity, table, record, actor))
        return record

    def _encode_row(
        self, table: Table, record: Mapping[str, Any], names: Sequence[str]
    ) -> list[Any]:
        return [encode(table.columns[n].kind, record.get(n), self.pg) for n in names]

    def _change(
        self,
        table: Table,
        record_id: int,
        action: str,
        actor: int | None,
        at: datetime,
        ip: str | None,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        note: str | None,
    ) -> list[Any]:
        def dump(values: Mapping[str, Any] | None) -> str | None:
            if values is None:
                return None
            return json.dumps(jsonable(dict(values)), ensure_ascii=False)

        return [
            table.name,
            record_id,
            action,
            actor,
            encode("datetime", at, self.pg),
            ip,
            dump(before),
            dump(after),
            note,
        ]

    async def _link_files(
        self, conn: BaseDBAsyncClient, entity: Entity, record_id: int, values: Mapping[str, Any]
    ) -> None:
        for fid, value in values.items():
            f = entity.fields.get(fid)
            if f is not None and f.type in FILE_TYPES and value:
                await files.link(conn, self.pg, list(value), entity.key, record_id, fid)

    @contextlib.asynccontextmanager
    async def _writing(
        self, entity: Entity, table: Table, values: Mapping[str, Any], record_id: int | None = None
    ) -> AsyncIterator[BaseDBAsyncClient]:
        """A transaction whose unique-value clash comes out as ``Taken`` (naming the fields)."""
        try:
            async with in_transaction(self.store.connection_name) as conn:
                yield conn
        except IntegrityError as exc:
            taken = await self._taken(table, values, record_id)
            if not taken:
                raise
            raise Taken(entity.key, taken) from exc

    async def _taken(
        self, table: Table, values: Mapping[str, Any], record_id: int | None
    ) -> list[str]:
        out = []
        unique = {i.columns[0] for i in table.indexes if i.unique and len(i.columns) == 1}
        for name, column in table.columns.items():
            if name not in unique or name == RECEIPT or values.get(name) is None:
                continue
            mark = placeholders(self.pg, 2).split(", ")
            _, rows = await self.store.db().execute_query(
                f'SELECT "id" FROM {quote(table.name)} WHERE {quote(name)} = {mark[0]} AND "id" <> {mark[1]} LIMIT 1',
                [encode(column.kind, values[name], self.pg), record_id or 0],
            )
            if rows:
                out.append(name)
        return out

    async def create(
        self,
        entity: Entity | str,
        values: Mapping[str, Any],
        *,
        actor: int | None,
        org: str,
        state: str | None = None,
        ip: str | None = None,
        owner: int | None = None,
    ) -> Record:
        """A new record (``owner`` defaults to ``actor``; ``state`` to the initial one)."""
        ent, table = self._resolve(entity)
        now = _now()
        record = self._prepare(
            ent, table, values, actor=actor, owner=owner, org=org, state=state, now=now
        )
        names = [n for n in table.columns if n != "id"]
        after = _audited(ent, record)
        async with self._writing(ent, table, record) as conn:
            (rid,) = await insert_rows(
                conn,
                self.pg,
                table.name,
                names,
                [self._encode_row(table, record, names)],
                returning=True,
            )
            for fid, child in table.children.items():
                if record.get(fid):
                    await write_children(conn, self.pg, child, [(rid, record[fid])])
            change = self._change(table, rid, "create", actor, now, ip, None, after, None)
            await insert_rows(conn, self.pg, "yidi_change", CHANGE_COLUMNS, [change])
            await self._link_files(conn, ent, rid, record)
        record["id"] = rid
        return Record(ent.key, record)

    async def update(
        self,
        entity: Entity | str,
        record_id: int,
        values: Mapping[str, Any],
        *,
        actor: int | None,
        expected_version: int,
        ip: str | None = None,
        action: str = "update",
        note: str | None = None,
    ) -> Record:
        """Change fields (and ``state``/``owner``/``org``); ``Conflict`` on a stale version."""
        ent, table = self._resolve(entity)
        system = {k: values[k] for k in SYSTEM_UPDATABLE if k in values}
        data = coerce_values(table, {k: v for k, v in values.items() if k not in system})
        if "state" in system:
            system["state"] = self._state(ent, system["state"])
        if "org" in system:
            system["org_path"] = self._org(str(system["org"]))
        if "owner" in system and system["owner"] is not None:
            system["owner"] = int(system["owner"])
        stale = False
        now = _now()
        async with self._writing(ent, table, data, record_id) as conn:
            current = await self._fetch(conn, table, record_id)
            if current is None:
                raise NotFound(ent.key, record_id)
            if current.version == expected_version:
                merged: dict[str, Any] = dict(current)
                merged.update(data)
                merged.update(system)
                merged.update(self._compute(ent, table, merged, actor))
                watched = [*table.columns, *table.children]
                changed = [
                    n
                    for n in watched
                    if n not in ("id", "updated_at", "updated_by", "row_version")
                    and merged.get(n) != current.get(n)
                ]
                sets = Sql(self.pg)
                for name in changed:
                    if name in table.columns:
                        value = encode(table.columns[name].kind, merged[name], self.pg)
                        sets.add(f"{quote(name)} = ", P(value), ", ")
                sets.add('"updated_at" = ', P(encode("datetime", now, self.pg)))
                sets.add(', "updated_by" = ', P(actor), ', "row_version" = "row_version" + 1')
                sql = Sql(self.pg, f"UPDATE {quote(table.name)} SET ", sets)
                sql.add(
                    ' WHERE "id" = ',
                    P(int(record_id)),
                    ' AND "row_version" = ',
                    P(expected_version),
                )
                count, _ = await conn.execute_query(*sql.render())
                if count:
                    for fid, child in table.children.items():
                        if fid in changed:
                            await write_children(
                                conn, self.pg, child, [(current.id, merged[fid])], replace=True
                            )
                    before = {n: current.get(n) for n in changed if n != "org_path"}
                    after = {n: merged.get(n) for n in changed if n != "org_path"}
                    change = self._change(
                        table, current.id, action, actor, now, ip, before, after, note
                    )
                    await insert_rows(conn, self.pg, "yidi_change", CHANGE_COLUMNS, [change])
                    await self._link_files(conn, ent, current.id, {n: merged[n] for n in changed})
                    merged.update(
                        updated_at=now, updated_by=actor, row_version=expected_version + 1
                    )
                    return Record(ent.key, merged)
            stale = True
        assert stale
        latest = await self._fetch(self.store.db(), table, record_id)
        if latest is None:
            raise NotFound(ent.key, record_id)
        raise Conflict(latest, latest.get("updated_by"))

    async def delete(
        self,
        entity: Entity | str,
        record_id: int,
        *,
        actor: int | None,
        expected_version: int,
        ip: str | None = None,
        note: str | None = None,
    ) -> None:
        """Remove a record (its child rows go with it); the ``Change`` keeps its values."""
        ent, table = self._resolve(entity)
        now = _now()
        async with in_transaction(self.store.connection_name) as conn:
            current = await self._fetch(conn, table, record_id)
            if current is None:
                raise NotFound(ent.key, record_id)
            mark = placeholders(self.pg, 2).split(", ")
            count, _ = await conn.execute_query(
                f'DELETE FROM {quote(table.name)} WHERE "id" = {mark[0]} AND "row_version" = {mark[1]}',
                [int(record_id), expected_version],
            )
            if count:
                before = {k: v for k, v in current.items() if v is not None}
                change = self._change(
                    table, current.id, "delete", actor, now, ip, before, None, note
                )
                await insert_rows(conn, self.pg, "yidi_change", CHANGE_COLUMNS, [change])
                return
        raise Conflict(current, current.get("updated_by"))

    async def bulk_create(
        self,
        entity: Entity | str,
        rows: Iterable[Mapping[str, Any]],
        *,
        actor: int | None,
        org: str,
        ip: str | None = None,
        state: str | None = None,
    ) -> int:
        """Insert many records in one transaction (batched multi-row INSERTs)."""
        ent, table = self._resolve(entity)
        now = _now()
        records: list[dict[str, Any]] = []
        for number, values in enumerate(rows, start=1):
            try:
                records.append(
                    self._prepare(
                        ent, table, values, actor=actor, owner=None, org=org, state=state, now=now
                    )
                )
            except ValueError as exc:
                raise ValueError(f"row {number}: {exc}") from exc
        names = [n for n in table.columns if n != "id"]
        async with in_transaction(self.store.connection_name) as conn:
            encoded = [self._encode_row(table, r, names) for r in records]
            ids = await insert_rows(conn, self.pg, table.name, names, encoded, returning=True)
            for fid, child in table.children.items():
                pairs = [
                    (rid, r.get(fid)) for rid, r in zip(ids, records, strict=True) if r.get(fid)
                ]
                await write_children(conn, self.pg, child, pairs)
            changes = []
            for rid, r in zip(ids, records, strict=True):
                after = {
                    k: v for k, v in r.items() if k not in ("id", "org_path") and v is not None
                }
                changes.append(
                    self._change(table, rid, "create", actor, now, ip, None, after, "import")
                )
            await insert_rows(conn, self.pg, "yidi_change", CHANGE_COLUMNS, changes)
        return len(records)


def _audited(entity: Entity, record: Mapping[str, Any]) -> dict[str, Any]:
    """What the ``Change`` of a new record keeps: its field values, state, org, owner."""
    keep = (*entity.fields, "state", "org", "owner", RECEIPT)
    return {k: record[k] for k in keep if record.get(k) is not None}
