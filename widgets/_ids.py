"""Record and org ids shared by ``ref``, ``user`` and ``org``; registers nothing."""

from __future__ import annotations

import re
from typing import Any

from widgets._common import decimal_places, is_int, normalized, to_decimal
from widgets.base import Invalid

MAX_ID = 2**63 - 1  # a PostgreSQL bigint
ORG_ID = re.compile(r"[a-z0-9_.-]{1,64}")
DUPLICATE = Invalid("duplicate_value", "同一项选了两次", "The same one is chosen twice")
ONLY_ONE = Invalid("too_many_values", "只能选择一项", "Choose only one")


def record_id(raw: Any) -> int | None:
    """A positive integer id from an int, a whole float or a digit string."""
    if is_int(raw):
        return raw if 0 < raw <= MAX_ID else None
    if isinstance(raw, str):
        if len(raw) > 30:
            return None
        raw = normalized(raw)
        if not re.fullmatch(r"[0-9]+", raw):
            return None
    number = to_decimal(raw)
    if number is None or decimal_places(number) or not 0 < number <= MAX_ID:
        return None
    return int(number)


def is_record_id(value: Any) -> bool:
    return is_int(value) and 0 < value <= MAX_ID


def org_id(raw: Any) -> str | None:
    """An org unit id: [a-z0-9_.-], at most 64 characters."""
    if is_int(raw) and 0 <= raw < 10**30:
        raw = str(raw)
    if not isinstance(raw, str) or len(raw) > 200:
        return None
    text = raw.strip()
    return text if ORG_ID.fullmatch(text) else None


def is_org_id(value: Any) -> bool:
    return isinstance(value, str) and ORG_ID.fullmatch(value) is not None
