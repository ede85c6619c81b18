"""Fill in what authors leave out, from the schema.

Authors write only what differs; the schema carries the defaults. After a
document passes the schema, ``fill`` walks it alongside the schema and

- expands shorthands: where a definition says ``x-shorthand: label``, a bare
  label (``draft: 草稿``) becomes ``{label: 草稿}``;
- sets every property that has a ``default`` and is absent.

Definitions on disk are never rewritten: this happens in memory at load time.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from runtime import schema as schemas


def fill(data: Any, kind: str) -> Any:
    """Return ``data`` with shorthands expanded and defaults set (mutates in place)."""
    root = schemas.schema(kind)
    return _walk(kind, root, data)


_RELEVANT: dict[int, bool] = {}


def _relevant(kind: str, node: Mapping[str, Any]) -> bool:
    """Whether anything below ``node`` has a default or a shorthand (cached by identity)."""
    key = id(node)
    if key in _RELEVANT:
        return _RELEVANT[key]
    _RELEVANT[key] = True  # assume so while recursing (schemas are recursive)
    resolved = schemas.resolve(kind, node)
    found = "x-shorthand" in resolved
    subs: list[Any] = []
    for name in ("anyOf", "oneOf", "allOf"):
        subs += resolved.get(name, [])
    subs += [sub["then"] for sub in resolved.get("allOf", []) if "then" in sub]
    for prop in resolved.get("properties", {}).values():
        found = found or "default" in schemas.resolve(kind, prop)
        subs.append(prop)
    for name in ("additionalProperties", "items"):
        if isinstance(resolved.get(name), dict):
            subs.append(resolved[name])
    found = found or any(_relevant(kind, sub) for sub in subs if isinstance(sub, dict))
    _RELEVANT[key] = found
    return found


def _walk(kind: str, node: Mapping[str, Any], value: Any) -> Any:
    if not isinstance(value, dict | list | str) or not _relevant(kind, node):
        return value
    node = schemas.resolve(kind, node)
    shorthand = node.get("x-shorthand")
    if (shorthand and not isinstance(value, dict)) or (shorthand and _is_label(kind, value)):
        value = {shorthand: value}
    for combinator in ("anyOf", "oneOf"):
        if combinator in node:
            branch = _pick(kind, node[combinator], value)
            if branch is not None:
                value = _walk(kind, branch, value)
            return value
    for sub in node.get("allOf", []):
        sub = schemas.resolve(kind, sub)
        if "if" in sub and isinstance(value, dict):
            if "then" in sub and _holds(sub["if"], value):
                value = _walk(kind, sub["then"], value)
        else:
            value = _walk(kind, sub, value)
    if isinstance(value, dict):
        props: Mapping[str, Any] = node.get("properties", {})
        for key, prop in props.items():
            if key in value:
                value[key] = _walk(kind, prop, value[key])
            else:
                resolved = schemas.resolve(kind, prop)
                if "default" in resolved:
                    value[key] = copy.deepcopy(resolved["default"])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for key in list(value):
                if key not in props:
                    value[key] = _walk(kind, extra, value[key])
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, item in enumerate(value):
            value[i] = _walk(kind, node["items"], item)
    return value


def _holds(condition: Mapping[str, Any], value: dict[str, Any]) -> bool:
    """Whether an ``if`` schema holds; the common const/enum-on-a-key form is decided directly."""
    if set(condition) <= {"properties", "required"}:
        if any(key not in value for key in condition.get("required", ())):
            return False
        for key, rule in condition.get("properties", {}).items():
            if key not in value:
                continue
            if set(rule) == {"const"} and value[key] != rule["const"]:
                return False
            if set(rule) == {"enum"} and value[key] not in rule["enum"]:
                return False
            if not set(rule) <= {"const", "enum"}:
                return bool(Draft202012Validator(condition).is_valid(value))
        return True
    return bool(Draft202012Validator(condition).is_valid(value))


def _is_label(kind: str, value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and set(value) <= {"zh", "en"}


def _pick(kind: str, branches: list[Mapping[str, Any]], value: Any) -> Mapping[str, Any] | None:
    """The first branch that accepts ``value``'s JSON type (objects: the object branch)."""
    for branch in branches:
        resolved = schemas.resolve(kind, branch)
        types = resolved.get("type")
        if types is None:
            continue
        allowed = {types} if isinstance(types, str) else set(types)
        if isinstance(value, dict) and "object" in allowed:
            if _is_label(kind, value) and "zh" not in resolved.get("properties", {}):
                continue
            return branch
        if isinstance(value, list) and "array" in allowed:
            return branch
    return None
