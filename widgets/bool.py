"""``bool``: yes or no."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from widgets._common import Problems, Samples, get, is_empty, label_pair, normalized, to_decimal
from widgets.base import Invalid, Widget, register

NOT_A_BOOL = Invalid("not_a_bool", "请选择是或否", "Choose yes or no")
WORDS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "on": True,
    "off": False,
    "是": True,
    "否": False,
}


def _label_words(field: Any, key: str) -> set[str]:
    label = get(field, key)
    if label is None:
        return set()
    return {part.casefold() for part in label_pair(label, "") if part}


@register
class BoolWidget(Widget):
    """Parsed as ``True`` or ``False``."""

    name = "bool"
    label = "yes/no"
    expr_type = "bool"
    template = "_bool.html"
    options: ClassVar[Mapping[str, str]] = {
        "true_label": "The label for yes (default 是).",
        "false_label": "The label for no (default 否).",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("是", {"type": "bool"}, True),
            ("否", {"type": "bool"}, False),
            ("Yes", {"type": "bool"}, True),
            ("off", {"type": "bool"}, False),
            (0, {"type": "bool"}, False),
            (True, {"type": "bool"}, True),
            ("已到会", {"type": "bool", "true_label": "已到会", "false_label": "缺席"}, True),
        ],
        "bad": [
            ("也许", {"type": "bool"}, "not_a_bool"),
            (2, {"type": "bool"}, "not_a_bool"),
            ([True], {"type": "bool"}, "not_a_bool"),
            ("truthy", {"type": "bool"}, "not_a_bool"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if isinstance(raw, bool):
            return raw, None
        if isinstance(raw, int | float | Decimal):
            number = to_decimal(raw)
            return (bool(number), None) if number in (0, 1) else (None, NOT_A_BOOL)
        if not isinstance(raw, str) or len(raw) > 100:
            return None, NOT_A_BOOL
        word = normalized(raw).casefold()
        if word in WORDS:
            return WORDS[word], None
        if word in _label_words(field, "true_label"):
            return True, None
        if word in _label_words(field, "false_label"):
            return False, None
        return None, NOT_A_BOOL

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None or isinstance(value, bool):
            return None
        return NOT_A_BOOL

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        yes, no = _label_words(field, "true_label"), _label_words(field, "false_label")
        if yes & no:
            return [("false_label", "true_label and false_label must differ")]
        return []
