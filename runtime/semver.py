"""Semantic versions and version ranges, for ``requires`` and ``depends``.

Ranges: ``^1.2`` (same major, at least 1.2.0), ``~1.2.3`` (same minor),
``1.x`` / ``1.2.*`` / ``1`` (wildcards), ``*``, comparators ``>=1.0.0 <2.0.0``
(space or comma separated, all must hold) and an exact ``1.2.3``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_VERSION = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(r"^(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$")
_TERM = re.compile(r"(>=|<=|>|<|=|\^|~)?\s*([0-9][0-9A-Za-z.*+-]*|\*)")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[tuple[int, int | str], ...] = ()  # empty sorts after any pre-release
    released: bool = True

    @classmethod
    def parse(cls, text: str) -> Version | None:
        m = _VERSION.match(text.strip()) if isinstance(text, str) else None
        if not m:
            return None
        pre: tuple[tuple[int, int | str], ...] = ()
        if m.group(4):
            pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in m.group(4).split("."))
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, not m.group(4))

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(str(p[1]) for p in self.pre)
        return text

    def key(self) -> tuple[int, int, int, bool, tuple[tuple[int, int | str], ...]]:
        return (self.major, self.minor, self.patch, self.released, self.pre)


@dataclass(frozen=True)
class Range:
    """All of ``bounds`` must hold: (operator, version) pairs."""

    text: str
    bounds: tuple[tuple[str, Version], ...]

    def contains(self, version: Version | None) -> bool:
        if version is None:
            return False
        key = version.key()
        for op, bound in self.bounds:
            other = bound.key()
            ok = {
                ">=": key >= other,
                ">": key > other,
                "<=": key <= other,
                "<": key < other,
                "=": key == other,
            }[op]
            if not ok:
                return False
        return True

    def best(self, versions: list[str]) -> str | None:
        """The highest of ``versions`` inside the range."""
        fitting = [(v.key(), text) for text in versions if self.contains(v := Version.parse(text))]  # type: ignore[arg-type]
        return max(fitting)[1] if fitting else None


def _v(major: int, minor: int = 0, patch: int = 0) -> Version:
    return Version(major, minor, patch)


def parse_range(text: str) -> Range | None:
    """Parse a range; ``None`` when it is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    bounds: list[tuple[str, Version]] = []
    for op, body in _TERM.findall(text.replace(",", " ")):
        if body in ("*", "x"):
            continue
        exact = Version.parse(body)
        if exact is not None and op in (">=", ">", "<=", "<", "="):
            bounds.append((op, exact))
            continue
        if exact is not None and not op:
            bounds.append(("=", exact))
            continue
        m = _PARTIAL.match(body)
        if exact is not None:
            major, minor, patch = exact.major, exact.minor, exact.patch
            given = 3
        elif m:
            parts = [p for p in m.groups() if p not in (None, "x", "*")]
            major = int(parts[0])
            minor = int(parts[1]) if len(parts) > 1 else 0
            patch = int(parts[2]) if len(parts) > 2 else 0
            given = len(parts)
        else:
            return None
        low = _v(major, minor, patch)
        if op == "^":
            high = (
                _v(major + 1)
                if major
                else (_v(0, minor + 1) if minor or given < 3 else _v(0, 0, patch + 1))
            )
        elif op == "~":
            high = _v(major, minor + 1) if given >= 2 else _v(major + 1)
        elif op in (">=", ">", "<=", "<", "="):
            bounds.append((op, low))
            continue
        else:  # a partial version: 1 → 1.x, 1.2 → 1.2.x
            high = _v(major + 1) if given == 1 else _v(major, minor + 1)
        bounds += [(">=", low), ("<", high)]
    return Range(text, tuple(bounds))
