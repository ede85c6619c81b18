"""Who is asking: a signed-in user with their grants, or an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewer:
    id: int | None = None
    login: str = ""
    name: str = ""
    grants: tuple[tuple[str, str], ...] = ()  # (org unit id, platform role)

    @property
    def anonymous(self) -> bool:
        return self.id is None

    @property
    def org(self) -> str | None:
        """The primary org unit: where the first grant is held."""
        return self.grants[0][0] if self.grants else None

    @property
    def orgs(self) -> list[str]:
        return list(dict.fromkeys(unit for unit, _ in self.grants))

    def roles_at(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for unit, role in self.grants:
            out.setdefault(role, set()).add(unit)
        return out


ANONYMOUS = Viewer()
