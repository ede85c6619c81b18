"""CSRF protection: a signed token bound to the browser, checked on every unsafe request.

Each browser gets a random ``yidi_csrf`` cookie (HttpOnly, SameSite=Lax). Pages
embed an HMAC of it: forms as a hidden ``_csrf`` field, htmx requests as the
``X-CSRF-Token`` header (set once on ``<body hx-headers>``). A POST, PUT, PATCH
or DELETE without a matching token is refused with 403, whether the user is
signed in or anonymous (public forms are protected too). The JSON API is
exempt only for requests that carry no cookies at all (token clients).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request

COOKIE = "yidi_csrf"
HEADER = "X-CSRF-Token"
FIELD = "_csrf"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def token_for(secret: str, browser: str) -> str:
    return hmac.new(secret.encode(), browser.encode(), hashlib.sha256).hexdigest()


def new_browser_id() -> str:
    return secrets.token_urlsafe(24)


async def valid(request: Request, secret: str) -> bool:
    """Whether an unsafe request carries the token of its browser cookie."""
    browser = request.cookies.get(COOKIE)
    if not browser:
        return False
    expected = token_for(secret, browser)
    given = request.headers.get(HEADER)
    if not given:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(FIELD)
            given = value if isinstance(value, str) else None
    return bool(given) and hmac.compare_digest(str(given), expected)
