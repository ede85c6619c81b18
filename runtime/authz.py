"""The authorization decision point: Casbin RBAC with domains = org units.

Policies come from the YAML: which platform roles (through each scenario's
role mapping) may open which view, use which form, read, edit, export or
import which entity, and take which transition. Grants come from the
database: a user holds a platform role at an org unit. The domain of a
request is an org unit's path; a grant applies to its whole subtree (the
domain matching function is a path prefix test).

Measured on this stack (NOTES.md), ``enforce`` is linear in the number of
policy rules, so each viewer gets a small enforcer holding only the rules of
the roles they hold plus their own grants, built lazily and kept in an LRU;
decisions are memoised per (grants, domain, object, action). Which *rows* a
user sees is not decided here row by row: ``units`` gives the org units where
an action is allowed and the store turns them into one SQL condition.

Objects: ``<scenario>/view/<id>`` (open), ``<scenario>/form/<id>`` (use),
``<scenario>/entity/<id>`` (read, edit, export, import),
``<scenario>/transition/<entity>/<id>`` (take), ``<scenario>/dashboard/<id>`` (open),
``<scenario>/scoring/<rule>`` (manage: live scores, recompute, publish, corrections),
``platform/admin`` (manage).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from casbin import Enforcer
from casbin.model import Model

from runtime.deployment import Deployment
from runtime.model import Scenario
from runtime.viewer import Viewer

MODEL = """
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.obj == p.obj && r.act == p.act
"""

ENFORCERS = 2048  # viewers whose enforcer is kept
DECISIONS = 200_000  # memoised decisions before the memo is cleared


def view_object(scenario: str, view: str) -> str:
    return f"{scenario}/view/{view}"


def form_object(scenario: str, form: str) -> str:
    return f"{scenario}/form/{form}"


def entity_object(scenario: str, entity: str) -> str:
    return f"{scenario}/entity/{entity}"


def transition_object(scenario: str, entity: str, transition: str) -> str:
    return f"{scenario}/transition/{entity}/{transition}"


def dashboard_object(scenario: str, dashboard: str) -> str:
    return f"{scenario}/dashboard/{dashboard}"


def scoring_object(scenario: str, rule: str) -> str:
    return f"{scenario}/scoring/{rule}"


ADMIN = "platform/admin"


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def scenario_rules(scenario: Scenario) -> set[tuple[str, str, str]]:
    """(scenario role, object, action) rules of one scenario, from its YAML."""
    sid = scenario.id
    every = list(scenario.roles)
    rules: set[tuple[str, str, str]] = set()
    for view in scenario.views.values():
        if view.kind == "public":
            continue
        roles = _ids(view.spec.get("roles")) or every
        eid = view.entity.id
        for role in roles:
            rules.add((role, view_object(sid, view.id), "open"))
            rules.add((role, entity_object(sid, eid), "read"))
            if view.spec.get("export"):
                rules.add((role, entity_object(sid, eid), "export"))
            if view.spec.get("import"):
                rules.add((role, entity_object(sid, eid), "import"))
    for form in scenario.forms.values():
        if form.spec.get("public"):
            continue
        for role in _ids(form.spec.get("roles")) or every:
            rules.add((role, form_object(sid, form.id), "use"))
            rules.add((role, entity_object(sid, form.entity.id), "create"))
    for entity in scenario.entities.values():
        for role in _ids(entity.spec.get("edit_roles")):
            rules.add((role, entity_object(sid, entity.id), "edit"))
            rules.add((role, entity_object(sid, entity.id), "read"))
        if entity.workflow:
            for tid, tr in entity.workflow.transitions.items():
                for actor in tr.actors:
                    if actor in scenario.roles:
                        rules.add((actor, transition_object(sid, entity.id, tid), "take"))
                        rules.add((actor, entity_object(sid, entity.id), "read"))
    for did, dash in (scenario.data.get("dashboards") or {}).items():
        for role in _ids(dash.get("roles")) or every:
            rules.add((role, dashboard_object(sid, did), "open"))
    for rid, rule in (scenario.data.get("scoring") or {}).items():
        for role in _ids(rule.get("managers")):
            rules.add((role, scoring_object(sid, rid), "manage"))
    return rules


def policies(deployment: Deployment) -> dict[str, set[tuple[str, str]]]:
    """Platform role → {(object, action)}: the whole policy, generated from the YAML."""
    out: dict[str, set[tuple[str, str]]] = {}
    for scenario in deployment.scenarios.values():
        for role, obj, act in scenario_rules(scenario):
            for platform in scenario.role_map.get(role, []):
                out.setdefault(platform, set()).add((obj, act))
    for platform in admin_roles(deployment):
        out.setdefault(platform, set()).add((ADMIN, "manage"))
    return out


def admin_roles(deployment: Deployment) -> list[str]:
    return _ids(deployment.data.get("admin_roles") or ["admin"])


class Authz:
    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.policy = policies(deployment)
        self.model_text = MODEL
        self._enforcers: OrderedDict[tuple[Any, ...], Enforcer] = OrderedDict()
        self._memo: dict[tuple[Any, ...], bool] = {}

    def rule_count(self) -> int:
        return sum(len(v) for v in self.policy.values())

    def _key(self, viewer: Viewer) -> tuple[Any, ...]:
        return (viewer.id, viewer.grants)

    def enforcer(self, viewer: Viewer) -> Enforcer:
        """The viewer's enforcer: the rules of the roles they hold, and their grants."""
        key = self._key(viewer)
        found = self._enforcers.get(key)
        if found is not None:
            self._enforcers.move_to_end(key)
            return found
        model = Model()
        model.load_model_from_text(self.model_text)
        enforcer = Enforcer(model)
        enforcer.add_named_domain_matching_func("g", _within)
        roles = {role for _, role in viewer.grants}
        rules = [
            [role, obj, act]
            for role in sorted(roles)
            for obj, act in sorted(self.policy.get(role, ()))
        ]
        if rules:
            enforcer.add_policies(rules)
        subject = _subject(viewer)
        for unit, role in viewer.grants:
            enforcer.add_role_for_user_in_domain(subject, role, self.deployment.org_path(unit))
        self._enforcers[key] = enforcer
        if len(self._enforcers) > ENFORCERS:
            self._enforcers.popitem(last=False)
        return enforcer

    def allowed(self, viewer: Viewer, obj: str, act: str, org_path: str | None = None) -> bool:
        """May the viewer do ``act`` on ``obj`` — at ``org_path``, or anywhere they hold a role."""
        if viewer.anonymous:
            return False
        key = (*self._key(viewer), org_path, obj, act)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        enforcer = self.enforcer(viewer)
        subject = _subject(viewer)
        domains = [org_path] if org_path is not None else self._paths(viewer)
        answer = any(bool(enforcer.enforce(subject, d, obj, act)) for d in domains)
        if len(self._memo) > DECISIONS:
            self._memo.clear()
        self._memo[key] = answer
        return answer

    def units(self, viewer: Viewer, obj: str, act: str) -> list[str]:
        """The org units (ids) whose subtree the viewer may do ``act`` on ``obj`` in."""
        return [
            unit
            for unit, _ in dict.fromkeys(viewer.grants)
            if self.allowed(viewer, obj, act, self.deployment.org_path(unit))
        ]

    def _paths(self, viewer: Viewer) -> list[str]:
        return list(dict.fromkeys(self.deployment.org_path(unit) for unit, _ in viewer.grants))

    def forget(self, users: Iterable[int] | None = None) -> None:
        """Drop cached enforcers and decisions (after grants changed)."""
        self._enforcers.clear()
        self._memo.clear()


def _subject(viewer: Viewer) -> str:
    return f"user:{viewer.id}"


def _within(request_domain: str, grant_domain: str) -> bool:
    """A grant held at a unit covers its whole subtree: a path prefix test."""
    return request_domain.startswith(grant_domain)
