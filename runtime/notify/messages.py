"""Workflow events become messages: ``emit(app_state, entity, record, event, actor=…)``.

For an event (``created``, ``transition.<id>``, ``enter.<state>``,
``remind.<state>``, ``overdue.<state>``) the messages are:

1. every notification of the workflow's ``notifications:`` whose ``on`` is
   the event, to its ``to`` actors, through its ``channels``;
2. a default message to the transition's own ``notify:`` actors (for
   ``transition.<id>``), to the deadline's ``remind.notify`` actors (default
   ``handler``) or ``overdue.notify`` actors — skipping anyone a declared
   notification of the same event already reached. Default messages go to
   the inbox.

``{field}`` in a title or body inserts the field's display value (option
labels, names of users and org units), ``{comment}`` the comment given with
the transition (a default message adds it below its body); a field with a ``hidden_for`` or
``masked_for`` rule is left out or masked, whoever reads it. Nothing is
evaluated: an unknown ``{name}`` stays as written. The person who caused the
event gets no message about it. Text is stored as written and escaped where
it is shown.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from runtime.model import Entity, text
from runtime.notify.recipients import resolve
from runtime.storage.columns import encode
from runtime.storage.rowio import insert_rows
from runtime.storage.sql import P, Sql
from runtime.timers.timers import deadline_spec, entity_of, now_of
from runtime.web import display
from runtime.web.i18n import t

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
TITLE_MAX, BODY_MAX = 200, 4000
LOCALES = ("zh", "en")
MESSAGE_COLUMNS = (
    "user_id",
    "scenario",
    "entity",
    "record_id",
    "event",
    "title",
    "title_en",
    "body",
    "body_en",
    "actor",
    "source",
    "created_at",
)


@dataclass
class Notice:
    """One message to send: who, what (per locale) and where."""

    actors: list[str]
    title: dict[str, str]  # locale → template (declared) or text (default)
    body: dict[str, str]
    channels: list[str] = field(default_factory=lambda: ["inbox"])
    default: bool = False  # skip people a declared notice already reached


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(value)] if isinstance(value, str) else [str(v) for v in value]


def _both(value: Any) -> dict[str, str]:
    """A text spec (a string or {zh, en}) in both locales."""
    if value is None:
        return {loc: "" for loc in LOCALES}
    return {loc: text(value, loc) for loc in LOCALES}


def _clip(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


class Values:
    """The display values of one record's fields, for ``{field}`` placeholders."""

    def __init__(self, app_state: Any, entity: Entity, record: Mapping[str, Any]) -> None:
        self.app_state = app_state
        self.entity = entity
        self.record = record
        self.names: dict[str, dict[Any, str]] = {"user": {}, "org": {}}
        self.extra: dict[str, str] = {}  # ``{comment}``: the transition's comment

    async def load(self, db: BaseDBAsyncClient, pg: bool) -> Values:
        users: set[int] = set()
        orgs: set[str] = set()
        for fid, f in self.entity.fields.items():
            items = self.record.get(fid)
            items = items if isinstance(items, list) else [items]
            if f.type == "user":
                users.update(int(v) for v in items if isinstance(v, int))
            elif f.type == "org":
                orgs.update(str(v) for v in items if v)
        for name in ("owner", "created_by", "updated_by"):
            if isinstance(self.record.get(name), int):
                users.add(int(self.record[name]))
        if self.record.get("org"):
            orgs.add(str(self.record["org"]))
        if users:
            sql = Sql(pg, 'SELECT "id", "name" FROM "yidi_user" WHERE "id" IN (')
            sql.join([Sql(pg, P(u)) for u in sorted(users)], ", ").add(")")
            for row in await db.execute_query_dict(*sql.render()):
                self.names["user"][int(row["id"])] = str(row["name"])
        self.orgs = orgs
        return self

    def lookup(self, locale: str) -> Callable[[str], str | None]:
        org = self.app_state.deployment.org
        names = {
            "user": self.names["user"],
            "org": {u: text(org[u].label, locale) for u in self.orgs if u in org},
        }

        def value(name: str) -> str | None:
            f = self.entity.fields.get(name)
            if f is not None:
                if f.spec.get("hidden_for"):
                    return ""
                masked = bool(f.spec.get("masked_for"))
                return display.show(f, self.record.get(name), locale, names, masked=masked)
            if name == "state":
                return state_label(self.entity, self.record.get("state"), locale)
            if name in ("id", "owner", "org", "created_at", "updated_at", "receipt"):
                return display.system_text(name, self.record.get(name), locale, names)
            return self.extra.get(name)

        return value

    def title(self, locale: str) -> str:
        return self.lookup(locale)(self.entity.title_field) or f"#{self.record.get('id')}"


