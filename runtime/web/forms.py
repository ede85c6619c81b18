"""Create forms: sections or steps, prefill, inline checks, conditions, a clear result.

- GET shows the form (prefilled from the signed-in user or a QR code's context).
- POST validates the current step (or the whole form), shows errors next to
  the fields with status 422, moves to the next step, or saves the record.
- POST …/check?field=x answers with that field's message and, out of band,
  the fields whose conditions may have changed (htmx, on change).
Without JavaScript every step is a plain form post; nothing is lost.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from runtime.access import Viewer
from runtime.expr import Context
from runtime.model import Entity, Form, text
from runtime.storage import Taken
from runtime.web import formdata
from runtime.web.fieldviews import field_state
from runtime.web.guard import client_ip, viewer_of
from runtime.web.i18n import t
from runtime.web.lookup import context, denied, form_of
from runtime.web.templating import render
from runtime.web.uploads import read_form, save_uploads
from runtime.web.urls import form_url, record_url


def initial_record(
    entity: Entity,
    viewer: Viewer,
    ctx: Context,
    form: Form | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new record before the user types: system values, defaults and prefill."""
    record: dict[str, Any] = {
        "id": None,
        "owner": viewer.id,
        "org": viewer.org,
        "state": entity.workflow.initial if entity.workflow else None,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "created_by": viewer.id,
        "updated_by": viewer.id,
    }
    for fid, f in entity.fields.items():
        default = f.spec.get("default")
        if default is not None:
            value, problem = f.widget.parse(default, f.spec)
            record[fid] = value if problem is None else None
        else:
            record[fid] = None
    if form is not None:
        names: dict[str, Any] = {}
        for fid, source in (form.spec.get("prefill") or {}).items():
            from runtime.expr import compile_expr

            f = entity.fields[fid]
            try:
                expr = compile_expr(source, {**names, "code": f.expr_type}, expect=f.expr_type)
                record[fid] = expr.evaluate({"code": (extra or {}).get("code")}, ctx)
            except Exception:
                record[fid] = None
    return record


def step_fields(form: Form, step: int | None) -> list[str]:
    if step is None:
        return form.field_ids
    return form.parts[step][2]


def steps_before(form: Form, step: int | None) -> list[str]:
    if step is None:
        return []
    return [fid for _, _, ids in form.parts[:step] for fid in ids]


async def render_form(
    request: Request,
    form: Form,
    record: dict[str, Any],
    sub: formdata.Submission | None,
    ctx: Context,
    *,
    step: int | None,
    status: int = 200,
    carried: list[tuple[str, str]] | None = None,
    form_error: str | None = None,
) -> HTMLResponse:
    entity = form.entity
    locale = request.state.locale
    ids = step_fields(form, step)
    conds = formdata.conditions(entity, ids, record, ctx)
    parts_in = [form.parts[step]] if step is not None else form.parts
    action = form_url(form)
    parts = []
    for _, label, fids in parts_in:
        states = []
        for fid in fids:
            f = entity.fields[fid]
            raw = sub.raw.get(fid) if sub else None
            states.append(
                await field_state(
                    request,
                    entity,
                    f,
                    value=record.get(fid),
                    raw=raw,
                    error=(sub.errors.get(fid) if sub else None),
                    cond=conds.get(fid),
                    check_url=f"{action}/check?field={fid}",
                )
            )
        parts.append({"label": label if step is None else None, "fields": states})
    scenario = request.app.state.deployment.scenarios[form.scenario]
    last = step is None or step == len(form.parts) - 1
    step_label = form.parts[step][1] if step is not None else None
    return render(
        request,
        "form.html",
        {
            "page_title": form.label,
            "scenario_title": scenario.title,
            "form_label": form.label
            if step_label is None
            else {
                "zh": f"{text(form.label, 'zh')} · {text(step_label, 'zh')}",
                "en": f"{text(form.label, 'en')} · {text(step_label, 'en')}",
            },
            "form_help": form.spec.get("description"),
            "action": action,
            "parts": parts,
            "step": step,
            "step_text": t("step_of", locale, i=step + 1, n=len(form.parts))
            if step is not None
            else None,
            "carried": carried or [],
            "row_version": None,
            "button": (
                text(form.spec["button"], locale)
                if form.spec.get("button")
                else t("submit", locale)
            )
            if last
            else t("next_step", locale),
            "cancel_url": "/",
            "form_error": form_error
            or (sub.errors.get("_form") if sub else None)
            or (t("form_has_errors", locale) if sub and sub.errors else None),
        },
        status=status,
        block="form_body" if request.headers.get("HX-Request") else None,
    )


def carry(
    form: Form, step: int, data: FormData, kept: dict[str, list[int]]
) -> list[tuple[str, str]]:
    """Hidden inputs that carry the answers of the steps already done."""
    out: list[tuple[str, str]] = []
    done = steps_before(form, step)
    for key, value in data.multi_items():
        base = key.split(".", 1)[0]
        if base in done and isinstance(value, str) and not key.endswith(".keep"):
            out.append((key, value))
    for fid, ids in kept.items():
        if fid in done:
            out += [(f"{fid}.keep", str(i)) for i in ids]
    return out


async def form_page(request: Request) -> Response:
    form = form_of(request)
    viewer = viewer_of(request)
    if form.spec.get("mode") == "edit" or not request.app.state.access.can_use_form(viewer, form):
        raise denied(viewer) if form.spec.get("mode") != "edit" else HTTPException(404)
    ctx = context(request)
    record = initial_record(form.entity, viewer, ctx, form)
    return await render_form(request, form, record, None, ctx, step=0 if form.is_steps else None)


