"""Records an upgrade left in a removed state are listed for staff, over HTTP (SQLite and
PostgreSQL).

The demo deployment (two counties, Lucheng and Rui'an) runs suggestions 1.0.0 and
records are withdrawn in both counties; then it runs a version that removes the
state ``withdrawn`` and declares no migration. ``/admin/stranded`` lists each
county's records for its own staff only, the admin sees all of them, a deputy
is refused and an anonymous visitor is sent to sign in; the home page and the
admin index carry a notice, and the home page links the catalog for staff.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.catalogkit import version_of
from tests.webkit import ROOT, Browser, make_client

WITHDRAWN = {"lc": ["鹿城撤回一", "鹿城撤回二"], "ra": ["瑞安撤回"]}
KEPT = {"lc": "鹿城草稿", "ra": "瑞安草稿"}


def manifest_at(base: Path, suggestions: Path | None = None) -> Path:
    """The demo manifest, its packages where they are (suggestions at ``suggestions``)."""
    text = (ROOT / "scenarios.yaml").read_text("utf-8")
    text = text.replace("path: scenarios/", f"path: {ROOT}/scenarios/")
    if suggestions is not None:
        text = text.replace(f"path: {ROOT}/scenarios/suggestions", f"path: {suggestions}")
    base.mkdir(parents=True, exist_ok=True)
    out = base / "scenarios.yaml"
    out.write_text(text, "utf-8")
    return out


def create(client: TestClient, title: str, org: str, state: str) -> int:
    async def go() -> int:
        record = await client.app.state.store.create(  # type: ignore[attr-defined]
            "suggestions.suggestion",
            {"title": title, "category": "教育", "body": "请改善学校周边的交通秩序和安全设施。"},
            actor=None,
            org=org,
            state=state,
        )
        return int(record.id)

    return int(client.portal.call(go))  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def upgraded(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, Path, dict[str, int]]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    data_dir = tmp_path / "data"
    ids: dict[str, int] = {}
    with make_client(data_dir, url, manifest=manifest_at(tmp_path / "v1")) as client:
        for org, titles in WITHDRAWN.items():
            for title in titles:
                ids[title] = create(client, title, org, "withdrawn")
            ids[KEPT[org]] = create(client, KEPT[org], org, "draft")
    v2 = version_of(tmp_path / "work", "2.0.0", "删除已撤回状态")
    # the demo's performance package depends on suggestions ^1: number it 1.9.0
    main = v2 / "scenario.yaml"
    main.write_text(main.read_text("utf-8").replace("version: 2.0.0", "version: 1.9.0"), "utf-8")
    with make_client(data_dir, url, manifest=manifest_at(tmp_path / "v2", v2)) as client:
        assert (
            "withdrawn"
            not in client.app.state.deployment.entity("suggestions.suggestion").workflow.states
        )  # type: ignore[attr-defined]
        yield client, data_dir, ids


def listed(page: str) -> list[str]:
    return re.findall(r'<a href="/s/suggestions/r/suggestion/\d+">([^<]+)</a>', page)


def test_staff_see_their_own_county_s_stranded_records(
    upgraded: tuple[TestClient, Path, dict[str, int]],
) -> None:
    client, data_dir, ids = upgraded
    lc = Browser(client, data_dir).login("lc_staff")
    page = lc.get("/admin/stranded")
    assert page.status_code == 200
    assert listed(page.text) == WITHDRAWN["lc"]  # not Rui'an's, and no record in a live state
    assert f'href="/s/suggestions/r/suggestion/{ids["鹿城撤回一"]}"' in page.text
    counts = re.findall(r"<td[^>]*><code>(\w+)</code></td><td[^>]*>(\d+)</td>", page.text)
    assert counts == [("withdrawn", "2")]
    record = lc.get(f"/s/suggestions/r/suggestion/{ids['鹿城撤回一']}")
    assert record.status_code == 200 and "鹿城撤回一" in record.text  # the link opens the record

    ra = Browser(client, data_dir).login("ra_staff")
    page = ra.get("/admin/stranded")
    assert page.status_code == 200 and listed(page.text) == WITHDRAWN["ra"]
    assert "鹿城撤回" not in page.text

    admin = Browser(client, data_dir).login("admin")
    assert sorted(listed(admin.get("/admin/stranded").text)) == sorted(
        WITHDRAWN["lc"] + WITHDRAWN["ra"]
    )


def test_notices_links_and_who_is_refused(
    upgraded: tuple[TestClient, Path, dict[str, int]],
) -> None:
    client, data_dir, _ = upgraded
    anonymous = client.get("/admin/stranded")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/admin/stranded"

    deputy = Browser(client, data_dir).login("deputy_li")
    assert deputy.get("/admin/stranded").status_code == 403
    home = deputy.get("/").text
    assert 'href="/admin/stranded"' not in home and 'href="/catalog"' not in home

    lc = Browser(client, data_dir).login("lc_staff")
    home = lc.get("/").text
    assert "有 2 条记录处于已停用的状态" in home and 'href="/admin/stranded"' in home
    assert 'href="/catalog"' in home and lc.get("/catalog").status_code == 200
    english = lc.get("/?lang=en").text
    assert "2 record(s) are in a state an upgrade removed" in english

    admin = Browser(client, data_dir).login("admin")
    index = admin.get("/admin").text
    assert "有 3 条记录处于已停用的状态" in index
    assert index.count('href="/admin/stranded"') == 2  # the notice and the section


def test_no_notice_when_nothing_is_stranded(tmp_path: Path) -> None:
    with make_client(tmp_path, manifest=manifest_at(tmp_path / "v1")) as client:
        lc = Browser(client, tmp_path).login("lc_staff")
        home = lc.get("/").text
        assert 'href="/admin/stranded"' not in home and 'href="/catalog"' in home
        page = lc.get("/admin/stranded")
        assert page.status_code == 200 and "没有处于已停用状态的记录" in page.text
