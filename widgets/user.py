"""``user``: one or several platform users, by id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Samples, check_many, opt_bool, parse_many
from widgets._ids import DUPLICATE, ONLY_ONE, is_record_id, record_id
from widgets.base import Invalid, Widget, register

BAD_USER = Invalid("bad_user", "请选择人员", "Choose a person")
MANY = {"type": "user", "multiple": True}


@register
class UserWidget(Widget):
    """Parsed as a user id (a positive ``int``), or a list of them when ``multiple``."""

    name = "user"
    label = "user"
    expr_type = "user"
    template = "_user.html"
    options: ClassVar[Mapping[str, str]] = {
        "role": "Only users holding this scenario role may be chosen.",
        "multiple": "Allow several users.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("12", {"type": "user"}, 12),
            (12, {"type": "user", "role": "deputy"}, 12),
            ("3,5、8", MANY, [3, 5, 8]),
            ([3, "5"], MANY, [3, 5]),
            ([9], {"type": "user"}, 9),
        ],
        "bad": [
            ("张三", {"type": "user"}, "bad_user"),
            ("3,5", {"type": "user"}, "bad_user"),
            ([3, 5], {"type": "user"}, "too_many_values"),
            ([3, 3], MANY, "duplicate_value"),
            ([3, None], MANY, "bad_user"),
            ({"id": 3}, {"type": "user"}, "bad_user"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        multiple = opt_bool(field, "multiple")
        return parse_many(raw, multiple, record_id, BAD_USER, DUPLICATE, ONLY_ONE)

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        return check_many(value, opt_bool(field, "multiple"), is_record_id, BAD_USER, DUPLICATE)
