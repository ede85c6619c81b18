"""The suggestions scenario end to end over HTTP, with users of each role, on SQLite and PostgreSQL.

A deputy drafts and submits (staff are notified at once); staff return it at
first review; the deputy resubmits; staff assign it (交办) to a lead and a
co-department with a deadline; the lead department delegates its task to a
colleague, who replies; the co-department replies; the deputy is unsatisfied
(不满意) and it goes back to handling; both reply again; the deputy is
satisfied and it closes. A joint suggestion is rejected by a co-signer (会签)
and goes back to the draft; another one is approved by all and reaches
review. An assigned suggestion left unanswered past its deadline escalates
to supervision (督办) when the test clock moves and the scheduler ticks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.webkit import make_client
from tests.workflowkit import (
    REC,
    People,
    actions,
    add_user,
    error_of,
    in_days,
    joint_suggestion,
    new_suggestion,
    state_badge,
    take,
    task_ids,
    user_ids,
)


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url, records=0) as client:
        yield client, tmp_path


def inbox(people: People, login: str) -> str:
    return str(people(login).get("/inbox").text)


def reply(people: People, login: str, rid: int, answer: str, klass: str = "A") -> None:
    b = people(login)
    page = b.get(f"{REC}/{rid}").text
    mine = task_ids(page)
    assert len(mine) == 1, (login, mine)
    response = b.post(
        f"{REC}/{rid}/tasks/{mine[0]}/reply", {"answer": answer, "answer_class": klass}
    )
    assert response.status_code == 303, response.text


def test_the_whole_suggestion_journey(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)

    # a deputy drafts and submits; staff of the county are notified at once
    rid = new_suggestion(people("deputy_li"), "关于增设学校门口护学岗的建议")
    assert "关于增设学校门口护学岗的建议" in inbox(people, "lc_staff")
    assert "关于增设学校门口护学岗的建议" not in inbox(people, "ra_staff")  # another county
    todo = people("lc_staff").get("/todo").text
    assert f'data-record="{rid}"' in todo

    # first review: a return for revision needs a comment, which the deputy then reads
    staff = people("lc_staff")
    page = staff.get(f"{REC}/{rid}").text
    assert {"reject", "accept"} <= set(actions(page))
    refused = take(staff, rid, "reject", {"_comment": ""})
    assert refused.status_code == 422 and error_of(refused.text, "_comment") == "请填写意见"
    assert (
        take(staff, rid, "reject", {"_comment": "请补充学校周边的交通调查数据"}).status_code == 303
    )
    deputy = people("deputy_li")
    page = deputy.get(f"{REC}/{rid}").text
    assert state_badge(page) == "草稿"
    assert "请补充学校周边的交通调查数据" in page  # the comment is on the timeline
    assert "submit" in actions(page)

    # resubmitted; 交办 asks lead, co and the deadline, and refuses a past deadline at its field
    assert take(deputy, rid, "submit").status_code == 303
    staff = people("lc_staff")
    form = staff.get(f"{REC}/{rid}/t/accept")
    assert form.status_code == 200 and 'name="lead"' in form.text and 'name="due"' in form.text
    frag = staff.htmx("GET", f"{REC}/{rid}/t/accept")  # htmx loads the form into the page
    assert 'id="wf-form"' in frag.text and "<html" not in frag.text
    late = take(staff, rid, "accept", {"lead": "lc_jyj", "co": ["lc_jtj"], "due": "2020-01-01"})
    assert late.status_code == 422 and error_of(late.text, "due")
    missing = take(staff, rid, "accept", {"co": ["lc_jtj"], "due": in_days(20)})
    assert missing.status_code == 422 and error_of(missing.text, "lead") == "此项为必填"
    done = take(staff, rid, "accept", {"lead": "lc_jyj", "co": ["lc_jtj"], "due": in_days(20)})
    assert done.status_code == 303
    page = staff.get(f"{REC}/{rid}").text
    assert state_badge(page) == "办理中"
    assert page.count('class="task open') == 2
    assert "鹿城区教育局（主办）" in page and "鹿城区交通运输局（协办）" in page

    # the lead department hands its task to a colleague; it is on the timeline
    colleague = add_user(client, "lc_edu2", "教育局李科长", "lc_jyj", "department")
    edu = people("lc_edu")
    assert f'data-task="{task_ids(edu.get(f"{REC}/{rid}").text)[0]}"' in edu.get("/todo").text
    tid = task_ids(edu.get(f"{REC}/{rid}").text)[0]
    moved = edu.post(
        f"{REC}/{rid}/tasks/{tid}/delegate", {"to": str(colleague), "_comment": "请李科长牵头办理"}
    )
    assert moved.status_code == 303
    assert task_ids(edu.get(f"{REC}/{rid}").text) == []  # no longer lc_edu's to answer
    page = people("lc_edu2").get(f"{REC}/{rid}").text
    assert "转交" in page and "教育局李科长" in page and "请李科长牵头办理" in page
    reply(people, "lc_edu2", rid, "已在学校门口设置护学岗，早晚高峰各安排两名民警。")
    assert state_badge(people("deputy_li").get(f"{REC}/{rid}").text) == "办理中"  # co still due
    reply(people, "lc_transport", rid, "已调整学校周边信号灯配时并施划斑马线。", "B")

    # every department replied: the deputy is told, and rates; 不满意 needs a comment
    assert "关于增设学校门口护学岗的建议" in inbox(people, "deputy_li")
    deputy = people("deputy_li")
    page = deputy.get(f"{REC}/{rid}").text
    assert state_badge(page) == "已答复待评价" and {"rate", "reopen"} <= set(actions(page))
    assert "已在学校门口设置护学岗" in page and "已调整学校周边信号灯" in page
    bad = take(deputy, rid, "reopen", {"rating": "不满意", "rating_comment": ""})
    assert bad.status_code == 422 and error_of(bad.text, "rating_comment") == "此项为必填"
    wrong = take(deputy, rid, "rate", {"rating": "不满意"})
    assert wrong.status_code == 422  # 不满意 cannot close it
    again = take(
        deputy, rid, "reopen", {"rating": "不满意", "rating_comment": "护学岗只在早上有人。"}
    )
    assert again.status_code == 303
    page = people("lc_staff").get(f"{REC}/{rid}").text
    assert state_badge(page) == "办理中"
    assert page.count('class="task open') == 2  # a new round for both departments
    assert "代表对答复不满意" in inbox(people, "lc_staff")

    # both reply again; 满意 closes it
    reply(people, "lc_edu", rid, "已增加下午放学时段的护学岗，并建立值守台账。")
    reply(people, "lc_transport", rid, "已增设减速带和警示标志，并加强巡逻。", "A")
    deputy = people("deputy_li")
    assert take(deputy, rid, "rate", {"rating": "满意"}).status_code == 303
    page = deputy.get(f"{REC}/{rid}").text
    assert state_badge(page) == "已办结" and actions(page) == []


def test_countersign_rejection_and_approval(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    people = People(client, data_dir)
    zhang, li = user_ids(client, "deputy_zhang", "deputy_li")
    [wu] = user_ids(client, "deputy_wu")

    # a joint suggestion waits for its co-signers; plain submit is not offered
    rid = joint_suggestion(people("deputy_li"), "关于联名推进老旧小区加装电梯的建议", [zhang, wu])
    page = people("deputy_li").get(f"{REC}/{rid}").text
    assert state_badge(page) == "联名会签" and "submit" not in actions(page)
    b = people("deputy_zhang")
    page = b.get(f"{REC}/{rid}").text  # a co-signer sees what they sign
    [task] = task_ids(page, "approve")
    refused = b.post(f"{REC}/{rid}/tasks/{task}/reject", {"_comment": ""})
    assert refused.status_code == 422 and "理由" in refused.text
    assert (
        b.post(f"{REC}/{rid}/tasks/{task}/reject", {"_comment": "建议补充资金来源"}).status_code
        == 303
    )
    # one rejection sends it back to the draft, whatever the others do
    page = people("deputy_li").get(f"{REC}/{rid}").text
    assert state_badge(page) == "草稿" and "建议补充资金来源" in page
    assert "submit_joint" in actions(page)
    assert task_ids(people("deputy_wu").get(f"{REC}/{rid}").text, "approve") == []

    # every co-signer approves: it goes to first review
    rid = joint_suggestion(people("deputy_li"), "关于联名增设社区食堂的建议", [zhang, wu])
    for login in ("deputy_zhang", "deputy_wu"):
        b = people(login)
        [task] = task_ids(b.get(f"{REC}/{rid}").text, "approve")
        assert b.post(f"{REC}/{rid}/tasks/{task}/approve", {"_comment": ""}).status_code == 303
    assert state_badge(people("deputy_li").get(f"{REC}/{rid}").text) == "初审"
    assert li != zhang


def test_an_overdue_suggestion_escalates_to_supervision(site: tuple[TestClient, Path]) -> None:
    from runtime.timers import tick

    client, data_dir = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于整治农贸市场周边占道经营的建议")
    due = dt.date.today() + dt.timedelta(days=3)
    assert (
        take(
            people("lc_staff"), rid, "accept", {"lead": "lc_jyj", "due": due.isoformat()}
        ).status_code
        == 303
    )
    todo = people("lc_edu").get("/todo").text
    assert "关于整治农贸市场周边占道经营的建议" in todo and "已超期" not in todo

    app = client.app
    later = dt.datetime.combine(due + dt.timedelta(days=2), dt.time(10), dt.UTC)
    app.state.clock = lambda: later  # type: ignore[attr-defined]
    people.forget()
    todo = people("lc_edu").get("/todo").text
    assert re.search(r'<tr class="overdue" data-task="\d+">', todo)  # highlighted before the tick
    client.portal.call(tick, app.state)  # type: ignore[attr-defined]

    page = people("lc_staff").get(f"{REC}/{rid}").text
    assert state_badge(page) == "督办中"
    assert "建议办理超期" in inbox(people, "lc_staff")
    assert "建议办理超期" in inbox(people, "lc_leader")  # the supervising role
    # supervision hands out a new reply task to the lead department
    assert len(task_ids(people("lc_edu").get(f"{REC}/{rid}").text)) == 1
