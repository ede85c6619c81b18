"""A checked deployment as typed objects: scenarios, entities, fields, views, forms.

The checker works on plain data; the running app works on these. They are
built once at start-up from packages that passed ``yidi check`` (so every
reference resolves and every expression compiles), and never change after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from runtime.checks.entities import field_type, names_of
from runtime.expr import Expr, compile_expr
from runtime.expr import types as T
from widgets import Widget, load_widgets

Label = str | Mapping[str, str]


def text(label: Any, locale: str = "zh") -> str:
    """A label in the wanted language: English when asked and given, else Chinese."""
    if isinstance(label, Mapping):
        if locale.startswith("en") and label.get("en"):
            return str(label["en"])
        return str(label.get("zh") or label.get("en") or "")
    return "" if label is None else str(label)


def table_name(*parts: str) -> str:
    """A table name from ids, kept under PostgreSQL's 63-character limit."""
    name = "__".join(parts)
    if len(name) <= 60:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[:51]}_{digest}"


@dataclass
class Field:
    id: str
    spec: dict[str, Any]
    widget: Widget
    names: Mapping[str, T.Type]  # what its conditions may read

    @property
    def type(self) -> str:
        return str(self.spec["type"])

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def multiple(self) -> bool:
        return self.spec.get("multiple") is True or self.type in ("multichoice", "children")

    @cached_property
    def expr_type(self) -> T.Type:
        return field_type(self.spec)

    @cached_property
    def compute(self) -> Expr | None:
        source = self.spec.get("compute")
        return compile_expr(source, self.names, expect=self.expr_type) if source else None

    def condition(self, key: str) -> bool | Expr:
        """``required``, ``visible`` or ``readonly``: a constant or a compiled condition."""
        value = self.spec.get(key, key == "visible")
        if isinstance(value, str):
            return compile_expr(value, self.names, expect=T.BOOL)
        return bool(value)

    @cached_property
    def children(self) -> dict[str, Field]:
        """The row fields of a child table."""
        rows = self.spec.get("fields") or {}
        names = names_of(rows, system=False)
        return {
            fid: Field(fid, spec, load_widgets()[spec["type"]], names) for fid, spec in rows.items()
        }

    @property
    def editable(self) -> bool:
        return "compute" not in self.spec and self.spec.get("readonly") is not True


@dataclass
class Entity:
    scenario: str
    id: str
    spec: dict[str, Any]
    fields: dict[str, Field] = field(default_factory=dict)
    workflow: Workflow | None = None

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def table(self) -> str:
        return table_name(self.scenario, self.id)

    @property
    def key(self) -> str:
        """``scenario.entity``: how other scenarios refer to it."""
        return f"{self.scenario}.{self.id}"

    @cached_property
    def title_field(self) -> str:
        wanted = self.spec.get("title_field")
        if wanted:
            return str(wanted)
        for fid, f in self.fields.items():
            if f.type in ("text", "choice", "longtext"):
                return fid
        return "id"

    @cached_property
    def names(self) -> dict[str, T.Type]:
        return names_of(self.spec.get("fields") or {})

    def compile(self, source: str, expect: T.Type | None = T.BOOL) -> Expr:
        return compile_expr(source, self.names, expect=expect)


@dataclass
class Transition:
    id: str
    spec: dict[str, Any]

    @property
    def sources(self) -> list[str] | None:
        """The states it starts from; None for '*' (every non-final state)."""
        value = self.spec["from"]
        if value == "*":
            return None
        return [value] if isinstance(value, str) else list(value)

    @property
    def to(self) -> str:
        return str(self.spec["to"])

    @property
    def actors(self) -> list[str]:
        by = self.spec.get("by", [])
        return [by] if isinstance(by, str) else list(by)


@dataclass
class Workflow:
    id: str
    entity: str
    spec: dict[str, Any]
    transitions: dict[str, Transition] = field(default_factory=dict)

    @property
    def states(self) -> dict[str, dict[str, Any]]:
        return dict(self.spec.get("states") or {})

    @property
    def initial(self) -> str:
        return str(self.spec.get("initial") or next(iter(self.states)))

    def final(self, state: str) -> bool:
        return bool(self.states.get(state, {}).get("final"))


