"""``multichoice``: several values out of a fixed list of options."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._choices import NOT_AN_OPTION, check_option_list, read_options, resolve
from widgets._common import (
    Problems,
    Samples,
    check_order,
    check_variant,
    count_option,
    is_empty,
    opt_int,
    split_values,
)
from widgets.base import Invalid, Widget, register

DUPLICATE = Invalid("duplicate_choice", "同一选项选了两次", "An option is chosen twice")
OPTIONS = {"type": "multichoice", "options": ["教育", "医疗卫生", "交通", "城建"]}
BOUNDED = {**OPTIONS, "min": 2, "max": 3}


def too_few(count: int) -> Invalid:
    return Invalid("too_few_choices", f"至少选择 {count} 项", f"Choose at least {count}")


def too_many(count: int) -> Invalid:
    return Invalid("too_many_choices", f"最多选择 {count} 项", f"Choose at most {count}")


@register
class MultiChoiceWidget(Widget):
    """Parsed as a list of option values, in the order given, without duplicates."""

    name = "multichoice"
    label = "multiple choice"
    expr_type = "list"
    template = "_multichoice.html"
    required_options = ("options",)
    options: ClassVar[Mapping[str, str]] = {
        "options": "The options, in order: strings, or {value, label} with a string or {zh, en} label.",
        "min": "The fewest options to choose.",
        "max": "The most options to choose.",
        "widget": "The display variant: checkboxes (the default) or select.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            (["教育", "交通"], OPTIONS, ["教育", "交通"]),
            ("教育,交通", OPTIONS, ["教育", "交通"]),
            ("医疗卫生、城建", OPTIONS, ["医疗卫生", "城建"]),
            ("教育", OPTIONS, ["教育"]),
            (["教育", "", "城建"], BOUNDED, ["教育", "城建"]),
        ],
        "bad": [
            (["教育", "体育"], OPTIONS, "not_an_option"),
            ("教育,教育", OPTIONS, "duplicate_choice"),
            (["教育", {"x": 1}], OPTIONS, "not_an_option"),
            (["教育"], BOUNDED, "too_few_choices"),
            ("教育,交通,医疗卫生,城建", BOUNDED, "too_many_choices"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        whole = resolve(raw, field) if isinstance(raw, str) else None
        known = {value for value, _ in read_options(field)}
        items = [whole] if whole is not None and whole in known else split_values(raw)
        if items is None:
            return None, too_many(len(known) or 1000)
        values: list[str] = []
        for item in items:
            value = resolve(item, field)
            if value is None:
                return None, NOT_AN_OPTION
            if value in values:
                return None, DUPLICATE
            values.append(value)
        return values or None, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, list):
            return NOT_AN_OPTION
        known = {v for v, _ in read_options(field)}
        if not all(isinstance(item, str) and item in known for item in value):
            return NOT_AN_OPTION
        if len(set(value)) != len(value):
            return DUPLICATE
        low, high = opt_int(field, "min"), opt_int(field, "max")
        if low is not None and len(value) < low:
            return too_few(low)
        if high is not None and len(value) > high:
            return too_many(high)
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        count = check_option_list(field, problems)
        low = count_option(field, "min", problems, "options")
        high = count_option(field, "max", problems, "options")
        check_order(low, high, problems)
        if count and low is not None and low > count:
            problems.append(("min", f"min ({low}) is more than the {count} options"))
        if high == 0:
            problems.append(("max", "max must be at least 1"))
        check_variant(field, ("checkboxes", "select"), problems)
        return problems
