"""``/catalog`` over HTTP: the list with search and tags, a package's page (README escaped,
forms, workflow diagram, versions), the JSON index and archives, and who may read it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from runtime.catalog.index import open_catalog
from tests.catalogkit import Province, make_province, version_of
from tests.webkit import Browser, make_client


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path / "data") as client:
        yield client


@pytest.fixture
def published(tmp_path: Path, client: TestClient) -> Province:
    """The app serves a signed province catalog with suggestions 1.0.0 and 1.1.0."""
    province = make_province(tmp_path / "province")
    folder = version_of(tmp_path / "work", "1.1.0", "新增建议编号字段。")
    (folder / "README.md").write_text(
        "# 建议 1.1\n\n<script>alert(1)</script> **加粗** [链接](javascript:alert(1))\n\n- 一\n- 二\n",
        "utf-8",
    )
    province.publish(folder.parent)
    client.app.state.deployment.data["publish"] = {"dir": str(province.catalog)}  # type: ignore[attr-defined]
    client.app.state.catalog_site = None  # type: ignore[attr-defined]
    return province


def test_the_demo_serves_a_catalog_of_its_own_packages(client: TestClient) -> None:
    page = client.get("/catalog")
    assert page.status_code == 200
    assert "场景目录" in page.text and "代表建议办理" in page.text
    assert client.get("/catalog?lang=en").text.count("Scenario catalog") >= 1
    index = client.get("/catalog.json").json()
    assert "1.0.0" in index["packages"]["suggestions"]["versions"]


def test_list_search_and_tags(client: TestClient, published: Province) -> None:
    page = client.get("/catalog")
    assert page.status_code == 200 and "suggestions 1.1.0" in page.text
    assert "代表建议办理" in client.get("/catalog", params={"q": "建议"}).text
    assert "代表建议办理" not in client.get("/catalog", params={"q": "没有这个"}).text
    assert "代表建议办理" in client.get("/catalog", params={"tag": "督办"}).text
    assert "suggestions 1.1.0" not in client.get("/catalog", params={"tag": "nope"}).text
    assert "没有符合条件的场景包" in client.get("/catalog", params={"q": "<b>x</b>"}).text
    assert "<b>x</b>" not in client.get("/catalog", params={"q": "<b>x</b>"}).text


def test_package_page(client: TestClient, published: Province) -> None:
    page = client.get("/catalog/suggestions")
    assert page.status_code == 200
    html = page.text
    assert "suggestions 1.1.0" in html
    assert (
        "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    )
    assert "<strong>加粗</strong>" in html and 'href="javascript' not in html
    assert "<svg" in html and 'data-state="review"' in html and "初审" in html and "交办" in html
    assert "提出建议" in html and "建议编号" not in html.split("提出建议")[1].split("</ul>")[0]
    assert "1.0.0" in html and "新增建议编号字段。" in html
    old = client.get("/catalog/suggestions", params={"v": "1.0.0"})
    assert "suggestions 1.0.0" in old.text and "人大代表提出建议" in old.text
    assert client.get("/catalog/nothing").status_code == 404


def test_json_signature_and_archives_verify(client: TestClient, published: Province) -> None:
    raw = client.get("/catalog/index.json")
    assert raw.status_code == 200 and raw.headers["content-type"].startswith("application/json")
    assert raw.content == (published.catalog / "index.json").read_bytes()
    assert client.get("/catalog/key.pub").text.strip() == published.public
    from runtime.catalog.verify import verify

    assert verify(published.public, raw.content, client.get("/catalog/index.json.sig").text)
    release = json.loads(raw.content)["packages"]["suggestions"]["versions"]["1.1.0"]
    archive = client.get(f"/catalog/{release['archive']}")
    assert archive.status_code == 200
    assert "sha256:" + hashlib.sha256(archive.content).hexdigest() == release["checksum"]
    assert client.get("/catalog/packages/suggestions/notes.txt").status_code == 404
    assert client.get("/catalog/packages/a/b/c.tar.gz").status_code == 404
    assert client.get("/catalog/packages/suggestions/..%2F..%2Fkey.pub").status_code == 404
    assert open_catalog(str(published.catalog), published.public).release("suggestions", "1.1.0")


def test_a_private_catalog_needs_a_sign_in(
    tmp_path: Path, client: TestClient, published: Province
) -> None:
    client.app.state.deployment.data["publish"]["public"] = False  # type: ignore[attr-defined]
    assert client.get("/catalog").status_code == 303
    assert client.get("/catalog/index.json").status_code == 303
    Browser(client, tmp_path / "data").login("deputy_li")
    assert client.get("/catalog").status_code == 200
    assert client.get("/catalog/suggestions").status_code == 200
