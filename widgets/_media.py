"""The shared base of ``file``, ``image``, ``audio`` and ``video``; registers nothing.

Until storage exists, a parsed value is a descriptor ``{name, size, content_type}``
(a list of them when ``multiple``); validation checks the extension and the size.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from widgets._common import (
    Problems,
    get,
    has_bad_chars,
    is_empty,
    is_int,
    opt_bool,
    opt_int,
    to_decimal,
)
from widgets.base import Invalid, Widget

MB = 1024 * 1024
MAX_FILES = 10  # when ``multiple`` and no ``max_files``
EXTENSION = re.compile(r"[a-z0-9]{1,10}")


def media_options(kind: str, accept: tuple[str, ...], max_mb: int) -> dict[str, str]:
    return {
        "accept": f"The allowed {kind} extensions, lower case without the dot "
        f"(default: {' '.join(accept)}).",
        "max_size": f"The largest file in MB (default {max_mb}).",
        "multiple": "Allow several files.",
        "max_files": f"With multiple: the most files (default {MAX_FILES}).",
    }


def extension(name: str) -> str:
    """'照片.JPG' → 'jpg'; '' when there is none."""
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


class MediaWidget(Widget):
    """An uploaded file's descriptor; subclasses set the defaults."""

    expr_type = "file"
    default_accept: ClassVar[tuple[str, ...]] = ()
    known_extensions: ClassVar[frozenset[str] | None] = None  # None: any extension
    default_max_mb: ClassVar[int] = 20
    noun_zh: ClassVar[str] = "文件"
    noun_en: ClassVar[str] = "file"
    a_noun_en: ClassVar[str] = "a file"

    # ------------------------------------------------------------ messages

    def not_a_file(self) -> Invalid:
        return Invalid("not_a_file", f"请上传{self.noun_zh}", f"Upload {self.a_noun_en}")

    def too_many(self, count: int) -> Invalid:
        return Invalid(
            "too_many_files",
            f"最多上传 {count} 个{self.noun_zh}",
            f"Upload at most {count} {self.noun_en}{'s' if count != 1 else ''}",
        )

    def bad_type(self, accept: list[str]) -> Invalid:
        shown = "、".join(accept[:12]) + ("等" if len(accept) > 12 else "")
        shown_en = ", ".join(accept[:12]) + (", …" if len(accept) > 12 else "")
        return Invalid(
            "bad_file_type",
            f"只能上传 {shown} 格式的{self.noun_zh}",
            f"Only {shown_en} {self.noun_en}s are allowed",
        )

    def too_large(self, max_mb: float) -> Invalid:
        size = f"{max_mb:g}"
        return Invalid(
            "file_too_large",
            f"每个{self.noun_zh}不能超过 {size} MB",
            f"Each {self.noun_en} must be at most {size} MB",
        )

    # ------------------------------------------------------------ options

    def accept(self, field: Any) -> list[str]:
        value = get(field, "accept")
        if isinstance(value, list | tuple):
            exts = [item.lower().lstrip(".") for item in value if isinstance(item, str)]
            if exts:
                return exts
        return list(self.default_accept)

    def max_mb(self, field: Any) -> float:
        size = to_decimal(get(field, "max_size"))
        if size is None or size <= 0:
            return float(self.default_max_mb)
        return float(size)

    def max_files(self, field: Any) -> int:
        count = opt_int(field, "max_files")
        return count if count is not None and count >= 1 else MAX_FILES

    # ------------------------------------------------------------ values

    def descriptor(self, raw: Any) -> dict[str, Any] | None:
        """A clean ``{name, size, content_type}``, or None when ``raw`` is not one."""
        if not isinstance(raw, Mapping):
            return None
        name, size, content_type = raw.get("name"), raw.get("size"), raw.get("content_type")
        if not isinstance(name, str) or len(name) > 1000 or has_bad_chars(name):
            return None
        name = re.split(r"[/\\]", name)[-1].strip()
        if not name or len(name) > 255:
            return None
        if isinstance(size, float) and size.is_integer():
            size = int(size)
        if not is_int(size) or not 0 <= size < 2**53:
            return None
        if content_type is None:
            content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        if not isinstance(content_type, str) or len(content_type) > 255:
            return None
        content_type = content_type.strip().lower()
        if not re.fullmatch(r"[a-z0-9.+-]+/[a-z0-9.+-]+(?:\s*;.*)?", content_type, re.ASCII):
            return None
        return {"name": name, "size": size, "content_type": content_type}

    def parse(self, raw: Any, field: Mapping[str, Any]) -> tuple[Any, Invalid | None]:
        if is_empty(raw):
            return None, None
        items = list(raw) if isinstance(raw, list | tuple) else [raw]
        if len(items) > 100:
            return None, self.too_many(self.max_files(field))
        files: list[dict[str, Any]] = []
        for item in items:
            if is_empty(item):
                continue
            descriptor = self.descriptor(item)
            if descriptor is None:
                return None, self.not_a_file()
            files.append(descriptor)
        if not files:
            return None, None
        if opt_bool(field, "multiple"):
            return files, None
        if len(files) > 1:
            return None, self.too_many(1)
        return files[0], None

    def validate(self, value: Any, field: Mapping[str, Any]) -> Invalid | None:
        if value is None:
            return None
        multiple = opt_bool(field, "multiple")
        if multiple and isinstance(value, list):
            files = value
            if len(files) > self.max_files(field):
                return self.too_many(self.max_files(field))
        elif isinstance(value, Mapping):
            files = [value]
        else:
            return self.not_a_file()
        accept, limit = self.accept(field), self.max_mb(field)
        for item in files:
            descriptor = self.descriptor(item)
            if descriptor is None:
                return self.not_a_file()
            if extension(descriptor["name"]) not in accept:
                return self.bad_type(accept)
            if descriptor["size"] > limit * MB:
                return self.too_large(limit)
        return None

    def check_options(self, field: Mapping[str, Any]) -> Problems:
        problems: Problems = []
        accept = get(field, "accept")
        if isinstance(accept, list | tuple):
            if not accept:
                problems.append(("accept", "accept lists no extension"))
            seen: set[str] = set()
            for index, item in enumerate(accept):
                if not isinstance(item, str):
                    continue
                key = f"accept[{index}]"
                if not EXTENSION.fullmatch(item):
                    problems.append(
                        (
                            key,
                            f"'{item}' is not an extension: write it in lower case without the dot, e.g. 'jpg'",
                        )
                    )
                elif self.known_extensions is not None and item not in self.known_extensions:
                    known = " ".join(sorted(self.known_extensions))
                    problems.append(
                        (key, f"'{item}' is not among the {self.noun_en} formats: {known}")
                    )
                elif item in seen:
                    problems.append((key, f"'{item}' is listed twice"))
                seen.add(item)
        size_raw = get(field, "max_size")
        size = to_decimal(size_raw)
        if size is not None and size <= 0:
            problems.append(("max_size", "max_size must be more than 0 MB"))
        elif size is not None and size > 2048:
            problems.append(("max_size", "max_size must be at most 2048 MB"))
        elif size is None and isinstance(size_raw, str):
            problems.append(("max_size", "max_size must be a number of MB"))
        count = opt_int(field, "max_files")
        if count is not None and count < 1:
            problems.append(("max_files", "max_files must be at least 1"))
        if get(field, "max_files") is not None and not opt_bool(field, "multiple"):
            problems.append(("max_files", "max_files needs multiple: true"))
        return problems


def descriptor_sample(name: str, size: float, content_type: str) -> dict[str, Any]:
    """A descriptor, for the widgets' samples."""
    return {"name": name, "size": size, "content_type": content_type}
