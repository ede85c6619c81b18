"""One real table per entity, built as Tortoise models at start-up.

``build_tables(deployment)`` describes every entity table (system columns,
one column per field, a child table per ``children`` field, the indexes the
views need); ``build_models(tables)`` turns the descriptions into Tortoise
model classes in a fresh module registered in ``sys.modules`` (its name goes
into the Tortoise config). ``column_sql`` is the bridge to the expression
language: the SQL of a record name, for ``Expr.to_sql``.
"""

from __future__ import annotations

import hashlib
import itertools
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.models import Model

if TYPE_CHECKING:
    from runtime.deployment import Deployment

from runtime.model import Entity, Field, View, table_name
from runtime.storage.columns import field_kind, tortoise_field
from runtime.storage.sql import quote

#: columns every entity table has, with their kinds and nullability
SYSTEM: dict[str, tuple[str, bool]] = {
    "id": ("bigint", False),
    "org": ("varchar", False),
    "org_path": ("varchar", False),
    "owner": ("bigint", True),
    "state": ("varchar", True),
    "created_at": ("datetime", False),
    "updated_at": ("datetime", False),
    "created_by": ("bigint", True),
    "updated_by": ("bigint", True),
    "row_version": ("int", False),
    "scenario_version": ("varchar", True),
}
RECEIPT = "receipt"
#: columns of every child table besides its row fields
CHILD_SYSTEM: dict[str, tuple[str, bool]] = {
    "id": ("bigint", False),
    "parent_id": ("bigint", False),
    "position": ("int", False),
}
RESERVED = frozenset(SYSTEM) | {RECEIPT}
INDEXED_SYSTEM = ("org", "org_path", "owner", "state")
APP = "yidi"

_counter = itertools.count(1)


@dataclass
class Column:
    name: str
    kind: str
    null: bool = True
    unique: bool = False
    field: Field | None = None  # None for system columns

    @property
    def system(self) -> bool:
        return self.field is None


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]
    unique: bool = False

    @property
    def name(self) -> str:
        digest = hashlib.sha1(f"{self.table}:{','.join(self.columns)}".encode()).hexdigest()[:8]
        label = "_".join(self.columns)[:20]
        return f"{'ux' if self.unique else 'ix'}_{self.table[:28]}_{label}_{digest}"


@dataclass
class Table:
    name: str
    entity: Entity
    columns: dict[str, Column] = field(default_factory=dict)
    children: dict[str, Table] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    parent: Table | None = None
    field: Field | None = None  # the children field of a child table
    model: type[Model] | None = None

    def data_columns(self) -> list[Column]:
        """The columns of fields (not system ones)."""
        return [c for c in self.columns.values() if not c.system]

    def walk(self) -> Iterator[Table]:
        yield self
        for child in self.children.values():
            yield from child.walk()


class TableError(ValueError):
    pass


def child_table_name(parent: str, field_id: str) -> str:
    """``<table>__<field>``, shortened like every table name."""
    return table_name(parent, field_id)


def build_table(entity: Entity, views: list[View]) -> Table:
    """The table of one entity; ``views`` are the deployment's views of it."""
    table = Table(entity.table, entity)
    for name, (kind, null) in SYSTEM.items():
        table.columns[name] = Column(name, kind, null)
    if entity.spec.get("receipt") is True:
        table.columns[RECEIPT] = Column(RECEIPT, "varchar", True, unique=True)
    for fid, f in entity.fields.items():
        if fid in table.columns or fid in RESERVED:
            raise TableError(f"{entity.key}: field '{fid}' uses the name of a system column")
        kind = field_kind(f)
        if kind == "children":
            table.children[fid] = _child_table(table, f)
        else:
            table.columns[fid] = Column(fid, kind, True, field=f)
    wanted: list[tuple[str, ...]] = [(c,) for c in INDEXED_SYSTEM]
    wanted.append(("created_at", "id"))
    for column in table.data_columns():
        assert column.field is not None
        if column.field.spec.get("unique") is True and _sortable(column):
            table.indexes.append(Index(table.name, (column.name,), unique=True))
        elif column.field.spec.get("index") is True and _sortable(column):
            wanted.append((column.name,))
    for view in views:
        for name in view.filters:
            if _sortable(table.columns.get(name)):
                wanted.append((name,))
        keys = [name for name, _ in view.sort]
        if keys and all(_sortable(table.columns.get(k)) for k in keys) and keys != ["created_at"]:
            wanted.append((*keys, "id"))
    seen: set[tuple[str, ...]] = set()
    for columns in wanted:
        if columns not in seen:
            seen.add(columns)
            table.indexes.append(Index(table.name, columns))
    return table


def _sortable(column: Column | None) -> bool:
    return column is not None and column.kind not in ("json", "text")