@dataclass
class View:
    scenario: str
    id: str
    spec: dict[str, Any]
    entity: Entity

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @property
    def kind(self) -> str:
        return str(self.spec.get("type", "list"))

    @cached_property
    def where(self) -> Expr | None:
        source = self.spec.get("where")
        return self.entity.compile(source) if source else None

    @cached_property
    def columns(self) -> list[str]:
        cols = self.spec.get("columns")
        if cols:
            return list(cols)
        default = [self.entity.title_field]
        if self.entity.workflow:
            default.append("state")
        return [*default, "created_at"]

    @property
    def filters(self) -> list[str]:
        return list(self.spec.get("filters") or [])

    @cached_property
    def search(self) -> list[str]:
        given = self.spec.get("search")
        if given:
            return list(given)
        marked = [fid for fid, f in self.entity.fields.items() if f.spec.get("search")]
        title = self.entity.title_field
        return marked if title in marked or title == "id" else [title, *marked]

    @property
    def sort(self) -> list[tuple[str, bool]]:
        """[(field, descending)]"""
        value = self.spec.get("sort", "-created_at")
        items = [value] if isinstance(value, str) else list(value)
        return [(item.lstrip("-"), item.startswith("-")) for item in items]


@dataclass
class Form:
    scenario: str
    id: str
    spec: dict[str, Any]
    entity: Entity

    @property
    def label(self) -> Label:
        return self.spec.get("label") or self.id

    @cached_property
    def parts(self) -> list[tuple[str | None, Label | None, list[str]]]:
        """The form as [(section id, heading, field ids)]: one part when plain fields."""
        for layout in ("sections", "steps"):
            if self.spec.get(layout):
                return [
                    (sid, part.get("label"), list(part["fields"]))
                    for sid, part in self.spec[layout].items()
                ]
        fields = self.spec.get("fields") or [
            fid for fid, f in self.entity.fields.items() if f.editable
        ]
        return [(None, None, list(fields))]

    @property
    def is_steps(self) -> bool:
        return bool(self.spec.get("steps"))

    @property
    def field_ids(self) -> list[str]:
        return [fid for _, _, ids in self.parts for fid in ids]


@dataclass
class Scenario:
    id: str
    data: dict[str, Any]
    entities: dict[str, Entity] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)
    forms: dict[str, Form] = field(default_factory=dict)
    workflows: dict[str, Workflow] = field(default_factory=dict)
    role_map: dict[str, list[str]] = field(default_factory=dict)  # scenario role → platform roles

    @property
    def version(self) -> str:
        return str(self.data["version"])

    @property
    def title(self) -> Label:
        return self.data["title"]

    @property
    def roles(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("roles") or {})

    def scenario_roles(self, platform_roles: set[str]) -> set[str]:
        """The scenario roles held by someone with these platform roles."""
        return {r for r, targets in self.role_map.items() if platform_roles & set(targets)}


def build_scenario(
    data: dict[str, Any], role_map: Mapping[str, Any], platform_roles: set[str]
) -> Scenario:
    """Typed objects over one checked package's filled data."""
    sid = str(data["id"])
    scenario = Scenario(sid, data)
    registry = load_widgets()
    for eid, spec in (data.get("entities") or {}).items():
        entity = Entity(sid, eid, spec)
        names = names_of(spec.get("fields") or {})
        entity.fields = {
            fid: Field(fid, fspec, registry[fspec["type"]], names)
            for fid, fspec in spec["fields"].items()
        }
        scenario.entities[eid] = entity
    for wid, spec in (data.get("workflows") or {}).items():
        entity_id = spec.get("entity") or wid
        wf = Workflow(wid, entity_id, spec)
        wf.transitions = {
            tid: Transition(tid, t) for tid, t in (spec.get("transitions") or {}).items()
        }
        scenario.workflows[wid] = wf
        scenario.entities[entity_id].workflow = wf
    for vid, spec in (data.get("views") or {}).items():
        scenario.views[vid] = View(sid, vid, spec, scenario.entities[spec["entity"]])
    for fid, spec in (data.get("forms") or {}).items():
        scenario.forms[fid] = Form(sid, fid, spec, scenario.entities[spec["entity"]])
    for role in scenario.roles:
        targets = role_map.get(role)
        if targets is None:
            targets = [role] if role in platform_roles else []
        scenario.role_map[role] = [targets] if isinstance(targets, str) else list(targets)
    return scenario


def iter_entities(scenarios: Mapping[str, Scenario]) -> Iterator[Entity]:
    for scenario in scenarios.values():
        yield from scenario.entities.values()
