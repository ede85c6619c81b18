"""What the database holds: its tables, their columns and its index names.

Read before every schema decision (and before querying a column that may not
exist yet: SQLite reads an unknown double-quoted name as a string literal).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.sql import quote

#: the declared types storage creates, per kind, as each database reports them
DECLARED: dict[str, dict[str, str]] = {
    "sqlite": {
        "varchar": "VARCHAR(2000)",
        "text": "TEXT",
        "bigint": "BIGINT",
        "cents": "BIGINT",
        "double": "REAL",
        "int": "INT",
        "date": "TEXT",
        "datetime": "TEXT",
        "bool": "INT",
        "json": "TEXT",
    },
    "postgres": {
        "varchar": "character varying",
        "text": "text",
        "bigint": "bigint",
        "cents": "bigint",
        "double": "double precision",
        "int": "integer",
        "date": "date",
        "datetime": "timestamp with time zone",
        "bool": "boolean",
        "json": "jsonb",
    },
}


@dataclass
class Catalog:
    """Tables → {column: declared type}, and the set of index names."""

    tables: dict[str, dict[str, str]] = field(default_factory=dict)
    indexes: set[str] = field(default_factory=set)

    def has_table(self, name: str) -> bool:
        return name in self.tables

    def columns(self, table: str) -> dict[str, str]:
        return self.tables.get(table, {})


async def read_catalog(conn: BaseDBAsyncClient, dialect: str) -> Catalog:
    catalog = Catalog()
    if dialect == "postgres":
        rows = await conn.execute_query_dict(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
        )
        for row in rows:
            catalog.tables.setdefault(row["table_name"], {})[row["column_name"]] = row["data_type"]
        rows = await conn.execute_query_dict(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
        catalog.indexes = {row["indexname"] for row in rows}
        return catalog
    rows = await conn.execute_query_dict(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'index') "
        "AND name NOT LIKE 'sqlite_%'"
    )
    for row in rows:
        if row["type"] == "index":
            catalog.indexes.add(row["name"])
            continue
        info = await conn.execute_query_dict(f"PRAGMA table_info({quote(row['name'])})")
        catalog.tables[row["name"]] = {col["name"]: str(col["type"]) for col in info}
    return catalog


def declared_kinds(dialect: str, declared: str) -> set[str]:
    """The kinds a column of this declared type may have been created for."""
    wanted = declared.strip().lower()
    return {kind for kind, sql in DECLARED[dialect].items() if sql.lower() == wanted}
