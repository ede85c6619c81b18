"""``choice``: one value out of a fixed list of options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._choices import NOT_AN_OPTION, check_option_list, read_options, resolve
from widgets._common import Problems, Samples, check_variant, is_empty
from widgets.base import Invalid, Widget, register

OPTIONS = {"type": "choice", "options": ["教育", "医疗卫生", "交通"]}
LABELLED = {
    "type": "choice",
    "options": [
        {"value": "yes", "label": {"zh": "满意", "en": "Satisfied"}},
        {"value": "no", "label": "不满意"},
        {"value": 3},
    ],
}


@register
class ChoiceWidget(Widget):
    """Parsed as the chosen option's value (a string)."""

    name = "choice"
    label = "choice"
    expr_type = "text"
    template = "_choice.html"
    required_options = ("options",)
    options: ClassVar[Mapping[str, str]] = {
        "options": "The options, in order: strings, or {value, label} with a string or {zh, en} label.",
        "widget": "The display variant: select (a drop-down, the default) or radio (buttons).",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("教育", OPTIONS, "教育"),
            (" 交通 ", OPTIONS, "交通"),
            ("yes", LABELLED, "yes"),
            ("满意", LABELLED, "yes"),
            ("satisfied", LABELLED, "yes"),
            (3, LABELLED, "3"),
        ],
        "bad": [
            ("体育", OPTIONS, "not_an_option"),
            (["教育"], OPTIONS, "not_an_option"),
            (True, OPTIONS, "not_an_option"),
            ("maybe", LABELLED, "not_an_option"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        value = resolve(raw, field)
        if value is None:
            return None, NOT_AN_OPTION
        return value, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, str) or value not in {v for v, _ in read_options(field)}:
            return NOT_AN_OPTION
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        check_option_list(field, problems)
        check_variant(field, ("select", "radio"), problems)
        return problems
