"""An org field offers the units of its kind at the viewer's own level: Lucheng staff assign a
suggestion to Lucheng's bureaus, Rui'an staff to Rui'an's; a value already held stays offered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.test_web_suggestions import record_id, submit_suggestion
from tests.webkit import Browser, make_client

OPTION = re.compile(r'<option value="([a-z_]+)"')


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url) as client:
        yield client, tmp_path


def offered(page: str, field: str) -> set[str]:
    found = re.search(rf'<select[^>]*name="{field}".*?</select>', page, re.S)
    assert found, field
    return set(OPTION.findall(found.group(0)))


def test_the_assign_form_offers_the_staff_members_own_bureaus(
    site: tuple[TestClient, Path],
) -> None:
    deputy = Browser(*site).login("deputy_li")
    rid = record_id(submit_suggestion(deputy, "关于改善校园周边步行环境的建议"))
    staff = Browser(*site).login("lc_staff")
    form = staff.get(f"/s/suggestions/r/suggestion/{rid}/t/accept")
    assert form.status_code == 200
    lead, co = offered(form.text, "lead"), offered(form.text, "co")
    assert {"lc_jyj", "lc_jtj"} <= lead and not any(u.startswith("ra_") for u in lead)
    assert co == lead
    # a value the record already holds stays offered, whatever its level
    client = site[0]
    entity = client.app.state.deployment.entity("suggestions.suggestion")  # type: ignore[attr-defined]

    async def hold() -> None:
        store = client.app.state.store  # type: ignore[attr-defined]
        current = await store.get(entity, rid)
        await store.update(
            entity, rid, {"lead": "ra_jyj"}, actor=None, expected_version=current.version
        )

    client.portal.call(hold)  # type: ignore[attr-defined]
    again = staff.get(f"/s/suggestions/r/suggestion/{rid}/t/accept").text
    assert "ra_jyj" in offered(again, "lead")
