"""``yidi catalog build SCENARIOS_DIR OUT_DIR``: publish packages as static files.

The catalog folder holds ``index.json`` (every published version of every
package: id, version, title, description, tags, requires, depends, checksum,
changelog), ``index.json.sig`` (its Ed25519 signature), ``key.pub`` and
``packages/<id>/<id>-<version>.tar.gz``. Building again adds new versions
and keeps the published ones: a published version never changes (a different
content under the same version is refused: bump the version).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.catalog import CatalogError
from runtime.catalog.archive import pack
from runtime.catalog.index import FORMAT, INDEX, PUBLIC_KEY, SIGNATURE, parse_index
from runtime.catalog.verify import load_private, public_hex, sha256, sign
from runtime.checker import check_paths
from runtime.mistakes import Mistake
from runtime.package import Package


class BuildRefused(CatalogError):
    """The packages have authoring mistakes; nothing was published."""

    def __init__(self, mistakes: list[Mistake]) -> None:
        self.mistakes = mistakes
        super().__init__(f"{len(mistakes)} mistake(s) in the packages; nothing was published")


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)  # "id version"
    unchanged: list[str] = field(default_factory=list)
    signed: bool = False
    public_key: str | None = None


def release_entry(package: Package, checksum: str, archive: str, size: int) -> dict[str, Any]:
    data = package.data
    changelog = {str(k): v for k, v in (data.get("changelog") or {}).items()}
    return {
        "id": package.id,
        "version": package.version,
        "title": data.get("title"),
        "description": data.get("description"),
        "tags": list(data.get("tags") or []),
        "requires": data.get("requires") or "*",
        "depends": dict(data.get("depends") or {}),
        "checksum": checksum,
        "changelog": changelog,
        "notes": changelog.get(package.version),
        "archive": archive,
        "size": size,
    }


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def build(
    scenarios: Path,
    out: Path,
    key_path: Path | None = None,
    *,
    title: str | None = None,
    today: dt.date | None = None,
) -> BuildReport:
    """Add every package under ``scenarios`` to the catalog in ``out``; sign with ``key_path``."""
    out = out.resolve()
    if key_path is not None and key_path.resolve().is_relative_to(out):
        raise CatalogError(
            f"the signing key {key_path} is inside the catalog folder: it would be published"
        )
    key = load_private(key_path) if key_path is not None else None
    result = check_paths([scenarios])
    if result.mistakes:
        raise BuildRefused(result.mistakes)
    index: dict[str, Any] = {"format": FORMAT, "packages": {}}
    if (out / INDEX).is_file():
        index = parse_index((out / INDEX).read_bytes(), str(out))
    index["format"] = FORMAT
    if title:
        index["title"] = title
    report = BuildReport()
    pending: list[tuple[Path, bytes]] = []
    when = (today or dt.datetime.now(dt.UTC).date()).isoformat()
    for package in sorted(result.packages.values(), key=lambda p: p.id):
        archive = pack(package.folder, package.id)
        checksum = sha256(archive)
        name = f"packages/{package.id}/{package.id}-{package.version}.tar.gz"
        versions = index["packages"].setdefault(package.id, {}).setdefault("versions", {})
        known = versions.get(package.version)
        label = f"{package.id} {package.version}"
        if known is not None:
            if known.get("checksum") != checksum:
                raise CatalogError(
                    f"{label} is already published with other content "
                    f"({known.get('checksum')}); bump the version in {package.folder}/scenario.yaml"
                )
            report.unchanged.append(label)
            continue
        entry = release_entry(package, checksum, name, len(archive))
        entry["published"] = when
        versions[package.version] = entry
        pending.append((out / name, archive))
        report.added.append(label)
    for path, data in pending:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write(path, data)
    out.mkdir(parents=True, exist_ok=True)
    raw = (json.dumps(index, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write(out / INDEX, raw)
    if key is not None:
        _write(out / SIGNATURE, (sign(key, raw) + "\n").encode("ascii"))
        report.public_key = public_hex(key)
        _write(out / PUBLIC_KEY, (report.public_key + "\n").encode("ascii"))
        report.signed = True
    else:
        (out / SIGNATURE).unlink(missing_ok=True)  # a stale signature would not verify
    return report
