"""What the engine tells the timers and the notifications after a write has committed.

``runtime.timers`` (deadlines, reminders, escalation) and ``runtime.notify``
(inbox, webhook) subscribe to the engine's events through these calls. They
run after the record's transaction committed, so a failing channel never
undoes a transition; a failure is logged, never raised to the user.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Any

from runtime.model import Entity

log = logging.getLogger("yidi.engine")


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name in (name, name.rsplit(".", 1)[0]):
            return None  # the deployment runs without that part
        raise


async def _call(module: str, function: str, *args: Any, **kwargs: Any) -> Any:
    found = _module(module)
    target = getattr(found, function, None) if found is not None else None
    if target is None:
        return None
    try:
        return await target(*args, **kwargs)
    except Exception:
        log.exception("%s.%s failed", module, function)
        return None


async def emit(
    app_state: Any,
    entity: Entity,
    record: Mapping[str, Any],
    event: str,
    *,
    actor: int | None,
    comment: str = "",
) -> None:
    """A workflow event: ``created``, ``transition.<id>`` or ``enter.<state>``; ``comment`` is
    the transition's (its default message carries it, ``{comment}`` in a declared one)."""
    context = {"comment": comment} if comment else None
    await _call(
        "runtime.notify", "emit", app_state, entity, record, event, actor=actor, context=context
    )


async def on_enter(app_state: Any, entity: Entity, record: Mapping[str, Any], state: str) -> None:
    await _call("runtime.timers", "on_enter", app_state, entity, record, state)


async def on_leave(app_state: Any, entity: Entity, record_id: int) -> None:
    await _call("runtime.timers", "on_leave", app_state, entity, record_id)


async def on_task_open(
    app_state: Any, entity: Entity, record: Mapping[str, Any], task: Any
) -> None:
    await _call("runtime.timers", "on_task_open", app_state, entity, record, task)


async def on_task_close(app_state: Any, task_id: int) -> None:
    await _call("runtime.timers", "on_task_close", app_state, task_id)


async def deadlines(
    app_state: Any, entity: Entity, record_ids: list[int]
) -> dict[int, tuple[Any, bool]]:
    """record id → (due, overdue) for highlighting in lists and the to-do queue."""
    found = await _call("runtime.timers", "deadlines", app_state, entity, record_ids)
    return dict(found or {})
