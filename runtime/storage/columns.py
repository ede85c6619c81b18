"""How a field is stored: its column kind, and its values to and from the database.

Every field maps to one *kind* (the signature recorded in ``ColumnState``),
and each kind has one representation per database, the one the expression
language's SQL storage contract expects (see ``runtime.expr``):

=========  ==========================  ===============================
kind       SQLite                      PostgreSQL
=========  ==========================  ===============================
varchar    VARCHAR(2000), text         VARCHAR(2000) COLLATE "C"
text       TEXT                        TEXT COLLATE "C"
bigint     BIGINT (INTEGER)            BIGINT
double     REAL                        DOUBLE PRECISION
cents      BIGINT: money in fen        BIGINT: money in fen
int        INT                         INT
date       TEXT 'YYYY-MM-DD'           DATE
datetime   TEXT, UTC ISO, 6 digits µs  TIMESTAMPTZ
bool       INT 0/1                     BOOL
json       TEXT (JSON)                 JSONB
children   a child table               a child table
=========  ==========================  ===============================

Python values are the widgets' (``Decimal`` for money, ``date``, aware UTC
``datetime``, lists); a value of another type is run through the field's
widget ``parse`` first, so imports may pass raw text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tortoise import fields

from runtime.model import Field

KINDS = (
    "varchar",
    "text",
    "bigint",
    "double",
    "cents",
    "int",
    "date",
    "datetime",
    "bool",
    "json",
    "children",
)
TEXT_KINDS = frozenset({"varchar", "text"})
VARCHAR_LENGTH = 2000
EXACT = 2**53
CENT = Decimal("0.01")

_SCALAR = {
    "text": "varchar",
    "choice": "varchar",
    "phone": "varchar",
    "idcard": "varchar",
    "longtext": "text",
    "money": "cents",
    "rating": "int",
    "date": "date",
    "datetime": "datetime",
    "bool": "bool",
    "multichoice": "json",
    "file": "json",
    "image": "json",
    "audio": "json",
    "video": "json",
    "location": "json",
    "children": "children",
}
#: a widget added later: its kind from its expression type
_BY_EXPR_TYPE = {
    "text": "varchar",
    "number": "double",
    "bool": "bool",
    "date": "date",
    "datetime": "datetime",
    "user": "bigint",
    "ref": "bigint",
    "org": "varchar",
}
FILE_TYPES = frozenset({"file", "image", "audio", "video"})


class InvalidValue(ValueError):
    """A value that does not fit its field (after the widget's ``parse``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def field_kind(field: Field) -> str:
    """The column kind of a field."""
    kind = field.type
    multiple = field.spec.get("multiple") is True
    if kind == "number":
        return "bigint" if field.spec.get("decimals") == 0 else "double"
    if kind in ("user", "ref"):
        return "json" if multiple else "bigint"
    if kind == "org":
        return "json" if multiple else "varchar"
    if kind in _SCALAR:
        return _SCALAR[kind]
    if multiple:
        return "json"
    return _BY_EXPR_TYPE.get(field.widget.expr_type, "json")


# ---------------------------------------------------------------- Tortoise fields


class VarcharField(fields.CharField):  # type: ignore[type-arg]
    """A short text ordered by code point in both databases."""

    class _db_postgres:
        SQL_TYPE = f'VARCHAR({VARCHAR_LENGTH}) COLLATE "C"'


class LongTextField(fields.TextField):  # type: ignore[type-arg]
    class _db_postgres:
        SQL_TYPE = 'TEXT COLLATE "C"'


class IsoDateField(fields.DateField):  # type: ignore[type-arg]
    class _db_sqlite:
        SQL_TYPE = "TEXT"


class IsoDatetimeField(fields.DatetimeField):  # type: ignore[type-arg]
    class _db_sqlite:
        SQL_TYPE = "TEXT"


class JsonTextField(fields.JSONField):  # type: ignore[type-arg]
    class _db_sqlite:
        SQL_TYPE = "TEXT"


_FIELDS: dict[str, Any] = {
    "varchar": lambda **kw: VarcharField(max_length=VARCHAR_LENGTH, **kw),
    "text": lambda **kw: LongTextField(null=kw["null"]),
    "bigint": fields.BigIntField,
    "cents": fields.BigIntField,
    "double": fields.FloatField,
    "int": fields.IntField,
    "date": IsoDateField,
    "datetime": IsoDatetimeField,
    "bool": fields.BooleanField,
    "json": JsonTextField,
}


def tortoise_field(kind: str, *, null: bool = True, unique: bool = False) -> fields.Field[Any]:
    """The Tortoise field of a column kind (used for the DDL)."""
    options: dict[str, Any] = {"null": null}
    if unique:
        options["unique"] = True
    maker = _FIELDS.get(kind)
    if maker is not None:
        field: fields.Field[Any] = maker(**options)
        return field
    raise ValueError(f"no column for kind {kind!r}")


# ---------------------------------------------------------------- Python ↔ database


def encode(kind: str, value: Any, pg: bool) -> Any:
    """A Python value (already coerced) as the database stores it."""
    if value is None:
        return None
    if kind == "cents":
        return int((Decimal(value) * 100).to_integral_value(ROUND_HALF_UP))
    if kind == "date":
        return value if pg else value.isoformat()
    if kind == "datetime":
        moment = value.astimezone(UTC)
        return moment if pg else moment.isoformat(timespec="microseconds")
    if kind == "bool":
        return bool(value) if pg else int(bool(value))
    if kind == "json":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if kind == "double":
        return float(value)
    return value


def decode(kind: str, raw: Any) -> Any:
    """A stored value back in Python form (both databases)."""
    if raw is None:
        return None
    if kind == "cents":
        return (Decimal(int(raw)) / 100).quantize(CENT)
    if kind == "date":
        if isinstance(raw, datetime):
            return raw.date()
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    if kind == "datetime":
        moment = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if kind == "bool":
        return bool(raw)
    if kind == "json":
        return json.loads(raw) if isinstance(raw, str | bytes) else raw
    if kind == "double":
        number = float(raw)
        if number.is_integer() and abs(number) <= EXACT:
            return int(number)
        return number
    if kind in ("bigint", "int"):
        return int(raw)
    return raw


def expr_value(kind: str, value: Any) -> Any:
    """A Python value as the expression language reads it.

    Money is the double ``cents / 100.0``, exactly what SQL computes from the
    stored column, so Python and SQL evaluations agree.
    """
    if kind == "cents" and value is not None:
        return int((Decimal(value) * 100).to_integral_value(ROUND_HALF_UP)) / 100.0
    return value


# ---------------------------------------------------------------- coercion


def _parse(field: Field, value: Any) -> Any:
    parsed, problem = field.widget.parse(value, field.spec)
    if problem is not None:
        raise InvalidValue(field.id, problem.en)
    return parsed


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _file_ids(field: Field, value: Any) -> list[int] | None:
    items = value if isinstance(value, list | tuple) else [value]
    ids: list[int] = []
    for item in items:
        if isinstance(item, Mapping):
            item = item.get("id")
        if not _is_int(item) or item <= 0:
            raise InvalidValue(field.id, "expected attachment ids")
        if item not in ids:
            ids.append(item)
    return ids or None


def coerce(field: Field, kind: str, value: Any) -> Any:
    """A value ready for ``encode``: the widget's Python form, or ``InvalidValue``."""
    if value is None or value == "" or value == []:
        return None
    if field.type in FILE_TYPES:
        return _file_ids(field, value)
    if kind == "children":
        raise InvalidValue(field.id, "child rows are stored by the records layer")
    if not _fits(kind, value) or kind == "json":  # lists: items checked by the widget
        value = _parse(field, value)
        if value is None:
            return None
        if not _fits(kind, value):
            raise InvalidValue(field.id, f"cannot store {type(value).__name__} as {kind}")
    if kind == "cents":
        return Decimal(value).quantize(CENT, ROUND_HALF_UP)
    if kind == "datetime":
        return value.astimezone(UTC)
    if kind == "bigint" and isinstance(value, float):
        return round(value)
    if kind == "json" and isinstance(value, tuple):
        return list(value)
    return value


def _fits(kind: str, value: Any) -> bool:
    if kind in TEXT_KINDS:
        return isinstance(value, str)
    if kind in ("bigint", "int"):
        return _is_int(value) or (isinstance(value, float) and value.is_integer())
    if kind == "double":
        return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)
    if kind == "cents":
        return isinstance(value, Decimal) and value.is_finite() and value == value.quantize(CENT)
    if kind == "date":
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind == "datetime":
        return isinstance(value, datetime) and value.tzinfo is not None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "json":
        return isinstance(value, list | tuple | dict)
    return False
