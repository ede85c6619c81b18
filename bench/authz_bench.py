"""Authorization at province scale: 10,000 users, 2,000 org units.

    python bench/authz_bench.py [--users 10000] [--units 2000] [--records 200000] [--pg DSN]

Prints
- Casbin decisions per second: warm (a repeated question, memoised), and cold
  (every user's first questions, which build that user's small enforcer);
- the cost of the checks of one page request (the home page asks ~10 questions);
- the list query (staff view, page of 20 with its bounded count) with row scoping
  against the same query without it, on the same data, for many county staff.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import fresh_database  # noqa: E402

from runtime.access import Access, Scope  # noqa: E402
from runtime.authz import entity_object, form_object, view_object  # noqa: E402
from runtime.deployment import load_deployment  # noqa: E402
from runtime.expr import Context  # noqa: E402
from runtime.storage import open_store  # noqa: E402
from runtime.storage.query import ListQuery  # noqa: E402
from runtime.viewer import Viewer  # noqa: E402


def org_tree(units: int) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A province with cities, counties, townships, stations and departments: ``units`` in all."""
    kinds: dict[str, list[str]] = {"county": [], "station": [], "department": []}
    count = 1
    cities: dict[str, Any] = {}
    for c in range(10):
        counties: dict[str, Any] = {}
        for k in range(10):
            cid = f"c{c}k{k}"
            kinds["county"].append(cid)
            towns: dict[str, Any] = {}
            count += 1
            for t in range(9):
                tid = f"{cid}t{t}"
                sid = f"{tid}s"
                kinds["station"].append(sid)
                towns[tid] = {
                    "label": f"乡镇{tid}",
                    "kind": "township",
                    "children": {sid: {"label": f"联络站{sid}", "kind": "station"}},
                }
                count += 2
            counties[cid] = {"label": f"县{cid}", "kind": "county", "children": towns}
        cities[f"c{c}"] = {"label": f"市{c}", "kind": "city", "children": counties}
        count += 1
    d = 0
    while count < units:
        county = kinds["county"][d % len(kinds["county"])]
        city = county.split("k")[0]
        dep = f"{county}d{d}"
        cities[city]["children"][county]["children"][dep] = {
            "label": f"部门{dep}",
            "kind": "department",
        }
        kinds["department"].append(dep)
        count += 1
        d += 1
    return {"zj": {"label": "省", "kind": "province", "children": cities}}, kinds


def write_deployment(tmp: Path, units: int) -> tuple[Path, dict[str, list[str]]]:
    shutil.copytree(ROOT / "scenarios", tmp / "scenarios")
    manifest = yaml.safe_load((ROOT / "scenarios.yaml").read_text("utf-8"))
    manifest["org"], kinds = org_tree(units)
    manifest.pop("demo", None)
    for unit in list(manifest.get("org", {})):
        manifest["org"][unit].pop("theme", None)
    (tmp / "scenarios.yaml").write_text(
        yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False), "utf-8"
    )
    return tmp / "scenarios.yaml", kinds


def viewers(kinds: dict[str, list[str]], users: int) -> list[Viewer]:
    rnd = random.Random(7)
    out = []
    for i in range(users):
        r = i % 10
        if r < 8:
            grants: tuple[tuple[str, str], ...] = ((rnd.choice(kinds["station"]), "deputy"),)
        elif r == 8:
            grants = ((rnd.choice(kinds["county"]), "staff"),)
        else:
            grants = ((rnd.choice(kinds["department"]), "department"),)
        out.append(Viewer(i + 1, f"u{i}", f"用户{i}", grants))
    return out


def questions(access: Access) -> list[tuple[str, str]]:
    s = access.deployment.scenarios["suggestions"]
    qs = [(view_object("suggestions", v), "open") for v in s.views]
    qs += [(form_object("suggestions", f), "use") for f in s.forms]
    qs += [(entity_object("suggestions", "suggestion"), a) for a in ("read", "export", "edit")]
    return qs


