"""The store inside a Starlette lifespan: request handlers reach it, connections close."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient
from tortoise.contrib.starlette import RegisterTortoise

from runtime.storage import Store, open_store
from tests.test_storage_support import DATABASES, database_url, demo

SUGGESTION = "suggestions.suggestion"


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return database_url(request, tmp_path)


async def handler(request: Request) -> JSONResponse:
    store: Store = request.app.state.store
    made = await store.create(
        SUGGESTION, {"title": "网上", "category": "教育", "body": "b" * 20}, actor=1, org="lc"
    )
    history = await store.history(SUGGESTION, made.id)  # the ORM, too
    return JSONResponse({"id": made.id, "changes": len(history)})


@pytest.mark.parametrize("style", ["register_tortoise", "open_store"])
def test_handlers_reach_the_store(db_url: str, tmp_path: Path, style: str) -> None:
    deployment = demo()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if style == "register_tortoise":
            store = Store(deployment, db_url, tmp_path)
            async with RegisterTortoise(app, config=store.tortoise_config()):
                await store.start()
                app.state.store = store
                yield
            store.close()
        else:
            async with open_store(deployment, db_url, tmp_path) as store:
                app.state.store = store
                yield

    threads = threading.active_count()
    app = Starlette(routes=[Route("/", handler, methods=["POST"])], lifespan=lifespan)
    with TestClient(app) as client:
        assert client.post("/").json() == {"id": 1, "changes": 1}
        assert client.post("/").json() == {"id": 2, "changes": 1}
    for _ in range(100):  # threads of earlier tests may still be winding down
        if threading.active_count() <= threads:
            break
        time.sleep(0.02)
    assert threading.active_count() <= threads  # the aiosqlite thread is gone


def test_pragmas_and_refusal_before_start(tmp_path: Path) -> None:
    import asyncio

    async def main() -> None:
        url = f"sqlite://{tmp_path / 'y.sqlite3'}"
        async with open_store(demo(), url, tmp_path, start=False) as store:
            with pytest.raises(RuntimeError, match="not started"):
                await store.get(SUGGESTION, 1)
            await store.start()
            db = store.db()
            assert (await db.execute_query_dict("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
            assert (await db.execute_query_dict("PRAGMA busy_timeout"))[0]["timeout"] == 5000
            assert (await db.execute_query_dict("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1
            assert await store.get(SUGGESTION, 1) is None

    asyncio.run(main())
