"""Record an installed package in ``scenarios.yaml``: its catalog, version and checksum (the lock).

The file is edited as text, in place, so comments and layout survive: a
changed value replaces just that scalar, a missing key gets a line of its own,
a flow mapping (``{…}``) is rewritten on its line. The result is read back and
compared with what was intended; if it differs, nothing is written.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import yaml

from runtime.catalog import CatalogError
from runtime.loader import LoadError, parse_text

_PLAIN = re.compile(r"^[A-Za-z0-9_./:@^~<>=*+-][A-Za-z0-9_./:@^~<>=*+ -]*$")


def scalar(value: Any) -> str:
    """A YAML scalar that reads back as ``value`` (plain when safe, else double-quoted)."""
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    risky = text.lower() in ("true", "false", "null", "~", "yes", "no", "on", "off")
    if _PLAIN.match(text) and not risky and ": " not in text and not text.endswith(":"):
        try:
            float(text)
        except ValueError:
            return text
    return json.dumps(text, ensure_ascii=False)


def flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def _find(node: yaml.Node, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k, v
    return None


def _content_end(node: yaml.Node) -> int:
    """Where the last character of a node's content is (block collections end early)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return int(node.end_mark.index)


def _line_end(text: str, index: int) -> int:
    """The index just after the end of the line holding ``index``."""
    newline = text.find("\n", max(index - 1, 0))
    return len(text) if newline < 0 else newline + 1


class _Edits:
    def __init__(self, text: str) -> None:
        self.text = text
        self.edits: list[tuple[int, int, str]] = []

    def replace(self, node: yaml.Node, new: str) -> None:
        if isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style:
            new = " " + new  # an empty value: 'key:' becomes 'key: {…}'
        self.edits.append((node.start_mark.index, node.end_mark.index, new))

    def insert(self, at: int, new: str) -> None:
        self.edits.append((at, at, new))

    def delete_line(self, key: yaml.Node, value: yaml.Node) -> None:
        start = self.text.rfind("\n", 0, key.start_mark.index) + 1
        if value.end_mark.line != key.start_mark.line:
            raise CatalogError("a multi-line value cannot be removed automatically")
        self.edits.append((start, _line_end(self.text, value.end_mark.index), ""))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, key=lambda e: (e[0], e[1]), reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _set_keys(
    edits: _Edits,
    node: yaml.Node,
    values: dict[str, Any],
    current: dict[str, Any],
    drop: tuple[str, ...],
) -> None:
    """Set ``values`` in the mapping ``node`` (whose data is ``current``); remove ``drop``."""
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
        merged = {k: v for k, v in current.items() if k not in drop} | values
        edits.replace(node, flow(merged))
        return
    indent = " " * node.value[0][0].start_mark.column
    missing = []
    for key, value in values.items():
        found = _find(node, key)
        if found is None:
            missing.append(f"{indent}{key}: {scalar(value)}\n")
        elif current.get(key) != value:
            if not isinstance(found[1], yaml.ScalarNode):
                raise CatalogError(f"'{key}' is not a plain value in scenarios.yaml")
            edits.replace(found[1], scalar(value))
    for key in drop:
        found = _find(node, key)
        if found is not None:
            edits.delete_line(*found)
    if missing:
        edits.insert(_line_end(edits.text, _content_end(node)), "".join(missing))


