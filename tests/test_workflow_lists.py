"""Lists and boards show the workflow per row, on SQLite and PostgreSQL over HTTP.

A view's ``actions:`` become per-row buttons for the transitions open to the
viewer on that record: a transition without a form or comment posts from the
list (with the row's version, CSRF, htmx or not), one that needs a form or a
comment links to its transition page; a false guard hides the button and the
server refuses the post anyway; a stale row says who changed it. Deadlines
are shown per row and overdue rows are marked in words. The comment given
with 退回修改 reaches the deputy's inbox.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.timerkit import Clock, local, started
from tests.workflowkit import (
    BODY,
    REC,
    People,
    joint_suggestion,
    new_suggestion,
    state_badge,
    take,
    task_ids,
    user_ids,
    version,
)

MINE = "/s/suggestions/v/mine"
ALL = "/s/suggestions/v/all"
BOARD = "/s/suggestions/v/board"
INPUT = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@pytest.fixture(params=["sqlite", "postgres"])
def site(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[TestClient, Path, Clock]]:
    url = str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None
    clock = Clock(local(2026, 3, 2, 10, 0))  # a Monday
    with started(tmp_path, url, clock) as client:
        yield client, tmp_path, clock


def row(page: str, rid: int) -> str:
    """The HTML of one record's row (list) or card (board)."""
    found = re.search(
        rf'<(tr|div class="tile[^"]*") data-record="{rid}".*?</(tr|div)>\s', page, re.S
    )
    if found is None:
        found = re.search(rf'data-record="{rid}".*?(</tr>|</section>)', page, re.S)
    assert found, f"no row for record {rid}"
    return found.group(0)


def row_actions(page: str, rid: int) -> dict[str, str]:
    """action id → 'post' (a button) or the URL it links to, for one row."""
    html = row(page, rid)
    out = {}
    for form in re.finditer(r"<form .*?</form>", html, re.S):
        found = re.search(r'data-action="(\w+)"', form.group(0))
        assert found
        out[found.group(1)] = "post"
    for link in re.finditer(r'<a class="button[^"]*" data-action="(\w+)" href="([^"]+)"', html):
        out[link.group(1)] = link.group(2)
    return out


def row_form(page: str, rid: int, action: str) -> tuple[str, dict[str, str]]:
    """(the URL it posts to, its hidden fields but the CSRF token) of a row's button."""
    for form in re.finditer(r"<form .*?</form>", row(page, rid), re.S):
        html = form.group(0)
        if f'data-action="{action}"' in html:
            url = re.search(r'action="([^"]+)"', html)
            assert url
            fields = {k: v.replace("&amp;", "&") for k, v in INPUT.findall(html) if k != "_csrf"}
            return url.group(1), fields
    raise AssertionError(f"no {action} button on row {rid}")


def reject(people: People, rid: int, comment: str) -> None:
    assert take(people("lc_staff"), rid, "reject", {"_comment": comment}).status_code == 303


def test_row_buttons_take_transitions_from_the_list(site: tuple[TestClient, Path, Clock]) -> None:
    client, data_dir, _ = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于增设社区食堂的建议")
    other = new_suggestion(people("deputy_li"), "关于整治占道经营的建议")

    # staff: 交办 needs a form and 退回修改 a comment, so both link to their pages
    staff_list = people("lc_staff").get(ALL).text
    assert row_actions(staff_list, rid) == {
        "accept": f"{REC}/{rid}/t/accept",
        "reject": f"{REC}/{rid}/t/reject",
    }
    assert ">办理</th>" in staff_list
    reject(people, rid, "请补充食堂选址和运营方案")

    # the comment reaches the deputy with the default message of 退回修改
    inbox = people("deputy_li").get("/inbox").text
    assert "代表建议「关于增设社区食堂的建议」：退回修改" in inbox
    assert "请补充食堂选址和运营方案" in inbox

    # the deputy's list: 提交 is one button on the draft, 撤回 asks first (a link)
    mine = people("deputy_li").get(MINE).text
    assert row_actions(mine, rid) == {"submit": "post", "withdraw": f"{REC}/{rid}/t/withdraw"}
    assert row_actions(mine, other) == {"withdraw": f"{REC}/{other}/t/withdraw"}
    url, fields = row_form(mine, rid, "submit")
    assert url == f"{REC}/{rid}/t/submit" and fields["_list"] == "mine"
    assert fields["_version"] == version(people("deputy_li").get(f"{REC}/{rid}/t/withdraw").text)

    # without JavaScript: the post takes it and redirects back to the list
    done = people("deputy_li").post(url, fields)
    assert done.status_code == 303 and done.headers["location"] == MINE
    mine = people("deputy_li").get(MINE).text
    assert "submit" not in row_actions(mine, rid) and "初审" in row(mine, rid)
    assert "新的代表建议：关于增设社区食堂的建议" in people("lc_staff").get("/inbox").text

    # with htmx, and with the list's filters kept: the list comes back in place
    reject(people, rid, "请再补充资金来源")
    deputy = people("deputy_li")
    mine = deputy.get(MINE + "?sort=created_at").text
    url, fields = row_form(mine, rid, "submit")
    assert fields["_query"] == "sort=created_at"
    swapped = deputy.htmx("POST", url, data=fields)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<div id="results">') and "<html" not in swapped.text
    assert "已提交：关于增设社区食堂的建议" in swapped.text
    assert "初审" in row(swapped.text, rid) and "submit" not in row_actions(swapped.text, rid)
    assert state_badge(deputy.get(f"{REC}/{rid}").text) == "初审"


