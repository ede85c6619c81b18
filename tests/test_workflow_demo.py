"""Sample records seeded straight into 办理中 get their departments' tasks, so the demo can go on."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.webkit import make_client


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_seeded_records_in_handling_have_tasks(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from runtime.engine.tasks import Task
    from runtime.storage.query import ListQuery

    url = request.getfixturevalue("pg_dsn") if db == "postgres" else None
    with make_client(tmp_path, url, records=16) as client:
        app = client.app
        store = app.state.store  # type: ignore[attr-defined]
        entity = app.state.deployment.entity("suggestions.suggestion")  # type: ignore[attr-defined]

        async def look() -> tuple[list[tuple[int, list[str]]], dict[int, set[str]]]:
            page = await store.list(entity, ListQuery(equals={"state": ["handling"]}, limit=100))
            wanted = [(r.id, [r["lead"], *(r.get("co") or [])]) for r in page.rows]
            tasks: dict[int, set[str]] = {}
            for rid, org in await Task.filter(state="handling", status="open").values_list(
                "record_id", "assignee_org"
            ):
                tasks.setdefault(int(rid), set()).add(str(org))
            return wanted, tasks

        wanted, tasks = client.portal.call(look)  # type: ignore[attr-defined]
        assert wanted, "the demo seeds some suggestions in handling"
        for rid, units in wanted:
            assert tasks.get(rid) == {u for u in units if u}, rid


@pytest.mark.parametrize("db", ["sqlite", "postgres"])
def test_seeded_records_in_review_show_their_deadline(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from runtime.storage.query import ListQuery
    from runtime.timers.timers import deadlines

    url = request.getfixturevalue("pg_dsn") if db == "postgres" else None
    with make_client(tmp_path, url, records=16) as client:
        app = client.app
        entity = app.state.deployment.entity("suggestions.suggestion")  # type: ignore[attr-defined]

        async def look() -> tuple[list[int], dict[int, object]]:
            page = await app.state.store.list(  # type: ignore[attr-defined]
                entity, ListQuery(equals={"state": ["review"]}, limit=100)
            )
            ids = [r.id for r in page.rows]
            return ids, await deadlines(app.state, entity, ids)  # type: ignore[attr-defined]

        ids, due = client.portal.call(look)  # type: ignore[attr-defined]
        assert ids, "the demo seeds some suggestions in review"
        assert set(due) == set(ids)  # 初审 has a 5-working-day deadline: every one shows it
