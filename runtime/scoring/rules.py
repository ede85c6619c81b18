"""Scoring rules as typed objects, built from the checked scenario data.

A rule scores subjects (users holding a scenario role, or org units of a
kind) per period: each item counts (or sums a number field of) the matching
records of a source entity, times its points, capped, times its weight; the
total is their sum (or the rule's ``total`` expression), capped and scaled;
indices combine the items normalised within the ranking group; bands and
ranks follow the rule's ``score`` (the total, or an index).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runtime.deployment import Deployment
from runtime.expr import NUMBER, Expr, compile_expr
from runtime.model import Entity, Label

TOTAL = "_total"  # the item key of a subject's total row


def index_key(index_id: str) -> str:
    """The item key of an index row (ids start with a letter: no clash with items)."""
    return f"_i_{index_id}"


@dataclass
class Item:
    id: str
    spec: dict[str, Any]
    entity: Entity
    subject_field: str
    date_field: str

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def points(self) -> float:
        return float(self.spec.get("points", 1))

    @property
    def cap(self) -> float | None:
        cap = self.spec.get("cap")
        return None if cap is None else float(cap)

    @property
    def weight(self) -> float:
        return float(self.spec.get("weight", 1))

    @property
    def sum(self) -> str | None:
        value = self.spec.get("sum")
        return str(value) if value else None

    @cached_property
    def where(self) -> Expr | None:
        source = self.spec.get("where")
        return self.entity.compile(source) if source else None


@dataclass
class Index:
    id: str
    spec: dict[str, Any]
    formula: Expr

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def normalize(self) -> bool:
        return self.spec.get("normalize", True) is not False


@dataclass
class Band:
    id: str
    min: float
    label: Label
    tone: str


@dataclass
class Rule:
    scenario: str
    id: str
    spec: dict[str, Any]
    items: dict[str, Item] = field(default_factory=dict)
    indices: dict[str, Index] = field(default_factory=dict)
    platform_roles: list[str] = field(default_factory=list)  # subject user: who is scored

    @property
    def key(self) -> str:
        return f"{self.scenario}.{self.id}"

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def subject(self) -> str:
        return str(self.spec["subject"])

    @property
    def kind(self) -> str | None:
        return self.spec.get("kind")

    @property
    def period(self) -> str:
        return str(self.spec.get("period") or "year")

    @property
    def publish(self) -> str:
        return str(self.spec.get("publish") or self.period)

    @property
    def cap(self) -> float | None:
        cap = self.spec.get("cap")
        return None if cap is None else float(cap)

    @property
    def scale(self) -> float | None:
        scale = self.spec.get("scale")
        return None if scale is None else float(scale)

    @property
    def within(self) -> str | None:
        return (self.spec.get("ranking") or {}).get("within")

    @property
    def ranked(self) -> bool:
        return "ranking" in self.spec

    @property
    def ties(self) -> str:
        return str((self.spec.get("ranking") or {}).get("ties") or "shared")

    @property
    def score(self) -> str:
        return str(self.spec.get("score") or "total")

    @property
    def managers(self) -> list[str]:
        value = self.spec.get("managers") or []
        return [value] if isinstance(value, str) else list(value)

    @property
    def correction(self) -> str | None:
        value = self.spec.get("correction")
        return str(value) if value else None

    @cached_property
    def total(self) -> Expr | None:
        source = self.spec.get("total")
        if not source:
            return None
        return compile_expr(source, dict.fromkeys(self.items, NUMBER), expect=NUMBER)

    @cached_property
    def bands(self) -> list[Band]:
        """Highest minimum first."""
        out = [
            Band(bid, float(b["min"]), b.get("label") or bid, str(b.get("tone") or "neutral"))
            for bid, b in (self.spec.get("bands") or {}).items()
        ]
        return sorted(out, key=lambda b: -b.min)

    def band(self, band_id: str | None) -> Band | None:
        return next((b for b in self.bands if b.id == band_id), None)

    @property
    def best(self) -> float | None:
        """The best possible total (what ``scale`` maps to), when the rule bounds it."""
        if self.cap is not None:
            return self.cap
        caps = [(i.cap, i.weight) for i in self.items.values()]
        if self.total is None and caps and all(c is not None for c, _ in caps):
            return sum(float(c or 0) * w for c, w in caps)
        return None

    @property
    def grouped(self) -> bool:
        """Whether a subject's score depends on the others of its group (ranks, normalising)."""
        relative_scale = self.scale is not None and self.best is None
        return self.ranked or bool(self.indices) or relative_scale

    def sources(self) -> set[str]:
        return {item.entity.key for item in self.items.values()}


def build_rules(deployment: Deployment) -> dict[str, Rule]:
    """Every enabled scoring rule of the deployment, keyed ``scenario.rule``."""
    rules: dict[str, Rule] = {}
    for sid, scenario in deployment.scenarios.items():
        for rid, spec in (scenario.data.get("scoring") or {}).items():
            rule = Rule(sid, rid, spec)
            for iid, ispec in (spec.get("items") or {}).items():
                if ispec.get("enabled") is False:
                    continue
                source = str(ispec["source"])
                entity = deployment.entity(source if "." in source else f"{sid}.{source}")
                if entity is None:  # a dependency that is not deployed
                    continue
                default = "owner" if rule.subject == "user" else "org"
                rule.items[iid] = Item(
                    iid,
                    ispec,
                    entity,
                    str(ispec.get("subject_field") or default),
                    str(ispec.get("date_field") or "created_at"),
                )
            names = dict.fromkeys(rule.items, NUMBER)
            for xid, xspec in (spec.get("indices") or {}).items():
                rule.indices[xid] = Index(
                    xid, xspec, compile_expr(xspec["formula"], names, expect=NUMBER)
                )
            role = spec.get("role")
            if rule.subject == "user":
                mapped = (
                    [scenario.role_map.get(str(role), [])] if role else scenario.role_map.values()
                )
                rule.platform_roles = sorted({p for targets in mapped for p in targets})
            rules[rule.key] = rule
    return rules
