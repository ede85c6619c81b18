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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
import yaml.cyaml

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


class Document:
    """Plain data plus the place of every node, keyed by path.

    Places are worked out lazily, on the first question, by parsing the text
    again: checking a clean package never pays for them, and no node graph is
    kept alive. A merged document answers through the file that defined each
    section entry.
    """

    def __init__(self, data: Any, files: list[str] | None = None, text: str | None = None) -> None:
        self.data = data
        self.files = files or []
        self._text = text
        self._marks: dict[DocPath, Mark] | None = None
        self._key_marks: dict[DocPath, Mark] = {}
        self.parts: dict[DocPath, Document] = {}  # merged: path prefix → source document

    @property
    def marks(self) -> dict[DocPath, Mark]:
        """Marks of value nodes (single-file documents)."""
        if self._marks is None:
            self._marks = {}
            if self._text is not None:
                _locate(
                    _compose(self._text), (), self.files[0], self._marks, self._key_marks, set()
                )
        return self._marks

    @property
    def key_marks(self) -> dict[DocPath, Mark]:
        """Marks of the keys of mappings (single-file documents)."""
        _ = self.marks
        return self._key_marks

    def _source(self, path: DocPath) -> Document | None:
        for size in (2, 1):
            part = self.parts.get(tuple(path[:size]))
            if part is not None and len(path) >= size:
                return part
        return None

    def mark(self, path: DocPath) -> Mark:
        """The mark of ``path`` or of its nearest ancestor that has one."""
        source = self._source(path)
        if source is not None:
            return source.mark(path)
        if self.parts and self._text is None:
            first = next(iter(self.parts.values()))
            return first.mark(())
        marks = self.marks
        p = tuple(path)
        while p:
            if p in marks:
                return marks[p]
            p = p[:-1]
        return marks.get((), Mark(self.files[0] if self.files else "<unknown>", 1, 1))

    def key_mark(self, path: DocPath) -> Mark:
        """The mark of the key that names ``path`` (falls back to the value's mark)."""
        source = self._source(path)
        if source is not None:
            return source.key_mark(path)
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


def _mark(node: yaml.Node, file: str) -> Mark:
    m = node.start_mark
    style = (node.style or None) if isinstance(node, yaml.ScalarNode) else None
    return Mark(file, m.line + 1, m.column + 1, style)


def _locate(
    node: yaml.Node,
    path: DocPath,
    file: str,
    marks: dict[DocPath, Mark],
    key_marks: dict[DocPath, Mark],
    stack: set[int],
) -> None:
    """Record the marks of a node graph the builder already accepted (so it is bounded)."""
    marks.setdefault(path, _mark(node, file))
    if isinstance(node, yaml.ScalarNode) or id(node) in stack:
        return
    stack.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _locate(item, (*path, i), file, marks, key_marks, stack)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            if child in key_marks:
                continue  # a duplicate key: the first one counts
            key_marks[child] = _mark(key_node, file)
            _locate(value_node, child, file, marks, key_marks, stack)
    stack.discard(id(node))


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


