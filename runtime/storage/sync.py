"""Schema sync at start-up: compare the tables the scenarios need with the database.

``plan_schema`` reads the database and returns a ``Plan`` of readable steps.
Additive steps apply by themselves at start-up: a missing table is created, a
new field gets its column (``ALTER TABLE … ADD COLUMN`` from Tortoise's schema
editor) and its index. A removed field keeps its column and data, unused.
A field whose kind changed (against ``ColumnState``, what each column was
created for) is an incompatible change: start-up refuses with
``SchemaRefused(plan)``, and ``yidi migrate --apply`` applies the plan (the old
column is kept as ``<col>__old<N>``, a new one added, values converted).
The packages' data migrations (``runtime.storage.migrations``) are ``migrate``
steps of the same plan, applied last in the same transaction.

Everything runs in one transaction; on PostgreSQL an advisory lock keeps
several app processes from syncing at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.migrations.schema_editor.asyncpg import AsyncpgSchemaEditor
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_editor.sqlite import SqliteSchemaEditor
from tortoise.models import Model
from tortoise.transactions import in_transaction

from runtime.storage.convert import change_column, record_state
from runtime.storage.introspect import Catalog, declared_kinds, read_catalog
from runtime.storage.platform import MODELS, models_of
from runtime.storage.sql import quote
from runtime.storage.tables import Index, Table

if TYPE_CHECKING:
    from runtime.storage.db import Store

LOCK_KEY = 7_310_580_021  # pg_advisory_xact_lock key of the schema sync
OLD = re.compile(r"__old\d+$")


@dataclass
class Step:
    """One thing to do (or to know) about the schema."""

    action: str  # create_table add_column add_index record change_type keep_column migrate
    table: str
    column: str | None = None
    old: str | None = None  # kinds, for change_type / record
    new: str | None = None
    detail: str = ""
    automatic: bool = True

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        if self.action == "create_table":
            return f"create table {self.table}"
        if self.action == "add_column":
            return f"add column {where} ({self.new}){self.detail}"
        if self.action == "add_index":
            return f"add index {self.detail}"
        if self.action == "record":
            return f"record column {where} as {self.new}"
        if self.action == "keep_column":
            return f"keep column {where}: {self.detail}"
        return (
            f"change column {where} from {self.old} to {self.new}: {self.detail}"
            " (needs `yidi migrate --apply`)"
        )


@dataclass
class Plan:
    dialect: str
    steps: list[Step] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """True when a step must not run by itself at start-up."""
        return any(not step.automatic for step in self.steps)

    @property
    def changes(self) -> list[Step]:
        return [s for s in self.steps if s.action != "keep_column"]

    def lines(self) -> list[str]:
        return [f"{n}. {step}" for n, step in enumerate(self.steps, start=1)]

    def __str__(self) -> str:
        if not self.steps:
            return "The database schema is up to date."
        return "\n".join(self.lines())


class SchemaRefused(RuntimeError):
    """The database needs a change that is not applied by itself; shows the plan."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        steps = "\n".join("  " + line for line in plan.lines())
        super().__init__(
            "The database does not match the scenarios and start-up is refused.\n"
            f"Plan:\n{steps}\n"
            "Review it with `yidi migrate`, then apply it with `yidi migrate --apply`."
        )


def editor(conn: BaseDBAsyncClient, dialect: str) -> BaseSchemaEditor:
    if dialect == "postgres":
        return AsyncpgSchemaEditor(conn, atomic=True)
    return SqliteSchemaEditor(conn, atomic=True)


async def read_states(conn: BaseDBAsyncClient, catalog: Catalog) -> dict[str, dict[str, str]]:
    """``ColumnState`` as {table: {column: kind}} (empty before the table exists)."""
    if not catalog.has_table("yidi_column_state"):
        return {}
    rows = await conn.execute_query_dict(
        'SELECT "table", "column", "signature" FROM "yidi_column_state"'
    )
    states: dict[str, dict[str, str]] = {}
    for row in rows:
        states.setdefault(row["table"], {})[row["column"]] = row["signature"]
    return states


