"""The gate every route passes: CSRF, sign-in, other counties' records, files, themes, language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

PARAMS = {
    "scenario": "suggestions",
    "view": "all",
    "form": "new",
    "entity": "suggestion",
    "id": "1",
    "token": "0" * 32,
    "fmt": "csv",
    "tid": "accept",
    "task": "1",
    "act": "reply",
    "rule": "points",
}
BODY = "这是一条足够长的测试建议内容文本，用来检查访问控制。"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    with make_client(tmp_path) as client:
        yield client, tmp_path


def as_user(site: tuple[TestClient, Path], login: str) -> Browser:
    return Browser(*site).login(login)


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: PARAMS[m.group(1)], path)


def test_every_route_passes_the_gate(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    routes = client.app.routes  # type: ignore[attr-defined]
    ungated = [
        r.path for r in routes if isinstance(r, Route) and not getattr(r.endpoint, "gated", False)
    ]
    assert ungated == []
    mounts = [r.path for r in routes if isinstance(r, Mount)]
    assert all(m.startswith("/static/") for m in mounts)


def test_every_state_changing_route_needs_the_csrf_token(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    Browser(client, data_dir).login("lc_staff")
    unsafe = [
        (m, concrete(r.path))
        for r in client.app.routes
        if isinstance(r, Route)  # type: ignore[attr-defined]
        for m in (r.methods or [])
        if m in ("POST", "PUT", "PATCH", "DELETE")
    ]
    assert len(unsafe) >= 8
    for method, path in unsafe:
        response = client.request(method, path, data={"title": "x"})
        assert response.status_code == 403, (method, path, response.status_code)
        forged = client.request(method, path, data={"title": "x", "_csrf": "0" * 64})
        assert forged.status_code == 403, (method, path)


def test_anonymous_visitors_are_sent_to_sign_in(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    response = client.get("/s/suggestions/v/all")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    api = client.get("/api/s/suggestions/suggestion")
    assert api.status_code == 401
    assert api.json()["error"]["code"] == "unauthenticated"


def test_a_deputy_cannot_open_staff_views(site: tuple[TestClient, Path]) -> None:
    deputy = as_user(site, "deputy_li")
    assert deputy.get("/s/suggestions/v/all").status_code == 403
    assert deputy.get("/s/suggestions/v/all/export.csv").status_code == 403


def test_another_county_cannot_read_or_list_or_download(site: tuple[TestClient, Path]) -> None:
    deputy = as_user(site, "deputy_li")  # Lucheng
    deputy.get("/s/suggestions/f/new")
    created = deputy.post(
        "/s/suggestions/f/new",
        {"title": "鹿城的建议", "category": "教育", "body": BODY},
        files={"attachments": ("note.pdf", b"%PDF-1.4 test", "application/pdf")},
    )
    assert created.status_code == 303, created.text
    location = created.headers["location"].split("?")[0]
    page = deputy.get(location)
    link = re.search(r'href="(/files/\d+)"', page.text)
    assert link, "the attachment is listed on the record page"
    assert deputy.get(link.group(1)).content == b"%PDF-1.4 test"
    rid = location.rsplit("/", 1)[1]
    rui_an = as_user(site, "ra_staff")  # Rui'an: another county
    assert rui_an.get(location).status_code == 404
    assert "鹿城的建议" not in rui_an.get("/s/suggestions/v/all").text
    assert rui_an.get(link.group(1)).status_code == 404
    assert rui_an.get(f"/api/s/suggestions/suggestion/{rid}").status_code == 404
    assert "鹿城的建议" not in rui_an.get("/s/suggestions/v/all/export.csv").content.decode(
        "utf-8-sig"
    )
    searched = rui_an.get("/s/suggestions/v/all", params={"q": "鹿城"})
    assert "鹿城的建议" not in searched.text and "共 0 条" in searched.text  # search and count
    assert "鹿城的建议" not in rui_an.get("/s/suggestions/v/board").text
    listed = rui_an.get("/api/s/suggestions/suggestion").json()
    assert listed["total"] == 0 and listed["data"] == []
    for guess in range(int(rid) - 2, int(rid) + 3):  # guessing ids finds nothing either
        assert rui_an.get(f"/s/suggestions/r/suggestion/{guess}").status_code == 404
    lucheng = as_user(site, "lc_staff")
    assert "鹿城的建议" in lucheng.get("/s/suggestions/v/all").text
    city = as_user(site, "wz_staff")
    assert city.get(location).status_code == 200


def test_theme_follows_the_org_unit_and_language_switches(site: tuple[TestClient, Path]) -> None:
    lucheng = as_user(site, "lc_staff")  # under Wenzhou, which has its own theme
    assert "/static/themes/wenzhou/theme.css" in lucheng.get("/").text
    admin = as_user(site, "admin")  # the province uses the default theme
    assert "/static/themes/wenzhou/theme.css" not in admin.get("/").text
    english = admin.get("/?lang=en")
    assert "Sign out" in english.text and 'lang="en"' in english.text
    assert "Sign out" in admin.get("/").text  # remembered in a cookie
    assert admin.client.get("/static/themes/wenzhou/logo.svg").status_code == 200
    assert admin.client.get("/static/vendor/htmx/htmx.min.js").status_code == 200


def test_pages_and_fragments_vary_on_hx_request(site: tuple[TestClient, Path]) -> None:
    staff = as_user(site, "lc_staff")
    full = staff.get("/s/suggestions/v/all")
    part = staff.htmx("GET", "/s/suggestions/v/all")
    assert full.headers["vary"] == part.headers["vary"] == "HX-Request"
    assert "<html" in full.text and "<html" not in part.text


def test_session_cookie_flags_and_logout(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    browser = Browser(client, data_dir)
    browser.refresh_token("/login")
    from runtime.demo import demo_password

    response = client.post(
        "/login",
        data={
            "login": "lc_staff",
            "password": demo_password(data_dir),
            "_csrf": browser.token,
            "next": "//evil.example/",
        },
    )
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert response.headers["location"] == "/"  # no open redirect
    browser.refresh_token("/")
    assert client.post("/logout", data={"_csrf": browser.token}).status_code == 303
    assert client.get("/s/suggestions/v/all").status_code == 303


def test_wrong_password_is_refused_without_saying_which_part(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    browser = Browser(client, data_dir)
    for login in ("lc_staff", "nobody"):
        browser.refresh_token("/login")
        response = client.post(
            "/login", data={"login": login, "password": "wrong", "_csrf": browser.token}
        )
        assert response.status_code == 401
        assert "账号或密码不正确" in response.text
