"""The published JSON Schemas, and their errors turned into located mistakes.

``schemas/scenario.schema.json`` and ``schemas/manifest.schema.json`` are the
contract of the language: editors use them for completion, the checker uses
them first. jsonschema's errors are rephrased for authors: an unknown key is
reported on the key itself with a 'did you mean', an ``anyOf`` is narrowed to
the branch whose type matches, and ``x-expected`` annotations in the schema
say what was expected in plain words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from runtime.loader import Document
from runtime.mistakes import Mistake, closest, did_you_mean, one_of

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
KINDS = ("scenario", "manifest")


@cache
def schema(kind: str) -> dict[str, Any]:
    """The schema of ``scenario`` or ``manifest`` as a dict."""
    if kind not in KINDS:
        raise ValueError(f"unknown schema {kind!r}")
    data: dict[str, Any] = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text("utf-8"))
    return data


@cache
def validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


@cache
def fast_validator(kind: str) -> Any:
    """A compiled validator (jsonschema-rs, Rust) that only answers valid or not.

    Clean documents, the common case, are decided by it a hundred times faster;
    only a document it refuses goes through jsonschema for explained errors.
    """
    return jsonschema_rs.validator_for(schema(kind))


_RESOLVED: dict[int, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}


def resolve(kind: str, node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local ``$ref`` (keeping the referring node's own keys on top).

    Results are cached by node identity: schema nodes live as long as the process.
    """
    if "$ref" not in node:
        return node
    hit = _RESOLVED.get(id(node))
    if hit is not None and hit[0] is node:
        return hit[1]
    original = node
    seen = 0
    while "$ref" in node and seen < 20:
        name = str(node["$ref"]).rsplit("/", 1)[-1]
        target = schema(kind)["$defs"][name]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    _RESOLVED[id(original)] = (original, node)
    return node


def validate(doc: Document, kind: str) -> list[Mistake]:
    """Every schema mistake in ``doc``, located and rephrased.

    The parts found wrong are then removed from ``doc.data`` (a list item
    becomes None), so the semantic checks that follow never trust them.
    """
    if fast_validator(kind).is_valid(doc.data):
        return []
    out: list[Mistake] = []
    bad: list[tuple[Any, ...]] = []
    for error in validator(kind).iter_errors(doc.data):
        for path, mistake in _explain(doc, kind, error):
            out.append(mistake)
            if path is not None:
                bad.append(path)
    for path in sorted(set(bad), key=lambda p: (-len(p), repr(p))):
        _prune(doc.data, path)
    return _unique(out)


def _prune(data: Any, path: tuple[Any, ...]) -> None:
    if not path:
        return
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent[last] = None


