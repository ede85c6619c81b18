"""The working-day calendar of a deployment (``calendar:`` in ``scenarios.yaml``).

A day is a working day when it is an ``extra_workdays`` date (a weekend day
worked in exchange for a holiday, 调休), or when its weekday is among
``workdays`` (1 = Monday) and it is not one of the ``holidays``. Deadlines
counted in working days step over every other day::

    cal = Calendar.from_manifest(deployment.data.get("calendar"), "Asia/Shanghai")
    cal.add(date(2026, 2, 13), 1, working=True)   # → 2026-02-14, a 调休 Saturday
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Asia/Shanghai"
MAX_STEPS = 366 * 20  # a calendar with no working day at all must not loop for ever


def _dates(values: Iterable[Any] | None) -> frozenset[dt.date]:
    out = set()
    for value in values or ():
        out.add(value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)))
    return frozenset(out)


@dataclass(frozen=True)
class Calendar:
    workdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    holidays: frozenset[dt.date] = frozenset()
    extra_workdays: frozenset[dt.date] = frozenset()
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_ZONE))

    @classmethod
    def from_manifest(cls, spec: Mapping[str, Any] | None, timezone: str | None = None) -> Calendar:
        """The calendar of a manifest's ``calendar:`` mapping (absent: Monday to Friday)."""
        spec = spec or {}
        workdays = spec.get("workdays")
        return cls(
            workdays=frozenset(int(d) for d in (workdays if workdays is not None else range(1, 6))),
            holidays=_dates(spec.get("holidays")),
            extra_workdays=_dates(spec.get("extra_workdays")),
            zone=ZoneInfo(timezone or DEFAULT_ZONE),
        )

    def is_working(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        return day.isoweekday() in self.workdays and day not in self.holidays

    def add(self, start: dt.date, days: int, working: bool = False) -> dt.date:
        """``days`` after ``start`` (before it when negative); in working days when ``working``.

        Working days count from the day after ``start``: 5 working days from a
        Friday is the next Friday (when no holiday falls between).
        """
        if not working or days == 0:
            return start + dt.timedelta(days=days)
        step = dt.timedelta(days=1 if days > 0 else -1)
        left, day = abs(days), start
        for _ in range(MAX_STEPS + left):
            day += step
            if self.is_working(day):
                left -= 1
                if left == 0:
                    return day
        raise ValueError("the calendar has no working days")

    # ------------------------------------------------------------ local time

    def local_date(self, moment: dt.datetime) -> dt.date:
        return self.localize(moment).date()

    def localize(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(self.zone)

    def at(self, day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
        """A local wall-clock moment of ``day``, as UTC."""
        local = dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=self.zone)
        return local.astimezone(dt.UTC)


def calendar_of(app_state: Any) -> Calendar:
    """The deployment's calendar, built once per app."""
    found = getattr(app_state, "calendar", None)
    if isinstance(found, Calendar):
        return found
    data = app_state.deployment.data
    made = Calendar.from_manifest(data.get("calendar"), data.get("timezone"))
    app_state.calendar = made
    return made
