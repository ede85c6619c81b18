"""The scoring engine against a plain-Python computation over the same generated rows.

A random dataset of deputies, duty records, opinions, suggestions (with
created_at on both sides of local midnights), station activities and
corrections goes into a real database (SQLite file and PostgreSQL). The
engine's scores — caps, weights, the rule's cap, bands, shared and dense
ranks with ties, normalised indices, period boundaries in Asia/Shanghai,
year-to-date snapshots, an accepted correction, incremental updates on
writes — must equal what this file computes on its own from the rows it
generated (never from the engine's SQL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runtime.deployment import load_deployment
from runtime.scoring.engine import Restrict, Scorer, ScoringError, attach
from runtime.storage.columns import encode
from runtime.storage.db import open_store

ROOT = Path(__file__).resolve().parent.parent
SH = dt.timezone(dt.timedelta(hours=8))
DEPUTY_UNITS = ["lc_wuma_st", "lc_nanhui_st", "lc_nanhui_pt1", "ra_anyang_st", "ra_tangxia_st"]
COUNTY = {
    "lc_wuma_st": "lc",
    "lc_nanhui_st": "lc",
    "lc_nanhui_pt1": "lc",
    "ra_anyang_st": "ra",
    "ra_tangxia_st": "ra",
}
STATION = {u: u for u in DEPUTY_UNITS} | {"lc_nanhui_pt1": "lc_nanhui_st"}
KINDS = ["会议", "视察调研", "接待选民", "培训", "其他"]
# the performance rule as its README states it (points, cap, weight per kind)
DUTY_ITEMS = {
    "meetings": ("会议", 2, 20, 1.0),
    "inspections": ("视察调研", 3, 30, 1.0),
    "voters": ("接待选民", 2, 20, 1.0),
    "trainings": ("培训", 1, 5, 0.5),
}
DAYS = [
    dt.date(2025, 12, 31),
    dt.date(2026, 1, 1),
    dt.date(2026, 3, 31),
    dt.date(2026, 4, 1),
    dt.date(2026, 6, 15),
    dt.date(2026, 12, 31),
    dt.date(2027, 1, 1),
]
INSTANTS = [  # suggestions' created_at (UTC): local 2025-12-31 23:59:59 and 2026-01-01 00:00
    dt.datetime(2025, 12, 31, 15, 59, 59, tzinfo=dt.UTC),
    dt.datetime(2025, 12, 31, 16, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 31, 15, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 31, 16, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 1, 2, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 31, 16, 0, 0, tzinfo=dt.UTC),
]


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("pg_dsn"))
    return f"sqlite://{tmp_path / 'scores.sqlite3'}"


# ---------------------------------------------------------------- the reference


def local_day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(SH).date()
    return value


def shared_ranks(scores: dict[Any, float], groups: dict[Any, str], dense: bool) -> dict[Any, int]:
    out = {}
    for s, score in scores.items():
        mates = [scores[o] for o in scores if groups[o] == groups[s]]
        if dense:
            out[s] = 1 + len({m for m in mates if m > score})
        else:
            out[s] = 1 + sum(1 for m in mates if m > score)
    return out


def band(score: float) -> str:
    return "good" if score >= 80 else "fair" if score >= 60 else "poor"


def expected_points(
    data: dict[str, Any], start: dt.date, end: dt.date
) -> dict[int, dict[str, Any]]:
    """Each deputy's items, total, band and rank: the rule computed by hand."""
    out: dict[int, dict[str, Any]] = {}
    for user in data["deputies"]:
        raw: dict[str, float] = {}
        mine = [d for d in data["duties"] if d["owner"] == user and start <= d["held_on"] < end]
        for item, (kind, _points, _cap, _weight) in DUTY_ITEMS.items():
            raw[item] = sum(1 for d in mine if d["kind"] == kind)
        raw["suggestions"] = sum(
            1
            for s in data["suggestions"]
            if s["owner"] == user
            and s["state"] not in ("draft", "withdrawn")
            and start <= local_day(s["created_at"]) < end
        )
        raw["opinions"] = sum(
            1 for o in data["opinions"] if o["owner"] == user and start <= o["received_on"] < end
        )
        raw["adjustments"] = sum(
            c["granted"] or 0
            for c in data["corrections"]
            if c["owner"] == user and c["state"] == "accepted" and start <= c["happened_on"] < end
        )
        points = {}
        for item, (_kind, pts, cap, weight) in DUTY_ITEMS.items():
            points[item] = min(raw[item] * pts, cap) * weight
        points["suggestions"] = min(raw["suggestions"] * 5, 20)
        points["opinions"] = min(raw["opinions"] * 1, 10)
        points["adjustments"] = raw["adjustments"] * 1
        total = min(sum(points.values()), 100)
        out[user] = {"raw": raw, "points": points, "total": total, "band": band(total)}
    groups = {u: COUNTY[home] for u, home in data["deputies"].items()}
    ranks = shared_ranks({u: v["total"] for u, v in out.items()}, groups, dense=False)
    for u in out:
        out[u]["rank"] = ranks[u]
    return out


