"""Every route of the app; each endpoint passes ``guard.gated`` (a test checks it)."""

from __future__ import annotations

from starlette.routing import Route

from runtime.web import account, api, exports, files, forms, home, imports, lists, records
from runtime.web.guard import gated


def routes() -> list[Route]:
    page = gated
    return [
        Route("/", page(home.home)),
        Route("/login", page(account.login_page), methods=["GET"]),
        Route("/login", page(account.login), methods=["POST"]),
        Route("/logout", page(account.logout), methods=["POST"]),
        Route("/s/{scenario}/v/{view}", page(lists.view_page)),
        Route("/s/{scenario}/v/{view}/export.{fmt:str}", page(exports.export)),
        Route("/s/{scenario}/v/{view}/import", page(imports.import_page), methods=["GET"]),
        Route("/s/{scenario}/v/{view}/import", page(imports.import_upload), methods=["POST"]),
        Route(
            "/s/{scenario}/v/{view}/import/{token}", page(imports.import_confirm), methods=["POST"]
        ),
        Route(
            "/s/{scenario}/v/{view}/import/{token}/progress",
            page(imports.import_progress),
            methods=["GET"],
        ),
        Route("/s/{scenario}/f/{form}", page(forms.form_page), methods=["GET"]),
        Route("/s/{scenario}/f/{form}", page(forms.form_submit), methods=["POST"]),
        Route("/s/{scenario}/f/{form}/check", page(forms.field_check), methods=["POST"]),
        Route("/s/{scenario}/r/{entity}/{id}", page(records.record_page), methods=["GET"]),
        Route("/s/{scenario}/r/{entity}/{id}/edit", page(records.edit_page), methods=["GET"]),
        Route("/s/{scenario}/r/{entity}/{id}/edit", page(records.edit_submit), methods=["POST"]),
        Route("/files/{id}", page(files.download), methods=["GET"]),
        Route("/api/openapi.json", page(api.openapi, api=True), methods=["GET"]),
        Route("/api/s/{scenario}/{entity}", page(api.list_records, api=True), methods=["GET"]),
        Route("/api/s/{scenario}/{entity}", page(api.create_record, api=True), methods=["POST"]),
        Route("/api/s/{scenario}/{entity}/{id}", page(api.read_record, api=True), methods=["GET"]),
        Route(
            "/api/s/{scenario}/{entity}/{id}", page(api.update_record, api=True), methods=["PATCH"]
        ),
    ]
