"""Option lists shared by ``choice`` and ``multichoice``; registers nothing itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from widgets._common import Problems, get, label_pair, scalar_text
from widgets.base import Invalid

NOT_AN_OPTION = Invalid("not_an_option", "请从选项中选择", "Choose one of the options")


def option_value(item: Any) -> str | None:
    """The stored value of one option: a string, a number, or ``{value, label}``."""
    if isinstance(item, Mapping):
        item = item.get("value")
    if isinstance(item, str):
        return item
    return scalar_text(item)


def read_options(field: Any) -> list[tuple[str, Any]]:
    """``[(value, label)]`` of the readable options, in order."""
    items = get(field, "options")
    if not isinstance(items, list | tuple):
        return []
    result: list[tuple[str, Any]] = []
    for item in items:
        value = option_value(item)
        if value is not None:
            result.append((value, item.get("label") if isinstance(item, Mapping) else None))
    return result


def resolve(raw: Any, field: Any) -> str | None:
    """The option value that ``raw`` names: its value, or else its label (CSV imports)."""
    text = scalar_text(raw)
    if text is None or len(text) > 1000:
        return None
    options = read_options(field)
    if any(value == text for value, _ in options):
        return text
    folded = text.casefold()
    for value, label in options:
        if label is not None and folded in {part.casefold() for part in label_pair(label, value)}:
            return value
    return text


def check_option_list(field: Any, problems: Problems) -> int:
    """Duplicate or empty option values; returns how many options there are."""
    items = get(field, "options")
    if not isinstance(items, list | tuple):
        return 0
    seen: set[str] = set()
    for index, item in enumerate(items):
        value = option_value(item)
        if value is None:
            continue
        if not value.strip():
            problems.append((f"options[{index}]", "an option value must not be blank"))
        elif value in seen:
            problems.append((f"options[{index}]", f"option '{value}' is listed twice"))
        seen.add(value)
    return len(items)
