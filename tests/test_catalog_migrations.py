"""Data migrations a new package version declares (SQLite and PostgreSQL).

The province publishes 2.0.0 of ``suggestions``, which removes the state
``withdrawn`` and declares a ``move_state`` migration to ``closed``. The
upgrade shows the step in its plan; the app refuses to start until ``yidi
migrate --apply``; the apply moves the records (with audit rows), keeps their
``scenario_version``, and a second apply does nothing. The checker names a
migration's mistakes at their file and line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.deployment import load_deployment
from runtime.settings import Settings
from runtime.storage import SchemaRefused, open_store
from runtime.web.app import create_app
from tests.catalogkit import make_county, make_province, run, version_of
from tests.test_catalog_data import _seed

MIGRATION = """
migrations:
  - from: "^1"
    description: 已撤回的建议并入已办结
    steps:
      - move_state: {entity: suggestion, from: withdrawn, to: closed}
      - set: {entity: suggestion, field: session, value: 大会期间, where: "title == '建议0'"}
"""


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'county.sqlite3'}"
    return str(request.getfixturevalue("pg_dsn"))


def with_migrations(base: Path, version: str, text: str) -> Path:
    """A 2.x of suggestions (without ``withdrawn``) whose scenario.yaml ends with ``text``."""
    folder = version_of(base, version, "删除已撤回状态")
    main = folder / "scenario.yaml"
    main.write_text(main.read_text("utf-8") + text, "utf-8")
    return folder


def query(county: Path, url: str, data_dir: Path, sql: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with open_store(load_deployment(county), url, data_dir, start=False) as store:
            return [dict(r) for r in await store.db().execute_query_dict(sql)]

    return asyncio.run(go())


def serve(county: Path, url: str, data_dir: Path) -> int:
    """Start the county's app, as ``yidi serve`` would, and fetch the sign-in page."""
    settings = Settings.from_env(
        {}, manifest=county, database_url=url, data_dir=data_dir, scheduler_seconds=0
    )
    with TestClient(create_app(settings), follow_redirects=False) as client:
        return client.get("/login").status_code


