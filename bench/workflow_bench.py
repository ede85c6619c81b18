"""Workflow benchmarks, SQLite and PostgreSQL side by side.

    python bench/workflow_bench.py [--moves 500] [--tasks 100000] [--records 20000] [--repeat 15]
                                   [--pg postgres://postgres@127.0.0.1:5432/test]

For each database it prints:
- transitions per second through the engine (``engine.take``: checks, form, guard, the
  optimistic-locked write with its audit row, hooks to timers and notifications), for a
  transition that opens no tasks (初审退回 reject) and one that opens two (交办 accept:
  a lead and a co-department task, their deadlines), against the baseline of plain record
  updates (``store.update`` of one field with its audit row) on as many records;
- the same over HTTP (POST of the transition form vs POST of the edit form);
- the to-do page (/todo) of a department user with ``--tasks`` open tasks in the table
  (a fifth of them for that department, the rest spread over other units and users), first
  page and a page deep in the queue (keyset cursor), against the baseline list page
  (/s/suggestions/v/all, the staff's list of ``--records`` suggestions, first page).
Times are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import fresh_database  # noqa: E402

from tests.webkit import Browser, make_client  # noqa: E402

UNITS = ["lc_jyj", "lc_jtj", "lc_wjj", "ra_jyj", "ra_jtj"]


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def tasks_sql(pg: bool, n: int, records: int, users: list[int]) -> str:
    """``n`` open tasks: every fifth for lc_jyj (the measured department), the rest elsewhere."""
    units = ["lc_jyj", *UNITS[1:]]
    if pg:
        arr = "ARRAY[" + ",".join(f"'{u}'" for u in units) + "]"
        who = "ARRAY[" + ",".join(str(u) for u in users) + "]"
        return f"""
        INSERT INTO "yidi_task" (scenario, entity, record_id, state, round, mode, assignee_user,
            assignee_org, department, is_lead, status, due_at, created_at)
        SELECT 'suggestions', 'suggestion', 1 + i % {records}, 'handling', 1, 'parallel',
               CASE WHEN i % 10 = 3 THEN ({who})[1 + i % {len(users)}] END,
               CASE WHEN i % 10 = 3 THEN NULL ELSE ({arr})[1 + i % {len(units)}] END,
               ({arr})[1 + i % {len(units)}], i % 2 = 0, 'open',
               now() + ((i % 30) - 5 || ' days')::interval, now() - (i || ' seconds')::interval
        FROM generate_series(1, {n}) AS i"""
    org = "CASE i % {k} {w} END".format(
        k=len(units), w=" ".join(f"WHEN {j} THEN '{u}'" for j, u in enumerate(units))
    )
    who = "CASE i % {k} {w} END".format(
        k=len(users), w=" ".join(f"WHEN {j} THEN {u}" for j, u in enumerate(users))
    )
    stamp = (
        "strftime('%Y-%m-%dT%H:%M:%S', 'now', '{sign}' || ({expr}) || ' {unit}') || '.000000+00:00'"
    )
    due = stamp.format(sign="+", expr="(i % 30) - 5", unit="days")
    created = stamp.format(sign="-", expr="i", unit="seconds")
    return f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})
    INSERT INTO "yidi_task" (scenario, entity, record_id, state, round, mode, assignee_user,
        assignee_org, department, is_lead, status, due_at, created_at)
    SELECT 'suggestions', 'suggestion', 1 + i % {records}, 'handling', 1, 'parallel',
           CASE WHEN i % 10 = 3 THEN {who} END,
           CASE WHEN i % 10 = 3 THEN NULL ELSE {org} END,
           {org}, i % 2, 'open', {due}, {created}
    FROM n"""


