"""The live org tree: the manifest's units plus the units admins added in the database.

``yidi_org_unit`` is the live tree. At start-up the store upserts the units
of ``scenarios.yaml`` into it; ``load_org`` then rebuilds ``deployment.org``
from the manifest units (read-only, they win on a clash) and the database
units (added on ``/admin/orgs``), each with its ``path``, so
``deployment.org_path(unit)`` knows a new unit at once. It runs at start-up
and after every edit of the tree.

A database unit is switched off by ``"active": false`` inside its label JSON
(the table has no column of its own for it): it stays in the tree, so the
records and grants held there keep their org path, but it takes no new
children and no new grants. The manifest's units are always active.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from runtime.deployment import Deployment
from runtime.manifest import KIND_RANK, OrgUnit
from runtime.model import text

KINDS = ("province", "city", "county", "township", "station", "point", "department")
UNIT_ID = re.compile(r"^[a-z][a-z0-9_]{0,47}$")  # the manifest schema's ids


@dataclass
class LiveUnit(OrgUnit):
    """An org unit with where it comes from (``manifest`` or ``database``)."""

    source: str = "manifest"

    @property
    def active(self) -> bool:
        return not (isinstance(self.label, Mapping) and self.label.get("active") is False)

    @property
    def declared(self) -> bool:
        return self.source == "manifest"


def label_of(zh: str, en: str, active: bool = True) -> dict[str, Any]:
    """The label JSON of a database unit."""
    label: dict[str, Any] = {"zh": zh}
    if en:
        label["en"] = en
    if not active:
        label["active"] = False
    return label


async def load_org(deployment: Deployment) -> dict[str, OrgUnit]:
    """(Re)build ``deployment.org``: manifest units, then the database's units below them."""
    from runtime.storage.platform import OrgUnit as OrgRow

    org: dict[str, OrgUnit] = {}
    for unit in deployment.manifest.org_units():
        org[unit.id] = LiveUnit(
            unit.id, unit.label, unit.kind, unit.parent, unit.path, unit.theme, "manifest"
        )
    rows = await OrgRow.all().values("id", "parent_id", "kind", "label", "path")
    pending = {str(r["id"]): r for r in rows if str(r["id"]) not in org}
    # parents before children: keep placing the rows whose parent is known
    while pending:
        placed = [
            uid for uid, r in pending.items() if r["parent_id"] and str(r["parent_id"]) in org
        ]
        if not placed:
            break
        for uid in sorted(placed):
            r = pending.pop(uid)
            parent = org[str(r["parent_id"])]
            org[uid] = LiveUnit(
                uid, r["label"], str(r["kind"]), parent.id, (*parent.path, uid), None, "database"
            )
    # orphans (their parent left the manifest) keep their stored path, so the grants
    # and records held there never fall back to the whole tree
    for uid, r in sorted(pending.items()):
        trail = tuple(p for p in str(r["path"] or "").split("/") if p) or (uid,)
        org[uid] = LiveUnit(
            uid,
            r["label"],
            str(r["kind"]),
            str(r["parent_id"]) if r["parent_id"] else None,
            trail,
            None,
            "database",
        )
    deployment.org = org
    return org


def ordered(deployment: Deployment) -> list[tuple[OrgUnit, int]]:
    """Every unit with its depth, depth first (children sorted: levels, then departments)."""
    children: dict[str | None, list[OrgUnit]] = {}
    for unit in deployment.org.values():
        parent = unit.parent if unit.parent in deployment.org else None
        children.setdefault(parent, []).append(unit)

    def order(unit: OrgUnit) -> tuple[int, int, str]:
        source = 0 if getattr(unit, "source", "manifest") == "manifest" else 1
        return (KIND_RANK.get(unit.kind, 9), source, unit.id)

    out: list[tuple[OrgUnit, int]] = []

    def walk(parent: str | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=order):
            out.append((unit, depth))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return out


def level_of(deployment: Deployment, unit_id: str | None) -> int | None:
    """The rank of the nearest unit at or above ``unit_id`` that has a level (not a department)."""
    current = deployment.org.get(unit_id) if unit_id else None
    while current is not None:
        if current.kind in KIND_RANK:
            return KIND_RANK[current.kind]
        current = deployment.org.get(current.parent) if current.parent else None
    return None


def kinds_below(deployment: Deployment, parent: str) -> list[str]:
    """The kinds a new unit under ``parent`` may have: a lower level, or a department."""
    rank = level_of(deployment, parent)
    lower = [k for k, r in KIND_RANK.items() if rank is None or r > rank]
    return [*lower, "department"]


def is_active(unit: OrgUnit | None) -> bool:
    return unit is not None and bool(getattr(unit, "active", True))


def within(deployment: Deployment, unit_id: str, scopes: Iterable[str]) -> bool:
    """Whether ``unit_id`` lies in the subtree of one of the ``scopes`` (org unit ids)."""
    if unit_id not in deployment.org:
        return False
    path = deployment.org_path(unit_id)
    return any(path.startswith(deployment.org_path(s)) for s in scopes if s in deployment.org)


def unit_name(deployment: Deployment, unit_id: str, locale: str = "zh") -> str:
    unit = deployment.org.get(unit_id)
    return text(unit.label, locale) if unit is not None else unit_id


def find_unit(deployment: Deployment, value: str) -> tuple[str | None, int]:
    """A unit by id, or by its Chinese or English label: (id, how many matched)."""
    value = value.strip()
    if value in deployment.org:
        return value, 1
    folded = value.casefold()
    found = [
        u.id
        for u in deployment.org.values()
        if folded
        and folded in {text(u.label, "zh").strip().casefold(), text(u.label, "en").casefold()}
    ]
    return (found[0] if len(found) == 1 else None), len(found)


def nearby_units(deployment: Deployment, org: str | None, kind: str | None) -> list[str]:
    """Units of ``kind`` at the record's own level: those under the nearest unit above
    ``org`` that has any as its direct children (a Lucheng record gets Lucheng's
    departments); any unit of the kind when none is found."""
    current = deployment.org.get(org) if org else None
    while current is not None:
        found = [
            u.id
            for u in deployment.org.values()
            if u.parent == current.id and (not kind or u.kind == kind)
        ]
        if found:
            return found
        current = deployment.org.get(current.parent) if current.parent else None
    return [u.id for u in deployment.org.values() if not kind or u.kind == kind]
