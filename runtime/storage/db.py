"""The database of a deployment: Tortoise config, start-up sync, and the ``Store``.

``DATABASE_URL`` is ``sqlite:///abs/path/yidi.sqlite3`` (WAL mode, a busy
timeout, foreign keys on) or ``postgres://user:pw@host:5432/db``.

Standalone (CLI, tests)::

    async with open_store(deployment, url, data_dir) as store:
        record = await store.create(entity, {...}, actor=1, org="lc")

In the web app, inside the Starlette lifespan (connections close on exit),
either ``open_store`` as above, or Tortoise's own registration::

    store = Store(deployment, settings.database_url, settings.data_dir)
    async with RegisterTortoise(app, config=store.tortoise_config()):  # no generate_schemas
        await store.start()          # schema sync (may raise SchemaRefused), org units
        yield {"store": store}
    store.close()

Either way the Tortoise context is the global fallback, so request handlers
(other tasks) reach it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tortoise import context as tortoise_context
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.connection import connections
from tortoise.context import TortoiseContext

from runtime.deployment import Deployment
from runtime.model import Entity
from runtime.storage import files
from runtime.storage.platform import EXTRA_MODULES
from runtime.storage.records import Records
from runtime.storage.sql import placeholders
from runtime.storage.sync import Plan, sync_schema
from runtime.storage.tables import APP, Table, build_models, build_tables, drop_module

#: awaited after a write commits: (entity, the record before or None, after or None);
#: (entity, None, None) after a bulk insert
WriteHook = Callable[[Entity, Mapping[str, Any] | None, Mapping[str, Any] | None], Awaitable[None]]
log = logging.getLogger("yidi.storage")

SQLITE_PRAGMAS: dict[str, Any] = {
    "journal_mode": "WAL",
    "journal_size_limit": 16384,
    "busy_timeout": 5000,
    "synchronous": "NORMAL",
    "foreign_keys": "ON",
}


def dialect_of(url: str) -> str:
    """``sqlite`` or ``postgres`` from a database URL."""
    scheme = urlparse(url).scheme.lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgres", "postgresql", "asyncpg"):
        return "postgres"
    raise ValueError(f"unsupported DATABASE_URL scheme {scheme!r}: use sqlite:// or postgres://")


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite://`` URL (``sqlite:///abs/path`` → ``/abs/path``)."""
    path = url.split("://", 1)[1].split("?", 1)[0]
    if not path:
        raise ValueError("DATABASE_URL names no SQLite file")
    return path


def connection_config(url: str) -> dict[str, Any]:
    if dialect_of(url) == "sqlite":
        path = sqlite_path(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "engine": "tortoise.backends.sqlite",
            "credentials": {"file_path": path, **SQLITE_PRAGMAS},
        }
    if url.startswith("postgresql://"):
        url = "postgres://" + url[len("postgresql://") :]
    config: dict[str, Any] = expand_db_url(url)
    credentials = config["credentials"]
    credentials.setdefault("minsize", 1)
    credentials.setdefault("maxsize", 10)
    return config


