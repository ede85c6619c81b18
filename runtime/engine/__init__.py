"""The workflow engine: transitions, tasks (主办/协办, 会签, delegation), the to-do queue.

    from runtime.engine import take, fire_system, handlers

``engine`` takes transitions atomically; ``tasks`` is the task table;
``taskwork`` replies, decides and delegates tasks and moves the record on when
the state's rule holds; ``todo`` answers "what awaits me"; ``hooks`` tells the
timers and the notifications what happened.
"""

from __future__ import annotations

from runtime.engine.engine import Result, fire_system, handlers, take
from runtime.engine.taskwork import decide, delegate, reply

__all__ = ["Result", "decide", "delegate", "fire_system", "handlers", "reply", "take"]
