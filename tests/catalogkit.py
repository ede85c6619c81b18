"""Helpers for the catalog tests: a province catalog, package versions, counties, the CLI.

Versions 1.1.0 and 2.0.0 of ``suggestions`` are made from copies of the
shipped package in temporary folders: 1.1.0 adds a field ``number``; 2.0.0
removes the field ``affected`` and the state ``withdrawn`` (with the
transition ``withdraw`` that leads there).
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from runtime.cli import main

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "scenarios" / "suggestions"

COUNTY = """\
# yaml-language-server: $schema=schemas/manifest.schema.json
# {title}: installs its scenarios from the province catalog.
deployment: {{id: {id}, title: {title}}}
roles:
  staff: 人大工作人员
  deputy: 人大代表
  department: 承办单位
  supervisor: 督办人员
org:
  {id}:
    label: {title}人大常委会
    kind: county
    children:
      {id}_jyj: {{label: {title}教育局, kind: department}}
scenarios:
  suggestions:
    # the province's handler role is our department role
    roles: {{handler: department}}
"""


def run(*args: str) -> tuple[int, str]:
    """Run ``yidi`` in-process; returns the exit status and stdout + stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue() + err.getvalue()


def version_of(base: Path, version: str, edit: str) -> Path:
    """A copy of the shipped suggestions package at ``version``; ``edit`` names a change."""
    folder = base / f"v{version}" / "suggestions"
    shutil.copytree(SHIPPED, folder)
    main_file = folder / "scenario.yaml"
    text = main_file.read_text("utf-8")
    text = re.sub(r"(?m)^version: .*$", f"version: {version}", text)
    text = text.replace("changelog:\n", f"changelog:\n  {version}: {edit}\n", 1)
    if version.startswith("1."):
        text = text.replace(
            "    fields:\n      title:",
            "    fields:\n      number:\n        type: text\n        label: {zh: 建议编号, en: Number}\n      title:",
            1,
        )
    else:
        text = re.sub(r"      affected:\n(        .*\n)+?(?=      cosigners:)", "", text)
        text = text.replace(
            "fields: [title, category, session, body, affected]",
            "fields: [title, category, session, body]",
        )
        text = text.replace("actions: [submit, withdraw]", "actions: [submit]")
        flow = folder / "workflow.yaml"
        wf = flow.read_text("utf-8")
        wf = wf.replace("      withdrawn: {label: {zh: 已撤回, en: Withdrawn}, final: true}\n", "")
        wf = re.sub(r"      withdraw:\n(        .*\n)+", "", wf)
        flow.write_text(wf, "utf-8")
    main_file.write_text(text, "utf-8")
    return folder


@dataclass
class Province:
    catalog: Path
    key: Path  # the private key (outside the catalog)
    public: str

    def publish(self, scenarios: Path) -> str:
        code, out = run(
            "catalog", "build", str(scenarios), str(self.catalog), "--key", str(self.key)
        )
        assert code == 0, out
        return out


def make_province(base: Path) -> Province:
    key = base / "keys" / "province.key"
    code, out = run("catalog", "keygen", str(key))
    assert code == 0, out
    province = Province(
        base / "catalog", key, (base / "keys" / "province.key.pub").read_text().strip()
    )
    province.publish(ROOT / "scenarios")
    return province


def make_county(base: Path, cid: str, title: str, overlay: str | None = None) -> Path:
    folder = base / cid
    folder.mkdir(parents=True)
    (folder / "scenarios.yaml").write_text(COUNTY.format(id=cid, title=title), "utf-8")
    if overlay is not None:
        (folder / "overrides").mkdir()
        (folder / "overrides" / "suggestions.yaml").write_text(overlay, "utf-8")
    return folder / "scenarios.yaml"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }
