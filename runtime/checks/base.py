"""What every semantic check shares: where to put mistakes and how to resolve ids.

The checks run after the schema, on data whose defaults are filled. They are
written defensively: a part the schema already found wrong is skipped, never
trusted, so a broken file yields mistakes and never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.expr import Expr, ExprError, compile_expr
from runtime.expr.types import BOOL, Type
from runtime.loader import Document
from runtime.mistakes import Mistake, Path, did_you_mean, one_of

SYSTEM_FIELDS = (
    "id",
    "org",
    "owner",
    "state",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
)
# columns the store keeps beside the system fields; a field may not take their names
RESERVED = (
    *SYSTEM_FIELDS,
    "org_path",
    "row_version",
    "scenario_version",
    "receipt",
    "parent_id",
    "position",
)
ACTOR_WORDS = ("owner", "handler", "system")


def as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def as_ids(value: Any) -> list[str]:
    """An id or a list of ids, as a list of the strings in it."""
    return [v for v in as_list(value) if isinstance(v, str)]


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Context:
    """One package under check: its document, filled data and the mistakes so far."""

    doc: Document
    data: dict[str, Any]
    others: Mapping[str, dict[str, Any]] = field(
        default_factory=dict
    )  # id → data of other packages
    mistakes: list[Mistake] = field(default_factory=list)

    # -- reporting ------------------------------------------------------------------------

    def add(
        self,
        path: Path,
        message: str,
        *,
        expected: str | None = None,
        hint: str | None = None,
        code: str = "invalid",
        at_key: bool = False,
        offset: int = 0,
    ) -> None:
        self.mistakes.append(
            self.doc.mistake(
                path, message, expected=expected, hint=hint, code=code, at_key=at_key, offset=offset
            )
        )

    def known(
        self,
        path: Path,
        value: Any,
        candidates: Iterable[str],
        what: str,
        *,
        at_key: bool = False,
    ) -> bool:
        """True when ``value`` names one of ``candidates``; otherwise report it."""
        pool = list(candidates)
        if isinstance(value, str) and value in pool:
            return True
        if isinstance(value, str):
            self.add(
                path,
                f"unknown {what} '{value}'",
                expected=one_of(pool) if pool else f"a {what} defined in the package",
                hint=did_you_mean(value, pool),
                code="unknown_ref",
                at_key=at_key,
            )
        return False

    def known_each(self, path: Path, value: Any, candidates: Iterable[str], what: str) -> None:
        """Like ``known`` for an id or a list of ids; each list item is placed on its own."""
        pool = list(candidates)
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.known((*path, i), item, pool, what)
        else:
            self.known(path, value, pool, what)

    # -- package parts ----------------------------------------------------------------------

    def section(self, key: str) -> dict[str, Any]:
        return as_map(self.data.get(key))

    @property
    def roles(self) -> dict[str, Any]:
        return self.section("roles")

    @property
    def entities(self) -> dict[str, Any]:
        return self.section("entities")

    def fields(self, entity: str) -> dict[str, Any]:
        return as_map(as_map(self.entities.get(entity)).get("fields"))

    def usable(self, path: Path, entity: Any, what: str = "entity") -> bool:
        """``entity`` names an entity whose fields can be trusted (else skip its checks).

        An unknown entity is reported; an entity whose fields the schema
        already refused is skipped silently, so one mistake is said once.
        """
        if not isinstance(entity, str) or not self.known(path, entity, self.entities, what):
            return False
        return bool(self.fields(entity))

    def workflow_of(self, entity: str) -> tuple[str, dict[str, Any]] | None:
        for wid, wf in self.section("workflows").items():
            wf = as_map(wf)
            if (as_str(wf.get("entity")) or wid) == entity:
                return wid, wf
        return None

    def foreign_entity(self, ref: str) -> tuple[str, str] | None:
        """``scenario.entity`` → (scenario, entity) when the form is dotted."""
        if "." in ref:
            scenario, entity = ref.split(".", 1)
            return scenario, entity
        return None

    def entity_ref(self, path: Path, ref: Any, what: str = "entity") -> dict[str, Any] | None:
        """Resolve an entity id or 'scenario.entity'; report problems; the entity's data."""
        if not isinstance(ref, str):
            return None
        foreign = self.foreign_entity(ref)
        if foreign is None:
            if self.known(path, ref, self.entities, what) and self.fields(ref):
                return as_map(self.entities[ref])
            return None
        scenario, entity = foreign
        depends = self.section("depends")
        if scenario == self.data.get("id"):
            if self.known(path, entity, self.entities, what):
                return as_map(self.entities[entity])
            return None
        if scenario not in depends:
            self.add(
                path,
                f"'{ref}' refers to scenario '{scenario}', which is not in depends",
                expected=f"depends: {{{scenario}: '^1.0'}}",
                hint=did_you_mean(scenario, depends),
                code="undeclared_dependency",
            )
            return None
        other = self.others.get(scenario)
        if other is None:
            return None  # the dependency is not loaded here; checked where it is
        their = as_map(other.get("entities"))
        if entity not in their:
            self.add(
                path,
                f"scenario '{scenario}' has no entity '{entity}'",
                expected=one_of(f"{scenario}.{e}" for e in their),
                hint=did_you_mean(entity, their),
                code="unknown_ref",
            )
            return None
        return as_map(their[entity])

    # -- expressions --------------------------------------------------------------------------

    def expr(
        self,
        path: Path,
        source: Any,
        names: Mapping[str, Type],
        *,
        expect: Type | None = BOOL,
        what: str = "expression",
    ) -> Expr | None:
        """Compile an expression found at ``path``; report its mistake at the right column."""
        if not isinstance(source, str):
            return None
        try:
            return compile_expr(source, names, expect=expect)
        except ExprError as exc:
            expected, hint = exc.expected, exc.hint
            if exc.message == "invalid syntax":
                expected = expected or "a complete expression, e.g. amount > 0 and kind == '其他'"
                if what == "condition":
                    hint = hint or "write true, false, or a condition on the record's fields"
            if expected and expected in exc.message:
                expected = None  # the message already says it
            self.add(
                path,
                f"bad {what}: {exc.message}",
                expected=expected,
                hint=hint,
                code="expression",
                offset=exc.offset,
            )
            return None