def _add_entry(
    edits: _Edits, parent: yaml.Node, key: str, body: dict[str, Any], nested: bool
) -> None:
    """Add ``key: body`` to the mapping ``parent`` (block: new lines; flow: rewritten)."""
    if isinstance(parent, yaml.MappingNode) and not parent.value and parent.start_mark.column:
        # an empty top-level '{}' (scenarios, catalogs): becomes a block on the lines below
        inner = "  "
        lines = [f"\n{inner}{key}:"] + [f"{inner}  {k}: {scalar(v)}" for k, v in body.items()]
        if not nested:
            lines = [f"\n{inner}{key}: {flow(body)}"]
        start = parent.start_mark.index
        start -= 1 if edits.text[start - 1 : start] == " " else 0
        edits.edits.append((start, parent.end_mark.index, "\n".join(lines)))
        return
    if not isinstance(parent, yaml.MappingNode) or parent.flow_style or not parent.value:
        raise CatalogError("flow")
    indent = " " * parent.value[0][0].start_mark.column
    if nested:
        inner = indent + "  "
        added = f"{indent}{key}:\n" + "".join(f"{inner}{k}: {scalar(v)}\n" for k, v in body.items())
    else:
        added = f"{indent}{key}: {flow(body)}\n"
    edits.insert(_line_end(edits.text, _content_end(parent)), added)


def record(
    manifest: Path,
    sid: str,
    *,
    catalog: str,
    url: str,
    key: str | None,
    version: str,
    checksum: str,
) -> None:
    """Pin scenario ``sid`` at ``version``/``checksum`` from ``catalog`` (url, key) in the manifest."""
    text = manifest.read_text("utf-8")
    try:
        before = parse_text(text, str(manifest)).data or {}
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (LoadError, yaml.YAMLError) as exc:
        raise CatalogError(f"cannot read {manifest}: {exc}") from None
    if not isinstance(before, dict) or not isinstance(root, yaml.MappingNode):
        raise CatalogError(f"{manifest} is not a mapping")
    expected = copy.deepcopy(before)
    edits = _Edits(text)
    cat_body = {"url": url} | ({"key": key} if key else {})
    catalogs = _find(root, "catalogs")
    known = expected.setdefault("catalogs", {})
    if catalogs is None:
        suffix = "" if text.endswith("\n") or not text else "\n"
        edits.insert(len(text), f"{suffix}\ncatalogs:\n  {catalog}: {flow(cat_body)}\n")
    elif _find(catalogs[1], catalog) is None:
        if (
            isinstance(catalogs[1], yaml.MappingNode)
            and catalogs[1].value
            and not catalogs[1].flow_style
        ):
            _add_entry(edits, catalogs[1], catalog, cat_body, nested=False)
        else:
            edits.replace(catalogs[1], flow((known or {}) | {catalog: cat_body}))
    else:
        _set_keys(edits, _find(catalogs[1], catalog)[1], cat_body, known.get(catalog) or {}, ())  # type: ignore[index]
    known[catalog] = (known.get(catalog) or {}) | cat_body
    lock = {"catalog": catalog, "version": version, "checksum": checksum}
    scenarios = _find(root, "scenarios")
    entries = expected.setdefault("scenarios", {})
    if scenarios is None:
        raise CatalogError(f"{manifest} has no scenarios section")
    found = _find(scenarios[1], sid)
    if found is None:
        try:
            _add_entry(edits, scenarios[1], sid, lock, nested=True)
        except CatalogError:
            edits.replace(scenarios[1], flow((entries or {}) | {sid: lock}))
        entries[sid] = lock
    else:
        current = entries.get(sid) or {}
        _set_keys(edits, found[1], lock, current, ("path",))
        current = {k: v for k, v in current.items() if k != "path"} | lock
        entries[sid] = current
    new_text = edits.result()
    try:
        after = parse_text(new_text, str(manifest)).data
    except LoadError as exc:
        raise CatalogError(
            f"editing {manifest} went wrong ({exc}); it was left unchanged"
        ) from None
    if after != expected:
        raise CatalogError(
            f"{manifest} could not be edited safely; it was left unchanged. Set by hand: "
            f"scenarios.{sid}: {flow(lock)} and catalogs.{catalog}: {flow(cat_body)}"
        )
    tmp = manifest.with_name(manifest.name + ".tmp")
    tmp.write_text(new_text, "utf-8")
    os.replace(tmp, manifest)
