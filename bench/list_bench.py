"""List-page and form benchmarks on 1,000,000 suggestions, SQLite and PostgreSQL side by side.

    python bench/list_bench.py [--rows 1000000] [--repeat 15] [--pg postgres://postgres@127.0.0.1:5432/test]

For each database it generates the rows with one INSERT … SELECT, then prints:
- the list page (staff view: scope + filter + sort + page of 20, with its bounded count),
  requested through the real app (Starlette, in process), against the very SQL the page
  ran, replayed directly on the same connection: the ratio is the app's own cost;
- the second page (keyset cursor), the same way;
- the create-form submit rate (POST /s/suggestions/f/new, validated and saved).
Times are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import fresh_database  # noqa: E402

from tests.webkit import Browser, make_client  # noqa: E402

CATEGORIES = [
    "经济发展",
    "城乡建设",
    "交通出行",
    "教育",
    "医疗卫生",
    "生态环境",
    "社会保障",
    "农业农村",
    "政法",
    "其他",
]
STATES = ["review", "handling", "replied", "closed", "supervision"]
PAGE = "/s/suggestions/v/all?f.category=教育&sort=-created_at"


def generate_sql(pg: bool, table: str, rows: int, units: list[tuple[str, str]], owner: int) -> str:
    cats = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    states = "ARRAY[" + ",".join(f"'{s}'" for s in STATES) + "]"
    if pg:
        orgs = "ARRAY[" + ",".join(f"'{u}'" for u, _ in units) + "]"
        paths = "ARRAY[" + ",".join(f"'{p}'" for _, p in units) + "]"
        return f"""
        INSERT INTO "{table}" (org, org_path, owner, state, created_at, updated_at, created_by, updated_by,
                               row_version, scenario_version, title, category, session, body)
        SELECT ({orgs})[1 + i % {len(units)}], ({paths})[1 + i % {len(units)}], {owner},
               ({states})[1 + i % 5], now() - (i || ' seconds')::interval * 60, now(), {owner}, {owner}, 1, '1.0.0',
               '关于第' || i || '号问题的建议', ({cats})[1 + i % 10], '闭会期间',
               '这是第' || i || '条生成的建议内容，用于测量列表页面的速度和数据库查询的时间。'
        FROM generate_series(1, {rows}) AS i"""
    org_case = "CASE i % {n} {whens} END".format(
        n=len(units), whens=" ".join(f"WHEN {k} THEN '{u}'" for k, (u, _) in enumerate(units))
    )
    path_case = "CASE i % {n} {whens} END".format(
        n=len(units), whens=" ".join(f"WHEN {k} THEN '{p}'" for k, (_, p) in enumerate(units))
    )
    cat_case = (
        "CASE i % 10 " + " ".join(f"WHEN {k} THEN '{c}'" for k, c in enumerate(CATEGORIES)) + " END"
    )
    state_case = (
        "CASE i % 5 " + " ".join(f"WHEN {k} THEN '{s}'" for k, s in enumerate(STATES)) + " END"
    )
    stamp = "strftime('%Y-%m-%dT%H:%M:%S', 'now', '-' || (i * 60) || ' seconds') || '.000000+00:00'"
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows})
    INSERT INTO "{table}" (org, org_path, owner, state, created_at, updated_at, created_by, updated_by,
                           row_version, scenario_version, title, category, session, body)
    SELECT {org_case}, {path_case}, {owner}, {state_case}, {stamp}, {stamp}, {owner}, {owner}, 1, '1.0.0',
           '关于第' || i || '号问题的建议', {cat_case}, '闭会期间',
           '这是第' || i || '条生成的建议内容，用于测量列表页面的速度和数据库查询的时间。'
    FROM n"""


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def run(label: str, url: str | None, rows: int, repeat: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, make_client(Path(tmp), url) as client:
        app = client.app
        store = app.state.store  # type: ignore[attr-defined]
        entity = app.state.deployment.entity("suggestions.suggestion")  # type: ignore[attr-defined]
        table = store.table(entity).name
        units = [
            (u, app.state.deployment.org_path(u))
            for u in ("lc_wuma_st", "lc_nanhui_st", "ra_anyang_st", "ra_tangxia_st")  # type: ignore[attr-defined]
        ]
        portal = client.portal  # type: ignore[attr-defined]
        start = time.perf_counter()
        portal.call(store.db().execute_script, generate_sql(store.pg, table, rows, units, 6))
        if store.pg:
            portal.call(store.db().execute_script, f'ANALYZE "{table}"')
        else:
            portal.call(store.db().execute_script, "ANALYZE")
        generated = time.perf_counter() - start
        staff = Browser(client, Path(tmp)).login("lc_staff")

        recorded: list[tuple[str, list[Any]]] = []
        db = store.db()
        original = db.execute_query_dict

        async def recording(sql: str, values: list[Any] | None = None) -> Any:
            if table in sql:
                recorded.append((sql, list(values or [])))
            return await original(sql, values)

        def page_times(path: str) -> tuple[float, float, str]:
            staff.get(path)  # warm
            http = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                response = staff.get(path)
                http.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
            recorded.clear()
            db.execute_query_dict = recording
            body = staff.get(path).text
            db.execute_query_dict = original
            queries = list(recorded)

            async def replay() -> None:
                for sql, values in queries:
                    await original(sql, values)

            portal.call(replay)
            direct = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                portal.call(replay)
                direct.append(time.perf_counter() - t0)
            return median_ms(http), median_ms(direct), body

        first_http, first_db, body = page_times(PAGE)
        found = re.search(r'href="([^"]+)" rel="next"', body)
        assert found, "the first page has a next page"
        second_http, second_db, _ = page_times(found.group(1).replace("&amp;", "&"))

        deputy = Browser(client, Path(tmp)).login("deputy_li")
        deputy.get("/s/suggestions/f/new")
        submits = 200
        t0 = time.perf_counter()
        for i in range(submits):
            response = deputy.post(
                "/s/suggestions/f/new",
                {
                    "title": f"性能测试建议 {uuid.uuid4().hex[:6]}",
                    "category": "教育",
                    "session": "闭会期间",
                    "body": f"第{i}条：这是一条用来测量表单提交速度的建议内容，长度足够。",
                },
            )
            assert response.status_code == 303, response.status_code
        rate = submits / (time.perf_counter() - t0)
        return {
            "db": label,
            "rows": rows,
            "generate_s": generated,
            "first_http": first_http,
            "first_db": first_db,
            "second_http": second_http,
            "second_db": second_db,
            "submit_rate": rate,
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432/test",
        help="an admin DSN; a fresh database is made and dropped ('' to skip)",
    )
    args = parser.parse_args()
    results = [run("SQLite", None, args.rows, args.repeat)]
    if args.pg:
        with fresh_database(args.pg) as url:
            results.append(run("PostgreSQL", url, args.rows, args.repeat))
    print(
        f"{args.rows:,} suggestions; staff list view: scope + category filter + sort by date, page of 20 "
        f"with its bounded count; medians of {args.repeat} runs"
    )
    print(
        f"{'database':<12}{'generate':>10}{'page 1 app':>12}{'page 1 SQL':>12}{'ratio':>7}"
        f"{'page 2 app':>12}{'page 2 SQL':>12}{'ratio':>7}{'submits/s':>11}"
    )
    for r in results:
        print(
            f"{r['db']:<12}{r['generate_s']:>9.1f}s{r['first_http']:>10.1f}ms{r['first_db']:>10.1f}ms"
            f"{r['first_http'] / r['first_db']:>6.2f}x{r['second_http']:>10.1f}ms{r['second_db']:>10.1f}ms"
            f"{r['second_http'] / r['second_db']:>6.2f}x{r['submit_rate']:>11.1f}"
        )
    print("target: page within 1.5x of its SQL run directly")


if __name__ == "__main__":
    main()
