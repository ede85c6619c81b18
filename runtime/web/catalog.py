"""``/catalog``: the published scenario packages as HTML (search, tags, a page per
package) and as files (``index.json`` with its signature and key, the archives).

Who may read it follows the manifest's ``publish.public`` (default true: the
catalog holds definitions, no personal data, and counties fetch it over HTTP
without an account); with ``public: false`` only signed-in users may.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from runtime.catalog import CatalogError
from runtime.catalog.diagram import workflow_svg
from runtime.catalog.site import Site, site_for
from runtime.model import text as label_text
from runtime.web.guard import require_login
from runtime.web.i18n import locale_of, t
from runtime.web.markdown import to_html
from runtime.web.templating import render

MEDIA = {
    "index.json": "application/json",
    "index.json.sig": "text/plain; charset=ascii",
    "key.pub": "text/plain; charset=ascii",
}


async def _site(request: Request) -> Site:
    publish = request.app.state.deployment.data.get("publish") or {}
    if publish.get("public") is False:
        require_login(request)
    return await run_in_threadpool(site_for, request.app.state)


def _matches(entry: dict[str, Any], q: str, tag: str) -> bool:
    if tag and tag not in (entry.get("tags") or []):
        return False
    if not q:
        return True
    words = [
        str(entry.get("id")),
        *(label_text(entry.get(k), loc) for k in ("title", "description") for loc in ("zh", "en")),
        *(entry.get("tags") or []),
    ]
    hay = " ".join(words).lower()
    return all(part in hay for part in q.lower().split())


async def catalog_page(request: Request) -> Response:
    site = await _site(request)
    q = request.query_params.get("q", "").strip()[:100]
    tag = request.query_params.get("tag", "").strip()[:40]
    everything = site.latest()
    tags = sorted({t for e in everything for t in e.get("tags") or []})
    shown = [e for e in everything if _matches(e, q, tag)]
    return render(
        request,
        "catalog.html",
        {
            "packages": shown,
            "tags": tags,
            "q": q,
            "tag": tag,
            "total": len(everything),
            "page_title": t("catalog", locale_of(request, request.app.state.default_locale)),
        },
    )


def _forms(data: dict[str, Any], locale: str) -> list[dict[str, Any]]:
    out = []
    for fid, form in (data.get("forms") or {}).items():
        entity = (data.get("entities") or {}).get(form.get("entity")) or {}
        fields = entity.get("fields") or {}
        ids = list(form.get("fields") or [])
        for group in ("sections", "steps"):
            for part in (form.get(group) or {}).values():
                ids += list(part.get("fields") or [])
        if not ids:
            ids = [f for f, spec in fields.items() if spec.get("readonly") is not True]
        out.append(
            {
                "id": fid,
                "label": label_text(form.get("label"), locale) or fid,
                "roles": [
                    label_text((data.get("roles") or {}).get(r, {}).get("label"), locale) or r
                    for r in form.get("roles") or []
                ],
                "fields": [
                    {
                        "label": label_text((fields.get(f) or {}).get("label"), locale) or f,
                        "type": (fields.get(f) or {}).get("type", ""),
                        "required": (fields.get(f) or {}).get("required") is True,
                    }
                    for f in ids
                ],
            }
        )
    return out


async def catalog_item(request: Request) -> Response:
    site = await _site(request)
    pid = request.path_params["id"]
    versions = site.versions(pid)
    if not versions:
        raise HTTPException(404, "not_found")
    wanted = request.query_params.get("v")
    release = next((v for v in versions if v.get("version") == wanted), versions[0])
    locale = locale_of(request, request.app.state.default_locale)
    try:
        contents = await run_in_threadpool(site.contents, release)
    except CatalogError:
        raise HTTPException(404, "not_found") from None
    diagrams = [
        {"label": label_text(flow.get("label"), locale) or wid, "svg": workflow_svg(flow, locale)}
        for wid, flow in (contents.data.get("workflows") or {}).items()
        if isinstance(flow, dict)
    ]
    return render(
        request,
        "catalog_item.html",
        {
            "release": release,
            "versions": versions,
            "readme": to_html(contents.readme),
            "forms": _forms(contents.data, locale),
            "diagrams": diagrams,
            "page_title": release.get("title"),
        },
    )


async def catalog_file(request: Request) -> Response:
    site = await _site(request)
    name = request.url.path.removeprefix("/catalog/")
    name = "index.json" if name == "/catalog.json" else name
    path = site.file(name)
    if path is None:
        raise HTTPException(404, "not_found")
    media = MEDIA.get(name, "application/gzip")
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})