def run(label: str, url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    from runtime.engine import take
    from runtime.storage.platform import User
    from tests.workflowkit import in_days

    with tempfile.TemporaryDirectory() as tmp, make_client(Path(tmp), url) as client:
        app = client.app
        state = app.state  # type: ignore[attr-defined]
        store = state.store
        portal = client.portal  # type: ignore[attr-defined]
        entity = state.deployment.entity("suggestions.suggestion")
        from runtime.web.guard import load_viewer  # noqa: F401  (the viewer the pages build)

        async def viewer_of(login: str) -> Any:
            from runtime.access import Viewer
            from runtime.storage.platform import Grant

            user = await User.get(login=login)
            grants = await Grant.filter(user_id=user.id).values_list("org_unit_id", "role")
            return Viewer(
                int(user.id), login, user.name, tuple((str(o), str(r)) for o, r in grants)
            )

        staff = portal.call(viewer_of, "lc_staff")
        deputy = portal.call(viewer_of, "deputy_li")
        moves = args.moves

        def make(n: int, prefix: str) -> list[int]:
            async def go() -> list[int]:
                ids = []
                for i in range(n):
                    record = await store.create(
                        entity,
                        {
                            "title": f"{prefix}{i}",
                            "category": "教育",
                            "session": "闭会期间",
                            "body": "这是一条用于测量流转速度的建议内容，长度超过二十个字。",
                        },
                        actor=deputy.id,
                        org="lc_wuma_st",
                        state="review",
                    )
                    ids.append(record.id)
                return ids

            return portal.call(go)  # type: ignore[no-any-return]

        def timed(ids: list[int], act: Any) -> float:
            async def go() -> float:
                t0 = time.perf_counter()
                for rid in ids:
                    await act(rid)
                return len(ids) / (time.perf_counter() - t0)

            return portal.call(go)  # type: ignore[no-any-return]

        async def plain(rid: int) -> None:
            record = await store.get(entity, rid)
            await store.update(
                entity, rid, {"affected": 10}, actor=staff.id, expected_version=record.version
            )

        async def reject(rid: int) -> None:
            result = await take(
                state,
                entity,
                rid,
                "reject",
                viewer=staff,
                comment="请补充材料",
                expected_version=None,
            )
            assert result.ok, result.message

        due = in_days(30)

        async def accept(rid: int) -> None:
            result = await take(
                state,
                entity,
                rid,
                "accept",
                viewer=staff,
                values={"lead": "lc_jyj", "co": ["lc_jtj"], "due": due},
            )
            assert result.ok, (result.message, result.fields)

        base_rate = timed(make(moves, "基线"), plain)
        reject_rate = timed(make(moves, "退回"), reject)
        accept_rate = timed(make(moves, "交办"), accept)

        # over HTTP: the transition form against the edit form
        web = Browser(client, Path(tmp)).login("lc_staff")
        http_n = max(20, moves // 5)
        edit_ids, move_ids = make(http_n, "页编辑"), make(http_n, "页退回")

        def post_all(ids: list[int], path: str, data: dict[str, str]) -> float:
            t0 = time.perf_counter()
            for rid in ids:
                record = portal.call(store.get, entity, rid)
                response = web.post(path.format(rid=rid), {**data, "_version": str(record.version)})
                assert response.status_code == 303, response.text[:300]
            return len(ids) / (time.perf_counter() - t0)

        edit_fields = {
            "title": "页面编辑基线",
            "category": "教育",
            "session": "闭会期间",
            "body": "这是一条用于测量编辑表单速度的建议内容，长度超过二十个字。",
        }
        http_edit = post_all(edit_ids, "/s/suggestions/r/suggestion/{rid}/edit", edit_fields)
        http_move = post_all(
            move_ids, "/s/suggestions/r/suggestion/{rid}/t/reject", {"_comment": "请补充材料"}
        )

        # the to-do page with many open tasks
        extra = max(1, args.records - 3 * moves - 2 * http_n)
        from bench.list_bench import generate_sql

        table = store.table(entity).name
        units = [(u, state.deployment.org_path(u)) for u in ("lc_wuma_st", "lc_nanhui_st")]
        portal.call(
            store.db().execute_script, generate_sql(store.pg, table, extra, units, deputy.id)
        )
        records = 3 * moves + 2 * http_n + extra
        users = [int(u) for u in portal.call(_user_ids)]
        t0 = time.perf_counter()
        portal.call(store.db().execute_script, tasks_sql(store.pg, args.tasks, records, users))
        portal.call(store.db().execute_script, 'ANALYZE "yidi_task"' if store.pg else "ANALYZE")
        generated = time.perf_counter() - t0
        count = portal.call(
            store.db().execute_query_dict,
            "SELECT count(*) AS n FROM yidi_task WHERE status = 'open'",
        )[0]["n"]

        def page_ms(b: Browser, path: str) -> tuple[float, str]:
            b.get(path)
            samples = []
            body = ""
            for _ in range(args.repeat):
                t1 = time.perf_counter()
                response = b.get(path)
                samples.append(time.perf_counter() - t1)
                assert response.status_code == 200, response.status_code
                body = response.text
            return median_ms(samples), body

        edu = Browser(client, Path(tmp)).login("lc_edu")
        todo_ms, body = page_ms(edu, "/todo")
        rows = body.count("data-task=")
        cursor = None
        path = "/todo"
        for _ in range(50):  # walk 50 pages deep, then time that page
            found = re.search(r'href="(/todo\?after=\d+)" rel="next"', body)
            if not found:
                break
            path = found.group(1)
            body = edu.get(path).text
        deep_ms, _ = page_ms(edu, path)
        cursor = path
        web = Browser(client, Path(tmp)).login("lc_staff")  # one client: sign in again
        list_ms, _ = page_ms(web, "/s/suggestions/v/all")
        staff_todo_ms, _ = page_ms(web, "/todo")
        return {
            "db": label,
            "base": base_rate,
            "reject": reject_rate,
            "accept": accept_rate,
            "http_edit": http_edit,
            "http_move": http_move,
            "tasks": int(count),
            "records": records,
            "generate": generated,
            "todo": todo_ms,
            "rows": rows,
            "deep": deep_ms,
            "cursor": cursor,
            "list": list_ms,
            "staff_todo": staff_todo_ms,
        }


async def _user_ids() -> list[int]:
    from runtime.storage.platform import User

    return [int(i) for i in await User.all().values_list("id", flat=True)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--moves", type=int, default=500, help="records moved per measurement")
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--pg",
        default="postgres://postgres@127.0.0.1:5432/test",
        help="an admin DSN; a fresh database is made and dropped ('' to skip)",
    )
    args = parser.parse_args()
    results = [run("SQLite", None, args)]
    if args.pg:
        with fresh_database(args.pg) as url:
            results.append(run("PostgreSQL", url, args))
    print(f"transitions per second, {args.moves} records each (engine) / fewer over HTTP")
    print(
        f"{'database':<12}{'update/s':>10}{'reject/s':>10}{'ratio':>7}{'accept/s':>10}{'ratio':>7}"
        f"{'HTTP edit/s':>13}{'HTTP move/s':>13}{'ratio':>7}"
    )
    for r in results:
        print(
            f"{r['db']:<12}{r['base']:>10.1f}{r['reject']:>10.1f}{r['reject'] / r['base']:>6.2f}x"
            f"{r['accept']:>10.1f}{r['accept'] / r['base']:>6.2f}x"
            f"{r['http_edit']:>13.1f}{r['http_move']:>13.1f}{r['http_move'] / r['http_edit']:>6.2f}x"
        )
    print(
        f"to-do page (/todo, department user, first page of 30) with open tasks in the table, "
        f"vs the staff list page of the suggestions; medians of {args.repeat} runs"
    )
    print(
        f"{'database':<12}{'tasks':>9}{'records':>9}{'todo p1':>10}{'todo p50':>10}{'list p1':>10}"
        f"{'ratio':>7}{'staff todo':>12}"
    )
    for r in results:
        print(
            f"{r['db']:<12}{r['tasks']:>9,}{r['records']:>9,}{r['todo']:>8.1f}ms{r['deep']:>8.1f}ms"
            f"{r['list']:>8.1f}ms{r['todo'] / r['list']:>6.2f}x{r['staff_todo']:>10.1f}ms"
        )
    print("target: the to-do page within 1.5x of the list page, the same deep in the queue")


if __name__ == "__main__":
    main()
