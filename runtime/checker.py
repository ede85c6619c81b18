"""``yidi check``: find the packages and manifests behind some paths and check them all.

A path may be a package folder (it holds scenario.yaml), a file inside one, a
folder of packages (such as scenarios/), or a manifest (scenarios.yaml, which
brings its own scenarios along). Every package is checked knowing the others,
so ``depends`` and cross-scenario references resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runtime.catalog.overlay import overlay_package
from runtime.checks import check_package
from runtime.checks.manifest import check_manifest
from runtime.manifest import Manifest, load_manifest
from runtime.mistakes import Mistake
from runtime.package import Package, display, is_package, load_package


class UsageError(Exception):
    """A path that does not exist or holds nothing to check (exit status 2)."""


@dataclass
class CheckResult:
    packages: dict[str, Package] = field(default_factory=dict)
    manifests: list[Manifest] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mistakes


def _targets(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    folders: list[Path] = []
    manifests: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if path.is_file():
            if is_package(path.parent):
                folders.append(path.parent)
            elif path.suffix in (".yaml", ".yml"):
                manifests.append(path)
            else:
                raise UsageError(f"{path}: not a YAML file")
        elif is_package(path):
            folders.append(path)
        else:
            inner = sorted(p for p in path.iterdir() if is_package(p))
            if not inner:
                raise UsageError(f"{path}: no scenario packages in this folder")
            folders.extend(inner)
    return folders, manifests


def check_paths(paths: list[Path], adjust: Callable[[Manifest], None] | None = None) -> CheckResult:
    """Check everything behind ``paths``; ``adjust`` may change a manifest once loaded
    (``yidi catalog upgrade`` checks the deployment as it would be after the upgrade)."""
    folders, manifest_paths = _targets(paths)
    result = CheckResult()
    seen: dict[Path, Package] = {}

    def add_package(folder: Path) -> Package | None:
        folder = folder.resolve()
        if folder in seen:
            return seen[folder]
        package, mistakes = load_package(folder)
        result.mistakes.extend(mistakes)
        if package is None:
            return None
        seen[folder] = package
        if package.id in result.packages and result.packages[package.id].folder != folder:
            first = display(result.packages[package.id].folder)
            result.mistakes.append(
                package.doc.mistake(
                    ("id",),
                    f"package id '{package.id}' is also used by {first}",
                    expected="one package per id",
                    code="duplicate_package",
                )
            )
        else:
            result.packages[package.id] = package
        return package

    for folder in folders:
        add_package(folder)
    manifest_packages: list[tuple[Manifest, dict[str, Package]]] = []
    overlaid: list[Package] = []
    for path in manifest_paths:
        manifest, mistakes = load_manifest(path)
        result.mistakes.extend(mistakes)
        if manifest is None:
            continue
        if adjust is not None:
            adjust(manifest)
        result.manifests.append(manifest)
        own: dict[str, Package] = {}
        for sid in manifest.data.get("scenarios", {}) or {}:
            folder = manifest.scenario_folder(sid)
            if folder is not None and is_package(folder):
                package = add_package(folder)
                if package is not None:
                    # a county's overlay (overrides/<id>.yaml or inline) merged at load time
                    merged, found = overlay_package(manifest, sid, package)
                    result.mistakes.extend(found)
                    if merged is not package:
                        overlaid.append(merged)
                        if result.packages.get(sid) is package:
                            result.packages[sid] = merged
                    own[sid] = merged
        manifest_packages.append((manifest, own))
    for package in [*{id(p): p for p in seen.values()}.values(), *overlaid]:
        result.mistakes.extend(check_package(package, result.packages))
    for manifest, own in manifest_packages:
        result.mistakes.extend(check_manifest(manifest, own))
    result.mistakes = sorted(set(result.mistakes))
    return result
