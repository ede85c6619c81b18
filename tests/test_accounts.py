"""Accounts: argon2 hashes, slow-down and lockout after failures, session expiry."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from runtime.demo import demo_password
from runtime.web import passwords
from tests.webkit import Browser, make_client


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def forward(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[TestClient, Path, Clock]]:
    clock = Clock()
    with make_client(tmp_path) as client:
        client.app.state.clock = clock  # type: ignore[attr-defined]
        client.app.state.login_delay = 0.05  # type: ignore[attr-defined]
        yield client, tmp_path, clock


def attempt(client: TestClient, data_dir: Path, login: str, password: str) -> int:
    browser = Browser(client, data_dir)
    browser.refresh_token("/login")
    return client.post(
        "/login", data={"login": login, "password": password, "_csrf": browser.token}
    ).status_code


def test_passwords_are_stored_as_argon2id(site: tuple[TestClient, Path, Clock]) -> None:
    client, _, _ = site
    from runtime.storage.platform import User

    hashes = client.portal.call(lambda: User.all().values_list("password_hash", flat=True))  # type: ignore[attr-defined]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert passwords.verify(hashes[0], "wrong") is False
    assert passwords.verify("not a hash", "x") is False


def test_slow_down_then_lockout_then_unlock(site: tuple[TestClient, Path, Clock]) -> None:
    client, data_dir, clock = site
    took = []
    for _ in range(4):
        start = time.perf_counter()
        assert attempt(client, data_dir, "lc_staff", "wrong") == 401
        took.append(time.perf_counter() - start)
    assert took[2] >= 0.05 and took[3] >= 0.1  # from the third failure on, answers slow down
    assert attempt(client, data_dir, "lc_staff", "wrong") == 401  # the fifth locks the account
    assert (
        attempt(client, data_dir, "lc_staff", demo_password(data_dir)) == 401
    )  # even the right password
    clock.forward(minutes=16)
    assert attempt(client, data_dir, "lc_staff", demo_password(data_dir)) == 303


def test_sessions_expire_when_idle_and_at_most_after_twelve_hours(
    site: tuple[TestClient, Path, Clock],
) -> None:
    client, data_dir, clock = site
    Browser(client, data_dir).login("lc_staff")
    assert client.get("/s/suggestions/v/all").status_code == 200
    clock.forward(hours=1, minutes=59)
    assert client.get("/s/suggestions/v/all").status_code == 200  # still in use
    clock.forward(hours=2, minutes=1)
    assert client.get("/s/suggestions/v/all").status_code == 303  # idle too long: sign in again
    Browser(client, data_dir).login("lc_staff")
    for _ in range(13):
        clock.forward(hours=1)
        response = client.get("/s/suggestions/v/all")
    assert response.status_code == 303  # active all along, but past the absolute limit


def test_password_rules() -> None:
    assert passwords.problems("short") != []
    assert passwords.problems("alllowercaseletters") != []
    assert passwords.problems("Wang-fang-2026", login="wang") != []
    assert passwords.problems("Zhejiang-Renda-2026") == []
