"""The JSON API: list, read, create and update each entity, with the forms' validation.

Errors always look like ``{"error": {"code", "message", "fields"?}}`` with
stable codes: bad_request 400, unauthenticated 401, forbidden/csrf_failed 403,
not_found 404, conflict 409, too_large 413, invalid 422. ``/api/openapi.json``
is generated from the scenarios.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from runtime.authz import view_object
from runtime.checks.base import SYSTEM_FIELDS
from runtime.model import Entity, Form, text
from runtime.storage.records import Conflict, ListQuery
from runtime.storage.result import Taken
from runtime.web import formdata
from runtime.web.display import mask
from runtime.web.forms import initial_record
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import context, entity_of, record_id
from runtime.web.records import can_edit, editable_fields

MAX_BODY = 1_000_000
SYSTEM = (*SYSTEM_FIELDS, "row_version")


def to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    return value


def record_json(
    entity: Entity, record: dict[str, Any], rules: dict[str, str] | None = None
) -> dict[str, Any]:
    """A record as JSON, under the viewer's field rules (hidden fields left out, masked ones masked)."""
    out = {key: to_json(record.get(key)) for key in SYSTEM if key in record}
    for fid, f in entity.fields.items():
        rule = (rules or {}).get(fid)
        if rule == "hidden":
            continue
        value = record.get(fid)
        out[fid] = (
            mask(str(value), f.type)
            if rule == "masked" and value not in (None, "")
            else to_json(value)
        )
    return out


def rules_for(request: Request, entity: Entity, record: dict[str, Any]) -> dict[str, str]:
    viewer = viewer_of(request)
    if record.get("owner") == viewer.id:
        return {}
    rules: dict[str, str] = request.app.state.access.field_rules(viewer, entity)
    return rules


