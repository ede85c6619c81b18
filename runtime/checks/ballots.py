"""Checks of ballots: candidates, voters, choices, selection and outcomes."""

from __future__ import annotations

from runtime.checks.base import Context, as_map
from runtime.checks.entities import names_of


def check_ballots(ctx: Context) -> None:
    for bid, ballot in ctx.section("ballots").items():
        ballot = as_map(ballot)
        path = ("ballots", bid)
        for key in ("voters", "managers"):
            if key in ballot:
                ctx.known_each((*path, key), ballot[key], ctx.roles, "role")
        choices = as_map(ballot.get("choices"))
        chosen = as_map(ballot.get("pass")).get("choice", "agree")
        if isinstance(chosen, str):
            ctx.known((*path, "pass", "choice"), chosen, choices, "choice")
        select = as_map(ballot.get("select"))
        low, high = select.get("min"), select.get("max")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            ctx.add(
                (*path, "select"),
                f"select.min {low} is above select.max {high}",
                expected="min ≤ max",
                code="range",
            )
        entity = ballot.get("entity")
        if not ctx.usable((*path, "entity"), entity):
            continue
        ctx.expr(
            (*path, "candidates"),
            ballot.get("candidates"),
            names_of(ctx.fields(entity)),
            what="filter",
        )
        wf = ctx.workflow_of(entity)
        transitions = as_map(wf[1].get("transitions")) if wf else {}
        for key in ("on_pass", "on_fail"):
            if key in ballot:
                ctx.known((*path, key), ballot[key], transitions, "transition")
