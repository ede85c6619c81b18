"""Taking a workflow transition from a page (the full engine grows in runtime/workflow.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from runtime import workflow
from runtime.access import Viewer
from runtime.expr import Context
from runtime.model import Entity
from runtime.web.guard import client_ip


async def take_if_allowed(
    request: Request, entity: Entity, record: dict[str, Any], tid: str, viewer: Viewer, ctx: Context
) -> dict[str, Any] | None:
    """Take transition ``tid`` when the viewer may and its guard holds; the updated record or None."""
    assert entity.workflow is not None
    tr = entity.workflow.transitions[tid]
    access = request.app.state.access
    if not workflow.in_source(entity, tr, record.get("state")):
        return None
    if not workflow.is_actor(access, entity, tr, viewer, record):
        return None
    if not workflow.guard_holds(tr, entity, record, ctx):
        return None
    values = workflow.effects(entity, tr, record, ctx)
    values["state"] = tr.to
    store = request.app.state.store
    updated: dict[str, Any] = await store.update(
        entity,
        record["id"],
        values,
        actor=viewer.id,
        expected_version=record["row_version"],
        ip=client_ip(request),
        action="transition",
        note=tid,
    )
    return updated
