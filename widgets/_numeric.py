"""Bounds shared by ``number`` and ``money``; registers nothing itself."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from widgets._common import Problems, check_order, fmt_number, get, label_pair, to_decimal
from widgets.base import Invalid

NOT_A_NUMBER = Invalid("not_a_number", "请输入数字", "Enter a number")


def too_small(low: Decimal, unit: Any = None) -> Invalid:
    zh, en = _with_unit(fmt_number(low), unit)
    return Invalid("too_small", f"不能小于 {zh}", f"Must be at least {en}")


def too_large(high: Decimal, unit: Any = None) -> Invalid:
    zh, en = _with_unit(fmt_number(high), unit)
    return Invalid("too_large", f"不能大于 {zh}", f"Must be at most {en}")


def too_many_decimals(places: int) -> Invalid:
    if places == 0:
        return Invalid("too_many_decimals", "请输入整数", "Enter a whole number")
    return Invalid("too_many_decimals", f"最多 {places} 位小数", f"At most {places} decimal places")


def _with_unit(number: str, unit: Any) -> tuple[str, str]:
    if unit is None:
        return number, number
    zh, _ = label_pair(unit, "")
    english = unit.get("en") if isinstance(unit, Mapping) else None
    zh_text = f"{number} {zh}" if zh else number
    en_text = f"{number} {english}" if isinstance(english, str) and english else number
    return zh_text, en_text


def check_bounds(value: Decimal, field: Any) -> Invalid | None:
    """``min`` and ``max`` of the field (numbers or numeric strings)."""
    unit = get(field, "unit")
    low, high = to_decimal(get(field, "min")), to_decimal(get(field, "max"))
    if low is not None and value < low:
        return too_small(low, unit)
    if high is not None and value > high:
        return too_large(high, unit)
    return None


def check_bound_options(field: Any, problems: Problems) -> None:
    """``min``/``max`` must be numbers, ``min`` ≤ ``max``."""
    bounds: dict[str, Decimal | None] = {}
    for key in ("min", "max"):
        raw = get(field, key)
        bounds[key] = to_decimal(raw)
        if raw is not None and bounds[key] is None and isinstance(raw, str | float):
            problems.append((key, f"{key} must be a number"))
    check_order(bounds["min"], bounds["max"], problems)