def _child_table(parent: Table, f: Field) -> Table:
    child = Table(child_table_name(parent.name, f.id), parent.entity, parent=parent, field=f)
    for name, (kind, null) in CHILD_SYSTEM.items():
        child.columns[name] = Column(name, kind, null)
    for sub_id, sub in f.children.items():
        if sub_id in child.columns:
            raise TableError(f"{parent.entity.key}.{f.id}: row field '{sub_id}' is reserved")
        kind = field_kind(sub)
        if kind == "children":
            raise TableError(f"{parent.entity.key}.{f.id}: a child table cannot nest")
        child.columns[sub_id] = Column(sub_id, kind, True, field=sub)
    child.indexes.append(Index(child.name, ("parent_id", "position")))
    return child


def build_tables(deployment: Deployment) -> dict[str, Table]:
    """Every entity's table, keyed by ``scenario.entity``."""
    views = [v for s in deployment.scenarios.values() for v in s.views.values()]
    tables: dict[str, Table] = {}
    for entity in deployment.entities():
        table = build_table(entity, [v for v in views if v.entity is entity])
        known = {index.columns for index in table.indexes}
        for columns in _dashboard_keys(deployment, entity):
            if columns not in known and all(_sortable(table.columns.get(c)) for c in columns):
                table.indexes.append(Index(table.name, columns))
                known.add(columns)
        tables[entity.key] = table
    return tables


def _dashboard_keys(deployment: Deployment, entity: Entity) -> list[tuple[str, ...]]:
    """(org_path, field) for each dashboard card of ``entity`` that groups by a field or
    follows a date: its GROUP BY over an org subtree then reads the index alone."""
    out: list[tuple[str, ...]] = []
    for sid, scenario in deployment.scenarios.items():
        for dash in (scenario.data.get("dashboards") or {}).values():
            for card in (dash.get("cards") or {}).values():
                ref = str(card.get("entity") or "")
                if (ref if "." in ref else f"{sid}.{ref}") != entity.key:
                    continue
                group = card.get("group_by")
                if card.get("type") in ("bar", "pie", "table") and group and group != "org":
                    out.append(("org_path", str(group)))
                if card.get("type") == "line":
                    out.append(("org_path", str(card.get("date_field") or "created_at")))
    return out


# ---------------------------------------------------------------- Tortoise models


def _class_name(table: str) -> str:
    return "T_" + "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in table)


def _model(module: str, table: Table) -> type[Model]:
    meta = type("Meta", (), {"table": table.name, "app": APP})
    attrs: dict[str, Any] = {"__module__": module, "Meta": meta}
    attrs["id"] = fields.BigIntField(primary_key=True)
    for column in table.columns.values():
        if column.name == "id":
            continue
        if column.name == "parent_id" and table.parent is not None:
            attrs["parent"] = fields.ForeignKeyField(
                f"{APP}.{_class_name(table.parent.name)}",
                related_name=False,
                on_delete=fields.CASCADE,
                source_field="parent_id",
                db_constraint=True,
            )
            continue
        attrs[column.name] = tortoise_field(column.kind, null=column.null, unique=column.unique)
    model: type[Model] = type(_class_name(table.name), (Model,), attrs)
    return model


def build_models(tables: dict[str, Table]) -> types.ModuleType:
    """Tortoise models of ``tables`` in a new module, registered in ``sys.modules``."""
    name = f"runtime.storage._entities_{next(_counter)}"
    module = types.ModuleType(name)
    models: list[type[Model]] = []
    for table in tables.values():
        for each in table.walk():
            each.model = _model(name, each)
            models.append(each.model)
    module.__dict__["__models__"] = models
    sys.modules[name] = module
    EXECUTOR_CACHE.clear()  # it caches INSERTs per table, not per model class (NOTES)
    return module


def drop_module(module: types.ModuleType) -> None:
    sys.modules.pop(module.__name__, None)


# ---------------------------------------------------------------- SQL of names


def column_sql(entity: Entity, name: str, dialect: str = "sqlite", alias: str | None = None) -> str:
    """The SQL of record name ``name`` of ``entity``, for ``Expr.to_sql``.

    A column is ``"table"."name"``; money is its cents divided by 100.0 (a
    double); a child table is a JSON array of its row ids, null when empty.
    """
    owner = quote(alias or entity.table)
    if name in SYSTEM or name == RECEIPT:
        return f"{owner}.{quote(name)}"
    f = entity.fields.get(name)
    if f is None:
        raise ValueError(f"{entity.key} has no field '{name}'")
    kind = field_kind(f)
    column = f"{owner}.{quote(name)}"
    if kind == "cents":
        if dialect == "postgres":
            return f"(CAST({column} AS double precision) / 100.0)"
        return f"({column} / 100.0)"
    if kind == "children":
        child = quote(child_table_name(entity.table, name))
        if dialect == "postgres":
            agg = "jsonb_agg(c.id ORDER BY c.position)"
        else:
            agg = "json_group_array(c.id)"
        return (
            f"(SELECT CASE WHEN count(*) = 0 THEN NULL ELSE {agg} END "
            f"FROM {child} AS c WHERE c.parent_id = {owner}.{quote('id')})"
        )
    return column
