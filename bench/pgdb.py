"""A fresh PostgreSQL database for one benchmark run, dropped afterwards."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager


def _admin(dsn: str, sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def fresh_database(admin_dsn: str) -> Iterator[str]:
    """The URL of a new, empty database next to ``admin_dsn``'s; dropped on the way out."""
    name = f"yidi_bench_{uuid.uuid4().hex[:8]}"
    _admin(admin_dsn, f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    try:
        yield admin_dsn.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(admin_dsn, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
