"""The field widgets: samples of every widget, fuzzing, and focused checks."""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import widgets
from widgets import load_widgets
from widgets.base import REGISTRY, DuplicateWidget, Invalid, Widget, register

WIDGETS = load_widgets()
NAMES = sorted(WIDGETS)
EXPR_TYPES = {
    "text",
    "number",
    "bool",
    "date",
    "datetime",
    "user",
    "org",
    "ref",
    "file",
    "location",
    "list",
    "children",
}
FIELD_TYPES = {
    "text",
    "longtext",
    "number",
    "money",
    "date",
    "datetime",
    "choice",
    "multichoice",
    "bool",
    "phone",
    "idcard",
    "file",
    "image",
    "audio",
    "video",
    "location",
    "rating",
    "ref",
    "user",
    "org",
    "children",
}


def check(name: str, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
    """What a form does: parse, then validate a non-empty value."""
    widget = WIDGETS[name]
    value, problem = widget.parse(raw, field)
    if problem is not None or value is None:
        return value, problem
    return value, widget.validate(value, field)


def samples(kind: str) -> list[Any]:
    return [
        pytest.param(name, *sample, id=f"{name}-{index}")
        for name in NAMES
        for index, sample in enumerate(getattr(WIDGETS[name], "samples", {}).get(kind, []))
    ]


# ---------------------------------------------------------------- the registry


def test_every_field_type_has_a_widget() -> None:
    assert set(WIDGETS) == FIELD_TYPES


def test_load_widgets_twice_registers_once() -> None:
    before = dict(REGISTRY)
    assert load_widgets() is REGISTRY
    assert before == REGISTRY


def test_reloading_a_module_is_not_a_duplicate() -> None:
    module = importlib.import_module("widgets.rating")
    importlib.reload(module)
    assert type(REGISTRY["rating"]) is module.RatingWidget
    assert len(REGISTRY) == len(FIELD_TYPES)


def test_each_module_registers_one_widget() -> None:
    modules: dict[str, list[str]] = {}
    for widget in REGISTRY.values():
        modules.setdefault(type(widget).__module__, []).append(widget.name)
    public = {
        f"widgets.{info.name}"
        for info in pkgutil.iter_modules(widgets.__path__)
        if not info.name.startswith("_") and info.name != "base"
    }
    assert set(modules) == public
    assert all(len(names) == 1 for names in modules.values()), modules
    assert all(module == f"widgets.{names[0]}" for module, names in modules.items())


def test_a_second_widget_with_a_taken_name_is_refused() -> None:
    before = dict(REGISTRY)

    class Impostor(Widget):
        name = "text"
        label = "another text"
        expr_type = "text"

    with pytest.raises(DuplicateWidget, match="'text' is registered twice"):
        register(Impostor)
    assert before == REGISTRY


@pytest.mark.parametrize("name", NAMES)
def test_widget_contract(name: str) -> None:
    widget = WIDGETS[name]
    assert widget.name == name
    assert widget.label
    assert widget.expr_type in EXPR_TYPES
    assert widget.template == f"_{name}.html"
    for key, description in widget.options.items():
        assert isinstance(description, str) and description.strip(), f"{name}.{key}"
        assert description.endswith("."), f"{name}.{key}: {description}"
    assert set(widget.required_options) <= set(widget.options)


@pytest.mark.parametrize("name", NAMES)
def test_samples_exist(name: str) -> None:
    found = getattr(WIDGETS[name], "samples", None)
    assert isinstance(found, dict)
    assert len(found.get("good", [])) >= 3
    assert len(found.get("bad", [])) >= 3
    for _raw, field, _expected in found["good"] + found["bad"]:
        assert field.get("type") == name
        assert WIDGETS[name].check_options(field) == []


# ---------------------------------------------------------------- samples


@pytest.mark.parametrize(("name", "raw", "field", "expected"), samples("good"))
def test_good_samples(name: str, raw: Any, field: dict[str, Any], expected: Any) -> None:
    value, problem = check(name, raw, field)
    assert problem is None
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("name", "raw", "field", "expected"), samples("good"))
def test_parsed_values_parse_to_themselves(
    name: str, raw: Any, field: dict[str, Any], expected: Any
) -> None:
    assert check(name, expected, field) == (expected, None)


