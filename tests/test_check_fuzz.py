"""Random and mutated YAML never crashes the checker: it only ever reports mistakes."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.checker import check_paths
from runtime.mistakes import Mistake

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "suggestions"
FILES = {p.name: p.read_text("utf-8") for p in sorted(SHIPPED.glob("*.yaml"))}
TOKENS = [
    "from",
    "to",
    "by",
    "when",
    "states",
    "fields",
    "type",
    "entity",
    "owner",
    "staff",
    "draft",
    "review",
    "handling",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    "- x",
    "'",
    '"',
    ":",
    "&a",
    "*a",
    "!!str",
    "1.0",
    "-1",
    "title",
    "choice",
    "options",
    "'1 +'",
    '"x =="',
    "*",
    "len(",
    "\t",
]
SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def run_check(files: dict[str, str]) -> list[Mistake]:
    """Write a package and check it; the checker must return, whatever the text."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "suggestions"
        folder.mkdir()
        for name, text in files.items():
            (folder / name).write_text(text, "utf-8")
        result = check_paths([folder])
    for m in result.mistakes:
        assert isinstance(m, Mistake)
        assert m.line >= 1 and m.column >= 1 and m.message
    return result.mistakes


def mutate(text: str, rnd: random.Random, count: int) -> str:
    lines = text.splitlines()
    for _ in range(count):
        if not lines:
            break
        i = rnd.randrange(len(lines))
        op = rnd.randrange(6)
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[rnd.randrange(len(lines))])
        elif op == 2:
            words = lines[i].split(" ")
            words[rnd.randrange(len(words))] = rnd.choice(TOKENS)
            lines[i] = " ".join(words)
        elif op == 3:
            lines[i] = " " * rnd.randrange(0, 9) + lines[i].lstrip()
        elif op == 4:
            pos = rnd.randrange(len(lines[i]) + 1)
            lines[i] = lines[i][:pos] + rnd.choice(TOKENS) + lines[i][pos:]
        else:
            j = rnd.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1), count=st.integers(1, 8), which=st.sampled_from(sorted(FILES))
)
def test_mutated_shipped_files_never_crash(seed: int, count: int, which: str) -> None:
    files = dict(FILES)
    files[which] = mutate(files[which], random.Random(seed), count)
    run_check(files)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(TOKENS),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(TOKENS[:16]) | st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths_of(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths_of(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths_of(v, (*prefix, i))
    return out


@SETTINGS
@given(
    seed=st.integers(0, 2**32 - 1),
    values=st.lists(json_values, min_size=1, max_size=5),
    which=st.sampled_from(sorted(FILES)),
)
def test_wrong_values_anywhere_never_crash(seed: int, values: list[Any], which: str) -> None:
    """Replace random subtrees of a valid package with random values (wrong types, shapes)."""
    rnd = random.Random(seed)
    data = yaml.load(FILES[which], Loader=yaml.CSafeLoader)
    for value in values:
        spots = [p for p in paths_of(data) if p]
        if not spots:
            break
        spot = rnd.choice(spots)
        parent = data
        for part in spot[:-1]:
            parent = parent[part]
        parent[spot[-1]] = value
    files = dict(FILES)
    files[which] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    mistakes = run_check(files)
    assert isinstance(mistakes, list)


@SETTINGS
@given(text=st.text(max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    run_check({"scenario.yaml": text})