def _unique(mistakes: list[Mistake]) -> list[Mistake]:
    seen: set[tuple[Any, ...]] = set()
    result = []
    for m in mistakes:
        key = (m.file, m.line, m.column, m.message)
        if key not in seen:
            seen.add(key)
            result.append(m)
    return result


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def type_word(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string '{value}'" if len(value) <= 40 else "a string"
    if isinstance(value, int | float):
        return f"the number {value}"
    if value is None:
        return "nothing (an empty value)"
    return type(value).__name__


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "null"


def _expected(kind: str, node: Mapping[str, Any]) -> str | None:
    node = resolve(kind, node)
    if "x-expected" in node:
        return str(node["x-expected"])
    if "enum" in node:
        return one_of(str(v) for v in node["enum"])
    types = node.get("type")
    if isinstance(types, str):
        return _TYPE_WORDS.get(types, types)
    if isinstance(types, list):
        return " or ".join(_TYPE_WORDS.get(t, t) for t in types)
    return None


def _branch_accepts_type(kind: str, branch: Mapping[str, Any], value: Any) -> bool:
    branch = resolve(kind, branch)
    actual = _json_type(value)
    if "const" in branch:
        return _json_type(branch["const"]) == actual
    if "enum" in branch:
        return any(_json_type(v) == actual for v in branch["enum"])
    types = branch.get("type")
    if types is None:
        subs = branch.get("anyOf") or branch.get("oneOf")
        if subs:
            return any(_branch_accepts_type(kind, s, value) for s in subs)
        return True
    allowed = {types} if isinstance(types, str) else set(types)
    if actual == "integer" and "number" in allowed:
        return True
    return actual in allowed


def _explain(
    doc: Document, kind: str, error: ValidationError
) -> Iterator[tuple[tuple[Any, ...] | None, Mistake]]:
    path = tuple(error.absolute_path)
    v = error.validator
    node = error.schema if isinstance(error.schema, Mapping) else {}
    instance = error.instance

    if "propertyNames" in error.schema_path and isinstance(instance, str):
        if isinstance(doc_value(doc, path), dict):
            v = "propertyNames"
    if v in ("anyOf", "oneOf"):
        branches = node.get(v, [])
        matching = [i for i, b in enumerate(branches) if _branch_accepts_type(kind, b, instance)]
        by_branch = {
            i: [e for e in error.context or [] if e.relative_schema_path[0] == i] for i in matching
        }
        if len(matching) > 1:
            # several branches take this type: trust the one whose errors go deepest
            depth = {i: max((_depth(e) for e in errs), default=0) for i, errs in by_branch.items()}
            deepest = max(depth.values())
            matching = [i for i in matching if depth[i] == deepest]
        if len(matching) == 1 and by_branch[matching[0]]:
            for sub in by_branch[matching[0]]:
                yield from _explain(doc, kind, sub)
            return
        yield (
            path,
            doc.mistake(
                path,
                f"wrong value: found {type_word(instance)}",
                expected=_expected(kind, node) or "another kind of value",
                code="type",
            ),
        )
        return

    if v == "type":
        yield (
            path,
            doc.mistake(
                path,
                f"wrong type: found {type_word(instance)}",
                expected=_expected(kind, node),
                code="type",
            ),
        )
    elif v == "required":
        props = resolve(kind, node).get("properties", {})
        present = instance.keys() if isinstance(instance, dict) else []
        for key in error.validator_value:
            if key in present:
                continue
            description = resolve(kind, props.get(key, {})).get("description", "")
            near = closest(key, present)
            if "then" in error.schema_path and isinstance(instance, dict) and "type" in instance:
                message = f"a {instance['type']} field needs '{key}'"
            else:
                message = f"missing required key '{key}'"
            yield (
                None,
                doc.mistake(
                    path,
                    message,
                    expected=f"{key}: {_first_sentence(description)}" if description else None,
                    hint=(f"is '{near}' a misspelling of '{key}'?" if near else None),
                    code="required",
                ),
            )
    elif v == "additionalProperties":
        props = node.get("properties", {})
        for key in instance if isinstance(instance, dict) else []:
            if key in props:
                continue
            yield (
                (*path, key),
                doc.mistake(
                    (*path, key),
                    f"unknown key '{key}'",
                    expected=one_of(props),
                    hint=did_you_mean(key, props),
                    code="unknown_key",
                    at_key=True,
                ),
            )
    elif v == "propertyNames":
        yield (
            (*path, instance),
            doc.mistake(
                (*path, instance),
                f"'{instance}' is not a valid id",
                expected="a lower snake_case id like first_review",
                hint=_id_hint(str(instance)),
                code="bad_id",
                at_key=True,
            ),
        )
    elif v in ("enum", "const"):
        allowed = error.validator_value if v == "enum" else [error.validator_value]
        yield (
            path,
            doc.mistake(
                path,
                (
                    f"unknown {path[-1]} '{instance}'"
                    if path and isinstance(path[-1], str) and isinstance(instance, str)
                    else f"unknown value {type_word(instance)}"
                ),
                expected=one_of(str(a) for a in allowed),
                hint=did_you_mean(instance, [str(a) for a in allowed]),
                code="enum",
            ),
        )
    elif v == "pattern":
        yield (
            path,
            doc.mistake(
                path,
                f"{type_word(instance)} does not have the expected form",
                expected=_expected(kind, node) or f"text matching {error.validator_value}",
                hint=_id_hint(instance) if "[a-z]" in str(error.validator_value) else None,
                code="pattern",
            ),
        )
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "more than",
            "exclusiveMaximum": "less than",
        }
        yield (
            path,
            doc.mistake(
                path,
                f"{type_word(instance)} is out of range",
                expected=f"a number {words[v]} {error.validator_value}",
                code="range",
            ),
        )
    elif v in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        unit = {"L": "characters", "I": "items", "P": "entries"}[v[3]]
        bound = "at least" if v.startswith("min") else "at most"
        what = "empty" if v.startswith("min") and not instance else "of the wrong size"
        yield (
            path,
            doc.mistake(
                path,
                f"the value is {what}",
                expected=f"{bound} {error.validator_value} {unit}",
                code="size",
            ),
        )
    elif v == "uniqueItems":
        seen: list[Any] = []
        dup = next((x for x in instance if x in seen or seen.append(x)), None)  # type: ignore[func-returns-value]
        yield (
            path,
            doc.mistake(
                path,
                f"{type_word(dup)} is listed twice",
                expected="each item once",
                code="duplicate",
            ),
        )
    else:
        yield path, doc.mistake(path, error.message, code=str(v))


def doc_value(doc: Document, path: tuple[Any, ...]) -> Any:
    value = doc.data
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _first_sentence(description: str) -> str:
    """The first sentence of a schema description, for an 'expected' note."""
    sentence = re.split(r"(?<!e\.g)\.\s+(?=[A-Z])", description)[0].rstrip(".")
    sentence = sentence[:1].lower() + sentence[1:]
    return sentence if len(sentence) <= 90 else sentence[:87] + "…"


def _depth(error: ValidationError) -> int:
    """How deep into the document an error (or the deepest of its sub-errors) points."""
    own = len(error.absolute_path)
    return max([own, *(_depth(sub) for sub in error.context or [])])


def _id_hint(text: Any) -> str | None:
    if not isinstance(text, str) or not text:
        return None
    suggestion = re.sub(
        r"[^a-z0-9_]+", "_", re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", text).lower()
    ).strip("_")
    if suggestion and suggestion[0].isalpha() and suggestion != text:
        return f"did you mean '{suggestion}'?"
    if any(ord(ch) > 127 for ch in text):
        return "ids are English snake_case; put the Chinese text in a label"
    return None