def test_stale_rows_and_false_guards_are_refused(site: tuple[TestClient, Path, Clock]) -> None:
    client, data_dir, _ = site
    people = People(client, data_dir)
    rid = new_suggestion(people("deputy_li"), "关于改造老旧管网的建议")
    reject(people, rid, "请补充涉及小区名单")

    # the deputy's list is open while staff edit the record
    url, fields = row_form(people("deputy_li").get(MINE).text, rid, "submit")
    staff = people("lc_staff")
    edit = staff.get(f"{REC}/{rid}/edit").text
    saved = staff.post(
        f"{REC}/{rid}/edit",
        {
            "_version": version(edit),
            "title": "关于改造老旧供水管网的建议",
            "category": "城乡建设",
            "session": "闭会期间",
            "body": BODY,
        },
    )
    assert saved.status_code == 303, saved.text
    stale = people("deputy_li").post(url, fields)
    assert stale.status_code == 409
    assert "王芳 已在此期间修改了该记录" in stale.text
    assert "关于改造老旧供水管网的建议" in row(stale.text, rid)  # the list as it is now
    assert state_badge(people("deputy_li").get(f"{REC}/{rid}").text) == "草稿"
    # the same through htmx: the message is swapped into the list
    stale = people("deputy_li").htmx("POST", url, data=fields)
    assert stale.status_code == 409 and "王芳 已在此期间修改了该记录" in stale.text
    assert 'id="results"' in stale.text and "<html" not in stale.text

    # a joint suggestion sent back by a co-signer: 提交 needs no co-signers (a false guard)
    zhang = user_ids(client, "deputy_zhang")[0]
    joint = joint_suggestion(people("deputy_li"), "关于联名整治河道的建议", [zhang])
    co = people("deputy_zhang")
    [task] = task_ids(co.get(f"{REC}/{joint}").text, "reject")
    refused = co.post(f"{REC}/{joint}/tasks/{task}/reject", {"_comment": "河道范围需再核实"})
    assert refused.status_code == 303
    deputy = people("deputy_li")
    mine = deputy.get(MINE).text
    assert "草稿" in row(mine, joint)
    assert row_actions(mine, joint) == {"withdraw": f"{REC}/{joint}/t/withdraw"}
    page = deputy.get(f"{REC}/{joint}").text
    posted = deputy.post(
        f"{REC}/{joint}/t/submit",
        {"_version": version(page), "_list": "mine", "_query": ""},
    )
    assert posted.status_code == 403
    assert "当前条件下不能进行此操作" in posted.text
    assert state_badge(deputy.get(f"{REC}/{joint}").text) == "草稿"

    # a list that does not offer the transition, or one the viewer may not open: refused
    _, fields = row_form(deputy.get(MINE).text, rid, "submit")
    for view in ("joint", "all", "nope"):
        wrong = deputy.post(f"{REC}/{rid}/t/submit", {**fields, "_list": view})
        assert wrong.status_code == 404, view
    assert deputy.post(f"{REC}/{rid}/t/reject", {**fields, "_list": "all"}).status_code == 403
    assert state_badge(deputy.get(f"{REC}/{rid}").text) == "草稿"
    # staff are not the owner: no 提交 on their list, and the post is refused
    staff = people("lc_staff")
    assert "submit" not in row_actions(staff.get(ALL).text, rid)
    assert staff.post(f"{REC}/{rid}/t/submit", {**fields, "_list": "mine"}).status_code == 403


def deadline_cell(page: str, rid: int) -> str:
    found = re.search(r'<span class="due[^"]*">(.*?)</span>', row(page, rid), re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)) if found else ""