def render(template: str, value: Callable[[str], str | None]) -> str:
    """``{field}`` → its display value; anything else stays as written."""

    def swap(match: re.Match[str]) -> str:
        found = value(match.group(1))
        return match.group(0) if found is None else found

    return PLACEHOLDER.sub(swap, template)


def state_label(entity: Entity, state: Any, locale: str) -> str:
    wf = entity.workflow
    spec = wf.states.get(str(state)) if wf is not None and state else None
    if isinstance(spec, Mapping):
        return text(spec.get("label") or state, locale)
    return str(state or "")


def notices(
    entity: Entity, event: str, context: Mapping[str, Any], values: Values, who: dict[str, str]
) -> list[Notice]:
    """The declared notifications of ``event``, then its default message (if any)."""
    wf = entity.workflow
    if wf is None:
        return []
    out = [
        Notice(
            _as_list(n.get("to")),
            _both(n.get("title")),
            _both(n.get("body")),
            _as_list(n.get("channels")) or ["inbox"],
        )
        for n in (wf.spec.get("notifications") or {}).values()
        if isinstance(n, Mapping) and n.get("on") == event
    ]
    kind, _, target = event.partition(".")
    if kind == "transition" and target in wf.transitions:
        tr = wf.transitions[target]
        actors = _as_list(tr.spec.get("notify"))
        if actors:
            out.append(_transition_notice(entity, tr.spec, actors, context, values, who))
    elif kind in ("remind", "overdue"):
        spec = deadline_spec(entity, target, task=context.get("task_id") is not None) or {}
        part = spec.get(kind) or {}
        actors = _as_list(part.get("notify")) or (["handler"] if kind == "remind" else [])
        if actors:
            out.append(_deadline_notice(entity, kind, target, actors, context, values))
    return out


def _transition_notice(
    entity: Entity,
    spec: Mapping[str, Any],
    actors: list[str],
    context: Mapping[str, Any],
    values: Values,
    who: dict[str, str],
) -> Notice:
    title, body = {}, {}
    for loc in LOCALES:
        action = text(spec.get("label"), loc) or state_label(entity, spec.get("to"), loc)
        words = {
            "entity": text(entity.label, loc),
            "title": values.title(loc),
            "action": action,
            "state": state_label(entity, spec.get("to"), loc),
            "who": who.get(loc) or t("notify_system", loc),
        }
        title[loc] = t("notify_transition", loc, **words)
        body[loc] = t("notify_transition_body", loc, **words)
        comment = context.get("comment")
        if comment:
            body[loc] += "\n" + str(comment)
    return Notice(actors, title, body, default=True)


def _deadline_notice(
    entity: Entity,
    kind: str,
    state: str,
    actors: list[str],
    context: Mapping[str, Any],
    values: Values,
) -> Notice:
    due = context.get("due_at")
    day = display.local(due).date().isoformat() if isinstance(due, dt.datetime) else ""
    title, body = {}, {}
    for loc in LOCALES:
        words = {
            "entity": text(entity.label, loc),
            "title": values.title(loc),
            "state": state_label(entity, state, loc),
            "date": day,
            "days": context.get("before") if context.get("before") is not None else "",
        }
        title[loc] = t(f"notify_{kind}", loc, **words)
        body[loc] = t(f"notify_{kind}_body", loc, **words)
    return Notice(actors, title, body, default=True)