def decisions(access: Access, people: list[Viewer]) -> dict[str, float]:
    authz = access.authz
    qs = questions(access)
    authz.forget()
    start = time.perf_counter()
    asked = 0
    for viewer in people:
        for obj, act in qs:
            authz.allowed(viewer, obj, act)
            asked += 1
    cold = time.perf_counter() - start
    start = time.perf_counter()
    warm_asked = 0
    for _ in range(5):
        for viewer in people[:2000]:
            for obj, act in qs:
                authz.allowed(viewer, obj, act)
                warm_asked += 1
    warm = time.perf_counter() - start
    record_level = 0
    start = time.perf_counter()
    paths = [access.deployment.org_path(u) for u in list(access.deployment.org)[:500]]
    for viewer in people[:2000]:
        for path in paths[:10]:
            authz.allowed(viewer, entity_object("suggestions", "suggestion"), "read", path)
            record_level += 1
    record_time = time.perf_counter() - start
    return {
        "cold_per_s": asked / cold,
        "warm_per_s": warm_asked / warm,
        "per_page_ms": cold / len(people) * 1000,
        "warm_page_ms": warm / (5 * 2000) * 1000,
        "record_per_s": record_level / record_time,
        "questions": len(qs),
        "rules": authz.rule_count(),
    }


async def scoping(
    manifest: Path, data_dir: Path, url: str, records: int, people: list[Viewer]
) -> dict[str, float]:
    deployment = load_deployment(manifest)
    access = Access(deployment)
    entity = deployment.entity("suggestions.suggestion")
    view = deployment.scenarios["suggestions"].views["all"]
    stations = [u for u, unit in deployment.org.items() if unit.kind == "station"]
    async with open_store(deployment, url, data_dir, models=["runtime.web.sessions"]) as store:
        db = store.db()
        table = store.table(entity).name
        mark = "$" if store.pg else "?"
        await db.execute_script(
            "CREATE TABLE bench_units (k INTEGER PRIMARY KEY, org TEXT, path TEXT)"
        )
        values = [(k, s, deployment.org_path(s)) for k, s in enumerate(stations)]
        ph = "($1, $2, $3)" if store.pg else "(?, ?, ?)"
        await db.execute_many(f"INSERT INTO bench_units (k, org, path) VALUES {ph}", values)
        series = (
            f"generate_series(1, {records}) AS g(i)"
            if store.pg
            else f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {records}) SELECT i FROM n) AS g"
        )
        stamp = (
            "now() - (i * 60) * interval '1 second'"
            if store.pg
            else "strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || (i * 60) || ' seconds') || '.000000+00:00'"
        )
        await db.execute_script(f"""
            INSERT INTO "{table}" (org, org_path, owner, state, created_at, updated_at, created_by, updated_by,
                                   row_version, scenario_version, title, category, session, body)
            SELECT u.org, u.path, 1 + (i % 8000), 'review', {stamp}, {stamp}, 1, 1, 1, '1.0.0',
                   '建议' || i, CASE i % 3 WHEN 0 THEN '教育' WHEN 1 THEN '交通出行' ELSE '其他' END, '闭会期间', '内容'
            FROM {series} JOIN bench_units u ON u.k = i % {len(stations)}""")
        await db.execute_script(f'ANALYZE "{table}"' if store.pg else "ANALYZE")
        del mark
        staff = [v for v in people if v.grants[0][1] == "staff"][:30]
        scoped, plain = [], []
        for viewer in staff:
            ctx = Context(user_id=viewer.id, user_org=viewer.org)
            base = ListQuery(
                where=[], equals={"category": ["教育"]}, sort=[("created_at", True)], limit=20
            )
            with_scope = ListQuery(
                **{
                    **base.__dict__,
                    "scope": access.scope(
                        viewer, entity, view_object("suggestions", "all"), "open"
                    ),
                }
            )
            without = ListQuery(**{**base.__dict__, "scope": Scope(everything=True)})
            for query, bucket in (
                (with_scope, scoped),
                (without, plain),
                (with_scope, scoped),
                (without, plain),
            ):
                t0 = time.perf_counter()
                await store.list(entity, query, ctx)
                await store.count(entity, query, ctx, cap=10_000)
                bucket.append(time.perf_counter() - t0)
        del view
        return {
            "scoped_ms": statistics.median(scoped) * 1000,
            "plain_ms": statistics.median(plain) * 1000,
        }


