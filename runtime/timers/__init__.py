"""Deadlines and timers: working-day calendar, the timer table, the in-app scheduler.

The engine calls the hooks below (``runtime.engine.hooks``); the app's
lifespan runs ``scheduler.Scheduler``; tests call ``tick`` with a moved clock.
"""

from __future__ import annotations

from runtime.timers.scheduler import tick
from runtime.timers.timers import deadlines, on_enter, on_leave, on_task_close, on_task_open

__all__ = ["deadlines", "on_enter", "on_leave", "on_task_close", "on_task_open", "tick"]
