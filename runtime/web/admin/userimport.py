"""``/admin/users/import``: accounts and their grants from CSV or XLSX, in three steps.

Columns (Chinese or English headers): 账号/login, 姓名/name, 单位/org (a unit
id or its label; several separated by 、 or ,) and 角色/role (a role id or
label; several likewise). Each row gives its account every role at every
unit it names.

1. Upload: every row is checked — unknown unit or role, a unit outside the
   admin's part of the tree or switched off, a bad login, a login twice in
   the file, a login already taken by someone with another name — and the
   preview lists each problem as (row, column, message). Nothing is written.
2. Confirm: only a file without problems can be confirmed.
3. The rows are written in the background in batches (one transaction and a
   few multi-row INSERTs per batch, audit rows included) while the page
   shows the progress. An account that exists with the same name only gets
   the grants it lacks. Imported accounts have no password: an admin resets
   it to issue one.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from runtime.authz import Authz
from runtime.model import text
from runtime.orgs import find_unit, is_active
from runtime.storage.columns import encode
from runtime.storage.sql import placeholders
from runtime.web.admin.common import (
    GRANT_TABLE,
    USER_TABLE,
    Admin,
    admin_of,
    at,
    audit,
    base_context,
    change_row,
    deployment_of,
    manages,
)
from runtime.web.admin.users import LOGIN, NAME_MAX, role_name, unit_name
from runtime.web.i18n import t
from runtime.web.imports import BadFile, read_table
from runtime.web.templating import render
from runtime.web.uploads import read_form

BATCH = 1000  # rows per transaction
CHUNK = 1000  # rows per INSERT statement (at most 6 parameters each)
MAX_ERRORS = 500
PREVIEW_ROWS = 20
BASE = "/admin/users/import"
SPLIT = re.compile(r"[、,，;；]")
HEADERS = {
    "login": ("账号", "login", "登录账号", "用户名", "username"),
    "name": ("姓名", "name", "名字"),
    "org": ("单位", "org", "所属单位", "org unit", "unit"),
    "role": ("角色", "role", "roles", "权限角色"),
}


def _folder(request: Request) -> Path:
    folder: Path = request.app.state.settings.data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def match_header(header: Sequence[str]) -> dict[str, int]:
    """Column key (login, name, org, role) → its index in the file."""
    names = {alias.casefold(): key for key, aliases in HEADERS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = names.get(str(cell).strip().casefold())
        if key and key not in found:
            found[key] = index
    return found


def _roles_by_name(request: Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for rid, spec in deployment_of(request).platform_roles.items():
        label = (spec or {}).get("label") or rid
        for name in (rid, text(label, "zh"), text(label, "en")):
            out.setdefault(name.strip().casefold(), rid)
    return out


async def check_rows(
    request: Request, admin: Admin, rows: list[list[str]]
) -> tuple[list[list[Any]], list[dict[str, Any]], int]:
    """(rows to write as [login, name, units, roles], problems, rows with a problem)."""
    locale = request.state.locale
    deployment = deployment_of(request)
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    columns = match_header(header)
    heads = {key: str(header[i]).strip() for key, i in columns.items()}
    for key in HEADERS:
        heads.setdefault(key, HEADERS[key][0] if locale != "en" else HEADERS[key][1])
    problems: list[dict[str, Any]] = []
    bad_rows: set[int] = set()

    def problem(row: int, key: str, message: str) -> None:
        bad_rows.add(row)
        if len(problems) < MAX_ERRORS:
            problems.append({"row": row, "column": heads.get(key, key), "message": message})

    missing = [key for key in HEADERS if key not in columns]
    for key in missing:
        problem(1, key, t("admin_import_missing_column", locale))
    if missing:
        return [], problems, len(bad_rows)
    roles = _roles_by_name(request)
    units_seen: dict[str, tuple[str | None, str | None]] = {}  # cell part → (unit, problem)
    first: dict[str, int] = {}
    parsed: list[tuple[int, list[Any]]] = []
    for number, row in enumerate(body, start=2):
        cells = {key: (str(row[i]).strip() if i < len(row) else "") for key, i in columns.items()}
        if not any(cells.values()) and not any(str(c).strip() for c in row):
            continue
        ok = True
        login = cells["login"]
        if not login:
            problem(number, "login", t("required", locale))
            ok = False
        elif not LOGIN.match(login):
            problem(number, "login", t("admin_login_format", locale))
            ok = False
        elif login in first:
            problem(number, "login", t("admin_import_duplicate", locale, row=first[login]))
            ok = False
        else:
            first[login] = number
        name = cells["name"]
        if not name:
            problem(number, "name", t("required", locale))
            ok = False
        elif len(name) > NAME_MAX:
            problem(number, "name", t("admin_too_long", locale, n=NAME_MAX))
            ok = False
        units: list[str] = []
        parts = [p.strip() for p in SPLIT.split(cells["org"]) if p.strip()]
        if not parts:
            problem(number, "org", t("required", locale))
            ok = False
        for part in parts:
            if part not in units_seen:
                unit, count = find_unit(deployment, part)
                why = None
                if unit is None:
                    why = t(
                        "admin_import_ambiguous_unit" if count > 1 else "admin_unknown_unit",
                        locale,
                        unit=part,
                    )
                elif not is_active(deployment.org.get(unit)):
                    why = t("admin_unit_inactive", locale)
                elif not manages(request, admin, unit):
                    why = t("admin_out_of_scope", locale)
                units_seen[part] = (unit, why)
            unit, why = units_seen[part]
            if why or unit is None:
                problem(number, "org", why or part)
                ok = False
            elif unit not in units:
                units.append(unit)
        held: list[str] = []
        names = [p.strip() for p in SPLIT.split(cells["role"]) if p.strip()]
        if not names:
            problem(number, "role", t("required", locale))
            ok = False
        for part in names:
            rid = roles.get(part.casefold())
            if rid is None:
                problem(number, "role", t("admin_unknown_role", locale, role=part))
                ok = False
            elif rid not in held:
                held.append(rid)
        if ok:
            parsed.append((number, [login, name, units, held]))
    taken = await _existing(request.app.state.store, [r[0] for _, r in parsed])
    out: list[list[Any]] = []
    for number, values in parsed:
        found = taken.get(values[0])
        if found is not None and found[1] != values[1]:
            problem(number, "login", t("admin_import_taken", locale, name=found[1]))
            continue
        out.append([*values, found is not None])
    if not body or (not out and not bad_rows):
        problem(1, "login", t("admin_import_empty", locale))
    return out, problems, len(bad_rows)


async def _existing(store: Any, logins: list[str]) -> dict[str, tuple[int, str]]:
    """Accounts already there: login → (id, name)."""
    return await _ids(store.db(), store.pg, logins)


async def _ids(db: BaseDBAsyncClient, pg: bool, logins: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(logins), CHUNK):
        part = logins[start : start + CHUNK]
        rows = await db.execute_query_dict(
            'SELECT "id", "login", "name" FROM "yidi_user" '
            f'WHERE "login" IN ({placeholders(pg, len(part))})',
            part,
        )
        for r in rows:
            found[str(r["login"])] = (int(r["id"]), str(r["name"]))
    return found


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "action": BASE,
        "problems": [],
        "preview": [],
        "token": None,
        "count": 0,
        "error": None,
        "summary": None,
    }
    return base_context(request, "admin_import", **{**defaults, **extra})


async def import_page(request: Request) -> Response:
    admin_of(request)
    return render(request, "admin/import.html", _context(request, stage="upload"))


async def import_upload(request: Request) -> Response:
    admin = admin_of(request)
    locale = request.state.locale
    form = await read_form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "admin/import.html",
            _context(request, stage="upload", error=t("import_file", locale)),
            status=422,
        )
    data = await upload.read()
    try:
        rows = await asyncio.to_thread(read_table, str(upload.filename), data)
    except BadFile as exc:
        return render(
            request,
            "admin/import.html",
            _context(request, stage="upload", error=t("import_bad_file", locale, why=str(exc))),
            status=422,
        )
    parsed, problems, bad = await check_rows(request, admin, rows)
    fatal = bool(problems)
    token = secrets.token_hex(16)
    if not fatal:
        job = {
            "user": admin.id,
            "kind": "users",
            "rows": parsed,
            "total": len(parsed),
            "done": 0,
            "created": 0,
            "granted": 0,
            "skipped": 0,
            "state": "pending",
        }
        (_folder(request) / f"users-{token}.json").write_text(
            json.dumps(job, ensure_ascii=False), "utf-8"
        )
    existing = sum(1 for r in parsed if r[4])
    preview = [
        {
            "login": r[0],
            "name": r[1],
            "units": "、".join(unit_name(request, u) for u in r[2]),
            "roles": "、".join(role_name(request, x) for x in r[3]),
            "existing": r[4],
        }
        for r in parsed[:PREVIEW_ROWS]
    ]
    summary = t(
        "admin_import_summary",
        locale,
        new=len(parsed) - existing,
        old=existing,
        grants=sum(len(r[2]) * len(r[3]) for r in parsed),
    )
    return render(
        request,
        "admin/import.html",
        _context(
            request,
            stage="preview",
            problems=problems,
            preview=preview,
            token=None if fatal else token,
            count=len(parsed),
            summary=None if fatal else summary,
            error=t("import_errors", locale, n=bad) if fatal else None,
        ),
        status=422 if fatal else 200,
    )


def _load(request: Request, admin: Admin) -> tuple[Path, dict[str, Any]]:
    token = str(request.path_params.get("token", ""))
    if not token.isalnum() or len(token) != 32:
        raise HTTPException(404)
    path = _folder(request) / f"users-{token}.json"
    if not path.is_file():
        raise HTTPException(404)
    job: dict[str, Any] = json.loads(path.read_text("utf-8"))
    if job.get("user") != admin.id or job.get("kind") != "users":
        raise HTTPException(404)
    return path, job


async def import_confirm(request: Request) -> Response:
    admin = admin_of(request)
    path, job = _load(request, admin)
    if job["state"] != "pending":
        raise HTTPException(409)
    job["state"] = "running"
    path.write_text(json.dumps(job, ensure_ascii=False), "utf-8")
    state = request.app.state
    task = asyncio.create_task(
        run_import(state.store, state.access.authz, path, admin, at(request))
    )
    state.background.add(task)
    task.add_done_callback(state.background.discard)
    return await import_progress(request)


async def run_import(store: Any, authz: Authz, path: Path, admin: Admin, moment: Any) -> None:
    job = json.loads(path.read_text("utf-8"))
    rows = job["rows"]
    pg = store.pg
    try:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            async with in_transaction(store.connection_name) as conn:
                created, granted, skipped = await write_batch(conn, pg, chunk, admin, moment)
            job["created"] += created
            job["granted"] += granted
            job["skipped"] += skipped
            job["done"] = min(start + BATCH, len(rows))
            path.write_text(json.dumps({**job, "rows": []}, ensure_ascii=False), "utf-8")
        job["state"] = "done"
    except Exception as exc:  # shown on the progress page; the batches written stay written
        job["state"] = "failed"
        job["error"] = type(exc).__name__
    finally:
        authz.forget()
    job["rows"] = []
    path.write_text(json.dumps(job, ensure_ascii=False), "utf-8")


async def write_batch(
    conn: BaseDBAsyncClient, pg: bool, chunk: list[list[Any]], admin: Admin, moment: Any
) -> tuple[int, int, int]:
    """Accounts, grants and their audit rows for one batch: (accounts made, grants made, skipped)."""
    stamp = encode("datetime", moment, pg)
    active = encode("bool", True, pg)
    names = {r[0]: r[1] for r in chunk}
    new_users = [[r[0], r[1], None, active, 0, stamp] for r in chunk if not r[4]]
    made: dict[str, int] = {}
    for start in range(0, len(new_users), CHUNK):
        part = new_users[start : start + CHUNK]
        params = [v for row in part for v in row]
        groups = ", ".join(f"({placeholders(pg, 6, 6 * i + 1)})" for i in range(len(part)))
        result = await conn.execute_query_dict(
            'INSERT INTO "yidi_user" ("login", "name", "password_hash", "active", '
            f'"failed_logins", "created_at") VALUES {groups} '
            'ON CONFLICT ("login") DO NOTHING RETURNING "id", "login"',
            params,
        )
        made.update({str(r["login"]): int(r["id"]) for r in result})
    known = await _ids(conn, pg, list(names))
    wanted: list[list[Any]] = []
    skipped = 0
    for login, name, units, roles, _ in chunk:
        found = known.get(login)
        if found is None or found[1] != name:  # taken by someone else since the preview
            skipped += 1
            continue
        wanted += [[found[0], unit, role] for unit in units for role in roles]
    grants: list[dict[str, Any]] = []
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        params = [v for row in part for v in row]
        groups = ", ".join(f"({placeholders(pg, 3, 3 * i + 1)})" for i in range(len(part)))
        grants += await conn.execute_query_dict(
            f'INSERT INTO "yidi_grant" ("user_id", "org_unit_id", "role") VALUES {groups} '
            'ON CONFLICT ("user_id", "org_unit_id", "role") DO NOTHING '
            'RETURNING "id", "user_id", "org_unit_id", "role"',
            params,
        )
    logins = {found[0]: login for login, found in known.items()}
    changes = [
        change_row(
            pg,
            USER_TABLE,
            uid,
            "create",
            admin,
            moment,
            None,
            {"login": login, "name": names[login], "active": True},
            "import",
        )
        for login, uid in made.items()
    ]
    changes += [
        change_row(
            pg,
            GRANT_TABLE,
            int(g["id"]),
            "create",
            admin,
            moment,
            None,
            {
                "user_id": int(g["user_id"]),
                "login": logins.get(int(g["user_id"]), ""),
                "org_unit_id": g["org_unit_id"],
                "role": g["role"],
            },
            "import",
        )
        for g in grants
    ]
    await audit(conn, pg, changes)
    return len(made), len(grants), skipped


async def import_progress(request: Request) -> Response:
    admin = admin_of(request)
    _, job = _load(request, admin)
    locale = request.state.locale
    total = int(job.get("total") or 0)
    token = request.path_params["token"]
    return render(
        request,
        "admin/import.html",
        _context(
            request,
            stage=job["state"],
            done=job["done"],
            total=max(total, job["done"]),
            progress_url=f"{BASE}/{token}/progress",
            message=t(
                "admin_import_done",
                locale,
                created=job.get("created", 0),
                granted=job.get("granted", 0),
                skipped=job.get("skipped", 0),
            )
            if job["state"] == "done"
            else None,
            error=job.get("error"),
        ),
        block="import_body" if request.headers.get("HX-Request") else None,
    )