def static_models(store: Store) -> list[type[Model]]:
    """The platform's models and those of the store's extra model modules."""
    models = list(MODELS)
    for module in store.model_modules:
        models.extend(models_of(module))
    return models


def _platform_steps(store: Store, catalog: Catalog, plan: Plan) -> None:
    for model in static_models(store):
        name = model._meta.db_table
        if not catalog.has_table(name):
            plan.steps.append(Step("create_table", name))
            continue
        present = catalog.columns(name)
        for fname, column in model._meta.fields_db_projection.items():
            if column not in present:
                plan.steps.append(Step("add_column", name, fname, new="platform"))


def _table_steps(table: Table, catalog: Catalog, states: dict[str, str], plan: Plan) -> None:
    dialect = plan.dialect
    if not catalog.has_table(table.name):
        plan.steps.append(Step("create_table", table.name))
        for index in table.indexes:
            plan.steps.append(Step("add_index", table.name, detail=_index_text(index)))
        return
    present = catalog.columns(table.name)
    changed: set[str] = set()
    for column in table.columns.values():
        if column.name == "id":
            continue
        recorded = states.get(column.name)
        if column.name not in present:
            if recorded == "children":
                plan.steps.append(_change(table, column.name, recorded, column.kind))
                changed.add(column.name)
            else:
                label = f": new field '{column.name}'" if not column.system else ""
                plan.steps.append(
                    Step("add_column", table.name, column.name, new=column.kind, detail=label)
                )
            continue
        if recorded is None:
            kinds = declared_kinds(dialect, present[column.name])
            if column.kind in kinds:
                plan.steps.append(Step("record", table.name, column.name, new=column.kind))
            else:
                old = sorted(kinds)[0] if kinds else "unknown"
                plan.steps.append(_change(table, column.name, old, column.kind))
                changed.add(column.name)
        elif recorded != column.kind:
            plan.steps.append(_change(table, column.name, recorded, column.kind))
            changed.add(column.name)
    for fid in table.children:
        recorded = states.get(fid)
        if recorded is None:
            plan.steps.append(Step("record", table.name, fid, new="children"))
        elif recorded != "children":
            plan.steps.append(_change(table, fid, recorded, "children"))
    for name in present:
        if name not in table.columns and name != "id":
            why = (
                "old values kept by a type change"
                if OLD.search(name)
                else "its field is no longer in the scenario; the data is kept"
            )
            plan.steps.append(Step("keep_column", table.name, name, detail=why))
    for index in table.indexes:
        if index.name not in catalog.indexes or changed.intersection(index.columns):
            step = Step("add_index", table.name, detail=_index_text(index))
            if index.unique and index.columns[0] in present and index.columns[0] not in changed:
                step.column, step.new = index.columns[0], "unique"  # check for duplicates
            plan.steps.append(step)


async def _check_duplicates(conn: BaseDBAsyncClient, plan: Plan) -> None:
    """A unique index cannot be built over duplicate values: such a step is refused."""
    for step in plan.steps:
        if step.action != "add_index" or step.new != "unique" or not step.column:
            continue
        col = quote(step.column)
        rows = await conn.execute_query_dict(
            f"SELECT {col} AS v FROM {quote(step.table)} WHERE {col} IS NOT NULL "
            f"GROUP BY {col} HAVING count(*) > 1 LIMIT 3"
        )
        if rows:
            values = ", ".join(repr(r["v"]) for r in rows)
            step.detail += (
                f": blocked, {step.column} has duplicate values ({values}); make them unique"
            )
            step.old, step.automatic = "duplicates", False


def _change(table: Table, column: str, old: str, new: str) -> Step:
    if new == "children":
        how = f"keep it as {column}__old<N> and turn its values into rows of the child table"
    elif old == "children":
        how = "the rows of the child table are kept; the new column starts empty"
    else:
        how = f"keep it as {column}__old<N>, add a new column, convert the values"
    return Step("change_type", table.name, column, old=old, new=new, detail=how, automatic=False)


