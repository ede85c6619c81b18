"""The admin pages' gate and the org tree: units added by admins are live at once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

PASSWORD = re.compile(r'<code class="password">([^<]+)</code>')
ERROR = re.compile(r'class="error"[^>]*>([^<]+)<')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str | None:
    """None (a SQLite file in the data dir) or a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("pg_dsn"))


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    with make_client(tmp_path) as client:
        yield client, tmp_path


def sql(client: TestClient, query: str) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        rows = await client.app.state.store.db().execute_query_dict(query)  # type: ignore[attr-defined]
        return [dict(r) for r in rows]

    return client.portal.call(run)  # type: ignore[attr-defined,no-any-return]


def sign_in(client: TestClient, data_dir: Path, login: str, password: str) -> Browser:
    browser = Browser(client, data_dir)
    client.cookies.clear()
    browser.refresh_token("/login")
    response = client.post(
        "/login", data={"login": login, "password": password, "_csrf": browser.token}
    )
    assert response.status_code == 303, response.text
    browser.refresh_token("/")
    return browser


def add_unit(admin: Browser, parent: str, uid: str, zh: str, kind: str, en: str = "") -> Any:
    return admin.post(
        "/admin/orgs/new", {"parent": parent, "id": uid, "zh": zh, "en": en, "kind": kind}
    )


def new_user(admin: Browser, login: str, name: str) -> int:
    response = admin.post("/admin/users/new", {"login": login, "name": name})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("?")[0].rsplit("/", 1)[1])


def test_a_point_added_by_an_admin_is_live_for_a_deputy_granted_there(
    tmp_path: Path, database: str | None
) -> None:
    with make_client(tmp_path, database) as client:
        admin = Browser(client, tmp_path).login("admin")
        tree = admin.get("/admin/orgs")
        assert tree.status_code == 200 and "来自部署清单" in tree.text
        form = admin.get("/admin/orgs/new?parent=lc_wuma_st")
        assert 'value="point"' in form.text and 'value="city"' not in form.text
        made = add_unit(admin, "lc_wuma_st", "lc_wuma_pt2", "五马社区第二联络点", "point", "Wuma 2")
        assert made.status_code == 303 and made.headers["location"].startswith("/admin/orgs")
        deployment = client.app.state.deployment  # type: ignore[attr-defined]
        assert deployment.org_path("lc_wuma_pt2") == "/zj/wz/lc/lc_wuma/lc_wuma_st/lc_wuma_pt2/"
        page = admin.get("/admin/orgs").text
        assert "五马社区第二联络点" in page and 'href="/admin/orgs/lc_wuma_pt2"' in page
        assert 'href="/admin/orgs/lc"' not in page  # manifest units are read-only
        uid = new_user(admin, "deputy_new", "新代表")
        granted = admin.post(f"/admin/users/{uid}/grants", {"org": "lc_wuma_pt2", "role": "deputy"})
        assert granted.status_code == 303, granted.text
        shown = admin.post(f"/admin/users/{uid}/password")
        assert shown.headers["cache-control"] == "no-store"
        password = PASSWORD.search(shown.text).group(1)  # type: ignore[union-attr]
        rows = sql(client, 'SELECT "path" FROM "yidi_org_unit" WHERE "id" = \'lc_wuma_pt2\'')
        assert rows == [{"path": "/zj/wz/lc/lc_wuma/lc_wuma_st/lc_wuma_pt2/"}]

        deputy = sign_in(client, tmp_path, "deputy_new", password)
        home = deputy.get("/")
        assert "新代表" in home.text and "/s/suggestions/f/" in home.text
        assert deputy.get("/s/suggestions/f/new").status_code == 200
        assert deputy.get("/admin").status_code == 403
    # a restart reads the unit back from the database
    with make_client(tmp_path, database) as client:
        deployment = client.app.state.deployment  # type: ignore[attr-defined]
        assert deployment.org_path("lc_wuma_pt2") == "/zj/wz/lc/lc_wuma/lc_wuma_st/lc_wuma_pt2/"
        assert deployment.org["lc_wuma_pt2"].source == "database"
        assert sign_in(client, tmp_path, "deputy_new", password).get("/").status_code == 200