class _PyLoader(
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


if yaml.__with_libyaml__:  # the C parser composes nodes ten times faster, with the same marks

    class _CLoader(yaml.cyaml.CParser, _Resolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            yaml.cyaml.CParser.__init__(self, stream)
            _Resolver.__init__(self)

    _Loader: type = _CLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml
    _Loader = _PyLoader


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

    def at(self, path: DocPath) -> _Fail:
        self.path = path
        return self

    def mistake(self, file: str, path: DocPath) -> Mistake:
        m = self.node.start_mark
        where = dotted(self.path if self.path is not None else path)
        return Mistake(
            file, m.line + 1, m.column + 1, where, self.message, self.expected, self.hint, self.code
        )


# -- building plain data ---------------------------------------------------------------------


def _tag_text(tag: str) -> str:
    """A tag as authors write it: tag:yaml.org,2002:python/object → !!python/object."""
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


class _Builder:
    """Turns a node graph into plain data; ``trail`` is the path being built."""

    def __init__(self, file: str, max_nodes: int) -> None:
        self.file = file
        self.max_nodes = max_nodes
        self.count = 0
        self.stack: set[int] = set()
        self.trail: list[str | int] = []
        self.problems: list[Mistake] = []

    def fail(
        self, node: yaml.Node, message: str, expected: str, hint: str | None, code: str
    ) -> _Fail:
        return _Fail(node, message, expected, hint, code, tuple(self.trail))

    def build(self, node: yaml.Node) -> Any:
        self.count += 1
        if self.count > self.max_nodes:
            raise self.fail(
                node,
                f"the document expands to more than {self.max_nodes} nodes",
                "a document without alias bombs",
                "an alias (*name) is repeated too often; write the values out instead",
                "alias_bomb",
            ).at(tuple(self.trail[:1]))
        tag = node.tag
        if tag not in _ALLOWED_TAGS:
            raise self.fail(
                node,
                f"tag '{_tag_text(tag)}' is not allowed",
                "plain YAML without tags",
                "remove the tag; scenario files hold data only",
                "tag",
            )
        if tag == STR:
            return node.value
        if isinstance(node, yaml.ScalarNode):
            try:
                return _scalar(node)
            except _Fail as fail:
                fail.path = tuple(self.trail)
                raise
        key = id(node)
        if key in self.stack:
            raise self.fail(
                node,
                "an alias refers to the node that contains it",
                "a document without recursive aliases",
                None,
                "recursive_alias",
            )
        self.stack.add(key)
        trail = self.trail
        try:
            if isinstance(node, yaml.SequenceNode):
                out = []
                for i, item in enumerate(node.value):
                    trail.append(i)
                    out.append(self.build(item))
                    trail.pop()
                return out
            return self.mapping(node)
        finally:
            self.stack.discard(key)

    def mapping(self, node: yaml.MappingNode) -> dict[str, Any]:
        out: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        trail = self.trail
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(
                    key_node, "a key must be a plain word", "a string key", None, "bad_key"
                )
            if key_node.tag not in _ALLOWED_TAGS:
                raise self.fail(
                    key_node,
                    f"tag '{_tag_text(key_node.tag)}' is not allowed",
                    "plain YAML without tags",
                    None,
                    "tag",
                )
            name = key_node.value
            if name == "<<" and not key_node.style:
                raise self.fail(
                    key_node,
                    "merge keys ('<<') are not supported",
                    "keys written out",
                    "repeat the keys, or use an overlay",
                    "merge_key",
                )
            trail.append(name)
            if name in seen:
                first = seen[name].start_mark.line + 1
                self.problems.append(
                    self.fail(
                        key_node,
                        f"duplicate key '{name}' (first defined at line {first})",
                        "each key once per mapping",
                        "remove one of the two, or merge them",
                        "duplicate_key",
                    ).mistake(self.file, ())
                )
            else:
                seen[name] = key_node
                out[name] = self.build(value_node)
            trail.pop()
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


def _compose(text: str) -> Any:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def parse_text(text: str, file: str, *, max_nodes: int = MAX_NODES) -> Document:
    """Parse one YAML text into a ``Document``; raises ``LoadError`` on the first problem."""
    _check_text(text, file)
    try:
        node = _compose(text)
    except yaml.composer.ComposerError as exc:
        raise LoadError(_from_yaml_error(exc, file, "composer")) from None
    except yaml.MarkedYAMLError as exc:
        raise LoadError(_from_yaml_error(exc, file, "syntax")) from None
    except yaml.YAMLError as exc:  # reader errors: bad characters
        raise LoadError(
            Mistake(file, 1, 1, "<text>", f"unreadable YAML: {exc}", code="syntax")
        ) from None
    if node is None:
        return Document(None, [file])
    builder = _Builder(file, max_nodes)
    try:
        data = builder.build(node)
    except _Fail as fail:
        raise LoadError([*builder.problems, fail.mistake(file, ())]) from None
    except RecursionError:
        raise LoadError(
            Mistake(file, 1, 1, "<text>", "the document nests too deeply", code="too_deep")
        ) from None
    if builder.problems:
        raise LoadError(builder.problems)
    return Document(data, [file], text)


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
    opened = exc.context_mark
    if exc.context and "flow" in exc.context and opened is not None:
        bracket = "[" if "sequence" in exc.context else "{"
        closing = "]" if bracket == "[" else "}"
        return Mistake(
            file,
            opened.line + 1,
            opened.column + 1,
            "<text>",
            f"the '{bracket}' opened here is not closed before line {line}, column {column}",
            f"'{closing}', or ',' between items",
            f"close it with '{closing}' on the same line, or write the items as an indented list",
            code,
        )
    if "found character '\\t'" in problem or "found a tab character" in problem:
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
        result.parts.setdefault((), doc)
        for key, value in doc.data.items():
            if key not in result.data:
                result.data[key] = dict(value) if isinstance(value, dict) else value
                result.parts[(key,)] = doc
            elif isinstance(result.data[key], dict) and isinstance(value, dict):
                for sub, item in value.items():
                    child = (key, sub)
                    if sub in result.data[key]:
                        first = result.key_mark(child)
                        mistakes.append(
                            doc.mistake(
                                child,
                                f"'{dotted(child)}' is defined twice (first at {first.file}:{first.line})",
                                expected="each id in one file only",
                                hint="keep one definition",
                                code="duplicate_key",
                                at_key=True,
                            )
                        )
                        continue
                    result.data[key][sub] = item
                    result.parts[child] = doc
            else:
                first = result.key_mark((key,))
                mistakes.append(
                    doc.mistake(
                        (key,),
                        f"'{key}' is defined twice (first at {first.file}:{first.line})",
                        expected="each key in one file only",
                        hint="keep one definition",
                        code="duplicate_key",
                        at_key=True,
                    )
                )
    return result, mistakes
