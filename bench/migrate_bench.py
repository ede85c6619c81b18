"""Data migrations: ``yidi migrate --apply`` moving records out of a removed state.

    python bench/migrate_bench.py [--records 20000] [--pg DSN]

A county runs suggestions 1.0.0 with ``--records`` records in ``withdrawn`` and as
many in ``draft``; 2.0.0 removes ``withdrawn`` and declares
``move_state: {from: withdrawn, to: closed}``. Prints, per database:

- the dry run (``yidi migrate``: the plan with the count of records to move);
- the apply (one transaction: batched updates, one audit row per record, the
  ``yidi_migration`` row);
- the baseline, side by side: the same records moved one by one through the
  records API (``store.update``, each its own transaction with its audit row),
  which is what a script would otherwise do; and the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runtime.deployment import load_deployment  # noqa: E402
from runtime.storage import open_store  # noqa: E402
from tests.catalogkit import COUNTY, SHIPPED, version_of  # noqa: E402

MIGRATION = """
migrations:
  - from: "^1"
    steps:
      - move_state: {entity: suggestion, from: withdrawn, to: closed}
"""
VALUES = {"title": "建议", "category": "教育", "body": "请改善学校周边的交通秩序和安全设施。"}


def county(base: Path, package: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    text = COUNTY.format(id="lc", title="鹿城区").replace(
        "    roles: {handler: department}",
        f"    path: {package}\n    roles: {{handler: department}}",
    )
    (base / "scenarios.yaml").write_text(text, "utf-8")
    return base / "scenarios.yaml"


async def seed(manifest: Path, url: str, data: Path, n: int) -> None:
    async with open_store(load_deployment(manifest), url, data) as store:
        for state in ("withdrawn", "draft"):
            await store.bulk_create(
                "suggestions.suggestion", [VALUES] * n, actor=None, org="lc", state=state
            )


async def migrate(manifest: Path, url: str, data: Path) -> tuple[float, float, str]:
    async with open_store(load_deployment(manifest), url, data, start=False) as store:
        started = time.perf_counter()
        await store.migrate(apply=False)
        planned = time.perf_counter() - started
        started = time.perf_counter()
        _, done = await store.migrate(apply=True)
        applied = time.perf_counter() - started
    return planned, applied, next(line for line in done if "migrate" in line)


async def one_by_one(manifest: Path, url: str, data: Path) -> tuple[float, int]:
    async with open_store(load_deployment(manifest), url, data) as store:
        entity = store.entity("suggestions.suggestion")
        rows = await store.db().execute_query_dict(
            'SELECT "id", "row_version" FROM "suggestions__suggestion" '
            'WHERE "state" = \'withdrawn\' ORDER BY "id"'
        )
        started = time.perf_counter()
        for row in rows:
            await store.update(
                entity,
                int(row["id"]),
                {"state": "closed"},
                actor=None,
                expected_version=int(row["row_version"]),
                action="migrate",
            )
        elapsed = time.perf_counter() - started
        left = await store.db().execute_query_dict(
            'SELECT COUNT(*) AS n FROM "suggestions__suggestion" WHERE "state" = \'withdrawn\''
        )
        assert left[0]["n"] == 0
    return elapsed, len(rows)


async def pg_database(dsn: str, create: bool, name: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        if create:
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        else:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()
    return dsn.rsplit("/", 1)[0] + "/" + name


def run(label: str, urls: tuple[str, str], n: int, work: Path) -> None:
    v1 = work / "v1" / "suggestions"
    shutil.copytree(SHIPPED, v1)
    v2 = version_of(work / "pkg", "2.0.0", "删除已撤回状态")
    (v2 / "scenario.yaml").write_text(
        (v2 / "scenario.yaml").read_text("utf-8") + MIGRATION, "utf-8"
    )
    old, new = county(work / "old", v1), county(work / "new", v2)
    asyncio.run(seed(old, urls[0], work / "data0", n))
    planned, applied, line = asyncio.run(migrate(new, urls[0], work / "data0"))
    asyncio.run(seed(old, urls[1], work / "data1", n))
    baseline, moved = asyncio.run(one_by_one(old, urls[1], work / "data1"))
    print(f"{label}: {line}")
    print(f"  dry run (yidi migrate)          {planned * 1000:9.1f} ms")
    print(
        f"  apply (yidi migrate --apply)    {applied * 1000:9.1f} ms  "
        f"{moved / applied:9.0f} records/s"
    )
    print(
        f"  baseline: store.update each    {baseline * 1000:9.1f} ms  "
        f"{moved / baseline:9.0f} records/s   apply is {baseline / applied:.1f}× faster"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20000, help="withdrawn records (and drafts)")
    parser.add_argument(
        "--pg", help="a PostgreSQL admin DSN, e.g. postgres://postgres@127.0.0.1/postgres"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="yidi-migrate-bench-"))
    try:
        sqlite = (f"sqlite://{work / 's0.sqlite3'}", f"sqlite://{work / 's1.sqlite3'}")
        run("SQLite", sqlite, args.records, work / "sqlite")
        if args.pg:
            names = [f"yidi_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
            urls = tuple(asyncio.run(pg_database(args.pg, True, n)) for n in names)
            try:
                run("PostgreSQL", (urls[0], urls[1]), args.records, work / "pg")
            finally:
                for n in names:
                    asyncio.run(pg_database(args.pg, False, n))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
