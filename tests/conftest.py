"""Shared fixtures: the repository root, and fresh PostgreSQL databases.

PostgreSQL tests are marked ``postgres``. Outside CI they skip with a reason
when no server answers; when ``CI=true`` they must run, so a missing server
fails them instead.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_DSN = os.environ.get("YIDI_TEST_PG", "postgres://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def _pg_error() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    try:
        import asyncpg
    except ImportError:  # pragma: no cover - asyncpg is a dependency
        return "asyncpg is not installed"

    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any connection failure means: no server here
        return f"no PostgreSQL server at {PG_ADMIN_DSN}: {type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def pg_available() -> None:
    error = _pg_error()
    if error is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true requires PostgreSQL: {error}")
    pytest.skip(error)


@pytest.fixture
def pg_dsn(pg_available: None) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    import asyncpg

    name = f"yidi_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'"))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