class Store(Records):
    """One deployment's database: its entity tables, and the records API itself
    (``store.create``, ``store.list``…; ``store.records`` is the same object)."""

    def __init__(
        self,
        deployment: Deployment,
        url: str,
        data_dir: Path | str,
        *,
        connection_name: str = "default",
        models: Sequence[str] = (),
    ) -> None:
        self.deployment = deployment
        # static model modules beside the platform's (``models`` and ``register_models``)
        self.model_modules = list(dict.fromkeys([*EXTRA_MODULES, *models]))
        self.url = url
        self.data_dir = Path(data_dir)
        self.dialect = dialect_of(url)
        self.connection_name = connection_name
        self.tables: dict[str, Table] = build_tables(deployment)
        self.module = build_models(self.tables)
        Records.__init__(self, self)
        self.records: Records = self
        self.ready = False  # set by start(): the schema matches the tables
        self.upload_limit = files.MAX_BYTES
        # awaited after each committed write with (entity, before, after); e.g. scoring
        self.write_hooks: list[WriteHook] = []

    @property
    def pg(self) -> bool:
        return self.dialect == "postgres"

    def tortoise_config(self) -> dict[str, Any]:
        return {
            "connections": {self.connection_name: connection_config(self.url)},
            "apps": {
                APP: {
                    "models": [
                        "runtime.storage.platform",
                        *self.model_modules,
                        self.module.__name__,
                    ],
                    "default_connection": self.connection_name,
                }
            },
            "use_tz": True,
            "timezone": "UTC",
        }

    def db(self) -> BaseDBAsyncClient:
        """The connection (pool) of the current Tortoise context."""
        client: BaseDBAsyncClient = connections.get(self.connection_name)
        return client

    def entity(self, entity: Entity | str) -> Entity:
        if isinstance(entity, Entity):
            return entity
        found = self.deployment.entity(entity)
        if found is None:
            raise ValueError(f"unknown entity {entity!r}")
        return found

    def table(self, entity: Entity | str) -> Table:
        key = entity.key if isinstance(entity, Entity) else entity
        try:
            return self.tables[key]
        except KeyError:
            raise ValueError(f"unknown entity {key!r}") from None

    async def start(self) -> Plan:
        """Sync the schema (additive steps only; ``SchemaRefused`` otherwise), load the org tree."""
        plan, _ = await sync_schema(self)
        await self.sync_org_units()
        self.ready = True
        return plan

    async def migrate(self, *, apply: bool) -> tuple[Plan, list[str]]:
        """The plan; with ``apply`` also every step of it, incompatible ones included."""
        plan, done = await sync_schema(self, apply=apply, dry_run=not apply)
        if apply:
            await self.sync_org_units()
            self.ready = True
        return plan, done

    async def sync_org_units(self) -> None:
        """Upsert the manifest's org tree into ``yidi_org_unit`` (units are never deleted)."""
        rows = [
            [
                unit.id,
                unit.parent,
                unit.kind,
                json.dumps(unit.label, ensure_ascii=False),
                self.deployment.org_path(unit.id),
            ]
            for unit in self.deployment.org.values()
        ]
        if not rows:
            return
        sql = (
            'INSERT INTO "yidi_org_unit" ("id", "parent_id", "kind", "label", "path") '
            f"VALUES ({placeholders(self.pg, 5)}) "
            'ON CONFLICT ("id") DO UPDATE SET "parent_id" = excluded."parent_id", '
            '"kind" = excluded."kind", "label" = excluded."label", "path" = excluded."path"'
        )
        await self.db().execute_many(sql, rows)

    def close(self) -> None:
        drop_module(self.module)

    # ------------------------------------------------------------ write hooks

    async def _written(
        self, entity: Entity, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> None:
        """Tell the write hooks; the write is committed, so a failing hook is only logged."""
        for hook in self.write_hooks:
            try:
                await hook(entity, before, after)
            except Exception:  # the record is saved: a hook never undoes or fails it
                log.exception("write hook failed on %s", entity.key)

    async def create(self, entity: Entity | str, values: Mapping[str, Any], **kw: Any) -> Any:
        record = await super().create(entity, values, **kw)
        if self.write_hooks:
            await self._written(self.entity(entity), None, record)
        return record

    async def update(
        self, entity: Entity | str, record_id: int, values: Mapping[str, Any], **kw: Any
    ) -> Any:
        before = await self.get(entity, record_id) if self.write_hooks else None
        record = await super().update(entity, record_id, values, **kw)
        if self.write_hooks:
            await self._written(self.entity(entity), before, record)
        return record

    async def delete(self, entity: Entity | str, record_id: int, **kw: Any) -> None:
        before = await self.get(entity, record_id) if self.write_hooks else None
        await super().delete(entity, record_id, **kw)
        if self.write_hooks:
            await self._written(self.entity(entity), before, None)

    async def bulk_create(
        self, entity: Entity | str, rows: Iterable[Mapping[str, Any]], **kw: Any
    ) -> int:
        count = await super().bulk_create(entity, rows, **kw)
        if self.write_hooks and count:
            await self._written(self.entity(entity), None, None)
        return count


@asynccontextmanager
async def open_store(
    deployment: Deployment,
    url: str,
    data_dir: Path | str,
    *,
    start: bool = True,
    models: Sequence[str] = (),
) -> AsyncIterator[Store]:
    """A store in its own Tortoise context; connections are closed on exit.

    With ``start`` (the default) the schema is synced first (``SchemaRefused``
    on an incompatible change); ``start=False`` is for ``yidi migrate``. It may
    also wrap a Starlette lifespan: the context becomes Tortoise's global
    fallback when no other holds it, so request handlers find it. ``models``
    names more modules of static Tortoise models (their tables are created
    like the platform's); ``platform.register_models`` adds one for every store.
    """
    store = Store(deployment, url, data_dir, models=models)
    try:
        async with TortoiseContext() as ctx:
            # the global fallback lets request tasks (which do not inherit the
            # lifespan's context) reach it; only one context can hold it
            fallback = tortoise_context._global_context is None
            await ctx.init(config=store.tortoise_config(), _enable_global_fallback=fallback)
            if start:
                await store.start()
            yield store
    finally:
        store.close()
