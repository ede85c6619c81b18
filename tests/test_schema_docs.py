"""The schemas are the published contract: documented, in step with the widgets, honoured."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from runtime import defaults, schema
from widgets import load_widgets


def properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every property schema below ``node``, with a readable path."""
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            yield f"{path}.{name}", prop
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, sub in value.items():
                    yield from properties(sub, f"{path}.{name}")
            elif isinstance(value, dict):
                yield from properties(value, f"{path}/{key}")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    yield from properties(item, f"{path}/{key}[{i}]")


@pytest.mark.parametrize("kind", schema.KINDS)
def test_schema_is_valid_2020_12(kind: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema.schema(kind))


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_property_has_a_description(kind: str) -> None:
    undocumented = [
        path
        for path, prop in properties(schema.schema(kind))
        if not schema.resolve(kind, prop).get("description") and "/if" not in path  # conditions
    ]
    assert undocumented == []


@pytest.mark.parametrize("kind", schema.KINDS)
def test_every_definition_has_a_description(kind: str) -> None:
    missing = [
        name for name, node in schema.schema(kind)["$defs"].items() if not node.get("description")
    ]
    assert missing == []


def test_field_types_are_the_widget_registry() -> None:
    field = schema.schema("scenario")["$defs"]["field"]
    assert sorted(field["properties"]["type"]["enum"]) == sorted(load_widgets())


@pytest.mark.parametrize("name", sorted(load_widgets()))
def test_every_widget_option_is_in_the_schema(name: str) -> None:
    field_props = schema.schema("scenario")["$defs"]["field"]["properties"]
    widget = load_widgets()[name]
    missing = [key for key in widget.options if key not in field_props]
    assert missing == [], f"widget {name} has options the schema does not document"
    # and the schema says which types an option is for
    for key in widget.options:
        if key in ("min", "max", "fields"):
            continue
        assert name in field_props[key]["description"] or key in ("multiple",), key


def test_fill_sets_defaults_and_expands_shorthands() -> None:
    data = {
        "id": "x",
        "version": "1.0.0",
        "title": "X",
        "roles": {"staff": "工作人员"},
        "entities": {"item": {"fields": {"title": {"type": "text"}}}},
        "views": {"all": {"entity": "item"}},
        "workflows": {
            "item": {
                "states": {"draft": "草稿", "done": {"zh": "完成", "en": "Done"}},
                "transitions": {"go": {"from": "draft", "to": "done", "by": "staff"}},
            }
        },
    }
    original = copy.deepcopy(data)
    filled = defaults.fill(data, "scenario")
    assert filled["roles"]["staff"] == {"label": "工作人员"}
    assert filled["views"]["all"]["type"] == "list"
    assert filled["views"]["all"]["page_size"] == 20
    assert filled["views"]["all"]["sort"] == "-created_at"
    assert filled["workflows"]["item"]["states"]["draft"] == {
        "label": "草稿",
        "final": False,
        "tone": "neutral",
    }
    assert filled["workflows"]["item"]["states"]["done"]["label"] == {"zh": "完成", "en": "Done"}
    assert filled["workflows"]["item"]["transitions"]["go"]["comment"] == "optional"
    assert filled["entities"]["item"]["fields"]["title"]["required"] is False
    assert "currency" not in filled["entities"]["item"]["fields"]["title"]
    # the filled document still satisfies the schema it came from
    assert schema.fast_validator("scenario").is_valid(filled)
    assert original["roles"]["staff"] == "工作人员"
