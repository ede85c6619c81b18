"""``location``: a point on the map, with an optional address."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    Samples,
    check_variant,
    has_bad_chars,
    is_empty,
    normalized,
    to_decimal,
)
from widgets.base import Invalid, Widget, register

NOT_A_LOCATION = Invalid("not_a_location", "请选择位置", "Choose a location")
BAD_COORDINATES = Invalid(
    "bad_coordinates",
    "位置坐标超出范围（纬度 -90 到 90，经度 -180 到 180）",
    "The coordinates are out of range (latitude -90 to 90, longitude -180 to 180)",
)
MAX_ADDRESS = 300


def _coordinate(raw: Any) -> float | None:
    number = to_decimal(raw.strip() if isinstance(raw, str) else raw)
    return None if number is None else float(number)


def _first(raw: Mapping[Any, Any], *keys: str) -> Any:
    for key in keys:
        if key in raw:
            return raw[key]
    return None


def read_location(raw: Any) -> dict[str, Any] | Invalid:
    """``{lat, lng[, address]}`` from a mapping or a 'lat,lng' string."""
    if isinstance(raw, str):
        if len(raw) > 100:
            return NOT_A_LOCATION
        parts = re.split(r"\s*,\s*", normalized(raw))
        if len(parts) != 2:
            return NOT_A_LOCATION
        raw = {"lat": parts[0], "lng": parts[1]}
    if not isinstance(raw, Mapping):
        return NOT_A_LOCATION
    lat = _coordinate(_first(raw, "lat", "latitude"))
    lng = _coordinate(_first(raw, "lng", "lon", "longitude"))
    if lat is None or lng is None:
        return NOT_A_LOCATION
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return BAD_COORDINATES
    point: dict[str, Any] = {"lat": lat, "lng": lng}
    address = raw.get("address")
    if address is not None:
        if not isinstance(address, str) or has_bad_chars(address):
            return NOT_A_LOCATION
        address = address.strip()
        if len(address) > MAX_ADDRESS:
            return Invalid(
                "too_long",
                f"地址最多 {MAX_ADDRESS} 个字",
                f"The address has at most {MAX_ADDRESS} characters",
            )
        if address:
            point["address"] = address
    return point


@register
class LocationWidget(Widget):
    """Parsed as ``{"lat": float, "lng": float}`` plus ``"address"`` when given."""

    name = "location"
    label = "location"
    expr_type = "location"
    template = "_location.html"
    options: ClassVar[Mapping[str, str]] = {
        "widget": "The display variant: map.",
    }
    samples: ClassVar[Samples] = {
        "good": [
            ("28.0, 120.65", {"type": "location"}, {"lat": 28.0, "lng": 120.65}),
            ("28，120.5", {"type": "location"}, {"lat": 28.0, "lng": 120.5}),
            (
                {"lat": 27.99, "lng": 120.7, "address": " 温州市人大常委会 "},
                {"type": "location"},
                {"lat": 27.99, "lng": 120.7, "address": "温州市人大常委会"},
            ),
            (
                {"latitude": "30", "longitude": "-120"},
                {"type": "location"},
                {"lat": 30.0, "lng": -120.0},
            ),
        ],
        "bad": [
            ("温州", {"type": "location"}, "not_a_location"),
            ("91,120", {"type": "location"}, "bad_coordinates"),
            ({"lat": 28, "lng": 181}, {"type": "location"}, "bad_coordinates"),
            ({"lat": float("nan"), "lng": 120}, {"type": "location"}, "not_a_location"),
            ([28, 120], {"type": "location"}, "not_a_location"),
            ({"lat": 28, "lng": 120, "address": 5}, {"type": "location"}, "not_a_location"),
        ],
    }

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        point = read_location(raw)
        return (None, point) if isinstance(point, Invalid) else (point, None)

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            return NOT_A_LOCATION
        point = read_location(value)
        return point if isinstance(point, Invalid) else None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        check_variant(field, ("map",), problems)
        return problems
