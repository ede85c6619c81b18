"""What a person trying ``make run`` sees, on SQLite and PostgreSQL.

The demo records have short, meaningful titles (an appeal's list row is its
summary, never the paragraph of its reason); a county's suggestions are
assigned to that county's departments; records spread over the past 12–15
months so monthly trends and quarterly scores have shape. A leader's
dashboard ranking links to archives the leader may open (their own county),
and the leader still manages nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.scoring.periods import local_day
from tests.webkit import Browser, make_client

RECORDS = 24


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=RECORDS) as client:
        yield client, tmp_path


def records(client: TestClient, entity: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        from runtime.storage.records import ListQuery

        store = client.app.state.store  # type: ignore[attr-defined]
        page = await store.list(entity, ListQuery(limit=1000), None)
        return [dict(r) for r in page.rows]

    return client.portal.call(read)  # type: ignore[attr-defined,no-any-return]


def county(client: TestClient, unit: str) -> str:
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    path = deployment.org_path(unit).strip("/").split("/")
    for u in path:
        if deployment.org[u].kind == "county":
            return u
    # above the counties: the unit a department belongs to (wz_fgw → wz)
    return next(u for u in reversed(path) if deployment.org[u].kind != "department")


def months(days: list[dt.date]) -> set[tuple[int, int]]:
    return {(d.year, d.month) for d in days}


def test_titles_departments_and_dates_look_real(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    today = dt.date.today()
    oldest = today - dt.timedelta(days=15 * 31)
    # short titles from the scenarios' examples; an appeal is titled by its summary
    for key in ("performance.duty", "performance.opinion", "performance.correction"):
        entity = deployment.entity(key)
        rows = records(client, key)
        assert len(rows) == RECORDS, key
        titles = [str(r[entity.title_field]) for r in rows]
        assert entity.fields[entity.title_field].type == "text", key
        assert all(0 < len(title) <= 30 for title in titles), (key, titles[:3])
        assert not any(title.startswith("示例") for title in titles), key
        assert len(set(titles)) > 2, key
    for key in ("vitality.event", "vitality.visit"):
        entity = deployment.entity(key)
        titles = [str(r[entity.title_field]) for r in records(client, key)]
        assert not any(title.startswith("示例") for title in titles), key
    staff = Browser(client, data_dir).login("lc_staff")
    page = staff.get("/s/performance/v/corrections")
    assert page.status_code == 200
    reasons = {str(r["reason"]) for r in records(client, "performance.correction")}
    summaries = {str(r["summary"]) for r in records(client, "performance.correction")}
    assert any(s in page.text for s in summaries), "the list shows the summaries"
    # suggestions: lead and co-departments of the record's own county
    checked = 0
    for r in records(client, "suggestions.suggestion"):
        home = county(client, r["org"])
        for unit in [r.get("lead"), *(r.get("co") or [])]:
            if unit:
                assert county(client, unit) == home, (r["org"], unit)
                checked += 1
    assert checked > RECORDS // 2
    for r in records(client, "suggestions.suggestion"):
        assert r.get("lead") not in (r.get("co") or []), r  # 协办 are other departments
        if r.get("rating") is None:
            assert r.get("rating_comment") is None, r  # no comment on a rating not given
    # dates over the past 12–15 months: many months, nothing in the future
    held = [r["held_on"] for r in records(client, "performance.duty")]
    assert all(oldest <= d <= today for d in held)
    assert len(months(held)) >= 9, sorted(months(held))
    created = [
        local_day(r["created_at"], "Asia/Shanghai")
        for r in records(client, "suggestions.suggestion")
    ]
    assert all(d is not None and oldest <= d <= today for d in created)
    assert len(months([d for d in created if d])) >= 9
    # what the cockpit's monthly trend shows: several months with activity
    trend = staff.get("/d/performance/cockpit/trend.csv?org=lc")
    assert trend.status_code == 200
    values = [row[2] for row in csv.reader(io.StringIO(trend.text.lstrip("\ufeff")))][1:]
    assert sum(1 for v in values if v not in ("", "0")) >= 5, values
    assert reasons  # the appeals have their reasons, kept out of the title


def test_a_leader_opens_the_archives_their_ranking_links(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    leader = Browser(client, data_dir).login("lc_leader")
    page = leader.get("/d/performance/cockpit")
    assert page.status_code == 200
    links = re.findall(r'href="(/scores/performance/points/s/\d+\?period=[^"]+)"', page.text)
    assert links, "the ranking card lists deputies"
    for link in links:
        archive = leader.get(link.replace("&amp;", "&"))
        assert archive.status_code == 200, link
        assert "履职" in archive.text or "积分" in archive.text

    # only within the leader's county: a Rui'an deputy's archive stays hidden
    async def wu() -> int:
        from runtime.storage.platform import User

        return int((await User.get(login="deputy_wu")).id)

    other = client.portal.call(wu)  # type: ignore[attr-defined]
    assert leader.get(f"/scores/performance/points/s/{other}").status_code == 404
    # reading is not managing
    assert leader.get("/scores/performance/points").status_code == 403
    assert leader.post("/scores/performance/points/recompute", {}).status_code == 403
    # the vitality cockpit's ranking links to stations' archives the leader may open
    page = leader.get("/d/vitality/stations")
    assert page.status_code == 200
    stations = re.findall(r'href="(/scores/vitality/index/s/[a-z_]+\?period=[^"]+)"', page.text)
    assert stations
    for link in stations:
        assert leader.get(link.replace("&amp;", "&")).status_code == 200, link
    assert leader.get("/scores/vitality/index/s/ra_anyang_st").status_code == 404
