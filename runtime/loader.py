"""Read YAML into plain data, remembering where every node came from.

The loader composes PyYAML nodes (safe: no tag ever constructs an object) and
turns them into dicts, lists and scalars itself, so it can:

- record file, line and column of every key and value (``Document.marks``);
- reject duplicate keys, naming both lines (PyYAML keeps the last silently);
- bound alias expansion (billion-laughs) and refuse recursive aliases;
- refuse tab indentation, files over a size limit, and custom tags;
- resolve scalars the YAML 1.2 way: only ``true``/``false`` are booleans
  (``yes``, ``no``, ``on`` stay strings) and dates stay strings.

A package may be split over several files; ``merge`` joins their top-level
maps and reports a key defined in two files with both places.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runtime.mistakes import Mistake, dotted
from runtime.mistakes import Path as DocPath

MAX_FILE_BYTES = 1_000_000
MAX_NODES = 100_000  # nodes after alias expansion, per file


@dataclass(frozen=True)
class Mark:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    style: str | None = None  # scalar style: None plain, "'" or '"' quoted, "|" or ">" block


@dataclass
class Document:
    """Plain data plus the place of every node, keyed by path."""

    data: Any
    marks: dict[DocPath, Mark] = field(default_factory=dict)  # value nodes
    key_marks: dict[DocPath, Mark] = field(default_factory=dict)  # keys of mappings
    files: list[str] = field(default_factory=list)

    def mark(self, path: DocPath) -> Mark:
        """The mark of ``path`` or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), Mark(self.files[0] if self.files else "<unknown>", 1, 1))

    def key_mark(self, path: DocPath) -> Mark:
        """The mark of the key that names ``path`` (falls back to the value's mark)."""
        return self.key_marks.get(tuple(path)) or self.mark(path)

    def mistake(
        self,
        path: DocPath,
        message: str,
        *,
        expected: str | None = None,
        hint: str | None = None,
        code: str = "invalid",
        at_key: bool = False,
        offset: int = 0,
    ) -> Mistake:
        """A mistake placed at ``path`` (or at its key); ``offset`` moves along a scalar."""
        m = self.key_mark(path) if at_key else self.mark(path)
        column = m.column
        if offset and m.style in (None, "'", '"'):
            column += offset + (1 if m.style else 0)
        return Mistake(m.file, m.line, column, dotted(path), message, expected, hint, code)


class LoadError(Exception):
    """A file that cannot be read as data at all; carries its mistakes."""

    def __init__(self, mistakes: Mistake | list[Mistake]) -> None:
        self.mistakes = mistakes if isinstance(mistakes, list) else [mistakes]
        super().__init__("\n".join(str(m) for m in self.mistakes))


# -- scalar resolution: YAML 1.2 core schema -----------------------------------------------

_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$|^0x[0-9a-fA-F]+$|^0o[0-7]+$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOAT = {
    ".inf": float("inf"),
    "+.inf": float("inf"),
    "-.inf": float("-inf"),
    ".nan": float("nan"),
}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}

STR = "tag:yaml.org,2002:str"
PLAIN = "tag:yidi,2026:plain"  # an untagged plain scalar, typed by ``_scalar``
_ALLOWED_TAGS = {
    STR,
    PLAIN,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}


