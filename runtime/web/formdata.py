"""Submitted forms: values parsed by the widgets, conditions, and errors per field.

The same compiled expressions decide on the server whether a field is shown,
required or read-only; nothing of that logic is written again in JavaScript.
A hidden field's value is dropped, a required one must be filled, and the
entity's cross-field checks run last. Messages are in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from runtime.expr import Context, Expr
from runtime.model import Entity, Field, text
from runtime.web.i18n import t

FILE_TYPES = {"file", "image", "audio", "video"}


@dataclass
class Submission:
    values: dict[str, Any] = field(default_factory=dict)  # parsed, for fields that parsed
    raw: dict[str, Any] = field(default_factory=dict)  # as typed, to show the form again
    errors: dict[str, str] = field(default_factory=dict)
    uploads: dict[str, list[Any]] = field(default_factory=dict)  # field → UploadFile objects
    keep: dict[str, list[int]] = field(default_factory=dict)  # field → attachment ids kept

    @property
    def ok(self) -> bool:
        return not self.errors


def _get(form: Any, name: str) -> Any:
    return form.get(name) if hasattr(form, "get") else None


def _getlist(form: Any, name: str) -> list[Any]:
    if hasattr(form, "getlist"):
        return list(form.getlist(name))
    value = _get(form, name)
    return [] if value is None else value if isinstance(value, list) else [value]


def read(entity: Entity, field_ids: Iterable[str], form: Any, locale: str) -> Submission:
    """Parse every listed field from ``form`` (a Starlette FormData or a plain dict)."""
    sub = Submission()
    for fid in field_ids:
        f = entity.fields.get(fid)
        if f is None or not f.editable:
            continue
        if f.type in FILE_TYPES:
            files = [u for u in _getlist(form, fid) if hasattr(u, "filename") and u.filename]
            sub.uploads[fid] = files
            kept = []
            for item in _getlist(form, f"{fid}.keep"):
                try:
                    kept.append(int(item))
                except (TypeError, ValueError):
                    continue
            sub.keep[fid] = kept
            continue
        if f.type == "children":
            raw_rows = _rows(form, fid, f)
            sub.raw[fid] = raw_rows
            value, problem = f.widget.parse(raw_rows, f.spec)
        else:
            raw_value: Any = _getlist(form, fid) if f.multiple else _get(form, fid)
            if isinstance(raw_value, list) and f.type != "multichoice" and f.multiple:
                raw_value = [v for v in raw_value if v not in ("", None)]
            sub.raw[fid] = raw_value
            value, problem = f.widget.parse(raw_value, f.spec)
        if problem is None and value is not None:
            problem = f.widget.validate(value, f.spec)
        if problem is not None:
            sub.errors[fid] = problem.text(locale)
        else:
            sub.values[fid] = value
    return sub


def _rows(form: Any, fid: str, f: Field) -> list[dict[str, Any]]:
    """Child-table rows from inputs named ``field.index.sub``."""
    rows: dict[int, dict[str, Any]] = {}
    keys = form.keys() if hasattr(form, "keys") else []
    for key in keys:
        parts = str(key).split(".")
        if len(parts) == 3 and parts[0] == fid and parts[1].isdigit() and parts[2] in f.children:
            rows.setdefault(int(parts[1]), {})[parts[2]] = _get(form, key)
    return [rows[i] for i in sorted(rows) if any(v not in ("", None) for v in rows[i].values())]


@dataclass
class Conditions:
    visible: bool
    required: bool
    readonly: bool


def for_expr(record: Mapping[str, Any]) -> dict[str, Any]:
    """Money (Decimal) as float, as the SQL side reads it, so both agree."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}


def _holds(value: bool | Expr, record: Mapping[str, Any], ctx: Context) -> bool:
    if isinstance(value, bool):
        return value
    try:
        return bool(value.evaluate(for_expr(record), ctx))
    except Exception:  # a condition that cannot be evaluated hides nothing
        return False


def conditions(
    entity: Entity, field_ids: Iterable[str], record: Mapping[str, Any], ctx: Context
) -> dict[str, Conditions]:
    out = {}
    for fid in field_ids:
        f = entity.fields.get(fid)
        if f is None:
            continue
        out[fid] = Conditions(
            visible=_holds(f.condition("visible"), record, ctx),
            required=_holds(f.condition("required"), record, ctx),
            readonly=_holds(f.condition("readonly"), record, ctx),
        )
    return out


def complete(
    entity: Entity,
    field_ids: Iterable[str],
    sub: Submission,
    record: dict[str, Any],
    ctx: Context,
    locale: str,
    *,
    existing_files: Mapping[str, list[Any]] | None = None,
) -> dict[str, Conditions]:
    """Apply conditions and required rules to a submission; ``record`` is updated in place.

    ``record`` holds the record as it will be (system values plus the parsed
    values); hidden fields are cleared; entity checks run when fields are clean.
    """
    ids = list(field_ids)
    record.update(sub.values)
    conds = conditions(entity, ids, record, ctx)
    for fid in ids:
        c = conds.get(fid)
        f = entity.fields.get(fid)
        if c is None or f is None:
            continue
        if not c.visible:
            sub.errors.pop(fid, None)
            sub.values.pop(fid, None)
            record[fid] = None
            continue
        if c.required and fid not in sub.errors:
            if f.type in FILE_TYPES:
                has = (
                    bool(sub.uploads.get(fid))
                    or bool(sub.keep.get(fid))
                    or bool((existing_files or {}).get(fid))
                )
            else:
                has = record.get(fid) not in (None, "", [])
            if not has:
                sub.errors[fid] = t("required", locale)
    if not sub.errors:
        for check in (entity.spec.get("checks") or {}).values():
            rule = entity.compile(check["rule"])
            if not _holds(rule, record, ctx):
                target = check.get("field") if check.get("field") in ids else "_form"
                sub.errors[target] = text(check["message"], locale)
    return conds


def checked_rule(entity: Entity) -> list[tuple[Expr, Any, str | None]]:
    return [
        (entity.compile(c["rule"]), c["message"], c.get("field"))
        for c in (entity.spec.get("checks") or {}).values()
    ]
