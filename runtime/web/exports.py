"""Export a list view to CSV or XLSX, streamed: memory does not grow with the rows.

The export runs the view's own query (scope, filters, search and sort from
the URL) in batches. CSV is UTF-8 with a BOM so spreadsheet programs read the
Chinese text; XLSX is written row by row by openpyxl's write-only mode into a
temporary file that is streamed out and removed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from runtime.model import View, text
from runtime.web.guard import viewer_of
from runtime.web.lists import build_query, cells, column_label, names_for, state_labels
from runtime.web.lookup import context, denied, view_of

BATCH = 1000


def export_columns(view: View) -> list[str]:
    entity = view.entity
    cols = ["id", *[c for c in view.columns if c != "id"]]
    for fid, f in entity.fields.items():
        if fid not in cols and f.type not in ("children",):
            cols.append(fid)
    return cols


async def batches(request: Request, view: View) -> AsyncIterator[list[list[str]]]:
    entity = view.entity
    locale = request.state.locale
    query = build_query(view, request.query_params, request)
    query.after = query.before = None
    columns = export_columns(view)
    labels = state_labels(entity, locale)
    viewer = viewer_of(request)
    rules = request.app.state.access.field_rules(viewer, entity)
    async for rows in request.app.state.store.stream(entity, query, context(request), batch=BATCH):
        names = await names_for(request, entity, rows, columns)
        yield [cells(entity, row, columns, names, locale, labels, rules, viewer.id) for row in rows]


def filename(view: View, ext: str, locale: str) -> str:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    return f"{text(view.label, locale)}-{stamp}.{ext}"


async def export(request: Request) -> Response:
    view = view_of(request)
    viewer = viewer_of(request)
    fmt = request.path_params.get("fmt")
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404)
    if view.kind != "list" or not view.spec.get("export"):
        raise HTTPException(404)
    access = request.app.state.access
    if not access.can_open_view(viewer, view) or not access.may(viewer, view.entity, "export"):
        raise denied(viewer)
    locale = request.state.locale
    header = [text(column_label(view.entity, c, locale), locale) for c in export_columns(view)]
    disposition = f"attachment; filename*=UTF-8''{quote(filename(view, fmt, locale))}"
    if fmt == "csv":

        async def body() -> AsyncIterator[bytes]:
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(header)
            yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
            async for chunk in batches(request, view):
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(_safe(row) for row in chunk)
                yield buffer.getvalue().encode("utf-8")

        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": disposition},
        )
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(text(view.label, locale)[:31] or "data")
    sheet.append(header)
    async for chunk in batches(request, view):
        for row in chunk:
            sheet.append(_safe(row))
    handle, path = tempfile.mkstemp(suffix=".xlsx", dir=_tmp_dir(request))
    os.close(handle)
    book.save(path)
    return FileResponse(
        path,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition},
        background=BackgroundTask(os.unlink, path),
    )


def _safe(row: list[Any]) -> list[Any]:
    """Neutralise spreadsheet formulas in exported text (CSV/XLSX injection)."""
    return [
        "'" + c if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") and not _number(c) else c
        for c in row
    ]


def _number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _tmp_dir(request: Request) -> str:
    folder = request.app.state.settings.data_dir / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return str(folder)