class _Resolver(yaml.resolver.BaseResolver):
    """Plain scalars get the ``PLAIN`` tag; ``_scalar`` types them the YAML 1.2 way."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return PLAIN
        return str(super().resolve(kind, value, implicit))


class _Loader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    _Resolver,
):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.tag == STR:
        return text  # quoted, block, or explicitly tagged !!str
    if node.tag != PLAIN:
        return _tagged_scalar(node)
    if text in _NULL:
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        cleaned = text.replace("_", "")
        if cleaned.lower().startswith(("0x", "-0x", "+0x")):
            return int(cleaned, 16)
        if cleaned.lower().startswith("0o"):
            return int(cleaned[2:], 8)
        return int(cleaned)
    if _FLOAT.match(text) and any(ch.isdigit() for ch in text):
        return float(text.replace("_", ""))
    if text.lower() in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text.lower()]
    return text


def _tagged_scalar(node: yaml.ScalarNode) -> Any:
    """An explicit standard tag such as ``!!str 1.0`` or ``!!int '3'``."""
    text = node.value
    tag = node.tag
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        if text in _BOOL:
            return _BOOL[text]
    elif tag == "tag:yaml.org,2002:int":
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            pass
    elif tag == "tag:yaml.org,2002:float":
        try:
            return float(text.replace("_", ""))
        except ValueError:
            pass
    raise _Fail(node, f"'{text}' is not a valid {tag.rsplit(':', 1)[-1]}", "a value of that type")


class _Fail(Exception):
    def __init__(
        self,
        node: yaml.Node,
        message: str,
        expected: str | None = None,
        hint: str | None = None,
        code: str = "yaml",
        path: DocPath | None = None,
    ) -> None:
        self.node, self.message, self.expected, self.hint, self.code = (
            node,
            message,
            expected,
            hint,
            code,
        )
        self.path = path

    def mistake(self, file: str, path: DocPath) -> Mistake:
        m = self.node.start_mark
        where = dotted(self.path if self.path is not None else path)
        return Mistake(
            file, m.line + 1, m.column + 1, where, self.message, self.expected, self.hint, self.code
        )


# -- building plain data ---------------------------------------------------------------------


class _Builder:
    def __init__(self, doc: Document, file: str, max_nodes: int) -> None:
        self.doc = doc
        self.file = file
        self.max_nodes = max_nodes
        self.count = 0
        self.stack: set[int] = set()
        self.problems: list[Mistake] = []

    def mark(self, node: yaml.Node) -> Mark:
        m = node.start_mark
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        return Mark(self.file, m.line + 1, m.column + 1, style)

    def build(self, node: yaml.Node, path: DocPath) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            raise _Fail(
                node,
                f"the document expands to more than {self.max_nodes} nodes",
                "a document without alias bombs",
                "an alias (*name) is repeated too often; write the values out instead",
                code="alias_bomb",
                path=path,
            )
        self.doc.marks.setdefault(path, self.mark(node))
        if node.tag not in _ALLOWED_TAGS:
            raise _Fail(
                node,
                f"tag '{node.tag}' is not allowed",
                "plain YAML without tags",
                "remove the tag; scenario files hold data only",
                code="tag",
                path=path,
            )
        if isinstance(node, yaml.ScalarNode):
            try:
                return _scalar(node)
            except _Fail as fail:
                fail.path = path
                raise
        key = id(node)
        if key in self.stack:
            raise _Fail(
                node,
                "an alias refers to the node that contains it",
                "a document without recursive aliases",
                code="recursive_alias",
                path=path,
            )
        self.stack.add(key)
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self.mapping(node, path)
        finally:
            self.stack.discard(key)

    def mapping(self, node: yaml.MappingNode, path: DocPath) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, Mark] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise _Fail(key_node, "a key must be a plain word", "a string key", code="bad_key")
            if key_node.tag not in _ALLOWED_TAGS:
                raise _Fail(
                    key_node,
                    f"tag '{key_node.tag}' is not allowed",
                    "plain YAML without tags",
                    code="tag",
                )
            name = key_node.value
            if name == "<<" and key_node.style is None:
                raise _Fail(
                    key_node,
                    "merge keys ('<<') are not supported",
                    "keys written out",
                    "repeat the keys, or use an overlay",
                    code="merge_key",
                )
            key_mark = self.mark(key_node)
            child = (*path, name)
            if name in seen:
                first = seen[name]
                self.problems.append(
                    _Fail(
                        key_node,
                        f"duplicate key '{name}' (first defined at line {first.line})",
                        "each key once per mapping",
                        "remove one of the two, or merge them",
                        code="duplicate_key",
                    ).mistake(self.file, child)
                )
                continue
            seen[name] = key_mark
            self.doc.key_marks.setdefault(child, key_mark)
            out[name] = self.build(value_node, child)
        return out


def _check_text(text: str, file: str) -> None:
    """Checks made on the raw text before parsing: tab indentation (every line of it)."""
    tabs: list[Mistake] = []
    in_block = False
    block_indent = 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if in_block and stripped and indent <= block_indent:
            in_block = False
        if stripped.startswith("\t") and not in_block:
            tabs.append(
                Mistake(
                    file,
                    number,
                    indent + 1,
                    "<text>",
                    "tab character in indentation",
                    "spaces",
                    "indent with spaces only (YAML forbids tabs)",
                    "tab",
                )
            )
        if re.search(r"[:\-]\s*[|>][0-9+-]*\s*(#.*)?$", line) and not line.lstrip().startswith("#"):
            in_block, block_indent = True, indent
    if tabs:
        raise LoadError(tabs)


def parse_text(text: str, file: str, *, max_nodes: int = MAX_NODES) -> Document:
    """Parse one YAML text into a ``Document``; raises ``LoadError`` on the first problem."""
    doc = Document(None, files=[file])
    _check_text(text, file)
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.composer.ComposerError as exc:
        raise LoadError(_from_yaml_error(exc, file, "composer")) from None
    except yaml.MarkedYAMLError as exc:
        raise LoadError(_from_yaml_error(exc, file, "syntax")) from None
    except yaml.YAMLError as exc:  # reader errors: bad characters
        raise LoadError(
            Mistake(file, 1, 1, "<text>", f"unreadable YAML: {exc}", code="syntax")
        ) from None
    if node is None:
        doc.data = None
        doc.marks[()] = Mark(file, 1, 1)
        return doc
    builder = _Builder(doc, file, max_nodes)
    try:
        doc.data = builder.build(node, ())
    except _Fail as fail:
        raise LoadError([*builder.problems, fail.mistake(file, ())]) from None
    except RecursionError:
        raise LoadError(
            Mistake(file, 1, 1, "<text>", "the document nests too deeply", code="too_deep")
        ) from None
    if builder.problems:
        raise LoadError(builder.problems)
    return doc


def _from_yaml_error(exc: yaml.MarkedYAMLError, file: str, code: str) -> Mistake:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = exc.problem or "invalid YAML"
    if exc.context:
        problem = f"{problem} ({exc.context})"
    if "expected a single document" in problem:
        return Mistake(
            file,
            line,
            column,
            "<text>",
            "more than one document in the file",
            "one document per file",
            "remove the '---' separator or split the file",
            "multi_doc",
        )
    hint = None
    if "found character '\\t'" in problem:
        hint = "indent with spaces only (YAML forbids tabs)"
        code = "tab"
    elif "could not find expected ':'" in problem or "mapping values are not allowed" in problem:
        hint = "check the indentation and that every key ends with ':' followed by a space"
    return Mistake(file, line, column, "<text>", problem, None, hint, code)


def load_file(
    path: Path, *, display: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Document:
    """Read and parse one YAML file (``display`` is the name used in messages)."""
    name = display or str(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoadError(
                Mistake(
                    name,
                    1,
                    1,
                    "<file>",
                    f"file is {size} bytes, over the limit",
                    f"at most {max_bytes} bytes",
                    "split it into several files",
                    "too_large",
                )
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(
            Mistake(name, 1, 1, "<file>", f"cannot read file: {exc.strerror}", code="unreadable")
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LoadError(
            Mistake(
                name,
                line,
                column,
                "<text>",
                "the file is not valid UTF-8",
                "UTF-8 text",
                "save the file as UTF-8",
                "encoding",
            )
        ) from None
    return parse_text(text, name)


def merge(docs: Iterable[Document]) -> tuple[Document, list[Mistake]]:
    """Join documents whose top level is a mapping.

    Sections (entities, views, workflows, …) may be spread over files; each id
    in a section, and each top-level scalar, lives in one file only.
    """
    result = Document({}, files=[])
    mistakes: list[Mistake] = []
    for doc in docs:
        result.files.extend(doc.files)
        if doc.data is None:
            continue
        if not isinstance(doc.data, dict):
            mistakes.append(
                doc.mistake(
                    (),
                    "the file's top level must be a mapping",
                    expected="key: value pairs",
                    code="type",
                )
            )
            continue
        if not result.marks:
            result.marks[()] = doc.marks.get((), Mark(doc.files[0], 1, 1))
        _merge_into(result, result.data, doc, doc.data, (), mistakes)
    return result, mistakes


def _merge_into(
    result: Document,
    target: dict[str, Any],
    doc: Document,
    source: dict[str, Any],
    path: DocPath,
    mistakes: list[Mistake],
) -> None:
    for key, value in source.items():
        child = (*path, key)
        if key not in target:
            target[key] = copy.deepcopy(value)
            for table_in, table_out in (
                (doc.marks, result.marks),
                (doc.key_marks, result.key_marks),
            ):
                for p, m in table_in.items():
                    if p[: len(child)] == child:
                        table_out[p] = m
        elif not path and isinstance(target[key], dict) and isinstance(value, dict):
            _merge_into(result, target[key], doc, value, child, mistakes)
        else:
            first = result.key_mark(child)
            mistakes.append(
                doc.mistake(
                    child,
                    f"'{dotted(child)}' is defined twice (first at {first.file}:{first.line})",
                    expected="each key in one file only",
                    hint="keep one definition",
                    code="duplicate_key",
                    at_key=True,
                )
            )
