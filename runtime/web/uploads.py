"""Reading posted forms with a size limit, and saving uploaded files as attachments.

A body over the limit is refused with 413 before it is parsed. Each uploaded
file is checked by its field's widget (type and size) and stored under the
data directory; the field then holds attachment ids. Files are served only to
users who may see the record (``runtime.web.files``).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from runtime.access import Viewer
from runtime.model import Entity
from runtime.web.formdata import Submission

MAX_FIELDS = 2000


async def read_form(request: Request) -> FormData:
    limit = request.app.state.settings.upload_mb * 1024 * 1024
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise HTTPException(413)
    try:
        return await request.form(max_files=50, max_fields=MAX_FIELDS, max_part_size=limit)
    except HTTPException:
        raise
    except Exception as exc:  # a malformed body is the client's mistake, not ours
        raise HTTPException(400, "malformed form") from exc


async def save_uploads(request: Request, entity: Entity, sub: Submission, viewer: Viewer) -> None:
    """Store the uploaded files of ``sub``; their ids join ``sub.keep``; problems go to ``sub.errors``."""
    store = request.app.state.store
    locale = request.state.locale
    for fid, files in sub.uploads.items():
        if not files:
            continue
        f = entity.fields[fid]
        descriptors: list[dict[str, Any]] = [
            {"name": u.filename, "size": u.size or 0, "content_type": u.content_type or ""}
            for u in files
        ]
        value = descriptors if f.multiple else descriptors[0]
        if not f.multiple and len(files) > 1:
            value = descriptors[0]
        parsed, problem = f.widget.parse(value, f.spec)
        if problem is None and parsed is not None:
            problem = f.widget.validate(parsed, f.spec)
        if problem is not None:
            sub.errors[fid] = problem.text(locale)
            continue
        ids = list(sub.keep.get(fid, [])) if f.multiple else []
        for upload in files if f.multiple else files[:1]:
            attachment = await store.save_file(
                upload.filename or "file", upload.content_type or "", upload, actor=viewer.id
            )
            ids.append(int(attachment.id))
        sub.keep[fid] = ids
