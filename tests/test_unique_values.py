"""A unique field's clash is a message next to the field (form) or a stable API code, never a 500."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.webkit import ROOT, Browser, make_client

NEW = "/s/suggestions/f/new"
API = "/api/s/suggestions/suggestion"
BODY = "这是一条足够长的测试建议内容文本，用来检查唯一值。"


def unique_title_deployment(folder: Path) -> Path:
    """The demo deployment, with the suggestion's title declared unique."""
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    shutil.copy(ROOT / "scenarios.yaml", folder / "scenarios.yaml")
    spec = folder / "scenarios" / "suggestions" / "scenario.yaml"
    text = spec.read_text("utf-8")
    marker = "        label: {zh: 标题, en: Title}\n        required: true\n"
    assert marker in text
    spec.write_text(text.replace(marker, marker + "        unique: true\n", 1), "utf-8")
    return folder / "scenarios.yaml"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    manifest = unique_title_deployment(tmp_path / "deploy")
    data = tmp_path / "data"
    data.mkdir()
    with make_client(data, url, manifest=manifest) as client:
        yield client, data


def test_a_taken_value_is_a_field_message_in_the_form_and_the_api(
    site: tuple[TestClient, Path],
) -> None:
    deputy = Browser(*site).login("deputy_li")
    deputy.get(NEW)
    fields = {"title": "关于路灯的建议", "category": "交通出行", "body": BODY}
    first = deputy.post(NEW, fields)
    assert first.status_code == 303, first.text
    again = deputy.post(NEW, fields)
    assert again.status_code == 422
    assert re.search(r'id="e-title" role="alert">已有记录使用了这个值', again.text)
    assert 'value="关于路灯的建议"' in again.text  # nothing typed is lost
    headers = {"X-CSRF-Token": deputy.token}
    clash = deputy.client.post(API, json=fields, headers=headers)
    assert clash.status_code == 409
    error = clash.json()["error"]
    assert error["code"] == "taken" and set(error["fields"]) == {"title"}
    other = deputy.client.post(API, json={**fields, "title": "另一条"}, headers=headers)
    assert other.status_code == 201
    rid = other.json()["data"]["id"]
    patch = deputy.client.patch(
        f"{API}/{rid}", json={"title": "关于路灯的建议", "row_version": 1}, headers=headers
    )
    assert patch.status_code == 409 and patch.json()["error"]["code"] == "taken"
    mine = deputy.get("/s/suggestions/v/mine").text
    assert mine.count("关于路灯的建议") == 1 and "另一条" in mine


def test_a_taken_value_on_the_edit_page_is_a_field_message(
    site: tuple[TestClient, Path],
) -> None:
    deputy = Browser(*site).login("deputy_li")
    deputy.get(NEW)
    ids = []
    for title in ("第一条唯一标题", "第二条唯一标题"):
        made = deputy.post(NEW, {"title": title, "category": "教育", "body": BODY})
        assert made.status_code == 303, made.text
        ids.append(int(re.search(r"/(\d+)\?", made.headers["location"]).group(1)))  # type: ignore[union-attr]
    staff = Browser(*site).login("lc_staff")
    edit = f"/s/suggestions/r/suggestion/{ids[1]}/edit"
    version = re.search(r'name="_version" value="(\d+)"', staff.get(edit).text)
    assert version
    fields = {"title": "第一条唯一标题", "category": "教育", "body": BODY}
    clash = staff.post(edit, {**fields, "_version": version.group(1)})
    assert clash.status_code == 422
    assert re.search(r'id="e-title" role="alert">已有记录使用了这个值', clash.text)
    assert "第二条唯一标题" in staff.get(f"/s/suggestions/r/suggestion/{ids[1]}").text
