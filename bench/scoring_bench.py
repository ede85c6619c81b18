"""Scoring and dashboard benchmark: 150,000 deputies, 2,000,000 activity and suggestion events.

    python bench/scoring_bench.py [--scale 1.0] [--db sqlite|postgres|both]
                                  [--pg postgres://postgres@127.0.0.1:5432/test] [--repeat 3]

For each database it builds an org tree of counties → townships → stations
(3,000 stations at scale 1), the deputies (users holding the deputy role at a
station), 1,400,000 duty records (履职活动) and 600,000 suggestions spread over
2025-07 … 2026-12, all generated inside the database (INSERT … SELECT over a
generated series: no row goes through Python), then prints:

- the full recompute of the yearly score (``performance.points`` for 2026: one
  aggregate statement writing every deputy's items, total, band and rank into
  ``yidi_score``) next to a hand-written statement doing the same work for
  this dataset (same rows written, checked equal), and their ratio (target ≤ 1.2×);
- new records written one at a time: the write alone, the write kept current by
  the scoring hook (the deputy's rows from their own records, the county
  re-ranked from the stored rows), and the deputy's county recomputed from the
  events (the previous incremental update), next to the full recompute;
- the dashboard page (``/d/performance/cockpit``) for the province and for one
  county, through the real app (Starlette, in process), including its ranking card.

Times are medians of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgdb import fresh_database  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from runtime.deployment import load_deployment  # noqa: E402
from runtime.orgs import load_org  # noqa: E402
from runtime.scoring.engine import Restrict, Scorer, attach  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from runtime.storage.db import open_store  # noqa: E402
from runtime.web.app import create_app  # noqa: E402
from tests.webkit import TOKEN  # noqa: E402

MANIFEST = ROOT / "scenarios.yaml"
PASSWORD = "Bench-Password-2026"
KINDS = ["会议", "视察调研", "接待选民", "培训", "其他"]
STATES = ["review", "handling", "closed", "draft", "replied", "withdrawn"]
USER0 = 1_000_000


def stations(counties: int) -> list[tuple[str, str, str, str]]:
    """(id, parent, kind, path) of every added unit: county cNNN, township cNNN_tN, station cNNN_tN_sNN."""
    out = []
    for c in range(1, counties + 1):
        county = f"c{c:03d}"
        out.append((county, "wz", "county", f"/zj/wz/{county}/"))
        for t in range(1, 4):
            town = f"{county}_t{t}"
            out.append((town, county, "township", f"/zj/wz/{county}/{town}/"))
            for s in range(1, 11):
                st = f"{town}_s{s:02d}"
                out.append((st, town, "station", f"/zj/wz/{county}/{town}/{st}/"))
    return out


def series(pg: bool, n: int) -> tuple[str, str]:
    """A CTE head giving i = 0 … n-1, and the FROM clause that reads it."""
    if pg:
        return "", f"generate_series(0, {n - 1}) AS g(i)"
    return (
        f"WITH RECURSIVE g(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM g WHERE i < {n - 1}) ",
        "g",
    )


def day_sql(pg: bool, expr: str) -> str:
    if pg:
        return f"(DATE '2025-07-01' + ({expr}))"
    return f"date('2025-07-01', '+' || ({expr}) || ' days')"


def moment_sql(pg: bool, days: str, seconds: str) -> str:
    if pg:
        return f"(TIMESTAMPTZ '2025-07-01 00:00:00+00' + make_interval(days => {days}, secs => {seconds}))"
    return (
        f"(strftime('%Y-%m-%dT%H:%M:%S', '2025-07-01', '+' || ({days}) || ' days', "
        f"'+' || ({seconds}) || ' seconds') || '.000000+00:00')"
    )


async def generate(store: Any, deputies: int, duties: int, suggestions: int, counties: int) -> None:
    pg = store.pg
    db = store.db()
    units = stations(counties)
    mark = ", ".join(f"${i}" for i in range(1, 6)) if pg else "?, ?, ?, ?, ?"
    await db.execute_many(
        f'INSERT INTO "yidi_org_unit" ("id", "parent_id", "kind", "label", "path") VALUES ({mark})',
        [[u, p, k, f'{{"zh": "{u}"}}', path] for u, p, k, path in units],
    )
    await db.execute_script(
        'CREATE TABLE "bench_station" ("k" INTEGER PRIMARY KEY, "id" TEXT, "path" TEXT)'
    )
    st = [(u, path) for u, _, k, path in units if k == "station"]
    two = "$1, $2, $3" if pg else "?, ?, ?"
    await db.execute_many(
        f'INSERT INTO "bench_station" ("k", "id", "path") VALUES ({two})',
        [[i, u, path] for i, (u, path) in enumerate(st)],
    )
    n_st = len(st)
    now = "now()" if pg else "'2026-01-01T00:00:00.000000+00:00'"
    true = "TRUE" if pg else "1"
    head, src = series(pg, deputies)
    await db.execute_script(
        f'{head}INSERT INTO "yidi_user" ("id", "login", "name", "active", "failed_logins", "created_at") '
        f"SELECT {USER0} + i, 'bench' || i, '代表' || i, {true}, 0, {now} FROM {src}"
    )
    await db.execute_script(
        f'{head}INSERT INTO "yidi_grant" ("user_id", "org_unit_id", "role") '
        f"SELECT {USER0} + i, s.\"id\", 'deputy' FROM {src} "
        f'JOIN "bench_station" s ON s."k" = i % {n_st}'
    )
    # duties: skewed owners (a few very active deputies reach the caps), kinds and days spread
    kinds = "ARRAY[" + ",".join(f"'{k}'" for k in KINDS) + "]"
    kind = f"({kinds})[1 + (i * 7) % 5]" if pg else _pick(KINDS, "(i * 7) % 5")
    owner = f"((CAST(i AS BIGINT) * 7919) % {deputies}) / (1 + (i % 3))"
    head, src = series(pg, duties)
    await db.execute_script(
        f'{head}INSERT INTO "performance__duty" ("org", "org_path", "owner", "created_at", "updated_at", '
        '"created_by", "updated_by", "row_version", "scenario_version", "title", "kind", "held_on") '
        f'SELECT s."id", s."path", {USER0} + o, {now}, {now}, {USER0} + o, {USER0} + o, 1, \'1.0.0\', '
        f"'活动' || i, {kind}, {day_sql(pg, 'i % 540')} "
        f"FROM (SELECT i, {owner} AS o FROM {src}) AS x "
        f'JOIN "bench_station" s ON s."k" = x.o % {n_st}'
    )
    states = "ARRAY[" + ",".join(f"'{k}'" for k in STATES) + "]"
    state = f"({states})[1 + i % 6]" if pg else _pick(STATES, "i % 6")
    head, src = series(pg, suggestions)
    created = moment_sql(pg, "i % 540", "(i * 37) % 86400")
    await db.execute_script(
        f'{head}INSERT INTO "suggestions__suggestion" ("org", "org_path", "owner", "state", "created_at", '
        '"updated_at", "created_by", "updated_by", "row_version", "scenario_version", "title", '
        '"category", "session", "body") '
        f'SELECT s."id", s."path", {USER0} + o, {state}, {created}, {created}, {USER0} + o, {USER0} + o, 1, '
        f"'1.0.0', '建议' || i, '教育', '闭会期间', '内容' "
        f"FROM (SELECT i, ((CAST(i AS BIGINT) * 104729) % {deputies}) AS o FROM {src}) AS x "
        f'JOIN "bench_station" s ON s."k" = x.o % {n_st}'
    )
    await db.execute_script("ANALYZE")


def _pick(values: list[str], index: str) -> str:
    whens = " ".join(f"WHEN {n} THEN '{v}'" for n, v in enumerate(values))
    return f"CASE {index} {whens} END"


def hand_written(pg: bool) -> str:
    """The yearly score of this dataset, written by hand (every deputy holds one grant, the
    county is the third segment of a station's fixed-width path)."""
    least = "LEAST" if pg else "MIN"
    text = "text" if pg else "TEXT"
    y0, y1 = ("DATE '2026-01-01'", "DATE '2027-01-01'") if pg else ("'2026-01-01'", "'2027-01-01'")
    t0, t1 = (
        ("TIMESTAMPTZ '2025-12-31 16:00:00+00'", "TIMESTAMPTZ '2026-12-31 16:00:00+00'")
        if pg
        else ("'2025-12-31T16:00:00.000000+00:00'", "'2026-12-31T16:00:00.000000+00:00'")
    )
    items = [
        "meetings",
        "inspections",
        "voters",
        "trainings",
        "suggestions",
        "opinions",
        "adjustments",
    ]
    value = " ".join(f"WHEN '{i}' THEN r.r_{i}" for i in items)
    points = " ".join(f"WHEN '{i}' THEN r.p_{i}" for i in items)
    names = " UNION ALL ".join(f"SELECT '{i}' AS item" for i in [*items, "_total"])
    kept = " OR ".join(f"(k.item = '{i}' AND r.r_{i} <> 0)" for i in items)
    return f"""
    WITH dep AS (
      SELECT g.user_id AS subject, g.org_unit_id AS org, o.path AS org_path, substr(o.path, 8, 4) AS grp
      FROM yidi_grant g JOIN yidi_org_unit o ON o.id = g.org_unit_id
      JOIN yidi_user u ON u.id = g.user_id WHERE u.active AND g.role = 'deputy'),
    d AS (
      SELECT owner AS subject,
        SUM(CASE WHEN kind = '会议' THEN 1 ELSE 0 END) AS meetings,
        SUM(CASE WHEN kind = '视察调研' THEN 1 ELSE 0 END) AS inspections,
        SUM(CASE WHEN kind = '接待选民' THEN 1 ELSE 0 END) AS voters,
        SUM(CASE WHEN kind = '培训' THEN 1 ELSE 0 END) AS trainings
      FROM performance__duty WHERE held_on >= {y0} AND held_on < {y1} AND owner IS NOT NULL GROUP BY owner),
    s AS (
      SELECT owner AS subject, COUNT(*) AS n FROM suggestions__suggestion
      WHERE created_at >= {t0} AND created_at < {t1} AND state NOT IN ('draft', 'withdrawn')
      GROUP BY owner),
    o AS (
      SELECT owner AS subject, COUNT(*) AS n FROM performance__opinion
      WHERE received_on >= {y0} AND received_on < {y1} GROUP BY owner),
    c AS (
      SELECT owner AS subject, SUM(COALESCE(granted, 0)) AS n FROM performance__correction
      WHERE happened_on >= {y0} AND happened_on < {y1} AND state = 'accepted' GROUP BY owner),
    p AS (
      SELECT dep.*,
        COALESCE(d.meetings, 0) AS r_meetings, {least}(COALESCE(d.meetings, 0) * 2.0, 20.0) AS p_meetings,
        COALESCE(d.inspections, 0) AS r_inspections, {least}(COALESCE(d.inspections, 0) * 3.0, 30.0) AS p_inspections,
        COALESCE(d.voters, 0) AS r_voters, {least}(COALESCE(d.voters, 0) * 2.0, 20.0) AS p_voters,
        COALESCE(d.trainings, 0) AS r_trainings, {least}(COALESCE(d.trainings, 0) * 1.0, 5.0) * 0.5 AS p_trainings,
        COALESCE(s.n, 0) AS r_suggestions, {least}(COALESCE(s.n, 0) * 5.0, 20.0) AS p_suggestions,
        COALESCE(o.n, 0) AS r_opinions, {least}(COALESCE(o.n, 0) * 1.0, 10.0) AS p_opinions,
        COALESCE(c.n, 0) AS r_adjustments, COALESCE(c.n, 0) * 1.0 AS p_adjustments
      FROM dep LEFT JOIN d ON d.subject = dep.subject LEFT JOIN s ON s.subject = dep.subject
      LEFT JOIN o ON o.subject = dep.subject LEFT JOIN c ON c.subject = dep.subject),
    t AS (
      SELECT p.*, {least}(p_meetings + p_inspections + p_voters + p_trainings + p_suggestions
                          + p_opinions + p_adjustments, 100.0) AS total FROM p),
    r AS (SELECT t.*, RANK() OVER (PARTITION BY grp ORDER BY total DESC) AS rnk FROM t)
    INSERT INTO yidi_score (rule, period, subject, org, org_path, grp, item, value, points, rank, band)
    SELECT 'bench.hand', '2026', CAST(r.subject AS {text}), r.org, r.org_path, r.grp, k.item,
      CASE k.item {value} WHEN '_total' THEN r.total END,
      CASE k.item {points} WHEN '_total' THEN r.total END,
      CASE WHEN k.item = '_total' THEN r.rnk END,
      CASE WHEN k.item = '_total' THEN
        CASE WHEN r.total >= 80 THEN 'good' WHEN r.total >= 60 THEN 'fair' WHEN r.total >= 0 THEN 'poor' END END
    FROM r CROSS JOIN ({names}) k WHERE k.item = '_total' OR {kept}
    """


async def timed(fn: Any, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - started)
    return out


async def scores_part(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    deployment = load_deployment(MANIFEST)
    deputies = int(150_000 * args.scale)
    duties, suggestions = int(1_400_000 * args.scale), int(600_000 * args.scale)
    counties = max(2, round(100 * args.scale))
    out: dict[str, Any] = {"deputies": deputies, "events": duties + suggestions}
    async with open_store(deployment, url, data_dir) as store:
        started = time.perf_counter()
        await generate(store, deputies, duties, suggestions, counties)
        out["generate"] = time.perf_counter() - started
        await load_org(deployment)
        scorer = Scorer(store)
        db = store.db()
        pg = store.pg

        async def engine() -> None:
            await scorer.recompute("performance.points", "2026")

        async def hand() -> None:
            await db.execute_script("DELETE FROM yidi_score WHERE rule = 'bench.hand'")
            await db.execute_script(hand_written(pg))

        # alternate the two so neither profits from a warmer cache
        eng: list[float] = []
        man: list[float] = []
        for _ in range(args.repeat):
            eng += await timed(engine, 1)
            man += await timed(hand, 1)
        out["engine"], out["hand"] = statistics.median(eng), statistics.median(man)
        check = (
            "SELECT item, count(*) AS n, sum(points) AS p, sum(COALESCE(rank, 0)) AS r FROM yidi_score "
            "WHERE rule = {} AND period = '2026' GROUP BY item ORDER BY item"
        )
        a = await db.execute_query_dict(check.format("'performance.points'"))
        b = await db.execute_query_dict(check.format("'bench.hand'"))
        same = [(r["item"], r["n"], round(float(r["p"]), 3), r["r"]) for r in a] == [
            (r["item"], r["n"], round(float(r["p"]), 3), r["r"]) for r in b
        ]
        out["same"] = same
        out["rows"] = sum(int(r["n"]) for r in a)
        await db.execute_script("DELETE FROM yidi_score WHERE rule = 'bench.hand'")
        out.update(await writes_part(store, deputies, args.writes))
        from runtime.storage.platform import Grant, User
        from runtime.web.passwords import hash_password

        admin = await User.create(
            login="bench_staff", name="省人大", password_hash=hash_password(PASSWORD)
        )
        await Grant.create(user_id=admin.id, org_unit_id="zj", role="staff")
    return out


async def writes_part(store: Any, deputies: int, count: int) -> dict[str, Any]:
    """New records written one at a time: the bare write (no scorer), the write kept current
    by the hook (the deputy's rows from their own records, then the county re-ranked from
    the stored rows), and the old way of keeping it current (the deputy's whole county
    recomputed from the events). Deputies are spread over the counties."""
    rule_key = "performance.points"
    step = max(1, deputies // count)
    users = [USER0 + 17 + n * step for n in range(count)]
    probe = Scorer(store)
    rule = probe.rule(rule_key)
    homes = {u: await probe._home_unit(rule, u) or "wz" for u in users}

    async def write(user: int, n: int) -> float:
        started = time.perf_counter()
        await store.create(
            "performance.duty",
            {"title": f"新活动{n}", "kind": KINDS[n % 4], "held_on": dt.date(2026, 6, 1)},
            actor=user,
            org=homes[user],
        )
        return time.perf_counter() - started

    bare = [await write(u, n) for n, u in enumerate(users)]
    live = attach(store)
    kept = [await write(u, n) for n, u in enumerate(users)]
    store.write_hooks.remove(live.on_write)
    groups = []
    for u in users:
        grp = probe.ancestor(homes[u], rule.within)
        restrict = Restrict(grp=grp, path=store.deployment.org_path(grp) if grp else None)
        started = time.perf_counter()
        await probe.recompute(rule_key, "2026", restrict)
        groups.append(time.perf_counter() - started)
    return {
        "writes": count,
        "bare": statistics.median(bare),
        "kept": statistics.median(kept),
        "kept_max": max(kept),
        "group": statistics.median(groups),
        "group_size": await probe_group_size(store, probe.ancestor(homes[users[0]], rule.within)),
    }


async def probe_group_size(store: Any, grp: str) -> int:
    mark = "$1" if store.pg else "?"
    rows = await store.db().execute_query_dict(
        "SELECT count(*) AS n FROM yidi_score WHERE rule = 'performance.points' "
        f"AND period = '2026' AND item = '_total' AND grp = {mark}",
        [grp],
    )
    return int(rows[0]["n"])


def dashboard_part(url: str, data_dir: Path, repeat: int) -> dict[str, float]:
    settings = Settings.from_env(
        {}, data_dir=data_dir, manifest=MANIFEST, database_url=url, demo=False
    )
    app = create_app(settings)
    out: dict[str, float] = {}
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        page = client.get("/login")
        token = TOKEN.search(page.text)
        assert token
        done = client.post(
            "/login", data={"login": "bench_staff", "password": PASSWORD, "_csrf": token.group(1)}
        )
        assert done.status_code == 303, done.text[:300]
        for name, path in (
            ("province", "/d/performance/cockpit"),
            ("county", "/d/performance/cockpit?org=c001"),
            ("ranking page", "/scores/performance/points?period=2026&org=c001"),
        ):
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
            out[name] = statistics.median(times)
    return out


def run(kind: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        data_dir = Path(tmp)
        if kind == "postgres":
            url = stack.enter_context(fresh_database(args.pg))
        else:
            url = f"sqlite://{data_dir / 'bench.sqlite3'}"
        got = asyncio.run(scores_part(url, data_dir, args))
        pages = dashboard_part(url, data_dir, args.repeat)
    ratio = got["engine"] / got["hand"] if got["hand"] else float("nan")
    print(
        f"\n{kind}: {got['deputies']:,} deputies, {got['events']:,} events (generated in {got['generate']:.1f} s)"
    )
    print(f"  yearly score, full recompute ({got['rows']:,} score rows)")
    print(f"    engine (compiled from the YAML)   {got['engine'] * 1000:10.0f} ms")
    print(f"    hand-written SQL, same work       {got['hand'] * 1000:10.0f} ms")
    print(
        f"    ratio                             {ratio:10.2f}x   (target <= 1.2x)  same rows: {got['same']}"
    )
    print(
        f"  one new record (median of {got['writes']} writes, deputies in {got['group_size']:,}-deputy counties)"
    )
    print(f"    the write alone, no scoring       {got['bare'] * 1000:10.1f} ms")
    print(
        f"    the write kept current (hook)     {got['kept'] * 1000:10.1f} ms   "
        f"(scoring adds {(got['kept'] - got['bare']) * 1000:.1f} ms; slowest write {got['kept_max'] * 1000:.1f} ms)"
    )
    print(
        f"    its county recomputed from events {got['group'] * 1000:10.1f} ms   (the previous incremental update)"
    )
    print(
        f"    the full recompute                {got['engine'] * 1000:10.1f} ms   "
        f"({got['engine'] / max(got['kept'] - got['bare'], 1e-9):.0f}x the scoring part of a write)"
    )
    for name, seconds in pages.items():
        print(f"  dashboard {name:<25} {seconds * 1000:10.0f} ms")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--scale", type=float, default=1.0, help="1.0 = 150,000 deputies, 2,000,000 events"
    )
    p.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    p.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/test")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--writes", type=int, default=20, help="records written one at a time")
    args = p.parse_args()
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        run(kind, args)


if __name__ == "__main__":
    main()
