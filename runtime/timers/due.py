"""From a ``deadline:`` spec to the moments its timers fire.

A deadline is a day: ``days`` (calendar or working days) after the day the
record entered the state (or the task was opened), or the date held in the
record's ``field``. The record is due by the end of that day (23:59:59 local
time) and overdue from the next midnight. A reminder ``before: [7, 1]`` fires
at 09:00 local time 7 and 1 days before the deadline day (counted in working
days when the deadline is); reminders whose moment has already passed when
the deadline is set are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runtime.timers.calendar import Calendar

REMIND_HOUR = 9
REMIND = "remind"
OVERDUE = "overdue"


@dataclass(frozen=True)
class Planned:
    kind: str  # remind | overdue
    due_at: dt.datetime  # the end of the deadline day (UTC)
    fire_at: dt.datetime  # when the timer fires (UTC)
    before: int | None = None  # a reminder's days before the deadline


def _as_date(value: Any, cal: Calendar) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return cal.local_date(value)
    if isinstance(value, dt.date):
        return value
    try:
        text = str(value)
        return (
            cal.local_date(dt.datetime.fromisoformat(text))
            if "T" in text or " " in text
            else dt.date.fromisoformat(text)
        )
    except ValueError:
        return None


def deadline_day(
    spec: Mapping[str, Any], record: Mapping[str, Any], entered_at: dt.datetime, cal: Calendar
) -> dt.date | None:
    """The deadline day, or None (a ``field`` deadline whose field is empty)."""
    if spec.get("field"):
        return _as_date(record.get(str(spec["field"])), cal)
    days = spec.get("days")
    if days is None:
        return None
    return cal.add(cal.local_date(entered_at), int(days), bool(spec.get("working")))


def due_moment(day: dt.date, cal: Calendar) -> dt.datetime:
    """The last second of the deadline day, local time, as UTC."""
    return cal.at(day, 23, 59, 59)


def plan(
    spec: Mapping[str, Any], record: Mapping[str, Any], entered_at: dt.datetime, cal: Calendar
) -> list[Planned]:
    """The reminders and the overdue timer of one deadline (empty when it has no day)."""
    day = deadline_day(spec, record, entered_at, cal)
    if day is None:
        return []
    due_at = due_moment(day, cal)
    working = bool(spec.get("working"))
    out: list[Planned] = []
    seen: set[dt.datetime] = set()
    remind = spec.get("remind") or {}
    for before in sorted({int(b) for b in remind.get("before") or []}, reverse=True):
        when = cal.at(cal.add(day, -before, working), REMIND_HOUR)
        if when < entered_at or when in seen or when > due_at:
            continue
        seen.add(when)
        out.append(Planned(REMIND, due_at, when, before))
    out.append(Planned(OVERDUE, due_at, due_at + dt.timedelta(seconds=1)))
    return out
