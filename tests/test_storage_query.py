"""Lists against a plain-Python computation over the same rows, on SQLite and PostgreSQL.

Filters, search, subtree, sort and keyset paging both ways; compiled
``View.where`` conditions and a battery of expressions over every field type
(the SQL storage contract of the expression language); bounded counts;
streaming in batches.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runtime.deployment import load_deployment
from runtime.expr import Context
from runtime.storage import ListQuery, Record, Store
from tests.test_storage_support import (
    ALL_FIELDS,
    DATABASES,
    QueryCounter,
    database_url,
    demo,
    with_store,
    write_package,
)

SUGGESTION = "suggestions.suggestion"
ITEM = "gen.item"
WORDS = [
    "Road",
    "road",
    "ROAD repair",
    "学校",
    "学校 School",
    "医院",
    "bus 公交",
    "Bus",
    "灯",
    "Park",
]
DEPARTMENTS = ["lc_jyj", "lc_jtj", "lc_wjj", "ra_jyj"]
UNITS = ["lc", "lc_wuma_st", "lc_nanhui_pt1", "ra", "ra_anyang_st", "wz"]
STATES = ["draft", "review", "handling", "supervision", "replied", "closed"]


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, tmp_path)


def python_order(rows: list[Record], sort: list[tuple[str, bool]]) -> list[int]:
    """Null is larger than every value; ties go by id in the last key's direction."""

    def compare(a: Record, b: Record) -> int:
        for name, desc in sort:
            x, y = a[name], b[name]
            if x == y:
                continue
            c = 1 if x is None else -1 if y is None else (-1 if x < y else 1)
            return -c if desc else c
        c = -1 if a.id < b.id else 1
        return -c if sort[-1][1] else c

    return [r.id for r in sorted(rows, key=functools.cmp_to_key(compare))]


async def all_pages(store: Store, entity: str, query: ListQuery, ctx: Context) -> list[list[int]]:
    pages: list[list[int]] = []
    page = await store.list(entity, query, ctx)
    assert page.prev is None
    pages.append([r.id for r in page.rows])
    while page.next:
        page = await store.list(entity, ListQuery(**{**query.__dict__, "after": page.next}), ctx)
        assert page.prev is not None
        pages.append([r.id for r in page.rows])
    # and back from the last page
    back: list[list[int]] = [pages[-1]]
    while page.prev:
        page = await store.list(entity, ListQuery(**{**query.__dict__, "before": page.prev}), ctx)
        assert page.next is not None
        back.insert(0, [r.id for r in page.rows])
    assert back == pages, "paging backwards gives the same pages"
    return pages


async def seed_suggestions(store: Store, count: int = 70) -> list[Record]:
    rng = random.Random(7)
    made = []
    for i in range(count):
        due = (
            date(2026, 1, 1) + timedelta(days=rng.randrange(0, 60, 7))
            if rng.random() < 0.7
            else None
        )
        values = {
            "title": f"{rng.choice(WORDS)} {i % 9}",
            "category": rng.choice(["教育", "交通出行", "城乡建设", "其他"]),
            "body": "内容" * 12,
            "lead": rng.choice([*DEPARTMENTS, None]),
            "co": rng.sample(DEPARTMENTS, rng.randrange(0, 3)) or None,
            "due": due,
            "session": rng.choice(["大会期间", "闭会期间", None]),
            "cosigners": rng.sample([2, 3, 4, 5], rng.randrange(0, 3)) or None,
        }
        made.append(
            await store.create(
                SUGGESTION,
                values,
                actor=rng.randrange(1, 6),
                org=rng.choice(UNITS),
                state=rng.choice(STATES),
            )
        )
    return made


