"""Dashboards over HTTP: figures equal direct counts at every org level, scope, CSV, SVG.

Runs the demo app on SQLite and PostgreSQL with generated records spread
over the org tree, and compares what the cockpit shows (through its CSV
downloads, which carry the same figures as the page) with counts taken
directly from the database for each level: province, city, county, station.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

UNITS = ["lc_wuma_st", "lc_nanhui_st", "lc_nanhui_pt1", "lc", "ra_anyang_st", "ra_tangxia_st", "wz"]
KINDS = ["会议", "视察调研", "接待选民", "培训", "其他"]


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=0) as client:
        yield client, tmp_path


def call(client: TestClient, fn: Any) -> Any:
    return client.portal.call(fn)  # type: ignore[attr-defined]


def seed(client: TestClient) -> list[dict[str, Any]]:
    """Duty and opinion records all over the tree (and at the top)."""
    store = client.app.state.store  # type: ignore[attr-defined]
    rnd = random.Random(5)

    async def make() -> list[dict[str, Any]]:
        from runtime.storage.platform import User

        owner = int((await User.get(login="deputy_li")).id)
        made = []
        for n in range(90):
            org = rnd.choice(UNITS)
            values = {
                "title": f"活动{n}",
                "kind": rnd.choice(KINDS),
                "held_on": dt.date(2026, rnd.randint(1, 12), rnd.randint(1, 28)),
            }
            await store.create("performance.duty", values, actor=owner, org=org)
            made.append(dict(values, org=org))
        for n in range(30):
            org = rnd.choice(UNITS)
            values = {"title": f"民意{n}", "received_on": dt.date(2026, 3, 3), "people": n % 4 + 1}
            await store.create("performance.opinion", values, actor=owner, org=org)
        return made

    return call(client, make)  # type: ignore[no-any-return]


def direct_count(client: TestClient, table: str, unit: str, extra: str = "") -> float:
    """The count (or the SQL in ``extra``) straight from the table, for a unit's subtree."""
    app = client.app
    store = app.state.store  # type: ignore[attr-defined]
    path = app.state.deployment.org_path(unit)  # type: ignore[attr-defined]

    async def count() -> float:
        mark = "$1" if store.pg else "?"
        what = extra or "count(*)"
        rows = await store.db().execute_query_dict(
            f'SELECT {what} AS n FROM "{table}" WHERE substr("org_path", 1, {len(path)}) = {mark}',
            [path],
        )
        return float(rows[0]["n"] or 0)

    return call(client, count)  # type: ignore[no-any-return]


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_figures_equal_direct_counts_at_every_level(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    seed(client)

    async def province_staff() -> None:
        from runtime.storage.platform import Grant, User

        admin = await User.get(login="admin")
        await Grant.create(user_id=admin.id, org_unit_id="zj", role="staff")

    call(client, province_staff)
    admin = Browser(client, data_dir).login("admin")
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    for unit in ("zj", "wz", "lc", "lc_nanhui_st", "ra"):
        page = admin.get(f"/d/performance/cockpit?org={unit}")
        assert page.status_code == 200
        for card, table, extra in (
            ("duties", "performance__duty", ""),
            ("opinions", "performance__opinion", ""),
            ("people", "performance__opinion", 'sum("people")'),
        ):
            rows = read_csv(admin.get(f"/d/performance/cockpit/{card}.csv?org={unit}"))
            assert float(rows[1][2]) == direct_count(client, table, unit, extra), (unit, card)
            # each drill-down row is the direct count of that child's subtree
            names = {
                deployment.org[c].label["zh"]: c
                for c in deployment.org
                if isinstance(deployment.org[c].label, dict)
            }
            for name, child in ((r[1], names.get(r[1])) for r in rows[2:]):
                if child is not None:
                    assert float(next(r[2] for r in rows[2:] if r[1] == name)) == direct_count(
                        client, table, child, extra
                    ), (unit, card, child)
        # the drill-down links lead one level down
        if unit == "lc":
            assert "/d/performance/cockpit?org=lc_wuma" in page.text


def test_bars_and_trends_count_what_the_table_holds(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    made = seed(client)
    # the trend's last 12 months end at the app's clock
    client.app.state.clock = lambda: dt.datetime(2026, 12, 20, 4, 0, tzinfo=dt.UTC)  # type: ignore[attr-defined]
    staff = Browser(client, data_dir).login("lc_staff")
    lc = [m for m in made if m["org"] in ("lc", "lc_wuma_st", "lc_nanhui_st", "lc_nanhui_pt1")]
    rows = read_csv(staff.get("/d/performance/cockpit/by_kind.csv"))
    got = {r[1]: float(r[2]) for r in rows[1:]}
    labels = {
        "会议": "参加会议",
        "视察调研": "视察调研",
        "接待选民": "接待选民",
        "培训": "学习培训",
        "其他": "其他",
    }
    want = {labels[k]: float(sum(1 for m in lc if m["kind"] == k)) for k in KINDS}
    assert got == {k: v for k, v in want.items() if v}
    # the monthly trend (held_on) over the last 12 months
    trend = read_csv(staff.get("/d/performance/cockpit/trend.csv"))
    months = {r[1]: float(r[2]) for r in trend[1:]}
    assert len(months) == 12 and "2026-01" in months and "2026-12" in months
    for month, value in months.items():
        assert value == sum(1 for m in lc if m["held_on"].strftime("%Y-%m") == month), month
    page = staff.get("/d/performance/cockpit")
    assert page.text.count("<svg") >= 4, "bar, pie, line charts are inline SVG"


def test_a_county_user_cannot_see_another_countys_numbers(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    seed(client)
    staff = Browser(client, data_dir).login("lc_staff")
    for url in (
        "/d/performance/cockpit?org=ra",
        "/d/performance/cockpit?org=ra_anyang_st",
        "/d/performance/cockpit?org=wz",
        "/d/performance/cockpit?org=zj",
        "/d/performance/cockpit/duties.csv?org=ra",
        "/d/vitality/stations?org=ra",
        "/d/performance/cockpit?org=nowhere",
    ):
        assert staff.get(url).status_code == 403, url
    own = staff.get("/d/performance/cockpit")
    assert own.status_code == 200
    assert "瑞安" not in own.text and "安阳" not in own.text
    rows = read_csv(staff.get("/d/performance/cockpit/duties.csv"))
    assert float(rows[1][2]) == direct_count(client, "performance__duty", "lc")
    other = Browser(client, data_dir).login("ra_staff")
    rows = read_csv(other.get("/d/performance/cockpit/duties.csv"))
    assert float(rows[1][2]) == direct_count(client, "performance__duty", "ra")
    # roles the dashboard does not list are refused; anonymous visitors are sent to sign in
    deputy = Browser(client, data_dir).login("deputy_zhang")
    assert deputy.get("/d/performance/cockpit").status_code == 403
    client.cookies.clear()
    assert client.get("/d/performance/cockpit").status_code in (302, 303)
    assert client.get("/d/performance/nope").status_code in (302, 303, 404)


def test_chart_labels_are_escaped(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    app = client.app
    store = app.state.store  # type: ignore[attr-defined]

    async def hostile() -> None:
        from runtime.orgs import load_org
        from runtime.storage.platform import OrgUnit

        await OrgUnit.create(
            id="lc_evil",
            parent_id="lc",
            kind="township",
            label={"zh": "<script>alert(1)</script>街道"},
            path="/zj/wz/lc/lc_evil/",
        )
        await load_org(app.state.deployment)  # type: ignore[attr-defined]
        await store.create(
            "performance.duty",
            {"title": "x", "kind": "会议", "held_on": dt.date(2026, 5, 5)},
            actor=None,
            org="lc_evil",
        )

    call(client, hostile)
    staff = Browser(client, data_dir).login("lc_staff")
    page = staff.get("/d/performance/cockpit")
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)" in page.text