def expected_vitality(data: dict[str, Any], start: dt.date, end: dt.date) -> dict[str, Any]:
    stations = ["lc_wuma_st", "lc_nanhui_st", "ra_anyang_st", "ra_tangxia_st"]
    raw = {s: {"events": 0, "visitors": 0, "duties": 0, "opinions": 0} for s in stations}
    for e in data["events"]:
        if start <= e["held_on"] < end:
            raw[STATION[e["org"]]]["events"] += 1
    for v in data["visits"]:
        if start <= v["visited_on"] < end:
            raw[STATION[v["org"]]]["visitors"] += v["people"]
    for d in data["duties"]:
        if start <= d["held_on"] < end:
            raw[STATION[d["org"]]]["duties"] += 1
    for o in data["opinions"]:
        if start <= o["received_on"] < end:
            raw[STATION[o["org"]]]["opinions"] += 1
    points = {s: dict(r, events=min(r["events"], 30)) for s, r in raw.items()}
    groups = {s: COUNTY[s] for s in stations}
    index = {}
    for s in stations:
        mates = [o for o in stations if groups[o] == groups[s]]
        norm = {}
        for item in ("events", "visitors", "duties", "opinions"):
            top = max(points[o][item] for o in mates)
            norm[item] = points[s][item] * 100.0 / top if top > 0 else 0.0
        index[s] = (
            0.3 * norm["events"]
            + 0.3 * norm["visitors"]
            + 0.2 * norm["duties"]
            + 0.2 * norm["opinions"]
        )
    ranks = shared_ranks(index, groups, dense=False)
    return {
        s: {"raw": raw[s], "index": index[s], "rank": ranks[s], "band": band(index[s])}
        for s in stations
    }


# ---------------------------------------------------------------- the dataset


