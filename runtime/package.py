"""A scenario package on disk: its files, loaded, schema-checked and filled.

A package is a folder ``scenarios/<id>/`` holding ``scenario.yaml`` and, when
the author splits it, more ``*.yaml`` files next to it; their top-level maps
are merged (a key defined in two files is a mistake naming both). A README.md
is shown in the catalog.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime import defaults, schema
from runtime.loader import Document, LoadError, load_file, merge
from runtime.mistakes import Mistake

MAIN_FILE = "scenario.yaml"


@dataclass
class Package:
    """A loaded package: ``doc`` keeps the places, ``data`` (the same object as
    ``doc.data``) has the defaults filled in once it passed the schema."""

    id: str
    folder: Path
    doc: Document
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return str(self.data.get("version", "0.0.0"))


def display(path: Path) -> str:
    """A path as shown in messages: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)


def package_files(folder: Path) -> list[Path]:
    """scenario.yaml first, then the other YAML files of the folder, by name."""
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    main = folder / MAIN_FILE
    return [main] + [p for p in files if p != main] if main in files else files


def is_package(folder: Path) -> bool:
    return folder.is_dir() and (folder / MAIN_FILE).is_file()


def load_package(folder: Path) -> tuple[Package | None, list[Mistake]]:
    """Load, merge and schema-check a package; ``None`` when it cannot be read as data."""
    docs: list[Document] = []
    mistakes: list[Mistake] = []
    for path in package_files(folder):
        try:
            docs.append(load_file(path, display=display(path)))
        except LoadError as exc:
            mistakes.extend(exc.mistakes)
    if not docs:
        if not mistakes:
            mistakes.append(
                Mistake(
                    display(folder / MAIN_FILE),
                    1,
                    1,
                    "<file>",
                    "no scenario.yaml in the package",
                    "a scenario.yaml file",
                    code="missing_file",
                )
            )
        return None, mistakes
    doc, merge_mistakes = merge(docs)
    mistakes.extend(merge_mistakes)
    if not isinstance(doc.data, dict) or not doc.data:
        mistakes.append(
            doc.mistake((), "the package is empty", expected="id, version, title, …", code="empty")
        )
        return None, mistakes
    found = schema.validate(doc, "scenario")
    mistakes.extend(found)
    package_id = doc.data.get("id") if isinstance(doc.data.get("id"), str) else folder.name
    installed = folder.parent.name == doc.data.get("id")  # installed/<id>/<version>/
    if isinstance(doc.data.get("id"), str) and doc.data["id"] != folder.name and not installed:
        mistakes.append(
            doc.mistake(
                ("id",),
                f"the id '{doc.data['id']}' differs from the folder name",
                expected=f"'{folder.name}'",
                hint="rename the folder or the id so they match",
                code="id_folder",
            )
        )
    package = Package(str(package_id), folder, doc)
    package.data = defaults.fill(doc.data, "scenario")
    return package, mistakes
