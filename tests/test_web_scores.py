"""Scores over HTTP: a deputy's archive, publishing (亮分), an appeal accepted by staff.

On SQLite and PostgreSQL: a deputy records duties through the form; the
staff's ranking shows the live score; the deputy sees nothing until the
period is published, then the frozen snapshot; an appeal filed by the
deputy and accepted by staff changes the live score at once; nobody sees
another county's rankings or another deputy's archive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

POINTS = "/scores/performance/points"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=0) as client:
        yield client, tmp_path


def user_id(client: TestClient, login: str) -> int:
    async def find() -> int:
        from runtime.storage.platform import User

        return int((await User.get(login=login)).id)

    return client.portal.call(find)  # type: ignore[attr-defined,no-any-return]


def score_of(html: str) -> str:
    found = re.search(r'<p class="figure">([^<]*)</p>', html)
    assert found, html[:2000]
    return found.group(1).strip()


def test_archive_publication_and_an_accepted_appeal(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site

    def as_(login: str) -> Browser:  # one client: signing in replaces the session
        return Browser(client, data_dir).login(login)

    me = user_id(client, "deputy_zhang")  # a deputy of Nanhui station (lc)
    scorer = client.app.state.store.scorer  # type: ignore[attr-defined]
    year = scorer.current(scorer.rule("performance.points"))
    day = f"{year}-03-10"
    deputy = as_("deputy_zhang")
    for n in range(3):
        made = deputy.post(
            "/s/performance/f/duty", {"title": f"调研{n}", "kind": "视察调研", "held_on": day}
        )
        assert made.status_code == 303, made.text[:500]
    # before publication the deputy sees no score, only that none is published
    assert deputy.get(f"{POINTS}/me").headers["location"] == f"{POINTS}/s/{me}"
    archive = deputy.get(f"{POINTS}/s/{me}?period={year}")
    assert archive.status_code == 200
    assert 'class="figure"' not in archive.text and "尚未公布" in archive.text
    # the staff of the county see the live ranking (computed on demand) and the archive
    staff = as_("lc_staff")
    ranking = staff.get(f"{POINTS}?period={year}")
    assert ranking.status_code == 200
    assert "张丽" in ranking.text
    live = staff.get(f"{POINTS}/s/{me}?period={year}")
    assert score_of(live.text) == "9"  # 3 inspections × 3 points
    assert "调研0" in live.text, "the archive links the records behind each item"
    # publishing needs the CSRF token, then freezes the score for the deputy
    assert staff.client.post(f"{POINTS}/publish", data={"period": year}).status_code == 403
    assert staff.post(f"{POINTS}/publish", {"period": year}).status_code == 303
    deputy = as_("deputy_zhang")
    assert score_of(deputy.get(f"{POINTS}/s/{me}?period={year}").text) == "9"
    # an appeal: filed by the deputy, accepted by the staff, counted at once
    filed = deputy.post(
        "/s/performance/f/correction",
        {
            "summary": "三月会议未计分",
            "item": "meetings",
            "happened_on": day,
            "requested": "4",
            "reason": "三月会议漏记",
        },
    )
    assert filed.status_code == 303, filed.text[:500]
    staff = as_("lc_staff")
    pending = staff.get(f"{POINTS}?period={year}")
    found = re.search(rf"{POINTS}/corrections/(\d+)/accept", pending.text)
    assert found, "the staff see the appeal with its transitions"
    assert staff.post(found.group(0)).status_code == 303
    assert score_of(staff.get(f"{POINTS}/s/{me}?period={year}").text) == "13"
    # a second decision of the same appeal is refused (it is no longer submitted)
    assert staff.post(found.group(0)).status_code == 403
    # the published snapshot does not move until it is published again
    deputy = as_("deputy_zhang")
    assert score_of(deputy.get(f"{POINTS}/s/{me}?period={year}").text) == "9"
    staff = as_("lc_staff")
    staff.post(f"{POINTS}/publish", {"period": year})
    deputy = as_("deputy_zhang")
    page = deputy.get(f"{POINTS}/s/{me}?period={year}")
    assert score_of(page.text) == "13"
    # the printable archive: a print button, print styles hide the chrome
    assert "window.print()" in page.text and "张丽" in page.text


def test_nobody_sees_other_deputies_or_other_counties(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    zhang, wu = user_id(client, "deputy_zhang"), user_id(client, "deputy_wu")
    deputy = Browser(client, data_dir).login("deputy_zhang")
    assert deputy.get(f"{POINTS}/s/{wu}").status_code == 404, "another deputy's archive"
    assert deputy.get(f"{POINTS}/o/lc").status_code == 403
    assert deputy.get(POINTS).status_code == 303, "a subject is sent to their own archive"
    assert deputy.post(f"{POINTS}/recompute", {"period": "2026"}).status_code == 403
    staff = Browser(client, data_dir).login("lc_staff")
    assert staff.get(f"{POINTS}/s/{wu}").status_code == 404, "a deputy of Rui'an"
    assert staff.get(f"{POINTS}/s/{zhang}").status_code == 200
    assert staff.get(f"{POINTS}?org=ra").status_code == 403
    assert staff.get(f"{POINTS}/o/ra").status_code == 403
    assert staff.get(f"{POINTS}?period=2026-Q7").status_code == 400
    assert staff.get("/scores/performance/nope").status_code == 404
    recomputed = staff.post(f"{POINTS}/recompute", {"period": "2026-Q1"})
    assert recomputed.status_code == 303
    group = staff.get(f"{POINTS}/o/lc?period=2026")
    assert group.status_code == 200 and "张丽" in group.text and "吴海" not in group.text
    # the vitality index: stations of the county, ranked
    vitality = staff.get("/scores/vitality/index")
    assert vitality.status_code == 200
    assert "五马街道人大代表联络站" in vitality.text and "安阳" not in vitality.text
    head = Browser(client, data_dir).login("head_wuma")
    mine = head.get("/scores/vitality/index/me", follow_redirects=True)
    assert mine.status_code == 200 and "五马" in mine.text
    assert head.get("/scores/vitality/index/s/lc_nanhui_st").status_code == 404


def test_menu_links(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    staff = Browser(client, data_dir).login("lc_staff")
    home: Any = staff.get("/")
    assert "/d/performance/cockpit" in home.text and POINTS in home.text
    deputy = Browser(client, data_dir).login("deputy_li")
    home = deputy.get("/")
    assert f"{POINTS}/me" in home.text and "/d/performance/cockpit" not in home.text
