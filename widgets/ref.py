"""``ref``: a reference to a record of another entity, by its id."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Problems, Samples, get, is_empty
from widgets._ids import is_record_id, record_id
from widgets.base import Invalid, Widget, register

BAD_REF = Invalid("bad_ref", "请选择一条记录", "Choose a record")
ENTITY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)?")
FIELD = {"type": "ref", "entity": "suggestion"}


@register
class RefWidget(Widget):
    """Parsed as the referenced record's id (a positive ``int``)."""

    name = "ref"
    label = "reference to a record"
    expr_type = "ref"
    template = "_ref.html"
    required_options = ("entity",)
    options: ClassVar[Mapping[str, str]] = {
        "entity": "The entity referred to: an entity id of this scenario, or 'scenario.entity'.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("42", FIELD, 42),
            (7, FIELD, 7),
            (" 1001 ", {"type": "ref", "entity": "suggestions.suggestion"}, 1001),
            (3.0, FIELD, 3),
        ],
        "bad": [
            ("0", FIELD, "bad_ref"),
            (-5, FIELD, "bad_ref"),
            ("abc", FIELD, "bad_ref"),
            (2**64, FIELD, "bad_ref"),
            (True, FIELD, "bad_ref"),
            ("1.5", FIELD, "bad_ref"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        value = record_id(raw)
        return (None, BAD_REF) if value is None else (value, None)

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None or is_record_id(value):
            return None
        return BAD_REF

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        entity = get(field, "entity")
        if isinstance(entity, str) and not ENTITY.fullmatch(entity):
            return [("entity", f"'{entity}' is not an entity id or 'scenario.entity'")]
        return []
