"""Overlays: a county's local changes to an installed package, merged at load time.

An overlay is written in ``overrides/<id>.yaml`` beside ``scenarios.yaml``
(or the file named by the scenario's ``overlay:``), or inline under the
scenario's ``overrides:`` in ``scenarios.yaml`` (applied after the file). It has
the shape of a package and is merged onto it by id:

- mappings merge key by key (fields, states, transitions, views, forms,
  dashboards and their cards, scoring rules and their items, roles);
- any other value replaces the package's (``options: [...]`` is the whole new
  list, ``roles: [staff]`` the new roles);
- a bare string, or ``{zh, en}``, where the package has a mapping with a
  label, relabels it: ``fields: {title: 题目}``;
- an id the package does not have is added (a new field needs its ``type``);
- ``enabled: false`` on a transition removes it, and its buttons from the
  views' ``actions``; on a scoring item it switches the item off;
- ``id``, ``version``, ``requires``, ``depends`` and ``changelog`` belong to the
  province and cannot be overridden.

The merged package keeps the places of both: a mistake in what the overlay
wrote is reported at the overlay's file and line (``OverlaidDocument``).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime import defaults, schema
from runtime.loader import Document, LoadError, Mark, load_file
from runtime.manifest import Manifest
from runtime.mistakes import Mistake, did_you_mean, dotted
from runtime.mistakes import Path as DocPath
from runtime.package import Package, display

OVERRIDES_DIR = "overrides"
FROZEN = ("id", "version", "requires", "depends", "changelog")
KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("roles", "*"), "role"),
    (("entities", "*"), "entity"),
    (("entities", "*", "fields", "*"), "field"),
    (("workflows", "*"), "workflow"),
    (("workflows", "*", "states", "*"), "state"),
    (("workflows", "*", "transitions", "*"), "transition"),
    (("workflows", "*", "notifications", "*"), "notification"),
    (("views", "*"), "view"),
    (("forms", "*"), "form"),
    (("dashboards", "*"), "dashboard"),
    (("dashboards", "*", "cards", "*"), "card"),
    (("scoring", "*"), "scoring rule"),
    (("scoring", "*", "items", "*"), "scoring item"),
    (("ballots", "*"), "ballot"),
    (("codes", "*"), "code"),
)
FIRES = ("then", "on_reject", "fire")  # keys whose value names a transition


def kind_of(path: DocPath) -> str | None:
    """What an id at ``path`` of a package is: field, state, transition, … or None."""
    for pattern, kind in KINDS:
        if len(pattern) == len(path) and all(
            p in ("*", q) for p, q in zip(pattern, path, strict=True)
        ):
            return kind
    return None


class OverlaidDocument(Document):
    """A package's data with overlays merged in; places answer from the file that wrote them."""

    def __init__(self, base: Document, data: Any) -> None:
        super().__init__(data, files=list(base.files))
        self.base = base
        self.links: dict[DocPath, tuple[Document, DocPath]] = {}

    def link(self, path: DocPath, source: Document, source_path: DocPath) -> None:
        self.links[tuple(path)] = (source, tuple(source_path))
        for file in source.files:
            if file not in self.files:
                self.files.append(file)

    def _linked(self, path: DocPath) -> tuple[Document, DocPath] | None:
        p = tuple(path)
        for n in range(len(p), 0, -1):
            hit = self.links.get(p[:n])
            if hit is not None:
                return hit[0], hit[1] + p[n:]
        return None

    def mark(self, path: DocPath) -> Mark:
        hit = self._linked(path)
        return hit[0].mark(hit[1]) if hit else self.base.mark(path)

    def key_mark(self, path: DocPath) -> Mark:
        hit = self._linked(path)
        return hit[0].key_mark(hit[1]) if hit else self.base.key_mark(path)


@dataclass
class Source:
    """One overlay: a document and where the overlay sits in it."""

    doc: Document
    root: DocPath = ()

    @property
    def data(self) -> Any:
        value = self.doc.data
        for part in self.root:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def mistake(self, path: DocPath, message: str, **kw: Any) -> Mistake:
        return self.doc.mistake((*self.root, *path), message, **kw)

    @property
    def where(self) -> str:
        mark = self.doc.mark(self.root)
        return mark.file if not self.root else f"{mark.file} ({dotted(self.root)})"


def overlay_sources(manifest: Manifest, sid: str) -> tuple[list[Source], list[Mistake]]:
    """The overlays of scenario ``sid`` in a manifest: its file, then its inline block."""
    entry = (manifest.data.get("scenarios") or {}).get(sid)
    if not isinstance(entry, dict):
        return [], []
    sources: list[Source] = []
    mistakes: list[Mistake] = []
    named = entry.get("overlay")
    path = manifest.folder / (named if isinstance(named, str) else f"{OVERRIDES_DIR}/{sid}.yaml")
    if path.is_file():
        try:
            doc = load_file(path, display=display(path))
        except LoadError as exc:
            mistakes.extend(exc.mistakes)
        else:
            if doc.data is not None:
                sources.append(Source(doc))
    elif isinstance(named, str):
        mistakes.append(
            manifest.doc.mistake(
                ("scenarios", sid, "overlay"),
                f"no overlay file at {display(path)}",
                expected="a YAML file of local changes",
                code="missing_overlay",
            )
        )
    if isinstance(entry.get("overrides"), dict):
        sources.append(Source(manifest.doc, ("scenarios", sid, "overrides")))
    return sources, mistakes


