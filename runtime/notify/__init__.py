"""Notifications: workflow events become inbox messages and webhook posts.

``emit`` is what the engine calls (``runtime.engine.hooks``); the inbox pages
are in ``runtime.web.inbox``; the scheduler delivers the webhook outbox.
"""

from __future__ import annotations

from runtime.notify.messages import emit

__all__ = ["emit"]
