"""``money``: an amount in yuan, exact to the fen (two decimals)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    decimal_places,
    get,
    is_empty,
    normalized,
    to_decimal,
    to_number,
)
from widgets._numeric import NOT_A_NUMBER, check_bound_options, check_bounds, too_large, too_small
from widgets.base import Invalid, Widget, register

LIMIT = Decimal(10) ** 13  # ten trillion yuan
CENT = Decimal("0.01")
TOO_PRECISE = Invalid(
    "too_many_decimals", "金额最多 2 位小数（精确到分）", "At most 2 decimal places (to the fen)"
)
_CURRENCY = re.compile(r"^([+-]?)\s*(?:¥|RMB|CNY)\s*", re.IGNORECASE)


def _amount_text(raw: str) -> str:
    """Drop the currency marks people type: '¥1,234.50', 'RMB 100', '100元'."""
    text = normalized(raw)
    text = _CURRENCY.sub(lambda m: m.group(1), text)
    return re.sub(r"\s*(?:元|圆|CNY|RMB)$", "", text, flags=re.IGNORECASE)


@register
class MoneyWidget(Widget):
    """Parsed as a ``Decimal`` with two places."""

    name = "money"
    label = "money"
    expr_type = "number"
    template = "_money.html"
    options: ClassVar[Mapping[str, str]] = {
        "min": "The smallest amount allowed.",
        "max": "The largest amount allowed.",
        "currency": "The currency code (only CNY, the default).",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("1,234.50", {"type": "money"}, Decimal("1234.50")),
            ("¥1234.5", {"type": "money"}, Decimal("1234.50")),
            ("￥ 88", {"type": "money"}, Decimal("88.00")),
            ("100元", {"type": "money", "min": 0}, Decimal("100.00")),
            (0.1, {"type": "money"}, Decimal("0.10")),
            (Decimal("-5"), {"type": "money"}, Decimal("-5.00")),
        ],
        "bad": [
            ("12.345", {"type": "money"}, "too_many_decimals"),
            ("一百元", {"type": "money"}, "not_a_number"),
            ("1,23", {"type": "money"}, "not_a_number"),
            (float("inf"), {"type": "money"}, "not_a_number"),
            ("-1", {"type": "money", "min": 0}, "too_small"),
            ("¥10,000.01", {"type": "money", "max": 10000}, "too_large"),
            ("1e14", {"type": "money"}, "too_large"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        amount = to_decimal(_amount_text(raw) if isinstance(raw, str) and len(raw) < 80 else raw)
        if amount is None:
            return None, NOT_A_NUMBER
        if amount > LIMIT:
            return None, too_large(LIMIT)
        if amount < -LIMIT:
            return None, too_small(-LIMIT)
        if decimal_places(amount) > 2:
            return None, TOO_PRECISE
        return amount.quantize(CENT), None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        amount = to_number(value)
        if amount is None:
            return NOT_A_NUMBER
        if abs(amount) > LIMIT:
            return too_large(LIMIT) if amount > 0 else too_small(-LIMIT)
        if decimal_places(amount) > 2:
            return TOO_PRECISE
        return check_bounds(amount, field)

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        check_bound_options(field, problems)
        currency = get(field, "currency")
        if isinstance(currency, str) and currency != "CNY":
            problems.append(("currency", f"currency '{currency}' is not supported; use CNY"))
        return problems
