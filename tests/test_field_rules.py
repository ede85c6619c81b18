"""Field rules: a sender's phone number is masked for the handling department, everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client

PHONE = "13812345678"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Path, dict[str, Any]]]:
    with make_client(tmp_path) as client:
        app = client.app
        store = app.state.store  # type: ignore[attr-defined]
        entity = app.state.deployment.entity("suggestions.suggestion")  # type: ignore[attr-defined]

        async def create() -> dict[str, Any]:
            from runtime.storage.platform import User

            deputy = await User.get(login="deputy_li")
            record = await store.create(
                entity,
                {
                    "title": "电话测试",
                    "category": "教育",
                    "phone": PHONE,
                    "body": "这是一条用来检查字段规则的足够长的建议内容。",
                    "lead": "lc_jyj",
                },
                actor=int(deputy.id),
                org="lc_wuma_st",
                state="handling",
            )
            return dict(record)

        yield client, tmp_path, client.portal.call(create)  # type: ignore[attr-defined]


def test_phone_is_masked_for_the_handling_department_only(
    site: tuple[TestClient, Path, dict[str, Any]],
) -> None:
    client, data_dir, record = site
    page = f"/s/suggestions/r/suggestion/{record['id']}"
    api = f"/api/s/suggestions/suggestion/{record['id']}"
    handler = Browser(client, data_dir).login("lc_edu")
    assert "本单位承办" in handler.get("/").text
    shown = handler.get(page)
    assert shown.status_code == 200
    assert PHONE not in shown.text and "138****5678" in shown.text
    assert handler.get(api).json()["data"]["phone"] == "138****5678"
    listed = handler.get("/api/s/suggestions/suggestion", params={"view": "department"}).json()[
        "data"
    ]
    assert [r["phone"] for r in listed] == ["138****5678"]
    staff = Browser(client, data_dir).login("lc_staff")
    assert PHONE in staff.get(page).text
    assert staff.get(api).json()["data"]["phone"] == PHONE
    owner = Browser(client, data_dir).login("deputy_li")
    assert PHONE in owner.get(page).text
