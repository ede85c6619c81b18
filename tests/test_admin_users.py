"""Users and grants: create, edit, reset a password (shown once), grant and revoke, audited."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.test_admin_orgs import PASSWORD, new_user, sign_in, sql
from tests.webkit import Browser, make_client


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    with make_client(tmp_path) as client:
        yield client, tmp_path


def changes(client: TestClient, table: str) -> list[dict[str, object]]:
    return sql(
        client,
        'SELECT "record_id", "action", "actor", "ip", "before", "after", "note" '
        f'FROM "yidi_change" WHERE "table" = \'{table}\' ORDER BY "id"',
    )


def test_reset_shows_a_password_once_and_the_audit_keeps_no_trace_of_it(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    uid = new_user(admin, "wang.station", "王站长")
    page = admin.get(f"/admin/users/{uid}?ok=user_created")
    assert (
        "已创建账号" in page.text
        and "未设密码" in page.text
        and 'class="password"' not in page.text
    )
    shown = admin.post(f"/admin/users/{uid}/password")
    assert shown.status_code == 200
    password = PASSWORD.search(shown.text).group(1)  # type: ignore[union-attr]
    assert len(password) == 19 and password.count("-") == 3
    assert password not in admin.get(f"/admin/users/{uid}").text  # shown once only
    stored = sql(client, f'SELECT "password_hash" FROM "yidi_user" WHERE "id" = {uid}')
    assert stored[0]["password_hash"].startswith("$argon2id$")
    assert password not in stored[0]["password_hash"]

    admin_id = sql(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = \'admin\'')[0]["id"]
    rows = changes(client, "yidi_user")
    assert [r["action"] for r in rows] == ["create", "reset_password"]
    reset = rows[1]
    assert reset["record_id"] == uid and reset["actor"] == admin_id and reset["ip"]
    assert reset["before"] is None and reset["after"] is None
    audit = admin.get("/admin/audit?action=reset_password")
    assert (
        audit.status_code == 200
        and "重置密码" in audit.text
        and f"/admin/users/{uid}" in audit.text
    )
    export = admin.get("/admin/audit/export.csv").content.decode("utf-8-sig")
    for text in (audit.text, export):
        assert password not in text and "$argon2" not in text

    user = sign_in(client, data_dir, "wang.station", password)
    assert user.get("/").status_code == 200
    assert "王站长" in user.get("/").text
    # a second reset ends that session and the old password
    admin = Browser(client, data_dir).login("admin")
    admin.post(f"/admin/users/{uid}/password")
    client.cookies.clear()
    browser = Browser(client, data_dir)
    browser.refresh_token("/login")
    old = client.post(
        "/login", data={"login": "wang.station", "password": password, "_csrf": browser.token}
    )
    assert old.status_code == 401


def test_grants_are_added_and_removed_with_before_and_after_in_the_audit(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    uid = new_user(admin, "zhao", "赵代表")
    added = admin.post(f"/admin/users/{uid}/grants", {"org": "lc_nanhui_st", "role": "deputy"})
    assert added.status_code == 303
    assert "南汇街道人大代表联络站" in admin.get(f"/admin/users/{uid}").text
    again = admin.post(f"/admin/users/{uid}/grants", {"org": "lc_nanhui_st", "role": "deputy"})
    assert again.status_code == 422 and "该用户已在此单位拥有该角色" in again.text
    bad = admin.post(f"/admin/users/{uid}/grants", {"org": "nowhere", "role": "emperor"})
    assert bad.status_code == 422
    assert "未知单位：nowhere" in bad.text and "未知角色：emperor" in bad.text
    grant = sql(client, f'SELECT "id" FROM "yidi_grant" WHERE "user_id" = {uid}')[0]["id"]
    removed = admin.post(f"/admin/users/{uid}/grants/delete", {"grant": str(grant)})
    assert removed.status_code == 303
    assert (
        sql(client, f'SELECT COUNT(*) AS n FROM "yidi_grant" WHERE "user_id" = {uid}')[0]["n"] == 0
    )
    rows = changes(client, "yidi_grant")
    assert [r["action"] for r in rows] == ["create", "delete"]
    expected = {"user_id": uid, "login": "zhao", "org_unit_id": "lc_nanhui_st", "role": "deputy"}
    assert rows[0]["before"] is None and json.loads(str(rows[0]["after"])) == expected
    assert json.loads(str(rows[1]["before"])) == expected and rows[1]["after"] is None
    assert {r["record_id"] for r in rows} == {grant}
    page = admin.get("/admin/audit?table=yidi_grant").text
    assert page.count("lc_nanhui_st") >= 2 and "<del>" in page and "<ins>" in page


def test_the_last_admin_grant_cannot_be_removed(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    me = sql(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = \'admin\'')[0]["id"]
    grant = sql(client, f'SELECT "id" FROM "yidi_grant" WHERE "user_id" = {me}')[0]["id"]
    refused = admin.post(f"/admin/users/{me}/grants/delete", {"grant": str(grant)})
    assert refused.status_code == 409 and "最后一项全局管理员授权" in refused.text
    off = admin.post(f"/admin/users/{me}", {"name": "管理员"})
    assert off.status_code == 422 and "不能停用自己的账号" in off.text
    assert admin.get("/admin").status_code == 200
    # with a second admin at the root, the first grant may go
    other = new_user(admin, "admin2", "第二管理员")
    admin.post(f"/admin/users/{other}/grants", {"org": "zj", "role": "admin"})
    assert admin.post(f"/admin/users/{me}/grants/delete", {"grant": str(grant)}).status_code == 303
    assert admin.get("/admin").status_code == 403  # at once: the decisions were forgotten
    assert changes(client, "yidi_grant")[-1]["action"] == "delete"


def test_a_county_admin_stays_inside_the_county(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    county = new_user(admin, "lc_admin", "鹿城管理员")
    admin.post(f"/admin/users/{county}/grants", {"org": "lc", "role": "admin"})
    password = PASSWORD.search(admin.post(f"/admin/users/{county}/password").text).group(1)  # type: ignore[union-attr]
    me = sql(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = \'admin\'')[0]["id"]
    ra = sql(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = \'ra_staff\'')[0]["id"]
    lc = sql(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = \'lc_staff\'')[0]["id"]
    local = sign_in(client, data_dir, "lc_admin", password)
    assert local.post(f"/admin/users/{me}/password").status_code == 403
    assert local.post(f"/admin/users/{ra}", {"name": "x"}).status_code == 403
    outside = local.post(f"/admin/users/{lc}/grants", {"org": "zj", "role": "admin"})
    assert outside.status_code == 422 and "不在您的管理范围内" in outside.text
    assert local.post(f"/admin/users/{lc}/password").status_code == 200
    assert (
        local.post(
            "/admin/orgs/new", {"parent": "ra", "id": "ra_x", "zh": "x", "kind": "township"}
        ).status_code
        == 403
    )


def test_users_are_listed_searched_and_paged_by_login(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    lines = ["账号,姓名,单位,角色"] + [
        f"u{n:03d},用户{n:03d},lc_wuma_st,deputy" for n in range(120)
    ]
    upload = admin.post(
        "/admin/users/import",
        files={"file": ("users.csv", "\n".join(lines).encode(), "text/csv")},
    )
    token = re.search(r'/admin/users/import/([0-9a-f]{32})"', upload.text).group(1)  # type: ignore[union-attr]
    admin.post(f"/admin/users/import/{token}")
    for _ in range(100):
        if "导入完成" in admin.get(f"/admin/users/import/{token}/progress").text:
            break
    seen: list[str] = []
    url: str | None = "/admin/users?q=U0&org=lc_wuma"
    while url:
        page = admin.get(url.replace("&amp;", "&"))
        seen += re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', page.text)
        found = re.search(r'href="([^"]+)" rel="next"', page.text)
        url = found.group(1) if found else None
    assert seen == [f"u{n:03d}" for n in range(100)]  # case-insensitive, in order, no repeats
    assert "共 100 条" in admin.get("/admin/users?q=U0").text
    back = admin.get("/admin/users?before=u050").text
    assert "u049" in back and "u050" not in back
    listed = re.compile(r'<a href="/admin/users/\d+">([^<]+)</a>')
    assert listed.findall(admin.get("/admin/users?role=admin").text) == ["admin"]
    assert listed.findall(admin.get("/admin/users?role=deputy&org=ra").text) == ["deputy_wu"]
    assert len(listed.findall(admin.get("/admin/users?active=0").text)) == 0
    frag = admin.htmx("GET", "/admin/users?q=%25", headers={"HX-Target": "results"})
    assert frag.status_code == 200 and "<html" not in frag.text and "共 0 条" in frag.text
    name = admin.post(
        f"/admin/users/{sql(client, 'SELECT MIN(id) AS i FROM yidi_user')[0]['i']}", {"name": ""}
    )
    assert name.status_code == 422 and "此项为必填" in name.text
    taken = admin.post("/admin/users/new", {"login": "u001", "name": "重复"})
    assert (
        taken.status_code == 422 and "该账号已存在" in taken.text and 'value="重复"' in taken.text
    )
    assert admin.post("/admin/users/new", {"login": "a b", "name": "x"}).status_code == 422
    escaped = admin.post("/admin/users/new", {"login": "xss", "name": "<script>alert(1)</script>"})
    assert "<script>alert(1)" not in admin.get(escaped.headers["location"]).text


def test_bad_input_on_every_admin_form_is_answered_not_crashed(
    site: tuple[TestClient, Path],
) -> None:
    from urllib.parse import quote

    client, data_dir = site
    admin = Browser(client, data_dir).login("admin")
    for value in ("", "0", "-1", "9" * 40, "\x00", "<b>", "%_\\", "new", "é" * 3000):
        q = quote(value[:300], safe="") or "x"
        for method, url, data in (
            ("POST", "/admin/orgs/new", {"parent": value, "id": value, "zh": value, "kind": value}),
            ("POST", "/admin/orgs/new", {"parent": "lc", "id": "ok", "zh": value, "en": value}),
            ("POST", f"/admin/orgs/{q}", {"zh": value, "active": value}),
            ("POST", "/admin/users/new", {"login": value, "name": value}),
            ("POST", "/admin/users/1", {"name": value, "active": value}),
            ("POST", "/admin/users/1/grants", {"org": value, "role": value}),
            ("POST", "/admin/users/1/grants/delete", {"grant": value}),
            ("POST", f"/admin/users/{'9' * 25}/password", {}),
            ("GET", f"/admin/users?q={q}&after={q}&before={q}&org={q}&role={q}&active={q}", None),
            ("GET", f"/admin/audit?actor={q}&from={q}&to={q}&record={q}&after={q}", None),
            ("GET", f"/admin/audit/export.csv?record={q}&table={q}", None),
            ("GET", f"/admin/users/import/{q}/progress", None),
        ):
            response = admin.get(url) if method == "GET" else admin.post(url, data)
            assert response.status_code < 500, (method, url[:60], value[:10])