def test_a_move_state_migration_is_planned_refused_at_start_applied_once(
    tmp_path: Path, database_url: str
) -> None:
    province = make_province(tmp_path / "province")
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = run(
        "catalog", "add", str(province.catalog), "suggestions@^1", "--key", province.public,
        "--manifest", str(county),
    )  # fmt: skip
    assert code == 0, out
    data_dir = tmp_path / "data"
    _seed(
        county, database_url, data_dir
    )  # 建议0 draft, 建议1 withdrawn, 建议2 review, 建议3 withdrawn
    province.publish(with_migrations(tmp_path / "work", "2.0.0", MIGRATION).parent)
    db = ["--manifest", str(county), "--database-url", database_url, "--data-dir", str(data_dir)]

    code, out = run("catalog", "upgrade", "suggestions", *db, "--dry-run")
    assert code == 0, out
    assert "Data migrations 2.0.0 declares for 1.0.0 (yidi migrate --apply):" in out
    assert "from ^1, step 1: move suggestion records in state withdrawn to closed" in out
    stranded = [line for line in out.splitlines() if "[withdrawn]" in line]
    assert len(stranded) == 2 and all("→ closed by the data migration" in s for s in stranded)
    plan = out.split("Database plan (yidi migrate):")[1]
    assert (
        "migrate suggestions 2.0.0 (records made under ^1), step 1: move suggestion records "
        "in state withdrawn to closed: 2 record(s) (needs `yidi migrate --apply`)"
    ) in plan
    assert (
        "step 2: set suggestion.session to '大会期间' where title == '建议0': 1 record(s)" in plan
    )

    code, out = run("catalog", "upgrade", "suggestions", *db)
    assert code == 0 and "Upgraded suggestions 1.0.0 → 2.0.0" in out, out

    with pytest.raises(SchemaRefused) as refused:
        serve(county, database_url, data_dir)
    message = str(refused.value)
    assert "start-up is refused" in message and "yidi migrate --apply" in message
    assert "move suggestion records in state withdrawn to closed: 2 record(s)" in message
    states = 'SELECT "title", "state", "session", "scenario_version", "row_version" FROM "suggestions__suggestion" ORDER BY "id"'
    assert [r["state"] for r in query(county, database_url, data_dir, states)] == [
        "draft", "withdrawn", "review", "withdrawn",
    ]  # fmt: skip

    code, out = run("migrate", *db)
    assert code == 0 and "Nothing was changed" in out and "2 record(s)" in out, out
    code, out = run("migrate", "--apply", *db)
    assert code == 0, out
    assert "Applied 2 step(s)." in out and "withdrawn to closed: 2 record(s)" in out

    rows = query(county, database_url, data_dir, states)
    assert [(r["title"], r["state"], r["session"]) for r in rows] == [
        ("建议0", "draft", "大会期间"),
        ("建议1", "closed", "闭会期间"),
        ("建议2", "review", "闭会期间"),
        ("建议3", "closed", "闭会期间"),
    ]
    assert {r["scenario_version"] for r in rows} == {"1.0.0"}  # the version they were made under
    assert [r["row_version"] for r in rows] == [2, 2, 1, 2]
    audit = query(
        county, database_url, data_dir,
        'SELECT "record_id", "before", "after", "note", "actor" FROM "yidi_change" '
        "WHERE \"action\" = 'migrate' ORDER BY \"id\"",
    )  # fmt: skip
    assert [(a["record_id"], a["actor"]) for a in audit] == [(2, None), (4, None), (1, None)]
    assert "withdrawn" in str(audit[0]["before"]) and "closed" in str(audit[0]["after"])
    assert audit[0]["note"] == "suggestions 2.0.0: migration from ^1, step 1"
    applied = 'SELECT "package", "version", "source", "step", "kind", "changed" FROM "yidi_migration" ORDER BY "step"'
    assert query(county, database_url, data_dir, applied) == [
        {"package": "suggestions", "version": "2.0.0", "source": "^1", "step": 1,
         "kind": "move_state", "changed": 2},
        {"package": "suggestions", "version": "2.0.0", "source": "^1", "step": 2,
         "kind": "set", "changed": 1},
    ]  # fmt: skip

    code, out = run("migrate", "--apply", *db)  # nothing runs twice
    assert code == 0 and "The database schema is up to date." in out, out
    assert len(query(county, database_url, data_dir, applied)) == 2
    count = 'SELECT COUNT(*) AS n FROM "yidi_change" WHERE "action" = \'migrate\''
    assert query(county, database_url, data_dir, count)[0]["n"] == 3
    assert serve(county, database_url, data_dir) == 200  # and the app starts again


def test_a_migration_with_nothing_to_change_does_not_block_start_up(
    tmp_path: Path, database_url: str
) -> None:
    """No record in the removed state: the step is recorded at start-up, nothing refused."""
    province = make_province(tmp_path / "province")
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = run(
        "catalog", "add", str(province.catalog), "suggestions@^1", "--key", province.public,
        "--manifest", str(county),
    )  # fmt: skip
    assert code == 0, out
    data_dir = tmp_path / "data"
    province.publish(with_migrations(tmp_path / "work", "2.0.0", MIGRATION).parent)
    code, out = run("catalog", "upgrade", "suggestions", "--manifest", str(county), "--no-data")
    assert code == 0 and "from ^1, step 1: move suggestion" in out, out
    assert serve(county, database_url, data_dir) == 200
    rows = query(county, database_url, data_dir, 'SELECT "step", "changed" FROM "yidi_migration"')
    assert sorted((r["step"], r["changed"]) for r in rows) == [(1, 0), (2, 0)]


