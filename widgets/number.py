"""``number``: a number, optionally with a unit, bounds and a number of decimals."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    decimal_places,
    get,
    is_empty,
    opt_int,
    to_decimal,
    to_number,
)
from widgets._numeric import (
    NOT_A_NUMBER,
    check_bound_options,
    check_bounds,
    too_large,
    too_many_decimals,
    too_small,
)
from widgets.base import Invalid, Widget, register

LIMIT = Decimal(10) ** 15  # beyond this a float no longer holds every whole number


@register
class NumberWidget(Widget):
    """Parsed as an ``int`` when whole, else a ``float``."""

    name = "number"
    label = "number"
    expr_type = "number"
    template = "_number.html"
    options: ClassVar[Mapping[str, str]] = {
        "min": "The smallest value allowed.",
        "max": "The largest value allowed.",
        "decimals": "The most digits after the decimal point (0 for whole numbers); any when absent.",
        "unit": "The unit shown after the value, e.g. 人 or 万元.",
        "step": "The step of the input's arrows.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("42", {"type": "number"}, 42),
            (" -3.25 ", {"type": "number"}, -3.25),
            ("1,234", {"type": "number"}, 1234),
            ("１２", {"type": "number", "decimals": 0}, 12),
            (7.5, {"type": "number", "min": 0, "max": 10, "decimals": 1}, 7.5),
            ("2.50", {"type": "number", "decimals": 1}, 2.5),
        ],
        "bad": [
            ("abc", {"type": "number"}, "not_a_number"),
            (float("nan"), {"type": "number"}, "not_a_number"),
            ("inf", {"type": "number"}, "not_a_number"),
            (True, {"type": "number"}, "not_a_number"),
            ("1.5", {"type": "number", "decimals": 0}, "too_many_decimals"),
            ("-1", {"type": "number", "min": 0}, "too_small"),
            (101, {"type": "number", "max": 100, "unit": "人"}, "too_large"),
            ("1e20", {"type": "number"}, "too_large"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        number = to_decimal(raw)
        if number is None:
            return None, NOT_A_NUMBER
        if number > LIMIT:
            return None, too_large(LIMIT)
        if number < -LIMIT:
            return None, too_small(-LIMIT)
        places = opt_int(field, "decimals")
        if places is not None and decimal_places(number) > places:
            return None, too_many_decimals(places)  # checked before a float rounds digits away
        if decimal_places(number) == 0:
            return int(number), None
        return float(number), None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        number = to_number(value)
        if number is None:
            return NOT_A_NUMBER
        if abs(number) > LIMIT:
            return too_large(LIMIT) if number > 0 else too_small(-LIMIT)
        places = opt_int(field, "decimals")
        if places is not None and decimal_places(number) > places:
            return too_many_decimals(places)
        return check_bounds(number, field)

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        check_bound_options(field, problems)
        places = opt_int(field, "decimals")
        if places is not None and not 0 <= places <= 6:
            problems.append(("decimals", "decimals must be between 0 and 6"))
        step = to_decimal(get(field, "step"))
        if step is not None and step <= 0:
            problems.append(("step", "step must be greater than 0"))
        return problems
