"""``yidi catalog add``, ``list`` and ``outdated``: the county side of the catalog.

``add SOURCE ID@RANGE`` opens the catalog (a folder, ``file://`` or
``http(s)://`` URL, or the name of a catalog already in ``scenarios.yaml``),
verifies its signed index against the pinned key, picks the highest version in
the range that runs on this platform, installs its dependencies first, checks
the archive's sha256 against the index, unpacks it into
``installed/<id>/<version>/`` and pins version and checksum in ``scenarios.yaml``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.catalog import CatalogError
from runtime.catalog.archive import members, unpack
from runtime.catalog.index import Catalog, Release, is_url, open_catalog
from runtime.catalog.lock import record
from runtime.catalog.overlay import overlay_sources
from runtime.catalog.verify import valid_public_key
from runtime.manifest import INSTALL_DIR, Manifest, load_manifest
from runtime.mistakes import report
from runtime.package import load_package
from runtime.semver import Version, parse_range

DEFAULT_NAME = "province"


def read_manifest(path: Path) -> Manifest:
    manifest, mistakes = load_manifest(path)
    if manifest is None:
        raise CatalogError(f"cannot read {path}:\n{report(mistakes)}")
    return manifest


def read_key(text: str | None) -> str | None:
    """A public key given in hex, or as a path to a key.pub file."""
    if not text:
        return None
    value = Path(text).read_text("utf-8").strip() if Path(text).is_file() else text.strip()
    if not valid_public_key(value):
        raise CatalogError(
            f"'{text}' is not an Ed25519 public key (64 hex digits, or a key.pub file)"
        )
    return value


def catalog_location(manifest: Manifest, url: str) -> str:
    """Where a catalog recorded in the manifest lives (paths are relative to the manifest)."""
    return url if is_url(url) else str((manifest.folder / url).resolve())


def stored_url(manifest: Manifest, source: str) -> str:
    """How ``source`` is recorded: a URL as given, a folder relative to the manifest."""
    if is_url(source):
        return source
    path = Path(source).resolve()
    try:
        return os.path.relpath(path, manifest.folder)
    except ValueError:
        return str(path)


@dataclass
class Opened:
    name: str
    url: str  # as recorded in the manifest
    key: str | None
    catalog: Catalog


def open_for(
    manifest: Manifest,
    source: str,
    *,
    key: str | None = None,
    name: str | None = None,
    allow_unsigned: bool = False,
) -> Opened:
    catalogs: dict[str, Any] = dict(manifest.data.get("catalogs") or {})
    given = read_key(key)
    if source in catalogs:
        name = source
        url = str(catalogs[source]["url"])
        location = catalog_location(manifest, url)
    else:
        location = source if is_url(source) else str(Path(source).resolve())
        url = stored_url(manifest, source)
        same = [
            n
            for n, c in catalogs.items()
            if catalog_location(manifest, str(c.get("url"))) == location
        ]
        name = name or (same[0] if same else DEFAULT_NAME)
        if name in catalogs and catalog_location(manifest, str(catalogs[name]["url"])) != location:
            raise CatalogError(
                f"scenarios.yaml already has a catalog '{name}' at {catalogs[name]['url']}; "
                "give this one another name with --name"
            )
    pinned = (catalogs.get(name) or {}).get("key")
    if pinned and given and pinned != given:
        raise CatalogError(
            f"--key differs from the key pinned for catalog '{name}' in scenarios.yaml; "
            "if the province changed its key, edit catalogs.{name}.key there yourself"
        )
    use = pinned or given
    return Opened(name, url, use, open_catalog(location, use, allow_unsigned=allow_unsigned))


def current_version(manifest: Manifest, sid: str) -> str | None:
    entry = (manifest.data.get("scenarios") or {}).get(sid)
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("version"), str):
        return str(entry["version"])
    folder = manifest.scenario_folder(sid)
    if folder is not None and (folder / "scenario.yaml").is_file():
        package, _ = load_package(folder)
        return package.version if package else None
    return None


def place(manifest: Manifest, release: Release, archive: bytes) -> tuple[Path, bool]:
    """Unpack a verified archive into installed/<id>/<version>/; True when created now."""
    folder = manifest.folder / INSTALL_DIR / release.id / release.version
    if folder.exists():
        files = members(archive, release.id)
        for name, data in files.items():
            if not (folder / name).is_file() or (folder / name).read_bytes() != data:
                raise CatalogError(
                    f"{folder} exists but differs from the published {release.id} "
                    f"{release.version} ({name}); remove it and install again"
                )
        return folder, False
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{release.version}-", dir=folder.parent))
    try:
        unpack(archive, release.id, staging / "pkg")
        package, mistakes = load_package(staging / "pkg")
        if package is None or package.id != release.id or package.version != release.version:
            found = f"{package.id} {package.version}" if package else report(mistakes)
            raise CatalogError(
                f"the archive of {release.id} {release.version} holds {found}; refused"
            )
        os.replace(staging / "pkg", folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder, True


@dataclass
class Installed:
    lines: list[str] = field(default_factory=list)


def add(
    manifest_path: Path,
    source: str,
    spec: str,
    *,
    key: str | None = None,
    name: str | None = None,
    allow_unsigned: bool = False,
    done: Installed | None = None,
) -> Installed:
    done = done or Installed()
    manifest = read_manifest(manifest_path)
    sid, _, wanted = spec.partition("@")
    opened = open_for(manifest, source, key=key, name=name, allow_unsigned=allow_unsigned)
    release = opened.catalog.choose(sid, wanted or "*")
    for dep, needed in release.depends.items():
        have = current_version(manifest, dep)
        allowed = parse_range(needed)
        if have is not None:
            if allowed is not None and not allowed.contains(Version.parse(have)):
                raise CatalogError(
                    f"{sid} {release.version} depends on {dep} {needed}, "
                    f"but this deployment runs {dep} {have}: refused"
                )
            continue
        done.lines.append(f"{sid} {release.version} depends on {dep} {needed}: installing it first")
        add(
            manifest_path,
            opened.name if opened.name in (manifest.data.get("catalogs") or {}) else source,
            f"{dep}@{needed}",
            key=opened.key,
            name=opened.name,
            allow_unsigned=allow_unsigned,
            done=done,
        )
        manifest = read_manifest(manifest_path)
    archive = opened.catalog.archive(release)  # sha256 checked against the signed index
    folder, created = place(manifest, release, archive)
    try:
        record(
            manifest_path,
            sid,
            catalog=opened.name,
            url=opened.url,
            key=opened.key,
            version=release.version,
            checksum=release.checksum,
        )
    except CatalogError:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    signed = "signature verified" if opened.catalog.signed else "UNSIGNED catalog"
    done.lines.append(
        f"installed {sid} {release.version} from {opened.name} into "
        f"{os.path.relpath(folder, manifest.folder)} ({release.checksum[:19]}…, {signed})"
    )
    return done


def listing(manifest_path: Path) -> list[dict[str, Any]]:
    """One row per scenario of the deployment: source, version, checksum, overlay, status."""
    manifest = read_manifest(manifest_path)
    rows = []
    for sid, entry in (manifest.data.get("scenarios") or {}).items():
        entry = entry if isinstance(entry, dict) else {}
        sources, _ = overlay_sources(manifest, sid)
        folder = manifest.scenario_folder(sid)
        present = folder is not None and (folder / "scenario.yaml").is_file()
        rows.append(
            {
                "id": sid,
                "source": entry.get("catalog") or entry.get("path") or "?",
                "version": current_version(manifest, sid) or "?",
                "checksum": entry.get("checksum") or "",
                "overlay": ", ".join(s.where for s in sources) or "-",
                "status": ("disabled" if entry.get("enabled") is False else "ok")
                if present
                else "missing",
            }
        )
    return rows


def outdated(manifest_path: Path) -> list[dict[str, str]]:
    """Catalog scenarios with newer versions: current, wanted (same major), latest."""
    manifest = read_manifest(manifest_path)
    rows = []
    opened: dict[str, Opened] = {}
    for sid, entry in (manifest.data.get("scenarios") or {}).items():
        if not isinstance(entry, dict) or not entry.get("catalog"):
            continue
        name = str(entry["catalog"])
        if name not in opened:
            opened[name] = open_for(manifest, name)
        catalog = opened[name].catalog
        current = str(entry.get("version"))
        runs = [r for r in catalog.releases(sid) if r.runs_here()]
        version = Version.parse(current)
        same_major = [r for r in runs if version and r.semver.major == version.major]
        wanted = same_major[-1].version if same_major else current
        latest = runs[-1].version if runs else current
        newer_blocked = [r.version for r in catalog.releases(sid) if not r.runs_here()]
        rows.append(
            {
                "id": sid,
                "catalog": name,
                "current": current,
                "wanted": wanted,
                "latest": latest,
                "note": (
                    f"needs a newer platform: {', '.join(newer_blocked)}" if newer_blocked else ""
                ),
            }
        )
    return rows
