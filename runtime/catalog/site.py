"""The catalog a deployment serves at ``/catalog``: a built catalog folder, read for the web.

The folder is the manifest's ``publish.dir`` (what the province publishes with
``yidi catalog build``); without one, the app builds an unsigned catalog of its
own local packages into ``<data dir>/catalog`` on first use. Package pages read
each version's files from its archive, checked against the index's checksum.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from runtime import defaults
from runtime.catalog import CatalogError
from runtime.catalog.archive import members
from runtime.catalog.build import build
from runtime.catalog.index import INDEX, PUBLIC_KEY, SIGNATURE, parse_index
from runtime.catalog.verify import sha256
from runtime.loader import LoadError, merge, parse_text
from runtime.semver import Version

SERVED = (INDEX, SIGNATURE, PUBLIC_KEY)


@dataclass
class Contents:
    data: dict[str, Any]
    readme: str


class Site:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: tuple[float, dict[str, Any]] | None = None
        self._contents: dict[str, Contents] = {}

    def index(self) -> dict[str, Any]:
        path = self.folder / INDEX
        stamp = path.stat().st_mtime if path.is_file() else -1.0
        if self._index is None or self._index[0] != stamp:
            data = (
                parse_index(path.read_bytes(), str(self.folder)) if stamp >= 0 else {"packages": {}}
            )
            self._index = (stamp, data)
        return self._index[1]

    def versions(self, package_id: str) -> list[dict[str, Any]]:
        """Every version of a package, newest first."""
        found = ((self.index().get("packages") or {}).get(package_id) or {}).get("versions") or {}
        key = lambda v: (Version.parse(str(v.get("version"))) or Version(0, 0, 0)).key()  # noqa: E731
        return sorted(found.values(), key=key, reverse=True)

    def latest(self) -> list[dict[str, Any]]:
        out = []
        for pid in sorted(self.index().get("packages") or {}):
            versions = self.versions(pid)
            if versions:
                out.append(versions[0] | {"count": len(versions)})
        return out

    def file(self, name: str) -> Path | None:
        """A file of the catalog that may be served, or None."""
        parts = PurePosixPath(name).parts
        if name in SERVED or (
            len(parts) == 3
            and parts[0] == "packages"
            and parts[2].endswith(".tar.gz")
            and not any(p.startswith(".") or p == ".." for p in parts)
        ):
            path = self.folder.joinpath(*parts)
            return path if path.is_file() else None
        return None

    def contents(self, release: dict[str, Any]) -> Contents:
        checksum = str(release.get("checksum"))
        if checksum not in self._contents:
            path = self.file(str(release.get("archive")))
            if path is None:
                raise CatalogError("the archive is missing")
            raw = path.read_bytes()
            if sha256(raw) != checksum:
                raise CatalogError("the archive does not match the index")
            files = members(raw, str(release["id"]))
            docs = []
            for name in sorted(files):
                if name.endswith((".yaml", ".yml")) and "/" not in name:
                    label = f"{release['id']}-{release['version']}/{name}"
                    try:
                        docs.append(parse_text(files[name].decode("utf-8"), label))
                    except (LoadError, UnicodeDecodeError):
                        continue
            docs.sort(key=lambda d: d.files[0].endswith("/scenario.yaml"), reverse=True)
            doc, _ = merge(docs)
            data = defaults.fill(doc.data, "scenario") if isinstance(doc.data, dict) else {}
            readme = files.get("README.md", b"").decode("utf-8", "replace")
            self._contents[checksum] = Contents(data, readme)
        return self._contents[checksum]


_LOCK = threading.Lock()


def site_for(state: Any) -> Site:
    """The catalog of the app's deployment (built on first use when none is published)."""
    site: Site | None = getattr(state, "catalog_site", None)
    if site is not None:
        return site
    with _LOCK:
        site = getattr(state, "catalog_site", None)
        assert site is None or isinstance(site, Site)
        if site is not None:
            return site
        deployment = state.deployment
        publish = deployment.data.get("publish") or {}
        if isinstance(publish.get("dir"), str):
            site = Site((deployment.folder / publish["dir"]).resolve())
        else:
            folder = state.settings.data_dir / "catalog"
            for sid in deployment.scenarios:
                entry = (deployment.data.get("scenarios") or {}).get(sid) or {}
                source = deployment.manifest.scenario_folder(sid)
                if source is not None and entry.get("path"):
                    try:
                        build(source, folder)
                    except CatalogError:
                        continue  # e.g. changed without a new version: keep what was published
            site = Site(folder)
        state.catalog_site = site
        return site
