"""A catalog as a county reads it: its signed index, from a folder or a URL.

``open_catalog(source, key)`` fetches ``index.json`` and ``index.json.sig``
(``source`` is a folder, a ``file://`` URL or an ``http(s)://`` URL), verifies
the signature against the pinned public key, and answers which versions of a
package exist, which one a range picks on this platform, and the archive of a
version with its checksum verified.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from runtime import PLATFORM_VERSION
from runtime.catalog import CatalogError
from runtime.catalog.verify import sha256, verify
from runtime.mistakes import did_you_mean
from runtime.semver import Version, parse_range

INDEX = "index.json"
SIGNATURE = "index.json.sig"
PUBLIC_KEY = "key.pub"
MAX_DOWNLOAD = 50_000_000
FORMAT = 1


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https", "file")


def fetch(source: str, name: str, *, optional: bool = False) -> bytes | None:
    """The bytes of ``name`` inside the catalog at ``source``; None when optional and absent."""
    scheme = urlparse(source).scheme
    if scheme in ("http", "https"):
        url = source.rstrip("/") + "/" + name
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                data: bytes = response.read(MAX_DOWNLOAD + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and optional:
                return None
            raise CatalogError(f"cannot fetch {url}: HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CatalogError(f"cannot reach {url}: {reason}") from None
        if len(data) > MAX_DOWNLOAD:
            raise CatalogError(f"{url} is larger than {MAX_DOWNLOAD} bytes")
        return data
    folder = Path(unquote(urlparse(source).path)) if scheme == "file" else Path(source)
    path = folder / name
    if not path.is_file():
        if optional:
            return None
        if not (folder / INDEX).is_file():
            raise CatalogError(f"no catalog at {source} (no {INDEX} there)")
        raise CatalogError(f"the catalog at {source} has no {name}")
    return path.read_bytes()


@dataclass
class Release:
    """One published version of a package, as the index describes it."""

    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def semver(self) -> Version:
        parsed = Version.parse(self.version)
        return parsed if parsed is not None else Version(0, 0, 0)

    @property
    def checksum(self) -> str:
        return str(self.data.get("checksum", ""))

    @property
    def requires(self) -> str:
        return str(self.data.get("requires") or "*")

    @property
    def depends(self) -> dict[str, str]:
        return dict(self.data.get("depends") or {})

    def runs_here(self, platform: str = PLATFORM_VERSION) -> bool:
        allowed = parse_range(self.requires)
        return allowed is None or allowed.contains(Version.parse(platform))


@dataclass
class Catalog:
    source: str
    data: dict[str, Any]
    signed: bool

    def package_ids(self) -> list[str]:
        return sorted(self.data.get("packages") or {})

    def releases(self, package_id: str) -> list[Release]:
        """Every version of a package, oldest first."""
        versions = ((self.data.get("packages") or {}).get(package_id) or {}).get("versions") or {}
        found = [Release(v) for v in versions.values() if isinstance(v, dict)]
        return sorted(found, key=lambda r: r.semver.key())

    def release(self, package_id: str, version: str) -> Release | None:
        return next((r for r in self.releases(package_id) if r.version == version), None)

    def choose(self, package_id: str, wanted: str, platform: str = PLATFORM_VERSION) -> Release:
        """The highest version inside ``wanted`` that runs on ``platform``; refuses clearly."""
        releases = self.releases(package_id)
        if not releases:
            hint = did_you_mean(package_id, self.package_ids())
            has = ", ".join(self.package_ids()) or "nothing"
            raise CatalogError(
                f"the catalog has no package '{package_id}' (it has: {has})"
                + (f"; {hint}" if hint else "")
            )
        allowed = parse_range(wanted or "*")
        if allowed is None:
            raise CatalogError(f"'{wanted}' is not a version range (e.g. ^1.0, ~1.2.0, 1.x, 1.2.3)")
        inside = [r for r in releases if allowed.contains(r.semver)]
        published = ", ".join(r.version for r in releases)
        if not inside:
            raise CatalogError(
                f"no version of {package_id} matches {wanted} (published: {published})"
            )
        fitting = [r for r in inside if r.runs_here(platform)]
        if not fitting:
            best = inside[-1]
            older = [r.version for r in releases if r.runs_here(platform)]
            advice = (
                f"; the newest version that runs here is {older[-1]}"
                if older
                else "; upgrade the platform first"
            )
            raise CatalogError(
                f"{package_id} {best.version} needs platform {best.requires}, "
                f"but this platform is {platform}: refused{advice}"
            )
        return fitting[-1]

    def archive(self, release: Release) -> bytes:
        """The archive of a release, refused unless its checksum matches the index."""
        name = str(release.data.get("archive") or "")
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise CatalogError(
                f"the index names no usable archive for {release.id} {release.version}"
            )
        data = fetch(self.source, name)
        assert data is not None
        got = sha256(data)
        if got != release.checksum:
            raise CatalogError(
                f"the archive of {release.id} {release.version} ({name}) does not match the "
                f"signed index: expected {release.checksum}, got {got}. It was altered or "
                "damaged; nothing was installed"
            )
        return data


def parse_index(raw: bytes, source: str) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CatalogError(f"the index of {source} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("packages"), dict):
        raise CatalogError(f"the index of {source} is not a Yidi catalog index")
    if data.get("format", FORMAT) > FORMAT:
        raise CatalogError(
            f"the index of {source} has format {data.get('format')}; "
            f"this platform reads format {FORMAT}: upgrade the platform"
        )
    return data


def open_catalog(source: str, key: str | None, *, allow_unsigned: bool = False) -> Catalog:
    """Fetch and verify a catalog's index; ``key`` is the pinned public key (hex)."""
    raw = fetch(source, INDEX)
    assert raw is not None
    signature = fetch(source, SIGNATURE, optional=True)
    if key:
        if signature is None:
            raise CatalogError(
                f"the catalog at {source} is not signed, but its key is pinned: refused"
            )
        if not verify(key, raw, signature.decode("ascii", "replace")):
            raise CatalogError(
                f"the index of {source} does not verify with the pinned key {key[:16]}…: "
                "it was altered or signed by someone else; refused"
            )
    elif not allow_unsigned:
        published = fetch(source, PUBLIC_KEY, optional=True)
        shown = published.decode("ascii", "replace").strip() if published else None
        raise CatalogError(
            f"no key is pinned for the catalog at {source}: pass --key with the public key "
            "the province published"
            + (f" (the catalog says {shown}; compare it with the province's)" if shown else "")
        )
    return Catalog(source, parse_index(raw, source), signed=bool(key))
