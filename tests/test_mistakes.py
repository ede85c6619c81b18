"""Golden authoring mistakes: each case gives exactly its expected report.

A case is a folder of ``tests/mistakes/``: a package folder ``demo/`` (its
scenario.yaml and maybe more files), or a manifest ``scenarios.yaml`` with the
packages it names, and ``expected.txt``: the report ``yidi check`` prints,
paths relative to the case folder. ``YIDI_UPDATE_GOLDEN=1`` rewrites the
expected files from what the checker says now (review the diff!).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtime.checker import check_paths
from runtime.mistakes import report

CASES_DIR = Path(__file__).resolve().parent / "mistakes"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())


def target(case: Path) -> Path:
    return Path("scenarios.yaml") if (case / "scenarios.yaml").is_file() else Path("demo")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_report(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(case)
    got = report(check_paths([target(case)]).mistakes) + "\n"
    expected_file = case / "expected.txt"
    if os.environ.get("YIDI_UPDATE_GOLDEN"):
        expected_file.write_text(got, "utf-8")
    assert got == expected_file.read_text("utf-8")


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 40
