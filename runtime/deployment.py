"""A deployment ready to run: the manifest and its scenarios, checked and typed.

``load_deployment`` refuses an invalid deployment with the checker's full
report (``AuthoringError``), never a traceback: the app does not start on a
scenario with mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.checker import check_paths
from runtime.manifest import Manifest, OrgUnit
from runtime.mistakes import AuthoringError
from runtime.model import Entity, Scenario, build_scenario, text


@dataclass
class Deployment:
    manifest: Manifest
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    org: dict[str, OrgUnit] = field(default_factory=dict)

    @property
    def data(self) -> dict[str, Any]:
        return self.manifest.data

    @property
    def folder(self) -> Path:
        return self.manifest.folder

    def title(self, locale: str = "zh") -> str:
        return text(self.data["deployment"]["title"], locale)

    @property
    def platform_roles(self) -> dict[str, Any]:
        return dict(self.data.get("roles") or {})

    def entity(self, key: str) -> Entity | None:
        """An entity by ``scenario.entity``."""
        scenario, _, entity = key.partition(".")
        found = self.scenarios.get(scenario)
        return found.entities.get(entity) if found else None

    def entities(self) -> list[Entity]:
        return [e for s in self.scenarios.values() for e in s.entities.values()]

    def org_path(self, unit: str) -> str:
        """The materialised path of an org unit, '/zj/wz/lc/', for subtree filters.

        An unknown unit gets a path no record has ('/?id/'), so a filter on it
        matches nothing rather than the whole tree.
        """
        found = self.org.get(unit)
        return "/" + "/".join(found.path) + "/" if found else f"/?{unit}/"

    def theme_of(self, unit: str | None) -> str:
        """The theme of an org unit: its own, or its nearest ancestor's, or the default."""
        current = self.org.get(unit) if unit else None
        while current is not None:
            if current.theme:
                return current.theme
            current = self.org.get(current.parent) if current.parent else None
        return str(self.data.get("theme") or "default")


def load_deployment(manifest_path: Path) -> Deployment:
    result = check_paths([manifest_path])
    if result.mistakes:
        raise AuthoringError(result.mistakes)
    manifest = result.manifests[0]
    deployment = Deployment(manifest)
    deployment.org = {unit.id: unit for unit in manifest.org_units()}
    platform = set(deployment.platform_roles)
    for sid, entry in (manifest.data.get("scenarios") or {}).items():
        if entry.get("enabled") is False:
            continue
        package = result.packages[sid]
        deployment.scenarios[sid] = build_scenario(package.data, entry.get("roles") or {}, platform)
    return deployment
