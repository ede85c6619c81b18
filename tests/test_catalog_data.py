"""An upgrade and the database (SQLite and PostgreSQL): records in removed states are
listed, the schema plan is shown, and records keep the version they were made under."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from runtime.deployment import load_deployment
from runtime.storage import ListQuery, open_store
from tests.catalogkit import make_county, make_province, run, version_of


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'county.sqlite3'}"
    return str(request.getfixturevalue("pg_dsn"))


def _seed(county: Path, url: str, data_dir: Path) -> None:
    async def go() -> None:
        async with open_store(load_deployment(county), url, data_dir) as store:
            for i, state in enumerate(["draft", "withdrawn", "review", "withdrawn"]):
                await store.create(
                    "suggestions.suggestion",
                    {
                        "title": f"建议{i}",
                        "category": "教育",
                        "body": "请改善学校周边的交通秩序和安全设施。",
                    },
                    actor=None,
                    org="lc",
                    state=state,
                )

    asyncio.run(go())


def _versions(county: Path, url: str, data_dir: Path) -> list[str]:
    async def go() -> list[str]:
        deployment = load_deployment(county)
        async with open_store(deployment, url, data_dir) as store:
            await store.create(
                "suggestions.suggestion",
                {
                    "title": "升级后",
                    "category": "教育",
                    "body": "升级后提出的建议，内容足够长的一段文字。",
                },
                actor=None,
                org="lc",
            )
            rows = await store.db().execute_query_dict(
                'SELECT "title", "scenario_version" FROM "suggestions__suggestion" ORDER BY "id"'
            )
            assert (await store.count("suggestions.suggestion", ListQuery()))[0] == 5
            return [f"{r['title']}@{r['scenario_version']}" for r in rows]

    return asyncio.run(go())


def test_upgrade_lists_stranded_records_and_the_schema_plan(
    tmp_path: Path, database_url: str
) -> None:
    province = make_province(tmp_path / "province")
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = run(
        "catalog",
        "add",
        str(province.catalog),
        "suggestions@^1",
        "--key",
        province.public,
        "--manifest",
        str(county),
    )
    assert code == 0, out
    data_dir = tmp_path / "data"
    _seed(county, database_url, data_dir)
    province.publish(version_of(tmp_path / "work", "2.0.0", "删除已撤回状态").parent)

    args = [
        "catalog",
        "upgrade",
        "suggestions",
        "--manifest",
        str(county),
        "--database-url",
        database_url,
        "--data-dir",
        str(data_dir),
    ]
    code, out = run(*args, "--dry-run")
    assert code == 0, out
    assert "- state suggestion.withdrawn" in out and "- transition suggestion.withdraw" in out
    assert "Records in states that 2.0.0 removes" in out
    stranded = [line for line in out.splitlines() if "[withdrawn]" in line]
    assert len(stranded) == 2 and "建议1" in stranded[0] and "建议3" in stranded[1]
    assert (
        "Database plan (yidi migrate):" in out
        and "keep column suggestions__suggestion.affected" in out
    )
    assert "Dry run: nothing was changed." in out
    assert "version: 1.0.0" in county.read_text()

    code, out = run(*args)
    assert code == 0, out
    assert "Upgraded suggestions 1.0.0 → 2.0.0" in out
    assert "version: 2.0.0" in county.read_text()
    assert _versions(county, database_url, data_dir) == [
        "建议0@1.0.0",
        "建议1@1.0.0",
        "建议2@1.0.0",
        "建议3@1.0.0",
        "升级后@2.0.0",
    ]