@pytest.mark.parametrize(("name", "raw", "field", "code"), samples("bad"))
def test_bad_samples(name: str, raw: Any, field: dict[str, Any], code: str) -> None:
    value, problem = check(name, raw, field)
    assert problem is not None, value
    assert problem.code == code
    assert problem.zh.strip() and problem.en.strip()
    assert problem.text("zh") == problem.zh and problem.text("en-US") == problem.en


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("empty", [None, "", "   ", "\u3000\n", []])
def test_empty_input_is_no_value(name: str, empty: Any) -> None:
    assert WIDGETS[name].parse(empty, {"type": name}) == (None, None)


# ---------------------------------------------------------------- fuzzing

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()
    | st.decimals()
    | st.text()
    | st.text(alphabet="0123456789+-., ¥元年月日:/TZxX★")
    | st.binary()
    | st.dates()
    | st.datetimes()
    | st.datetimes(timezones=st.timezones())
    | st.sampled_from(
        ["nan", "inf", "-Infinity", "1e999", "9" * 5000, "\x00", "\ud800", "[]", "{}", "[[1]]"]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(
            st.sampled_from(["name", "size", "lat", "lng", "qty", "x"]) | st.text(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def fields_of(name: str) -> list[dict[str, Any]]:
    widget = WIDGETS[name]
    found = getattr(widget, "samples", {})
    specs = [field for _raw, field, _expected in found.get("good", []) + found.get("bad", [])]
    return [{"type": name}, *specs]


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=values, pick=st.integers(min_value=0))
def test_fuzz_parse_and_validate_never_raise(name: str, raw: Any, pick: int) -> None:
    widget = WIDGETS[name]
    specs = fields_of(name)
    field = specs[pick % len(specs)]
    value, problem = widget.parse(raw, field)
    assert problem is None or (isinstance(problem, Invalid) and problem.zh and problem.en)
    if problem is not None:
        assert value is None
    if value is not None:
        again = widget.validate(value, field)
        assert again is None or isinstance(again, Invalid)
        if again is None:  # a parsed, valid value parses to itself
            assert widget.parse(value, field) == (value, None)
    result = widget.validate(raw, field)
    assert result is None or isinstance(result, Invalid)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=100, deadline=None)
@given(
    spec=st.dictionaries(
        st.sampled_from(
            [
                "min",
                "max",
                "options",
                "pattern",
                "pattern_message",
                "decimals",
                "step",
                "currency",
                "true_label",
                "false_label",
                "landline",
                "accept",
                "max_size",
                "multiple",
                "max_files",
                "entity",
                "role",
                "kind",
                "fields",
                "rows",
                "unit",
                "widget",
                "similar",
            ]
        ),
        values,
        max_size=6,
    ),
    raw=values,
)
def test_fuzz_field_specs_never_raise(name: str, spec: dict[str, Any], raw: Any) -> None:
    widget = WIDGETS[name]
    field = {**spec, "type": name}
    problems = widget.check_options(field)
    assert all(isinstance(key, str) and isinstance(message, str) for key, message in problems)
    value, _problem = widget.parse(raw, field)
    widget.validate(raw, field)
    if value is not None:
        widget.validate(value, field)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("spec", [None, [], "text", 5, {"type": "x"}])
def test_odd_field_specs_never_raise(name: str, spec: Any) -> None:
    widget = WIDGETS[name]
    assert isinstance(widget.check_options(spec), list)
    widget.parse("1", spec)
    widget.validate("1", spec)


# ---------------------------------------------------------------- ID cards


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("330302199001011235", "330302199001011235"),
    ],
)
def test_idcard_valid(raw: str, expected: str) -> None:
    assert check("idcard", raw, {"type": "idcard"}) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("110105194912310021", "bad_idcard_checksum"),  # check digit should be X
        ("110105194912310029", "bad_idcard_checksum"),
        ("11010519900230001X", "bad_idcard_birthdate"),  # 30 February
        ("11010520230229001X", "bad_idcard_birthdate"),  # 2023 is no leap year
        ("110105189912310013", "bad_idcard_birthdate"),  # before 1900
        ("11010519491231002Y", "bad_idcard_format"),
        ("110105491231002", "bad_idcard_format"),  # the old 15-digit number
    ],
)
def test_idcard_invalid(raw: str, code: str) -> None:
    _value, problem = check("idcard", raw, {"type": "idcard"})
    assert problem is not None and problem.code == code


def test_idcard_birthdate_in_the_future() -> None:
    from widgets.idcard import check_digit

    born = (date.today() + timedelta(days=400)).strftime("%Y%m%d")
    first = f"110105{born}001"
    _value, problem = check("idcard", first + check_digit(first), {"type": "idcard"})
    assert problem is not None and problem.code == "bad_idcard_birthdate"


