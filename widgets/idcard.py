"""``idcard``: an 18-character resident ID number of the People's Republic of China."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from widgets._common import Samples, is_empty, is_int, normalized, today
from widgets.base import Invalid, Widget, register

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_DIGITS = "10X98765432"  # ISO 7064 MOD 11-2: remainder 0-10 → check character
SHAPE = re.compile(r"[0-9]{17}[0-9X]")

BAD_FORMAT = Invalid(
    "bad_idcard_format",
    "身份证号码应为 18 位（最后一位可以是 X）",
    "An ID number has 18 characters (the last may be X)",
)
BAD_BIRTHDATE = Invalid(
    "bad_idcard_birthdate",
    "身份证号码中的出生日期不正确",
    "The date of birth in the ID number is not valid",
)
BAD_CHECKSUM = Invalid(
    "bad_idcard_checksum",
    "身份证号码校验位不正确，请核对",
    "The ID number's check digit is wrong; please check it",
)


def check_digit(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    return CHECK_DIGITS[total % 11]


def idcard_problem(number: str) -> Invalid | None:
    """Why a normalized ID number is not valid, or None."""
    if not SHAPE.fullmatch(number):
        return BAD_FORMAT
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return BAD_BIRTHDATE
    if born.year < 1900 or born > today():
        return BAD_BIRTHDATE
    if check_digit(number[:17]) != number[17]:
        return BAD_CHECKSUM
    return None


@register
class IdCardWidget(Widget):
    """Parsed as the 18 characters with an upper-case X."""

    name = "idcard"
    label = "Chinese resident ID number"
    expr_type = "text"
    template = "_idcard.html"
    options: ClassVar[Mapping[str, str]] = {}
    samples: ClassVar[Samples] = {
        "good": [
            ("11010519491231002X", {"type": "idcard"}, "11010519491231002X"),
            ("11010519491231002x", {"type": "idcard"}, "11010519491231002X"),
            (" 110105 19491231 002X ", {"type": "idcard"}, "11010519491231002X"),
            ("330302199001011235", {"type": "idcard"}, "330302199001011235"),
        ],
        "bad": [
            ("110105194912310021", {"type": "idcard"}, "bad_idcard_checksum"),
            ("110105199002300012", {"type": "idcard"}, "bad_idcard_birthdate"),
            ("110105189912310020", {"type": "idcard"}, "bad_idcard_birthdate"),
            ("11010519491231002", {"type": "idcard"}, "bad_idcard_format"),
            ("1101051949123100XX", {"type": "idcard"}, "bad_idcard_format"),
            (["11010519491231002X"], {"type": "idcard"}, "bad_idcard_format"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if is_int(raw) and 0 < raw < 10**18:
            raw = str(raw)
        if not isinstance(raw, str) or len(raw) > 60:
            return None, BAD_FORMAT
        number = re.sub(r"[\s-]", "", normalized(raw)).upper()
        problem = idcard_problem(number)
        return (None, problem) if problem else (number, None)

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, str):
            return BAD_FORMAT
        return idcard_problem(value)
