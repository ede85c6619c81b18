"""``datetime``: a moment in time; input without a zone is China time, stored in UTC."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    check_order,
    get,
    is_empty,
    local_text,
    to_datetime,
    to_utc,
)
from widgets.base import Invalid, Widget, register

NOT_A_DATETIME = Invalid(
    "not_a_datetime",
    "请输入日期和时间，如 2024-05-01 14:30",
    "Enter a date and time like 2024-05-01 14:30",
)


@register
class DateTimeWidget(Widget):
    """Parsed as an aware ``datetime`` in UTC."""

    name = "datetime"
    label = "date and time"
    expr_type = "datetime"
    template = "_datetime.html"
    options: ClassVar[Mapping[str, str]] = {
        "min": "The earliest moment allowed, as 'YYYY-MM-DD HH:MM' (China time) or ISO 8601.",
        "max": "The latest moment allowed, as 'YYYY-MM-DD HH:MM' (China time) or ISO 8601.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("2024-05-01 14:30", {"type": "datetime"}, datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
            (
                "2024-05-01T14:30:00+08:00",
                {"type": "datetime"},
                datetime(2024, 5, 1, 6, 30, tzinfo=UTC),
            ),
            ("2024-05-01T06:30:00Z", {"type": "datetime"}, datetime(2024, 5, 1, 6, 30, tzinfo=UTC)),
            ("2024年5月1日 8:05", {"type": "datetime"}, datetime(2024, 5, 1, 0, 5, tzinfo=UTC)),
            (
                datetime(2024, 5, 1, 8, 0),
                {"type": "datetime"},
                datetime(2024, 5, 1, 0, 0, tzinfo=UTC),
            ),
        ],
        "bad": [
            ("明天下午", {"type": "datetime"}, "not_a_datetime"),
            ("2024-05-01 25:00", {"type": "datetime"}, "not_a_datetime"),
            (1714545000, {"type": "datetime"}, "not_a_datetime"),
            ("2024-05-01 07:59", {"type": "datetime", "min": "2024-05-01 08:00"}, "too_early"),
            ("2024-05-02T00:00:00Z", {"type": "datetime", "max": "2024-05-01 23:59"}, "too_late"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        moment = to_datetime(raw)
        if moment is None:
            return None, NOT_A_DATETIME
        return moment, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            return NOT_A_DATETIME
        value = to_utc(value)
        if value is None:
            return NOT_A_DATETIME
        low, high = to_datetime(get(field, "min")), to_datetime(get(field, "max"))
        if low is not None and value < low:
            text = local_text(low)
            return Invalid("too_early", f"不能早于 {text}", f"Must be at or after {text}")
        if high is not None and value > high:
            text = local_text(high)
            return Invalid("too_late", f"不能晚于 {text}", f"Must be at or before {text}")
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        bounds: dict[str, datetime | None] = {}
        for key in ("min", "max"):
            raw = get(field, key)
            bounds[key] = to_datetime(raw)
            if raw is not None and bounds[key] is None and isinstance(raw, str | int | float):
                problems.append((key, f"{key} must be written 'YYYY-MM-DD HH:MM' (quoted)"))
        check_order(bounds["min"], bounds["max"], problems)
        return problems