def test_lists_match_python(db_url: str, tmp_path: Path) -> None:
    ctx = Context(user_id=1, user_org="lc")

    async def body(store: Store) -> None:
        rows = await seed_suggestions(store)
        deployment = store.deployment
        cases: list[tuple[ListQuery, Any]] = [
            (ListQuery(limit=7), lambda r: True),
            (ListQuery(sort=[("due", False)], limit=9), lambda r: True),
            (ListQuery(sort=[("due", True), ("title", False)], limit=5), lambda r: True),
            (ListQuery(sort=[("title", False), ("id", True)], limit=11), lambda r: True),
            (ListQuery(sort=[("lead", True), ("due", False)], limit=6), lambda r: True),
            (
                ListQuery(
                    equals={"category": ["教育", "其他"], "state": ["draft", "closed"]}, limit=4
                ),
                lambda r: r["category"] in ("教育", "其他") and r["state"] in ("draft", "closed"),
            ),
            (
                ListQuery(equals={"lead": ["lc_jyj", None]}, sort=[("due", False)], limit=5),
                lambda r: r["lead"] in ("lc_jyj", None),
            ),
            (
                ListQuery(equals={"co": ["lc_jtj", "ra_jyj"]}, limit=5),
                lambda r: bool(set(r["co"] or []) & {"lc_jtj", "ra_jyj"}),
            ),
            (
                ListQuery(search=("road", ["title", "body"]), sort=[("title", False)], limit=4),
                lambda r: "road" in r["title"].lower(),
            ),
            (
                ListQuery(search=("学校", ["title"]), limit=3),
                lambda r: "学校" in r["title"],
            ),
            (
                ListQuery(search=("100%_x", ["title"]), limit=3),
                lambda r: False,
            ),
            (
                ListQuery(within=["lc"], sort=[("created_at", False)], limit=8),
                lambda r: r["org_path"].startswith(deployment.org_path("lc")),
            ),
            (
                ListQuery(within=["lc_nanhui_st", "ra"], limit=8),
                lambda r: r["org"] in ("lc_nanhui_pt1", "ra", "ra_anyang_st"),
            ),
            (ListQuery(within=[], limit=8), lambda r: False),
        ]
        for query, keep in cases:
            expected = python_order([r for r in rows if keep(r)], query.sort)
            pages = await all_pages(store, SUGGESTION, query, ctx)
            assert [i for p in pages for i in p] == expected, query
            assert all(len(p) <= query.limit for p in pages)
            assert await store.count(SUGGESTION, query, ctx) == (len(expected), True)

        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(sort=[("nope", False)]), ctx)
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(sort=[("co", False)]), ctx)
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(equals={"nope": ["x"]}), ctx)
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(search=("x", ["due"])), ctx)
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(after="garbage"), ctx)
        first = await store.list(SUGGESTION, ListQuery(limit=3), ctx)
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(sort=[("due", False)], after=first.next), ctx)

    with_store(demo(), db_url, tmp_path / "data", body)


def test_view_conditions_match_python(db_url: str, tmp_path: Path) -> None:
    """The demo views' compiled ``where`` run in SQL select what Python evaluation selects."""

    async def body(store: Store) -> None:
        await seed_suggestions(store)
        rows = [
            r
            for batch in [b async for b in store.stream(SUGGESTION, ListQuery(), Context())]
            for r in batch
        ]
        views = store.deployment.scenarios["suggestions"].views
        contexts = [
            Context(user_id=u, user_org=o, now=datetime(2026, 2, d, 3, tzinfo=UTC))
            for u, o, d in [
                (1, "lc_jyj", 1),
                (3, "lc_jtj", 10),
                (None, "ra_jyj", 20),
                (2, None, 28),
            ]
        ]
        checked = 0
        for vid in ("mine", "department", "overdue"):
            view = views[vid]
            assert view.where is not None
            for ctx in contexts:
                expected = [
                    r.id for r in rows if view.where.evaluate(store.for_expr(SUGGESTION, r), ctx)
                ]
                query = ListQuery(where=[view.where], sort=view.sort, limit=1000)
                page = await store.list(SUGGESTION, query, ctx)
                assert sorted(r.id for r in page.rows) == sorted(expected), (vid, ctx)
                checked += len(expected)
        assert checked > 20

    with_store(demo(), db_url, tmp_path / "data", body)