def test_deadlines_and_overdue_rows_on_lists_and_boards(
    site: tuple[TestClient, Path, Clock],
) -> None:
    client, data_dir, clock = site
    people = People(client, data_dir)
    late = new_suggestion(people("deputy_li"), "关于规范共享单车停放的建议")
    staff = people("lc_staff")
    page = staff.get(ALL).text
    assert ">期限</th>" in page
    # 初审 takes 5 working days from Monday 2 March: due Monday 9 March
    assert deadline_cell(page, late) == "2026-03-09"
    assert 'class="overdue"' not in row(page, late)
    clock.set(local(2026, 3, 10, 0, 0, 1))
    fresh = new_suggestion(people("deputy_zhang"), "关于增加公交夜班线路的建议")
    people.forget()
    staff = people("lc_staff")
    page = staff.get(ALL).text
    assert deadline_cell(page, late) == "2026-03-09 · 已超期"
    assert row(page, late).startswith(f'<tr data-record="{late}" class="overdue">')
    assert deadline_cell(page, fresh) == "2026-03-17" and "overdue" not in row(page, fresh)
    english = staff.get(ALL + "?lang=en").text
    assert ">Deadline</th>" in english and deadline_cell(english, late) == "2026-03-09 · Overdue"
    board = staff.get(BOARD + "?lang=zh").text
    card = row(board, late)
    assert 'class="tile overdue"' in card and "已超期" in card and "2026-03-09" in card
    assert "overdue" not in row(board, fresh).split(">", 1)[0]
    # a board's cards offer its view's actions too (declared here in memory)
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    deployment.scenarios["suggestions"].views["board"].spec["actions"] = ["accept", "reject"]
    board = staff.get(BOARD + "?lang=zh").text
    assert row_actions(board, late) == {
        "accept": f"{REC}/{late}/t/accept",
        "reject": f"{REC}/{late}/t/reject",
    }
    # the deputy's own list marks it too
    mine = people("deputy_li").get(MINE).text
    assert deadline_cell(mine, late) == "2026-03-09 · 已超期"


def test_rows_offer_what_the_current_handler_may_take(
    site: tuple[TestClient, Path, Clock],
) -> None:
    """The department's list offers a transition open to the current ``handler`` (adjusted
    in memory, as in test_workflow_rules.py) on exactly the rows where the viewer's unit has
    an open task."""
    client, data_dir, _ = site
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    tr = deployment.entity("suggestions.suggestion").workflow.transitions["supervise_now"]
    tr.spec["by"] = ["handler"]
    tr.spec["comment"] = "optional"  # one button
    deployment.scenarios["suggestions"].views["department"].spec["actions"] = ["supervise_now"]
    people = People(client, data_dir)
    a = new_suggestion(people("deputy_li"), "关于建设社区书屋的建议")
    b = new_suggestion(people("deputy_li"), "关于优化公交站点的建议")
    staff = people("lc_staff")
    due = {"due": "2026-04-30"}
    assign_a = take(staff, a, "accept", {"lead": "lc_jyj", "co": ["lc_jtj"], **due})
    assign_b = take(staff, b, "accept", {"lead": "lc_jtj", "co": ["lc_jyj"], **due})
    assert assign_a.status_code == assign_b.status_code == 303
    dept = "/s/suggestions/v/department"
    edu = people("lc_edu")
    page = edu.get(dept).text
    assert row_actions(page, a) == row_actions(page, b) == {"supervise_now": "post"}
    [task] = task_ids(edu.get(f"{REC}/{b}").text)
    reply = {"answer": "协办单位已提交答复意见。", "answer_class": "B"}
    assert edu.post(f"{REC}/{b}/tasks/{task}/reply", reply).status_code == 303
    page = edu.get(dept).text
    assert row_actions(page, a) == {"supervise_now": "post"}
    assert "data-action" not in row(page, b)  # lc_jyj replied: no longer a handler of b
    transport = people("lc_transport").get(dept).text
    assert row_actions(transport, b) == {"supervise_now": "post"}
    edu = people("lc_edu")
    url, fields = row_form(edu.get(dept).text, a, "supervise_now")
    swapped = edu.htmx("POST", url, data=fields)
    assert swapped.status_code == 200 and "督办中" in row(swapped.text, a)
    assert "data-action" not in row(swapped.text, a)
    # `edit` among a view's actions: a link to the edit page where the viewer may edit
    deployment.scenarios["suggestions"].views["all"].spec["actions"] = ["accept", "edit"]
    staff = people("lc_staff").get(ALL).text
    assert row_actions(staff, b) == {"edit": f"{REC}/{b}/edit"}
    assert row_actions(people("deputy_li").get(MINE).text, b) == {}
