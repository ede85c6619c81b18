"""List queries: filters, search, sort and keyset paging compiled to one SELECT.

Sorting treats null as larger than every value (ascending: nulls last,
descending: nulls first) in both databases; the record id breaks ties in the
direction of the last sort key. A cursor holds the sort values and the id of
a row; the next page is what comes strictly after it (no OFFSET).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

from runtime.expr import Context, Expr
from runtime.storage.columns import TEXT_KINDS, InvalidValue, coerce, encode
from runtime.storage.sql import Embedded, P, Sql, quote
from runtime.storage.tables import Column, Table, column_sql

MAX_LIMIT = 1000


@dataclass
class ListQuery:
    """What a list wants. Field names are checked: an unknown one is a ``ValueError``.

    ``where``    compiled conditions (``View.where``, row rules), AND-ed
    ``equals``   filter picks: field → accepted values (a list field matches any)
    ``search``   (text, [fields]): case-insensitive substring where the database allows
    ``within``   org unit ids: only rows whose org is in one of their subtrees
    ``scope``    a row rule (``runtime.access.Scope``: everything / nothing, or the
                 rows in ``org_paths`` subtrees, owned by ``owner``, or assigned
                 through ``assigned`` = [(field, is_list, value)])
    ``sort``     [(field, descending)]; default newest first
    ``after`` / ``before``  cursors from a ``Page``
    """

    where: list[Expr] = field(default_factory=list)
    equals: dict[str, list[Any]] = field(default_factory=dict)
    search: tuple[str, list[str]] | None = None
    within: list[str] | None = None
    scope: Scope | None = None
    sort: list[tuple[str, bool]] = field(default_factory=lambda: [("created_at", True)])
    after: str | None = None
    before: str | None = None
    limit: int = 20


class Scope(Protocol):
    """Which rows a viewer may see (``runtime.access.Scope`` has this shape)."""

    @property
    def everything(self) -> bool: ...
    @property
    def nothing(self) -> bool: ...
    @property
    def org_paths(self) -> Sequence[str]: ...
    @property
    def owner(self) -> int | None: ...
    @property
    def assigned(self) -> Sequence[tuple[str, bool, Any]]: ...


@dataclass(frozen=True)
class Key:
    name: str
    sql: str
    desc: bool
    nullable: bool


@dataclass(frozen=True)
class Order:
    """The sort keys, then the id (descending with the last key unless sorted by id)."""

    keys: list[Key]
    id_desc: bool


def sort_order(table: Table, sort: list[tuple[str, bool]]) -> Order:
    keys: list[Key] = []
    for name, desc in sort:
        if name == "id":
            return Order(keys, bool(desc))  # the id is unique: later keys never matter
        column = table.columns.get(name)
        if column is None or column.kind == "json":
            raise ValueError(f"cannot sort {table.entity.key} by '{name}'")
        keys.append(Key(name, quote(name), bool(desc), column.null))
    return Order(keys, keys[-1].desc if keys else False)


# ---------------------------------------------------------------- cursors


def _tag(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return datetime.fromisoformat(value["t"])
        if "d" in value:
            return date.fromisoformat(value["d"])
        if "n" in value:
            return Decimal(value["n"])
        raise ValueError("bad cursor")
    return value


def _signature(order: Order) -> str:
    text = ",".join(f"{k.name}:{int(k.desc)}" for k in order.keys) + f",id:{int(order.id_desc)}"
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def make_cursor(order: Order, raw: dict[str, Any]) -> str:
    values = [_tag(raw[k.name]) for k in order.keys]
    payload = {"s": _signature(order), "v": values, "i": int(raw["id"])}
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def read_cursor(order: Order, cursor: str) -> tuple[list[Any], int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        values = [_untag(v) for v in payload["v"]]
        ident = payload["i"]
        ok = payload["s"] == _signature(order) and len(values) == len(order.keys)
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError("bad cursor") from exc
    if not ok or not isinstance(ident, int) or isinstance(ident, bool):
        raise ValueError("the cursor belongs to another sort order")
    return values, ident


# ---------------------------------------------------------------- conditions


def _filter_value(column: Column, value: Any) -> Any:
    """An ``equals`` value in Python form (a list field's item for a JSON column)."""
    if column.field is None:
        if column.kind in ("bigint", "int"):
            return int(value)
        if column.kind == "datetime":
            if not isinstance(value, datetime):
                raise ValueError(f"'{column.name}' takes a datetime")
            return value
        return str(value)
    if column.kind == "json":
        items = coerce(column.field, "json", [value])
        return items[0] if items else None
    return coerce(column.field, column.kind, value)


def equals_sql(pg: bool, table: Table, name: str, values: list[Any]) -> Sql:
    column = table.columns.get(name)
    if column is None:
        raise ValueError(f"cannot filter {table.entity.key} by '{name}'")
    try:
        picked = [_filter_value(column, v) for v in values if v is not None and v != ""]
    except (InvalidValue, TypeError) as exc:
        raise ValueError(f"bad filter value for '{name}': {exc}") from exc
    wants_null = any(v is None or v == "" for v in values)
    col = f"{quote(table.name)}.{quote(name)}"
    tests: list[Sql] = []
    if column.kind == "json":
        tests.extend(_holds(pg, table, name, item) for item in picked)
    elif picked:
        marks: list[Sql | str] = [Sql(pg, P(encode(column.kind, v, pg))) for v in picked]
        tests.append(Sql(pg, f"{col} IN (").join(marks, ", ").add(")"))
    if wants_null:
        tests.append(Sql(pg, f"{col} IS NULL"))
    if not tests:
        return Sql(pg, "1 = 1")
    return Sql(pg, "(").join(tests, " OR ").add(")")


def search_sql(pg: bool, table: Table, text: str, names: list[str]) -> Sql:
    tests: list[Sql | str] = []
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    for name in names:
        column = table.columns.get(name)
        if column is None or column.kind not in TEXT_KINDS:
            raise ValueError(f"cannot search {table.entity.key} in '{name}'")
        op = "ILIKE" if pg else "LIKE"
        tests.append(
            Sql(pg, f"{quote(table.name)}.{quote(name)} {op} ", P(pattern, "text"), " ESCAPE '\\'")
        )
    if not tests:
        return Sql(pg, "1 = 1")
    return Sql(pg, "(").join(tests, " OR ").add(")")


def _paths_sql(pg: bool, table: Table, paths: Sequence[str]) -> list[Sql | str]:
    """Rows whose ``org_path`` starts with a path (as a range: index-friendly)."""
    col = f'{quote(table.name)}."org_path"'
    tests: list[Sql | str] = []
    for path in paths:
        upper = path[:-1] + chr(ord(path[-1]) + 1)
        tests.append(
            Sql(pg, f"({col} >= ", P(path, "text"), f" AND {col} < ", P(upper, "text"), ")")
        )
    return tests


def _any(pg: bool, tests: list[Sql | str]) -> Sql:
    if not tests:
        return Sql(pg, "1 = 0")
    return Sql(pg, "(").join(tests, " OR ").add(")")


def _holds(pg: bool, table: Table, name: str, value: Any) -> Sql:
    """Field ``name`` is ``value``, or holds it when it is a list."""
    column = table.columns.get(name)
    if column is None:
        raise ValueError(f"{table.entity.key} has no field '{name}'")
    col = f"{quote(table.name)}.{quote(name)}"
    if column.kind == "json":
        if pg:
            return Sql(pg, f"{col} @> ", P(json.dumps([value], ensure_ascii=False), "jsonb"))
        return Sql(pg, f"EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ", P(value), ")")
    return Sql(pg, f"{col} = ", P(encode(column.kind, value, pg)))


def scope_sql(pg: bool, table: Table, scope: Scope) -> Sql | None:
    """The row rule of ``scope``; None when it admits everything."""
    if scope.nothing:
        return Sql(pg, "1 = 0")
    if scope.everything:
        return None
    tests = _paths_sql(pg, table, list(scope.org_paths))
    if scope.owner is not None:
        tests.append(Sql(pg, f'{quote(table.name)}."owner" = ', P(int(scope.owner))))
    for name, _is_list, value in scope.assigned:
        if value is not None:
            tests.append(_holds(pg, table, name, value))
    return _any(pg, tests)


def where_sql(store_pg: bool, table: Table, query: ListQuery, ctx: Context, org_path: Any) -> Sql:
    """The AND of every condition of ``query`` (``1 = 1`` when none)."""
    pg = store_pg
    dialect = "postgres" if pg else "sqlite"
    parts: list[Sql | str] = []
    entity = table.entity
    for expr in query.where:
        unknown = [n for n in expr.names if n not in table.columns and n not in table.children]
        if unknown:
            raise ValueError(f"the condition reads unknown fields {unknown}")
        sql, params = expr.to_sql(dialect, lambda n: column_sql(entity, n, dialect), ctx)
        parts.append(Sql(pg, "(", Embedded(sql, params), ")"))
    for name, values in query.equals.items():
        if values:
            parts.append(equals_sql(pg, table, name, list(values)))
    if query.search is not None:
        text, names = query.search
        if text.strip():
            parts.append(search_sql(pg, table, text.strip(), list(names)))
    if query.within is not None:
        parts.append(_any(pg, _paths_sql(pg, table, [org_path(u) for u in query.within])))
    if query.scope is not None:
        rule = scope_sql(pg, table, query.scope)
        if rule is not None:
            parts.append(rule)
    if not parts:
        return Sql(pg, "1 = 1")
    return Sql(pg).join(parts, " AND ")


# ---------------------------------------------------------------- keyset


def _eq(pg: bool, key: Key, value: Any) -> Sql:
    if value is None:
        return Sql(pg, f"{key.sql} IS NULL")
    return Sql(pg, f"{key.sql} = ", P(value))


def _after(pg: bool, key: Key, value: Any, desc: bool) -> Sql | None:
    """Strictly after ``value`` in direction ``desc``, null being the largest value."""
    if not desc:
        if value is None:
            return None
        tail = f" OR {key.sql} IS NULL" if key.nullable else ""
        return Sql(pg, f"({key.sql} > ", P(value), f"{tail})")
    if value is None:
        return Sql(pg, f"{key.sql} IS NOT NULL")
    return Sql(pg, f"{key.sql} < ", P(value))


def keyset_sql(pg: bool, order: Order, values: list[Any], ident: int, flip: bool) -> Sql:
    """Rows strictly after (``flip``: before) the cursor row in the sort order."""
    keys = order.keys
    desc = [k.desc != flip for k in keys]
    id_desc = order.id_desc != flip
    plain = all(not k.nullable for k in keys) and len({*desc, id_desc}) == 1
    if plain:
        op = "<" if id_desc else ">"
        names = ", ".join([k.sql for k in keys] + ['"id"'])
        marks: list[Sql | str] = [Sql(pg, P(v)) for v in values]
        marks.append(Sql(pg, P(ident)))
        return Sql(pg, f"(({names}) {op} (").join(marks, ", ").add("))")
    branches: list[Sql | str] = []
    for j, key in enumerate(keys):
        step = _after(pg, key, values[j], desc[j])
        if step is None:
            continue
        branch = Sql(pg)
        for m in range(j):
            branch.add(_eq(pg, keys[m], values[m]), " AND ")
        branches.append(branch.add(step))
    last = Sql(pg)
    for m, key in enumerate(keys):
        last.add(_eq(pg, key, values[m]), " AND ")
    last.add(f'"id" {"<" if id_desc else ">"} ', P(ident))
    branches.append(last)
    return Sql(pg, "(").join([Sql(pg, "(", b, ")") for b in branches], " OR ").add(")")


def order_sql(order: Order, flip: bool) -> str:
    parts = []
    for key in order.keys:
        desc = key.desc != flip
        nulls = (" NULLS FIRST" if desc else " NULLS LAST") if key.nullable else ""
        parts.append(f"{key.sql} {'DESC' if desc else 'ASC'}{nulls}")
    id_desc = order.id_desc != flip
    parts.append(f'"id" {"DESC" if id_desc else "ASC"}')
    return ", ".join(parts)


def select_sql(
    pg: bool,
    table: Table,
    names: list[str],
    where: Sql,
    order: Order,
    cursor: tuple[list[Any], int] | None,
    flip: bool,
    limit: int,
) -> Sql:
    columns = ", ".join(f"{quote(table.name)}.{quote(n)}" for n in names)
    sql = Sql(pg, f"SELECT {columns} FROM {quote(table.name)} WHERE ", where)
    if cursor is not None:
        sql.add(" AND ", keyset_sql(pg, order, cursor[0], cursor[1], flip))
    sql.add(f" ORDER BY {order_sql(order, flip)} LIMIT {int(limit)}")
    return sql
