"""The ``yidi`` command: exit statuses, output formats, schemas and scaffolding."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_library_and_manifest_are_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "scenarios"), str(ROOT / "scenarios.yaml")]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_default_path_is_the_manifest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["check"]) == 0


def test_mistakes_exit_1_and_json_lists_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "broken"
    shutil.copytree(ROOT / "scenarios" / "suggestions", package)
    main_file = package / "scenario.yaml"
    main_file.write_text(
        main_file.read_text("utf-8").replace("id: suggestions", "id: broken"), "utf-8"
    )
    workflow = package / "workflow.yaml"
    workflow.write_text(workflow.read_text("utf-8").replace("to: review", "to: reveiw", 1), "utf-8")
    assert main(["check", str(package)]) == 1
    text = capsys.readouterr().out
    assert "workflow.yaml:" in text
    assert "unknown state 'reveiw'" in text and "did you mean 'review'?" in text
    assert main(["check", str(package), "--format", "json"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    first = payload["mistakes"][0]
    assert set(first) == {"file", "line", "column", "path", "message", "expected", "hint", "code"}
    assert first["path"] == "workflows.suggestion.transitions.submit.to"
    assert first["code"] == "unknown_ref"


@pytest.mark.parametrize("args", [["check", "/no/such/place"], ["check", str(ROOT / "runtime")]])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert "yidi check:" in capsys.readouterr().err


def test_unknown_command_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


@pytest.mark.parametrize("kind", ["scenario", "manifest"])
def test_schema_prints_the_published_schema(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((ROOT / "schemas" / f"{kind}.schema.json").read_text("utf-8"))
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_new_scaffolds_a_package_that_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "town_hall", "--dir", str(tmp_path)]) == 0
    folder = tmp_path / "town_hall"
    text = (folder / "scenario.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=")
    schema_ref = text.splitlines()[0].split("=", 1)[1]
    assert (folder / schema_ref).resolve() == (ROOT / "schemas" / "scenario.schema.json").resolve()
    assert (folder / "README.md").is_file()
    capsys.readouterr()
    assert main(["check", str(folder)]) == 0


@pytest.mark.parametrize("bad", ["TownHall", "1town", "town-hall"])
def test_new_refuses_bad_ids(bad: str, tmp_path: Path) -> None:
    assert main(["new", bad, "--dir", str(tmp_path)]) == 2


def test_new_refuses_to_overwrite(tmp_path: Path) -> None:
    assert main(["new", "twice", "--dir", str(tmp_path)]) == 0
    assert main(["new", "twice", "--dir", str(tmp_path)]) == 2