async def generate(store: Any, seed: int = 7) -> dict[str, Any]:
    from runtime.storage.platform import Grant, User

    rnd = random.Random(seed)
    data: dict[str, Any] = {
        "deputies": {},
        "duties": [],
        "opinions": [],
        "suggestions": [],
        "events": [],
        "visits": [],
        "corrections": [],
    }
    for n in range(24):
        user = await User.create(login=f"dep{n}", name=f"代表{n}", active=True)
        home = DEPUTY_UNITS[n % len(DEPUTY_UNITS)]
        await Grant.create(user_id=user.id, org_unit_id=home, role="deputy")
        if n % 6 == 0:  # also a deputy of the city: scored at the deepest unit
            await Grant.create(user_id=user.id, org_unit_id="wz", role="deputy")
        data["deputies"][int(user.id)] = home
    staff = await User.create(login="st", name="工作人员", active=True)
    await Grant.create(user_id=staff.id, org_unit_id="lc", role="staff")
    users = list(data["deputies"])
    # two deputies with exactly the same records: a tie in every period
    twins = users[1], users[11]  # both at lc_nanhui_st / lc_wuma_st (both in lc)
    busy, fair = users[2], users[3]  # above the rule's cap of 100, and in the 60–79 band
    others = [u for u in users if u not in (*twins, busy, fair)]
    plan = {busy: {k: 12 for k in KINDS}, fair: {"会议": 10, "视察调研": 10, "接待选民": 6}}
    for who, kinds in plan.items():
        for kind, times in kinds.items():
            for _ in range(times):
                values = {"title": "固定", "kind": kind, "held_on": dt.date(2026, 5, 5)}
                rec = await store.create(
                    "performance.duty", values, actor=who, org=data["deputies"][who]
                )
                data["duties"].append(dict(values, owner=who, org=rec["org"]))
    for n in range(11):
        values = {"title": f"固定民意{n}", "received_on": dt.date(2026, 8, 8), "people": 2}
        rec = await store.create(
            "performance.opinion", values, actor=busy, org=data["deputies"][busy]
        )
        data["opinions"].append(dict(values, owner=busy, org=rec["org"]))
    suggesters = [(busy, "review")] * 5 + [(fair, "draft")] * 2
    for n in range(260):
        owner = rnd.choice(others)
        values = {"title": f"活动{n}", "kind": rnd.choice(KINDS), "held_on": rnd.choice(DAYS)}
        rec = await store.create(
            "performance.duty", values, actor=owner, org=data["deputies"][owner]
        )
        data["duties"].append(dict(values, owner=owner, org=rec["org"]))
    for twin in twins:
        for kind in ("会议", "视察调研"):
            values = {"title": "同样", "kind": kind, "held_on": dt.date(2026, 2, 2)}
            rec = await store.create(
                "performance.duty", values, actor=twin, org=data["deputies"][twin]
            )
            data["duties"].append(dict(values, owner=twin, org=rec["org"]))
    for n in range(60):
        owner = rnd.choice(others)
        values = {"title": f"民意{n}", "received_on": rnd.choice(DAYS), "people": rnd.randint(1, 5)}
        rec = await store.create(
            "performance.opinion", values, actor=owner, org=data["deputies"][owner]
        )
        data["opinions"].append(dict(values, owner=owner, org=rec["org"]))
    table = store.table("suggestions.suggestion").name
    mark = "$1" if store.pg else "?"
    mark2 = "$2" if store.pg else "?"
    suggesters += [
        (rnd.choice(others), rnd.choice(["draft", "review", "handling", "closed", "withdrawn"]))
        for _ in range(50)
    ]
    for n, (owner, state) in enumerate(suggesters):
        values = {"title": f"建议{n}", "category": "教育", "body": "内容" * 10}
        rec = await store.create(
            "suggestions.suggestion", values, actor=owner, org=data["deputies"][owner], state=state
        )
        created = rnd.choice(INSTANTS) if n >= 7 else INSTANTS[4]
        await store.db().execute_query(
            f'UPDATE "{table}" SET "created_at" = {mark} WHERE "id" = {mark2}',
            [encode("datetime", created, store.pg), rec["id"]],
        )
        data["suggestions"].append({"owner": owner, "state": state, "created_at": created})
    for n in range(40):
        org = rnd.choice([*DEPUTY_UNITS, "lc_nanhui_pt1"])
        values = {"title": f"站点活动{n}", "kind": "其他", "held_on": rnd.choice(DAYS)}
        await store.create("vitality.event", values, actor=int(staff.id), org=org)
        data["events"].append(dict(values, org=org))
    for n in range(40):
        org = rnd.choice(DEPUTY_UNITS)
        values = {"topic": f"接待{n}", "visited_on": rnd.choice(DAYS), "people": rnd.randint(1, 9)}
        await store.create("vitality.visit", values, actor=int(staff.id), org=org)
        data["visits"].append(dict(values, org=org))
    data["staff"] = int(staff.id)
    data["twins"] = twins
    return data


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def deployment() -> Iterator[Any]:
    yield load_deployment(ROOT / "scenarios.yaml")


# ---------------------------------------------------------------- the tests


def check_points(
    rows: list[dict[str, Any]],
    items: dict[str, dict[str, dict[str, Any]]],
    want: dict[int, dict[str, Any]],
) -> None:
    got = {int(r["subject"]): r for r in rows}
    assert set(got) == set(want), "every deputy gets a score, none else"
    for user, w in want.items():
        row = got[user]
        assert row["points"] == pytest.approx(w["total"]), user
        assert row["band"] == w["band"], user
        assert row["rank"] == w["rank"], user
        mine = items.get(str(user), {})
        for item, raw in w["raw"].items():
            stored = mine.get(item)
            if raw == 0:
                assert stored is None, (user, item)
            else:
                assert stored is not None and stored["value"] == pytest.approx(raw), (user, item)
                assert stored["points"] == pytest.approx(w["points"][item]), (user, item)


