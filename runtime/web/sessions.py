"""Server-verified sessions: the cookie holds a random token, the database its hash.

A session ends after ``IDLE`` without use or ``ABSOLUTE`` after sign-in,
whichever comes first; signing out deletes it. Failed sign-ins count per
account: after ``LOCK_AFTER`` in a row the account is locked for ``LOCK_FOR``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from tortoise import fields
from tortoise.models import Model

COOKIE = "yidi_session"
IDLE = dt.timedelta(hours=2)
ABSOLUTE = dt.timedelta(hours=12)
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


async def resume(token: str | None, at: dt.datetime | None = None) -> int | None:
    """The user of a live session, refreshing its idle clock; None when expired or unknown."""
    if not token or len(token) > 200:
        return None
    moment = at or now()
    found = await Session.get_or_none(id=_digest(token))
    if found is None:
        return None
    if moment - found.seen_at > IDLE or moment - found.created_at > ABSOLUTE:
        await found.delete()
        return None
    if moment - found.seen_at > dt.timedelta(minutes=1):
        found.seen_at = moment
        await found.save(update_fields=["seen_at"])
    return int(found.user_id)


async def end(token: str | None) -> None:
    if token:
        await Session.filter(id=_digest(token)).delete()
