"""Checks of workflows: states, transitions, actors, tasks, deadlines and the graph."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runtime.checks.base import ACTOR_WORDS, Context, as_list, as_map, as_str
from runtime.checks.entities import check_fields, field_type, names_of
from runtime.expr import types as T
from runtime.mistakes import Path, did_you_mean, one_of

PEOPLE_TYPES = {"user", "org"}


def actor_pool(ctx: Context, fields: Mapping[str, Any]) -> dict[str, str]:
    """Every name an actor list may use here → what it is."""
    pool = {word: "word" for word in ACTOR_WORDS}
    pool.update(
        {f: "field" for f, spec in fields.items() if as_map(spec).get("type") in PEOPLE_TYPES}
    )
    pool.update({r: "role" for r in ctx.roles})
    return pool


def check_actors(
    ctx: Context, path: Path, value: Any, fields: Mapping[str, Any], *, allow_system: bool = False
) -> None:
    pool = actor_pool(ctx, fields)
    if not allow_system:
        pool.pop("system", None)
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for i, actor in items:
        if not isinstance(actor, str):
            continue
        where = path if i is None else (*path, i)
        if actor in pool:
            continue
        if actor in fields:
            kind = as_map(fields[actor]).get("type")
            ctx.add(
                where,
                f"field '{actor}' is a {kind} field and cannot act",
                expected="a user or org field",
                code="actor_type",
            )
        elif actor == "system":
            ctx.add(
                where,
                "'system' acts only through timers and task rules",
                expected="a role, owner, handler, or a user/org field",
                code="actor_system",
            )
        else:
            ctx.add(
                where,
                f"unknown actor '{actor}'",
                expected="a role ("
                + ", ".join(ctx.roles)
                + "), owner, handler, or a user/org field",
                hint=did_you_mean(actor, pool),
                code="unknown_actor",
            )


def check_workflows(ctx: Context) -> None:
    owners: dict[str, str] = {}
    for wid, wf in ctx.section("workflows").items():
        wf = as_map(wf)
        path = ("workflows", wid)
        entity = as_str(wf.get("entity")) or wid
        if not ctx.known(
            (*path, "entity") if "entity" in wf else path,
            entity,
            ctx.entities,
            "entity",
            at_key="entity" not in wf,
        ) or not ctx.fields(entity):
            continue
        if entity in owners:
            ctx.add(
                path,
                f"entity '{entity}' already has workflow '{owners[entity]}'",
                expected="one workflow per entity",
                code="duplicate",
                at_key=True,
            )
        owners[entity] = wid
        _check_workflow(ctx, path, wf, entity)


def _check_workflow(ctx: Context, path: Path, wf: dict[str, Any], entity: str) -> None:
    fields = ctx.fields(entity)
    names = names_of(fields)
    states = as_map(wf.get("states"))
    transitions = as_map(wf.get("transitions"))
    initial = wf.get("initial")
    if isinstance(initial, str):
        ctx.known((*path, "initial"), initial, states, "state")
    for sid, state in states.items():
        _check_state(ctx, (*path, "states", sid), as_map(state), fields, names, transitions)
    for tid, tr in transitions.items():
        _check_transition(ctx, (*path, "transitions", tid), as_map(tr), fields, names, states)
    for nid, note in as_map(wf.get("notifications")).items():
        _check_notification(
            ctx, (*path, "notifications", nid), as_map(note), fields, states, transitions
        )
    if not _broken_edges(states, transitions):  # a misspelt state already said it all
        _check_graph(ctx, path, states, transitions, initial if isinstance(initial, str) else None)


def _broken_edges(states: dict[str, Any], transitions: dict[str, Any]) -> bool:
    for tr in transitions.values():
        tr = as_map(tr)
        ends = [tr.get("to")] + ([] if tr.get("from") == "*" else as_list(tr.get("from")))
        if any(not isinstance(end, str) or end not in states for end in ends):
            return True
    return False


def _check_transition(
    ctx: Context,
    path: Path,
    tr: dict[str, Any],
    fields: dict[str, Any],
    names: Mapping[str, T.Type],
    states: dict[str, Any],
) -> None:
    source = tr.get("from")
    if source != "*":
        ctx.known_each((*path, "from"), source, states, "state")
    ctx.known((*path, "to"), tr.get("to"), states, "state")
    by = tr.get("by")
    check_actors(ctx, (*path, "by"), by, fields, allow_system=True)
    if "system" in as_list(by) and len(as_list(by)) > 1:
        ctx.add(
            (*path, "by"),
            "'system' cannot be mixed with people",
            expected="'system' alone, or people",
            code="actor_system",
        )
    if "notify" in tr:
        check_actors(ctx, (*path, "notify"), tr["notify"], fields)
    ctx.expr((*path, "when"), tr.get("when"), names, what="guard")
    form = [f for f in as_list(tr.get("form")) if isinstance(f, str)]
    for i, f in enumerate(form):
        if not ctx.known((*path, "form", i), f, fields, "field"):
            continue
        if "compute" in as_map(fields[f]):
            ctx.add(
                (*path, "form", i),
                f"'{f}' is computed and cannot be asked for",
                expected="an editable field",
                code="computed_on_form",
            )
    for i, f in enumerate(as_list(tr.get("require"))):
        if isinstance(f, str) and f not in form:
            ctx.add(
                (*path, "require", i),
                f"'{f}' is required but not on the transition's form",
                expected=one_of(form) if form else "fields listed in form",
                code="require_form",
            )
    _check_sets(ctx, (*path, "set"), tr.get("set"), fields, names)


def _check_sets(
    ctx: Context, path: Path, sets: Any, fields: dict[str, Any], names: Mapping[str, T.Type]
) -> None:
    for key, source in as_map(sets).items():
        if ctx.known((*path, key), key, fields, "field", at_key=True):
            ctx.expr(
                (*path, key), source, names, expect=field_type(as_map(fields[key])), what="value"
            )


def _check_state(
    ctx: Context,
    path: Path,
    state: dict[str, Any],
    fields: dict[str, Any],
    names: Mapping[str, T.Type],
    transitions: dict[str, Any],
) -> None:
    _check_sets(ctx, (*path, "set"), state.get("set"), fields, names)
    if "deadline" in state:
        _check_deadline(ctx, (*path, "deadline"), as_map(state["deadline"]), fields, transitions)
    tasks = state.get("tasks")
    if not isinstance(tasks, dict):
        return
    tpath = (*path, "tasks")
    check_actors(ctx, (*tpath, "to"), tasks.get("to"), fields)
    to = [a for a in as_list(tasks.get("to")) if isinstance(a, str)]
    mode = tasks.get("mode", "parallel")
    lead = tasks.get("lead")
    if isinstance(lead, str) and lead not in to:
        ctx.add(
            (*tpath, "lead"),
            f"the lead '{lead}' is not among the task's 'to'",
            expected=one_of(to),
            hint=did_you_mean(lead, to),
            code="lead",
        )
    if tasks.get("complete") == "lead" and not lead:
        ctx.add(
            (*tpath, "complete"),
            "complete: lead needs a lead",
            expected="lead: <field>",
            code="lead",
        )
    if mode == "countersign":
        if "on_reject" not in tasks:
            ctx.add(
                tpath,
                "a countersign needs on_reject",
                expected="on_reject: <transition>",
                hint="the transition taken when an approver rejects",
                code="countersign",
            )
        if "lead" in tasks:
            ctx.add(
                (*tpath, "lead"),
                "a countersign has no lead",
                expected="mode: parallel",
                code="countersign",
                at_key=True,
            )
    elif "on_reject" in tasks:
        ctx.add(
            (*tpath, "on_reject"),
            "on_reject applies to countersign only",
            expected="mode: countersign",
            code="countersign",
            at_key=True,
        )
    for key in ("then", "on_reject"):
        if key in tasks:
            ctx.known((*tpath, key), tasks[key], transitions, "transition")
    if "then" not in tasks:
        ctx.add(
            tpath,
            "tasks need 'then': the transition taken when they are complete",
            expected="then: <transition>",
            code="tasks_then",
        )
    task_fields = as_map(tasks.get("fields"))
    check_fields(ctx, (*tpath, "fields"), task_fields, names_of(task_fields, system=False))
    if "deadline" in tasks:
        _check_deadline(ctx, (*tpath, "deadline"), as_map(tasks["deadline"]), fields, transitions)


def _check_deadline(
    ctx: Context,
    path: Path,
    deadline: dict[str, Any],
    fields: dict[str, Any],
    transitions: dict[str, Any],
) -> None:
    has_days, has_field = "days" in deadline, "field" in deadline
    if has_days and has_field:
        ctx.add(
            path,
            "a deadline has both days and field; keep one",
            expected="days: 15 or field: <date field>",
            code="deadline",
            at_key=True,
        )
    elif not has_days and not has_field:
        ctx.add(
            path,
            "a deadline needs days or field",
            expected="days: 15 or field: <date field>",
            code="deadline",
            at_key=True,
        )
    if has_field and ctx.known((*path, "field"), deadline["field"], fields, "field"):
        kind = as_map(fields[deadline["field"]]).get("type")
        if kind not in ("date", "datetime"):
            ctx.add(
                (*path, "field"),
                f"the deadline field is a {kind} field",
                expected="a date or datetime field",
                code="deadline",
            )
    if deadline.get("working") is True and has_field:
        ctx.add(
            (*path, "working"),
            "working days apply to 'days' only",
            expected="days: N",
            code="deadline",
            at_key=True,
        )
    remind = as_map(deadline.get("remind"))
    if "notify" in remind:
        check_actors(ctx, (*path, "remind", "notify"), remind["notify"], fields)
    overdue = as_map(deadline.get("overdue"))
    if "notify" in overdue:
        check_actors(ctx, (*path, "overdue", "notify"), overdue["notify"], fields)
    fire = overdue.get("fire")
    if isinstance(fire, str) and ctx.known(
        (*path, "overdue", "fire"), fire, transitions, "transition"
    ):
        if "system" not in as_list(as_map(transitions[fire]).get("by")):
            ctx.add(
                (*path, "overdue", "fire"),
                f"transition '{fire}' is not taken by the system",
                expected=f"transitions.{fire}.by: system",
                code="fire_system",
            )


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _check_notification(
    ctx: Context,
    path: Path,
    note: dict[str, Any],
    fields: dict[str, Any],
    states: dict[str, Any],
    transitions: dict[str, Any],
) -> None:
    event = note.get("on")
    if isinstance(event, str) and "." in event:
        kind, target = event.split(".", 1)
        pool = transitions if kind == "transition" else states
        if target not in pool:
            what = "transition" if kind == "transition" else "state"
            ctx.add(
                (*path, "on"),
                f"unknown {what} '{target}'",
                expected=one_of(pool),
                hint=did_you_mean(target, pool),
                code="unknown_ref",
            )
        elif kind in ("remind", "overdue") and "deadline" not in as_map(states[target]):
            ctx.add(
                (*path, "on"),
                f"state '{target}' has no deadline",
                expected="a state with a deadline",
                code="unknown_ref",
            )
    if "to" in note:
        check_actors(ctx, (*path, "to"), note["to"], fields)
    pool = [*fields, "id", "state", "title", "url"]
    for key in ("title", "body"):
        texts = note.get(key)
        for lang, lang_text in texts.items() if isinstance(texts, dict) else [(None, texts)]:
            where = (*path, key) if lang is None else (*path, key, lang)
            for match in _PLACEHOLDER.finditer(lang_text if isinstance(lang_text, str) else ""):
                name = match.group(1)
                if name not in pool:
                    ctx.add(
                        where,
                        f"unknown placeholder '{{{name}}}'",
                        expected=one_of(pool, 12, ordered=True),
                        hint=did_you_mean(name, pool),
                        code="placeholder",
                        offset=match.start(),
                    )


def _check_graph(
    ctx: Context,
    path: Path,
    states: dict[str, Any],
    transitions: dict[str, Any],
    initial: str | None,
) -> None:
    if not states:
        return
    start = initial if initial in states else next(iter(states))
    final = {s for s, st in states.items() if as_map(st).get("final") is True}
    edges: dict[str, set[str]] = {s: set() for s in states}
    for tr in transitions.values():
        tr = as_map(tr)
        to = tr.get("to")
        if not isinstance(to, str) or to not in states:
            continue
        source = tr.get("from")
        sources = [s for s in states if s not in final] if source == "*" else as_list(source)
        for s in sources:
            if isinstance(s, str) and s in edges:
                edges[s].add(to)
    reached, stack = {start}, [start]
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                stack.append(nxt)
    for sid in states:
        if sid not in reached:
            ctx.add(
                (*path, "states", sid),
                f"state '{sid}' cannot be reached from '{start}'",
                expected="a transition leading to it",
                hint="add a transition with to: " + sid,
                code="unreachable",
                at_key=True,
            )
        elif sid not in final and not edges[sid]:
            ctx.add(
                (*path, "states", sid),
                f"state '{sid}' is a dead end",
                expected="a transition out of it, or final: true",
                code="dead_end",
                at_key=True,
            )
    if not final:
        ctx.add(
            (*path, "states"),
            "no state is final",
            expected="final: true on the end state(s)",
            code="no_final",
            at_key=True,
        )
