"""Storage: platform tables, one table per entity, schema sync, and the records API.

    from runtime.storage import open_store, ListQuery

    async with open_store(deployment, "sqlite:///data/yidi.sqlite3", "data") as store:
        record = await store.create("suggestions.suggestion", values, actor=1, org="lc")
        page = await store.list("suggestions.suggestion", ListQuery(limit=20), ctx)

See ``db`` (set-up, ``Store``), ``sync`` (schema plan), ``records`` and
``writes`` (the API), ``query`` (lists), ``columns`` (how each field type is
stored) and ``tables`` (``column_sql``).
"""

from __future__ import annotations

from runtime.storage.columns import InvalidValue, field_kind
from runtime.storage.db import Store, dialect_of, open_store
from runtime.storage.files import FileTooLarge, save_file
from runtime.storage.platform import (
    Attachment,
    Change,
    ColumnState,
    Grant,
    OrgUnit,
    User,
    register_models,
)
from runtime.storage.query import ListQuery
from runtime.storage.records import Records
from runtime.storage.result import Conflict, Labels, NotFound, Page, Record, Taken
from runtime.storage.sync import Plan, SchemaRefused, Step
from runtime.storage.tables import column_sql

__all__ = [
    "Attachment",
    "Change",
    "ColumnState",
    "Conflict",
    "FileTooLarge",
    "Grant",
    "InvalidValue",
    "Labels",
    "ListQuery",
    "NotFound",
    "OrgUnit",
    "Page",
    "Plan",
    "Record",
    "Records",
    "SchemaRefused",
    "Step",
    "Store",
    "Taken",
    "User",
    "column_sql",
    "dialect_of",
    "field_kind",
    "open_store",
    "register_models",
    "save_file",
]