def test_idcard_check_digits_cover_all_remainders() -> None:
    from widgets.idcard import check_digit, idcard_problem

    seen = set()
    for serial in range(200):
        first = f"33030219900101{serial:03d}"
        digit = check_digit(first)
        seen.add(digit)
        assert idcard_problem(first + digit) is None
    assert seen == set("0123456789X")


# ---------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "raw",
    [
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "8613800138000",
        "0086 13800138000",
        "１３８００１３８０００",
    ],
)
def test_mobile_normalized(raw: str) -> None:
    assert check("phone", raw, {"type": "phone"}) == ("13800138000", None)


def test_landline_only_when_allowed() -> None:
    assert check("phone", "0577-88888888", {"type": "phone", "landline": True}) == (
        "0577-88888888",
        None,
    )
    assert check("phone", "01065123456", {"type": "phone", "landline": True}) == (
        "010-65123456",
        None,
    )
    problem = check("phone", "0577-88888888", {"type": "phone"})[1]
    assert problem is not None and problem.code == "bad_phone"
    assert WIDGETS["phone"].validate("0577-88888888", {"type": "phone"}) is not None


# ---------------------------------------------------------------- money and numbers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.50", Decimal("1234.50")),
        ("¥1234.5", Decimal("1234.5")),
        ("￥1,000", Decimal("1000")),
        ("RMB 99.9", Decimal("99.90")),
        ("-¥5", Decimal("-5")),
        ("2.5元", Decimal("2.50")),
        (12, Decimal("12")),
        (0.3, Decimal("0.30")),
    ],
)
def test_money_parsing(raw: Any, expected: Decimal) -> None:
    value, problem = check("money", raw, {"type": "money"})
    assert problem is None
    assert isinstance(value, Decimal) and value == expected
    assert value.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1.005", "too_many_decimals"),
        ("12,34", "not_a_number"),
        ("¥", "not_a_number"),
        ("NaN", "not_a_number"),
        (Decimal("Infinity"), "not_a_number"),
        (Decimal("sNaN"), "not_a_number"),
    ],
)
def test_money_rejects(raw: Any, code: str) -> None:
    problem = check("money", raw, {"type": "money"})[1]
    assert problem is not None and problem.code == code


def test_number_messages_carry_the_bound_and_unit() -> None:
    problem = check(
        "number", "120", {"type": "number", "max": 100, "unit": {"zh": "人", "en": "people"}}
    )[1]
    assert problem == Invalid("too_large", "不能大于 100 人", "Must be at most 100 people")
    problem = check("text", "字" * 81, {"type": "text", "max": 80})[1]
    assert problem == Invalid("too_long", "最多 80 个字", "At most 80 characters")


@pytest.mark.parametrize("raw", [math.inf, -math.inf, math.nan, "Infinity", "1e400", 10**400])
def test_number_rejects_non_finite_and_huge(raw: Any) -> None:
    value, problem = check("number", raw, {"type": "number"})
    assert value is None and problem is not None


def test_number_decimals_are_checked_before_rounding() -> None:
    problem = check("number", "1.000000000000000000001", {"type": "number", "decimals": 2})[1]
    assert problem is not None and problem.code == "too_many_decimals"
    assert check("number", "3.0", {"type": "number", "decimals": 0}) == (3, None)


# ---------------------------------------------------------------- dates


def test_datetime_without_zone_is_china_time() -> None:
    value = check("datetime", "2024-01-01 08:00", {"type": "datetime"})[0]
    assert value == datetime(2024, 1, 1, 0, 0, tzinfo=UTC)
    assert value.tzinfo is UTC


def test_aware_datetime_into_a_date_field_takes_china_date() -> None:
    late = datetime(2024, 1, 1, 20, 0, tzinfo=UTC)  # 04:00 on 2 January in China
    assert check("date", late, {"type": "date"}) == (date(2024, 1, 2), None)


# ---------------------------------------------------------------- child tables

ITEMS = {
    "type": "children",
    "min": 1,
    "max": 3,
    "fields": {
        "item": {"type": "text", "label": {"zh": "物品", "en": "Item"}, "required": True},
        "qty": {"type": "number", "label": {"zh": "数量", "en": "Quantity"}, "min": 1},
        "when": {"type": "date", "label": "日期"},
    },
}


def test_children_rows_are_parsed_and_blank_rows_dropped() -> None:
    rows = [
        {"item": "桌子", "qty": "2", "when": "2024/5/1"},
        {"item": "", "qty": "", "when": ""},
        {"item": "椅子", "qty": 4},
    ]
    assert check("children", rows, ITEMS) == (
        [
            {"item": "桌子", "qty": 2, "when": date(2024, 5, 1)},
            {"item": "椅子", "qty": 4, "when": None},
        ],
        None,
    )


