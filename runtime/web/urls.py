"""The app's URLs, in one place."""

from __future__ import annotations

from runtime.model import Entity, Form, View


def view_url(view: View) -> str:
    return f"/s/{view.scenario}/v/{view.id}"


def form_url(form: Form) -> str:
    return f"/s/{form.scenario}/f/{form.id}"


def record_url(entity: Entity, record_id: object) -> str:
    return f"/s/{entity.scenario}/r/{entity.id}/{record_id}"


def edit_url(entity: Entity, record_id: object) -> str:
    return f"{record_url(entity, record_id)}/edit"


def file_url(attachment_id: object) -> str:
    return f"/files/{attachment_id}"
