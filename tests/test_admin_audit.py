"""The audit page: newest first, filters, keyset pages, a streamed CSV export, read-only."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from starlette.routing import Route

from runtime.web.admin import audit
from tests.test_admin_orgs import add_unit, new_user, sql
from tests.webkit import Browser, make_client

ROW = re.compile(r"<tr>\s*<td data-label=\"时间\">")


def test_the_audit_is_filtered_paged_and_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_client(tmp_path, records=3) as client:
        routes = [r for r in client.app.routes if isinstance(r, Route) and "audit" in r.path]  # type: ignore[attr-defined]
        assert routes and all(set(r.methods or ()) <= {"GET", "HEAD"} for r in routes)
        admin = Browser(client, tmp_path).login("admin")
        demo = sql(client, 'SELECT count(*) AS n FROM "yidi_change"')[0]["n"]  # demo records
        uid = new_user(admin, "audit_me", "审计对象")
        admin.post(f"/admin/users/{uid}/grants", {"org": "lc", "role": "staff"})
        admin.post(f"/admin/users/{uid}", {"name": "审计对象二", "active": "1"})
        admin.post(f"/admin/users/{uid}/password")
        add_unit(admin, "lc_wuma_st", "lc_wuma_pt9", "九号点", "point")

        page = admin.get("/admin/audit")
        assert page.status_code == 200
        assert len(ROW.findall(page.text)) == min(5 + demo, audit.PAGE)  # the admin's five first
        body = page.text.split("<tbody>", 1)[1]
        assert (
            body.index("九号点") < body.index("重置密码") < body.index("audit_me")
        )  # newest first
        assert "管理员（admin）" in page.text and "testclient" in page.text

        def rows(query: str) -> int:
            return len(ROW.findall(admin.get("/admin/audit?" + query).text))

        assert rows("table=yidi_user") == 3
        assert rows("table=yidi_grant&action=create") == 1
        assert rows("action=update") == 1
        assert rows("actor=admin") == 5
        assert rows(f"record={uid}&table=yidi_user") == 3
        assert rows("record=lc_wuma_pt9") == 1
        assert rows("table=suggestions__suggestion") == 3
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        assert rows(f"from={today}&to={today}") == min(5 + demo, audit.PAGE)
        assert rows(f"from={today + dt.timedelta(days=1)}") == 0
        assert rows(f"to={today - dt.timedelta(days=1)}") == 0
        update = admin.get("/admin/audit?action=update").text
        assert "<del>审计对象</del>" in update and "<ins>审计对象二</ins>" in update

        for query, message in (
            ("actor=nobody", "没有这个账号"),
            ("from=2026-13-40", "日期格式应为 YYYY-MM-DD"),
            ("from=2026-05-02&to=2026-05-01", "截止日期早于起始日期"),
            ("table=yidi_session", "无效的选项"),
        ):
            bad = admin.get("/admin/audit?" + query)
            assert bad.status_code == 422 and message in bad.text, query

        monkeypatch.setattr(audit, "PAGE", 2)
        monkeypatch.setattr(audit, "BATCH", 2)
        paged: list[str] = []
        url: str | None = "/admin/audit?actor=admin"
        while url:
            got = admin.get(url.replace("&amp;", "&"))
            paged += re.findall(
                r'<a href="[^"]*">([^<]+)</a></td>\s*<td data-label="操作">', got.text
            )
            found = re.search(r'href="([^"]+)" rel="next"', got.text)
            url = found.group(1) if found else None
        assert len(paged) == 5 and paged[0] == "lc_wuma_pt9" and paged.count(str(uid)) == 3
        back = re.search(r'href="([^"]+)" rel="prev"', got.text)
        assert back and len(ROW.findall(admin.get(back.group(1).replace("&amp;", "&")).text)) == 2

        export = admin.get("/admin/audit/export.csv?table=yidi_user")
        assert export.status_code == 200
        assert export.headers["content-type"].startswith("text/csv")
        assert "attachment" in export.headers["content-disposition"]
        assert export.content.startswith("\ufeff".encode())
        lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
        assert lines[0][:5] == ["id", "at", "table", "record_id", "action"]
        assert [line[4] for line in lines[1:]] == ["reset_password", "update", "create"]
        assert all(line[6] == "admin" for line in lines[1:])
        everything = admin.get("/admin/audit/export.csv").content.decode("utf-8-sig")
        assert len(list(csv.reader(io.StringIO(everything)))) == 1 + 5 + demo
        assert admin.get("/admin/audit/export.csv?from=bad").status_code == 422
        frag = admin.htmx("GET", "/admin/audit?action=create", headers={"HX-Target": "results"})
        assert frag.status_code == 200 and "<html" not in frag.text

        count = sql(client, 'SELECT COUNT(*) AS n FROM "yidi_change"')[0]["n"]
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert admin.htmx(method, "/admin/audit").status_code in (403, 405)
        assert sql(client, 'SELECT COUNT(*) AS n FROM "yidi_change"')[0]["n"] == count