def page_costs(manifest: Path, data_dir: Path, url: str, people: list[Viewer]) -> dict[str, float]:
    """The staff list page over HTTP (real app), with row scoping and with it switched off."""
    from starlette.testclient import TestClient

    from runtime.settings import Settings
    from runtime.storage.platform import Grant, User
    from runtime.web.app import create_app
    from runtime.web.passwords import hash_password

    app = create_app(Settings.from_env({}, manifest=manifest, data_dir=data_dir, database_url=url))
    staff = [v for v in people if v.grants[0][1] == "staff"][:20]
    hashed = hash_password("Bench-Password-2026")
    scoped, plain = [], []
    with TestClient(app, follow_redirects=False) as client:

        async def users() -> None:
            for v in staff:
                user = await User.create(
                    login=v.login, name=v.name, password_hash=hashed, active=True
                )
                for unit, role in v.grants:
                    await Grant.create(user_id=user.id, org_unit_id=unit, role=role)

        client.portal.call(users)  # type: ignore[attr-defined]
        real_scope = app.state.access.scope
        path = "/s/suggestions/v/all?f.category=教育"
        for v in staff:
            client.cookies.clear()
            token = client.get("/login").text.split('name="_csrf" value="')[1].split('"')[0]
            assert (
                client.post(
                    "/login",
                    data={"login": v.login, "password": "Bench-Password-2026", "_csrf": token},
                ).status_code
                == 303
            )
            for scoping_on in (True, False, True, False, True, False):
                app.state.access.scope = (
                    real_scope if scoping_on else (lambda *a, **k: Scope(everything=True))
                )
                t0 = time.perf_counter()
                assert client.get(path).status_code == 200
                (scoped if scoping_on else plain).append(time.perf_counter() - t0)
        app.state.access.scope = real_scope
    return {
        "scoped_ms": statistics.median(scoped) * 1000,
        "plain_ms": statistics.median(plain) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument(
        "--pg", default="postgres://postgres@127.0.0.1:5432/test", help="admin DSN ('' to skip)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        manifest, kinds = write_deployment(tmp, args.units)
        t0 = time.perf_counter()
        deployment = load_deployment(manifest)
        loaded = time.perf_counter() - t0
        access = Access(deployment)
        people = viewers(kinds, args.users)
        d = decisions(access, people)
        print(
            f"deployment: {len(deployment.org)} org units, {args.users:,} users, {d['rules']} policy rules "
            f"(loaded and checked in {loaded:.2f} s)"
        )
        print(
            f"decisions, cold (each user's first {d['questions']} questions, enforcer built): "
            f"{d['cold_per_s']:,.0f}/s → {d['per_page_ms']:.2f} ms for a page's questions"
        )
        print(
            f"decisions, warm (memoised): {d['warm_per_s']:,.0f}/s → {d['warm_page_ms']:.3f} ms for a page's questions"
        )
        print(
            f"record-level decisions (a record's org unit, subtree test): {d['record_per_s']:,.0f}/s"
        )
        sqlite_url = f"sqlite://{tmp / 'bench.sqlite3'}"
        results = [
            (
                "SQLite",
                asyncio.run(scoping(manifest, tmp / "sqlite", sqlite_url, args.records, people)),
            )
        ]
        pages = [("SQLite", page_costs(manifest, tmp / "sqlite", sqlite_url, people))]
        if args.pg:
            with fresh_database(args.pg) as url:
                results.append(
                    (
                        "PostgreSQL",
                        asyncio.run(scoping(manifest, tmp / "pg", url, args.records, people)),
                    )
                )
                pages.append(("PostgreSQL", page_costs(manifest, tmp / "pg", url, people)))
        print(
            f"list query (staff view, category filter, page of 20 + bounded count), {args.records:,} records, "
            "median over 30 county staff:"
        )
        for label, r in results:
            print(
                f"  {label:<11} scoped {r['scoped_ms']:7.2f} ms   unscoped {r['plain_ms']:7.2f} ms   "
                f"ratio {r['scoped_ms'] / r['plain_ms']:.2f}x"
            )
        print(
            "list page over HTTP (the same view as a signed-in county staff member), median over 20 staff:"
        )
        for label, r in pages:
            print(
                f"  {label:<11} scoped {r['scoped_ms']:7.2f} ms   unscoped {r['plain_ms']:7.2f} ms   "
                f"ratio {r['scoped_ms'] / r['plain_ms']:.2f}x (target ≤ 1.2x)"
            )


if __name__ == "__main__":
    main()
