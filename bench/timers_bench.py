"""Deadlines and notifications at scale, on SQLite and (with --pg) PostgreSQL.

    python bench/timers_bench.py [--records 2000] [--idle 100000] [--messages 200000] [--pg DSN]

Prints
- scheduling: deadlines set per second (``on_enter`` of 办理中: two reminders and an
  overdue timer per record);
- firing: due timers fired per second by one ``tick`` (each reminder or overdue notice
  writes its inbox messages in the transaction that marks it fired; each overdue one
  also escalates the record to 督办 through the engine);
- an idle tick (nothing due) with ``--idle`` future timers in the table, against the
  same tick on an empty table: what the lease query costs the loop every 30 s;
- the header badge (unread count, capped at 99) for a user with ``--messages``
  messages in the table, against a user with none.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.demo import seed_users  # noqa: E402
from runtime.deployment import load_deployment  # noqa: E402
from runtime.notify.inbox import unread  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.storage import open_store  # noqa: E402
from runtime.storage.columns import encode  # noqa: E402
from runtime.storage.rowio import insert_rows  # noqa: E402
from runtime.timers import on_enter, tick  # noqa: E402
from runtime.timers.timers import COLUMNS  # noqa: E402

ENTITY = "suggestions.suggestion"
MODELS = [
    "runtime.web.sessions",
    "runtime.engine.tasks",
    "runtime.timers.timers",
    "runtime.notify.models",
]
START = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def timed(runs: int, fn: Any) -> Any:
    async def run() -> float:
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            await fn()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    return run()


async def bench(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    deployment = load_deployment(ROOT / "scenarios.yaml")
    out: dict[str, float] = {}
    async with open_store(deployment, url, data_dir, models=MODELS) as store:
        now = [START]
        state = SimpleNamespace(
            store=store,
            deployment=deployment,
            settings=Settings.from_env({}, data_dir=data_dir, database_url=url),
            clock=lambda: now[0],
            access=None,
        )
        from runtime.access import Access

        state.access = Access(deployment)
        await seed_users(deployment, data_dir)
        db, pg = store.db(), store.pg
        rows = await db.execute_query_dict(
            'SELECT "id", "login" FROM "yidi_user" WHERE "login" IN (\'deputy_li\', \'lc_staff\', \'lc_edu\')'
        )
        users = {r["login"]: int(r["id"]) for r in rows}

        # an empty timer table: the idle tick's baseline
        now[0] = START
        out["idle_empty_ms"] = 1000 * await timed(20, lambda: tick(state))

        records = []
        for i in range(args.records):
            records.append(
                await store.create(
                    ENTITY,
                    {
                        "title": f"定时器基准建议{i:05d}",
                        "category": "教育",
                        "body": "用于基准测试的建议内容，长度超过二十个字。",
                        "lead": "lc_jyj",
                        "due": dt.date(2026, 3, 20),
                    },
                    actor=users["deputy_li"],
                    org="lc_wuma_st",
                    state="handling",
                )
            )
        t0 = time.perf_counter()
        for record in records:
            await on_enter(state, ENTITY, record, "handling")
        out["schedule_per_s"] = len(records) / (time.perf_counter() - t0)

        now[0] = dt.datetime(2026, 3, 21, 0, 0, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        t0 = time.perf_counter()
        fired = 0
        while True:  # one tick handles a bounded batch; the loop runs the next at once
            done = await tick(state)
            if not done:
                break
            fired += done
        spent = time.perf_counter() - t0
        out["fired"] = fired
        out["fired_per_s"] = fired / spent
        written = await db.execute_query_dict('SELECT count(*) AS n FROM "yidi_message"')
        out["messages_written"] = int(written[0]["n"])

        # many future timers: the idle tick with a full table
        far = encode("datetime", dt.datetime(2027, 1, 1, tzinfo=dt.UTC), pg)
        created = encode("datetime", START, pg)
        bulk = [
            [
                "suggestions",
                "suggestion",
                10**9 + i,
                None,
                "handling",
                "remind",
                "pending",
                far,
                far,
                1,
                encode("bool", True, pg),
                None,
                0,
                created,
            ]
            for i in range(args.idle)
        ]
        await insert_rows(db, pg, "yidi_timer", COLUMNS, bulk)
        out["idle_full_ms"] = 1000 * await timed(20, lambda: tick(state))

        # the badge: one user with many messages, one with none
        names = ("user_id", "scenario", "entity", "record_id", "event", "title", "created_at")
        many = [
            [
                users["lc_staff"] if i % 2 else users["lc_edu"],
                "suggestions",
                "suggestion",
                i,
                "bench",
                "基准消息",
                created,
            ]
            for i in range(args.messages)
        ]
        await insert_rows(db, pg, "yidi_message", names, many)
        out["badge_full_ms"] = 1000 * await timed(50, lambda: unread(db, pg, users["lc_staff"]))
        out["badge_none_ms"] = 1000 * await timed(50, lambda: unread(db, pg, users["deputy_li"]))
    return out


async def fresh_pg(admin_dsn: str) -> tuple[str, str]:
    import asyncpg

    name = f"yidi_bench_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    await conn.close()
    return admin_dsn.rsplit("/", 1)[0] + "/" + name, name


async def drop_pg(admin_dsn: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn)
    await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await conn.close()


def report(label: str, r: dict[str, float], args: argparse.Namespace) -> None:
    print(f"\n{label}")
    print(
        f"  schedule deadlines   {r['schedule_per_s']:8.0f} records/s ({args.records} records, 3 timers each)"
    )
    print(
        f"  fire due timers      {r['fired_per_s']:8.0f} timers/s ({int(r['fired'])} fired, "
        f"{int(r['messages_written'])} inbox messages, {args.records} escalations)"
    )
    print(
        f"  idle tick            {r['idle_full_ms']:8.2f} ms with {args.idle} future timers "
        f"vs {r['idle_empty_ms']:.2f} ms empty (x{r['idle_full_ms'] / max(r['idle_empty_ms'], 1e-9):.2f})"
    )
    print(
        f"  unread badge         {r['badge_full_ms']:8.2f} ms with {args.messages // 2} messages "
        f"vs {r['badge_none_ms']:.2f} ms with none (x{r['badge_full_ms'] / max(r['badge_none_ms'], 1e-9):.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--pg", default=None, help="admin DSN, e.g. postgres://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="yidi-timers-bench-"))
    try:
        result = asyncio.run(bench(f"sqlite://{folder / 'bench.sqlite3'}", folder, args))
        report("SQLite", result, args)
        if args.pg:
            dsn, name = asyncio.run(fresh_pg(args.pg))
            try:
                result = asyncio.run(bench(dsn, folder / "pg", args))
                report("PostgreSQL", result, args)
            finally:
                asyncio.run(drop_pg(args.pg, name))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