def _index_text(index: Index) -> str:
    unique = "unique " if index.unique else ""
    return f"{unique}{index.name} on {index.table} ({', '.join(index.columns)})"


async def plan_schema(store: Store, conn: BaseDBAsyncClient) -> Plan:
    catalog = await read_catalog(conn, store.dialect)
    states = await read_states(conn, catalog)
    plan = Plan(store.dialect)
    _platform_steps(store, catalog, plan)
    for table in store.tables.values():
        for each in table.walk():
            _table_steps(each, catalog, states.get(each.name, {}), plan)
    await _check_duplicates(conn, plan)
    from runtime.storage.migrations import plan_data  # the packages' data migrations

    plan.steps.extend(await plan_data(store, conn, catalog))
    return plan


def _model_of(store: Store, name: str) -> tuple[type[Model], Table | None]:
    for model in static_models(store):
        if model._meta.db_table == name:
            return model, None
    for table in store.tables.values():
        for each in table.walk():
            if each.name == name and each.model is not None:
                return each.model, each
    raise KeyError(name)


async def apply_plan(store: Store, conn: BaseDBAsyncClient, plan: Plan) -> list[str]:
    """Run the steps of ``plan``; returns what was done, one line per step."""
    done: list[str] = []
    ddl = editor(conn, store.dialect)
    order = ("create_table", "add_column", "change_type", "record", "add_index", "migrate")
    for action in order:
        if action == "migrate":  # last: the data steps read and write the synced tables
            from runtime.storage.migrations import DataStep, apply_data

            done += await apply_data(
                store, conn, [s for s in plan.steps if isinstance(s, DataStep)]
            )
            continue
        for step in plan.steps:
            if step.action != action:
                continue
            model, table = _model_of(store, step.table)
            if action == "create_table":
                await ddl.create_model(model)
                if table is not None:
                    for column in table.columns.values():
                        if column.name != "id":
                            await record_state(conn, store.pg, table.name, column.name, column.kind)
                    for fid in table.children:
                        await record_state(conn, store.pg, table.name, fid, "children")
            elif action == "add_column":
                assert step.column is not None
                await ddl.add_field(model, step.column)
                if table is not None and step.new:
                    await record_state(conn, store.pg, table.name, step.column, step.new)
            elif action == "change_type":
                assert table is not None and step.column and step.old and step.new
                report = await change_column(store, conn, ddl, table, step.column, step.old)
                done.append(f"{step}\n   → {report}")
                continue
            elif action == "record":
                assert step.column and step.new
                await record_state(conn, store.pg, step.table, step.column, step.new)
            elif action == "add_index":
                assert table is not None
                if step.old == "duplicates":
                    done.append(f"skipped: {step}")
                    continue
                for index in table.indexes:
                    if _index_text(index) == step.detail:
                        await create_index(conn, index)
            done.append(str(step))
    return done


async def create_index(conn: BaseDBAsyncClient, index: Index) -> None:
    unique = "UNIQUE " if index.unique else ""
    columns = ", ".join(quote(c) for c in index.columns)
    # execute_query, not execute_script: sqlite3's executescript commits first
    await conn.execute_query(
        f"CREATE {unique}INDEX IF NOT EXISTS {quote(index.name)} "
        f"ON {quote(index.table)} ({columns})"
    )


async def sync_schema(
    store: Store, *, apply: bool = False, dry_run: bool = False
) -> tuple[Plan, list[str]]:
    """Plan, and apply what may be applied; raise ``SchemaRefused`` unless ``apply``.

    With ``dry_run`` nothing is changed (``yidi migrate`` without ``--apply``).
    """
    async with in_transaction(store.connection_name) as conn:
        if store.pg:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [LOCK_KEY])
        plan = await plan_schema(store, conn)
        if dry_run:
            return plan, []
        if plan.refused and not apply:
            raise SchemaRefused(plan)
        done = await apply_plan(store, conn, plan)
    EXECUTOR_CACHE.clear()
    return plan, done
