"""The inbox: a signed-in user's messages, the header's unread badge, marking read.

``GET /inbox`` lists the viewer's own messages, newest first (``?unread=1``
only the unread, ``?before=<id>`` older ones); ``GET /inbox/badge`` is the
header's link with the unread count (htmx refreshes it every 30 s; without
JavaScript the page header already carries the count); ``POST
/inbox/{id}/read`` and ``POST /inbox/read-all`` mark read (CSRF-checked by
the gate). Every query names the viewer as recipient: another user's
message id is simply not found.
"""

from __future__ import annotations

import datetime as dt

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime.notify import inbox
from runtime.timers.timers import now_of
from runtime.web.display import local
from runtime.web.guard import require_login, viewer_of
from runtime.web.i18n import locale_of
from runtime.web.templating import render


def _int(value: str | None) -> int | None:
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


def local_time(moment: dt.datetime) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M")


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def inbox_page(request: Request) -> Response:
    viewer = require_login(request)
    store = request.app.state.store
    locale = locale_of(request, request.app.state.default_locale)
    unread_only = request.query_params.get("unread") == "1"
    items, older = await inbox.page(
        store.db(),
        store.pg,
        int(viewer.id or 0),
        locale,
        before=_int(request.query_params.get("before")),
        unread_only=unread_only,
    )
    count = await inbox.unread(store.db(), store.pg, int(viewer.id or 0))
    request.state.unread = count
    more = None
    if older is not None:
        more = f"/inbox?before={older}" + ("&unread=1" if unread_only else "")
    return render(
        request,
        "inbox.html",
        {
            "items": items,
            "unread": count,
            "unread_only": unread_only,
            "more_url": more,
            "page_title": {"zh": "消息", "en": "Messages"},
            "local_time": local_time,
        },
    )


async def badge(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer.anonymous:
        return Response(status_code=204)
    store = request.app.state.store
    count = await inbox.unread(store.db(), store.pg, int(viewer.id or 0))
    return render(request, "_inbox_badge.html", {"unread": count}, block="badge")


async def mark_one(request: Request) -> Response:
    viewer = require_login(request)
    store = request.app.state.store
    message_id = _int(request.path_params.get("id"))
    user_id = int(viewer.id or 0)
    if message_id is None or not await inbox.owns(store.db(), store.pg, user_id, message_id):
        raise HTTPException(404, "not found")
    await inbox.mark_read(store.db(), store.pg, user_id, now_of(request.app.state), message_id)
    if _htmx(request):
        locale = locale_of(request, request.app.state.default_locale)
        items, _ = await inbox.page(
            store.db(), store.pg, user_id, locale, before=message_id + 1, limit=1
        )
        count = await inbox.unread(store.db(), store.pg, user_id)
        return render(
            request,
            "_inbox_item.html",
            {"item": items[0], "unread": count, "oob": True, "local_time": local_time},
            block="item",
        )
    return RedirectResponse("/inbox", status_code=303)


async def mark_all(request: Request) -> Response:
    viewer = require_login(request)
    store = request.app.state.store
    await inbox.mark_read(store.db(), store.pg, int(viewer.id or 0), now_of(request.app.state))
    return RedirectResponse("/inbox", status_code=303)
