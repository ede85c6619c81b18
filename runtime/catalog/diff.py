"""What changes between two versions of a package: roles, fields, states, transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    kind: str  # role, entity, field, state, transition
    id: str  # entity.field, workflow.state, …
    what: str  # added, removed, changed
    detail: str = ""

    def __str__(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.what]
        return f"{sign} {self.kind} {self.id}" + (f": {self.detail}" if self.detail else "")


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _options(spec: dict[str, Any]) -> list[str]:
    out = []
    for option in spec.get("options") or []:
        out.append(str(option.get("value")) if isinstance(option, dict) else str(option))
    return out


def _keyed(
    kind: str, prefix: str, old: dict[str, Any], new: dict[str, Any], detail: Any
) -> list[Change]:
    out = []
    for key in old:
        if key not in new:
            out.append(Change(kind, prefix + key, "removed"))
    for key, spec in new.items():
        if key not in old:
            out.append(Change(kind, prefix + key, "added", detail(None, spec)))
        elif old[key] != spec:
            text = detail(old[key], spec)
            if text:
                out.append(Change(kind, prefix + key, "changed", text))
    return out


def _field(old: Any, new: Any) -> str:
    new = _map(new)
    if old is None:
        return str(new.get("type", ""))
    old = _map(old)
    parts = []
    if old.get("type") != new.get("type"):
        parts.append(f"type {old.get('type')} → {new.get('type')}")
    if old.get("label") != new.get("label"):
        parts.append("label")
    before, after = _options(old), _options(new)
    if before != after:
        added = [o for o in after if o not in before]
        gone = [o for o in before if o not in after]
        parts.append("options" + "".join(f" +{o}" for o in added) + "".join(f" -{o}" for o in gone))
    if old.get("required") != new.get("required"):
        parts.append(f"required {old.get('required')} → {new.get('required')}")
    rest = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
    rest -= {"type", "label", "options", "required"}
    if rest:
        parts.append(", ".join(sorted(rest)))
    return "; ".join(parts)


def _state(old: Any, new: Any) -> str:
    if old is None:
        return ""
    changed = sorted(
        k for k in set(_map(old)) | set(_map(new)) if _map(old).get(k) != _map(new).get(k)
    )
    return ", ".join(changed)


def _transition(old: Any, new: Any) -> str:
    new = _map(new)
    route = f"{new.get('from')} → {new.get('to')} by {new.get('by')}"
    if old is None:
        return route
    old = _map(old)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(changed) + (f" ({route})" if {"from", "to", "by"} & set(changed) else "")


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    out = _keyed("role", "", _map(old.get("roles")), _map(new.get("roles")), lambda a, b: "")
    old_entities, new_entities = _map(old.get("entities")), _map(new.get("entities"))
    for eid in old_entities:
        if eid not in new_entities:
            out.append(Change("entity", eid, "removed"))
    for eid, spec in new_entities.items():
        if eid not in old_entities:
            out.append(Change("entity", eid, "added"))
        before = _map(_map(old_entities.get(eid)).get("fields"))
        out += _keyed("field", f"{eid}.", before, _map(_map(spec).get("fields")), _field)
    old_flows, new_flows = _map(old.get("workflows")), _map(new.get("workflows"))
    for wid in dict.fromkeys([*old_flows, *new_flows]):
        a, b = _map(old_flows.get(wid)), _map(new_flows.get(wid))
        out += _keyed("state", f"{wid}.", _map(a.get("states")), _map(b.get("states")), _state)
        out += _keyed(
            "transition",
            f"{wid}.",
            _map(a.get("transitions")),
            _map(b.get("transitions")),
            _transition,
        )
    return out


def removed_states(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Entity id → the states of its workflow that the new version no longer has."""
    out: dict[str, list[str]] = {}
    new_flows = _map(new.get("workflows"))
    for wid, flow in _map(old.get("workflows")).items():
        flow = _map(flow)
        entity = str(flow.get("entity") or wid)
        kept = _map(_map(new_flows.get(wid)).get("states"))
        gone = [s for s in _map(flow.get("states")) if s not in kept]
        if gone:
            out[entity] = gone
    return out
