"""Uploaded files: stored once by content under ``<data dir>/files/ab/cd/<sha256>``.

``save_file`` streams the upload to a temporary file while hashing it, refuses
it beyond ``max_bytes`` (``FileTooLarge``), moves it into place (an identical
file is kept once) and records an ``Attachment``; ``link`` ties attachments to
the record field that holds them.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
from collections.abc import AsyncIterable, Iterable, Sequence
from pathlib import Path
from typing import IO

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.platform import Attachment
from runtime.storage.sql import placeholders

CHUNK = 1024 * 1024
MAX_BYTES = 100 * 1024 * 1024  # YIDI_UPLOAD_MB's default


class FileTooLarge(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit} bytes")
        self.limit = limit


Source = bytes | IO[bytes] | AsyncIterable[bytes] | Iterable[bytes]


async def _chunks(data: Source) -> AsyncIterable[bytes]:
    if isinstance(data, bytes | bytearray):
        yield bytes(data)
    elif hasattr(data, "read"):  # a file, or an upload whose read() is async
        while True:
            chunk = data.read(CHUNK)  # type: ignore[union-attr]
            if inspect.isawaitable(chunk):
                chunk = await chunk
            if not chunk:
                break
            yield chunk
    elif hasattr(data, "__aiter__"):
        async for chunk in data:  # type: ignore[union-attr]
            yield chunk
    else:
        for chunk in data:  # type: ignore[union-attr]
            yield chunk


def relative_path(digest: str) -> str:
    return f"files/{digest[:2]}/{digest[2:4]}/{digest}"


async def save_file(
    data_dir: Path | str,
    name: str,
    content_type: str,
    data: Source,
    max_bytes: int,
    *,
    created_by: int | None = None,
) -> Attachment:
    """Store an upload and record it; ``FileTooLarge`` beyond ``max_bytes``."""
    root = Path(data_dir)
    tmp_dir = root / "files" / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in _chunks(data):
                size += len(chunk)
                if size > max_bytes:
                    raise FileTooLarge(max_bytes)
                digest.update(chunk)
                out.write(chunk)
        sha = digest.hexdigest()
        rel = relative_path(sha)
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            os.unlink(tmp_name)
        else:
            os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    clean = Path(name.replace("\\", "/")).name.strip()[:255] or "file"
    return await Attachment.create(
        sha256=sha,
        name=clean,
        size=size,
        content_type=(content_type or "application/octet-stream")[:255],
        path=rel,
        created_by=created_by,
    )


def file_path(data_dir: Path | str, attachment: Attachment) -> Path:
    return Path(data_dir) / attachment.path


async def link(
    conn: BaseDBAsyncClient,
    pg: bool,
    ids: Sequence[int],
    entity: str,
    record_id: int,
    field: str,
) -> None:
    """Tie attachments to the record field that holds them."""
    if not ids:
        return
    marks = placeholders(pg, len(ids), start=4)
    head = "$1, $2, $3" if pg else "?, ?, ?"
    a, b, c = head.split(", ")
    await conn.execute_query(
        f'UPDATE "yidi_attachment" SET "entity" = {a}, "record_id" = {b}, "field" = {c} '
        f'WHERE "id" IN ({marks})',
        [entity, record_id, field, *ids],
    )
