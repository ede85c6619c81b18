"""What the records layer hands back: records, pages, labels, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


class Record(dict[str, Any]):
    """Field values in Python form (the widgets' values) plus the system values.

    System keys: ``id org org_path owner state created_at updated_at created_by
    updated_by row_version scenario_version`` (and ``receipt`` when enabled).
    A child table is a list of row dicts (or None when it has no rows).
    """

    __slots__ = ("entity",)

    def __init__(self, entity: str, values: dict[str, Any]) -> None:
        super().__init__(values)
        self.entity = entity  # scenario.entity

    @property
    def id(self) -> int:
        return int(self["id"])

    @property
    def version(self) -> int:
        return int(self["row_version"])

    def __repr__(self) -> str:
        return f"Record({self.entity!r}, {dict.__repr__(self)})"


class NotFound(LookupError):
    def __init__(self, entity: str, record_id: int) -> None:
        super().__init__(f"{entity} #{record_id} does not exist")
        self.entity = entity
        self.record_id = record_id


class Conflict(Exception):
    """Someone else saved the record first: ``current`` is what is stored now."""

    def __init__(self, current: Record, by: int | None) -> None:
        super().__init__(
            f"{current.entity} #{current.id} was changed by user {by} "
            f"(now version {current.version})"
        )
        self.current = current
        self.by = by


class Taken(Exception):
    """A unique field's value is held by another record: ``fields`` names them."""

    def __init__(self, entity: str, fields: list[str]) -> None:
        super().__init__(f"{entity}: {', '.join(fields)} already taken by another record")
        self.fields = fields


@dataclass
class Page:
    rows: list[Record]
    next: str | None = None  # cursor for ListQuery.after
    prev: str | None = None  # cursor for ListQuery.before


class Labels(dict[str, dict[Any, str]]):
    """Display names by kind: ``labels["user"][id]``, ``labels["org"][unit]``, and for
    each referenced entity ``labels[key][id]`` (the key as it was asked for)."""

    @property
    def users(self) -> dict[Any, str]:
        return self.setdefault("user", {})

    @property
    def orgs(self) -> dict[Any, str]:
        return self.setdefault("org", {})

    def refs(self, key: str) -> dict[Any, str]:
        return self.setdefault(key, {})


def jsonable(value: Any) -> Any:
    """A value for the audit trail's JSON (money as text, dates as ISO)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value
