"""``org``: one or several org units (a county, a liaison station, a department…)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import Problems, Samples, check_many, get, opt_bool, parse_many
from widgets._ids import DUPLICATE, ONLY_ONE, is_org_id, org_id
from widgets.base import Invalid, Widget, register

KINDS = ("province", "city", "county", "township", "station", "point", "department")
BAD_ORG = Invalid("bad_org", "请选择组织单位", "Choose an org unit")
MANY = {"type": "org", "multiple": True}


@register
class OrgWidget(Widget):
    """Parsed as an org unit id (a string), or a list of them when ``multiple``."""

    name = "org"
    label = "org unit"
    expr_type = "org"
    template = "_org.html"
    options: ClassVar[Mapping[str, str]] = {
        "kind": "Only org units of this kind: " + ", ".join(KINDS) + ".",
        "multiple": "Allow several org units.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("lucheng", {"type": "org"}, "lucheng"),
            (" wz.lucheng.station-1 ", {"type": "org", "kind": "station"}, "wz.lucheng.station-1"),
            ("jiaoyuju,weijianwei", MANY, ["jiaoyuju", "weijianwei"]),
            (["a_1", "b_2"], MANY, ["a_1", "b_2"]),
        ],
        "bad": [
            ("鹿城区", {"type": "org"}, "bad_org"),
            ("Lucheng", {"type": "org"}, "bad_org"),
            ("a,b", {"type": "org"}, "bad_org"),
            (["a", "a"], MANY, "duplicate_value"),
            (["a", "b"], {"type": "org"}, "too_many_values"),
            ({"id": "a"}, {"type": "org"}, "bad_org"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        multiple = opt_bool(field, "multiple")
        return parse_many(raw, multiple, org_id, BAD_ORG, DUPLICATE, ONLY_ONE)

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        return check_many(value, opt_bool(field, "multiple"), is_org_id, BAD_ORG, DUPLICATE)

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        kind = get(field, "kind")
        if isinstance(kind, str) and kind not in KINDS:
            return [("kind", f"kind '{kind}' is not one of: {', '.join(KINDS)}")]
        return []