def test_scores_equal_a_plain_python_computation(
    db_url: str, deployment: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_store(deployment, db_url, tmp_path) as store:
            scorer = attach(store)
            data = await generate(store)
            # the whole year, and the first quarter of it (the 亮分 snapshot of Q1)
            for key, start, end in (
                ("2026", dt.date(2026, 1, 1), dt.date(2027, 1, 1)),
                ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
                ("2025", dt.date(2025, 1, 1), dt.date(2026, 1, 1)),
            ):
                assert await scorer.recompute("performance.points", key) == len(data["deputies"])
                rows = await scorer.totals("performance.points", key)
                items = await scorer.items_of(
                    "performance.points", key, [r["subject"] for r in rows]
                )
                want = expected_points(data, start, end)
                check_points(rows, items, want)
            # the twins tie: the same score, the same (shared) rank, and the next rank skips
            rows = {int(r["subject"]): r for r in await scorer.totals("performance.points", "2026")}
            a, b = data["twins"]
            assert rows[a]["points"] == rows[b]["points"] == 5.0
            assert rows[a]["rank"] == rows[b]["rank"]
            # someone is capped: a deputy with many meetings gets exactly the cap
            want = expected_points(data, dt.date(2026, 1, 1), dt.date(2027, 1, 1))
            assert any(w["raw"]["meetings"] * 2 > 20 for w in want.values()), "the data reach a cap"
            assert {w["band"] for w in want.values()} == {"good", "fair", "poor"}
            assert max(w["total"] for w in want.values()) == 100, "the rule's cap holds"
            # the vitality index per quarter, normalised within each county
            for key, start, end in (
                ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 4, 1)),
                ("2026-Q2", dt.date(2026, 4, 1), dt.date(2026, 7, 1)),
            ):
                await scorer.recompute("vitality.index", key)
                rows = await scorer.totals("vitality.index", key)
                want_v = expected_vitality(data, start, end)
                got = {r["subject"]: r for r in rows}
                assert set(got) == set(want_v)
                items = await scorer.items_of("vitality.index", key, list(got))
                for station, w in want_v.items():
                    assert got[station]["points"] == pytest.approx(w["index"]), station
                    assert got[station]["rank"] == w["rank"], station
                    assert got[station]["band"] == w["band"], station
                    assert items[station]["_i_vitality"]["points"] == pytest.approx(w["index"])
                    for item, raw in w["raw"].items():
                        stored = items[station].get(item)
                        assert (stored["value"] if stored else 0) == pytest.approx(raw)

    run(scenario())


