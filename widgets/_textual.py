"""The shared base of ``text`` and ``longtext``; registers nothing itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from widgets._common import (
    BAD_CHARACTERS,
    Problems,
    check_order,
    count_option,
    fmt_number,
    has_bad_chars,
    is_empty,
    opt_int,
    to_decimal,
)
from widgets.base import Invalid, Widget

NOT_TEXT = Invalid("not_text", "请输入文字", "Enter text")


def too_long(limit: int) -> Invalid:
    return Invalid("too_long", f"最多 {limit} 个字", f"At most {limit} characters")


def too_short(limit: int) -> Invalid:
    return Invalid("too_short", f"至少 {limit} 个字", f"At least {limit} characters")


class TextBase(Widget):
    """Free text: bounded length, no characters the database refuses."""

    expr_type = "text"
    multiline: ClassVar[bool] = False
    hard_max: ClassVar[int] = 2000

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if isinstance(raw, bool):
            return None, NOT_TEXT
        if isinstance(raw, int | float | Decimal):
            number = to_decimal(raw)
            return (None, NOT_TEXT) if number is None else (fmt_number(raw), None)
        if not isinstance(raw, str):
            return None, NOT_TEXT
        if len(raw) > self.hard_max * 4:
            return None, too_long(self.hard_max)
        if has_bad_chars(raw):
            return None, BAD_CHARACTERS
        if self.multiline:
            text = raw.replace("\r\n", "\n").replace("\r", "\n").strip()
        else:
            text = re.sub(r"\s*[\r\n]+\s*", " ", raw).strip()
        if len(text) > self.hard_max:
            return None, too_long(self.hard_max)
        return text, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return NOT_TEXT
        if has_bad_chars(value):
            return BAD_CHARACTERS
        length = len(value)
        low, high = opt_int(field, "min"), opt_int(field, "max")
        if length > self.hard_max:
            return too_long(self.hard_max)
        if low is not None and length < low:
            return too_short(low)
        if high is not None and length > high:
            return too_long(high)
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        low = count_option(field, "min", problems, "characters")
        high = count_option(field, "max", problems, "characters")
        check_order(low, high, problems)
        if high is not None and high > self.hard_max:
            problems.append(("max", f"max must be at most {self.hard_max} characters"))
        if high == 0:
            problems.append(("max", "max must be at least 1"))
        return problems
