"""Task rules and actors beyond what the shipped suggestions scenario declares.

The deployment's workflow is adjusted in memory for one app (``complete: lead``,
a transition open to the current ``handler``), then driven over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.webkit import make_client
from tests.workflowkit import (
    REC,
    People,
    actions,
    in_days,
    new_suggestion,
    state_badge,
    take,
    task_ids,
)


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=0) as client:
        wf = client.app.state.deployment.entity("suggestions.suggestion").workflow  # type: ignore[attr-defined]
        wf.spec["states"]["handling"]["tasks"]["complete"] = "lead"
        wf.transitions["supervise_now"].spec["by"] = ["handler"]
        yield client, tmp_path


def test_lead_rule_and_the_handler_actor(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于完善社区养老服务设施的建议")
    assert (
        take(
            people("lc_staff"),
            rid,
            "accept",
            {"lead": "lc_jyj", "co": ["lc_jtj"], "due": in_days(15)},
        ).status_code
        == 303
    )
    # an assignee of an open task is the current handler (the Casbin policy, generated from
    # the shipped YAML, gives departments no right to take supervise_now: this is the task)
    transport = people("lc_transport")
    assert "supervise_now" in actions(transport.get(f"{REC}/{rid}").text)
    # the co-department's reply alone does not move it; the lead's does
    [co] = task_ids(people("lc_transport").get(f"{REC}/{rid}").text)
    reply = {"answer": "协办单位的答复意见已经提交。", "answer_class": "B"}
    assert people("lc_transport").post(f"{REC}/{rid}/tasks/{co}/reply", reply).status_code == 303
    page = people("lc_transport").get(f"{REC}/{rid}").text
    assert state_badge(page) == "办理中" and "supervise_now" not in actions(page)
    [lead] = task_ids(people("lc_edu").get(f"{REC}/{rid}").text)
    reply = {"answer": "主办单位已经完成办理并答复。", "answer_class": "A"}
    assert people("lc_edu").post(f"{REC}/{rid}/tasks/{lead}/reply", reply).status_code == 303
    assert state_badge(people("deputy_li").get(f"{REC}/{rid}").text) == "已答复待评价"


def test_lead_alone_moves_it_and_the_open_co_task_is_cancelled(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于加强食品安全监管的建议")
    assert (
        take(
            people("lc_staff"),
            rid,
            "accept",
            {"lead": "lc_jyj", "co": ["lc_jtj"], "due": in_days(15)},
        ).status_code
        == 303
    )
    [lead] = task_ids(people("lc_edu").get(f"{REC}/{rid}").text)
    reply = {"answer": "主办单位已经完成办理并答复。", "answer_class": "A"}
    assert people("lc_edu").post(f"{REC}/{rid}/tasks/{lead}/reply", reply).status_code == 303
    page = people("lc_transport").get(f"{REC}/{rid}").text
    assert state_badge(page) == "已答复待评价"
    assert task_ids(page) == []  # the co-department's task went with the state
    assert f"{REC}/{rid}" not in people("lc_transport").get("/todo").text
