"""``children``: a child table; each row holds the sub-fields given in ``fields``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    check_order,
    count_option,
    get,
    is_empty,
    label_pair,
    opt_int,
)
from widgets.base import REGISTRY, Invalid, Widget, register

NOT_ROWS = Invalid("not_rows", "表格内容格式不正确", "The table rows are not valid")
MAX_ROWS = 1000
REQUIRED = Invalid("required", "必须填写", "Required")
ITEMS = {
    "type": "children",
    "fields": {
        "name": {"type": "text", "label": {"zh": "名称", "en": "Name"}, "required": True},
        "qty": {"type": "number", "label": "数量", "min": 1, "decimals": 0},
        "price": {"type": "money", "label": "单价"},
    },
}
BOUNDED = {**ITEMS, "min": 1, "max": 2}


def too_few(count: int) -> Invalid:
    return Invalid(
        "too_few_rows", f"至少填写 {count} 行", f"Add at least {count} row{'s' * (count != 1)}"
    )


def too_many(count: int) -> Invalid:
    return Invalid(
        "too_many_rows", f"最多填写 {count} 行", f"Add at most {count} row{'s' * (count != 1)}"
    )


def sub_fields(field: Any) -> list[tuple[str, Mapping[str, Any], Widget]]:
    """``[(id, spec, widget)]`` of the readable sub-fields."""
    fields = get(field, "fields")
    if not isinstance(fields, Mapping):
        return []
    result = []
    for key, spec in fields.items():
        if isinstance(key, str) and isinstance(spec, Mapping):
            kind = spec.get("type")
            widget = REGISTRY.get(kind) if isinstance(kind, str) else None
            if widget is not None:
                result.append((key, spec, widget))
    return result


def in_row(row: int, key: str, spec: Mapping[str, Any], problem: Invalid) -> Invalid:
    """A sub-field's problem, placed: '第 2 行「数量」：请输入数字'."""
    zh, en = label_pair(spec.get("label"), key)
    return Invalid(
        problem.code, f"第 {row} 行「{zh}」：{problem.zh}", f"Row {row}, {en}: {problem.en}"
    )


@register
class ChildrenWidget(Widget):
    """Parsed as a list of row dicts (sub-field id → parsed value); blank rows are dropped."""

    name = "children"
    label = "child table"
    expr_type = "children"
    template = "_children.html"
    required_options = ("fields",)
    options: ClassVar[Mapping[str, str]] = {
        "fields": "The fields of each row: a map of sub-field id to field spec.",
        "min": "The fewest rows.",
        "max": "The most rows.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            (
                [{"name": "桌子", "qty": "2", "price": "¥150"}],
                ITEMS,
                [{"name": "桌子", "qty": 2, "price": Decimal("150")}],
            ),
            (
                [{"name": "椅子", "qty": "", "price": None}, {"name": " ", "qty": None}],
                ITEMS,
                [{"name": "椅子", "qty": None, "price": None}],
            ),
            ('[{"name": "灯", "qty": 1}]', BOUNDED, [{"name": "灯", "qty": 1, "price": None}]),
            (
                [{"name": "a", "extra": "ignored"}],
                ITEMS,
                [{"name": "a", "qty": None, "price": None}],
            ),
        ],
        "bad": [
            ([{"name": "桌子", "qty": "两张"}], ITEMS, "not_a_number"),
            ([{"name": "桌子", "qty": 0}], ITEMS, "too_small"),
            ([{"qty": 2}], ITEMS, "required"),
            ([{"name": "a"}, {"name": "b"}, {"name": "c"}], BOUNDED, "too_many_rows"),
            ("not json", ITEMS, "not_rows"),
            ([["桌子", 2]], ITEMS, "not_rows"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        if isinstance(raw, str):
            if len(raw) > 1_000_000:
                return None, too_many(MAX_ROWS)
            try:
                raw = json.loads(raw)
            except (ValueError, RecursionError):
                return None, NOT_ROWS
            if is_empty(raw):
                return None, None
        if not isinstance(raw, list | tuple):
            return None, NOT_ROWS
        if len(raw) > MAX_ROWS:
            return None, too_many(MAX_ROWS)
        subs = sub_fields(field)
        rows: list[dict[str, Any]] = []
        for number, row in enumerate(raw, start=1):
            if not isinstance(row, Mapping):
                return None, Invalid(
                    NOT_ROWS.code, f"第 {number} 行格式不正确", f"Row {number} is not valid"
                )
            parsed: dict[str, Any] = {}
            for key, spec, widget in subs:
                value, problem = widget.parse(row.get(key), spec)
                if problem is not None:
                    return None, in_row(number, key, spec, problem)
                parsed[key] = value
            if any(value is not None for value in parsed.values()):
                rows.append(parsed)
        return rows or None, None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(row, Mapping) for row in value):
            return NOT_ROWS
        low, high = opt_int(field, "min"), opt_int(field, "max")
        if low is not None and len(value) < low:
            return too_few(low)
        if len(value) > (high if high is not None else MAX_ROWS):
            return too_many(high if high is not None else MAX_ROWS)
        subs = sub_fields(field)
        for number, row in enumerate(value, start=1):
            for key, spec, widget in subs:
                cell = row.get(key)
                if cell is None:
                    if spec.get("required") is True:
                        return in_row(number, key, spec, REQUIRED)
                    continue
                problem = widget.validate(cell, spec)
                if problem is not None:
                    return in_row(number, key, spec, problem)
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        low = count_option(field, "min", problems, "rows")
        high = count_option(field, "max", problems, "rows")
        check_order(low, high, problems)
        fields = get(field, "fields")
        if not isinstance(fields, Mapping):
            return problems
        if not fields:
            problems.append(("fields", "a child table needs at least one field"))
        for key, spec in fields.items():
            if not isinstance(spec, Mapping):
                continue
            if spec.get("type") == "children":
                problems.append(
                    (f"fields.{key}.type", "a child table cannot hold another child table")
                )
                continue
            kind = spec.get("type")
            widget = REGISTRY.get(kind) if isinstance(kind, str) else None
            if widget is not None:
                for option, message in widget.check_options(spec):
                    problems.append((f"fields.{key}.{option}", message))
        return problems
