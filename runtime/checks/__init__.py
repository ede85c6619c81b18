"""Semantic checks of a scenario package, run after the schema.

Each module checks one part of the language; ``check_package`` runs them all
and returns every mistake found, so an author sees all of them at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime import PLATFORM_VERSION
from runtime.checks.ballots import check_ballots
from runtime.checks.base import Context, as_map
from runtime.checks.codes import check_codes
from runtime.checks.dashboards import check_dashboards
from runtime.checks.entities import check_entities
from runtime.checks.migrations import check_migrations
from runtime.checks.pages import check_forms, check_views
from runtime.checks.scoring import check_scoring
from runtime.checks.workflows import check_workflows
from runtime.mistakes import Mistake, did_you_mean, one_of
from runtime.package import Package
from runtime.semver import Version, parse_range

CHECKS = (
    check_entities,
    check_views,
    check_forms,
    check_workflows,
    check_scoring,
    check_ballots,
    check_codes,
    check_dashboards,
    check_migrations,
)


def check_package(package: Package, others: Mapping[str, Package] | None = None) -> list[Mistake]:
    """Every semantic mistake in ``package``; ``others`` are the packages next to it."""
    others = others or {}
    ctx = Context(package.doc, package.data, {k: p.data for k, p in others.items()})
    _check_meta(ctx, others)
    for check in CHECKS:
        check(ctx)
    return ctx.mistakes


def _check_meta(ctx: Context, others: Mapping[str, Package]) -> None:
    requires = ctx.data.get("requires")
    if isinstance(requires, str):
        allowed = parse_range(requires)
        if allowed is not None and not allowed.contains(Version.parse(PLATFORM_VERSION)):
            ctx.add(
                ("requires",),
                f"needs platform {requires}; this platform is {PLATFORM_VERSION}",
                expected=f"a range that admits {PLATFORM_VERSION}",
                code="platform",
            )
    for dep, wanted in as_map(ctx.data.get("depends")).items():
        path = ("depends", dep)
        if dep == ctx.data.get("id"):
            ctx.add(path, "a package cannot depend on itself", code="self_dependency", at_key=True)
            continue
        if not others:
            continue  # checked alone: dependencies are checked where the set is known
        other = others.get(dep)
        if other is None:
            ctx.add(
                path,
                f"unknown scenario '{dep}'",
                expected=one_of(others),
                hint=did_you_mean(dep, others),
                code="unknown_scenario",
                at_key=True,
            )
            continue
        allowed = parse_range(wanted) if isinstance(wanted, str) else None
        version = Version.parse(other.version)
        if allowed is not None and version is not None and not allowed.contains(version):
            ctx.add(
                path,
                f"'{dep}' is at {other.version}, outside {wanted}",
                expected=f"a range that admits {other.version}",
                code="dependency_version",
            )


def roles_of(data: Mapping[str, Any]) -> list[str]:
    return list(as_map(data.get("roles")))
