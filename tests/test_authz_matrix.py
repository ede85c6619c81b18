"""The authorization matrix, generated from the YAML of every shipped scenario.

Every platform role (held at a county) × every page and API action × a record of
its own county and one of another county → allow or deny. The expectations are
worked out here from the raw scenario and manifest data (views' and forms'
roles, edit roles, each view's ``where``), not from the app's permission code,
and compared with what the real app answers over HTTP. Run on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from runtime.expr import Context
from tests.webkit import Browser, make_client

COUNTY, OTHER = "lc", "ra"  # Lucheng and Rui'an: sibling counties of the demo deployment


@pytest.fixture(params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    url = request.getfixturevalue("pg_dsn") if request.param == "postgres" else None
    with make_client(tmp_path, url) as client:
        yield client, tmp_path


def roles_list(value: Any, default: list[str]) -> list[str]:
    if value is None:
        return default
    return [value] if isinstance(value, str) else list(value)


def scenario_roles(
    manifest: dict[str, Any], sid: str, scenario: dict[str, Any], platform: str
) -> set[str]:
    mapping = manifest["scenarios"][sid].get("roles") or {}
    out = set()
    for role in scenario.get("roles") or {}:
        targets = mapping.get(role, role if role in manifest["roles"] else [])
        if platform in ([targets] if isinstance(targets, str) else targets):
            out.add(role)
    return out


def make_users(client: TestClient, roles: list[str]) -> dict[str, int]:
    from runtime.storage.platform import Grant, User
    from runtime.web.passwords import hash_password

    hashed = hash_password("Matrix-Password-2026")

    async def create() -> dict[str, int]:
        ids = {}
        for role in roles:
            user = await User.create(
                login=f"m_{role}", name=f"矩阵{role}", password_hash=hashed, active=True
            )
            await Grant.create(user_id=user.id, org_unit_id=COUNTY, role=role)
            ids[role] = int(user.id)
        return ids

    return client.portal.call(create)  # type: ignore[attr-defined,no-any-return]


def make_records(client: TestClient) -> dict[str, dict[str, Any]]:
    """One record of each entity in the county's subtree and one in the other county's."""
    app = client.app
    store = app.state.store  # type: ignore[attr-defined]
    deployment = app.state.deployment  # type: ignore[attr-defined]

    async def create() -> dict[str, dict[str, Any]]:
        out = {}
        for entity in deployment.entities():
            for where, org in (("own", "lc_wuma_st"), ("other", "ra_anyang_st")):
                values = {fid: None for fid in entity.fields}
                title = entity.title_field
                if title in entity.fields:
                    values[title] = f"矩阵{where}"
                record = await store.create(
                    entity,
                    {k: v for k, v in values.items() if v is not None},
                    actor=None,
                    org=org,
                    state=entity.workflow.initial if entity.workflow else None,
                )
                out[f"{entity.key}:{where}"] = dict(record)
        return out

    return client.portal.call(create)  # type: ignore[attr-defined,no-any-return]


def sign_in(client: TestClient, data_dir: Path, login: str) -> None:
    client.cookies.clear()
    browser = Browser(client, data_dir)
    browser.refresh_token("/login")
    response = client.post(
        "/login", data={"login": login, "password": "Matrix-Password-2026", "_csrf": browser.token}
    )
    assert response.status_code == 303


def test_every_role_against_every_page_and_api_action(site: tuple[TestClient, Path]) -> None:
    client, data_dir = site
    deployment = client.app.state.deployment  # type: ignore[attr-defined]
    manifest = deployment.data
    platform_roles = list(manifest["roles"])
    users = make_users(client, platform_roles)
    records = make_records(client)
    checked = 0
    wrong: list[str] = []
    for role in platform_roles:
        sign_in(client, data_dir, f"m_{role}")
        for sid, scenario_model in deployment.scenarios.items():
            raw = scenario_model.data
            held = scenario_roles(manifest, sid, raw, role)
            every = list(raw.get("roles") or {})
            views = raw.get("views") or {}
            ctx = Context(user_id=users[role], user_org=COUNTY)

            def expect(
                what: str,
                url: str,
                allowed: bool,
                method: str = "GET",
                denied: int = 403,
                ok: int = 200,
                who: str = role,
                **kw: Any,
            ) -> None:
                nonlocal checked
                checked += 1
                got = client.request(method, url, **kw).status_code
                want = ok if allowed else denied
                if got != want:
                    wrong.append(f"{who} {what} {method} {url}: got {got}, expected {want}")

            for vid, view in views.items():
                if view.get("type", "list") not in ("list", "board"):
                    continue
                admitted = bool(held & set(roles_list(view.get("roles"), every)))
                expect("view", f"/s/{sid}/v/{vid}", admitted)
                if view.get("export"):
                    expect("export", f"/s/{sid}/v/{vid}/export.csv", admitted)
                if view.get("import"):
                    expect("import", f"/s/{sid}/v/{vid}/import", admitted)
            for fid, form in (raw.get("forms") or {}).items():
                if form.get("public") or form.get("mode") == "edit":
                    continue
                admitted = bool(held & set(roles_list(form.get("roles"), every)))
                expect("form", f"/s/{sid}/f/{fid}", admitted)
            for eid, entity in (raw.get("entities") or {}).items():
                model = scenario_model.entities[eid]
                token = Browser(client, data_dir).refresh_token("/")
                creatable = any(
                    held & set(roles_list(f.get("roles"), every))
                    for f in (raw.get("forms") or {}).values()
                    if f.get("entity") == eid and not f.get("public") and f.get("mode") != "edit"
                )
                expect(
                    "api create",
                    f"/api/s/{sid}/{eid}",
                    creatable,
                    "POST",
                    ok=422,
                    json={},
                    headers={"X-CSRF-Token": token},
                )
                for where in ("own", "other"):
                    record = records[f"{sid}.{eid}:{where}"]
                    in_subtree = where == "own"
                    visible = in_subtree and any(
                        held & set(roles_list(v.get("roles"), every))
                        and (not v.get("where") or model.compile(v["where"]).evaluate(record, ctx))
                        for v in views.values()
                        if v.get("entity") == eid and v.get("type", "list") in ("list", "board")
                    )
                    url = f"/s/{sid}/r/{eid}/{record['id']}"
                    expect(f"record {where}", url, visible, denied=404)
                    expect(
                        f"api read {where}",
                        f"/api/s/{sid}/{eid}/{record['id']}",
                        visible,
                        denied=404,
                    )
                    editable = visible and bool(
                        held & set(roles_list(entity.get("edit_roles"), []))
                    )
                    expect(
                        f"edit {where}", url + "/edit", editable, denied=404 if not visible else 403
                    )
    assert wrong == []
    assert checked >= 100
