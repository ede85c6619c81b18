"""The deployment manifest, ``scenarios.yaml``: org tree, roles and scenarios.

It names what one deployment runs: its org tree (province → city → county →
township → station → point, with departments anywhere), platform roles, the
scenarios (a local folder, or a catalog package pinned at a version), how each
scenario's roles map to platform roles, theme, locale and calendar.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime import defaults, schema
from runtime.loader import Document, LoadError, load_file
from runtime.mistakes import Mistake
from runtime.package import display

KIND_RANK = {"province": 0, "city": 1, "county": 2, "township": 3, "station": 4, "point": 5}
INSTALL_DIR = "installed"  # catalog packages: <manifest dir>/installed/<id>/<version>/


@dataclass
class OrgUnit:
    id: str
    label: Any
    kind: str
    parent: str | None
    path: tuple[str, ...]  # ids from the root down to this unit
    theme: str | None = None


@dataclass
class Manifest:
    path: Path
    doc: Document
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def scenario_folder(self, sid: str) -> Path | None:
        """Where the package of scenario ``sid`` lives, local or installed."""
        entry = self.data.get("scenarios", {}).get(sid)
        if not isinstance(entry, dict):
            return None
        if isinstance(entry.get("path"), str):
            return (self.folder / entry["path"]).resolve()
        if isinstance(entry.get("version"), str):
            return (self.folder / INSTALL_DIR / sid / entry["version"]).resolve()
        return None

    def org_units(self) -> Iterator[OrgUnit]:
        """Every unit of the tree, parents before children."""
        yield from _walk(self.data.get("org"), None, ())


def _walk(children: Any, parent: str | None, trail: tuple[str, ...]) -> Iterator[OrgUnit]:
    if not isinstance(children, dict):
        return
    for uid, unit in children.items():
        if not isinstance(unit, dict):
            continue
        path = (*trail, uid)
        yield OrgUnit(
            uid, unit.get("label"), str(unit.get("kind")), parent, path, unit.get("theme")
        )
        yield from _walk(unit.get("children"), uid, path)


def org_doc_path(unit: OrgUnit) -> tuple[str, ...]:
    """Where a unit sits in the document: org.a.children.b.children.c."""
    out: list[str] = ["org"]
    for i, uid in enumerate(unit.path):
        if i:
            out.append("children")
        out.append(uid)
    return tuple(out)


def load_manifest(path: Path) -> tuple[Manifest | None, list[Mistake]]:
    try:
        doc = load_file(path, display=display(path))
    except LoadError as exc:
        return None, exc.mistakes
    if not isinstance(doc.data, dict):
        return None, [
            doc.mistake(
                (),
                "the manifest must be a mapping",
                expected="deployment, org, scenarios, …",
                code="type",
            )
        ]
    mistakes = schema.validate(doc, "manifest")
    manifest = Manifest(path.resolve(), doc)
    manifest.data = defaults.fill(doc.data, "manifest")
    return manifest, mistakes
