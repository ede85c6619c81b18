"""``yidi catalog upgrade ID[@RANGE]``: take a new version without losing the overlay.

Before anything changes it (1) fetches and verifies the new version, (2) shows
what changes (roles, fields, states, transitions), (3) checks that every id the
overlay addresses still exists, naming each conflict at the overlay's line
("overlay relabels field `x`, removed in 2.0.0"), (4) checks the whole
deployment as it would run (new version + overlay), and (5) with a database,
lists the records left in states the new version removes and shows the schema
plan that ``yidi migrate`` / ``yidi migrate --apply`` will carry out, with the
data migrations the new version declares for the installed one. Any
conflict or mistake refuses the upgrade and leaves every file as it was.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.catalog import CatalogError
from runtime.catalog.diff import Change, diff, removed_states
from runtime.catalog.install import open_for, place, read_manifest
from runtime.catalog.lock import record
from runtime.catalog.overlay import has_path, overlay_sources, touches
from runtime.checker import check_paths
from runtime.manifest import Manifest
from runtime.mistakes import Mistake
from runtime.package import load_package
from runtime.semver import Version
from runtime.storage.migrations import declared, moves


@dataclass
class UpgradePlan:
    sid: str
    old: str
    new: str
    changes: list[Change] = field(default_factory=list)
    conflicts: list[Mistake] = field(default_factory=list)  # the overlay vs the new version
    mistakes: list[Mistake] = field(default_factory=list)  # the deployment after the upgrade
    notes: list[str] = field(default_factory=list)
    stranded: list[dict[str, Any]] = field(default_factory=list)  # records in removed states
    migrations: list[str] = field(default_factory=list)  # declared data steps, in words
    schema_plan: str = ""
    applied: bool = False

    @property
    def refused(self) -> bool:
        return bool(self.conflicts or self.mistakes)


class UpgradeRefused(CatalogError):
    def __init__(self, plan: UpgradePlan) -> None:
        self.plan = plan
        super().__init__(
            f"upgrade of {plan.sid} {plan.old} → {plan.new} refused; nothing was changed"
        )


def _conflicts(
    manifest: Manifest,
    sid: str,
    old: dict[str, Any],
    new: dict[str, Any],
    version: str,
    plan: UpgradePlan,
) -> None:
    sources, mistakes = overlay_sources(manifest, sid)
    plan.mistakes.extend(mistakes)
    for source in sources:
        for touch in touches(source, old):
            if touch.existed and not has_path(new, touch.path):
                plan.conflicts.append(
                    touch.mistake(
                        f"overlay {touch.verb} {touch.kind} `{touch.id}`, removed in {version}",
                        hint="change or remove that part of the overlay, then upgrade again",
                        code="overlay_conflict",
                    )
                )
            elif not touch.existed and has_path(new, touch.path):
                mark = source.doc.key_mark((*source.root, *touch.path))
                plan.notes.append(
                    f"{mark.file}:{mark.line}: the overlay adds {touch.kind} `{touch.id}`, "
                    f"which {version} now defines too; the overlay's values win"
                )


async def _inspect_data(
    manifest_path: Path,
    sid: str,
    plan: UpgradePlan,
    adjust: Any,
    old_data: dict[str, Any],
    new_data: dict[str, Any],
    url: str,
    data_dir: Path,
) -> None:
    """Records stranded in removed states (read with the current deployment) and the
    schema plan of the new one (a dry run: nothing is changed)."""
    from runtime.deployment import load_deployment
    from runtime.storage import open_store
    from runtime.storage.stranded import stranded_rows

    current = load_deployment(manifest_path)
    gone = removed_states(old_data, new_data)
    async with open_store(current, url, data_dir, start=False) as store:
        scenario = current.scenarios.get(sid)
        for entity_id, states in gone.items():
            entity = scenario.entities.get(entity_id) if scenario else None
            if entity is None or entity.key not in store.tables:
                continue
            table = store.table(entity)
            try:
                rows = await stranded_rows(
                    store.db(),
                    store.pg,
                    table,
                    states,
                    removed=True,
                    title=entity.spec.get("title_field"),
                )
            except Exception:  # the table does not exist yet: nothing stranded
                rows = []
            moved = moves(new_data, plan.old)
            for row in rows:
                to = moved.get((entity_id, str(row["state"])))
                plan.stranded.append({"entity": entity_id, **row, "moved_to": to})
    upgraded = _deployment(manifest_path, adjust)
    async with open_store(upgraded, url, data_dir, start=False) as store:
        schema_plan, _ = await store.migrate(apply=False)
    plan.schema_plan = str(schema_plan)


def _deployment(manifest_path: Path, adjust: Any) -> Any:
    from runtime.deployment import Deployment
    from runtime.model import build_scenario

    result = check_paths([manifest_path], adjust=adjust)
    manifest = result.manifests[0]
    deployment = Deployment(manifest)
    deployment.org = {unit.id: unit for unit in manifest.org_units()}
    platform = set(deployment.platform_roles)
    for sid, entry in (manifest.data.get("scenarios") or {}).items():
        if entry.get("enabled") is not False:
            deployment.scenarios[sid] = build_scenario(
                result.packages[sid].data, entry.get("roles") or {}, platform
            )
    return deployment


def upgrade(
    manifest_path: Path,
    spec: str,
    *,
    dry_run: bool = False,
    database_url: str | None = None,
    data_dir: Path | None = None,
) -> UpgradePlan:
    manifest = read_manifest(manifest_path)
    sid, _, wanted = spec.partition("@")
    entry = (manifest.data.get("scenarios") or {}).get(sid)
    if not isinstance(entry, dict):
        raise CatalogError(f"scenarios.yaml has no scenario '{sid}'")
    if not entry.get("catalog"):
        raise CatalogError(
            f"{sid} is a local package ({entry.get('path')}), not installed from a catalog"
        )
    old_folder = manifest.scenario_folder(sid)
    old_package, _ = load_package(old_folder) if old_folder else (None, [])
    if old_package is None:
        raise CatalogError(
            f"{sid} {entry.get('version')} is not installed; run yidi catalog add first"
        )
    opened = open_for(manifest, str(entry["catalog"]))
    release = opened.catalog.choose(sid, wanted or "*")
    plan = UpgradePlan(sid, old_package.version, release.version)
    installed = Version.parse(old_package.version)
    if installed is not None and release.semver.key() <= installed.key():
        plan.notes.append(f"{sid} is already at {old_package.version}; nothing to upgrade")
        return plan
    archive = opened.catalog.archive(release)
    folder, created = place(manifest, release, archive)

    def adjust(m: Manifest) -> None:
        m.data["scenarios"][sid]["version"] = release.version
        m.data["scenarios"][sid]["checksum"] = release.checksum

    try:
        new_package, _ = load_package(folder)
        assert new_package is not None
        plan.changes = diff(old_package.data, new_package.data)
        plan.migrations = declared(new_package.data, old_package.version)
        _conflicts(manifest, sid, old_package.data, new_package.data, release.version, plan)
        if not plan.conflicts:
            result = check_paths([manifest_path], adjust=adjust)
            plan.mistakes.extend(result.mistakes)
        if plan.refused:
            raise UpgradeRefused(plan)
        if database_url:
            asyncio.run(
                _inspect_data(
                    manifest_path,
                    sid,
                    plan,
                    adjust,
                    old_package.data,
                    new_package.data,
                    database_url,
                    data_dir or manifest.folder / "data",
                )
            )
        if not dry_run:
            record(
                manifest_path,
                sid,
                catalog=opened.name,
                url=opened.url,
                key=opened.key,
                version=release.version,
                checksum=release.checksum,
            )
            plan.applied = True
    finally:
        if created and not plan.applied:
            shutil.rmtree(folder, ignore_errors=True)
            if folder.parent.is_dir() and not any(folder.parent.iterdir()):
                folder.parent.rmdir()
    return plan
