"""``yidi score``: compute or publish a scoring rule's period from the command line.

yidi score recompute performance.points 2026      # the whole year, now
yidi score recompute performance.points 2026-Q2   # the year up to the end of Q2
yidi score publish performance.points 2026-Q2 --by lc_staff   # freeze it for the deputies (亮分)
yidi score list                                   # the rules and their computed periods
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any


def register(sub: Any) -> None:
    score = sub.add_parser(
        "score", help="recompute or publish scores (yidi score recompute RULE PERIOD)"
    )
    score.add_argument("action", choices=("recompute", "publish", "list"))
    score.add_argument("rule", nargs="?", help="scenario.rule, e.g. performance.points")
    score.add_argument("period", nargs="?", help="2026, 2026-Q2, 2026-03 or T2021 (default: now)")
    score.add_argument(
        "--by",
        metavar="LOGIN",
        help="publish: who publishes (an active user holding a manager role of the rule); "
        "recorded with the snapshot and in the audit log. Without it the publication is "
        "recorded as the system's",
    )
    score.add_argument("--manifest", help="the deployment manifest (default $YIDI_MANIFEST)")
    score.add_argument("--data-dir", dest="data_dir", help="the data directory ($YIDI_DATA_DIR)")
    score.add_argument("--database-url", dest="database_url", help="default $DATABASE_URL")
    score.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from runtime.deployment import load_deployment
    from runtime.mistakes import AuthoringError
    from runtime.orgs import load_org
    from runtime.scoring.engine import Scorer, ScoringError
    from runtime.settings import Settings
    from runtime.storage import open_store

    overrides = {k: getattr(args, k) for k in ("manifest", "data_dir", "database_url")}
    settings = Settings.from_env(**{k: v for k, v in overrides.items() if v})
    try:
        deployment = load_deployment(settings.manifest)
    except AuthoringError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.action != "list" and not args.rule:
        print(
            "yidi score: give a rule, e.g. yidi score recompute performance.points 2026",
            file=sys.stderr,
        )
        return 2

    async def go() -> int:
        async with open_store(
            deployment, settings.database_url, settings.data_dir, models=["runtime.scoring.tables"]
        ) as store:
            await load_org(deployment)
            scorer = Scorer(store)
            if args.action == "list":
                for key, rule in scorer.rules.items():
                    done = ", ".join(
                        r["period"] + (" (published)" if r["published_at"] else "")
                        for r in await scorer.runs(key)
                    )
                    print(f"{key}: per {rule.period}; computed: {done or 'none'}")
                return 0
            try:
                rule = scorer.rule(args.rule)
                period = args.period or scorer.current(rule)
                started = time.perf_counter()
                if args.action == "publish":
                    actor = await publisher(deployment, rule, args.by)
                    count = await scorer.publish(rule.key, period, actor, via="cli")
                    by = f"by {args.by}" if args.by else "by the system (no --by)"
                    what = f"published ({by})"
                else:
                    count = await scorer.recompute(rule.key, period)
                    what = "computed"
            except ScoringError as exc:
                print(f"yidi score: {exc}", file=sys.stderr)
                return 2
            took = time.perf_counter() - started
            print(f"{rule.key} {period}: {what} {count} subjects in {took:.2f} s")
            return 0

    return asyncio.run(go())


async def publisher(deployment: Any, rule: Any, login: str | None) -> int | None:
    """The user id behind ``--by`` (None without it); ``ScoringError`` when the login is
    unknown, inactive or holds no manager role of the rule."""
    from runtime.scoring.engine import ScoringError
    from runtime.storage.platform import Grant, User

    if not login:
        return None
    user = await User.get_or_none(login=login)
    if user is None or not user.active:
        raise ScoringError(f"--by {login}: no active user with that login")
    scenario = deployment.scenarios[rule.scenario]
    roles = sorted({p for m in rule.managers for p in scenario.role_map.get(m, [])})
    if not roles or not await Grant.filter(user_id=user.id, role__in=roles).exists():
        raise ScoringError(
            f"--by {login}: not a manager of {rule.key} (needs a role of: {', '.join(roles) or '-'})"
        )
    return int(user.id)
