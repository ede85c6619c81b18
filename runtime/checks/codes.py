"""Checks of QR codes: subject, the form they open, and their validity window."""

from __future__ import annotations

from runtime.checks.base import Context, as_map

SUBJECT_KEYS = {"user": "role", "org": "kind", "record": "entity"}


def check_codes(ctx: Context) -> None:
    forms = ctx.section("forms")
    for cid, code in ctx.section("codes").items():
        code = as_map(code)
        path = ("codes", cid)
        subject = code.get("subject")
        for other_subject, key in SUBJECT_KEYS.items():
            if key in code and other_subject != subject:
                ctx.add(
                    (*path, key),
                    f"'{key}' applies to subject {other_subject}",
                    expected=f"'{SUBJECT_KEYS.get(str(subject), '—')}' for subject {subject}",
                    code="subject",
                    at_key=True,
                )
        if subject == "user" and "role" in code:
            ctx.known((*path, "role"), code["role"], ctx.roles, "role")
        if subject == "record":
            entity = code.get("entity")
            if entity is None:
                ctx.add(
                    path,
                    "a record code needs the entity it stands for",
                    expected="entity: <id>",
                    code="subject",
                )
            elif ctx.known((*path, "entity"), entity, ctx.entities, "entity"):
                fields = ctx.fields(str(entity))
                for key in ("valid_from", "valid_until"):
                    if key in code and ctx.known((*path, key), code[key], fields, "field"):
                        kind = as_map(fields[code[key]]).get("type")
                        if kind not in ("date", "datetime"):
                            ctx.add(
                                (*path, key),
                                f"'{code[key]}' is a {kind} field",
                                expected="a date or datetime field",
                                code="window",
                            )
        elif "valid_from" in code or "valid_until" in code:
            ctx.add(
                path,
                "a validity window needs subject: record",
                expected="subject: record",
                code="window",
            )
        form = code.get("form")
        if isinstance(form, str) and ctx.known((*path, "form"), form, forms, "form"):
            spec = as_map(forms[form])
            if not spec.get("public") and "roles" not in spec:
                ctx.add(
                    (*path, "form"),
                    f"form '{form}' is neither public nor limited to roles",
                    expected="public: true, or roles for signed-in scanners",
                    code="code_form",
                )
