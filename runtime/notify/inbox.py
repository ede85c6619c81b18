"""A user's inbox: their messages, newest first, and marking them read.

Every query names the recipient: nobody reads, counts or marks anyone
else's messages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.storage.columns import decode, encode
from runtime.storage.sql import P, Sql

TABLE = "yidi_message"
PAGE = 30
BADGE_CAP = 99  # the badge says 99+ beyond this


@dataclass
class Item:
    id: int
    scenario: str
    entity: str
    record_id: int | None
    event: str
    title: str
    body: str
    created_at: dt.datetime
    read: bool

    @property
    def url(self) -> str | None:
        if self.record_id is None:
            return None
        return f"/s/{self.scenario}/r/{self.entity}/{self.record_id}"


def _item(row: dict[str, Any], locale: str) -> Item:
    en = locale == "en"
    return Item(
        id=int(row["id"]),
        scenario=str(row["scenario"]),
        entity=str(row["entity"]),
        record_id=None if row["record_id"] is None else int(row["record_id"]),
        event=str(row["event"]),
        title=str((row["title_en"] if en else None) or row["title"]),
        body=str((row["body_en"] if en else None) or row["body"] or ""),
        created_at=decode("datetime", row["created_at"]),
        read=row["read_at"] is not None,
    )


async def page(
    db: BaseDBAsyncClient,
    pg: bool,
    user_id: int,
    locale: str = "zh",
    *,
    before: int | None = None,
    unread_only: bool = False,
    limit: int = PAGE,
) -> tuple[list[Item], int | None]:
    """One page of the user's messages (newest first) and the cursor of the next."""
    sql = Sql(pg, f'SELECT * FROM "{TABLE}" WHERE "user_id" = ', P(int(user_id)))
    if unread_only:
        sql.add(' AND "read_at" IS NULL')
    if before is not None:
        sql.add(' AND "id" < ', P(int(before)))
    sql.add(' ORDER BY "id" DESC LIMIT ', P(int(limit) + 1))
    rows = list(await db.execute_query_dict(*sql.render()))
    items = [_item(dict(r), locale) for r in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit and items else None)


async def unread(db: BaseDBAsyncClient, pg: bool, user_id: int, cap: int = BADGE_CAP) -> int:
    """Unread messages of the user, counted up to ``cap + 1``."""
    sql = Sql(pg, f'SELECT count(*) AS n FROM (SELECT 1 FROM "{TABLE}" WHERE "user_id" = ')
    sql.add(P(int(user_id)), ' AND "read_at" IS NULL LIMIT ', P(cap + 1), ") AS c")
    rows = await db.execute_query_dict(*sql.render())
    return int(rows[0]["n"])


async def mark_read(
    db: BaseDBAsyncClient, pg: bool, user_id: int, now: dt.datetime, message_id: int | None = None
) -> int:
    """Mark one message (or all) of the user read; how many changed."""
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "read_at" = ', P(encode("datetime", now, pg)))
    sql.add(' WHERE "user_id" = ', P(int(user_id)), ' AND "read_at" IS NULL')
    if message_id is not None:
        sql.add(' AND "id" = ', P(int(message_id)))
    count, _ = await db.execute_query(*sql.render())
    return int(count or 0)


async def owns(db: BaseDBAsyncClient, pg: bool, user_id: int, message_id: int) -> bool:
    sql = Sql(pg, f'SELECT 1 AS x FROM "{TABLE}" WHERE "id" = ', P(int(message_id)))
    sql.add(' AND "user_id" = ', P(int(user_id)))
    return bool(await db.execute_query_dict(*sql.render()))
