"""Package archives: deterministic ``.tar.gz`` files, and their safe extraction.

The same package always gives the same bytes (sorted entries, zero times and
owners, fixed modes, gzip without a timestamp), so a checksum names a package's
content and rebuilding a published version changes nothing. Extraction accepts
only plain files and folders under ``<id>/``, bounded in number and size.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path, PurePosixPath

from runtime.catalog import CatalogError

MAX_FILES = 500
MAX_BYTES = 20_000_000  # unpacked, per archive
SKIP = {"__pycache__", ".git", ".DS_Store"}


def package_entries(folder: Path) -> list[Path]:
    """The files of a package folder that go into its archive, sorted."""
    out = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in SKIP or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            out.append(path)
    return out


def pack(folder: Path, package_id: str) -> bytes:
    """The archive of a package folder: every file under ``<id>/``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in package_entries(folder):
            data = path.read_bytes()
            info = tarfile.TarInfo(str(PurePosixPath(package_id, *path.relative_to(folder).parts)))
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def members(archive: bytes, package_id: str) -> dict[str, bytes]:
    """The files of an archive, path (inside the package) → content; refuses anything odd."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            for info in tar:
                name = PurePosixPath(info.name)
                if name.is_absolute() or ".." in name.parts or name.parts[:1] != (package_id,):
                    raise CatalogError(f"the archive holds an unexpected path: {info.name}")
                if info.isdir():
                    continue
                if not info.isfile():
                    raise CatalogError(f"the archive holds a link or device: {info.name}")
                total += info.size
                if len(files) >= MAX_FILES or total > MAX_BYTES:
                    raise CatalogError("the archive is too large")
                handle = tar.extractfile(info)
                files[str(PurePosixPath(*name.parts[1:]))] = handle.read() if handle else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CatalogError(f"the archive cannot be read: {exc}") from None
    if "scenario.yaml" not in files:
        raise CatalogError("the archive holds no scenario.yaml")
    return files


def unpack(archive: bytes, package_id: str, folder: Path) -> None:
    """Write an archive's files into ``folder`` (which must not exist yet)."""
    files = members(archive, package_id)
    folder.mkdir(parents=True)
    for name, data in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
