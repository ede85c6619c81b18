"""What the engine refuses, on pages and in the API, on SQLite and PostgreSQL.

A false guard hides the action and the server refuses it when posted anyway;
a guard that reads the transition's form is answered next to the field; a
stale page is a conflict naming who changed the record; people who are not
actors, tasks of another department and system transitions are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.webkit import Browser, make_client
from tests.workflowkit import (
    REC,
    People,
    actions,
    error_of,
    in_days,
    joint_suggestion,
    new_suggestion,
    state_badge,
    take,
    task_ids,
    user_ids,
    version,
)

API = "/api/s/suggestions/suggestion"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=0) as client:
        yield client, tmp_path


def api(b: Browser, path: str, body: dict[str, Any]) -> Any:
    return b.client.post(
        path,
        content=json.dumps(body),
        headers={"Content-Type": "application/json", "X-CSRF-Token": b.token},
    )


def test_a_false_guard_hides_the_action_and_the_server_refuses_it(
    site: tuple[TestClient, Path],
) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    [zhang] = user_ids(client, "deputy_zhang")
    rid = joint_suggestion(people("deputy_li"), "关于联名改造背街小巷的建议", [zhang])
    b = people("deputy_zhang")
    [task] = task_ids(b.get(f"{REC}/{rid}").text, "approve")
    b.post(f"{REC}/{rid}/tasks/{task}/reject", {"_comment": "请先征求街道意见"})
    deputy = people("deputy_li")
    page = deputy.get(f"{REC}/{rid}").text
    assert state_badge(page) == "草稿"
    # `submit` holds only without co-signers: hidden, and refused when posted anyway
    assert "submit_joint" in actions(page) and "submit" not in actions(page)
    posted = deputy.post(f"{REC}/{rid}/t/submit", {"_version": version(page)})
    assert posted.status_code == 403
    answer = api(deputy, f"{API}/{rid}/transitions/submit", {})
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    assert state_badge(deputy.get(f"{REC}/{rid}").text) == "草稿"
    listed = deputy.client.get(f"{API}/{rid}/transitions").json()
    assert [a["id"] for a in listed["data"]] == actions(page)

    # and the other way round: a plain draft cannot be sent for co-signing
    rid = new_suggestion(deputy, "关于增设公交候车亭的建议")
    staff = people("lc_staff")
    assert take(staff, rid, "reject", {"_comment": "请写明具体站点"}).status_code == 303
    deputy = people("deputy_li")
    page = deputy.get(f"{REC}/{rid}").text
    assert "submit" in actions(page) and "submit_joint" not in actions(page)
    assert (
        deputy.post(f"{REC}/{rid}/t/submit_joint", {"_version": version(page)}).status_code == 403
    )


def test_form_guard_require_and_stable_api_errors(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于优化城区公交线路的建议")
    staff = people("lc_staff")
    record = staff.client.get(f"{API}/{rid}").json()["data"]
    late = api(
        staff,
        f"{API}/{rid}/transitions/accept",
        {"values": {"lead": "lc_jtj", "due": "2020-01-01"}, "row_version": record["row_version"]},
    )
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "invalid" and "due" in late.json()["error"]["fields"]
    bare = api(staff, f"{API}/{rid}/transitions/accept", {"values": {}})
    assert bare.status_code == 422
    assert set(bare.json()["error"]["fields"]) >= {"lead", "due"}
    no_reason = api(staff, f"{API}/{rid}/transitions/reject", {"comment": " "})
    assert no_reason.status_code == 422 and "_comment" in no_reason.json()["error"]["fields"]
    stale = api(
        staff,
        f"{API}/{rid}/transitions/accept",
        {"values": {"lead": "lc_jtj", "due": in_days(30)}, "row_version": 1},
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    assert stale.json()["error"]["current"]["state"] == "review"
    ok = api(
        staff,
        f"{API}/{rid}/transitions/accept",
        {"values": {"lead": "lc_jtj", "due": in_days(30)}, "row_version": record["row_version"]},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["data"]["state"] == "handling" and ok.json()["data"]["lead"] == "lc_jtj"
    # system transitions are never posted by people
    assert api(staff, f"{API}/{rid}/transitions/replied_all", {}).status_code == 403
    assert staff.post(f"{REC}/{rid}/t/replied_all", {}).status_code == 404


def test_a_stale_page_says_who_changed_the_record(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于改善农贸市场环境卫生的建议")
    staff = people("lc_staff")
    form = staff.get(f"{REC}/{rid}/t/accept").text
    old = version(form)
    # meanwhile the deputy withdraws it
    deputy = people("deputy_li")
    withdraw = deputy.get(f"{REC}/{rid}/t/withdraw").text  # asks first (confirm:)
    assert "确定撤回这条建议吗" in withdraw
    assert (
        deputy.post(f"{REC}/{rid}/t/withdraw", {"_version": version(withdraw)}).status_code == 303
    )
    staff = people("lc_staff")
    late = staff.post(
        f"{REC}/{rid}/t/accept",
        {"_version": old, "lead": "lc_jyj", "due": in_days(10)},
    )
    assert late.status_code == 409
    assert "李明 已在此期间修改了该记录" in late.text
    assert state_badge(staff.get(f"{REC}/{rid}").text) == "已撤回"


def test_not_an_actor_not_my_task_not_open(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于推进垃圾分类的建议")
    deputy = people("deputy_li")
    page = deputy.get(f"{REC}/{rid}").text
    assert "accept" not in actions(page)
    assert deputy.get(f"{REC}/{rid}/t/accept").status_code == 403
    assert deputy.post(f"{REC}/{rid}/t/accept", {"_version": "2"}).status_code == 403
    assert people("lc_edu").post(f"{REC}/{rid}/t/accept", {}).status_code == 404  # unseen
    assert people("ra_staff").post(f"{REC}/{rid}/t/reject", {}).status_code == 404

    staff = people("lc_staff")
    done = take(staff, rid, "accept", {"lead": "lc_jyj", "co": ["lc_jtj"], "due": in_days(9)})
    assert done.status_code == 303
    edu = people("lc_edu")
    [mine] = task_ids(edu.get(f"{REC}/{rid}").text)
    transport = people("lc_transport")
    assert (
        transport.post(
            f"{REC}/{rid}/tasks/{mine}/reply",
            {"answer": "不是本单位的任务答复内容", "answer_class": "A"},
        ).status_code
        == 403
    )
    edu = people("lc_edu")
    short = edu.post(f"{REC}/{rid}/tasks/{mine}/reply", {"answer": "太短", "answer_class": "Z"})
    assert short.status_code == 422
    assert error_of(short.text, "answer") and error_of(short.text, "answer_class")
    reply = {"answer": "已完成分类设施改造并开展宣传。", "answer_class": "A"}
    assert edu.post(f"{REC}/{rid}/tasks/{mine}/reply", reply).status_code == 303
    again = edu.post(f"{REC}/{rid}/tasks/{mine}/reply", reply)
    assert again.status_code == 409 and "教育局办理员" in again.text
    page = edu.get(f"{REC}/{rid}").text
    assert re.search(r"答复</strong>|答复\s", page)  # the reply is on the timeline
    assert "已完成分类设施改造并开展宣传" in page