def test_children_report_the_first_problem_with_its_row() -> None:
    rows = [{"item": "桌子", "qty": 1}, {"item": "椅子", "qty": "很多"}, {"item": "x", "qty": "y"}]
    problem = check("children", rows, ITEMS)[1]
    assert problem == Invalid(
        "not_a_number", "第 2 行「数量」：请输入数字", "Row 2, Quantity: Enter a number"
    )
    problem = check("children", [{"item": "桌子", "qty": 1}, {"item": "椅子", "qty": 0}], ITEMS)[1]
    assert (
        problem is not None
        and problem.code == "too_small"
        and problem.zh.startswith("第 2 行「数量」")
    )
    problem = check("children", [{"item": "桌子"}, {"qty": 2}], ITEMS)[1]
    assert problem is not None and problem.code == "required" and "物品" in problem.zh


def test_children_row_counts() -> None:
    problem = check("children", [{"item": str(n)} for n in range(4)], ITEMS)[1]
    assert problem is not None and problem.code == "too_many_rows"
    problem = WIDGETS["children"].validate([], ITEMS)
    assert problem is not None and problem.code == "too_few_rows"


def test_children_check_sub_field_options() -> None:
    spec = {
        "type": "children",
        "min": 3,
        "max": 1,
        "fields": {
            "qty": {"type": "number", "min": 5, "max": 1},
            "sub": {"type": "children", "fields": {"a": {"type": "text"}}},
        },
    }
    keys = [key for key, _message in WIDGETS["children"].check_options(spec)]
    assert keys == ["min", "fields.qty.min", "fields.sub.type"]


# ---------------------------------------------------------------- authoring checks


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"type": "text", "min": 10, "max": 5}, "min"),
        ({"type": "text", "pattern": "([a-z"}, "pattern"),
        ({"type": "text", "pattern_message": "请输入编号"}, "pattern_message"),
        ({"type": "text", "max": "eighty"}, "max"),
        ({"type": "longtext", "rows": 99}, "rows"),
        ({"type": "number", "min": 10, "max": 1}, "min"),
        ({"type": "number", "step": 0}, "step"),
        ({"type": "money", "currency": "USD"}, "currency"),
        ({"type": "date", "min": "2024-13-01"}, "min"),
        ({"type": "date", "min": "2024-12-01", "max": "2024-01-01"}, "min"),
        ({"type": "datetime", "max": "soon"}, "max"),
        ({"type": "choice", "options": ["a", "b", "a"]}, "options[2]"),
        ({"type": "choice", "options": [1, "1"]}, "options[1]"),
        ({"type": "choice", "options": ["a"], "widget": "stars"}, "widget"),
        (
            {"type": "multichoice", "options": [{"value": "x"}, {"value": "x", "label": "X"}]},
            "options[1]",
        ),
        ({"type": "multichoice", "options": ["a", "b"], "min": 3}, "min"),
        ({"type": "bool", "true_label": "有", "false_label": "有"}, "false_label"),
        ({"type": "rating", "max": 11}, "max"),
        ({"type": "rating", "max": 0}, "max"),
        ({"type": "image", "accept": [".jpg"]}, "accept[0]"),
        ({"type": "image", "accept": ["pdf"]}, "accept[0]"),
        ({"type": "file", "accept": ["PDF"]}, "accept[0]"),
        ({"type": "video", "max_size": 0}, "max_size"),
        ({"type": "audio", "max_size": -1}, "max_size"),
        ({"type": "file", "max_files": 3}, "max_files"),
        ({"type": "ref", "entity": "Bad Entity"}, "entity"),
        ({"type": "org", "kind": "village"}, "kind"),
        ({"type": "children", "fields": {}}, "fields"),
    ],
)
def test_check_options_finds_mistakes(spec: dict[str, Any], key: str) -> None:
    problems = WIDGETS[spec["type"]].check_options(spec)
    assert key in [found for found, _message in problems], problems
    assert all(message for _key, message in problems)


def test_check_options_skips_what_the_schema_reports() -> None:
    assert WIDGETS["choice"].check_options({"type": "choice", "options": "a,b"}) == []
    assert WIDGETS["image"].check_options({"type": "image", "accept": [3, None]}) == []
    assert WIDGETS["text"].check_options({"type": "text", "max": [80]}) == []
