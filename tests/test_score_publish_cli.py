"""Publishing scores from the command line records who published, on SQLite and PostgreSQL.

``yidi score publish RULE PERIOD --by LOGIN`` keeps the publisher with the
snapshot (``yidi_score_run.published_by``) and in the audit log (a ``publish``
row of ``yidi_score_run`` with the actor); the rule page names them. Without
``--by`` the publication is the system's, and says so; an unknown login or a
user who does not manage the rule is refused (exit 2, nothing published).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.cli import main
from tests.webkit import ROOT, Browser, make_client

POINTS = "/scores/performance/points"


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if request.param == "postgres":
        url = str(request.getfixturevalue("pg_dsn"))
    else:
        url = f"sqlite://{tmp_path / 'yidi.sqlite3'}"
    with make_client(tmp_path, url, records=0):
        pass  # the demo deployment: users, grants, tables
    yield url, tmp_path


def cli(url: str, data_dir: Path, *args: str) -> int:
    return main(
        [
            "score",
            "publish",
            "performance.points",
            *args,
            "--manifest",
            str(ROOT / "scenarios.yaml"),
            "--data-dir",
            str(data_dir),
            "--database-url",
            url,
        ]
    )


def rows(client: TestClient, sql: str, *params: Any) -> list[dict[str, Any]]:
    async def query() -> list[dict[str, Any]]:
        store = client.app.state.store  # type: ignore[attr-defined]
        text = sql
        if store.pg:
            for n in range(len(params)):
                text = text.replace("?", f"${n + 1}", 1)
        return [dict(r) for r in await store.db().execute_query_dict(text, list(params))]

    return client.portal.call(query)  # type: ignore[attr-defined,no-any-return]


def test_cli_publication_names_its_publisher(
    db: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, data_dir = db
    assert cli(url, data_dir, "2024-Q2", "--by", "lc_staff") == 0
    assert "by lc_staff" in capsys.readouterr().out
    # refused: an unknown login, a deputy (not a manager of the rule)
    assert cli(url, data_dir, "2024-Q3", "--by", "nobody") == 2
    assert "no active user" in capsys.readouterr().err
    assert cli(url, data_dir, "2024-Q3", "--by", "deputy_li") == 2
    assert "not a manager" in capsys.readouterr().err
    # no --by: the system's publication, said as such
    assert cli(url, data_dir, "2024-Q4") == 0
    assert "by the system" in capsys.readouterr().out

    with make_client(data_dir, url, records=0) as client:
        staff = rows(client, 'SELECT "id" FROM "yidi_user" WHERE "login" = ?', "lc_staff")[0]["id"]
        runs = {
            r["period"]: r
            for r in rows(
                client,
                'SELECT "id", "period", "published_at", "published_by" FROM "yidi_score_run" '
                'WHERE "rule" = ?',
                "performance.points",
            )
        }
        assert runs["2024-Q2"]["published_by"] == staff
        assert runs["2024-Q4"]["published_at"] and runs["2024-Q4"]["published_by"] is None
        assert "2024-Q3" not in runs, "a refused publication publishes nothing"
        audit = rows(
            client,
            'SELECT "record_id", "actor", "after", "note" FROM "yidi_change" '
            'WHERE "table" = \'yidi_score_run\' AND "action" = \'publish\' ORDER BY "id"',
        )
        mine = [a for a in audit if a["record_id"] == runs["2024-Q2"]["id"]]
        assert len(mine) == 1 and mine[0]["actor"] == staff and mine[0]["note"] == "cli"
        after = mine[0]["after"]
        after = json.loads(after) if isinstance(after, str) else after
        assert after["period"] == "2024-Q2" and after["rule"] == "performance.points"
        system = [a for a in audit if a["record_id"] == runs["2024-Q4"]["id"]]
        assert len(system) == 1 and system[0]["actor"] is None
        assert system[0]["note"] == "cli (system)"
        # the rule page names the publisher; the web's own publication records its user
        browser = Browser(client, data_dir).login("lc_staff")
        page = browser.get(f"{POINTS}?period=2024-Q2")
        assert page.status_code == 200
        assert "公布人 王芳" in page.text
        page = browser.get(f"{POINTS}?period=2024-Q4")
        assert "公布人 系统" in page.text
        done = browser.post(f"{POINTS}/publish", {"period": "2024-Q1"})
        assert done.status_code == 303
        web = rows(
            client,
            'SELECT c."actor", c."note", c."ip" FROM "yidi_change" c JOIN "yidi_score_run" r '
            'ON r."id" = c."record_id" WHERE c."table" = \'yidi_score_run\' AND r."period" = ?',
            "2024-Q1",
        )
        assert [(w["actor"], w["note"]) for w in web] == [(staff, "web")]
        # the audit log lists publications for the administrator
        admin = Browser(client, data_dir).login("admin")
        listed = admin.get("/admin/audit?table=yidi_score_run")
        assert listed.status_code == 200, listed.text[:500]
        assert "积分公布" in listed.text
