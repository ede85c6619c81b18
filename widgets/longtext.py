"""``longtext``: several lines of text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Problems, Samples, check_variant, opt_int
from widgets._textual import TextBase
from widgets.base import register


@register
class LongTextWidget(TextBase):
    name = "longtext"
    label = "long text"
    template = "_longtext.html"
    multiline = True
    hard_max = 50000
    options: ClassVar[Mapping[str, str]] = {
        "min": "The fewest characters allowed.",
        "max": "The most characters allowed (at most 50000).",
        "similar": "Show similar existing records while typing (duplicate check).",
        "rows": "The height of the text box in lines (1 to 40).",
        "widget": "The display variant: textarea.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("第一段\r\n第二段\n", {"type": "longtext"}, "第一段\n第二段"),
            ("  建议内容  ", {"type": "longtext", "max": 10}, "建议内容"),
            ("十个字以上的内容在这里", {"type": "longtext", "min": 10}, "十个字以上的内容在这里"),
            (3.5, {"type": "longtext"}, "3.5"),
        ],
        "bad": [
            ("太短", {"type": "longtext", "min": 10}, "too_short"),
            ("长" * 11, {"type": "longtext", "max": 10}, "too_long"),
            (["a", "b"], {"type": "longtext"}, "not_text"),
            (b"bytes", {"type": "longtext"}, "not_text"),
            ("x" * 60000, {"type": "longtext"}, "too_long"),
        ],
    }

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems = super().check_options(field)
        rows = opt_int(field, "rows")
        if rows is not None and not 1 <= rows <= 40:
            problems.append(("rows", "rows must be between 1 and 40"))
        check_variant(field, ("textarea",), problems)
        return problems
