"""Every route of the app; each endpoint passes ``guard.gated`` (a test checks it)."""

from __future__ import annotations

from starlette.routing import Route

from runtime.web import (
    account,
    admin,
    api,
    api_workflow,
    dashboards,
    exports,
    files,
    forms,
    home,
    imports,
    inbox,
    lists,
    records,
    scores,
    similar,
    stranded,
    todo,
    transitions,
)
from runtime.web import catalog as catalog_pages
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
        Route("/s/{scenario}/f/{form}/similar", page(similar.similar), methods=["GET"]),
        Route("/s/{scenario}/r/{entity}/{id}", page(records.record_page), methods=["GET"]),
        Route("/s/{scenario}/r/{entity}/{id}/edit", page(records.edit_page), methods=["GET"]),
        Route("/s/{scenario}/r/{entity}/{id}/edit", page(records.edit_submit), methods=["POST"]),
        Route("/files/{id}", page(files.download), methods=["GET"]),
        Route("/inbox", page(inbox.inbox_page), methods=["GET"]),
        Route("/inbox/badge", page(inbox.badge), methods=["GET"]),
        Route("/inbox/read-all", page(inbox.mark_all), methods=["POST"]),
        Route("/inbox/{id}/read", page(inbox.mark_one), methods=["POST"]),
        Route(
            "/s/{scenario}/r/{entity}/{id}/t/{tid}",
            page(transitions.transition_page),
            methods=["GET"],
        ),
        Route(
            "/s/{scenario}/r/{entity}/{id}/t/{tid}",
            page(transitions.transition_submit),
            methods=["POST"],
        ),
        Route(
            "/s/{scenario}/r/{entity}/{id}/tasks/{task}",
            page(transitions.task_page),
            methods=["GET"],
        ),
        Route(
            "/s/{scenario}/r/{entity}/{id}/tasks/{task}/{act}",
            page(transitions.task_submit),
            methods=["POST"],
        ),
        Route("/todo", page(todo.todo_page), methods=["GET"]),
        Route("/api/todo", page(api_workflow.todo_json, api=True), methods=["GET"]),
        Route(
            "/api/s/{scenario}/{entity}/{id}/transitions",
            page(api_workflow.transitions_json, api=True),
            methods=["GET"],
        ),
        Route(
            "/api/s/{scenario}/{entity}/{id}/transitions/{tid}",
            page(api_workflow.take_transition, api=True),
            methods=["POST"],
        ),
        Route(
            "/api/s/{scenario}/{entity}/{id}/tasks/{task}/{act}",
            page(api_workflow.task_action, api=True),
            methods=["POST"],
        ),
        Route("/api/openapi.json", page(api.openapi, api=True), methods=["GET"]),
        Route("/api/s/{scenario}/{entity}", page(api.list_records, api=True), methods=["GET"]),
        Route("/api/s/{scenario}/{entity}", page(api.create_record, api=True), methods=["POST"]),
        Route("/api/s/{scenario}/{entity}/{id}", page(api.read_record, api=True), methods=["GET"]),
        Route(
            "/api/s/{scenario}/{entity}/{id}", page(api.update_record, api=True), methods=["PATCH"]
        ),
        Route("/catalog", page(catalog_pages.catalog_page), methods=["GET"]),
        Route("/catalog.json", page(catalog_pages.catalog_file), methods=["GET"]),
        Route("/catalog/index.json", page(catalog_pages.catalog_file), methods=["GET"]),
        Route("/catalog/index.json.sig", page(catalog_pages.catalog_file), methods=["GET"]),
        Route("/catalog/key.pub", page(catalog_pages.catalog_file), methods=["GET"]),
        Route("/catalog/packages/{rest:path}", page(catalog_pages.catalog_file), methods=["GET"]),
        Route("/catalog/{id}", page(catalog_pages.catalog_item), methods=["GET"]),
        Route("/admin", page(admin.index), methods=["GET"]),
        Route("/admin/orgs", page(admin.orgs_page), methods=["GET"]),
        Route("/admin/orgs/new", page(admin.org_new_page), methods=["GET"]),
        Route("/admin/orgs/new", page(admin.org_create), methods=["POST"]),
        Route("/admin/orgs/{id}", page(admin.org_page), methods=["GET"]),
        Route("/admin/orgs/{id}", page(admin.org_update), methods=["POST"]),
        Route("/admin/users", page(admin.users_page), methods=["GET"]),
        Route("/admin/users/new", page(admin.user_new_page), methods=["GET"]),
        Route("/admin/users/new", page(admin.user_create), methods=["POST"]),
        Route("/admin/users/import", page(admin.import_page), methods=["GET"]),
        Route("/admin/users/import", page(admin.import_upload), methods=["POST"]),
        Route("/admin/users/import/{token}", page(admin.import_confirm), methods=["POST"]),
        Route("/admin/users/import/{token}/progress", page(admin.import_progress), methods=["GET"]),
        Route("/admin/users/{id:int}", page(admin.user_page), methods=["GET"]),
        Route("/admin/users/{id:int}", page(admin.user_update), methods=["POST"]),
        Route("/admin/users/{id:int}/password", page(admin.user_reset), methods=["POST"]),
        Route("/admin/users/{id:int}/grants", page(admin.grant_add), methods=["POST"]),
        Route("/admin/users/{id:int}/grants/delete", page(admin.grant_remove), methods=["POST"]),
        Route("/admin/audit", page(admin.audit_page), methods=["GET"]),
        Route("/admin/audit/export.csv", page(admin.audit_export), methods=["GET"]),
        Route("/admin/stranded", page(stranded.stranded_page), methods=["GET"]),
        Route("/d/{scenario}/{dashboard}", page(dashboards.dashboard_page), methods=["GET"]),
        Route("/d/{scenario}/{dashboard}/{card}.csv", page(dashboards.card_csv), methods=["GET"]),
        Route("/scores/{scenario}/{rule}", page(scores.rule_page), methods=["GET"]),
        Route("/scores/{scenario}/{rule}/recompute", page(scores.recompute), methods=["POST"]),
        Route("/scores/{scenario}/{rule}/publish", page(scores.publish), methods=["POST"]),
        Route(
            "/scores/{scenario}/{rule}/corrections/{id}/{tid}",
            page(scores.correct),
            methods=["POST"],
        ),
        Route("/scores/{scenario}/{rule}/me", page(scores.my_archive), methods=["GET"]),
        Route(
            "/scores/{scenario}/{rule}/s/{subject}", page(scores.subject_archive), methods=["GET"]
        ),
        Route("/scores/{scenario}/{rule}/o/{unit}", page(scores.group_archive), methods=["GET"]),
    ]