EXPRESSIONS = [
    "amount > 500.5",
    "amount == 1234.56",
    "total >= amount",
    "total == amount * 2",
    "count * 2 > 50",
    "ratio / 2 < 1.3",
    "stars >= 3",
    "day < today",
    "day >= '2026-03-01'",
    "year(day) == 2026 and month(day) > 2",
    "days_between(day, today) > 30",
    "moment > now",
    "date(moment) == day",
    "flag",
    "not flag",
    "flag == false",
    "kind == '乙'",
    "kind in ['甲', '丙']",
    "'a' in tags",
    "len(tags) >= 2",
    "empty(tags)",
    "contains(title, 'ab')",
    "title < 'M'",
    "startswith(phone, '138')",
    "person == user",
    "user in people",
    "unit == user.org",
    "user.org in units",
    "other == 1",
    "empty(files)",
    "place == null",
    "len(lines) == 2",
    "empty(lines)",
    "coalesce(count, 0) > 10",
    "round(amount) % 2 == 0",
    "owner == user",
    "state == 'done'",
    "created_at <= now",
    "org == 'lc'",
]


def random_item(rng: random.Random, ids: list[int]) -> dict[str, Any]:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.25 else value

    moment = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(-5000, 5000))
    return {
        "title": maybe(rng.choice(["abc", "Xab", "Mango", "mango", "学校", "A"])),
        "count": maybe(rng.randrange(-5, 60)),
        "ratio": maybe(rng.choice([0.5, 2.5, 2.6, 3, 10.25])),
        "amount": maybe(rng.choice([Decimal("1234.56"), Decimal(rng.randrange(0, 200000)) / 100])),
        "stars": maybe(rng.randrange(1, 6)),
        "day": maybe(date(2026, 1, 1) + timedelta(days=rng.randrange(0, 120))),
        "moment": maybe(moment.replace(microsecond=rng.choice([0, 1, 500000]))),
        "flag": maybe(rng.random() < 0.5),
        "kind": maybe(rng.choice(["甲", "乙", "丙"])),
        "tags": maybe(rng.sample(["a", "b", "c"], rng.randrange(0, 4)) or None),
        "phone": maybe(rng.choice(["13800138000", "15900001111"])),
        "person": maybe(rng.randrange(1, 4)),
        "people": maybe(rng.sample([1, 2, 3, 4], rng.randrange(1, 3))),
        "unit": maybe(rng.choice(["lc", "ra", "wz"])),
        "units": maybe(rng.sample(["lc", "ra", "wz"], rng.randrange(1, 3))),
        "other": maybe(rng.choice(ids) if ids else None),
        "files": None,
        "place": maybe({"lat": 28.0, "lng": 120.5}),
        "lines": maybe([{"name": "x", "qty": 1}] * rng.randrange(1, 3)),
    }


def test_expressions_agree_with_stored_rows(db_url: str, tmp_path: Path) -> None:
    """Every field type stored as the expression language's SQL contract expects."""
    deployment = load_deployment(write_package(tmp_path, ALL_FIELDS))
    entity = deployment.entity(ITEM)
    assert entity is not None
    compiled = [entity.compile(source) for source in EXPRESSIONS]

    async def body(store: Store) -> None:
        rng = random.Random(11)
        for _ in range(45):
            existing = [r.id for r in (await store.list(ITEM, ListQuery(limit=5), Context())).rows]
            await store.create(
                ITEM,
                random_item(rng, existing),
                actor=rng.randrange(1, 4),
                org=rng.choice(["lc", "ra"]),
                state=rng.choice(["draft", "done"]),
            )
        rows = []
        async for batch in store.stream(ITEM, ListQuery(), Context(), batch=20):
            rows.extend(batch)  # list rows carry their child rows too
        contexts = [
            Context(user_id=1, user_org="lc", now=datetime(2026, 3, 1, 2, tzinfo=UTC)),
            Context(user_id=3, user_org="wz", now=datetime(2026, 4, 20, tzinfo=UTC)),
            Context(user_id=2, user_org="ra"),  # now: after every created_at
        ]
        matched: dict[str, int] = {}
        for source, expr in zip(EXPRESSIONS, compiled, strict=True):
            for ctx in contexts:
                expected = sorted(r.id for r in rows if expr.evaluate(store.for_expr(ITEM, r), ctx))
                page = await store.list(ITEM, ListQuery(where=[expr], limit=1000), ctx)
                assert sorted(r.id for r in page.rows) == expected, source
                matched[source] = matched.get(source, 0) + len(expected)
        assert all(n > 0 for n in matched.values()), matched

    with_store(deployment, db_url, tmp_path / "data", body)


