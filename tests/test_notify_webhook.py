"""The outgoing webhook against a real local HTTP server, on SQLite and PostgreSQL: the body is
signed with HMAC-SHA256 under a secret from the environment, failed posts are retried with
backoff as the test clock moves, and a message is given up (and recorded) after N attempts."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.notify import emit
from runtime.notify.webhook import DELIVERY, SIGNATURE, sign, verify
from runtime.timers import tick
from tests.timerkit import Clock, local, query, run, started

SECRET_ENV = "YIDI_TEST_WEBHOOK_SECRET"
SECRET = "s3cret-for-tests-only"
ENTITY = "suggestions.suggestion"


class Receiver:
    """A messaging system's endpoint: answers ``fail_first`` posts with 500, then 200."""

    def __init__(self, fail_first: int) -> None:
        self.fail_first = fail_first
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append((dict(self.headers.items()), body))
                status = 500 if len(receiver.calls) <= receiver.fail_first else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str | None:
    return str(request.getfixturevalue("pg_dsn")) if request.param == "postgres" else None


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 3, 2, 10, 0))


@pytest.fixture
def site(db_url: str | None, tmp_path: Path, clock: Clock) -> Iterator[TestClient]:
    with started(tmp_path, db_url, clock) as client:
        yield client


async def _submit(app_state: Any) -> None:
    """A suggestion is submitted: its declared notification has channels [inbox, webhook]."""
    store = app_state.store
    rows = await store.db().execute_query_dict(
        'SELECT "id" FROM "yidi_user" WHERE "login" = \'deputy_li\''
    )
    deputy = int(rows[0]["id"])
    record = await store.create(
        ENTITY,
        {
            "title": "关于社区养老服务的建议",
            "category": "社会保障",
            "body": "用于测试对外推送的建议内容，足够长。",
        },
        actor=deputy,
        org="lc_wuma_st",
        state="review",
    )
    await emit(app_state, ENTITY, record, "transition.submit", actor=deputy)


def outbox(client: TestClient) -> list[dict[str, Any]]:
    return list(run(client, query, client.app.state, 'SELECT * FROM "yidi_outbox" ORDER BY "id"'))  # type: ignore[attr-defined]


def at(client: TestClient, clock: Clock, moment: dt.datetime) -> None:
    clock.set(moment)
    run(client, tick, client.app.state)  # type: ignore[attr-defined]


def test_signed_and_retried_until_delivered(
    site: TestClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with Receiver(fail_first=2) as receiver:
        site.app.state.deployment.data["webhook"] = {"url": receiver.url, "secret_env": SECRET_ENV}  # type: ignore[attr-defined]
        run(site, _submit, site.app.state)  # type: ignore[attr-defined]
        assert len(receiver.calls) == 0  # queued with the inbox message, posted by the scheduler
        start = clock.now
        at(site, clock, start)
        assert len(receiver.calls) == 1 and outbox(site)[0]["status"] == "pending"
        at(site, clock, start + dt.timedelta(seconds=29))
        assert len(receiver.calls) == 1  # backoff: not before 30 s
        at(site, clock, start + dt.timedelta(seconds=30))
        assert len(receiver.calls) == 2
        at(site, clock, start + dt.timedelta(seconds=89))
        assert len(receiver.calls) == 2  # then 60 s
        at(site, clock, start + dt.timedelta(seconds=90))
        assert len(receiver.calls) == 3
        at(site, clock, start + dt.timedelta(hours=3))
        assert len(receiver.calls) == 3  # delivered: never posted again
    (row,) = outbox(site)
    assert (row["status"], row["attempts"], row["last_status"]) == ("delivered", 3, 200)
    bodies = {body for _, body in receiver.calls}
    assert len(bodies) == 1  # the same body on every attempt
    headers, body = receiver.calls[-1]
    assert verify(SECRET, body, headers[SIGNATURE])
    assert headers[SIGNATURE] == sign(SECRET, body)
    assert not verify("another secret", body, headers[SIGNATURE])
    assert {h[DELIVERY] for h, _ in receiver.calls} == {str(row["id"])}
    payload = json.loads(body)
    assert payload["event"] == "transition.submit"
    assert payload["title"]["zh"] == "新的代表建议：关于社区养老服务的建议"
    assert [p["login"] for p in payload["recipients"]] == ["lc_staff"]
    assert payload["url"].startswith("/s/suggestions/r/suggestion/")


def test_gives_up_after_the_declared_attempts(
    site: TestClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with Receiver(fail_first=100) as receiver:
        site.app.state.deployment.data["webhook"] = {  # type: ignore[attr-defined]
            "url": receiver.url,
            "secret_env": SECRET_ENV,
            "attempts": 3,
        }
        run(site, _submit, site.app.state)  # type: ignore[attr-defined]
        start = clock.now
        for minutes in (0, 1, 3, 10, 60):
            at(site, clock, start + dt.timedelta(minutes=minutes))
        assert len(receiver.calls) == 3
    (row,) = outbox(site)
    assert (row["status"], row["attempts"], row["last_status"]) == ("failed", 3, 500)
    assert row["last_error"] == "HTTP 500"


def test_a_missing_secret_is_an_error_not_an_unsigned_post(site: TestClient, clock: Clock) -> None:
    with Receiver(fail_first=0) as receiver:
        site.app.state.deployment.data["webhook"] = {
            "url": receiver.url,
            "secret_env": "YIDI_UNSET_SECRET_X",
        }  # type: ignore[attr-defined]
        run(site, _submit, site.app.state)  # type: ignore[attr-defined]
        at(site, clock, clock.now)
        assert receiver.calls == []
    (row,) = outbox(site)
    assert row["status"] == "pending" and "YIDI_UNSET_SECRET_X is not set" in row["last_error"]


def test_no_webhook_declared_means_no_outbox(site: TestClient) -> None:
    assert "webhook" not in site.app.state.deployment.data  # type: ignore[attr-defined]
    run(site, _submit, site.app.state)  # type: ignore[attr-defined]
    assert outbox(site) == []


def test_a_batch_is_posted_together_so_a_slow_endpoint_holds_it_once(
    site: TestClient, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint answers only when two posts are in flight at once (a barrier of two):
    posted one after another, both would wait out the barrier and fail."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    barrier = threading.Barrier(2, timeout=3)
    with Receiver(fail_first=0) as receiver:
        handler = receiver.server.RequestHandlerClass
        plain = handler.do_POST  # type: ignore[attr-defined]

        def together(self: Any) -> None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                receiver.fail_first = 10**6  # answered alone: fail it
            plain(self)

        handler.do_POST = together  # type: ignore[attr-defined]
        site.app.state.deployment.data["webhook"] = {"url": receiver.url, "secret_env": SECRET_ENV}  # type: ignore[attr-defined]
        run(site, _submit, site.app.state)  # type: ignore[attr-defined]
        run(site, _submit, site.app.state)  # type: ignore[attr-defined]
        at(site, clock, clock.now)
    assert [row["status"] for row in outbox(site)] == ["delivered", "delivered"]
