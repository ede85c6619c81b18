"""Notifications and the inbox through the real app on SQLite and PostgreSQL: who receives a
workflow event's messages, placeholders, the unread badge (htmx and plain), marking read, and
that nobody sees or touches another user's messages."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.notify import emit
from tests.timerkit import Clock, local, query, run, started
from tests.webkit import Browser

ENTITY = "suggestions.suggestion"


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None
    with started(tmp_path, url, Clock(local(2026, 3, 2, 10, 0))) as client:
        yield client, tmp_path


def user(client: TestClient, login: str) -> int:
    rows = run(
        client, query, client.app.state, 'SELECT "id" FROM "yidi_user" WHERE "login" = ?', login
    )  # type: ignore[attr-defined]
    return int(rows[0]["id"])


async def _make(app_state: Any, owner: int, values: dict[str, Any], state: str) -> dict[str, Any]:
    record = await app_state.store.create(
        ENTITY, values, actor=owner, org="lc_wuma_st", state=state
    )
    return dict(record)


def suggestion(
    client: TestClient, title: str, state: str = "review", **more: Any
) -> dict[str, Any]:
    values = {"title": title, "category": "教育", "body": "用于测试消息通知的建议内容，足够长。"}
    values.update(more)
    owner = user(client, "deputy_li")
    return dict(run(client, _make, client.app.state, owner, values, state))  # type: ignore[attr-defined]


def send(client: TestClient, record: dict[str, Any], event: str, actor: str, **kw: Any) -> int:
    return int(
        run(client, emit, client.app.state, ENTITY, record, event, actor=user(client, actor), **kw)  # type: ignore[attr-defined]
    )


def browser(site: tuple[TestClient, Path], login: str) -> Browser:
    client, data_dir = site
    return Browser(client, data_dir).login(login)


def messages(b: Browser) -> list[str]:
    page = b.get("/inbox")
    assert page.status_code == 200
    return re.findall(r'class="message-title">([^<]*)<', page.text)


def test_submitted_suggestion_reaches_the_county_staff_only(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    record = suggestion(client, "关于老旧小区加装电梯的建议")
    written = send(client, record, "transition.submit", "deputy_li")
    assert (
        written == 1
    )  # the declared message; the transition's own notify: staff is the same person
    assert messages(browser(site, "lc_staff")) == ["新的代表建议：关于老旧小区加装电梯的建议"]
    for login in ("wz_staff", "ra_staff", "deputy_li", "lc_edu"):  # city staff: lc has its own
        assert messages(browser(site, login)) == []
    english = browser(site, "lc_staff").get("/inbox?lang=en")
    assert "New suggestion: 关于老旧小区加装电梯的建议" in english.text
    assert "请及时初审。" in browser(site, "lc_staff").get("/inbox").text


def test_default_message_of_a_transition_goes_to_its_notify_actors(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    record = suggestion(client, "关于夜间施工噪音的建议", state="draft")
    send(client, record, "transition.reject", "lc_staff", context={"comment": "请补充具体地点"})
    page = browser(site, "deputy_li").get("/inbox")
    assert "代表建议「关于夜间施工噪音的建议」：退回修改" in page.text
    assert "王芳：退回修改，当前环节：草稿。" in page.text
    assert "请补充具体地点" in page.text
    assert messages(browser(site, "lc_staff")) == []  # the actor is not told of their own act


def test_placeholders_show_display_values_and_respect_field_rules(
    site: tuple[TestClient, Path],
) -> None:
    client, _ = site
    wf = client.app.state.deployment.scenarios["suggestions"].workflows["suggestion"]  # type: ignore[attr-defined]
    wf.spec["notifications"]["assigned"] = {
        "on": "transition.accept",
        "to": ["lead", "owner"],
        "title": "{category}|{lead}|{owner}|{due}|{phone}|{nope}|{state}",
        "channels": ["inbox"],
    }
    record = suggestion(
        client,
        "关于公交线路优化的建议",
        state="handling",
        lead="lc_jyj",
        due=dt.date(2026, 4, 1),
        phone="13812348000",
    )
    send(client, record, "transition.accept", "lc_staff")
    expected = "教育|鹿城区教育局|李明|2026-04-01|138****8000|{nope}|办理中"
    assert messages(browser(site, "lc_edu")) == [expected]  # the lead department's user
    assert messages(browser(site, "deputy_li")) == [expected]
    assert messages(browser(site, "lc_transport")) == []


def test_titles_are_escaped_in_the_inbox(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    record = suggestion(client, "<script>alert(1)</script>标题")
    send(client, record, "transition.submit", "deputy_li")
    page = browser(site, "lc_staff").get("/inbox")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;标题" in page.text


def test_badge_counts_unread_and_marking_read_updates_it(site: tuple[TestClient, Path]) -> None:
    client, _ = site
    for n in range(3):
        send(client, suggestion(client, f"未读测试建议{n}"), "transition.submit", "deputy_li")
    staff = browser(site, "lc_staff")
    home = staff.get("/")
    assert re.search(
        r'id="inbox-badge"[^>]*hx-get="/inbox/badge"[^>]*>消息 <span[^>]*>3</span>', home.text
    )
    fragment = staff.htmx("GET", "/inbox/badge")
    assert fragment.status_code == 200
    assert fragment.text.startswith('<a id="inbox-badge"') and ">3</span>" in fragment.text
    ids = [int(i) for i in re.findall(r'id="message-(\d+)"', staff.get("/inbox").text)]
    assert len(ids) == 3
    one = staff.htmx("POST", f"/inbox/{ids[0]}/read")  # htmx: the item, and the badge out of band
    assert one.status_code == 200
    assert f'id="message-{ids[0]}"' in one.text and "已读" in one.text
    assert 'hx-swap-oob="true"' in one.text and ">2</span>" in one.text
    plain = staff.post(f"/inbox/{ids[1]}/read")  # without JavaScript: back to the inbox
    assert plain.status_code == 303 and plain.headers["location"] == "/inbox"
    assert ">1</span>" in staff.htmx("GET", "/inbox/badge").text
    only_unread = staff.get("/inbox?unread=1")
    assert re.findall(r'id="message-(\d+)"', only_unread.text) == [str(ids[2])]
    assert staff.post("/inbox/read-all").status_code == 303
    assert "</span>" not in staff.htmx("GET", "/inbox/badge").text  # no count when none unread
    assert staff.get("/inbox").text.count("已读") >= 3


def test_nobody_reads_or_marks_anyone_elses_messages(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    send(client, suggestion(client, "仅本人可见的消息"), "transition.submit", "deputy_li")
    staff = browser(site, "lc_staff")
    (mid,) = re.findall(r'id="message-(\d+)"', staff.get("/inbox").text)
    other = browser(site, "wz_staff")
    assert "仅本人可见的消息" not in other.get("/inbox").text
    assert other.post(f"/inbox/{mid}/read").status_code == 404
    assert other.post("/inbox/read-all").status_code == 303  # marks only their own
    assert other.post("/inbox/999999/read").status_code == 404
    no_token = other.client.post(f"/inbox/{mid}/read", data={})
    assert no_token.status_code == 403  # CSRF
    staff = browser(site, "lc_staff")
    assert ">1</span>" in staff.htmx("GET", "/inbox/badge").text  # still unread
    client.cookies.clear()
    assert client.get("/inbox").status_code == 303  # sign in first
    assert client.get("/inbox/badge").status_code == 204
    fresh = Browser(client, data_dir)
    fresh.refresh_token("/login")
    assert fresh.post(f"/inbox/{mid}/read").status_code in (303, 401)
    rows = run(
        client,
        query,
        client.app.state,
        'SELECT "read_at" FROM "yidi_message" WHERE "id" = ?',
        int(mid),
    )  # type: ignore[attr-defined]
    assert rows[0]["read_at"] is None
