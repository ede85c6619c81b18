"""``phone``: a Chinese mobile number, optionally also a landline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Samples, is_empty, is_int, normalized, opt_bool
from widgets.base import Invalid, Widget, register

MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})", re.ASCII)
# Area codes: 010 and 02X have three digits, every other one four.
LANDLINE = re.compile(
    r"\(?(0(?:[12]\d|[3-9]\d{2}))\)?-?([2-9]\d{6,7})(?:(?:-|转|#|ext\.?|x)(\d{1,6}))?",
    re.IGNORECASE | re.ASCII,
)
STORED_LANDLINE = re.compile(r"0(?:[12]\d|[3-9]\d{2})-[2-9]\d{6,7}(?:-\d{1,6})?", re.ASCII)
STORED_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)


def bad_phone(landline: bool) -> Invalid:
    if landline:
        return Invalid(
            "bad_phone",
            "请输入手机号或固定电话（如 0577-88888888）",
            "Enter a mobile number or a landline like 0577-88888888",
        )
    return Invalid("bad_phone", "请输入 11 位手机号", "Enter an 11-digit mobile number")


def normalize_phone(raw: str, landline: bool) -> str | None:
    """'+86 138 0013 8000' → '13800138000'; '(0577) 8888 8888' → '0577-88888888'."""
    text = normalized(raw)
    if len(text) > 40:
        return None
    compact = re.sub(r"[\s\-()]", "", text)
    mobile = MOBILE.fullmatch(compact)
    if mobile:
        return mobile.group(1)
    if landline:
        match = LANDLINE.fullmatch(re.sub(r"\s+", "", text))
        if match:
            area, number, extension = match.groups()
            return f"{area}-{number}" + (f"-{extension}" if extension else "")
    return None


@register
class PhoneWidget(Widget):
    """Parsed as 11 digits for a mobile, 'area-number[-extension]' for a landline."""

    name = "phone"
    label = "phone number"
    expr_type = "text"
    template = "_phone.html"
    options: ClassVar[Mapping[str, str]] = {
        "landline": "Also accept landline numbers like 0577-88888888.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("+86 138 0013 8000", {"type": "phone"}, "13800138000"),
            ("138-0013-8000", {"type": "phone"}, "13800138000"),
            (13800138000, {"type": "phone"}, "13800138000"),
            ("8613912345678", {"type": "phone"}, "13912345678"),
            ("0577-88888888", {"type": "phone", "landline": True}, "0577-88888888"),
            ("(010) 6512 3456", {"type": "phone", "landline": True}, "010-65123456"),
            ("057788888888转123", {"type": "phone", "landline": True}, "0577-88888888-123"),
        ],
        "bad": [
            ("1380013800", {"type": "phone"}, "bad_phone"),
            ("12800138000", {"type": "phone"}, "bad_phone"),
            ("0577-88888888", {"type": "phone"}, "bad_phone"),
            ("0577-123", {"type": "phone", "landline": True}, "bad_phone"),
            ({"phone": "13800138000"}, {"type": "phone"}, "bad_phone"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        landline = opt_bool(field, "landline")
        if is_int(raw) and 0 < raw < 10**20:
            raw = str(raw)
        if not isinstance(raw, str):
            return None, bad_phone(landline)
        number = normalize_phone(raw, landline)
        if number is None:
            return None, bad_phone(landline)
        return number, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        landline = opt_bool(field, "landline")
        if isinstance(value, str) and (
            STORED_MOBILE.fullmatch(value) or (landline and STORED_LANDLINE.fullmatch(value))
        ):
            return None
        return bad_phone(landline)
