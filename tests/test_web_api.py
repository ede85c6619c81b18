"""The JSON API: the forms' validation, stable error codes, optimistic locking, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

API = "/api/s/suggestions/suggestion"
BODY = "这是一条足够长的测试建议内容文本，用来检查接口功能。"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url) as client:
        yield client, tmp_path


def api(site: tuple[TestClient, Path], login: str) -> Browser:
    return Browser(*site).login(login)


def call(
    b: Browser, method: str, url: str, headers: dict[str, str] | None = None, **kw: object
) -> object:
    return b.client.request(method, url, headers={"X-CSRF-Token": b.token, **(headers or {})}, **kw)  # type: ignore[arg-type]


def test_create_read_list_and_update(site: tuple[TestClient, Path]) -> None:
    deputy = api(site, "deputy_li")
    created = call(
        deputy, "POST", API, json={"title": "接口建议", "category": "交通出行", "body": BODY}
    )
    assert created.status_code == 201, created.text  # type: ignore[attr-defined]
    record = created.json()["data"]  # type: ignore[attr-defined]
    assert (
        record["title"] == "接口建议" and record["state"] == "draft" and record["row_version"] == 1
    )
    read = call(deputy, "GET", f"{API}/{record['id']}")
    assert read.json()["data"]["category"] == "交通出行"  # type: ignore[attr-defined]
    listed = call(deputy, "GET", API, params={"f.category": "交通出行"})
    assert [r["title"] for r in listed.json()["data"]] == ["接口建议"]  # type: ignore[attr-defined]
    updated = call(
        deputy, "PATCH", f"{API}/{record['id']}", json={"title": "改过的接口建议", "row_version": 1}
    )
    assert updated.status_code == 200, updated.text  # type: ignore[attr-defined]
    assert updated.json()["data"]["row_version"] == 2  # type: ignore[attr-defined]
    stale = call(deputy, "PATCH", f"{API}/{record['id']}", json={"title": "又改", "row_version": 1})
    assert stale.status_code == 409  # type: ignore[attr-defined]
    assert stale.json()["error"]["code"] == "conflict"  # type: ignore[attr-defined]
    assert stale.json()["error"]["current"]["title"] == "改过的接口建议"  # type: ignore[attr-defined]


def test_validation_errors_name_the_fields(site: tuple[TestClient, Path]) -> None:
    deputy = api(site, "deputy_li")
    response = call(
        deputy, "POST", API, json={"title": "", "category": "火星", "body": "短", "nope": 1}
    )
    assert response.status_code == 422  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid"
    assert set(error["fields"]) >= {"title", "category", "body", "nope"}


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"{not json", 400, "bad_request"),
        (b"[1, 2]", 400, "bad_request"),
        (b"{" + b'"title": "' + b"x" * 1_100_000 + b'"}', 413, "too_large"),
    ],
)
def test_bad_bodies_get_stable_codes(
    site: tuple[TestClient, Path], payload: bytes, status: int, code: str
) -> None:
    deputy = api(site, "deputy_li")
    response = call(
        deputy, "POST", API, content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.json()["error"]["code"] == code  # type: ignore[attr-defined]


def test_not_found_forbidden_and_bad_parameters(site: tuple[TestClient, Path]) -> None:
    deputy = api(site, "deputy_li")
    assert call(deputy, "GET", f"{API}/999999").json()["error"]["code"] == "not_found"  # type: ignore[attr-defined]
    assert call(deputy, "GET", "/api/s/nope/suggestion").status_code == 404  # type: ignore[attr-defined]
    assert (
        call(deputy, "GET", API, params={"sort": "nope"}).json()["error"]["code"] == "bad_request"
    )  # type: ignore[attr-defined]
    assert call(deputy, "GET", API, params={"f.nope": "x"}).status_code == 400  # type: ignore[attr-defined]
    assert call(deputy, "GET", API, params={"after": "garbage"}).status_code == 400  # type: ignore[attr-defined]
    handler = api(site, "lc_edu")  # a department may not create suggestions
    refused = call(handler, "POST", API, json={"title": "x", "category": "教育", "body": BODY})
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert refused.json()["error"]["code"] == "forbidden"  # type: ignore[attr-defined]
    no_token = deputy.client.post(API, json={"title": "x"})
    assert no_token.status_code == 403 and no_token.json()["error"]["code"] == "csrf_failed"


def test_openapi_is_generated_from_the_scenarios(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/s/suggestions/suggestion/{id}" in spec["paths"]
    schema = spec["components"]["schemas"]["suggestions.suggestion"]
    assert schema["properties"]["category"]["enum"][0] == "经济发展"
    assert schema["properties"]["cosigners"]["type"] == "array"
