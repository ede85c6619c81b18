"""The outgoing webhook: messages for a deployment's messaging system, signed and retried.

``scenarios.yaml``::

    webhook:
      url: https://msg.example.gov.cn/yidi
      secret_env: YIDI_WEBHOOK_SECRET   # the variable holding the secret, never the secret
      attempts: 6

A notification with ``channels: [inbox, webhook]`` writes one ``yidi_outbox``
row (in the same transaction as its inbox messages). The scheduler posts it
as JSON; the body is signed with HMAC-SHA256 under the secret and the
signature sent as ``X-Yidi-Signature: sha256=<hex>`` (with ``X-Yidi-Delivery``,
the same on every retry, for the receiver to drop duplicates). A failed
attempt (no answer, or a status other than 2xx) is retried after 30 s, 1 min,
2 min … (at most an hour apart); after ``attempts`` tries the row is
``failed``, its last status and error kept.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

from tortoise.backends.base.client import BaseDBAsyncClient

from runtime.model import Entity
from runtime.storage.columns import encode
from runtime.storage.sql import P, Sql

log = logging.getLogger("yidi.webhook")

TABLE = "yidi_outbox"
SIGNATURE = "X-Yidi-Signature"
DELIVERY = "X-Yidi-Delivery"
EVENT = "X-Yidi-Event"
ATTEMPTS = 6
TIMEOUT = 10.0
LEASE = dt.timedelta(seconds=60)
BATCH = 20
BACKOFF = dt.timedelta(seconds=30)
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


def config(app_state: Any) -> dict[str, Any] | None:
    found = app_state.deployment.data.get("webhook")
    return dict(found) if isinstance(found, Mapping) and found.get("url") else None


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of the exact body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), signature)


def backoff(attempts: int) -> dt.timedelta:
    wait: dt.timedelta = BACKOFF * (2 ** max(0, attempts - 1))
    return min(wait, dt.timedelta(hours=1))


async def enqueue(
    app_state: Any,
    db: BaseDBAsyncClient,
    entity: Entity,
    record: Mapping[str, Any],
    event: str,
    users: Iterable[int],
    title: Mapping[str, str],
    body: Mapping[str, str],
    now: dt.datetime,
    source: str | None = None,
) -> bool:
    """Queue one message for the webhook (nothing when the deployment has none)."""
    if config(app_state) is None:
        return False
    from runtime.notify.messages import dumps, new_delivery_id

    pg = app_state.store.pg
    wanted = sorted({int(u) for u in users})
    people: list[dict[str, Any]] = []
    if wanted:
        sql = Sql(pg, 'SELECT "id", "login", "name" FROM "yidi_user" WHERE "id" IN (')
        sql.join([Sql(pg, P(u)) for u in wanted], ", ").add(') ORDER BY "id"')
        people = [
            {"id": int(r["id"]), "login": str(r["login"]), "name": str(r["name"])}
            for r in await db.execute_query_dict(*sql.render())
        ]
    record_id = record.get("id")
    payload = {
        "id": new_delivery_id(),
        "event": event,
        "scenario": entity.scenario,
        "entity": entity.id,
        "record_id": record_id,
        "url": f"/s/{entity.scenario}/r/{entity.id}/{record_id}",
        "title": dict(title),
        "body": dict(body),
        "recipients": people,
        "source": source,
        "created_at": now.astimezone(dt.UTC).isoformat(),
    }
    moment = encode("datetime", now, pg)
    names = ["scenario", "entity", "record_id", "event", "payload", "status", "attempts"]
    names += ["next_at", "created_at"]
    values = [entity.scenario, entity.id, record_id, event, dumps(payload), PENDING, 0]
    values += [moment, moment]
    sql = Sql(pg, f'INSERT INTO "{TABLE}" (' + ", ".join(f'"{n}"' for n in names) + ") VALUES (")
    sql.join([Sql(pg, P(v)) for v in values], ", ").add(")")
    await db.execute_query(*sql.render())
    return True


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float = TIMEOUT) -> int:
    """POST the body; the HTTP status (an error status raises ``HTTPError``)."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


async def claim(app_state: Any, now: dt.datetime, owner: str) -> list[dict[str, Any]]:
    store = app_state.store
    pg = store.pg
    moment = encode("datetime", now, pg)
    pick = Sql(pg, f'SELECT "id" FROM "{TABLE}" WHERE "status" = ', P(PENDING))
    pick.add(' AND "next_at" <= ', P(moment))
    pick.add(' AND ("lease_until" IS NULL OR "lease_until" < ', P(moment), ")")
    pick.add(' ORDER BY "next_at", "id" LIMIT ', P(BATCH))
    if pg:
        pick.add(" FOR UPDATE SKIP LOCKED")
    sql = Sql(pg, f'UPDATE "{TABLE}" SET "lease_owner" = ', P(owner), ', "lease_until" = ')
    sql.add(P(encode("datetime", now + LEASE, pg)), ', "attempts" = "attempts" + 1')
    sql.add(' WHERE "id" IN (', pick, ") RETURNING *")
    rows = await store.db().execute_query_dict(*sql.render())
    return sorted((dict(r) for r in rows), key=lambda r: int(r["id"]))


async def _attempt(cfg: Mapping[str, Any], row: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """(HTTP status, error) of one delivery attempt."""
    url = str(cfg["url"])
    if urlparse(url).scheme not in ("http", "https"):
        return None, f"the webhook url must be http or https: {url}"
    body = str(row["payload"]).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "yidi-webhook",
        EVENT: str(row["event"]),
        DELIVERY: str(row["id"]),
    }
    secret_env = cfg.get("secret_env")
    if secret_env:
        secret = os.environ.get(str(secret_env))
        if not secret:
            return None, f"the signing secret ${secret_env} is not set"
        headers[SIGNATURE] = sign(secret, body)
    try:
        status = await asyncio.to_thread(post, url, body, headers)
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return None, f"{type(exc).__name__}: {exc}"
    return status, None if 200 <= status < 300 else f"HTTP {status}"


async def deliver_due(app_state: Any, now: dt.datetime, owner: str) -> int:
    """Post every due outbox message once; the number delivered."""
    cfg = config(app_state)
    if cfg is None:
        return 0
    store = app_state.store
    pg = store.pg
    most = int(cfg.get("attempts") or ATTEMPTS)
    delivered = 0
    rows = await claim(app_state, now, owner)
    # the posts of a batch go out together: a hanging endpoint costs one timeout, not one per message
    outcomes = await asyncio.gather(*(_attempt(cfg, row) for row in rows))
    for row, (status, error) in zip(rows, outcomes, strict=True):
        attempts = int(row["attempts"])
        sql = Sql(pg, f'UPDATE "{TABLE}" SET "last_status" = ', P(status))
        sql.add(', "last_error" = ', P(error[:2000] if error else None))
        if error is None:
            delivered += 1
            sql.add(', "status" = ', P(DELIVERED), ', "delivered_at" = ')
            sql.add(P(encode("datetime", now, pg)))
        elif attempts >= most:
            log.warning("webhook message %s failed %d times: %s", row["id"], attempts, error)
            sql.add(', "status" = ', P(FAILED))
        else:
            sql.add(', "next_at" = ', P(encode("datetime", now + backoff(attempts), pg)))
            sql.add(', "lease_until" = NULL')
        sql.add(' WHERE "id" = ', P(int(row["id"])), ' AND "lease_owner" = ', P(owner))
        await store.db().execute_query(*sql.render())
    return delivered
