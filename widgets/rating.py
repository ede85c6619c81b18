"""``rating``: a number of stars."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    check_variant,
    decimal_places,
    get,
    is_empty,
    is_int,
    normalized,
    opt_int,
    to_decimal,
)
from widgets.base import Invalid, Widget, register

DEFAULT_MAX = 5
NOT_A_RATING = Invalid("not_a_rating", "请选择星级", "Choose a rating")


def out_of_range(low: int, high: int) -> Invalid:
    return Invalid(
        "rating_out_of_range", f"请选择 {low} 到 {high} 星", f"Choose {low} to {high} stars"
    )


def bounds(field: Any) -> tuple[int, int]:
    high = opt_int(field, "max")
    high = high if high is not None and 1 <= high <= 10 else DEFAULT_MAX
    low = opt_int(field, "min")
    low = low if low in (0, 1) else 1
    return low, high


@register
class RatingWidget(Widget):
    """Parsed as an ``int`` from ``min`` (default 1) to ``max`` (default 5)."""

    name = "rating"
    label = "rating"
    expr_type = "number"
    template = "_rating.html"
    options: ClassVar[Mapping[str, str]] = {
        "max": "The number of stars, 1 to 10 (default 5).",
        "min": "The lowest rating allowed, 0 or 1 (default 1).",
        "widget": "The display variant: stars (the default) or select.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("4", {"type": "rating"}, 4),
            (5, {"type": "rating"}, 5),
            ("★★★", {"type": "rating"}, 3),
            ("3星", {"type": "rating"}, 3),
            (10.0, {"type": "rating", "max": 10}, 10),
        ],
        "bad": [
            ("6", {"type": "rating"}, "rating_out_of_range"),
            (0, {"type": "rating"}, "rating_out_of_range"),
            ("3.5", {"type": "rating"}, "not_a_rating"),
            ("很好", {"type": "rating"}, "not_a_rating"),
            (False, {"type": "rating"}, "not_a_rating"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if isinstance(raw, str):
            if len(raw) > 20:
                return None, NOT_A_RATING
            text = normalized(raw)
            if re.fullmatch(r"★+☆*", text):
                return text.count("★"), None
            raw = re.sub(r"\s*[星分]$", "", text)
        number = to_decimal(raw)
        if number is None or decimal_places(number) or abs(number) > 1000:
            return None, NOT_A_RATING
        return int(number), None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not is_int(value):
            return NOT_A_RATING
        low, high = bounds(field)
        return None if low <= value <= high else out_of_range(low, high)

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        high, low = opt_int(field, "max"), opt_int(field, "min")
        if high is not None and not 1 <= high <= 10:
            problems.append(("max", "max (the number of stars) must be between 1 and 10"))
        elif high is None and isinstance(get(field, "max"), str | float):
            problems.append(("max", "max must be a whole number of stars"))
        if low is not None and low not in (0, 1):
            problems.append(("min", "min must be 0 or 1"))
        check_variant(field, ("stars", "select"), problems)
        return problems
