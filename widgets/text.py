"""``text``: a single line of text, with length bounds and an optional pattern."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Problems, Samples, get, label_pair
from widgets._textual import TextBase
from widgets.base import Invalid, register


def _pattern_mismatch(field: Mapping[str, Any]) -> Invalid:
    """The author's ``pattern_message`` when given (English only when they wrote it)."""
    message = get(field, "pattern_message")
    zh, _ = label_pair(message, "格式不正确")
    en = message.get("en") if isinstance(message, Mapping) else None
    return Invalid(
        "pattern_mismatch", zh, en if isinstance(en, str) and en else "The format is not right"
    )


@register
class TextWidget(TextBase):
    name = "text"
    label = "single-line text"
    template = "_text.html"
    hard_max = 2000
    options: ClassVar[Mapping[str, str]] = {
        "min": "The fewest characters allowed.",
        "max": "The most characters allowed (at most 2000).",
        "pattern": "A regular expression the whole value must match.",
        "pattern_message": "The message shown when the value does not match the pattern.",
        "similar": "Show similar existing records while typing (duplicate check).",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("  人大代表联络站  ", {"type": "text"}, "人大代表联络站"),
            ("第一行\n第二行", {"type": "text"}, "第一行 第二行"),
            (12345, {"type": "text"}, "12345"),
            ("ABC-123", {"type": "text", "pattern": "[A-Z]{3}-\\d{3}"}, "ABC-123"),
            ("五个字正好", {"type": "text", "min": 5, "max": 5}, "五个字正好"),
        ],
        "bad": [
            ("超" * 81, {"type": "text", "max": 80}, "too_long"),
            ("短", {"type": "text", "min": 2}, "too_short"),
            ("abc-123", {"type": "text", "pattern": "[A-Z]{3}-\\d{3}"}, "pattern_mismatch"),
            ({"a": 1}, {"type": "text"}, "not_text"),
            ("a\x00b", {"type": "text"}, "bad_characters"),
            ("x" * 3000, {"type": "text"}, "too_long"),
        ],
    }

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        problem = super().validate(value, field)
        if problem is not None or value is None:
            return problem
        pattern = get(field, "pattern")
        if isinstance(pattern, str):
            try:
                matched = re.fullmatch(pattern, value) is not None
            except Exception:  # a broken pattern is an authoring mistake, reported there
                return None
            if not matched:
                return _pattern_mismatch(field)
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems = super().check_options(field)
        pattern = get(field, "pattern")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except Exception as exc:  # re.error, OverflowError, RecursionError…
                problems.append(
                    ("pattern", f"the pattern is not a valid regular expression: {exc}")
                )
        if get(field, "pattern_message") is not None and pattern is None:
            problems.append(("pattern_message", "pattern_message is set but there is no pattern"))
        return problems
