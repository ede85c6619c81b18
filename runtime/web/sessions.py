"""Server-verified sessions: the cookie holds a random token, the database its hash.

A session ends after ``IDLE`` without use or ``ABSOLUTE`` after sign-in,
whichever comes first; signing out deletes it. Failed sign-ins count per
account: after ``LOCK_AFTER`` in a row the account is locked for ``LOCK_FOR``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from tortoise import connections, fields
from tortoise.models import Model

COOKIE = "yidi_session"
IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=12)
SLOW_AFTER = 3
LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)


class Session(Model):
    id = fields.CharField(max_length=64, primary_key=True)  # sha256 of the cookie token
    user_id = fields.BigIntField(db_index=True)
    created_at = fields.DatetimeField()
    seen_at = fields.DatetimeField()
    ip = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "yidi_session"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def start(user_id: int, ip: str | None, at: dt.datetime | None = None) -> str:
    """A new session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    moment = at or now()
    await Session.create(
        id=_digest(token), user_id=user_id, created_at=moment, seen_at=moment, ip=ip
    )
    return token


async def resume(token: str | None, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The live session's user and grants in one query: rows of (user, grant); [] when none.

    Each row holds user_id, login, name, created_at, seen_at, org_unit_id, role. An
    expired session is deleted; the idle clock is refreshed at most once a minute.
    """
    if not token or len(token) > 200:
        return []
    moment = at or now()
    digest = _digest(token)
    db = connections.get("default")
    mark = "$1" if db.capabilities.dialect == "postgres" else "?"
    rows = await db.execute_query_dict(
        'SELECT s."user_id", s."created_at", s."seen_at", u."login", u."name", g."org_unit_id", g."role" '
        'FROM "yidi_session" s JOIN "yidi_user" u ON u."id" = s."user_id" AND u."active" '
        'LEFT JOIN "yidi_grant" g ON g."user_id" = u."id" '
        f'WHERE s."id" = {mark} ORDER BY g."id"',
        [digest],
    )
    if not rows:
        return []
    created, seen = _aware(rows[0]["created_at"]), _aware(rows[0]["seen_at"])
    if moment - seen > IDLE or moment - created > ABSOLUTE:
        await Session.filter(id=digest).delete()
        return []
    if moment - seen > dt.timedelta(minutes=1):
        await Session.filter(id=digest).update(seen_at=moment)
    return list(rows)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


async def end(token: str | None) -> None:
    if token:
        await Session.filter(id=_digest(token)).delete()
