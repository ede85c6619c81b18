"""The one gate every route passes: who is asking, in which language and theme, and CSRF.

``gated(handler)`` wraps every endpoint of the app (a test checks that none
escapes). Before the handler runs it resolves the viewer from the session
cookie, the locale and the theme, hands out the browser's CSRF cookie, and
refuses any unsafe request without a valid token. Permission checks proper
(which view, which rows) happen in the handlers through ``runtime.access``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from runtime.access import ANONYMOUS, Viewer
from runtime.web import csrf, sessions
from runtime.web.i18n import locale_of

Handler = Callable[[Request], Awaitable[Response]]


async def load_viewer(request: Request) -> Viewer:
    clock = getattr(request.app.state, "clock", None)
    rows = await sessions.resume(request.cookies.get(sessions.COOKIE), clock() if clock else None)
    if not rows:
        return ANONYMOUS
    first = rows[0]
    grants = tuple(
        (str(r["org_unit_id"]), str(r["role"])) for r in rows if r["org_unit_id"] is not None
    )
    org = request.app.state.deployment.org
    if any(unit not in org for unit, _ in grants):
        # a unit another process added on /admin/orgs: refresh this process's tree
        from runtime.orgs import load_org

        await load_org(request.app.state.deployment)
    return Viewer(int(first["user_id"]), str(first["login"]), str(first["name"]), grants)


def gated(handler: Handler, *, api: bool = False) -> Handler:
    async def endpoint(request: Request) -> Response:
        state = request.app.state
        secret = state.settings.ensure_secret()
        browser = request.cookies.get(csrf.COOKIE)
        fresh = browser is None
        if fresh:
            browser = csrf.new_browser_id()
        request.state.csrf_token = csrf.token_for(secret, browser)
        request.state.locale = locale_of(request, state.default_locale)
        viewer = await load_viewer(request)
        request.state.viewer = viewer
        request.state.user = None if viewer.anonymous else viewer
        request.state.theme = state.deployment.theme_of(viewer.org)
        if not api and not viewer.anonymous and request.method == "GET":
            request.state.unread = await unread_count(request, viewer)  # the header's badge
        try:
            if request.method in csrf.UNSAFE:
                token_client = api and not request.cookies
                if not token_client and (fresh or not await csrf.valid(request, secret)):
                    raise HTTPException(403, "csrf")
            response = await handler(request)
        finally:
            await request.close()  # uploaded files of a parsed form are closed and removed
        if fresh:
            response.set_cookie(
                csrf.COOKIE,
                browser,
                httponly=True,
                samesite="lax",
                secure=state.settings.secure_cookies,
                path="/",
            )
        if "lang" in request.query_params:
            response.set_cookie(
                "lang",
                request.state.locale,
                samesite="lax",
                path="/",
                max_age=365 * 24 * 3600,
                secure=state.settings.secure_cookies,
            )
        return response

    endpoint.gated = True  # type: ignore[attr-defined]
    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


async def unread_count(request: Request, viewer: Viewer) -> int:
    """The viewer's unread messages for the page header (one indexed count, capped)."""
    if request.headers.get("HX-Request") == "true":
        return 0  # fragments carry no header; the badge refreshes itself
    from runtime.notify.inbox import unread

    store = request.app.state.store
    return await unread(store.db(), store.pg, int(viewer.id or 0))


def viewer_of(request: Request) -> Viewer:
    viewer: Viewer = getattr(request.state, "viewer", ANONYMOUS)
    return viewer


def require_login(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if viewer.anonymous:
        raise HTTPException(401, "login")
    return viewer


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def deny() -> Any:
    raise HTTPException(403, "forbidden")
