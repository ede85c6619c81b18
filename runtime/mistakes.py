"""Authoring mistakes: one type that carries file, line, column, path and hint.

Every problem found in a scenario package or a manifest becomes a ``Mistake``.
The loader and the checker collect them and report all of them at once; the
app refuses to start with that report (``AuthoringError``), never a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

Path = tuple[str | int, ...]


@dataclass(frozen=True, order=True)
class Mistake:
    """One authoring mistake, pointing at a place in a YAML file."""

    file: str
    line: int
    column: int
    path: str
    message: str
    expected: str | None = None
    hint: str | None = None
    code: str = field(default="invalid", compare=False)

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        if self.hint:
            text += f"; {self.hint}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuthoringError(Exception):
    """Raised when scenario files hold mistakes; carries all of them."""

    def __init__(self, mistakes: Sequence[Mistake]) -> None:
        self.mistakes = sorted(mistakes)
        super().__init__(report(self.mistakes))


def report(mistakes: Iterable[Mistake]) -> str:
    return "\n".join(str(m) for m in mistakes)


def dotted(path: Path) -> str:
    """``('entities', 'x', 'fields', 0)`` → ``entities.x.fields[0]``; the root is ``<root>``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "<root>"


def closest(word: object, candidates: Iterable[str]) -> str | None:
    """The candidate closest to a misspelt ``word``, or None when nothing is close."""
    if not isinstance(word, str):
        return None
    pool = [c for c in candidates if isinstance(c, str) and c != word]
    close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
    if close:
        return close[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(word.lower())


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt id, or None when nothing is close."""
    match = closest(word, candidates)
    return f"did you mean '{match}'?" if match else None


def one_of(candidates: Iterable[str], limit: int = 8, *, ordered: bool = False) -> str:
    """'one of: a, b, c' for an expected-values note, shortened when long."""
    given = [str(c) for c in candidates]
    items = list(dict.fromkeys(given)) if ordered else sorted(set(given))
    if not items:
        return "nothing defined yet"
    shown = ", ".join(items[:limit])
    more = f", … ({len(items) - limit} more)" if len(items) > limit else ""
    return f"one of: {shown}{more}"
