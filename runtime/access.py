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
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from runtime.authz import ADMIN, Authz, entity_object, form_object, view_object
from runtime.deployment import Deployment
from runtime.expr import Context, Expr
from runtime.model import Entity, Form, Scenario, View
from runtime.viewer import ANONYMOUS, Viewer

__all__ = ["ANONYMOUS", "Access", "Scope", "Viewer"]


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


class Access:
    """Permission questions of the app, answered by the Casbin decision point (``Authz``)."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.authz = Authz(deployment)

    def scenario_roles(self, viewer: Viewer, scenario: Scenario) -> dict[str, set[str]]:
        """Scenario role → org units where the viewer holds it (for field rules and actors)."""
        held = viewer.roles_at()
        out: dict[str, set[str]] = {}
        for role, targets in scenario.role_map.items():
            units = (
                set().union(*(held.get(target, set()) for target in targets)) if targets else set()
            )
            if units:
                out[role] = units
        return out

    def can_open_view(self, viewer: Viewer, view: View) -> bool:
        if view.kind == "public":
            return True
        return self.authz.allowed(viewer, view_object(view.scenario, view.id), "open")

    def can_use_form(self, viewer: Viewer, form: Form) -> bool:
        if form.spec.get("public"):
            return True
        return self.authz.allowed(viewer, form_object(form.scenario, form.id), "use")

    def may(
        self, viewer: Viewer, entity: Entity, act: str, record: Mapping[str, Any] | None = None
    ) -> bool:
        """An entity-wide action (export, import, edit …), at the record's org unit when given."""
        path = str(record.get("org_path") or "") if record is not None else None
        return self.authz.allowed(viewer, entity_object(entity.scenario, entity.id), act, path)

    def form_org(self, viewer: Viewer, form: Form) -> str:
        """The org unit a record created through ``form`` belongs to."""
        return self.home_org(viewer, form_object(form.scenario, form.id), "use")

    def home_org(self, viewer: Viewer, obj: str, act: str) -> str:
        """The first unit where the viewer may do ``act`` on ``obj``: where their new records belong."""
        units = self.authz.units(viewer, obj, act)
        return units[0] if units else next(iter(self.deployment.org))

    def scope(
        self, viewer: Viewer, entity: Entity, obj: str | None = None, act: str = "read"
    ) -> Scope:
        """Rows of ``entity`` the viewer sees through ``obj`` (a view; default the entity itself)."""
        if viewer.anonymous:
            return Scope.none()
        scenario = self.deployment.scenarios[entity.scenario]
        units = self.authz.units(viewer, obj or entity_object(entity.scenario, entity.id), act)
        if not units and not self.scenario_roles(viewer, scenario):
            return Scope.none()
        paths = _minimal(self.deployment.org_path(u) for u in units)
        if "/" + next(iter(self.deployment.org)) + "/" in paths:
            return Scope(everything=True)
        return Scope(
            org_paths=tuple(paths),
            owner=viewer.id,
            assigned=self._assigned(viewer, entity, scenario),
        )

    def staff_scope(self, viewer: Viewer, entity: Entity) -> Scope:
        """Rows of ``entity`` in the subtrees where the viewer is its staff (holds a role that
        may edit it) or an admin: e.g. the records an upgrade left in a removed state."""
        if viewer.anonymous:
            return Scope.none()
        units = [
            *self.authz.units(viewer, ADMIN, "manage"),
            *self.authz.units(viewer, entity_object(entity.scenario, entity.id), "edit"),
        ]
        if not units:
            return Scope.none()
        paths = _minimal(self.deployment.org_path(u) for u in units)
        if "/" + next(iter(self.deployment.org)) + "/" in paths:
            return Scope(everything=True)
        return Scope(org_paths=tuple(paths))

    def _assigned(
        self, viewer: Viewer, entity: Entity, scenario: Scenario
    ) -> tuple[tuple[str, bool, Any], ...]:
        """The user and org fields that can name this viewer: a user field limited to a role
        counts only for holders of that role, an org field limited to a kind only for the
        viewer's units of that kind. Fewer clauses, same rows, a cheaper query."""
        held = set(self.scenario_roles(viewer, scenario))
        out: list[tuple[str, bool, Any]] = []
        for fid, f in entity.fields.items():
            if f.type == "user" and (not f.spec.get("role") or f.spec["role"] in held):
                out.append((fid, f.multiple, viewer.id))
            elif f.type == "org":
                kind = f.spec.get("kind")
                out += [
                    (fid, f.multiple, unit)
                    for unit in viewer.orgs
                    if not kind or getattr(self.deployment.org.get(unit), "kind", None) == kind
                ]
        return tuple(out)

    def sees(
        self, viewer: Viewer, entity: Entity, record: Mapping[str, Any], ctx: Context | None = None
    ) -> bool:
        """Whether a record in hand (record page, file, API) is visible to the viewer.

        It is when it is their own, or when some list or board they may open shows
        it: the record lies in that view's scope and satisfies its ``where`` —
        exactly the rows the view's SQL would return.
        """
        if viewer.anonymous:
            return False
        if record.get("owner") == viewer.id:
            return True
        ctx = ctx or Context(user_id=viewer.id, user_org=viewer.org)
        scenario = self.deployment.scenarios[entity.scenario]
        for view in scenario.views.values():
            if view.entity is not entity or view.kind not in ("list", "board"):
                continue
            if not self.can_open_view(viewer, view):
                continue
            if not in_scope(
                self.scope(viewer, entity, view_object(view.scenario, view.id), "open"), record
            ):
                continue
            if view.where is None or _holds(view.where, record, ctx):
                return True
        return False

    def field_rules(self, viewer: Viewer, entity: Entity) -> dict[str, str]:
        """Fields this viewer sees 'hidden' or 'masked' (per the fields' hidden_for / masked_for).

        A rule applies when every scenario role the viewer holds is listed in it:
        holding one role that may see the field is enough to see it. Owners
        always see their own records (callers skip the rules for them).
        """
        scenario = self.deployment.scenarios[entity.scenario]
        held = set(self.scenario_roles(viewer, scenario))
        rules: dict[str, str] = {}
        for fid, f in entity.fields.items():
            for key, effect in (("hidden_for", "hidden"), ("masked_for", "masked")):
                listed = set(_ids(f.spec.get(key)) or [])
                if listed and (viewer.anonymous or (held and held <= listed)):
                    rules.setdefault(fid, effect)
        return rules

    def first_view(self, viewer: Viewer, entity: Entity) -> View | None:
        """The first list view of ``entity`` the viewer may open (the API lists through it)."""
        scenario = self.deployment.scenarios[entity.scenario]
        for view in scenario.views.values():
            if view.entity is entity and view.kind == "list" and self.can_open_view(viewer, view):
                return view
        return None


def in_scope(scope: Scope, record: Mapping[str, Any]) -> bool:
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


def _holds(expr: Expr, record: Mapping[str, Any], ctx: Context) -> bool:
    values = {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}
    try:
        return bool(expr.evaluate(values, ctx))
    except Exception:  # a condition that cannot be evaluated shows nothing
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
