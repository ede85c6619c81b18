"""Write hooks (scores, deadlines) run inside the engine's transactions without breaking them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.test_web_suggestions import submit_suggestion
from tests.webkit import Browser, make_client


@pytest.mark.parametrize(
    "database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_transitions_on_scored_records_leave_no_failed_hook(
    tmp_path: Path, database: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    url = None if database == "sqlite" else str(request.getfixturevalue("pg_dsn"))
    caplog.set_level(logging.ERROR, logger="yidi.storage")
    with make_client(tmp_path, url, records=5) as client:
        deputy = Browser(client, tmp_path).login("deputy_li")
        page = deputy.get(submit_suggestion(deputy, "关于改善社区照明的建议"))
        assert "初审" in page.text  # the form's `then: submit` went through the engine
    failed = [r for r in caplog.records if "hook failed" in r.getMessage()]
    assert failed == [], failed[0].exc_text if failed else ""