def error(
    status: int, code: str, message: str, fields: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


def signed_in(request: Request) -> Any:
    viewer = viewer_of(request)
    if viewer.anonymous:
        raise HTTPException(401)
    return viewer


async def body_of(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY:
        raise HTTPException(413)
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise HTTPException(413)
    try:
        data = json.loads(raw or b"{}")
    except ValueError as exc:
        raise HTTPException(400, "malformed JSON") from exc
    if not isinstance(data, dict):
        raise HTTPException(400, "a JSON object is expected")
    return data


async def list_records(request: Request) -> Response:
    entity = entity_of(request)
    viewer = signed_in(request)
    access = request.app.state.access
    params = request.query_params
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    view = (
        scenario.views.get(params["view"])
        if params.get("view")
        else access.first_view(viewer, entity)
    )
    if view is None or view.entity is not entity or view.kind not in ("list", "board"):
        raise HTTPException(404 if params.get("view") else 403)
    if not access.can_open_view(viewer, view):
        raise HTTPException(403)
    scope = access.scope(viewer, entity, view_object(view.scenario, view.id), "open")
    equals: dict[str, list[Any]] = {}
    for key in params:
        if key.startswith("f."):
            name = key[2:]
            f = entity.fields.get(name)
            if f is None and name != "state":
                return error(400, "bad_request", f"unknown filter field '{name}'")
            values = []
            for raw in params.getlist(key):
                value, problem = f.widget.parse(raw, f.spec) if f else (raw, None)
                if problem is not None:
                    return error(400, "bad_request", f"bad value for '{name}': {problem.en}")
                values.append(value)
            equals[name] = values
    sort = [("created_at", True)]
    if params.get("sort"):
        name = params["sort"].lstrip("-")
        if name not in entity.fields and name not in SYSTEM:
            return error(400, "bad_request", f"unknown sort field '{name}'")
        sort = [(name, params["sort"].startswith("-"))]
    limit_raw = params.get("limit", "50")
    limit = min(int(limit_raw), 200) if limit_raw.isdigit() and int(limit_raw) > 0 else 50
    query = ListQuery(
        where=[view.where] if view.where else [],
        equals=equals,
        search=None,
        sort=sort,
        after=params.get("after"),
        before=None,
        limit=limit,
        scope=scope,
    )
    ctx = context(request)
    try:
        page = await request.app.state.store.list(entity, query, ctx)
    except ValueError:
        return error(400, "bad_request", "bad cursor or parameter")
    count, exact = await request.app.state.store.count(entity, query, ctx, cap=10_000)
    return JSONResponse(
        {
            "data": [
                record_json(entity, dict(r), rules_for(request, entity, dict(r))) for r in page.rows
            ],
            "next": page.next,
            "total": count,
            "exact": exact,
        }
    )


async def read_record(request: Request) -> Response:
    entity = entity_of(request)
    viewer = signed_in(request)
    record = await request.app.state.store.get(entity, record_id(request))
    if record is None or not request.app.state.access.sees(
        viewer, entity, record, context(request)
    ):
        raise HTTPException(404)
    return JSONResponse(
        {"data": record_json(entity, dict(record), rules_for(request, entity, dict(record)))}
    )


def create_form(request: Request, entity: Entity) -> Form | None:
    viewer = viewer_of(request)
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    for form in scenario.forms.values():
        if (
            form.entity is entity
            and form.spec.get("mode", "create") == "create"
            and request.app.state.access.can_use_form(viewer, form)
            and not form.spec.get("public")
        ):
            return form
    return None


def _validate(
    entity: Entity,
    ids: list[str],
    data: dict[str, Any],
    record: dict[str, Any],
    request: Request,
    locale: str,
) -> formdata.Submission:
    unknown = [k for k in data if k not in ids and k != "row_version"]
    sub = formdata.read(
        entity, [i for i in ids if i in data or entity.fields[i].spec.get("required")], data, locale
    )
    for key in unknown:
        sub.errors[key] = "unknown or read-only field" if locale == "en" else "未知或只读字段"
    formdata.complete(entity, ids, sub, record, context(request), locale)
    return sub


def taken_error(taken: Taken, locale: str) -> Response:
    message = t("taken", locale)
    return error(409, "taken", message, {fid: message for fid in taken.fields})


async def create_record(request: Request) -> Response:
    entity = entity_of(request)
    viewer = signed_in(request)
    form = create_form(request, entity)
    if form is None:
        raise HTTPException(403)
    data = await body_of(request)
    locale = "en" if request.headers.get("accept-language", "").startswith("en") else "zh"
    ctx = context(request)
    record = initial_record(entity, viewer, ctx, form)
    ids = [fid for fid in form.field_ids if entity.fields[fid].type not in formdata.FILE_TYPES]
    sub = _validate(entity, ids, data, record, request, locale)
    if sub.errors:
        return error(
            422, "invalid", "invalid fields" if locale == "en" else "有字段不符合要求", sub.errors
        )
    values = {fid: record.get(fid) for fid in entity.fields if record.get(fid) is not None}
    org = request.app.state.access.form_org(viewer, form)
    try:
        created = await request.app.state.store.create(
            entity,
            values,
            actor=viewer.id,
            org=org,
            state=record.get("state"),
            ip=client_ip(request),
        )
    except Taken as taken:
        return taken_error(taken, locale)
    from runtime.engine.engine import created as record_created

    await record_created(request.app.state, entity, created, actor=viewer.id)
    return JSONResponse({"data": record_json(entity, dict(created))}, status_code=201)


async def update_record(request: Request) -> Response:
    entity = entity_of(request)
    viewer = signed_in(request)
    store = request.app.state.store
    record = await store.get(entity, record_id(request))
    if record is None or not request.app.state.access.sees(
        viewer, entity, record, context(request)
    ):
        raise HTTPException(404)
    record = dict(record)
    if not can_edit(request, entity, record, viewer):
        raise HTTPException(403)
    data = await body_of(request)
    version = data.get("row_version")
    if not isinstance(version, int):
        return error(422, "invalid", "row_version is required", {"row_version": "required"})
    locale = "en" if request.headers.get("accept-language", "").startswith("en") else "zh"
    ids = [
        fid for fid in editable_fields(entity) if entity.fields[fid].type not in formdata.FILE_TYPES
    ]
    draft = dict(record)
    sub = _validate(entity, [i for i in ids if i in data], data, draft, request, locale)
    if sub.errors:
        return error(
            422, "invalid", "invalid fields" if locale == "en" else "有字段不符合要求", sub.errors
        )
    values = {fid: draft.get(fid) for fid in ids if fid in data}
    try:
        updated = await store.update(
            entity,
            record["id"],
            values,
            actor=viewer.id,
            expected_version=version,
            ip=client_ip(request),
        )
    except Taken as taken:
        return taken_error(taken, locale)
    except Conflict as conflict:
        return JSONResponse(
            {
                "error": {
                    "code": "conflict",
                    "message": "changed meanwhile",
                    "current": record_json(
                        entity,
                        dict(conflict.current),
                        rules_for(request, entity, dict(conflict.current)),
                    ),
                }
            },
            status_code=409,
        )
    return JSONResponse(
        {"data": record_json(entity, dict(updated), rules_for(request, entity, dict(updated)))}
    )


JSON_TYPES = {
    "text": {"type": "string"},
    "longtext": {"type": "string"},
    "phone": {"type": "string"},
    "idcard": {"type": "string"},
    "choice": {"type": "string"},
    "number": {"type": "number"},
    "money": {"type": "string", "format": "decimal"},
    "rating": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "bool": {"type": "boolean"},
    "multichoice": {"type": "array", "items": {"type": "string"}},
    "user": {"type": "integer"},
    "org": {"type": "string"},
    "ref": {"type": "integer"},
    "location": {"type": "object"},
    "children": {"type": "array", "items": {"type": "object"}},
}


def field_schema(f: Any) -> dict[str, Any]:
    base = dict(JSON_TYPES.get(f.type, {"type": "array", "items": {"type": "integer"}}))
    if f.type in ("user", "org", "ref") and f.multiple:
        base = {"type": "array", "items": base}
    if f.type in ("choice", "multichoice"):
        values = [o["value"] if isinstance(o, dict) else o for o in f.spec.get("options") or []]
        if f.type == "choice":
            base["enum"] = values
        else:
            base["items"] = {"type": "string", "enum": values}
    base["description"] = text(f.label, "zh")
    return base


async def openapi(request: Request) -> Response:
    deployment = request.app.state.deployment
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {
                            "type": "string",
                            "enum": [
                                "bad_request",
                                "unauthenticated",
                                "forbidden",
                                "csrf_failed",
                                "not_found",
                                "conflict",
                                "too_large",
                                "invalid",
                                "server_error",
                            ],
                        },
                        "message": {"type": "string"},
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                }
            },
        }
    }
    errors = {
        str(code): {
            "description": word,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code, word in (
            (400, "bad request"),
            (401, "not signed in"),
            (403, "forbidden"),
            (404, "not found"),
            (409, "changed meanwhile"),
            (413, "too large"),
            (422, "invalid fields"),
        )
    }
    for entity in deployment.entities():
        name = f"{entity.scenario}.{entity.id}"
        props = {fid: field_schema(f) for fid, f in entity.fields.items()}
        props.update(
            {
                "id": {"type": "integer"},
                "row_version": {"type": "integer"},
                "state": {"type": "string"},
                "org": {"type": "string"},
                "owner": {"type": "integer"},
                "created_at": {"type": "string", "format": "date-time"},
            }
        )
        schemas[name] = {"type": "object", "title": text(entity.label, "zh"), "properties": props}
        ref = {"$ref": f"#/components/schemas/{name}"}
        one = {
            "200": {
                "description": "the record",
                "content": {
                    "application/json": {"schema": {"type": "object", "properties": {"data": ref}}}
                },
            },
            **errors,
        }
        base = f"/api/s/{entity.scenario}/{entity.id}"
        paths[base] = {
            "get": {
                "summary": f"List {name}",
                "parameters": [
                    {"name": "sort", "in": "query", "schema": {"type": "string"}},
                    {"name": "after", "in": "query", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 200}},
                ],
                "responses": {
                    "200": {
                        "description": "a page",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "data": {"type": "array", "items": ref},
                                        "next": {"type": "string"},
                                        "total": {"type": "integer"},
                                        "exact": {"type": "boolean"},
                                    },
                                }
                            }
                        },
                    },
                    **errors,
                },
            },
            "post": {
                "summary": f"Create {name}",
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": {"201": one["200"], **errors},
            },
        }
        paths[base + "/{id}"] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": {"summary": f"Read {name}", "responses": one},
            "patch": {
                "summary": f"Update {name} (send row_version)",
                "requestBody": {"content": {"application/json": {"schema": ref}}},
                "responses": one,
            },
        }
    return JSONResponse(
        {
            "openapi": "3.1.0",
            "info": {"title": deployment.title("en"), "version": "1"},
            "paths": paths,
            "components": {"schemas": schemas},
        }
    )