def test_a_unit_at_the_wrong_level_or_with_a_bad_id_is_refused(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    wrong = add_unit(admin, "lc_wuma_st", "lc_wuma_city", "错误的市", "city")
    assert wrong.status_code == 422
    assert "“市”不能设在“代表联络站”之下" in " ".join(ERROR.findall(wrong.text))
    assert 'value="错误的市"' in wrong.text  # nothing typed is lost
    english = admin.post(
        "/admin/orgs/new?lang=en",
        {"parent": "lc", "id": "lc_prov", "zh": "省", "kind": "province"},
    )
    assert english.status_code == 422 and "A Province cannot sit under a County" in english.text
    admin.get("/?lang=zh")
    assert add_unit(admin, "lc", "Bad-Id", "坏编号", "township").status_code == 422
    taken = add_unit(admin, "lc", "lc_wuma", "重复", "township")
    assert taken.status_code == 422 and "该编号已被使用" in taken.text
    assert add_unit(admin, "lc", "lc_x", "", "township").status_code == 422
    assert admin.get("/admin/orgs/new?parent=nowhere").status_code == 404
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    assert not {"lc_wuma_city", "lc_prov", "Bad-Id", "lc_x"} & set(deployment.org)
    assert (
        sql(client, 'SELECT COUNT(*) AS n FROM "yidi_change" WHERE "table" = \'yidi_org_unit\'')[0][
            "n"
        ]
        == 0
    )
    # a department sits anywhere; below it, the level of the nearest unit above counts
    assert (
        add_unit(admin, "lc_wuma", "lc_wuma_office", "街道办事处", "department").status_code == 303
    )
    assert (
        add_unit(admin, "lc_wuma_office", "lc_wuma_office_st", "联络站", "station").status_code
        == 303
    )
    assert add_unit(admin, "lc_wuma_office", "lc_wuma_office_ct", "县", "county").status_code == 422


def test_added_units_are_edited_and_switched_off_and_audited(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    assert (
        add_unit(admin, "lc_nanhui_st", "lc_nanhui_pt2", "南汇二号点", "point").status_code == 303
    )
    assert admin.post("/admin/orgs/lc", {"zh": "改名"}).status_code == 403  # manifest unit
    uid = new_user(admin, "pt2_officer", "联络员甲")
    admin.post(f"/admin/users/{uid}/grants", {"org": "lc_nanhui_pt2", "role": "liaison"})
    held = admin.post("/admin/orgs/lc_nanhui_pt2", {"zh": "南汇二号点", "en": ""})
    assert held.status_code == 422 and "该单位还有 1 项授权" in held.text
    saved = admin.post("/admin/orgs/lc_nanhui_pt2", {"zh": "南汇第二联络点", "active": "1"})
    assert saved.status_code == 303
    grant = sql(client, 'SELECT "id" FROM "yidi_grant" WHERE "org_unit_id" = \'lc_nanhui_pt2\'')
    admin.post(f"/admin/users/{uid}/grants/delete", {"grant": grant[0]["id"]})
    off = admin.post("/admin/orgs/lc_nanhui_pt2", {"zh": "南汇第二联络点"})
    assert off.status_code == 303
    tree = admin.get("/admin/orgs").text
    assert "南汇第二联络点" in tree and "已停用" in tree
    again = admin.post(f"/admin/users/{uid}/grants", {"org": "lc_nanhui_pt2", "role": "liaison"})
    assert again.status_code == 422 and "该单位已停用" in again.text
    below = add_unit(admin, "lc_nanhui_pt2", "lc_nanhui_pt2_x", "下级", "department")
    assert below.status_code == 422 and "该单位已停用" in below.text
    audit = admin.get("/admin/audit?table=yidi_org_unit&record=lc_nanhui_pt2").text
    assert "南汇二号点" in audit and "南汇第二联络点" in audit and "active" in audit


def admin_routes(client: TestClient) -> list[tuple[str, str]]:
    params = {"id": "1", "token": "0" * 32}
    out = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path.startswith("/admin"):
            path = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: params[m.group(1)], route.path)
            out += [(method, path) for method in route.methods or () if method != "HEAD"]
    return out


def test_only_admins_reach_the_admin_pages(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    routes = admin_routes(client)
    assert len(routes) >= 20
    for method, path in routes:
        response = client.request(method, path)
        if method == "GET":
            assert response.status_code == 303 and "/login" in response.headers["location"]
        else:
            assert response.status_code == 403, (method, path)  # no CSRF cookie yet
    for login in ("lc_staff", "deputy_li", "lc_leader"):
        user = Browser(client, data_dir).login(login)
        for method, path in routes:
            if path == "/admin/stranded" and login == "lc_staff":
                continue  # staff see their subtree's stranded records (test_catalog_stranded.py)
            response = user.get(path) if method == "GET" else user.post(path, {"id": "x"})
            assert response.status_code == 403, (login, method, path, response.status_code)
    admin = Browser(client, data_dir).login("admin")
    for method, path in routes:
        if method == "POST":
            bare = client.post(path, data={"parent": "lc", "id": "lc_csrf", "zh": "x"})
            assert bare.status_code == 403, path
    assert "lc_csrf" not in client.app.state.deployment.org  # type: ignore[attr-defined]
    index = admin.get("/admin").text
    for link in ("/admin/orgs", "/admin/users", "/admin/users/import", "/admin/audit"):
        assert f'href="{link}"' in index
    assert "Org tree" in admin.get("/admin?lang=en").text


def test_a_unit_added_by_another_process_is_loaded_and_an_unknown_unit_matches_nothing(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    assert not any(
        deployment.org_path(u).startswith(deployment.org_path("nowhere")) for u in deployment.org
    )
    admin = Browser(client, data_dir).login("admin")
    assert (
        add_unit(admin, "lc_wuma_st", "lc_wuma_pt3", "五马第三联络点", "point").status_code == 303
    )
    uid = new_user(admin, "deputy_far", "远方代表")
    granted = admin.post(f"/admin/users/{uid}/grants", {"org": "lc_wuma_pt3", "role": "deputy"})
    assert granted.status_code == 303, granted.text
    password = PASSWORD.search(admin.post(f"/admin/users/{uid}/password").text).group(1)  # type: ignore[union-attr]
    # this process forgets the unit, as a second process that never saw the admin's edit would
    del deployment.org["lc_wuma_pt3"]
    deputy = sign_in(client, data_dir, "deputy_far", password)
    assert deputy.get("/s/suggestions/f/new").status_code == 200
    assert deployment.org_path("lc_wuma_pt3") == "/zj/wz/lc/lc_wuma/lc_wuma_st/lc_wuma_pt3/"


def test_the_home_page_links_the_admin_pages_for_admins_only(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    admin_home = Browser(client, data_dir).login("admin").get("/").text
    for url in ("/admin/orgs", "/admin/users", "/admin/users/import", "/admin/audit"):
        assert f'href="{url}"' in admin_home
    staff_home = Browser(client, data_dir).login("lc_staff").get("/").text
    assert 'href="/admin/' not in staff_home
