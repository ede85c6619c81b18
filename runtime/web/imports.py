"""Import CSV or XLSX into an entity in three steps: upload, preview with errors, confirm.

1. Upload: the file is read (CSV in UTF-8 or GBK; XLSX, read-only) and its
   columns matched to fields by label (Chinese or English) or id.
2. Preview: every row is parsed by the fields' widgets; the page shows the
   first rows and every problem as (row, column, message). Nothing is written.
3. Confirm: only a file without problems can be confirmed; the rows are
   written in batches in the background while the page shows the progress.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from runtime.authz import entity_object
from runtime.model import Entity, View, text
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import denied, view_of
from runtime.web.templating import render
from runtime.web.uploads import read_form
from runtime.web.urls import view_url

MAX_ROWS = 50_000
MAX_ERRORS = 500
PREVIEW_ROWS = 20
BATCH = 500


class BadFile(Exception):
    pass


def importable(view: View) -> bool:
    return view.kind == "list" and bool(view.spec.get("import"))


def _folder(request: Request) -> Path:
    folder: Path = request.app.state.settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_table(name: str, data: bytes) -> list[list[str]]:
    """Rows of cells (as text) from CSV or XLSX bytes."""
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise BadFile(type(exc).__name__) from exc
        try:
            sheet = book.worksheets[0]
            rows = []
            for row in sheet.iter_rows(values_only=True):
                rows.append(["" if c is None else _cell(c) for c in row])
                if len(rows) > MAX_ROWS + 1:
                    raise BadFile(f"more than {MAX_ROWS} rows")
            return rows
        finally:
            book.close()
    if not name.lower().endswith(".csv"):
        raise BadFile("CSV or XLSX only")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise BadFile("unknown text encoding")
    if "\x00" in content:
        raise BadFile("not a text file")
    try:
        rows = list(csv.reader(io.StringIO(content)))
    except csv.Error as exc:
        raise BadFile(str(exc)) from exc
    if len(rows) > MAX_ROWS + 1:
        raise BadFile(f"more than {MAX_ROWS} rows")
    return rows


def _cell(value: Any) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if value.time() != dt.time()
            else value.date().isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def match_columns(entity: Entity, header: list[str]) -> tuple[dict[int, str], list[str]]:
    """Column index → field id, and the header cells matched to no field."""
    names: dict[str, str] = {}
    for fid, f in entity.fields.items():
        if not f.editable or f.type in ("file", "image", "audio", "video", "children"):
            continue
        for key in (fid, text(f.label, "zh"), text(f.label, "en")):
            names[key.strip().lower()] = fid
    mapping, unknown = {}, []
    for i, cell in enumerate(header):
        key = str(cell).strip().lower()
        if key in names and names[key] not in mapping.values():
            mapping[i] = names[key]
        elif key:
            unknown.append(str(cell))
    return mapping, unknown


def parse_rows(
    entity: Entity, rows: list[list[str]], locale: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """(parsed rows as JSON-safe raw values, problems, fields used)."""
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    mapping, unknown = match_columns(entity, header)
    problems: list[dict[str, Any]] = []
    if unknown:
        problems.append(
            {
                "row": 1,
                "column": "、".join(unknown),
                "message": "未识别的列，将被忽略" if locale != "en" else "unknown columns, ignored",
                "fatal": False,
            }
        )
    required = [
        fid for fid, f in entity.fields.items() if f.spec.get("required") is True and f.editable
    ]
    missing = [fid for fid in required if fid not in mapping.values()]
    for fid in missing:
        problems.append(
            {
                "row": 1,
                "column": text(entity.fields[fid].label, locale),
                "message": t("required", locale),
                "fatal": True,
            }
        )
    parsed: list[dict[str, Any]] = []
    for number, row in enumerate(body, start=2):
        if not any(str(c).strip() for c in row):
            continue
        values: dict[str, Any] = {}
        for index, fid in mapping.items():
            f = entity.fields[fid]
            cell = row[index] if index < len(row) else ""
            value, problem = f.widget.parse(cell, f.spec)
            if problem is None and value is not None:
                problem = f.widget.validate(value, f.spec)
            if problem is not None:
                if len(problems) < MAX_ERRORS:
                    problems.append(
                        {
                            "row": number,
                            "column": text(f.label, locale),
                            "message": problem.text(locale),
                            "fatal": True,
                        }
                    )
                continue
            if value is None and fid in required:
                if len(problems) < MAX_ERRORS:
                    problems.append(
                        {
                            "row": number,
                            "column": text(f.label, locale),
                            "message": t("required", locale),
                            "fatal": True,
                        }
                    )
                continue
            values[fid] = cell
        parsed.append(values)
    return parsed, problems, list(mapping.values())


async def import_page(request: Request) -> Response:
    view = _allowed(request)
    return render(request, "import.html", _context(request, view, stage="upload"))


def _allowed(request: Request) -> View:
    view = view_of(request)
    viewer = viewer_of(request)
    if not importable(view):
        raise HTTPException(404)
    access = request.app.state.access
    if not access.can_open_view(viewer, view) or not access.may(viewer, view.entity, "import"):
        raise denied(viewer)
    return view


def _context(request: Request, view: View, **extra: Any) -> dict[str, Any]:
    scenario = request.app.state.deployment.scenarios[view.scenario]
    return {
        "page_title": t("import_title", request.state.locale),
        "scenario_title": scenario.title,
        "view_label": view.label,
        "action": view_url(view) + "/import",
        "back_url": view_url(view),
        "problems": [],
        "preview": [],
        "heads": [],
        "token": None,
        "count": 0,
        "error": None,
        **extra,
    }


async def import_upload(request: Request) -> Response:
    view = _allowed(request)
    locale = request.state.locale
    form = await read_form(request)
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read") or not getattr(upload, "filename", ""):
        return render(
            request,
            "import.html",
            _context(request, view, stage="upload", error=t("import_file", locale)),
            status=422,
        )
    data = await upload.read()
    try:
        rows = read_table(str(upload.filename), data)
    except BadFile as exc:
        return render(
            request,
            "import.html",
            _context(
                request, view, stage="upload", error=t("import_bad_file", locale, why=str(exc))
            ),
            status=422,
        )
    entity = view.entity
    parsed, problems, used = parse_rows(entity, rows, locale)
    fatal = [p for p in problems if p["fatal"]]
    token = secrets.token_hex(16)
    viewer = viewer_of(request)
    (_folder(request) / f"{token}.json").write_text(
        json.dumps(
            {
                "user": viewer.id,
                "view": view.id,
                "scenario": view.scenario,
                "rows": parsed,
                "total": len(parsed),
                "done": 0,
                "state": "pending",
                "fatal": len(fatal),
            },
            ensure_ascii=False,
        ),
        "utf-8",
    )
    heads = [entity.fields[fid].label for fid in used]
    preview = [[row.get(fid, "") for fid in used] for row in parsed[:PREVIEW_ROWS]]
    return render(
        request,
        "import.html",
        _context(
            request,
            view,
            stage="preview",
            problems=problems,
            heads=heads,
            preview=preview,
            token=None if fatal or not parsed else token,
            count=len(parsed),
            error=t("import_errors", locale, n=len({p["row"] for p in fatal})) if fatal else None,
        ),
        status=422 if fatal else 200,
    )


def _load(request: Request, view: View) -> tuple[Path, dict[str, Any]]:
    token = str(request.path_params.get("token", ""))
    if not token.isalnum() or len(token) != 32:
        raise HTTPException(404)
    path = _folder(request) / f"{token}.json"
    if not path.is_file():
        raise HTTPException(404)
    job = json.loads(path.read_text("utf-8"))
    if job.get("user") != viewer_of(request).id or job.get("view") != view.id:
        raise HTTPException(404)
    return path, job


async def import_confirm(request: Request) -> Response:
    view = _allowed(request)
    path, job = _load(request, view)
    if job["fatal"] or job["state"] != "pending":
        raise HTTPException(409)
    job["state"] = "running"
    path.write_text(json.dumps(job, ensure_ascii=False), "utf-8")
    viewer = viewer_of(request)
    org = request.app.state.access.home_org(
        viewer, entity_object(view.scenario, view.entity.id), "import"
    )
    ip = client_ip(request)
    task = asyncio.create_task(_run(request.app.state.store, view.entity, path, viewer.id, org, ip))
    request.app.state.background.add(task)
    task.add_done_callback(request.app.state.background.discard)
    return await import_progress(request)


async def _run(
    store: Any, entity: Entity, path: Path, actor: int | None, org: str, ip: str | None
) -> None:
    job = json.loads(path.read_text("utf-8"))
    rows = job["rows"]
    try:
        for start in range(0, len(rows), BATCH):
            chunk = []
            for raw in rows[start : start + BATCH]:
                values = {}
                for fid, cell in raw.items():
                    f = entity.fields[fid]
                    values[fid], _ = f.widget.parse(cell, f.spec)
                chunk.append(values)
            await store.bulk_create(entity, chunk, actor=actor, org=org, ip=ip)
            job["done"] = min(start + BATCH, len(rows))
            path.write_text(json.dumps({**job, "rows": []}, ensure_ascii=False), "utf-8")
        job["state"] = "done"
    except Exception as exc:  # reported on the progress page; the batches written stay written
        job["state"] = "failed"
        job["error"] = type(exc).__name__
    job["rows"] = []
    path.write_text(json.dumps(job, ensure_ascii=False), "utf-8")


async def import_progress(request: Request) -> Response:
    view = _allowed(request)
    _, job = _load(request, view)
    locale = request.state.locale
    total = int(job.get("total") or 0)
    return render(
        request,
        "import.html",
        _context(
            request,
            view,
            stage=job["state"],
            done=job["done"],
            total=max(total, job["done"]),
            progress_url=f"{view_url(view)}/import/{request.path_params['token']}/progress",
            message=t("import_done", locale, n=job["done"]) if job["state"] == "done" else None,
            error=job.get("error"),
        ),
        block="import_body" if request.headers.get("HX-Request") else None,
    )
