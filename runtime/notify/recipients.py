"""Who a notice goes to: actors of the YAML (``to:``, ``notify:``) as user ids.

- a scenario role: the users holding it (through the scenario's role
  mapping) at the nearest org unit above the record that has any holder —
  a county's staff for the records of its townships and stations, the
  city's staff only where a county has none;
- ``owner``: the record's owner;
- ``handler``: who handles the record now (the engine's open tasks: users,
  and the users of assigned org units); for a task's own timer, its assignee;
- a user field: the users it names; an org field: the users of those units.

Only active accounts receive anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.model import Entity
from runtime.storage.sql import P, Sql


def _ids(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


def ancestors(org_path: str) -> list[str]:
    """'/zj/wz/lc/lc_wuma/' → ['lc_wuma', 'lc', 'wz', 'zj'] (nearest first)."""
    return [unit for unit in reversed(org_path.strip("/").split("/")) if unit]


def _in(pg: bool, column: str, values: Sequence[Any]) -> Sql:
    sql = Sql(pg, f"{column} IN (")
    return sql.join([Sql(pg, P(v)) for v in values], ", ").add(")")


async def role_holders(
    db: BaseDBAsyncClient, pg: bool, platform_roles: Sequence[str], org_path: str
) -> set[int]:
    """Holders of any of ``platform_roles`` at the nearest unit above ``org_path`` that has some."""
    units = ancestors(org_path)
    if not units or not platform_roles:
        return set()
    sql = Sql(pg, 'SELECT g."user_id", g."org_unit_id" FROM "yidi_grant" g ')
    sql.add('JOIN "yidi_user" u ON u."id" = g."user_id" AND u."active" WHERE ')
    sql.add(_in(pg, 'g."role"', list(platform_roles)), " AND ", _in(pg, 'g."org_unit_id"', units))
    by_unit: dict[str, set[int]] = {}
    for row in await db.execute_query_dict(*sql.render()):
        by_unit.setdefault(str(row["org_unit_id"]), set()).add(int(row["user_id"]))
    for unit in units:
        if unit in by_unit:
            return by_unit[unit]
    return set()


async def org_users(db: BaseDBAsyncClient, pg: bool, units: Iterable[str]) -> set[int]:
    """The active users holding any grant at these org units."""
    wanted = sorted({str(u) for u in units if u})
    if not wanted:
        return set()
    sql = Sql(pg, 'SELECT DISTINCT g."user_id" FROM "yidi_grant" g ')
    sql.add('JOIN "yidi_user" u ON u."id" = g."user_id" AND u."active" WHERE ')
    sql.add(_in(pg, 'g."org_unit_id"', wanted))
    return {int(r["user_id"]) for r in await db.execute_query_dict(*sql.render())}


async def active_users(db: BaseDBAsyncClient, pg: bool, ids: Iterable[int]) -> set[int]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return set()
    sql = Sql(pg, 'SELECT "id" FROM "yidi_user" WHERE "active" AND ').add(_in(pg, '"id"', wanted))
    return {int(r["id"]) for r in await db.execute_query_dict(*sql.render())}


def _task_value(task: Any, name: str) -> Any:
    return task.get(name) if isinstance(task, Mapping) else getattr(task, name, None)


async def handlers(
    app_state: Any, entity: Entity, record: Mapping[str, Any], task: Any = None
) -> tuple[set[int], set[str]]:
    """(user ids, org units) handling the record now, or the assignee of ``task``."""
    if task is not None:
        user, org = _task_value(task, "assignee_user"), _task_value(task, "assignee_org")
        return ({int(user)} if user is not None else set()), ({str(org)} if org else set())
    try:
        engine = importlib.import_module("runtime.engine.engine")
    except ModuleNotFoundError:
        engine = None
    found = getattr(engine, "handlers", None)
    if found is not None:
        users, orgs = await found(app_state, entity, int(record["id"]))
        return {int(u) for u in users}, {str(o) for o in orgs}
    # without the engine: whoever the current state's tasks would go to
    users, orgs = set(), set()
    wf = entity.workflow
    state = wf.states.get(str(record.get("state"))) if wf is not None else None
    tasks = (state or {}).get("tasks") if isinstance(state, Mapping) else None
    for fid in _ids((tasks or {}).get("to")):
        f = entity.fields.get(fid)
        if f is not None and f.type == "user":
            users.update(int(v) for v in _ids(record.get(fid)))
        elif f is not None and f.type == "org":
            orgs.update(str(v) for v in _ids(record.get(fid)))
    return users, orgs


async def resolve(
    app_state: Any,
    db: BaseDBAsyncClient,
    entity: Entity,
    record: Mapping[str, Any],
    actors: Iterable[str],
    *,
    task: Any = None,
) -> set[int]:
    """The user ids the actors name for this record."""
    pg = app_state.store.pg
    scenario = app_state.deployment.scenarios[entity.scenario]
    users: set[int] = set()
    units: set[str] = set()
    for actor in actors:
        if actor == "owner":
            users.update(int(v) for v in _ids(record.get("owner")))
        elif actor == "handler":
            found_users, found_units = await handlers(app_state, entity, record, task)
            users |= found_users
            units |= found_units
        elif actor in scenario.roles:
            targets = scenario.role_map.get(actor) or []
            users |= await role_holders(db, pg, targets, str(record.get("org_path") or ""))
        elif actor in entity.fields:
            f = entity.fields[actor]
            if f.type == "user":
                users.update(int(v) for v in _ids(record.get(actor)))
            elif f.type == "org":
                units.update(str(v) for v in _ids(record.get(actor)))
    users = await active_users(db, pg, users)
    return users | await org_users(db, pg, units)
