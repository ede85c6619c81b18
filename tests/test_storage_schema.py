"""Schema sync across restarts: added, removed and changed fields, and ``yidi migrate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from runtime import cli
from runtime.deployment import Deployment, load_deployment
from runtime.expr import Context
from runtime.storage import ListQuery, SchemaRefused, Store, Taken, open_store
from runtime.storage.introspect import read_catalog
from tests.test_storage_support import (
    DATABASES,
    database_url,
    demo,
    run,
    with_store,
    write_package,
)

ITEM = "gen.item"
TABLE = "gen__item"
BASE: dict[str, Any] = {
    "title": {"type": "text", "label": "标题"},
    "score": {"type": "text", "label": "分数"},
    "note": {"type": "longtext", "label": "备注"},
}


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, tmp_path)


def deploy(folder: Path, fields: dict[str, Any], **kw: Any) -> Deployment:
    return load_deployment(write_package(folder, fields, **kw))


async def catalog(store: Store) -> Any:
    return await read_catalog(store.db(), store.dialect)


def test_demo_starts_twice_with_nothing_to_do(db_url: str, tmp_path: Path) -> None:
    async def first(store: Store) -> Any:
        found = await catalog(store)
        table = store.table("suggestions.suggestion")
        assert set(table.columns) <= set(found.columns(table.name))
        assert {i.name for i in table.indexes} <= found.indexes
        rows = await store.db().execute_query_dict('SELECT "id", "path" FROM "yidi_org_unit"')
        assert {r["id"]: r["path"] for r in rows}["lc_wuma_st"] == "/zj/wz/lc/lc_wuma/lc_wuma_st/"

    with_store(demo(), db_url, tmp_path, first)

    async def second(store: Store) -> Any:
        plan, done = await store.migrate(apply=False)
        assert plan.steps == [] and done == []
        assert str(plan) == "The database schema is up to date."

    with_store(demo(), db_url, tmp_path, second)


def test_added_field_appears_after_restart(db_url: str, tmp_path: Path) -> None:
    async def before(store: Store) -> Any:
        return [
            (await store.create(ITEM, {"title": f"old {i}", "score": str(i)}, actor=1, org="lc")).id
            for i in range(3)
        ]

    ids = with_store(deploy(tmp_path, BASE), db_url, tmp_path, before)
    grown = {
        **BASE,
        "priority": {"type": "choice", "label": "优先级", "options": ["高", "低"]},
        "amount": {"type": "money", "label": "金额"},
        "lines": {
            "type": "children",
            "label": "明细",
            "fields": {"name": {"type": "text", "label": "名"}},
        },
    }
    views = {"all": {"entity": "item", "label": "全部", "filters": ["priority"], "sort": "-amount"}}

    async def after(store: Store) -> Any:
        found = await catalog(store)
        assert {"priority", "amount", "receipt"} <= set(found.columns(TABLE))
        assert found.has_table("gen__item__lines")
        names = {i.name for i in store.table(ITEM).indexes}
        assert names <= found.indexes and len(names) == 7
        old = [await store.get(ITEM, i) for i in ids]
        assert [(r["title"], r["score"], r["priority"], r["receipt"]) for r in old if r] == [
            ("old 0", "0", None, None),
            ("old 1", "1", None, None),
            ("old 2", "2", None, None),
        ]
        values = {"title": "new", "priority": "高", "amount": "9.90", "lines": [{"name": "a"}]}
        made = await store.create(ITEM, values, actor=1, org="lc")
        got = await store.get(ITEM, made.id)
        assert got is not None and got["priority"] == "高" and str(got["amount"]) == "9.90"
        assert got["lines"] == [{"name": "a"}] and got["receipt"]
        await store.update(ITEM, ids[0], {"priority": "低"}, actor=2, expected_version=1)
        page = await store.list(ITEM, ListQuery(equals={"priority": ["低", "高"]}), Context())
        assert sorted(r.id for r in page.rows) == sorted([ids[0], made.id])

    with_store(deploy(tmp_path, grown, views=views, receipt=True), db_url, tmp_path, after)


def test_removed_field_keeps_its_data(db_url: str, tmp_path: Path) -> None:
    async def before(store: Store) -> int:
        return (await store.create(ITEM, {"title": "t", "note": "keep me"}, actor=1, org="lc")).id

    rid = with_store(deploy(tmp_path, BASE), db_url, tmp_path, before)
    smaller = {k: v for k, v in BASE.items() if k != "note"}

    async def without(store: Store) -> None:
        got = await store.get(ITEM, rid)
        assert got is not None and "note" not in got and got["title"] == "t"
        plan, _ = await store.migrate(apply=False)
        assert [s.action for s in plan.steps] == ["keep_column"]
        assert "note" in str(plan) and "data is kept" in str(plan)
        await store.update(ITEM, rid, {"title": "t2"}, actor=1, expected_version=1)
        await store.create(ITEM, {"title": "other"}, actor=1, org="lc")

    with_store(deploy(tmp_path, smaller), db_url, tmp_path, without)

    async def back(store: Store) -> None:
        got = await store.get(ITEM, rid)
        assert got is not None and got["note"] == "keep me" and got["title"] == "t2"

    with_store(deploy(tmp_path, BASE), db_url, tmp_path, back)


def test_incompatible_change_refuses_to_start_and_migrate_converts(
    db_url: str, tmp_path: Path
) -> None:
    async def before(store: Store) -> list[int]:
        values = ["12", " 7 ", "abc", None, "1,234"]
        return [
            (await store.create(ITEM, {"title": f"r{i}", "score": v}, actor=1, org="lc")).id
            for i, v in enumerate(values)
        ]

    ids = with_store(deploy(tmp_path, BASE), db_url, tmp_path, before)
    changed = {**BASE, "score": {"type": "number", "label": "分数", "decimals": 0}}
    views = {"all": {"entity": "item", "label": "全部", "filters": ["score"]}}
    deployment = deploy(tmp_path, changed, views=views)

    with pytest.raises(SchemaRefused) as refused:
        with_store(
            deployment, db_url, tmp_path, lambda store: store.count(ITEM, ListQuery(), Context())
        )
    message = str(refused.value)
    assert "change column gen__item.score from varchar to bigint" in message
    assert "yidi migrate --apply" in message
    assert refused.value.plan.refused

    async def untouched(store: Store) -> None:
        found = await catalog(store)
        assert "score__old1" not in found.columns(TABLE)
        plan, done = await store.migrate(apply=False)  # a dry run changes nothing
        assert done == [] and plan.refused

    run(_open(deployment, db_url, tmp_path, untouched))

    async def apply(store: Store) -> list[str]:
        return (await store.migrate(apply=True))[1]

    done = run(_open(deployment, db_url, tmp_path, apply))
    report = "\n".join(done)
    assert "3 value(s) converted, 1 could not be converted" in report
    assert "gen__item.score__old1" in report

    async def after(store: Store) -> None:
        rows = [await store.get(ITEM, i) for i in ids]
        assert [r["score"] for r in rows if r] == [12, 7, None, None, 1234]
        old = await store.db().execute_query_dict(
            'SELECT "score__old1" AS v FROM "gen__item" ORDER BY "id"'
        )
        assert [r["v"] for r in old] == ["12", " 7 ", "abc", None, "1,234"]
        page = await store.list(ITEM, ListQuery(equals={"score": [7, 12]}), Context())
        assert sorted(r.id for r in page.rows) == ids[:2]
        plan, _ = await store.migrate(apply=False)
        assert [s.action for s in plan.steps] == ["keep_column"]
        assert "old values kept by a type change" in str(plan)

    with_store(deployment, db_url, tmp_path, after)

    # changing it back is another type change: the column moves to score__old2
    async def again(store: Store) -> list[str]:
        return (await store.migrate(apply=True))[1]

    report = "\n".join(run(_open(deploy(tmp_path, BASE), db_url, tmp_path, again)))
    assert "score__old2" in report and "3 value(s) converted, 0 could not" in report


async def _open(deployment: Deployment, url: str, data_dir: Path, body: Any) -> Any:
    async with open_store(deployment, url, data_dir, start=False) as store:
        return await body(store)


def test_cli_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite://{tmp_path / 'data' / 'yidi.sqlite3'}"
    manifest = write_package(tmp_path, BASE)
    args = [
        "--manifest",
        str(manifest),
        "--data-dir",
        str(tmp_path / "data"),
        "--database-url",
        url,
    ]
    assert cli.main(["migrate", *args]) == 0
    out = capsys.readouterr().out
    assert "create table gen__item" in out and "yidi migrate --apply" in out
    assert cli.main(["migrate", "--apply", *args]) == 0
    assert "create table gen__item" in capsys.readouterr().out
    assert cli.main(["migrate", *args]) == 0
    assert "up to date" in capsys.readouterr().out

    write_package(tmp_path, {**BASE, "title": {"type": "date", "label": "标题"}})
    assert cli.main(["migrate", *args]) == 0
    assert "change column gen__item.title from varchar to date" in capsys.readouterr().out
    assert cli.main(["migrate", "--apply", *args]) == 0
    assert "0 value(s) converted" in capsys.readouterr().out


def test_unique_over_duplicates_is_refused(db_url: str, tmp_path: Path) -> None:
    async def before(store: Store) -> list[int]:
        return [
            (await store.create(ITEM, {"title": "same"}, actor=1, org="lc")).id for _ in range(2)
        ]

    ids = with_store(deploy(tmp_path, BASE), db_url, tmp_path, before)
    unique = {**BASE, "title": {"type": "text", "label": "标题", "unique": True}}
    with pytest.raises(SchemaRefused, match="duplicate values \\('same'\\)"):
        with_store(deploy(tmp_path, unique), db_url, tmp_path, lambda s: s.migrate(apply=False))
    with_store(
        deploy(tmp_path, BASE),
        db_url,
        tmp_path,
        lambda s: s.update(ITEM, ids[1], {"title": "other"}, actor=1, expected_version=1),
    )

    async def after(store: Store) -> None:
        with pytest.raises(Taken) as taken:
            await store.create(ITEM, {"title": "same"}, actor=1, org="lc")
        assert taken.value.fields == ["title"]
        with pytest.raises(Taken):
            await store.update(ITEM, ids[1], {"title": "same"}, actor=1, expected_version=2)
        assert (await store.get(ITEM, ids[1]))["title"] == "other"  # nothing half-written

    with_store(deploy(tmp_path, unique), db_url, tmp_path, after)


def test_extra_model_modules_get_their_tables(tmp_path: Path) -> None:
    import sys
    import types

    from tortoise import fields
    from tortoise.models import Model

    name = "tests_storage_extra_models"
    module = types.ModuleType(name)
    meta = type("Meta", (), {"table": "yidi_test_note"})
    attrs = {"__module__": name, "Meta": meta, "text": fields.CharField(max_length=20)}
    note: Any = type("Note", (Model,), {"id": fields.IntField(primary_key=True), **attrs})
    module.__dict__["Note"] = note
    sys.modules[name] = module

    async def main() -> None:
        url = f"sqlite://{tmp_path / 'x.sqlite3'}"
        async with open_store(demo(), url, tmp_path, models=[name]) as store:
            await note.create(text="hello")
            assert (await note.get(id=1)).text == "hello"
            plan, _ = await store.migrate(apply=False)
            assert plan.steps == []

    try:
        run(main())
    finally:
        sys.modules.pop(name, None)