async def form_submit(request: Request) -> Response:
    form = form_of(request)
    viewer = viewer_of(request)
    access = request.app.state.access
    if form.spec.get("mode") == "edit" or not access.can_use_form(viewer, form):
        raise denied(viewer)
    entity = form.entity
    locale = request.state.locale
    data = await read_form(request)
    ctx = context(request)
    step: int | None = None
    if form.is_steps:
        raw_step = str(data.get("_step") or "0")
        step = min(max(int(raw_step) if raw_step.isdigit() else 0, 0), len(form.parts) - 1)
        if data.get("_back"):
            prev = max(step - 1, 0)
            record = initial_record(entity, viewer, ctx, form)
            sub = formdata.read(entity, form.field_ids, data, locale)
            sub.errors.clear()
            return await render_form(
                request,
                form,
                record,
                sub,
                ctx,
                step=prev,
                carried=carry(form, prev, data, sub.keep),
            )
    upto = form.field_ids if step is None else steps_before(form, step) + step_fields(form, step)
    sub = formdata.read(entity, upto, data, locale)
    await save_uploads(request, entity, sub, viewer)
    record = initial_record(entity, viewer, ctx, form)
    formdata.complete(entity, upto, sub, record, ctx, locale)
    if sub.errors:
        bad_step = step
        if step is not None:
            for i in range(step + 1):
                if any(fid in sub.errors for fid in form.parts[i][2]):
                    bad_step = i
                    break
        return await render_form(
            request,
            form,
            record,
            sub,
            ctx,
            step=bad_step,
            status=422,
            carried=carry(form, bad_step or 0, data, sub.keep) if step is not None else None,
        )
    if step is not None and step < len(form.parts) - 1:
        return await render_form(
            request,
            form,
            record,
            sub,
            ctx,
            step=step + 1,
            carried=carry(form, step + 1, data, sub.keep),
        )
    store = request.app.state.store
    values = {fid: record.get(fid) for fid in form.field_ids if fid in entity.fields}
    for fid, f in entity.fields.items():
        if fid not in values and record.get(fid) is not None:
            values[fid] = record[fid]
        if f.type in formdata.FILE_TYPES and fid in sub.keep:
            values[fid] = sub.keep[fid] or None
    org = access.form_org(viewer, form)
    try:
        created = await store.create(
            entity,
            values,
            actor=viewer.id,
            org=org,
            state=record.get("state"),
            ip=client_ip(request),
        )
    except Taken as taken:  # a unique value someone else holds (or took a moment ago)
        sub.errors.update({fid: t("taken", locale) for fid in taken.fields})
        at = next((i for i, part in enumerate(form.parts) if set(part[2]) & set(taken.fields)), 0)
        return await render_form(
            request,
            form,
            record,
            sub,
            ctx,
            step=at if step is not None else None,
            status=422,
            carried=carry(form, at, data, sub.keep) if step is not None else None,
        )
    await store.link_files(entity, created["id"], sub.keep)
    from runtime.engine.engine import created as record_created

    await record_created(request.app.state, entity, created, actor=viewer.id)
    then = form.spec.get("then")
    if then and entity.workflow and then in entity.workflow.transitions:
        from runtime.web.transitions import take_if_allowed

        created = await take_if_allowed(request, entity, created, then, viewer, ctx) or created
    message = (
        text(form.spec.get("success"), locale) if form.spec.get("success") else t("created", locale)
    )
    if viewer.anonymous:
        return render(
            request,
            "form_done.html",
            {"message": message, "receipt": created.get("receipt"), "page_title": form.label},
        )
    target = record_url(entity, created["id"]) + "?done=1"
    if request.headers.get("HX-Request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def field_check(request: Request) -> Response:
    """htmx: one field's message, plus the conditional fields re-rendered out of band."""
    form = form_of(request)
    viewer = viewer_of(request)
    if not request.app.state.access.can_use_form(viewer, form):
        raise denied(viewer)
    entity = form.entity
    name = request.query_params.get("field", "")
    if name not in form.field_ids:
        raise HTTPException(400, "unknown field")
    locale = request.state.locale
    data = await read_form(request)
    ctx = context(request)
    sub = formdata.read(entity, form.field_ids, data, locale)
    record = initial_record(entity, viewer, ctx, form)
    conds = formdata.complete(entity, form.field_ids, sub, record, ctx, locale)
    error = sub.errors.get(name)
    if error == t("required", locale) and not sub.raw.get(name):
        error = None  # an empty field is not scolded while the user is still filling the form
    html = [f'<p class="error" id="e-{name}" role="alert">{_escape(error or "")}</p>']
    action = form_url(form)
    env = request.app.state.templates.env(request.state.theme)
    for fid in form.field_ids:
        f = entity.fields[fid]
        if fid == name or all(
            isinstance(f.condition(k), bool) for k in ("visible", "required", "readonly")
        ):
            continue
        if f.type in formdata.FILE_TYPES:
            continue
        state = await field_state(
            request,
            entity,
            f,
            value=record.get(fid),
            raw=sub.raw.get(fid),
            error=None,
            cond=conds.get(fid),
            check_url=f"{action}/check?field={fid}",
            oob=True,
        )
        html.append(
            env.get_template("_field.html").render(
                f=state,
                locale=locale,
                L=lambda v: text(v, locale),
                t=lambda k, **kw: t(k, locale, **kw),
            )
        )
    return HTMLResponse("\n".join(html), headers={"Vary": "HX-Request"})


def _escape(value: str) -> str:
    from markupsafe import escape

    return str(escape(value))
