"""Record pages (all fields, attachments, timeline) and editing with optimistic locking."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime.access import Viewer
from runtime.model import Entity, text
from runtime.storage.records import Conflict
from runtime.storage.result import Taken
from runtime.web import formdata
from runtime.web.display import show, system_text
from runtime.web.fieldviews import field_state
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lists import state_labels
from runtime.web.lookup import context, denied, entity_of, record_id
from runtime.web.templating import render
from runtime.web.transitions import panel as workflow_panel
from runtime.web.transitions import timeline_entry
from runtime.web.uploads import read_form, save_uploads
from runtime.web.urls import edit_url, file_url, record_url, view_url


async def visible_record(request: Request, entity: Entity) -> dict[str, Any]:
    """The record named by the URL, if this viewer may see it (else 404 / 401 / 403)."""
    viewer = viewer_of(request)
    record = await request.app.state.store.get(entity, record_id(request))
    if record is None:
        raise HTTPException(404)
    if not request.app.state.access.sees(viewer, entity, record, context(request)):
        if viewer.anonymous:
            raise denied(viewer)
        raise HTTPException(404)  # do not confirm that someone else's record exists
    return dict(record)


def can_edit(request: Request, entity: Entity, record: dict[str, Any], viewer: Viewer) -> bool:
    """The owner while the record is in its first state; the entity's ``edit_roles`` over its org unit."""
    if viewer.anonymous:
        return False
    wf = entity.workflow
    if record.get("owner") == viewer.id and (wf is None or record.get("state") == wf.initial):
        return True
    return bool(request.app.state.access.may(viewer, entity, "edit", record))


def editable_fields(entity: Entity) -> list[str]:
    return [fid for fid, f in entity.fields.items() if f.editable]


