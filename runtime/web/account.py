"""Signing in and out."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from runtime.web import passwords, sessions
from runtime.web.guard import client_ip
from runtime.web.i18n import t
from runtime.web.templating import render


def safe_next(value: object) -> str:
    text = value if isinstance(value, str) else "/"
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/"


async def slow_down(request: Request, failures: int) -> None:
    """From the third failure in a row, each answer waits longer (0.5 s, 1 s, 2 s … at most 4 s).

    The wait is asynchronous: it slows a guesser down without holding up other requests.
    """
    if failures >= sessions.SLOW_AFTER:
        base = getattr(request.app.state, "login_delay", 0.5)
        await asyncio.sleep(min(base * 2 ** (failures - sessions.SLOW_AFTER), 8 * base))


async def login_page(request: Request) -> Response:
    return render(
        request,
        "login.html",
        {
            "next": safe_next(request.query_params.get("next")),
            "login": "",
            "error": None,
            "page_title": t("login", request.state.locale),
        },
    )


async def login(request: Request) -> Response:
    from runtime.storage.platform import User

    form = await request.form()
    login_name = str(form.get("login") or "").strip()[:128]
    password = str(form.get("password") or "")[:1000]
    target = safe_next(form.get("next"))
    user = await User.get_or_none(login=login_name) if login_name else None
    clock = getattr(request.app.state, "clock", None)
    moment = clock() if clock else sessions.now()
    locked = user is not None and user.locked_until is not None and user.locked_until > moment
    ok = passwords.verify(user.password_hash if user else None, password) and not locked
    if user is None or not ok or not user.active:
        failures = 0
        if user is not None and not locked:
            user.failed_logins += 1
            failures = user.failed_logins
            if user.failed_logins >= sessions.LOCK_AFTER:
                user.locked_until = moment + sessions.LOCK_FOR
                user.failed_logins = 0
            await user.save(update_fields=["failed_logins", "locked_until"])
        await slow_down(request, failures)
        return render(
            request,
            "login.html",
            {"next": target, "login": login_name, "error": t("login_failed", request.state.locale)},
            status=401,
        )
    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash or ""):
        user.password_hash = passwords.hash_password(password)
    await user.save(update_fields=["failed_logins", "locked_until", "password_hash"])
    token = await sessions.start(int(user.id), client_ip(request), moment)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        sessions.COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path="/",
        secure=request.app.state.settings.secure_cookies,
    )
    return response


async def logout(request: Request) -> Response:
    await sessions.end(request.cookies.get(sessions.COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(sessions.COOKIE, path="/")
    return response
