"""Values as people read them (lists, record pages, exports) and as inputs show them.

``show`` turns a stored value into text in the reader's language: option
labels for choices, 是/否, local dates and times, ¥ amounts, names for users,
org units and referenced records (from lookup tables the caller fetched in one
query per kind), masked phone and ID numbers where a field rule says so.
``raw`` turns a value back into what an input holds when a form is shown again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from runtime.model import Field, text
from runtime.web.i18n import t

ZONE = ZoneInfo("Asia/Shanghai")


def local(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZONE)


def option_labels(field: Field, locale: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for option in field.spec.get("options") or []:
        if isinstance(option, dict):
            out[str(option["value"])] = text(option.get("label") or option["value"], locale)
        else:
            out[str(option)] = str(option)
    return out


def mask(value: str, kind: str) -> str:
    """138****8000, 3303**********1234."""
    if kind == "phone" and len(value) >= 7:
        return value[:3] + "*" * (len(value) - 7) + value[-4:]
    if len(value) > 8:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    return "*" * len(value)


def show(
    field: Field,
    value: Any,
    locale: str = "zh",
    names: Mapping[str, Mapping[Any, str]] | None = None,
    *,
    masked: bool = False,
) -> str:
    """A stored value as text; ``names`` maps 'user' / 'org' / entity keys to id → label."""
    if value is None or value == "" or value == []:
        return ""
    kind = field.type
    names = names or {}
    if kind in ("choice", "multichoice"):
        labels = option_labels(field, locale)
        items = value if isinstance(value, list) else [value]
        return "、".join(labels.get(str(v), str(v)) for v in items)
    if kind == "bool":
        if field.spec.get("true_label") and value:
            return text(field.spec["true_label"], locale)
        if field.spec.get("false_label") and not value:
            return text(field.spec["false_label"], locale)
        return t("yes" if value else "no", locale)
    if kind == "money":
        return f"¥{Decimal(str(value)):,.2f}"
    if kind == "number":
        number = value if not isinstance(value, float) or not value.is_integer() else int(value)
        unit = text(field.spec.get("unit"), locale) if field.spec.get("unit") else ""
        return f"{number}{unit}"
    if kind == "rating":
        return "★" * int(value)
    if kind == "date":
        return value.isoformat() if isinstance(value, dt.date) else str(value)
    if kind == "datetime":
        return (
            local(value).strftime("%Y-%m-%d %H:%M")
            if isinstance(value, dt.datetime)
            else str(value)
        )
    if kind in ("user", "org", "ref"):
        table = names.get(
            "user" if kind == "user" else "org" if kind == "org" else str(field.spec.get("entity")),
            {},
        )
        items = value if isinstance(value, list) else [value]
        return "、".join(table.get(v, str(v)) for v in items)
    if kind in ("file", "image", "audio", "video"):
        items = value if isinstance(value, list) else [value]
        return "、".join(str(i.get("name", i)) if isinstance(i, dict) else str(i) for i in items)
    if kind == "location" and isinstance(value, dict):
        place = f"{value.get('lat')},{value.get('lng')}"
        return f"{value['address']} ({place})" if value.get("address") else place
    if kind == "children":
        return f"{len(value)} 行" if locale != "en" else f"{len(value)} rows"
    shown = str(value)
    if masked:
        return mask(shown, kind)
    return shown


def ruled(
    field: Field,
    value: Any,
    rule: str | None,
    locale: str = "zh",
    names: Mapping[str, Mapping[Any, str]] | None = None,
) -> str:
    """``show`` under a field rule: '' when hidden, masked when masked."""
    if rule == "hidden":
        return ""
    return show(field, value, locale, names, masked=rule == "masked")


def raw(field: Field, value: Any) -> str:
    """A value as an input holds it (the inverse of the widget's ``parse``)."""
    if value is None:
        return ""
    kind = field.type
    if kind == "bool":
        return "true" if value else "false"
    if kind == "datetime" and isinstance(value, dt.datetime):
        return local(value).strftime("%Y-%m-%dT%H:%M")
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if kind == "money":
        return f"{Decimal(str(value)):.2f}"
    if kind == "location" and isinstance(value, dict):
        return f"{value.get('lat')},{value.get('lng')}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def system_text(
    name: str, value: Any, locale: str, names: Mapping[str, Mapping[Any, str]] | None = None
) -> str:
    """A system field (owner, org, created_at …) as text."""
    names = names or {}
    if value is None:
        return ""
    if name in ("owner", "created_by", "updated_by"):
        return names.get("user", {}).get(value, str(value))
    if name == "org":
        return names.get("org", {}).get(value, str(value))
    if isinstance(value, dt.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    return str(value)
