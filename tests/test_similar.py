"""智能查重: while typing a title, similar records the viewer may see are listed under it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.test_web_suggestions import NEW, submit_suggestion
from tests.webkit import Browser, make_client

SIMILAR = f"{NEW}/similar"
LINK = re.compile(r'<a href="/s/suggestions/r/suggestion/(\d+)"[^>]*>([^<]+)</a>')


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url) as client:
        yield client, tmp_path


def shown(b: Browser, typed: str) -> list[str]:
    response = b.htmx("GET", SIMILAR, params={"field": "title", "title": typed})
    assert response.status_code == 200
    return [title for _, title in LINK.findall(response.text)]


def test_similar_titles_are_listed_within_what_the_viewer_may_see(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    li = Browser(client, data_dir).login("deputy_li")
    form = li.get(NEW).text
    assert f'hx-get="{SIMILAR}?field=title"' in form
    submit_suggestion(li, "关于在五马街增设公共停车位的建议")
    submit_suggestion(li, "关于加强农村饮用水安全保障的建议")
    assert shown(li, "五马街停车位紧张") == ["关于在五马街增设公共停车位的建议"]
    assert shown(li, "饮用水安全") == ["关于加强农村饮用水安全保障的建议"]
    assert shown(li, "图书馆开放时间") == []
    assert shown(li, "停车") == []  # too short to judge
    # another deputy does not see deputy_li's drafts through the hint
    zhang = Browser(client, data_dir).login("deputy_zhang")
    assert shown(zhang, "五马街停车位紧张") == []
    # staff do not draft suggestions, so the hint is not theirs to ask
    staff = Browser(client, data_dir).login("lc_staff")
    assert (
        staff.htmx("GET", SIMILAR, params={"field": "title", "title": "五马街停车位"}).status_code
        == 403
    )
    assert shown(Browser(client, data_dir).login("deputy_wu"), "五马街停车位紧张") == []
    client.cookies.clear()
    anonymous = client.get(SIMILAR, params={"field": "title", "title": "五马街停车位"})
    assert anonymous.status_code in (303, 401, 403)