def test_migration_mistakes_are_named_at_their_line(tmp_path: Path) -> None:
    folder = with_migrations(
        tmp_path,
        "2.0.0",
        """
migrations:
  - from: "^1"
    steps:
      - move_state: {entity: suggestion, from: withdrawn, to: closd}
      - rename_field: {entity: suggestion, from: title, to: body}
      - set: {entity: suggestoin, field: session, value: 闭会期间}
      - set: {entity: suggestion, field: session, value: 大会中, where: "sesion == null"}
      - set: {entity: suggestion, field: session}
  - from: "^2"
    steps:
      - rename_field: {entity: suggestion, from: affected, to: nothing}
""",
    )
    code, out = run("check", str(folder))
    assert code == 1
    lines = (folder / "scenario.yaml").read_text("utf-8").splitlines()
    start = lines.index("migrations:")  # its 1-based line is start + 1
    expected = [
        (start + 4, "migrations[0].steps[0].move_state.to: unknown state 'closd'", "did you mean 'closed'?"),
        (start + 5, "migrations[0].steps[1].rename_field.from: field 'title' is still a field", "use a set step"),
        (start + 6, "migrations[0].steps[2].set.entity: unknown entity 'suggestoin'", "did you mean 'suggestion'?"),
        (start + 7, "migrations[0].steps[3].set.value: '大会中' does not fit the choice field 'session'", "大会期间"),
        (start + 7, "migrations[0].steps[3].set.where: bad condition: unknown name 'sesion'", "did you mean 'session'?"),
        (start + 8, "migrations[0].steps[4].set: a set step needs either value or expression", ""),
        (start + 9, "migrations[1].from: '^2' admits this package's own version 2.0.0", "'<2.0.0'"),
        (start + 11, "migrations[1].steps[0].rename_field.to: unknown field 'nothing'", ""),
    ]  # fmt: skip
    for line, message, hint in expected:
        found = [o for o in out.splitlines() if f"scenario.yaml:{line}:" in o and message in o]
        assert found and hint in found[0], (line, message, out)
    assert f"{len(expected)} mistakes found." in out


def test_rename_field_copies_converted_values_and_keeps_the_old_column(
    tmp_path: Path, database_url: str
) -> None:
    """2.0.0 replaces the number field ``affected`` by a text field ``people``."""
    province = make_province(tmp_path / "province")
    county = make_county(tmp_path, "lc", "鹿城区")
    code, out = run(
        "catalog", "add", str(province.catalog), "suggestions@^1", "--key", province.public,
        "--manifest", str(county),
    )  # fmt: skip
    assert code == 0, out
    data_dir = tmp_path / "data"
    _seed(county, database_url, data_dir)

    async def fill() -> None:
        async with open_store(load_deployment(county), database_url, data_dir) as store:
            for rid, value in ((1, 12), (3, 40)):
                record = await store.get("suggestions.suggestion", rid)
                assert record is not None
                await store.update(
                    "suggestions.suggestion", rid, {"affected": value}, actor=None,
                    expected_version=record.version,
                )  # fmt: skip

    asyncio.run(fill())
    folder = with_migrations(
        tmp_path / "work",
        "2.0.0",
        """
migrations:
  - from: "<2.0.0"
    steps:
      - rename_field: {entity: suggestion, from: affected, to: people}
""",
    )
    main = folder / "scenario.yaml"
    main.write_text(
        main.read_text("utf-8").replace(
            "    fields:\n      title:",
            "    fields:\n      people:\n        type: text\n        label: 涉及人数\n      title:",
            1,
        ),
        "utf-8",
    )
    province.publish(folder.parent)
    db = ["--manifest", str(county), "--database-url", database_url, "--data-dir", str(data_dir)]
    code, out = run("catalog", "upgrade", "suggestions", *db)
    assert code == 0, out
    assert "step 1: copy suggestion.affected into people (the old column stays, unused)" in out
    code, out = run("migrate", "--apply", *db)
    assert code == 0 and "add column suggestions__suggestion.people" in out, out
    assert "copy suggestion.affected into people (the old column stays, unused): 2 record(s)" in out
    rows = query(
        county, database_url, data_dir,
        'SELECT "id", "people", "affected" FROM "suggestions__suggestion" ORDER BY "id"',
    )  # fmt: skip
    assert [(r["id"], r["people"], r["affected"]) for r in rows] == [
        (1, "12", 12), (2, None, None), (3, "40", 40), (4, None, None),
    ]  # fmt: skip
    code, out = run("migrate", *db)
    assert (
        "migrate suggestions" not in out and "keep column suggestions__suggestion.affected" in out
    )
