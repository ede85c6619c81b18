"""Records on SQLite and PostgreSQL: create/get/update, conflicts, round trips, imports, files."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from runtime.deployment import load_deployment
from runtime.storage import Conflict, FileTooLarge, InvalidValue, ListQuery, NotFound, Store
from runtime.storage.platform import Attachment
from tests.test_storage_support import (
    ALL_FIELDS,
    DATABASES,
    QueryCounter,
    database_url,
    demo,
    run,
    with_store,
    write_package,
)

SUGGESTION = "suggestions.suggestion"
ITEM = "gen.item"
CHINA = timezone(timedelta(hours=8))


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, tmp_path)


def full_values() -> dict[str, Any]:
    return {
        "title": "Mixed 大小写 Title",
        "body": "第一行\n第二行",
        "count": 42,
        "ratio": 2.5,
        "amount": Decimal("1234.56"),
        "stars": 4,
        "day": date(2026, 2, 28),
        "moment": datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=CHINA),
        "flag": False,
        "kind": "乙",
        "tags": ["c", "a"],
        "phone": "13800138000",
        "idno": "11010519491231002X",
        "person": 7,
        "people": [3, 9],
        "unit": "lc",
        "units": ["lc", "ra"],
        "place": {"lat": 27.99, "lng": 120.7, "address": "温州"},
        "lines": [
            {"name": "桌子", "qty": 2, "price": Decimal("150.00")},
            {"name": "椅子", "qty": 4, "price": Decimal("0.10")},
        ],
    }


def test_every_field_type_round_trips(db_url: str, tmp_path: Path) -> None:
    deployment = load_deployment(write_package(tmp_path, ALL_FIELDS, receipt=True))

    async def body(store: Store) -> None:
        made = await store.create(ITEM, full_values(), actor=5, org="lc", ip="10.0.0.1")
        got = await store.get(ITEM, made.id)
        assert got is not None
        expected = full_values()
        expected["moment"] = datetime(2026, 3, 1, 0, 30, 15, 123456, tzinfo=UTC)
        for name, value in expected.items():
            assert got[name] == value, name
            assert type(got[name]) is type(value), name
        assert got["moment"].tzinfo is not None and got["moment"].utcoffset() == timedelta(0)
        assert got["total"] == Decimal("2469.12")  # computed: amount * 2, stored
        assert got["files"] is None and got["other"] is None
        assert got["state"] == "draft" and got["owner"] == 5 and got["created_by"] == 5
        assert got["org_path"] == "/zj/wz/lc/" and got.version == 1
        assert got["scenario_version"] == "1.0.0"
        assert len(got["receipt"]) == 14
        assert (await store.get_by_receipt(ITEM, got["receipt"].lower())) == got
        assert {k: made[k] for k in expected} == {k: got[k] for k in expected}

        # raw input is parsed by the field's widget (as an import would send it)
        raw = await store.create(
            ITEM,
            {"amount": "¥1,000.5", "day": "2026-01-05", "flag": "是", "count": "12", "other": "1"},
            actor=None,
            org="ra",
        )
        again = await store.get(ITEM, raw.id)
        assert again is not None
        assert again["amount"] == Decimal("1000.50") and again["day"] == date(2026, 1, 5)
        assert again["flag"] is True and again["count"] == 12 and again["other"] == made.id
        assert again["owner"] is None

        with pytest.raises(InvalidValue):
            await store.create(ITEM, {"amount": "many"}, actor=1, org="lc")
        with pytest.raises(ValueError):
            await store.create(ITEM, {"nope": 1}, actor=1, org="lc")
        with pytest.raises(ValueError):
            await store.create(ITEM, {}, actor=1, org="nowhere")

    with_store(deployment, db_url, tmp_path / "data", body)


def test_update_history_and_stale_version(db_url: str, tmp_path: Path) -> None:
    deployment = load_deployment(write_package(tmp_path, ALL_FIELDS))

    async def body(store: Store) -> None:
        made = await store.create(ITEM, full_values(), actor=1, org="lc")
        updated = await store.update(
            ITEM,
            made.id,
            {"amount": Decimal("10.01"), "title": "New", "lines": [{"name": "灯", "qty": 1}]},
            actor=2,
            expected_version=1,
            ip="10.0.0.2",
        )
        assert updated.version == 2 and updated["updated_by"] == 2
        assert updated["total"] == Decimal("20.02")
        stored = await store.get(ITEM, made.id)
        assert stored is not None and stored == updated
        assert stored["lines"] == [{"name": "灯", "qty": 1, "price": None}]
        moved = await store.update(
            ITEM,
            made.id,
            {"state": "done"},
            actor=3,
            expected_version=2,
            action="transition",
            note="ok",
        )
        assert moved["state"] == "done"

        with pytest.raises(Conflict) as caught:
            await store.update(ITEM, made.id, {"title": "late"}, actor=4, expected_version=2)
        assert caught.value.by == 3 and caught.value.current.version == 3
        assert caught.value.current["title"] == "New"
        with pytest.raises(NotFound):
            await store.update(ITEM, 999999, {"title": "x"}, actor=4, expected_version=1)

        history = await store.history(ITEM, made.id)
        assert [c.action for c in history] == ["create", "update", "transition"]
        create, update, transition = history
        assert create.after is not None and create.after["amount"] == "1234.56"
        assert create.before is None and create.actor == 1
        assert set(update.before or {}) == {"title", "amount", "total", "lines"}
        assert update.after is not None and update.after["title"] == "New"
        assert update.ip == "10.0.0.2" and update.actor == 2
        assert transition.before == {"state": "draft"} and transition.after == {"state": "done"}
        assert transition.note == "ok"

        await store.delete(ITEM, made.id, actor=1, expected_version=3)
        assert await store.get(ITEM, made.id) is None
        assert (await store.history(ITEM, made.id))[-1].action == "delete"

    with_store(deployment, db_url, tmp_path / "data", body)


def test_twenty_concurrent_updates_one_wins(db_url: str, tmp_path: Path) -> None:
    async def body(store: Store) -> None:
        made = await store.create(
            SUGGESTION, {"title": "t", "category": "教育", "body": "b" * 20}, actor=1, org="lc"
        )

        async def attempt(n: int) -> int | None:
            try:
                done = await store.update(
                    SUGGESTION, made.id, {"title": f"by {n}"}, actor=n, expected_version=1
                )
            except Conflict as conflict:
                assert conflict.current.version == 2
                return None
            return done.version

        results = await asyncio.gather(*(attempt(n) for n in range(1, 21)))
        assert [r for r in results if r is not None] == [2]
        stored = await store.get(SUGGESTION, made.id)
        assert stored is not None and stored.version == 2
        winner = results.index(2) + 1
        assert stored["title"] == f"by {winner}" and stored["updated_by"] == winner
        assert len(await store.history(SUGGESTION, made.id)) == 2

    with_store(demo(), db_url, tmp_path / "data", body)


def test_bulk_create_ten_thousand_rows_in_batches(db_url: str, tmp_path: Path) -> None:
    fields = {
        "title": {"type": "text", "label": "标题"},
        "n": {"type": "number", "label": "序号", "decimals": 0},
        "amount": {"type": "money", "label": "金额"},
        "lines": ALL_FIELDS["lines"],
    }
    deployment = load_deployment(write_package(tmp_path, fields))
    rows = [
        {
            "title": f"row {i}",
            "n": i,
            "amount": f"{i}.5",
            "lines": [{"name": "x", "qty": i}] if i % 1000 == 0 else None,
        }
        for i in range(10_000)
    ]

    async def body(store: Store) -> None:
        with QueryCounter() as counter:
            assert await store.bulk_create(ITEM, rows, actor=9, org="lc", ip="1.2.3.4") == 10_000
        inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT")]
        assert len(inserts) < 60  # batched multi-row INSERTs, not one per row
        assert await store.count(ITEM, ListQuery(), _ctx(), cap=20_000) == (10_000, True)
        page = await store.list(
            ITEM, ListQuery(equals={"n": [1000, 7]}, sort=[("n", False)]), _ctx()
        )
        assert [(r["n"], r["amount"]) for r in page.rows] == [
            (7, Decimal("7.50")),
            (1000, Decimal("1000.50")),
        ]
        thousand = await store.get(ITEM, page.rows[1].id)
        assert thousand is not None and thousand["lines"] == [
            {"name": "x", "qty": 1000, "price": None}
        ]
        history = await store.history(ITEM, page.rows[0].id)
        assert [(c.action, c.actor, c.ip) for c in history] == [("create", 9, "1.2.3.4")]
        with pytest.raises(ValueError, match="row 2"):
            await store.bulk_create(ITEM, [{"n": 1}, {"n": "x"}], actor=9, org="lc")
        assert (await store.count(ITEM, ListQuery(), _ctx(), cap=20_000))[0] == 10_000

    with_store(deployment, db_url, tmp_path / "data", body)


def test_files_are_stored_by_content_and_linked(db_url: str, tmp_path: Path) -> None:
    deployment = load_deployment(write_package(tmp_path, ALL_FIELDS))
    data_dir = tmp_path / "data"
    payload = b"%PDF-1.4 " + bytes(range(256)) * 100
    digest = hashlib.sha256(payload).hexdigest()

    async def chunks() -> Any:
        for start in range(0, len(payload), 1000):
            yield payload[start : start + 1000]

    async def body(store: Store) -> None:
        first = await store.save_file("../报告.pdf", "application/pdf", payload, 10**6, actor=3)
        second = await store.save_file("copy.pdf", "application/pdf", chunks(), 10**6)
        assert first.sha256 == second.sha256 == digest and first.id != second.id
        assert first.name == "报告.pdf" and first.size == len(payload) and first.created_by == 3
        assert first.path == f"files/{digest[:2]}/{digest[2:4]}/{digest}"
        assert store.file_path(first).read_bytes() == payload
        with pytest.raises(FileTooLarge):
            await store.save_file("big.bin", "", payload, 1000)
        assert not any((data_dir / "files" / "tmp").iterdir())

        made = await store.create(ITEM, {"files": [first.id, second.id]}, actor=3, org="lc")
        assert (await store.get(ITEM, made.id) or {})["files"] == [first.id, second.id]
        linked = await Attachment.get(id=first.id)
        assert (linked.entity, linked.record_id, linked.field) == (ITEM, made.id, "files")

    with_store(deployment, db_url, data_dir, body)


def test_labels_one_query_per_kind(db_url: str, tmp_path: Path) -> None:
    from runtime.storage.platform import User

    async def body(store: Store) -> None:
        users = [await User.create(login=f"u{i}", name=f"用户{i}") for i in range(25)]
        made = [
            await store.create(
                SUGGESTION,
                {"title": f"建议{i}", "category": "教育", "body": "b" * 20},
                actor=1,
                org="lc",
            )
            for i in range(25)
        ]
        with QueryCounter() as counter:
            labels = await store.labels(
                users=[u.id for u in users] + [None],  # type: ignore[list-item]
                refs={SUGGESTION: [r.id for r in made], "suggestion": [made[0].id]},
                orgs=["lc", "nowhere"],
            )
        assert len(counter.statements) == 3  # users, and one per ref key
        assert labels.users == {u.id: u.name for u in users}
        assert labels["user"][users[3].id] == "用户3"
        assert labels[SUGGESTION] == {r.id: f"建议{i}" for i, r in enumerate(made)}
        assert labels["suggestion"] == {made[0].id: "建议0"}
        assert labels.orgs == {"lc": "鹿城区人大常委会"}

    with_store(demo(), db_url, tmp_path / "data", body)


def _ctx() -> Any:
    from runtime.expr import Context

    return Context(user_id=1, user_org="lc")


def test_run_helper_closes_everything(tmp_path: Path) -> None:
    """After a store closes, a new one on the same SQLite file opens cleanly."""
    url = f"sqlite://{tmp_path / 'x.sqlite3'}"
    for _ in range(2):
        with_store(
            demo(), url, tmp_path, lambda store: store.count(SUGGESTION, ListQuery(), _ctx())
        )
    assert run(asyncio.sleep(0, "ok")) == "ok"
