"""The working-day calendar and deadline arithmetic: weekends, holidays, 调休 make-up days,
deadlines in days, in working days and from a date field, and when reminders fire."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from runtime.deployment import load_deployment
from runtime.timers.calendar import Calendar
from runtime.timers.due import OVERDUE, REMIND, deadline_day, plan
from tests.timerkit import local

ROOT = Path(__file__).resolve().parent.parent
D = dt.date


@pytest.fixture(scope="module")
def cal() -> Calendar:
    """The demo deployment's calendar (the 2026 schedule in scenarios.yaml)."""
    deployment = load_deployment(ROOT / "scenarios.yaml")
    return Calendar.from_manifest(deployment.data["calendar"], deployment.data["timezone"])


def test_weekends_are_days_off(cal: Calendar) -> None:
    assert cal.is_working(D(2026, 3, 6))  # Friday
    assert not cal.is_working(D(2026, 3, 7))  # Saturday
    assert not cal.is_working(D(2026, 3, 8))  # Sunday
    assert cal.add(D(2026, 3, 6), 1, working=True) == D(2026, 3, 9)  # Friday + 1 → Monday
    assert cal.add(D(2026, 3, 2), 5, working=True) == D(2026, 3, 9)  # Monday + 5 → next Monday


def test_holidays_are_skipped(cal: Calendar) -> None:
    assert not cal.is_working(D(2026, 10, 5))  # 国庆 on a Monday
    # Wednesday 30 Sept + 1 working day: 1–7 Oct are off, Sat 10 Oct is not reached first
    assert cal.add(D(2026, 9, 30), 1, working=True) == D(2026, 10, 8)
    assert cal.add(D(2026, 4, 3), 1, working=True) == D(2026, 4, 7)  # 清明 Mon 6 Apr off


def test_make_up_saturdays_are_working_days(cal: Calendar) -> None:
    assert cal.is_working(D(2026, 2, 14))  # Saturday worked before 春节
    assert cal.is_working(D(2026, 9, 20))  # Sunday worked before 国庆
    assert cal.add(D(2026, 2, 13), 1, working=True) == D(2026, 2, 14)
    # 14 Feb (Sat, worked) + 1: the holiday runs 15–23 Feb, so Tuesday 24 Feb
    assert cal.add(D(2026, 2, 14), 1, working=True) == D(2026, 2, 24)
    assert cal.add(D(2026, 10, 8), 2, working=True) == D(2026, 10, 10)  # Thu, Fri, Sat(worked)


def test_counting_back_and_calendar_days(cal: Calendar) -> None:
    assert cal.add(D(2026, 2, 24), -1, working=True) == D(2026, 2, 14)
    assert cal.add(D(2026, 2, 13), 10) == D(2026, 2, 23)  # calendar days ignore holidays
    assert cal.add(D(2026, 2, 13), 0, working=True) == D(2026, 2, 13)


def test_a_calendar_without_working_days_is_refused() -> None:
    never = Calendar.from_manifest({"workdays": []})
    with pytest.raises(ValueError, match="no working days"):
        never.add(D(2026, 1, 1), 1, working=True)


def test_default_calendar_is_monday_to_friday_in_shanghai() -> None:
    plain = Calendar.from_manifest(None)
    assert plain.zone.key == "Asia/Shanghai"
    assert [plain.is_working(D(2026, 3, d)) for d in range(2, 9)] == [True] * 5 + [False] * 2


def test_deadline_in_days_working_days_and_from_a_field(cal: Calendar) -> None:
    entered = local(2026, 9, 28, 15, 0)  # Monday afternoon, local time
    assert deadline_day({"days": 5}, {}, entered, cal) == D(2026, 10, 3)
    assert deadline_day({"days": 5, "working": True}, {}, entered, cal) == D(2026, 10, 10)
    record = {"due": D(2026, 11, 2)}
    assert deadline_day({"field": "due"}, record, entered, cal) == D(2026, 11, 2)
    assert deadline_day({"field": "due"}, {"due": None}, entered, cal) is None
    late_evening_utc = dt.datetime(2026, 9, 27, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 28th locally
    assert deadline_day({"days": 1}, {}, late_evening_utc, cal) == D(2026, 9, 29)


def test_plan_reminders_and_overdue(cal: Calendar) -> None:
    spec = {"field": "due", "remind": {"before": [7, 1]}}
    entered = local(2026, 3, 2, 10, 0)
    planned = plan(spec, {"due": D(2026, 3, 20)}, entered, cal)
    assert [(p.kind, p.before) for p in planned] == [(REMIND, 7), (REMIND, 1), (OVERDUE, None)]
    assert planned[0].fire_at == local(2026, 3, 13, 9, 0)
    assert planned[1].fire_at == local(2026, 3, 19, 9, 0)
    assert planned[2].due_at == local(2026, 3, 20, 23, 59, 59)
    assert planned[2].fire_at == local(2026, 3, 21, 0, 0, 0)
    # entered 3 days before the deadline: the 7-day reminder is already past and skipped
    late = plan(spec, {"due": D(2026, 3, 20)}, local(2026, 3, 17, 10, 0), cal)
    assert [(p.kind, p.before) for p in late] == [(REMIND, 1), (OVERDUE, None)]
    # working-day deadlines count reminders in working days too
    working = plan(
        {"days": 3, "working": True, "remind": {"before": [1]}}, {}, local(2026, 2, 12, 9, 30), cal
    )
    assert working[-1].due_at == local(2026, 2, 24, 23, 59, 59)  # Fri 13, Sat 14 (worked), Tue 24
    assert working[0].fire_at == local(2026, 2, 14, 9, 0)  # one working day before: Sat 14
    assert plan({"field": "due"}, {}, entered, cal) == []