def _is_label(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and bool(value) and set(value) <= {"zh", "en"}


class _Merge:
    def __init__(self, doc: OverlaidDocument, source: Source) -> None:
        self.doc = doc
        self.source = source
        self.mistakes: list[Mistake] = []
        self.disabled: dict[str, DocPath] = {}  # transition id → overlay path of its entry
        self.removed: dict[str, dict[str, Any]] = {}  # workflow → disabled transitions' specs

    def run(self) -> None:
        data = self.source.data
        if not isinstance(data, dict):
            self.mistakes.append(
                self.source.mistake(
                    (),
                    "an overlay must be a mapping",
                    expected="the parts of the package to change, e.g. entities: …",
                    code="type",
                )
            )
            return
        for key in FROZEN:
            if key in data:
                self.mistakes.append(
                    self.source.mistake(
                        (key,),
                        f"an overlay cannot change the package's {key}",
                        expected="fields, labels, options, deadlines, roles, transitions, "
                        "scoring items or dashboards",
                        hint="the province sets it when it publishes a version",
                        code="overlay_frozen",
                        at_key=True,
                    )
                )
        self.merge(self.doc.data, {k: v for k, v in data.items() if k not in FROZEN}, ())
        self._drop_buttons()

    def merge(self, target: dict[str, Any], over: dict[str, Any], path: DocPath) -> None:
        for key, value in over.items():
            here = (*path, key)
            current = target.get(key)
            kind = kind_of(here)
            if value is None:
                self.mistakes.append(
                    self.source.mistake(
                        here,
                        f"an overlay cannot remove {dotted(here)}",
                        expected="a value",
                        hint="switch a transition or a scoring item off with enabled: false",
                        code="overlay_remove",
                        at_key=True,
                    )
                )
            elif kind == "transition" and isinstance(value, dict) and value.get("enabled") is False:
                if key in target:
                    self.removed.setdefault(str(path[1]), {})[key] = target.pop(key)
                    self.disabled[key] = here
                else:
                    self.mistakes.append(
                        self.source.mistake(
                            here,
                            f"overlay disables transition '{key}', which the package does not have",
                            expected="a transition of the package",
                            hint=did_you_mean(key, target),
                            code="overlay_unknown",
                            at_key=True,
                        )
                    )
            elif isinstance(current, dict) and "label" in current and _is_label(value):
                current["label"] = copy.deepcopy(value)
                self.doc.link((*here, "label"), self.source.doc, (*self.source.root, *here))
            elif isinstance(current, dict) and isinstance(value, dict):
                if key == "deadline":  # days and field exclude each other: one replaces the other
                    for given, other in (("days", "field"), ("field", "days")):
                        if given in value and other not in value:
                            current.pop(other, None)
                self.merge(current, value, here)
            else:
                target[key] = copy.deepcopy(value)
                self.doc.link(here, self.source.doc, (*self.source.root, *here))

    def _drop_buttons(self) -> None:
        """Views lose the buttons of disabled transitions; other uses are mistakes."""
        if not self.disabled:
            return
        self._stranded_states()
        for view in (self.doc.data.get("views") or {}).values():
            if isinstance(view, dict) and isinstance(view.get("actions"), list):
                view["actions"] = [a for a in view["actions"] if a not in self.disabled]
        for path, value in _walk(self.doc.data.get("workflows"), ("workflows",)):
            tid = value if path[-1] in FIRES else None
            if path[-1] == "on" and isinstance(value, str) and value.startswith("transition."):
                tid = value.split(".", 1)[1]
            if tid in self.disabled:
                used = self.doc.mark(path)
                self.mistakes.append(
                    self.source.mistake(
                        self.disabled[tid],
                        f"overlay disables transition '{tid}', but {dotted(path)} "
                        f"({used.file}:{used.line}) still uses it",
                        expected="a transition nothing else fires",
                        hint=f"override {dotted(path)} too, or keep the transition",
                        code="overlay_disabled_in_use",
                        at_key=True,
                    )
                )

    def _stranded_states(self) -> None:
        """A state no transition leads to any more is named at the disabling entry."""
        for wid, flow in (self.doc.data.get("workflows") or {}).items():
            if not isinstance(flow, dict) or not isinstance(flow.get("states"), dict):
                continue
            states = list(flow["states"])
            before = _reachable(states, flow.get("transitions") or {}, self.removed.get(wid, {}))
            after = _reachable(states, flow.get("transitions") or {}, {})
            for state in [s for s in states if s in before and s not in after]:
                tid = next(
                    (t for t, spec in self.removed.get(wid, {}).items() if spec.get("to") == state),
                    next(iter(self.disabled)),
                )
                self.mistakes.append(
                    self.source.mistake(
                        self.disabled[tid],
                        f"overlay disables transition '{tid}', which leaves state '{state}' "
                        "unreachable",
                        expected="another transition that leads to it",
                        hint="keep the transition, or add one leading to that state",
                        code="overlay_unreachable",
                        at_key=True,
                    )
                )


def _reachable(states: list[str], transitions: dict[str, Any], extra: dict[str, Any]) -> set[str]:
    edges = [spec for spec in [*transitions.values(), *extra.values()] if isinstance(spec, dict)]
    seen = {states[0]} if states else set()
    changed = True
    while changed:
        changed = False
        for spec in edges:
            sources = spec.get("from")
            sources = [sources] if isinstance(sources, str) else list(sources or [])
            if (("*" in sources and seen) or seen & set(sources)) and spec.get("to") not in seen:
                seen.add(str(spec.get("to")))
                changed = True
    return seen


def _walk(value: Any, path: DocPath) -> Iterator[tuple[DocPath, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))
    else:
        yield path, value


def apply_overlays(package: Package, sources: list[Source]) -> tuple[Package, list[Mistake]]:
    """The package with the overlays merged, schema-checked and filled; and the mistakes."""
    if not sources:
        return package, []
    doc = OverlaidDocument(package.doc, copy.deepcopy(package.doc.data))
    mistakes: list[Mistake] = []
    for source in sources:
        merge = _Merge(doc, source)
        merge.run()
        mistakes.extend(merge.mistakes)
    for found in schema.validate(doc, "scenario"):
        mistakes.append(_typo_hint(found, package.doc.data))
    merged = Package(package.id, package.folder, doc)
    merged.data = defaults.fill(doc.data, "scenario")
    return merged, mistakes


def _typo_hint(found: Mistake, base: Any) -> Mistake:
    """An added id that is incomplete and close to an id of the package: probably a typo."""
    parts = tuple(found.path.split("."))
    if found.hint or "missing required key" not in found.message or kind_of(parts) is None:
        return found
    siblings = base
    for part in parts[:-1]:
        siblings = siblings.get(part) if isinstance(siblings, dict) else None
    if not isinstance(siblings, dict) or parts[-1] in siblings:
        return found
    hint = did_you_mean(parts[-1], siblings)
    return (
        dataclasses.replace(
            found, hint=f"the package has no {kind_of(parts)} '{parts[-1]}'; {hint}"
        )
        if hint
        else found
    )


def overlay_package(
    manifest: Manifest, sid: str, package: Package
) -> tuple[Package, list[Mistake]]:
    """``package`` as scenario ``sid`` of ``manifest`` runs it: with its overlays."""
    sources, mistakes = overlay_sources(manifest, sid)
    merged, more = apply_overlays(package, sources)
    return merged, mistakes + more


# -- what an overlay touches, for upgrades ------------------------------------------------


@dataclass(frozen=True)
class Touch:
    """One id of the package an overlay changes (or adds)."""

    kind: str  # field, state, transition, …
    id: str
    path: DocPath  # inside the package
    verb: str  # relabels, changes options of, disables, adds, …
    existed: bool  # the package had it (False: the overlay adds it)
    source: Source

    def mistake(self, message: str, **kw: Any) -> Mistake:
        return self.source.mistake(self.path, message, at_key=True, **kw)


def _verb(value: Any) -> str:
    if _is_label(value):
        return "relabels"
    if not isinstance(value, dict):
        return "changes"
    keys = set(value)
    if value.get("enabled") is False:
        return "disables"
    if keys <= {"label"}:
        return "relabels"
    if "options" in keys:
        return "changes the options of"
    if "deadline" in keys:
        return "changes the deadline of"
    if keys & {"roles", "by"}:
        return "changes the roles of"
    return "changes"


def touches(source: Source, base: dict[str, Any]) -> list[Touch]:
    """Every package id the overlay addresses, relative to the package ``base``."""
    out: list[Touch] = []

    def walk(over: Any, have: Any, path: DocPath) -> None:
        if not isinstance(over, dict):
            return
        for key, value in over.items():
            here = (*path, key)
            if not path and key in FROZEN:
                continue
            inside = have.get(key) if isinstance(have, dict) else None
            kind = kind_of(here)
            if kind is not None:
                existed = isinstance(have, dict) and key in have
                out.append(
                    Touch(kind, key, here, _verb(value) if existed else "adds", existed, source)
                )
                if not existed:
                    continue
            walk(value, inside, here)

    walk(source.data, base, ())
    return out


def has_path(data: Any, path: DocPath) -> bool:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def sources_files(sources: list[Source]) -> list[Path]:
    return [Path(s.doc.files[0]) for s in sources if s.doc.files]