def test_ties_share_a_rank_and_the_next_rank_skips(
    db_url: str, deployment: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_store(deployment, db_url, tmp_path) as store:
            from runtime.storage.platform import Grant, User

            scorer = Scorer(store)
            ids = []
            for n, meetings in enumerate([3, 5, 5, 2, 5, 0]):
                user = await User.create(login=f"t{n}", name=f"t{n}", active=True)
                await Grant.create(user_id=user.id, org_unit_id="lc_wuma_st", role="deputy")
                ids.append(int(user.id))
                for _ in range(meetings):
                    await store.create(
                        "performance.duty",
                        {"title": "会", "kind": "会议", "held_on": dt.date(2026, 5, 1)},
                        actor=int(user.id),
                        org="lc_wuma_st",
                    )
            await scorer.recompute("performance.points", "2026")
            rows = {int(r["subject"]): r for r in await scorer.totals("performance.points", "2026")}
            assert [rows[i]["rank"] for i in ids] == [4, 1, 1, 5, 1, 6]
            # dense ties when the rule says so (an overlay would set ranking.ties)
            scorer.rule("performance.points").spec["ranking"] = {
                "within": "county",
                "ties": "dense",
            }
            await scorer.recompute("performance.points", "2026")
            rows = {int(r["subject"]): r for r in await scorer.totals("performance.points", "2026")}
            assert [rows[i]["rank"] for i in ids] == [2, 1, 1, 3, 1, 4]

    run(scenario())


def test_writes_update_computed_periods_and_a_correction_counts(
    db_url: str, deployment: Any, tmp_path: Path
) -> None:
    async def scenario() -> None:
        async with open_store(deployment, db_url, tmp_path) as store:
            scorer = attach(store)
            data = await generate(store, seed=11)
            await scorer.recompute("performance.points", "2026")
            await scorer.recompute("vitality.index", "2026-Q2")
            user = next(u for u, home in data["deputies"].items() if home == "lc_wuma_st")
            # a new duty record: its deputy's group is recomputed at once
            values = {"title": "新", "kind": "视察调研", "held_on": dt.date(2026, 4, 2)}
            await store.create("performance.duty", values, actor=user, org="lc_wuma_st")
            data["duties"].append(dict(values, owner=user, org="lc_wuma_st"))
            # a correction, filed and accepted: the adjustment lands in the score
            entity = "performance.correction"
            filed = await store.create(
                entity,
                {
                    "item": "meetings",
                    "happened_on": dt.date(2026, 6, 1),
                    "requested": 4,
                    "reason": "漏记一次会议",
                },
                actor=user,
                org="lc_wuma_st",
            )
            accepted = await store.update(
                entity,
                filed["id"],
                {"state": "accepted", "granted": 4},
                actor=data["staff"],
                expected_version=filed["row_version"],
                action="transition",
                note="accept",
            )
            assert accepted["state"] == "accepted"
            data["corrections"].append(
                {
                    "owner": user,
                    "state": "accepted",
                    "granted": 4,
                    "happened_on": dt.date(2026, 6, 1),
                }
            )
            # moving a record to another year takes it out of 2026
            moved = next(
                d for d in data["duties"] if d["owner"] == user and d["held_on"].year == 2026
            )
            table = store.table("performance.duty").name
            rows = await store.db().execute_query_dict(
                f'SELECT "id", "row_version" FROM "{table}" WHERE "owner" = {"$1" if store.pg else "?"} '
                f'AND "title" = {"$2" if store.pg else "?"}',
                [user, moved["title"]],
            )
            await store.update(
                "performance.duty",
                rows[0]["id"],
                {"held_on": dt.date(2025, 6, 1)},
                actor=user,
                expected_version=rows[0]["row_version"],
            )
            moved["held_on"] = dt.date(2025, 6, 1)
            totals = await scorer.totals("performance.points", "2026")
            items = await scorer.items_of(
                "performance.points", "2026", [r["subject"] for r in totals]
            )
            check_points(
                totals, items, expected_points(data, dt.date(2026, 1, 1), dt.date(2027, 1, 1))
            )
            assert items[str(user)]["adjustments"]["points"] == pytest.approx(4)
            got = {r["subject"]: r for r in await scorer.totals("vitality.index", "2026-Q2")}
            want = expected_vitality(data, dt.date(2026, 4, 1), dt.date(2026, 7, 1))
            for station, w in want.items():
                assert got[station]["points"] == pytest.approx(w["index"]), station
            # a period nobody computed is not created behind anyone's back
            assert await scorer.count("performance.points", "2027") == 0

    run(scenario())


def test_publishing_freezes_a_snapshot(db_url: str, deployment: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_store(deployment, db_url, tmp_path) as store:
            scorer = attach(store)
            data = await generate(store, seed=3)
            await scorer.publish("performance.points", "2026-Q1", actor=data["staff"])
            frozen = {
                r["subject"]: r["points"]
                for r in await scorer.totals("performance.points", "2026-Q1", published=True)
            }
            user = data["twins"][0]  # 2 meetings so far: 3 more stay under the cap
            for _ in range(3):
                await store.create(
                    "performance.duty",
                    {"title": "后补", "kind": "会议", "held_on": dt.date(2026, 2, 1)},
                    actor=user,
                    org=data["deputies"][user],
                )
            live = {
                r["subject"]: r["points"]
                for r in await scorer.totals("performance.points", "2026-Q1")
            }
            again = {
                r["subject"]: r["points"]
                for r in await scorer.totals("performance.points", "2026-Q1", published=True)
            }
            assert again == frozen, "the published snapshot does not move"
            assert live[str(user)] == pytest.approx(frozen[str(user)] + 6), "the live score does"
            assert "2026-Q1" in await scorer.published_periods("performance.points")

    run(scenario())


def test_bad_periods_are_refused(deployment: Any, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with open_store(deployment, f"sqlite://{tmp_path / 'p.sqlite3'}", tmp_path) as store:
            scorer = Scorer(store)
            for bad in ("2026-Q5", "26", "2026-13", "T20x", "2026/1"):
                with pytest.raises(ScoringError, match="bad"):
                    await scorer.recompute("performance.points", bad)
            with pytest.raises(ScoringError, match="quarter"):
                await scorer.recompute("vitality.index", "2026")  # a year of a quarterly rule
            with pytest.raises(ScoringError, match="unknown scoring rule"):
                await scorer.recompute("performance.nope", "2026")
            assert Restrict(grp="lc").grp == "lc"

    run(scenario())


def test_periods_and_their_local_boundaries() -> None:
    from runtime.scoring import periods

    year = periods.parse("2026")
    assert (year.start, year.end) == (dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    assert periods.parse("2026-Q4").end == dt.date(2027, 1, 1)
    assert periods.parse("2026-02").end == dt.date(2026, 3, 1)
    term = periods.parse("T2021")
    assert (term.start, term.end) == (dt.date(2021, 1, 1), dt.date(2026, 1, 1))
    assert periods.containing("term", dt.date(2027, 5, 1)).key == "T2026"
    assert periods.containing("quarter", dt.date(2026, 3, 31)).key == "2026-Q1"
    # local midnight in Shanghai is 16:00 UTC the day before
    start, end = year.utc("Asia/Shanghai")
    assert start == dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC)
    assert end == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)
    assert periods.local_day(
        dt.datetime(2025, 12, 31, 16, tzinfo=dt.UTC), "Asia/Shanghai"
    ) == dt.date(2026, 1, 1)
    # a quarter of a yearly rule is the year to date; a year of a quarterly rule is refused
    ytd = periods.window("year", "2026-Q2")
    assert (ytd.start, ytd.end) == (dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    with pytest.raises(periods.PeriodError, match="per quarter"):
        periods.window("quarter", "2026")
    assert [p.key for p in periods.recent("quarter", dt.date(2026, 2, 1), 3)] == [
        "2026-Q1",
        "2025-Q4",
        "2025-Q3",
    ]


# ---------------------------------------------------------------- incremental = full


async def score_table(store: Any) -> list[tuple[Any, ...]]:
    """Every live score row, floats rounded (the incremental and full paths sum in the
    same order, so they agree far below this)."""
    rows = await store.db().execute_query_dict(
        'SELECT "rule", "period", "subject", "org", "org_path", "grp", "item", "value", '
        '"points", "rank", "band" FROM "yidi_score"'
    )
    out = []
    for r in rows:
        value = None if r["value"] is None else round(float(r["value"]), 9)
        points = None if r["points"] is None else round(float(r["points"]), 9)
        place = (r["rule"], r["period"], str(r["subject"]), r["org"], r["org_path"], r["grp"])
        out.append((*place, r["item"], value, points, r["rank"], r["band"]))
    return sorted(out, key=repr)


COMPUTED = [
    ("performance.points", "2026"),
    ("performance.points", "2026-Q2"),
    ("performance.points", "2025"),
    ("vitality.index", "2026-Q1"),
    ("vitality.index", "2026-Q2"),
]


def test_incremental_writes_equal_a_full_recompute(
    db_url: str, deployment: Any, tmp_path: Path
) -> None:
    """Writes update one subject from its own records and re-rank its group from the stored
    rows; after each write of a sequence the whole table equals a full recompute."""

    async def scenario() -> None:
        async with open_store(deployment, db_url, tmp_path) as store:
            scorer = attach(store)
            data = await generate(store, seed=5)
            for key, period in COMPUTED:
                await scorer.recompute(key, period)
            steps: list[str] = []

            async def same_as_full(step: str) -> list[tuple[Any, ...]]:
                steps.append(step)
                incremental = await score_table(store)
                for key, period in COMPUTED:
                    await scorer.recompute(key, period)
                full = await score_table(store)
                missing = sorted(set(full) - set(incremental), key=repr)[:5]
                extra = sorted(set(incremental) - set(full), key=repr)[:5]
                assert incremental == full, (step, "want", missing, "got", extra)
                return full

            def total(table: list[tuple[Any, ...]], key: str, period: str, subject: Any) -> Any:
                return next(
                    r for r in table if r[:3] == (key, period, str(subject)) and r[6] == "_total"
                )

            duty = "performance.duty"
            a, b = data["twins"]
            # a tie broken, then made again: shared ranks move for the group
            await store.create(
                duty,
                {"title": "会议", "kind": "会议", "held_on": dt.date(2026, 5, 6)},
                actor=a,
                org=data["deputies"][a],
            )
            table = await same_as_full("tie broken")
            assert (
                total(table, "performance.points", "2026", a)[9]
                < total(table, "performance.points", "2026", b)[9]
            )
            rec_b = await store.create(
                duty,
                {"title": "会议", "kind": "会议", "held_on": dt.date(2026, 5, 7)},
                actor=b,
                org=data["deputies"][b],
            )
            table = await same_as_full("tie again")
            ta, tb = (total(table, "performance.points", "2026", u) for u in (a, b))
            assert ta[8] == tb[8] == 7.0 and ta[9] == tb[9], "tied again, one shared rank"
            # a kind changed (one item down, another up), then the record moved to 2025
            rec_b = await store.update(
                duty,
                rec_b["id"],
                {"kind": "视察调研"},
                actor=b,
                expected_version=rec_b["row_version"],
            )
            await same_as_full("kind changed")
            rec_b = await store.update(
                duty,
                rec_b["id"],
                {"held_on": dt.date(2025, 11, 30)},
                actor=b,
                expected_version=rec_b["row_version"],
            )
            await same_as_full("moved to another year")
            # a deputy's only record of 2025 deleted: their item row goes, the total stays
            await store.delete(duty, rec_b["id"], actor=b, expected_version=rec_b["row_version"])
            await same_as_full("deleted")
            # the capped deputy gains nothing; a suggestion leaves draft and counts
            busy = next(u for u in data["deputies"] if u not in (a, b))
            await store.create(
                duty,
                {"title": "会", "kind": "会议", "held_on": dt.date(2026, 4, 9)},
                actor=busy,
                org=data["deputies"][busy],
            )
            await same_as_full("capped")
            owner = next(iter(data["deputies"]))
            draft = await store.create(
                "suggestions.suggestion",
                {"title": "新建议", "category": "教育", "body": "内容" * 10},
                actor=owner,
                org=data["deputies"][owner],
                state="draft",
            )
            await store.update(
                "suggestions.suggestion",
                draft["id"],
                {"state": "review"},
                actor=owner,
                expected_version=draft["row_version"],
            )
            await same_as_full("suggestion submitted")
            # vitality: a station becomes the county's busiest (every lc station's normalised
            # items move), then the visit goes again
            before = await score_table(store)
            visit = await store.create(
                "vitality.visit",
                {"topic": "大批来访", "visited_on": dt.date(2026, 5, 20), "people": 500},
                actor=data["staff"],
                org="lc_wuma_st",
            )
            after = await same_as_full("a new maximum in the county")
            other = total(after, "vitality.index", "2026-Q2", "lc_nanhui_st")
            assert other[8] != total(before, "vitality.index", "2026-Q2", "lc_nanhui_st")[8], (
                "the other station's index was re-normalised"
            )
            assert total(after, "vitality.index", "2026-Q2", "lc_wuma_st")[9] == 1
            unchanged = total(after, "vitality.index", "2026-Q2", "ra_anyang_st")
            assert unchanged == total(before, "vitality.index", "2026-Q2", "ra_anyang_st")
            await store.delete(
                "vitality.visit", visit["id"], actor=data["staff"], expected_version=1
            )
            assert await same_as_full("the maximum gone") == before
            # a duty record moved from one station to another (both stations change)
            moved = await store.create(
                duty,
                {"title": "调研", "kind": "视察调研", "held_on": dt.date(2026, 2, 3)},
                actor=a,
                org="lc_wuma_st",
            )
            await same_as_full("a duty at a station")
            await store.update(
                duty, moved["id"], {"org": "lc_nanhui_pt1"}, actor=a, expected_version=1
            )
            await same_as_full("moved to another station")
            # an accepted correction
            filed = await store.create(
                "performance.correction",
                {
                    "item": "meetings",
                    "happened_on": dt.date(2026, 6, 1),
                    "requested": 4,
                    "reason": "漏记一次会议",
                },
                actor=a,
                org=data["deputies"][a],
            )
            await store.update(
                "performance.correction",
                filed["id"],
                {"state": "accepted", "granted": 4},
                actor=data["staff"],
                expected_version=filed["row_version"],
            )
            table = await same_as_full("correction accepted")
            assert len(steps) == 12
            assert total(table, "performance.points", "2026", a)[8] == 7.0 + 3.0 + 4.0

    run(scenario())
