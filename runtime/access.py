"""Who may open which view and form, and which rows they see.

A user holds platform roles at org units (grants). A scenario maps its roles
to platform roles (``scenarios.yaml``). A role held at a unit applies to its
whole subtree. Rows a user sees in a view are the union of:

- records whose org unit lies in the subtree of a unit where the user holds a
  role the view admits;
- the user's own records;
- records assigned to the user or to one of the user's org units through a
  user or org field (e.g. the lead department of a suggestion);

further narrowed by the view's own ``where``. All of it becomes one SQL
condition (``Scope``): rows are never filtered in Python after fetching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.deployment import Deployment
from runtime.model import Entity, Form, Scenario, View


@dataclass(frozen=True)
class Viewer:
    id: int | None = None
    login: str = ""
    name: str = ""
    grants: tuple[tuple[str, str], ...] = ()  # (org unit id, platform role)

    @property
    def anonymous(self) -> bool:
        return self.id is None

    @property
    def org(self) -> str | None:
        """The primary org unit: where the first grant is held."""
        return self.grants[0][0] if self.grants else None

    @property
    def orgs(self) -> list[str]:
        return list(dict.fromkeys(unit for unit, _ in self.grants))

    def roles_at(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for unit, role in self.grants:
            out.setdefault(role, set()).add(unit)
        return out


ANONYMOUS = Viewer()


@dataclass(frozen=True)
class Scope:
    """Which rows of one entity a viewer may see, as data the store turns into SQL."""

    everything: bool = False
    org_paths: tuple[str, ...] = ()  # subtrees (materialised paths, '/zj/wz/')
    owner: int | None = None
    assigned: tuple[tuple[str, bool, Any], ...] = ()  # (field, is_list, value)
    nothing: bool = False

    @classmethod
    def none(cls) -> Scope:
        return cls(nothing=True)


@dataclass
class Access:
    deployment: Deployment
    _cache: dict[Any, Any] = field(default_factory=dict)

    def scenario_roles(self, viewer: Viewer, scenario: Scenario) -> dict[str, set[str]]:
        """Scenario role → org units where the viewer holds it."""
        held = viewer.roles_at()
        out: dict[str, set[str]] = {}
        for role, targets in scenario.role_map.items():
            units = (
                set().union(*(held.get(target, set()) for target in targets)) if targets else set()
            )
            if units:
                out[role] = units
        return out

    def _admitted(
        self, viewer: Viewer, scenario: Scenario, roles: Iterable[str] | None
    ) -> set[str]:
        held = self.scenario_roles(viewer, scenario)
        wanted = set(roles) if roles else set(scenario.roles)
        units: set[str] = set()
        for role in wanted & set(held):
            units |= held[role]
        return units

    def can_open_view(self, viewer: Viewer, view: View) -> bool:
        scenario = self.deployment.scenarios[view.scenario]
        if view.kind == "public":
            return True
        return bool(self._admitted(viewer, scenario, _ids(view.spec.get("roles"))))

    def can_use_form(self, viewer: Viewer, form: Form) -> bool:
        if form.spec.get("public"):
            return True
        scenario = self.deployment.scenarios[form.scenario]
        return bool(self._admitted(viewer, scenario, _ids(form.spec.get("roles"))))

    def form_org(self, viewer: Viewer, form: Form) -> str:
        """The org unit a record created through ``form`` belongs to."""
        return self.home_org(viewer, form.scenario, form.spec.get("roles"))

    def home_org(self, viewer: Viewer, scenario_id: str, roles: Any) -> str:
        """The unit where the viewer holds one of ``roles``: where their new records belong."""
        scenario = self.deployment.scenarios[scenario_id]
        units = self._admitted(viewer, scenario, _ids(roles))
        for unit in viewer.orgs:
            if unit in units:
                return unit
        if units:
            return sorted(units)[0]
        return next(iter(self.deployment.org))

    def scope(self, viewer: Viewer, entity: Entity, roles: Iterable[str] | None = None) -> Scope:
        """Rows of ``entity`` the viewer sees through a view admitting ``roles``."""
        if viewer.anonymous:
            return Scope.none()
        scenario = self.deployment.scenarios[entity.scenario]
        units = self._admitted(viewer, scenario, roles)
        if not units and not self.scenario_roles(viewer, scenario):
            return Scope.none()
        paths = _minimal(self.deployment.org_path(u) for u in units)
        if "/" + next(iter(self.deployment.org)) + "/" in paths:
            return Scope(everything=True)
        assigned: list[tuple[str, bool, Any]] = []
        for fid, f in entity.fields.items():
            if f.type == "user":
                assigned.append((fid, f.multiple, viewer.id))
            elif f.type == "org":
                assigned += [(fid, f.multiple, unit) for unit in viewer.orgs]
        return Scope(org_paths=tuple(paths), owner=viewer.id, assigned=tuple(assigned))

    def sees(self, viewer: Viewer, entity: Entity, record: Mapping[str, Any]) -> bool:
        """The same rule as ``scope`` for one record already in hand (record pages, files)."""
        scope = self.scope(viewer, entity)
        if scope.nothing:
            return False
        if scope.everything:
            return True
        path = str(record.get("org_path") or "")
        if any(path.startswith(p) for p in scope.org_paths):
            return True
        if scope.owner is not None and record.get("owner") == scope.owner:
            return True
        for fid, is_list, value in scope.assigned:
            held = record.get(fid)
            if (value in held) if is_list and isinstance(held, list) else held == value:
                return True
        return False


def _ids(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def _minimal(paths: Iterable[str]) -> list[str]:
    """Drop paths inside others: /zj/wz/ covers /zj/wz/lc/."""
    ordered = sorted(set(paths), key=len)
    kept: list[str] = []
    for p in ordered:
        if not any(p.startswith(k) for k in kept):
            kept.append(p)
    return kept
