"""Demo data for ``make run``: the manifest's demo users and sample records.

Users come from ``demo.users`` in scenarios.yaml. Their password is generated
on first start into the data directory (``demo-password.txt``) and printed;
no password is kept in the repository. Each entity gets ``demo.records``
sample records with plausible values, owned by users who may use its forms.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from runtime.deployment import Deployment
from runtime.model import Entity, Field
from runtime.orgs import nearby_units

PHRASES = [
    "关于加快老旧小区加装电梯的建议",
    "关于优化城区公交线路的建议",
    "关于增加中小学课后服务的建议",
    "关于改善农贸市场环境卫生的建议",
    "关于加强河道水质治理的建议",
    "关于完善社区养老服务设施的建议",
    "关于缓解学校周边交通拥堵的建议",
    "关于推进垃圾分类的建议",
    "关于增设公共停车泊位的建议",
    "关于提升基层医疗服务能力的建议",
    "关于保障外来务工人员子女入学的建议",
    "关于加强食品安全监管的建议",
]
BODY = (
    "经走访调研，群众普遍反映该问题已持续较长时间，影响日常生活。建议有关部门尽快研究，"
    "制定切实可行的解决方案，明确责任单位和完成时限，并及时向群众公开进展。"
)


def demo_password(data_dir: Path) -> str:
    path = data_dir / "demo-password.txt"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text("Demo-" + secrets.token_urlsafe(9), "utf-8")
        path.chmod(0o600)
    return path.read_text("utf-8").strip()


async def seed_users(deployment: Deployment, data_dir: Path) -> str | None:
    """Create the demo users once; returns their password, or None without demo users."""
    from runtime.storage.platform import Grant, User
    from runtime.web.passwords import hash_password

    users = (deployment.data.get("demo") or {}).get("users") or {}
    if not users:
        return None
    password = demo_password(data_dir)
    hashed = hash_password(password)
    for login, spec in users.items():
        user = await User.get_or_none(login=login)
        if user is None:
            user = await User.create(
                login=login, name=spec["name"], password_hash=hashed, active=True
            )
        for unit, roles in (spec.get("roles") or {}).items():
            for role in [roles] if isinstance(roles, str) else roles:
                await Grant.get_or_create(user_id=user.id, org_unit_id=unit, role=role)
    return password


DAYS_BACK = 425  # demo records spread over the last 14 months (trends and quarters have shape)
DEADLINE_WORDS = ("due", "deadline")


def sample(
    f: Field,
    rnd: random.Random,
    people: dict[str, list[int]],
    deployment: Deployment,
    n: int,
    org: str | None = None,
) -> Any:
    kind = f.type
    examples = f.spec.get("examples")
    if kind in ("text", "longtext") and examples:
        return examples[n % len(examples)]
    if kind == "text":
        return (
            PHRASES[n % len(PHRASES)]
            if f.spec.get("similar") or f.spec.get("search")
            else f"示例{n}"
        )
    if kind == "longtext":
        return BODY
    if kind in ("choice", "multichoice"):
        values = [o["value"] if isinstance(o, dict) else o for o in f.spec.get("options") or []]
        return rnd.choice(values) if kind == "choice" else rnd.sample(values, k=min(2, len(values)))
    if kind == "number":
        return rnd.randint(1, 100)
    if kind == "money":
        return Decimal(rnd.randint(1000, 500000)) / 100
    if kind == "rating":
        return rnd.randint(1, int(f.spec.get("max") or 5))
    if kind == "date":
        if any(word in f.id for word in DEADLINE_WORDS):  # a deadline: mostly ahead
            return dt.date.today() + dt.timedelta(days=rnd.randint(-30, 90))
        return dt.date.today() - dt.timedelta(days=rnd.randint(0, DAYS_BACK))
    if kind == "datetime":
        return dt.datetime.now(dt.UTC) - dt.timedelta(hours=rnd.randint(0, DAYS_BACK * 24))
    if kind == "bool":
        return rnd.random() < 0.5
    if kind == "phone":
        return f"13{rnd.randint(100000000, 999999999)}"
    if kind == "org":
        units = nearby_units(deployment, org, f.spec.get("kind"))
        if not units:
            return None
        return rnd.sample(units, k=min(2, len(units))) if f.multiple else rnd.choice(units)
    if kind == "user":
        pool = people.get(str(f.spec.get("role")), []) or [
            i for ids in people.values() for i in ids
        ]
        if not pool:
            return None
        return rnd.sample(pool, k=min(2, len(pool))) if f.multiple else rnd.choice(pool)
    return None


async def seed_records(store: Any, deployment: Deployment, count: int) -> int:
    """``count`` sample records per entity that has none yet; returns how many were made."""
    from runtime.storage.platform import Grant

    rnd = random.Random(20261122)
    made = 0
    for scenario in deployment.scenarios.values():
        people: dict[str, list[int]] = {}
        for role, platform in scenario.role_map.items():
            people[role] = sorted(
                set(await Grant.filter(role__in=platform).values_list("user_id", flat=True))
            )
        for entity in scenario.entities.values():
            if (await store.count(entity, None, None, cap=1))[0]:
                continue
            made += await _records(store, deployment, scenario, entity, people, rnd, count)
    return made


async def _records(
    store: Any,
    deployment: Deployment,
    scenario: Any,
    entity: Entity,
    people: dict[str, list[int]],
    rnd: random.Random,
    count: int,
) -> int:
    from runtime.storage.platform import Grant

    form_roles = {
        r
        for f in scenario.forms.values()
        if f.entity is entity
        for r in (f.spec.get("roles") or [])
    }
    owners: list[tuple[int, str]] = []
    for role in form_roles or scenario.role_map:
        grants = await Grant.filter(role__in=scenario.role_map.get(role, [])).values_list(
            "user_id", "org_unit_id"
        )
        owners += [(int(u), str(o)) for u, o in grants]
    if not owners:
        return 0
    states = list(entity.workflow.states) if entity.workflow else [None]
    table = store.table(entity).name
    for n in range(count):
        owner, org = owners[n % len(owners)]
        values = {
            fid: sample(f, rnd, people, deployment, n, org)
            for fid, f in entity.fields.items()
            if f.editable
            and f.type not in ("file", "image", "audio", "video", "children", "ref", "location")
        }
        if "rating" in values and entity.workflow:
            # a rating, and what is asked with it, comes from the deputy later in the workflow
            for tr in entity.workflow.transitions.values():
                if "rating" in (tr.spec.get("form") or []):
                    values.update({fid: None for fid in tr.spec["form"]})
        for fid, f in entity.fields.items():  # 协办 units are others than the 主办 unit
            if f.multiple and isinstance(values.get(fid), list):
                taken = {
                    values.get(g)
                    for g, other in entity.fields.items()
                    if other.type == f.type and not other.multiple
                }
                values[fid] = [v for v in values[fid] if v not in taken] or None
        made = await store.create(
            entity,
            {k: v for k, v in values.items() if v is not None},
            actor=owner,
            org=org,
            state=states[n % len(states)],
            ip=None,
        )
        await _backdate(store, table, made["id"], rnd)
    return count


async def _backdate(store: Any, table: str, record_id: int, rnd: random.Random) -> None:
    """Place a demo record's creation within the last 14 months (scores by created_at and
    monthly trends then spread like real use)."""
    from runtime.storage.columns import encode

    moment = dt.datetime.now(dt.UTC) - dt.timedelta(
        days=rnd.randint(0, DAYS_BACK), seconds=rnd.randint(0, 86399)
    )
    value = encode("datetime", moment, store.pg)
    marks = ("$1", "$2", "$3") if store.pg else ("?", "?", "?")
    await store.db().execute_query(
        f'UPDATE "{table}" SET "created_at" = {marks[0]}, "updated_at" = {marks[1]} '
        f'WHERE "id" = {marks[2]}',
        [value, value, int(record_id)],
    )
