"""Checks of the deployment manifest: org tree, roles, scenarios, themes, calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

from runtime.checks.base import Context, as_map
from runtime.manifest import INSTALL_DIR, KIND_RANK, Manifest, org_doc_path
from runtime.mistakes import Mistake, did_you_mean
from runtime.package import Package

RUNTIME_THEMES = Path(__file__).resolve().parent.parent.parent / "themes"


def check_manifest(manifest: Manifest, packages: Mapping[str, Package]) -> list[Mistake]:
    """Mistakes of the manifest itself; ``packages`` are its loaded scenario packages."""
    ctx = Context(manifest.doc, manifest.data)
    units = _check_org(ctx, manifest)
    roles = as_map(manifest.data.get("roles"))
    catalogs = as_map(manifest.data.get("catalogs"))
    themes = _themes(manifest)
    for i, role in enumerate(manifest.data.get("admin_roles") or []):
        ctx.known(("admin_roles", i), role, roles, "platform role")
    if isinstance(manifest.data.get("theme"), str):
        ctx.known(("theme",), manifest.data["theme"], themes, "theme")
    for unit in manifest.org_units():
        if unit.theme is not None:
            ctx.known((*org_doc_path(unit), "theme"), unit.theme, themes, "theme")
    for sid, entry in as_map(manifest.data.get("scenarios")).items():
        entry = as_map(entry)
        path = ("scenarios", sid)
        local, pinned = "path" in entry, "catalog" in entry
        if local == pinned:
            ctx.add(
                path,
                "a scenario comes either from a local path or from a catalog",
                expected="path: scenarios/<id>, or catalog + version + checksum",
                code="source",
                at_key=True,
            )
        if pinned:
            ctx.known((*path, "catalog"), entry["catalog"], catalogs, "catalog")
            for key in ("version", "checksum"):
                if key not in entry:
                    ctx.add(
                        path,
                        f"a catalog scenario needs its pinned {key}",
                        expected=f"{key}: …",
                        code="lock",
                        at_key=True,
                    )
        folder = manifest.scenario_folder(sid)
        if folder is not None and not (folder / "scenario.yaml").is_file():
            where = (*path, "path") if local else path
            hint = (
                None
                if local
                else f"run: yidi catalog add {entry.get('catalog')} {sid}@{entry.get('version')}"
            )
            ctx.add(
                where,
                f"no scenario package at {folder}",
                expected="a folder with scenario.yaml",
                hint=hint or f"packages live in scenarios/ or {INSTALL_DIR}/",
                code="missing_package",
            )
            continue
        package = packages.get(sid)
        if package is None:
            continue
        if package.id != sid:
            ctx.add(
                path,
                f"the package at {entry.get('path')} has id '{package.id}'",
                expected=f"id '{sid}'",
                code="id_mismatch",
                at_key=True,
            )
        _check_role_map(ctx, path, entry, package, roles)
    calendar = as_map(manifest.data.get("calendar"))
    for key in ("holidays", "extra_workdays"):
        for i, day in enumerate(
            calendar.get(key, []) if isinstance(calendar.get(key), list) else []
        ):
            try:
                dt.date.fromisoformat(str(day))
            except ValueError:
                ctx.add(
                    ("calendar", key, i),
                    f"'{day}' is not a real date",
                    expected="YYYY-MM-DD",
                    code="date",
                )
    for login, user in as_map(as_map(manifest.data.get("demo")).get("users")).items():
        for unit_id, held in as_map(as_map(user).get("roles")).items():
            upath = ("demo", "users", login, "roles", unit_id)
            ctx.known(upath, unit_id, units, "org unit", at_key=True)
            ctx.known_each(upath, held, roles, "platform role")
    return ctx.mistakes


def _check_org(ctx: Context, manifest: Manifest) -> dict[str, str]:
    units: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for unit in manifest.org_units():
        path = org_doc_path(unit)
        if unit.id in units:
            ctx.add(
                path,
                f"org unit id '{unit.id}' is used twice (first under {units[unit.id]})",
                expected="ids unique across the whole tree",
                code="duplicate",
                at_key=True,
            )
            continue
        units[unit.id] = ".".join(unit.path[:-1]) or "the root"
        kinds[unit.id] = unit.kind
        if unit.parent is None or unit.kind == "department" or unit.kind not in KIND_RANK:
            continue
        parent_kind = kinds.get(unit.parent, "")
        if parent_kind in KIND_RANK and KIND_RANK[unit.kind] <= KIND_RANK[parent_kind]:
            ctx.add(
                (*path, "kind"),
                f"a {unit.kind} cannot sit under a {parent_kind}",
                expected="a level below " + parent_kind,
                code="org_level",
            )
    return units


def _check_role_map(
    ctx: Context,
    path: tuple[str, ...],
    entry: dict[str, object],
    package: Package,
    roles: dict[str, object],
) -> None:
    scenario_roles = as_map(package.data.get("roles"))
    mapping = as_map(entry.get("roles"))
    for role, targets in mapping.items():
        ctx.known(
            (*path, "roles", role), role, scenario_roles, f"role of {package.id}", at_key=True
        )
        ctx.known_each((*path, "roles", role), targets, roles, "platform role")
    for role in scenario_roles:
        if role not in mapping and role not in roles:
            ctx.add(
                path,
                f"scenario role '{role}' of {package.id} is not mapped to a platform role",
                expected=f"roles: {{{role}: <platform role>}}, or a platform role named '{role}'",
                hint=did_you_mean(role, roles),
                code="unmapped_role",
                at_key=True,
            )


def _themes(manifest: Manifest) -> list[str]:
    found = set()
    for base in (manifest.folder / "themes", RUNTIME_THEMES):
        if base.is_dir():
            found |= {p.name for p in base.iterdir() if p.is_dir()}
    return sorted(found)
