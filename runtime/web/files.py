"""Attachment downloads: served only to users who may see the record they belong to."""

from __future__ import annotations

from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from runtime.web.guard import viewer_of
from runtime.web.lookup import denied


async def download(request: Request) -> Response:
    from runtime.storage.platform import Attachment

    raw = str(request.path_params.get("id", ""))
    if not raw.isdigit() or len(raw) > 18:
        raise HTTPException(404)
    viewer = viewer_of(request)
    attachment = await Attachment.get_or_none(id=int(raw))
    if attachment is None:
        raise HTTPException(404)
    state = request.app.state
    if attachment.record_id is None or not attachment.entity:
        allowed = not viewer.anonymous and attachment.created_by == viewer.id
    else:
        entity = state.deployment.entity(attachment.entity)
        record = await state.store.get(entity, attachment.record_id) if entity else None
        allowed = record is not None and state.access.sees(viewer, entity, record)
    if not allowed:
        if viewer.anonymous:
            raise denied(viewer)
        raise HTTPException(404)
    path = (state.settings.data_dir / attachment.path).resolve()
    if not path.is_file() or state.settings.data_dir.resolve() not in path.parents:
        raise HTTPException(404)
    name = quote(attachment.name)
    return FileResponse(
        path,
        media_type=attachment.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
