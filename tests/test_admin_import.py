"""User import: a preview with every problem and nothing written, then batches with progress."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from openpyxl import Workbook
from starlette.testclient import TestClient

from tests.test_admin_orgs import database, sql  # noqa: F401  (the database fixture)
from tests.webkit import Browser, make_client

TOKEN = re.compile(r'/admin/users/import/([0-9a-f]{32})"')
PROBLEM = re.compile(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>")
UNITS = [
    "lc_wuma_st",
    "南汇街道人大代表联络站",
    "ra_anyang_st",
    "塘下镇人大代表联络站",
    "lc_nanhui_pt1",
]


def count(client: TestClient, table: str) -> int:
    return int(sql(client, f'SELECT COUNT(*) AS n FROM "{table}"')[0]["n"])


def upload(admin: Browser, name: str, data: bytes) -> object:
    return admin.post(
        "/admin/users/import", files={"file": (name, data, "application/octet-stream")}
    )


def test_the_preview_lists_every_problem_and_writes_nothing(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        admin = Browser(client, tmp_path).login("admin")
        assert "账号、姓名、单位" in admin.get("/admin/users/import").text
        rows = [
            "账号,姓名,单位,角色",
            "li_new,李新,lc_wuma_st,人大代表",  # 2 fine
            "wu_new,吴新,不存在的单位,deputy",  # 3 unknown unit
            "zhou_new,周新,lc,皇帝",  # 4 unknown role
            "li_new,李另,lc,deputy",  # 5 duplicate login in the file
            "admin,别人,lc,deputy",  # 6 login taken by someone with another name
            "bad login!,坏账号,lc,deputy",  # 7 bad login
            "deputy_li,李明,wz,liaison、deputy",  # 8 fine: an existing account, same name
            ",,,",  # blank: skipped
            "qian_new,,lc,deputy",  # 10 no name
        ]
        before = (count(client, "yidi_user"), count(client, "yidi_grant"))
        audited = count(client, "yidi_change")  # the demo's own (e.g. published scores)
        preview = upload(admin, "users.csv", "\n".join(rows).encode("gb18030"))
        assert preview.status_code == 422  # type: ignore[attr-defined]
        found = PROBLEM.findall(preview.text)  # type: ignore[attr-defined]
        assert ("3", "单位", "未知单位：不存在的单位") in found
        assert ("4", "角色", "未知角色：皇帝") in found
        assert ("5", "账号", "账号与第 2 行重复") in found
        assert ("6", "账号", "账号已被“管理员”使用") in found
        assert any(r[:2] == ("7", "账号") and "账号格式不正确" in r[2] for r in found)
        assert ("10", "姓名", "此项为必填") in found
        assert not any(r[0] in ("2", "8", "9") for r in found)
        assert "6 行有错误" in preview.text  # type: ignore[attr-defined]
        assert not TOKEN.search(preview.text)  # type: ignore[attr-defined]  # nothing to confirm
        assert (count(client, "yidi_user"), count(client, "yidi_grant")) == before
        assert count(client, "yidi_change") == audited
        missing = upload(admin, "x.csv", b"login,name\nx,y\n")
        assert missing.status_code == 422 and "缺少此列" in missing.text  # type: ignore[attr-defined]
        junk = upload(admin, "x.xlsx", b"not a workbook")
        assert junk.status_code == 422 and "无法读取该文件" in junk.text  # type: ignore[attr-defined]
        assert upload(admin, "x.txt", b"a").status_code == 422  # type: ignore[attr-defined]
        english = admin.post(
            "/admin/users/import?lang=en",
            files={"file": ("u.csv", b"login,name,org,role\nx1,X,nowhere,deputy\n", "text/csv")},
        )
        assert ("2", "org", "Unknown org unit: nowhere") in PROBLEM.findall(english.text)


def workbook(rows: int) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("代表")
    sheet.append(["账号", "姓名", "单位", "角色"])
    for n in range(rows):
        role = "人大代表" if n % 3 else "deputy、联络员"
        sheet.append([f"d{n:05d}", f"代表{n:05d}", UNITS[n % len(UNITS)], role])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_six_thousand_deputies_are_imported_in_batches(
    tmp_path: Path,
    database: str | None,  # noqa: F811
    capsys: object,
) -> None:
    rows = 6000
    data = workbook(rows)
    with make_client(tmp_path, database) as client:
        admin = Browser(client, tmp_path).login("admin")
        users, grants = count(client, "yidi_user"), count(client, "yidi_grant")
        started = time.perf_counter()
        preview = upload(admin, "deputies.xlsx", data)
        assert preview.status_code == 200, preview.text[:2000]  # type: ignore[attr-defined]
        assert "将新建 6000 个账号" in preview.text  # type: ignore[attr-defined]
        token = TOKEN.search(preview.text).group(1)  # type: ignore[attr-defined,union-attr]
        checked = time.perf_counter()
        running = admin.htmx("POST", f"/admin/users/import/{token}")
        assert running.status_code == 200 and 'role="progressbar"' in running.text
        assert "<html" not in running.text  # the htmx fragment
        seen: list[str] = []
        for _ in range(600):
            page = admin.htmx("GET", f"/admin/users/import/{token}/progress").text
            if "导入完成" in page:
                break
            seen += re.findall(r'aria-valuenow="(\d+)"', page)
            time.sleep(0.05)
        finished = time.perf_counter()
        assert "新建 6000 个账号，添加 8000 项授权，跳过 0 行" in page
        assert all(0 <= int(n) <= rows for n in seen)
        assert count(client, "yidi_user") == users + rows
        assert count(client, "yidi_grant") == grants + rows + rows // 3
        audit = sql(
            client,
            'SELECT "table", COUNT(*) AS n FROM "yidi_change" WHERE "note" = \'import\' '
            'GROUP BY "table" ORDER BY "table"',
        )
        assert [(r["table"], r["n"]) for r in audit] == [
            ("yidi_grant", rows + rows // 3),
            ("yidi_user", rows),
        ]
        assert (
            sql(client, 'SELECT COUNT(*) AS n FROM "yidi_user" WHERE "password_hash" IS NOT NULL')[
                0
            ]["n"]
            == 12
        )
        assert admin.post(f"/admin/users/import/{token}").status_code == 409  # once only
        listed = admin.get("/admin/users?q=d0599").text
        assert "代表05999" in listed and "南汇街道人大代表联络站" in listed
        # the same file again: every account exists with the same name, no grant is new
        token = TOKEN.search(upload(admin, "deputies.xlsx", data).text).group(1)  # type: ignore[attr-defined,union-attr]
        admin.post(f"/admin/users/import/{token}")
        for _ in range(600):
            page = admin.get(f"/admin/users/import/{token}/progress").text
            if "导入完成" in page:
                break
            time.sleep(0.05)
        assert "新建 0 个账号，添加 0 项授权" in page
        assert count(client, "yidi_user") == users + rows
    kind = "postgres" if database else "sqlite"
    with capsys.disabled():  # type: ignore[attr-defined]
        print(
            f"\n{kind}: 6000-row XLSX import: upload + check {checked - started:.2f} s, "
            f"write {finished - checked:.2f} s, total {finished - started:.2f} s"
        )