async def file_items(request: Request, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    from runtime.storage.platform import Attachment

    rows = await Attachment.filter(id__in=ids).values("id", "name", "size")
    return {
        int(r["id"]): {
            "id": r["id"],
            "name": r["name"],
            "size": _size(r["size"]),
            "url": file_url(r["id"]),
        }
        for r in rows
    }


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(n // 1024, 1)} KB"


async def record_page(request: Request) -> Response:
    entity = entity_of(request)
    record = await visible_record(request, entity)
    viewer = viewer_of(request)
    locale = request.state.locale
    store = request.app.state.store
    from runtime.web.lists import names_for

    names = await names_for(request, entity, [record], [*entity.fields, "owner"])
    attachment_ids = []
    for fid, f in entity.fields.items():
        if f.type in formdata.FILE_TYPES and record.get(fid):
            value = record[fid]
            attachment_ids += value if isinstance(value, list) else [value]
    files = await file_items(request, [int(i) for i in attachment_ids if str(i).isdigit()])
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    rules = (
        request.app.state.access.field_rules(viewer, entity)
        if record.get("owner") != viewer.id
        else {}
    )
    items = []
    for fid, f in entity.fields.items():
        if rules.get(fid) == "hidden":
            continue
        masked = rules.get(fid) == "masked"
        item: dict[str, Any] = {"label": f.label, "files": None, "rows": None}
        value = record.get(fid)
        if f.type in formdata.FILE_TYPES:
            ids = value if isinstance(value, list) else [value] if value else []
            item["files"] = [files[int(i)] for i in ids if str(i).isdigit() and int(i) in files]
        elif f.type == "children":
            subs = list(f.children.values())
            item["heads"] = [s.label for s in subs]
            item["rows"] = [
                [show(s, row.get(s.id), locale, names) for s in subs] for row in value or []
            ]
        else:
            item["text"] = show(f, value, locale, names, masked=masked)
        items.append(item)
    labels = state_labels(entity, locale)
    state = record.get("state")
    tone = (
        entity.workflow.states.get(state, {}).get("tone") if entity.workflow and state else None
    ) or ""
    history = await store.history(entity, record["id"])
    actor_ids = {c.actor for c in history if c.actor}
    actor_names = (await store.labels(users=actor_ids)).get("user", {}) if actor_ids else {}
    timeline = []
    for change in history:
        rows = []
        before, after = change.before or {}, change.after or {}
        for key in list(after)[:30]:
            label: Any = entity.fields[key].label if key in entity.fields else t(key, locale)
            f = entity.fields.get(key)
            if key == "state":
                rows.append(
                    {
                        "label": label,
                        "before": labels.get(before.get(key), before.get(key) or ""),
                        "after": labels.get(after.get(key), after.get(key) or ""),
                    }
                )
            elif f is not None and f.type not in formdata.FILE_TYPES and f.type != "children":
                rows.append(
                    {
                        "label": label,
                        "before": _change_text(f, before.get(key), locale, names),
                        "after": _change_text(f, after.get(key), locale, names),
                    }
                )
        action_text, note = (
            timeline_entry(entity, change.action, change.note, locale)
            if change.action == "transition" or change.action.startswith("task_")
            else (t(f"action_{change.action}", locale), change.note)
        )
        timeline.append(
            {
                "at": system_text("created_at", change.at, locale),
                "who": actor_names.get(change.actor, t("system", locale))
                if change.actor
                else t("system", locale),
                "action": action_text,
                "changes": rows if change.action != "create" else [],
                "note": note,
            }
        )
    back = next(
        (
            v
            for v in scenario.views.values()
            if v.entity is entity
            and v.kind == "list"
            and request.app.state.access.can_open_view(viewer, v)
        ),
        None,
    )
    flash = None
    if request.query_params.get("done"):
        flash = t("created", locale)
    elif request.query_params.get("saved"):
        flash = t("saved", locale)
    elif request.query_params.get("moved"):
        flash = t("wf_done", locale)
    return render(
        request,
        "record.html",
        {
            "page_title": record.get(entity.title_field) or text(entity.label, locale),
            "scenario_title": scenario.title,
            "title": show(entity.fields[entity.title_field], record.get(entity.title_field), locale)
            if entity.title_field in entity.fields
            else f"#{record['id']}",
            "state_label": labels.get(state) if state else None,
            "state_tone": tone,
            "items": items,
            "owner_name": names.get("user", {}).get(record.get("owner"), t("none", locale)),
            "org_name": names.get("org", {}).get(record.get("org"), record.get("org")),
            "created_text": system_text("created_at", record.get("created_at"), locale),
            "timeline": timeline if entity.spec.get("audit", True) else None,
            "edit_url": edit_url(entity, record["id"])
            if can_edit(request, entity, record, viewer)
            else None,
            "back_url": view_url(back) if back else None,
            "back_label": back.label if back else None,
            "flash": flash,
            "wf": await workflow_panel(request, entity, record, viewer),
        },
    )


def _change_text(f: Any, value: Any, locale: str, names: dict[str, dict[Any, str]]) -> str:
    if value is None:
        return ""
    parsed, problem = f.widget.parse(value, f.spec)
    return show(f, parsed if problem is None else value, locale, names)


def _ids(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


async def edit_page(request: Request) -> Response:
    entity = entity_of(request)
    record = await visible_record(request, entity)
    viewer = viewer_of(request)
    if not can_edit(request, entity, record, viewer):
        raise denied(viewer)
    return await render_edit(request, entity, record, None)


async def render_edit(
    request: Request,
    entity: Entity,
    record: dict[str, Any],
    sub: formdata.Submission | None,
    *,
    status: int = 200,
    form_error: str | None = None,
) -> Response:
    ctx = context(request)
    ids = editable_fields(entity)
    conds = formdata.conditions(entity, ids, record, ctx)
    action = edit_url(entity, record["id"])
    attachment_ids = (
        [
            int(i)
            for fid in ids
            if entity.fields[fid].type in formdata.FILE_TYPES
            for i in (record.get(fid) or [])
            if str(i).isdigit()
        ]
        if True
        else []
    )
    files = await file_items(request, attachment_ids)
    states = []
    for fid in ids:
        f = entity.fields[fid]
        existing = [
            files[int(i)]
            for i in ((record.get(fid) or []) if f.type in formdata.FILE_TYPES else [])
            if str(i).isdigit() and int(i) in files
        ]
        states.append(
            await field_state(
                request,
                entity,
                f,
                value=record.get(fid),
                raw=sub.raw.get(fid) if sub else None,
                error=sub.errors.get(fid) if sub else None,
                cond=conds.get(fid),
                check_url=None,
                files=existing,
            )
        )
    scenario = request.app.state.deployment.scenarios[entity.scenario]
    locale = request.state.locale
    return render(
        request,
        "form.html",
        {
            "page_title": t("edit", locale),
            "scenario_title": scenario.title,
            "form_label": {
                "zh": f"编辑 · {text(entity.label, 'zh')}",
                "en": f"Edit · {text(entity.label, 'en')}",
            },
            "form_help": None,
            "action": action,
            "parts": [{"label": None, "fields": states}],
            "step": None,
            "step_text": None,
            "carried": [],
            "row_version": record.get("row_version"),
            "button": t("save", locale),
            "cancel_url": record_url(entity, record["id"]),
            "form_error": form_error
            or (t("form_has_errors", locale) if sub and sub.errors else None),
        },
        status=status,
        block="form_body" if request.headers.get("HX-Request") else None,
    )


async def edit_submit(request: Request) -> Response:
    entity = entity_of(request)
    record = await visible_record(request, entity)
    viewer = viewer_of(request)
    if not can_edit(request, entity, record, viewer):
        raise denied(viewer)
    locale = request.state.locale
    data = await read_form(request)
    ids = editable_fields(entity)
    sub = formdata.read(entity, ids, data, locale)
    await save_uploads(request, entity, sub, viewer)
    ctx = context(request)
    draft = dict(record)
    formdata.complete(
        entity,
        ids,
        sub,
        draft,
        ctx,
        locale,
        existing_files={
            fid: record.get(fid) or []
            for fid in ids
            if entity.fields[fid].type in formdata.FILE_TYPES
        },
    )
    if sub.errors:
        return await render_edit(request, entity, draft, sub, status=422)
    version = str(data.get("_version") or "")
    values = {
        fid: draft.get(fid) for fid in ids if entity.fields[fid].type not in formdata.FILE_TYPES
    }
    for fid in ids:
        if entity.fields[fid].type in formdata.FILE_TYPES and fid in sub.keep:
            values[fid] = sub.keep[fid] or None
    store = request.app.state.store
    try:
        await store.update(
            entity,
            record["id"],
            values,
            actor=viewer.id,
            expected_version=int(version) if version.isdigit() else -1,
            ip=client_ip(request),
        )
    except Taken as taken:
        sub.errors.update({fid: t("taken", locale) for fid in taken.fields})
        return await render_edit(request, entity, draft, sub, status=422)
    except Conflict as conflict:
        who = (
            (await store.labels(users={conflict.by})).get("user", {}).get(conflict.by)
            if conflict.by
            else None
        )
        message = t("conflict", locale, who=who or t("someone", locale))
        current = dict(conflict.current)
        return await render_edit(request, entity, current, sub, status=409, form_error=message)
    await store.link_files(entity, record["id"], sub.keep)
    target = record_url(entity, record["id"]) + "?saved=1"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)
