"""``date``: a calendar date."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar

from widgets._common import (
    SHANGHAI,
    Problems,
    Samples,
    check_order,
    get,
    is_empty,
    parse_date_text,
    to_date,
)
from widgets.base import Invalid, Widget, register

NOT_A_DATE = Invalid("not_a_date", "请输入日期，如 2024-05-01", "Enter a date like 2024-05-01")
INVALID_DATE = Invalid(
    "invalid_date", "没有这一天，请检查日期", "There is no such day; check the date"
)


@register
class DateWidget(Widget):
    """Parsed as a ``datetime.date``."""

    name = "date"
    label = "date"
    expr_type = "date"
    template = "_date.html"
    options: ClassVar[Mapping[str, str]] = {
        "min": "The earliest date allowed, as 'YYYY-MM-DD'.",
        "max": "The latest date allowed, as 'YYYY-MM-DD'.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("2024-05-01", {"type": "date"}, date(2024, 5, 1)),
            ("2024/5/1", {"type": "date"}, date(2024, 5, 1)),
            ("2024年5月1日", {"type": "date"}, date(2024, 5, 1)),
            ("2024-02-29 00:00:00", {"type": "date"}, date(2024, 2, 29)),
            (date(2023, 12, 31), {"type": "date", "min": "2023-01-01"}, date(2023, 12, 31)),
        ],
        "bad": [
            ("昨天", {"type": "date"}, "not_a_date"),
            ("2023-02-29", {"type": "date"}, "invalid_date"),
            (20240501.0, {"type": "date"}, "not_a_date"),
            ("2023-12-31", {"type": "date", "min": "2024-01-01"}, "too_early"),
            ("2025-01-01", {"type": "date", "max": "2024-12-31"}, "too_late"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if isinstance(raw, datetime):
            if raw.tzinfo is not None and raw.utcoffset() is not None:
                try:
                    return raw.astimezone(SHANGHAI).date(), None
                except (OverflowError, ValueError):
                    return None, NOT_A_DATE
            return raw.date(), None
        if isinstance(raw, date):
            return raw, None
        if not isinstance(raw, str):
            return None, NOT_A_DATE
        parsed = parse_date_text(raw)
        if isinstance(parsed, date):
            return parsed, None
        return None, INVALID_DATE if parsed == "invalid_date" else NOT_A_DATE

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, date) or isinstance(value, datetime):
            return NOT_A_DATE
        low, high = to_date(get(field, "min")), to_date(get(field, "max"))
        if low is not None and value < low:
            return Invalid(
                "too_early", f"不能早于 {low.isoformat()}", f"Must be on or after {low.isoformat()}"
            )
        if high is not None and value > high:
            return Invalid(
                "too_late",
                f"不能晚于 {high.isoformat()}",
                f"Must be on or before {high.isoformat()}",
            )
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        bounds: dict[str, date | None] = {}
        for key in ("min", "max"):
            raw = get(field, key)
            bounds[key] = to_date(raw)
            if raw is not None and bounds[key] is None and isinstance(raw, str | int | float):
                problems.append((key, f"{key} must be a date written 'YYYY-MM-DD' (quoted)"))
        check_order(bounds["min"], bounds["max"], problems)
        return problems
