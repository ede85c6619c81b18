"""The Starlette app of a deployment: routes, static files, errors, lifespan.

``create_app(settings)`` loads and checks the deployment (refusing to start on
a mistake, with the checker's report), opens the store in the lifespan (schema
sync included: an incompatible change refuses to start and shows the plan) and
serves every page and API call through ``guard.gated``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from runtime.access import Access
from runtime.deployment import Deployment, load_deployment
from runtime.settings import Settings
from runtime.web.i18n import t
from runtime.web.routes import routes
from runtime.web.templating import THEMES, Templates, render

STATIC = Path(__file__).resolve().parent.parent / "static"

ERROR_KEYS = {
    400: "bad_request",
    401: "login_needed",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "too_large",
    422: "form_has_errors",
}
API_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    500: "server_error",
}


def static_routes(templates: Templates) -> list[BaseRoute]:
    mounts: list[BaseRoute] = [
        Mount("/static/vendor", StaticFiles(directory=STATIC / "vendor"), name="vendor")
    ]
    for theme in templates.themes():
        folder = THEMES / theme / "static"
        if folder.is_dir():
            mounts.append(
                Mount(
                    f"/static/themes/{theme}", StaticFiles(directory=folder), name=f"theme-{theme}"
                )
            )
    return mounts


def api_error(
    status: int, message: str, fields: dict[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code or API_CODES.get(status, "error"), "message": message}
    if fields:
        body["fields"] = fields
    return JSONResponse({"error": body}, status_code=status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    locale = getattr(request.state, "locale", "zh")
    if request.url.path.startswith("/api/"):
        code = "csrf_failed" if exc.detail == "csrf" else None
        return api_error(
            status,
            t(ERROR_KEYS.get(status, "bad_request"), locale, who=t("someone", locale)),
            code=code,
        )
    if status == 401:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    key = "csrf_failed" if exc.detail == "csrf" else ERROR_KEYS.get(status, "bad_request")
    if not hasattr(request.state, "csrf_token"):
        request.state.csrf_token = ""
        request.state.theme = "default"
    return render(
        request,
        "error.html",
        {"status": status, "message": t(key, locale, who=t("someone", locale))},
        status=status,
        block="main" if request.headers.get("HX-Request") else None,
    )


async def server_error(request: Request, exc: Exception) -> Response:
    if request.url.path.startswith("/api/"):
        return api_error(500, t("server_error", "en"))
    return Response(
        t("server_error", "zh") + " / " + t("server_error", "en"),
        status_code=500,
        media_type="text/plain; charset=utf-8",
    )


def create_app(settings: Settings | None = None, deployment: Deployment | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    deployment = deployment or load_deployment(settings.manifest)
    templates = Templates([s_dir for s_dir in _scenario_template_dirs(deployment)])
    templates.globals["site_title"] = ""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        from runtime.orgs import load_org
        from runtime.storage.db import open_store

        async with open_store(
            deployment,
            settings.database_url,
            settings.data_dir,
            models=[
                "runtime.web.sessions",
                "runtime.engine.tasks",
                "runtime.timers.timers",
                "runtime.notify.models",
            ],
        ) as store:
            app.state.store = store
            await load_org(deployment)  # the live org tree: manifest units + units added by admins
            if settings.demo:
                await seed_demo(store, deployment, settings)
                from runtime.engine.engine import backfill

                await backfill(app.state)  # sample records in 办理中 get their departments' tasks
            from runtime.web.scores import attach_scoring, seed_scores

            attach_scoring(app, store)  # scores follow every write from now on
            if settings.demo:
                await seed_scores(store)
            from runtime.timers.scheduler import Scheduler

            scheduler = Scheduler(app.state)  # fires what fell due while down, then every N s
            await scheduler.start()
            yield
            await scheduler.stop()
            for task in list(app.state.background):
                task.cancel()

    app = Starlette(
        routes=[*static_routes(templates), *routes()],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.settings = settings
    app.state.background = set()
    app.state.deployment = deployment
    app.state.templates = templates
    app.state.access = Access(deployment)
    app.state.default_locale = "en" if deployment.data.get("locale") == "en" else "zh"
    templates.globals["site_title"] = deployment.title("zh")
    return app


DEMO_LOCK = 7_310_580_022  # pg_advisory_xact_lock key: one process seeds the demo at a time


async def seed_demo(store: Any, deployment: Deployment, settings: Settings) -> None:
    from tortoise.transactions import in_transaction

    from runtime.demo import seed_records, seed_users

    count = int((deployment.data.get("demo") or {}).get("records", 50))
    async with in_transaction(store.connection_name) as conn:
        if store.pg:
            await conn.execute_query("SELECT pg_advisory_xact_lock($1)", [DEMO_LOCK])
        password = await seed_users(deployment, settings.data_dir)
    made = await seed_records(store, deployment, count)
    users = ", ".join((deployment.data.get("demo") or {}).get("users") or {})
    print(f"demo: {made} sample records; users: {users}")
    if password:
        print(
            f"demo password for every demo user: {password}  (kept in {settings.data_dir / 'demo-password.txt'})"
        )


def _scenario_template_dirs(deployment: Deployment) -> list[Path]:
    out = []
    for sid in deployment.scenarios:
        folder = deployment.manifest.scenario_folder(sid)
        if folder is not None:
            out.append(folder / "templates")
    return out