def test_count_is_bounded_and_stream_batches(db_url: str, tmp_path: Path) -> None:
    fields = {"n": {"type": "number", "label": "n", "decimals": 0}}
    deployment = load_deployment(write_package(tmp_path, fields, workflow=False))

    async def body(store: Store) -> None:
        await store.bulk_create(ITEM, [{"n": i % 10} for i in range(2345)], actor=1, org="lc")
        ctx = Context()
        assert await store.count(ITEM, ListQuery(), ctx, cap=1000) == (1000, False)
        assert await store.count(ITEM, ListQuery(), ctx, cap=2345) == (2345, True)
        assert await store.count(ITEM, ListQuery(equals={"n": [3]}), ctx) == (235, True)
        with QueryCounter() as counter:
            sizes = []
            seen: list[int] = []
            async for batch in store.stream(ITEM, ListQuery(sort=[("n", False)]), ctx, batch=500):
                sizes.append(len(batch))
                seen.extend(r.id for r in batch)
        assert sizes == [500, 500, 500, 500, 345]
        assert len(counter.statements) == len(sizes)  # one SELECT per batch
        assert len(set(seen)) == 2345
        every = await store.list(ITEM, ListQuery(limit=5000), ctx)
        assert len(every.rows) == 1000  # a page is at most 1000 rows

    with_store(deployment, db_url, tmp_path / "data", body)


@dataclass(frozen=True)
class RowRule:
    """The shape of ``runtime.access.Scope``."""

    everything: bool = False
    org_paths: tuple[str, ...] = ()
    owner: int | None = None
    assigned: tuple[tuple[str, bool, Any], ...] = ()
    nothing: bool = False

    def admits(self, row: Record) -> bool:
        if self.nothing or self.everything:
            return self.everything and not self.nothing
        if any(row["org_path"].startswith(p) for p in self.org_paths):
            return True
        if self.owner is not None and row["owner"] == self.owner:
            return True
        for name, is_list, value in self.assigned:
            held = row[name]
            if (value in (held or [])) if is_list else held == value:
                return True
        return False


def test_row_rules_match_python(db_url: str, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        rows = await seed_suggestions(store, 50)
        rules = [
            RowRule(nothing=True),
            RowRule(everything=True),
            RowRule(org_paths=("/zj/wz/lc/",)),
            RowRule(org_paths=("/zj/wz/ra/ra_anyang/",), owner=2),
            RowRule(owner=3, assigned=(("lead", False, "lc_jyj"), ("co", True, "lc_jyj"))),
            RowRule(assigned=(("cosigners", True, 4), ("co", True, "ra_jyj"))),
            RowRule(),
        ]
        for rule in rules:
            query = ListQuery(scope=rule, equals={"category": ["教育", "其他"]}, limit=1000)
            page = await store.list(SUGGESTION, query, Context())
            expected = [r.id for r in rows if rule.admits(r) and r["category"] in ("教育", "其他")]
            assert sorted(r.id for r in page.rows) == sorted(expected), rule
        with pytest.raises(ValueError):
            await store.list(SUGGESTION, ListQuery(scope=RowRule(assigned=(("x", False, 1),))))

    with_store(demo(), db_url, tmp_path / "data", body)
