"""What an evaluation may read besides the record: the user and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from .values import as_utc


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """``user`` (``user.id``), ``user.org``, ``now`` and ``today`` of an evaluation.

    ``now`` is made timezone-aware UTC (a naive value is taken as UTC);
    ``today`` defaults to the UTC date of ``now`` — a deployment that lives in
    another time zone passes its own local date.
    """

    user_id: int | str | None = None
    user_org: int | str | None = None
    now: datetime = field(default_factory=_now)
    today: date = None  # type: ignore[assignment]  # filled from ``now`` when not given

    def __post_init__(self) -> None:
        object.__setattr__(self, "now", as_utc(self.now))
        if self.today is None:
            object.__setattr__(self, "today", self.now.date())
        elif isinstance(self.today, datetime):
            object.__setattr__(self, "today", self.today.date())
