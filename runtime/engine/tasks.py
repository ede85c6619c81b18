"""The task table: one row per piece of work a state hands out (主办/协办, 会签).

A state with ``tasks:`` opens, on each entry, one task per assignee named by
its ``to`` (a user, an org unit, or the holders of a role over the record's
org unit). ``round`` numbers the entries of that state, so a reopened
suggestion's new tasks are counted apart from the old ones. A task is
``open`` until it is replied to (``done``), decided (``approved`` /
``rejected``), handed to a colleague (``delegated``, with ``delegated_to``
naming the new task) or dropped when the record leaves the state
(``cancelled``).

The to-do queue reads open tasks by their assignee columns: the composite
indexes ``(assignee_user, status, id)`` and ``(assignee_org, status, id)``
serve it with keyset paging, whatever the number of tasks.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import tortoise.fields as tf
from tortoise.models import Model

from runtime.storage.columns import IsoDatetimeField, JsonTextField

OPEN = "open"
CLOSED = ("done", "approved", "rejected", "delegated", "cancelled")


class Task(Model):
    id = tf.BigIntField(primary_key=True)
    scenario = tf.CharField(max_length=64)
    entity = tf.CharField(max_length=64)
    record_id = tf.BigIntField()
    state = tf.CharField(max_length=64)
    round = tf.IntField(default=1)
    mode = tf.CharField(max_length=16)  # parallel | countersign
    assignee_user = tf.BigIntField(null=True)
    assignee_org = tf.CharField(max_length=64, null=True)
    department = tf.CharField(max_length=64, null=True)  # the org unit it was given to
    is_lead = tf.BooleanField(default=False)
    status = tf.CharField(max_length=16, default=OPEN)
    data = JsonTextField(null=True)  # the values of the task's own fields (answer, …)
    comment = tf.TextField(null=True)
    due_at = IsoDatetimeField(null=True)
    created_at = IsoDatetimeField()
    done_at = IsoDatetimeField(null=True)
    done_by = tf.BigIntField(null=True)
    delegated_from = tf.BigIntField(null=True)
    delegated_to = tf.BigIntField(null=True)

    class Meta:
        table = "yidi_task"
        indexes = (
            ("assignee_user", "status", "id"),
            ("assignee_org", "status", "id"),
            ("scenario", "entity", "record_id"),
        )

    def entity_key(self) -> str:
        return f"{self.scenario}.{self.entity}"

    def belongs_to(self, user_id: int | None, orgs: list[str]) -> bool:
        """Is it assigned to this user, or to one of their org units?"""
        if user_id is not None and self.assignee_user == user_id:
            return True
        return self.assignee_org is not None and self.assignee_org in orgs

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (
            "id",
            "scenario",
            "entity",
            "record_id",
            "state",
            "round",
            "mode",
            "assignee_user",
            "assignee_org",
            "department",
            "is_lead",
            "status",
            "data",
            "comment",
            "due_at",
            "created_at",
            "done_at",
            "done_by",
            "delegated_from",
            "delegated_to",
        ):
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


async def of_record(scenario: str, entity: str, record_id: int) -> list[Task]:
    """Every task of a record, oldest first."""
    return await Task.filter(scenario=scenario, entity=entity, record_id=record_id).order_by("id")


async def current_round(scenario: str, entity: str, record_id: int, state: str) -> list[Task]:
    """The tasks of the latest entry of ``state`` (delegated ones replaced by their successors)."""
    rows = await Task.filter(
        scenario=scenario, entity=entity, record_id=record_id, state=state
    ).order_by("id")
    if not rows:
        return []
    latest = max(t.round for t in rows)
    return [t for t in rows if t.round == latest and t.status not in ("delegated", "cancelled")]


__models__ = [Task]