async def emit(
    app_state: Any,
    entity: Entity | str,
    record: Mapping[str, Any],
    event: str,
    *,
    actor: int | None,
    conn: BaseDBAsyncClient | None = None,
    context: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> int:
    """Send the messages of a workflow event; the number of inbox messages written.

    ``conn`` runs it inside the caller's transaction (the scheduler marks a
    timer fired in the same one); otherwise it gets its own. ``context`` may
    carry ``comment`` (a transition's), ``due_at``/``before``/``task`` (timers).
    """
    ent = entity_of(app_state, entity)
    if ent.workflow is None:
        return 0
    if conn is None:
        async with in_transaction(app_state.store.connection_name) as tx:
            return await _emit(app_state, ent, record, event, actor, tx, context or {}, source)
    return await _emit(app_state, ent, record, event, actor, conn, context or {}, source)


async def _emit(
    app_state: Any,
    entity: Entity,
    record: Mapping[str, Any],
    event: str,
    actor: int | None,
    db: BaseDBAsyncClient,
    context: Mapping[str, Any],
    source: str | None,
) -> int:
    pg = app_state.store.pg
    values = await Values(app_state, entity, record).load(db, pg)
    values.extra["comment"] = str(context.get("comment") or "")
    who = {loc: values.names["user"].get(actor, "") if actor else "" for loc in LOCALES}
    if actor and actor not in values.names["user"]:
        rows = await db.execute_query_dict(
            *Sql(pg, 'SELECT "name" FROM "yidi_user" WHERE "id" = ', P(actor)).render()
        )
        who = {loc: str(rows[0]["name"]) if rows else "" for loc in LOCALES}
    found = notices(entity, event, context, values, who)
    if not found:
        return 0
    now = now_of(app_state)
    reached: set[int] = set()
    written = 0
    for notice in found:
        users = await resolve(
            app_state, db, entity, record, notice.actors, task=context.get("task")
        )
        if actor is not None:
            users.discard(actor)
        if notice.default:
            users -= reached
        if not users:
            continue
        reached |= users
        title, body = _texts(notice, values)
        if "inbox" in notice.channels:
            written += await _to_inbox(
                db, pg, entity, record, event, users, title, body, actor, source, now
            )
        if "webhook" in notice.channels:
            from runtime.notify.webhook import enqueue

            await enqueue(app_state, db, entity, record, event, users, title, body, now, source)
    return written


def _texts(notice: Notice, values: Values) -> tuple[dict[str, str], dict[str, str]]:
    if notice.default:
        return notice.title, notice.body
    title = {
        loc: _clip(render(notice.title[loc], values.lookup(loc)), TITLE_MAX) for loc in LOCALES
    }
    body = {loc: _clip(render(notice.body[loc], values.lookup(loc)), BODY_MAX) for loc in LOCALES}
    return title, body


async def _to_inbox(
    db: BaseDBAsyncClient,
    pg: bool,
    entity: Entity,
    record: Mapping[str, Any],
    event: str,
    users: Iterable[int],
    title: dict[str, str],
    body: dict[str, str],
    actor: int | None,
    source: str | None,
    now: dt.datetime,
) -> int:
    moment = encode("datetime", now, pg)
    rows = [
        [
            int(user),
            entity.scenario,
            entity.id,
            record.get("id"),
            event,
            title["zh"],
            title["en"],
            body["zh"] or None,
            body["en"] or None,
            actor,
            source,
            moment,
        ]
        for user in sorted(users)
    ]
    await insert_rows(db, pg, "yidi_message", MESSAGE_COLUMNS, rows)
    return len(rows)


def new_delivery_id() -> str:
    return uuid.uuid4().hex


def dumps(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
