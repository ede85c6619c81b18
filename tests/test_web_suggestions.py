"""The suggestions scenario through the real app over HTTP, on SQLite and PostgreSQL:
create, inline checks, edit (with a conflict), list, filter, sort, paginate, export, import."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.webkit import Browser, make_client

NEW = "/s/suggestions/f/new"
ALL = "/s/suggestions/v/all"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[object, Path]]:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_dsn")
    with make_client(tmp_path, url, records=0) as client:
        yield client, tmp_path


def browser(site: tuple[object, Path], login: str) -> Browser:
    client, data_dir = site
    return Browser(client, data_dir).login(login)  # type: ignore[arg-type]


def submit_suggestion(
    b: Browser, title: str, category: str = "教育", body: str | None = None
) -> str:
    page = b.get(NEW)
    assert page.status_code == 200
    response = b.post(
        NEW,
        {
            "title": title,
            "category": category,
            "session": "闭会期间",
            "body": body or "这是一条用于测试的建议内容，长度超过二十个字。",
        },
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def record_id(location: str) -> int:
    found = re.search(r"/(\d+)(\?|$)", location)
    assert found
    return int(found.group(1))


def test_deputy_creates_and_it_is_submitted(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    home = deputy.get("/")
    assert "提出建议" in home.text and "我的建议" in home.text
    location = submit_suggestion(deputy, "关于增设学校门口护学岗的建议")
    page = deputy.get(location)
    assert page.status_code == 200
    assert "关于增设学校门口护学岗的建议" in page.text
    assert "初审" in page.text  # the form's `then: submit` moved it to review
    assert "变更记录" in page.text
    mine = deputy.get("/s/suggestions/v/mine")
    assert "关于增设学校门口护学岗的建议" in mine.text


def test_form_errors_are_shown_next_to_the_field(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    deputy.get(NEW)
    response = deputy.post(NEW, {"title": "", "category": "不存在的类别", "body": "太短"})
    assert response.status_code == 422
    assert re.search(r'id="e-title" role="alert">此项为必填<', response.text)
    assert re.search(r'id="e-category" role="alert">[^<]+<', response.text)
    assert re.search(r'id="e-body" role="alert">[^<]*20[^<]*<', response.text)
    # nothing was saved
    assert "暂无记录" in deputy.get("/s/suggestions/v/mine").text


def test_inline_check_answers_with_the_field_message(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    deputy.get(NEW)
    response = deputy.htmx("POST", f"{NEW}/check?field=body", data={"title": "x", "body": "太短了"})
    assert response.status_code == 200
    assert response.text.startswith('<p class="error" id="e-body"')
    assert "20" in response.text
    assert response.headers["vary"] == "HX-Request"


def test_html_is_escaped_everywhere(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    script = "<script>alert('x')</script>"
    location = submit_suggestion(
        deputy, f"标题{script}", body=f"内容{script}，这是一段足够长的建议正文内容。"
    )
    page = deputy.get(location)
    assert script not in page.text
    assert "&lt;script&gt;" in page.text


def test_staff_list_filter_sort_paginate_and_search(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    for i in range(25):
        submit_suggestion(deputy, f"分页测试建议{i:02d}", category="交通出行" if i % 2 else "教育")
    staff = browser(site, "lc_staff")
    first = staff.get(ALL)
    assert first.status_code == 200
    assert "共 25 条" in first.text
    assert first.text.count('<tr data-record="') == 20  # page size 20
    next_url = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_url
    second = staff.get(next_url.group(1).replace("&amp;", "&"))
    assert second.text.count('<tr data-record="') == 5
    filtered = staff.get(ALL, params={"f.category": "交通出行"})
    assert "共 12 条" in filtered.text
    ascending = staff.get(ALL, params={"sort": "title"})
    titles = re.findall(r"分页测试建议(\d\d)", ascending.text)
    assert titles == sorted(titles)
    found = staff.get(ALL, params={"q": "建议07"})
    assert "共 1 条" in found.text
    fragment = staff.htmx(
        "GET", ALL, params={"f.category": "教育"}, headers={"HX-Target": "results"}
    )
    assert fragment.text.lstrip().startswith('<div id="results">')
    assert "<html" not in fragment.text


def test_unknown_sort_and_filter_are_400(site: tuple[object, Path]) -> None:
    staff = browser(site, "lc_staff")
    assert staff.get(ALL, params={"sort": "nope"}).status_code == 400
    assert staff.get(ALL, params={"f.nope": "x"}).status_code == 400
    assert staff.get(ALL, params={"f.category": "x" * 5000}).status_code in (200, 400)


def test_export_csv_and_xlsx(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    for i in range(3):
        submit_suggestion(deputy, f"导出测试{i}")
    staff = browser(site, "lc_staff")
    csv_response = staff.get(f"{ALL}/export.csv")
    assert csv_response.status_code == 200
    rows = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["编号", "标题"]
    assert {r[1] for r in rows[1:]} == {"导出测试0", "导出测试1", "导出测试2"}
    xlsx = staff.get(f"{ALL}/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert sheet.max_row == 4


def test_import_preview_errors_then_confirm(site: tuple[object, Path]) -> None:
    staff = browser(site, "lc_staff")
    page = staff.get(f"{ALL}/import")
    assert page.status_code == 200
    bad = "标题,类别,建议内容\n好的标题,教育,这是一条足够长的导入测试建议内容文本，用来检查导入功能。\n,不存在,短\n"
    preview = staff.post(
        f"{ALL}/import", files={"file": ("bad.csv", bad.encode("utf-8"), "text/csv")}
    )
    assert preview.status_code == 422
    assert "<td>3</td>" in preview.text  # the row of the problems
    assert "此项为必填" in preview.text
    book = Workbook()
    sheet = book.active
    sheet.append(["标题", "类别", "建议内容"])
    for i in range(120):
        sheet.append(
            [f"导入建议{i}", "教育", "这是一条足够长的导入测试建议内容文本，用来检查导入功能。"]
        )
    data = io.BytesIO()
    book.save(data)
    good = staff.post(
        f"{ALL}/import", files={"file": ("good.xlsx", data.getvalue(), "application/octet-stream")}
    )
    assert good.status_code == 200, good.text
    confirm = re.search(r'action="([^"]+/import/[0-9a-f]{32})"', good.text)
    assert confirm and "确认导入 120 条" in good.text
    staff.post(confirm.group(1))
    for _ in range(100):
        progress = staff.get(confirm.group(1) + "/progress")
        if "已导入 120 条" in progress.text:
            break
        time.sleep(0.1)
    assert "已导入 120 条" in progress.text
    assert "共 120 条" in staff.get(ALL).text


def test_malformed_files_do_not_crash(site: tuple[object, Path]) -> None:
    staff = browser(site, "lc_staff")
    for name, payload in [
        ("x.xlsx", b"not a zip"),
        ("x.csv", b"\x00\x01\x02"),
        ("x.txt", b"a,b"),
        ("x.csv", b'"unclosed,quote\n'),
    ]:
        response = staff.post(
            f"{ALL}/import", files={"file": (name, payload, "application/octet-stream")}
        )
        assert response.status_code in (200, 422), (name, response.status_code)


def test_edit_conflict_says_who_changed_it(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    deputy.get("/s/suggestions/f/new")
    response = deputy.post(
        NEW,
        {
            "title": "冲突测试",
            "category": "教育",
            "body": "这是一条足够长的测试建议内容文本，用来检查编辑和附件功能。",
        },
    )
    rid = record_id(response.headers["location"])
    staff = browser(site, "lc_staff")
    edit = f"/s/suggestions/r/suggestion/{rid}/edit"
    form = staff.get(edit)
    assert form.status_code == 200
    version = re.search(r'name="_version" value="(\d+)"', form.text)
    assert version
    fields = {
        "title": "改过的标题",
        "category": "教育",
        "body": "这是一条足够长的测试建议内容文本，用来检查编辑和附件功能。",
        "_version": version.group(1),
    }
    assert staff.post(edit, fields).status_code == 303
    stale = staff.post(edit, {**fields, "title": "又改一次"})
    assert stale.status_code == 409
    assert "王芳" in stale.text and "修改" in stale.text


def test_text_in_a_number_field_gets_a_message(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    deputy.get(NEW)
    fields = {
        "title": "人数测试",
        "category": "教育",
        "body": "这是一条足够长的测试建议内容文本，用来检查数字字段。",
    }
    response = deputy.post(NEW, {**fields, "affected": "很多人"})
    assert response.status_code == 422
    assert re.search(r'id="e-affected" role="alert">请输入[^<]*数[^<]*<', response.text)
    assert 'value="很多人"' in response.text  # what was typed is kept
    negative = deputy.post(NEW, {**fields, "affected": "-3"})
    assert negative.status_code == 422
    assert deputy.post(NEW, {**fields, "affected": "1,200"}).status_code == 303


def test_oversized_upload_of_the_wrong_type(site: tuple[object, Path]) -> None:
    deputy = browser(site, "deputy_li")
    deputy.get(NEW)
    big = b"0" * (11 * 1024 * 1024)
    response = deputy.post(
        NEW,
        {
            "title": "附件测试",
            "category": "教育",
            "body": "这是一条足够长的测试建议内容文本，用来检查编辑和附件功能。",
        },
        files={"attachments": ("big.exe", big, "application/octet-stream")},
    )
    assert response.status_code == 422
    assert re.search(r'id="e-attachments" role="alert">[^<]+<', response.text)
