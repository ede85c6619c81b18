"""Workflow transitions: who may take which transition, and taking it.

A transition is open to a viewer when the record is in one of its source
states, the viewer is one of its actors (a scenario role held over the
record's org unit, the record's owner, the current handler — an assignee of an
open task, by user or by org unit — or the user/org named by a field), and its
guard holds on the record as it would be after the transition's form.

These are the pure rules; ``runtime.engine`` reads and writes the database.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
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
    handlers: tuple[Collection[int], Collection[str]] | None = None,
) -> bool:
    """``handlers``: (user ids, org ids) of the open tasks' assignees, for the 'handler' actor."""
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
        if actor == "handler" and handlers is not None:
            users, orgs = handlers
            if viewer.id in users or any(unit in orgs for unit in viewer.orgs):
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
    values = {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}
    try:
        return bool(entity.compile(source).evaluate(values, ctx))
    except Exception:
        return False


def guard_reads_form(transition: Transition, entity: Entity) -> bool:
    """Does the guard read a field of the transition's form (so filling it may change it)?"""
    source = transition.spec.get("when")
    form = set(transition.spec.get("form") or [])
    return bool(source and form and set(entity.compile(source).names) & form)


def offered(
    transition: Transition, entity: Entity, record: Mapping[str, Any], ctx: Context
) -> bool:
    """Is the action shown? Its guard holds now, or it reads the form, which may make it hold."""
    return guard_reads_form(transition, entity) or guard_holds(transition, entity, record, ctx)


def open_to(
    access: Access,
    entity: Entity,
    viewer: Viewer,
    record: Mapping[str, Any],
    ctx: Context,
    handlers: tuple[Collection[int], Collection[str]] | None = None,
) -> list[Transition]:
    """Transitions the viewer may take now (a guard over form fields is checked on submit)."""
    if entity.workflow is None:
        return []
    out = []
    for tr in entity.workflow.transitions.values():
        if "system" in tr.actors or not in_source(entity, tr, record.get("state")):
            continue
        if not is_actor(access, entity, tr, viewer, record, handlers):
            continue
        if not offered(tr, entity, record, ctx):
            continue
        out.append(tr)
    return sorted(out, key=lambda tr: tr.spec.get("order", 100))


def effects(
    entity: Entity, transition: Transition, record: Mapping[str, Any], ctx: Context
) -> dict[str, Any]:
    """The fields a transition sets (``set``), evaluated on the record."""
    return sets(entity, transition.spec.get("set"), record, ctx)


def sets(
    entity: Entity, spec: Mapping[str, str] | None, record: Mapping[str, Any], ctx: Context
) -> dict[str, Any]:
    """``set:`` of a transition or a state: field id → the expression's value on the record."""
    values = {k: float(v) if isinstance(v, Decimal) else v for k, v in record.items()}
    out: dict[str, Any] = {}
    for fid, source in (spec or {}).items():
        f = entity.fields[fid]
        out[fid] = entity.compile(source, f.expr_type).evaluate(values, ctx)
        values[fid] = out[fid]
    return out
