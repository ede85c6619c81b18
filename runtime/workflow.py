"""Workflow transitions: who may take which transition, and taking it.

A transition is open to a viewer when the record is in one of its source
states, the viewer is one of its actors (a scenario role held over the
record's org unit, the record's owner, or the user/org named by a field), and
its guard holds on the record as it would be after the transition's form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.access import Access, Viewer
from runtime.authz import transition_object
from runtime.expr import Context
from runtime.model import Entity, Transition


def in_source(entity: Entity, transition: Transition, state: str | None) -> bool:
    sources = transition.sources
    wf = entity.workflow
    if sources is None:
        return wf is not None and state is not None and not wf.final(state)
    return state in sources


def is_actor(
    access: Access,
    entity: Entity,
    transition: Transition,
    viewer: Viewer,
    record: Mapping[str, Any],
) -> bool:
    if viewer.anonymous:
        return False
    scenario = access.deployment.scenarios[entity.scenario]
    path = str(record.get("org_path") or "")
    obj = transition_object(entity.scenario, entity.id, transition.id)
    for actor in transition.actors:
        if actor == "system":
            continue
        if actor == "owner" and record.get("owner") == viewer.id:
            return True
        if actor in scenario.roles and access.authz.allowed(viewer, obj, "take", path or None):
            return True
        f = entity.fields.get(actor)
        if f is not None and f.type in ("user", "org"):
            value = record.get(actor)
            items = value if isinstance(value, list) else [value]
            mine = [viewer.id] if f.type == "user" else viewer.orgs
            if any(v in items for v in mine if v is not None):
                return True
    return False


def guard_holds(
    transition: Transition, entity: Entity, record: Mapping[str, Any], ctx: Context
) -> bool:
    source = transition.spec.get("when")
    if not source:
        return True
    try:
        return bool(entity.compile(source).evaluate(record, ctx))
    except Exception:
        return False


def open_to(
    access: Access, entity: Entity, viewer: Viewer, record: Mapping[str, Any], ctx: Context
) -> list[Transition]:
    """Transitions the viewer may take now (guards of transitions with a form are checked on submit)."""
    if entity.workflow is None:
        return []
    out = []
    for tr in entity.workflow.transitions.values():
        if "system" in tr.actors or not in_source(entity, tr, record.get("state")):
            continue
        if not is_actor(access, entity, tr, viewer, record):
            continue
        if not tr.spec.get("form") and not guard_holds(tr, entity, record, ctx):
            continue
        out.append(tr)
    return sorted(out, key=lambda tr: tr.spec.get("order", 100))


def effects(
    entity: Entity, transition: Transition, record: Mapping[str, Any], ctx: Context
) -> dict[str, Any]:
    """The fields a transition sets (``set``), evaluated on the record."""
    out: dict[str, Any] = {}
    for fid, source in (transition.spec.get("set") or {}).items():
        f = entity.fields[fid]
        out[fid] = entity.compile(source, f.expr_type).evaluate(record, ctx)
    return out
