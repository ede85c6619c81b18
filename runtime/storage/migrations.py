"""Data migrations a package version declares, carried out through the schema plan.

A new version says how records made under older versions change::

    migrations:
      - from: "^1"            # records made under a 1.x version of this package
        steps:
          - move_state: {entity: suggestion, from: withdrawn, to: closed}
          - rename_field: {entity: suggestion, from: affected, to: people}
          - set: {entity: suggestion, field: session, value: 闭会期间, where: "session == null"}

Each step becomes a ``migrate`` step of the schema plan (``runtime.storage.sync``):
``yidi migrate`` shows it with the number of records it changes, ``yidi migrate
--apply`` runs it in the plan's one transaction, and start-up is refused while a
step that changes records is pending (a step with nothing to change is recorded
by itself). A step touches only records whose ``scenario_version`` lies in the
migration's ``from`` range; records keep that version. Every changed record gets
an audit row (action ``migrate``), and every applied step a ``yidi_migration`` row
(package, ``from``, position), so that nothing runs twice: steps are known by
their position, so later versions append steps and never reorder them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.expr import Context
from runtime.model import Entity, Scenario
from runtime.semver import Version, parse_range
from runtime.storage.columns import InvalidValue, coerce, encode, expr_value
from runtime.storage.convert import convert_value, old_value
from runtime.storage.introspect import Catalog, read_catalog
from runtime.storage.rowio import decode_row, insert_rows
from runtime.storage.sql import P, Sql, quote
from runtime.storage.sync import Step, read_states
from runtime.storage.tables import Table

if TYPE_CHECKING:
    from runtime.storage.db import Store

KINDS = ("move_state", "rename_field", "set")
BATCH = 2000
CHANGE_COLUMNS = ("table", "record_id", "action", "actor", "at", "ip", "before", "after", "note")
MIGRATION_COLUMNS = ("package", "version", "source", "step", "kind", "changed", "applied_at")


def describe(kind: str, spec: Mapping[str, Any]) -> str:
    """One step in words, e.g. ``move suggestion records in state withdrawn to closed``."""
    entity = spec.get("entity")
    where = f" where {spec['where']}" if spec.get("where") not in (None, True) else ""
    if kind == "move_state":
        sources = spec.get("from")
        names = ", ".join(sources) if isinstance(sources, list) else str(sources)
        return f"move {entity} records in state {names} to {spec.get('to')}{where}"
    if kind == "rename_field":
        return (
            f"copy {entity}.{spec.get('from')} into {spec.get('to')} (the old column stays, unused)"
        )
    value = f"= {spec['expression']}" if "expression" in spec else f"to {spec.get('value')!r}"
    return f"set {entity}.{spec.get('field')} {value}{where}"


def step_of(item: Any) -> tuple[str, dict[str, Any]] | None:
    """A declared step ``{move_state: {...}}`` as (kind, spec)."""
    if isinstance(item, dict) and len(item) == 1:
        ((kind, spec),) = item.items()
        if kind in KINDS and isinstance(spec, dict):
            return kind, spec
    return None


def declared(data: Mapping[str, Any], installed: str | None = None) -> list[str]:
    """The declared steps in words (those for records made under ``installed`` when given)."""
    out: list[str] = []
    version = Version.parse(installed) if installed else None
    for migration in data.get("migrations") or []:
        source = str(migration.get("from"))
        allowed = parse_range(source)
        if installed and (allowed is None or not allowed.contains(version)):
            continue
        for number, item in enumerate(migration.get("steps") or [], start=1):
            found = step_of(item)
            if found:
                out.append(f"from {source}, step {number}: {describe(*found)}")
    return out


def moves(data: Mapping[str, Any], installed: str) -> dict[tuple[str, str], str]:
    """(entity, state) → the state every such record moves to, by the steps declared for
    records made under ``installed`` (``move_state`` steps without a ``where``)."""
    out: dict[tuple[str, str], str] = {}
    version = Version.parse(installed)
    for migration in data.get("migrations") or []:
        allowed = parse_range(str(migration.get("from")))
        if allowed is None or not allowed.contains(version):
            continue
        for item in migration.get("steps") or []:
            found = step_of(item)
            if found and found[0] == "move_state" and found[1].get("where") in (None, True):
                spec = found[1]
                sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
                for state in sources:
                    out.setdefault((str(spec["entity"]), str(state)), str(spec["to"]))
    return out


@dataclass
class DataStep(Step):
    """A ``migrate`` step of the plan: one declared step and the records it changes."""

    scenario: str = ""
    version: str = ""  # the package version that declares it
    source: str = ""  # the migration's ``from`` range
    index: int = 0  # its position in the migration's steps (from 0; yidi_migration.step is 1…)
    kind: str = ""
    spec: dict[str, Any] = field(default_factory=dict)
    count: int = 0  # records it changes (as the database is now)

    def __str__(self) -> str:
        head = (
            f"migrate {self.scenario} {self.version} (records made under {self.source}), "
            f"step {self.index + 1}: {describe(self.kind, self.spec)}"
        )
        if self.count == 0 and self.automatic:
            return f"{head}: nothing to change"
        tail = "" if self.automatic else " (needs `yidi migrate --apply`)"
        return f"{head}: {self.count} record(s){self.detail}{tail}"


# ------------------------------------------------------------------ planning


async def _applied(conn: BaseDBAsyncClient, catalog: Catalog) -> set[tuple[str, str, int]]:
    if not catalog.has_table("yidi_migration"):
        return set()
    rows = await conn.execute_query_dict('SELECT "package", "source", "step" FROM "yidi_migration"')
    return {(str(r["package"]), str(r["source"]), int(r["step"])) for r in rows}


async def _versions(
    conn: BaseDBAsyncClient, catalog: Catalog, table: Table, source: str
) -> list[str]:
    """The package versions in ``source`` that records of ``table`` were made under."""
    allowed = parse_range(source)
    if allowed is None or "scenario_version" not in catalog.columns(table.name):
        return []
    rows = await conn.execute_query_dict(
        f'SELECT DISTINCT "scenario_version" AS v FROM {quote(table.name)}'
    )
    found = [str(r["v"]) for r in rows if r["v"] is not None]
    return sorted(v for v in found if allowed.contains(Version.parse(v)))


async def plan_data(store: Store, conn: BaseDBAsyncClient, catalog: Catalog) -> list[DataStep]:
    """The declared steps not applied yet, each with the number of records it changes.

    The steps of one migration refuse start-up together when any of them changes
    records; when none does they are automatic (recorded at start-up)."""
    done = await _applied(conn, catalog)
    states = await read_states(conn, catalog)
    out: list[DataStep] = []
    for scenario in store.deployment.scenarios.values():
        for migration in scenario.data.get("migrations") or []:
            source = str(migration.get("from"))
            steps: list[DataStep] = []
            for index, item in enumerate(migration.get("steps") or []):
                found = step_of(item)
                if found is None or (scenario.id, source, index + 1) in done:
                    continue
                kind, spec = found
                entity = scenario.entities.get(str(spec.get("entity")))
                if entity is None or entity.key not in store.tables:
                    continue
                table = store.table(entity)
                step = DataStep(
                    "migrate",
                    table.name,
                    scenario=scenario.id,
                    version=scenario.version,
                    source=source,
                    index=index,
                    kind=kind,
                    spec=spec,
                )
                if catalog.has_table(table.name):
                    versions = await _versions(conn, catalog, table, source)
                    present = set(catalog.columns(table.name))
                    failed = 0
                    async for batch in _changes(
                        store, conn, scenario, entity, step, versions, present, states
                    ):
                        step.count += len(batch.rows)
                        failed += batch.failed
                    step.detail = _failures(failed)
                steps.append(step)
            automatic = all(s.count == 0 for s in steps)
            for step in steps:
                step.automatic = automatic
            out.extend(steps)
    return out


# ------------------------------------------------------------------ the records a step changes


@dataclass
class Batch:
    column: str
    rows: list[tuple[int, Any, Any]]  # (id, value before, value after)
    failed: int = 0  # values the field refuses: they stay as they are


def _failures(failed: int) -> str:
    return f", {failed} value(s) could not be converted and stay as they are" if failed else ""


def _for_expr(table: Table, record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in record.items():
        column = table.columns.get(name)
        value = expr_value(column.kind, value) if column is not None else value
        out[name] = float(value) if isinstance(value, Decimal) else value
    return out


async def _changes(
    store: Store,
    conn: BaseDBAsyncClient,
    scenario: Scenario,
    entity: Entity,
    step: DataStep,
    versions: list[str],
    present: set[str],
    states: Mapping[str, Mapping[str, str]],
) -> AsyncIterator[Batch]:
    """The changes of ``step``, a batch of records at a time, read from the database as it
    is now (columns it does not hold yet read as empty)."""
    if not versions:
        return
    table = store.table(entity)
    spec = step.spec
    pg = store.pg
    names = [n for n in table.columns if n in present]
    test = Sql(pg, '"scenario_version" IN (').join([Sql(pg, P(v)) for v in versions], ", ")
    test.add(")")
    where = entity.compile(spec["where"]) if isinstance(spec.get("where"), str) else None
    old, old_kind, compute = "", "unknown", None
    if step.kind == "move_state":
        column = "state"
        sources = spec["from"] if isinstance(spec["from"], list) else [spec["from"]]
        test.add(' AND "state" IN (').join([Sql(pg, P(str(s))) for s in sources], ", ").add(")")
    elif step.kind == "rename_field":
        column, old = str(spec["to"]), str(spec["from"])
        if old not in present or column not in table.columns:
            return  # the old column is not in this database: nothing to copy
        old_kind = states.get(table.name, {}).get(old, "unknown")
        test.add(f" AND {quote(old)} IS NOT NULL")
        names.append(old)
    else:
        column = str(spec["field"])
        if column not in table.columns:
            return
        if "expression" in spec:
            compute = entity.compile(spec["expression"], entity.fields[column].expr_type)
    ctx = Context()
    last = 0
    while True:
        sql = Sql(pg, "SELECT ", ", ".join(quote(n) for n in names))
        sql.add(f" FROM {quote(table.name)} WHERE ", test, ' AND "id" > ', P(last))
        sql.add(f' ORDER BY "id" LIMIT {BATCH}')
        rows = await conn.execute_query_dict(*sql.render())
        if not rows:
            return
        batch = Batch(column, [])
        for raw in rows:
            last = int(raw["id"])
            record = decode_row(table, raw, [n for n in names if n in table.columns])
            values = _for_expr(table, record)
            for name in table.columns:
                values.setdefault(name, None)
            if where is not None and not where.evaluate(values, ctx):
                continue
            before = record.get(column)
            try:
                if step.kind == "move_state":
                    after: Any = spec["to"]
                elif step.kind == "rename_field":
                    after = convert_value(table.columns[column], old_value(old_kind, raw[old]))
                elif compute is not None:
                    target = table.columns[column]
                    assert target.field is not None
                    after = coerce(target.field, target.kind, compute.evaluate(values, ctx))
                else:
                    after = convert_value(table.columns[column], spec.get("value"))
            except (InvalidValue, ValueError, TypeError, ArithmeticError):
                batch.failed += 1  # the value stays where it is (a rename's: in the old column)
                continue
            if after != before:
                batch.rows.append((last, before, after))
        yield batch


# ------------------------------------------------------------------ applying


async def apply_data(store: Store, conn: BaseDBAsyncClient, steps: Iterable[DataStep]) -> list[str]:
    """Run the steps in order inside the plan's transaction; one line per step."""
    done: list[str] = []
    catalog = await read_catalog(conn, store.dialect)  # the columns the plan just added
    states = await read_states(conn, catalog)
    present_of = {name: set(cols) for name, cols in catalog.tables.items()}
    pg = store.pg
    now = datetime.now(UTC)
    for step in steps:
        scenario = store.deployment.scenarios[step.scenario]
        entity = scenario.entities[str(step.spec["entity"])]
        table = store.table(entity)
        versions = await _versions(conn, catalog, table, step.source)
        note = (
            f"{step.scenario} {step.version}: migration from {step.source}, step {step.index + 1}"
        )
        changed = 0
        async for batch in _changes(
            store, conn, scenario, entity, step, versions, present_of.get(table.name, set()), states
        ):
            if not batch.rows:
                continue
            kind = table.columns[batch.column].kind
            marks = "$1, $2, $3" if pg else "?, ?, ?"
            one, two, three = marks.split(", ")
            await conn.execute_many(
                f"UPDATE {quote(table.name)} SET {quote(batch.column)} = {one}, "
                f'"updated_at" = {two}, "updated_by" = NULL, "row_version" = "row_version" + 1 '
                f'WHERE "id" = {three}',
                [
                    [encode(kind, after, pg), encode("datetime", now, pg), rid]
                    for rid, _, after in batch.rows
                ],
            )
            changes = [
                store._change(
                    table,
                    rid,
                    "migrate",
                    None,
                    now,
                    None,
                    {batch.column: before},
                    {batch.column: after},
                    note,
                )
                for rid, before, after in batch.rows
            ]
            await insert_rows(conn, pg, "yidi_change", CHANGE_COLUMNS, changes)
            changed += len(batch.rows)
        row = [
            step.scenario,
            step.version,
            step.source,
            step.index + 1,
            step.kind,
            changed,
            encode("datetime", now, pg),
        ]
        await insert_rows(conn, pg, "yidi_migration", MIGRATION_COLUMNS, [row])
        step.count, step.automatic = changed, True
        done.append(str(step))
    return done
