"""The to-do page reaches every record awaiting my action, on SQLite and PostgreSQL over HTTP:
the first page of each entity, then its "more" link walks the rest by keyset (no record twice,
none left out, newest change first), also through /api/todo."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.timerkit import Clock, local, query, run, started
from tests.webkit import Browser
from tests.workflowkit import BODY, new_suggestion

ENTITY = "suggestions.suggestion"
MANY = 61  # more than a page (50)


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None
    with started(tmp_path, url, Clock(local(2026, 3, 2, 10, 0))) as client:
        yield client, tmp_path


async def _many(app_state: Any, owner: int, n: int, org: str) -> list[int]:
    """``n`` suggestions waiting for first review (imported, as a batch would be)."""
    ids = []
    for i in range(n):
        record = await app_state.store.create(
            ENTITY,
            {"title": f"待初审建议{i:03d}", "category": "教育", "body": BODY},
            actor=owner,
            org=org,
            state="review",
        )
        ids.append(int(record.id))
    return ids


def awaiting(page: str) -> list[int]:
    section = page.split('id="todo-records"', 1)[1] if 'id="todo-records"' in page else ""
    return [int(i) for i in re.findall(r'data-record="(\d+)"', section)]


def more_link(page: str) -> str | None:
    found = re.search(r'<a href="([^"]+)" rel="next" data-more="suggestions.suggestion"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_more_links_reach_every_record_awaiting_me(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    state = client.app.state  # type: ignore[attr-defined]
    owner = int(
        run(client, query, state, 'SELECT "id" FROM "yidi_user" WHERE "login" = ?', "deputy_li")[0][
            "id"
        ]
    )
    ours = run(client, _many, state, owner, MANY, "lc_wuma_st")
    theirs = run(client, _many, state, owner, 3, "ra_anyang_st")  # another county's staff
    newest = new_suggestion(Browser(client, data_dir).login("deputy_li"), "最新提交的建议")

    staff = Browser(client, data_dir).login("lc_staff")
    page = staff.get("/todo").text
    first = awaiting(page)
    assert len(first) == 50 and first[0] == newest  # newest change first
    link = more_link(page)
    assert link and link.startswith("/todo?records=suggestions.suggestion&after=")
    assert "更多（代表建议）" in page
    seen = list(first)
    pages = 1
    while link:
        more = staff.get(link)
        assert more.status_code == 200
        assert "等待我处理的代表建议" in more.text and 'id="todo-tasks"' not in more.text
        seen += awaiting(more.text)
        link = more_link(more.text)
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == MANY + 1
    assert set(seen) == {*ours, newest} and not set(theirs) & set(seen)
    assert seen[1:] == sorted(ours, reverse=True)  # the same moment: the id breaks the tie

    assert staff.get("/todo?records=suggestions.suggestion&after=bogus").status_code == 400
    assert staff.get("/todo?records=nope.nope").status_code == 404

    api = staff.get("/api/todo").json()
    assert len(api["records"]) == 50
    cursor = api["records_next"]["suggestions.suggestion"]
    rest = staff.get("/api/todo", params={"records": ENTITY, "after": cursor}).json()
    assert rest["next"] is None
    ids = [r["record"] for r in api["records"]] + [r["record"] for r in rest["records"]]
    assert sorted(ids) == sorted({*ours, newest})

    # the owner may withdraw them (撤回) from review: they await the deputy too, paged alike
    deputy = Browser(client, data_dir).login("deputy_li")
    page = deputy.get("/todo").text
    assert len(awaiting(page)) == 50 and more_link(page)
    # another deputy has nothing awaiting: no section, no link
    page = Browser(client, data_dir).login("deputy_zhang").get("/todo").text
    assert awaiting(page) == [] and more_link(page) is None
