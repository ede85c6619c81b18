"""Scoring periods: months, quarters, years and terms, bounded in the deployment's time zone.

A period key names one: ``2026`` (a year), ``2026-Q2`` (a quarter), ``2026-03``
(a month), ``T2021`` (a term of office: ``TERM_YEARS`` years from 1 January of
its first year; local congress terms run 2021–2026, 2026–2031 …). A rule scores
per its own period kind; a key of a finer kind means "the rule's period up to
the end of that one" (``2026-Q2`` of a yearly rule: 1 January to 30 June,
the quarterly 亮分 of the annual score).

Boundaries are local midnights (``Asia/Shanghai`` by default): a record placed
by a datetime at 2026-01-01 00:30 in Shanghai (2025-12-31 16:30 UTC) falls in 2026.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

KINDS = ("month", "quarter", "year", "term")
RANK = {kind: i for i, kind in enumerate(KINDS)}
TERM_YEARS = 5
TERM_ANCHOR = 2021  # the first year of a term of the county and township congresses
_KEY = re.compile(r"^(?:(\d{4})|(\d{4})-Q([1-4])|(\d{4})-(\d{2})|T(\d{4}))$")


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    key: str
    kind: str
    start: dt.date  # first local day
    end: dt.date  # the local day after the last

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def utc(self, tz: str) -> tuple[dt.datetime, dt.datetime]:
        """The period as UTC instants [start, end) for datetime columns."""
        zone = ZoneInfo(tz)
        return (_utc_midnight(self.start, zone), _utc_midnight(self.end, zone))


def _utc_midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.UTC)


def _year(y: int) -> Period:
    return Period(str(y), "year", dt.date(y, 1, 1), dt.date(y + 1, 1, 1))


def _quarter(y: int, q: int) -> Period:
    start = dt.date(y, 3 * q - 2, 1)
    end = dt.date(y + 1, 1, 1) if q == 4 else dt.date(y, 3 * q + 1, 1)
    return Period(f"{y}-Q{q}", "quarter", start, end)


def _month(y: int, m: int) -> Period:
    end = dt.date(y + 1, 1, 1) if m == 12 else dt.date(y, m + 1, 1)
    return Period(f"{y}-{m:02d}", "month", dt.date(y, m, 1), end)


def _term(y: int) -> Period:
    return Period(f"T{y}", "term", dt.date(y, 1, 1), dt.date(y + TERM_YEARS, 1, 1))


def parse(key: str) -> Period:
    """The period a key names; ``PeriodError`` for anything else."""
    match = _KEY.match(key.strip()) if isinstance(key, str) else None
    if not match:
        raise PeriodError(
            f"bad period {key!r}: expected 2026, 2026-Q2, 2026-03 or T2021 (a term's first year)"
        )
    year, qy, q, my, m, ty = match.groups()
    try:
        if year:
            return _year(int(year))
        if qy:
            return _quarter(int(qy), int(q))
        if my:
            if not 1 <= int(m) <= 12:
                raise PeriodError(f"bad month in period {key!r}")
            return _month(int(my), int(m))
        return _term(int(ty))
    except ValueError as exc:  # year 0 or 9999+
        raise PeriodError(f"bad period {key!r}: {exc}") from exc


def containing(kind: str, day: dt.date) -> Period:
    """The period of ``kind`` that holds ``day``."""
    if kind == "year":
        return _year(day.year)
    if kind == "quarter":
        return _quarter(day.year, (day.month - 1) // 3 + 1)
    if kind == "month":
        return _month(day.year, day.month)
    if kind == "term":
        first = TERM_ANCHOR + (day.year - TERM_ANCHOR) // TERM_YEARS * TERM_YEARS
        return _term(first)
    raise PeriodError(f"unknown period kind {kind!r}")


def window(rule_kind: str, key: str) -> Period:
    """What a rule of ``rule_kind`` scores for ``key``: from the start of the rule's period
    holding it to the end of ``key`` (the whole period when ``key`` is of the rule's kind)."""
    period = parse(key)
    if RANK[period.kind] > RANK[rule_kind]:
        raise PeriodError(
            f"period {key!r} is a {period.kind}; this rule scores per {rule_kind}: "
            f"give a {rule_kind} or a shorter period within one"
        )
    whole = containing(rule_kind, period.start)
    return Period(period.key, period.kind, whole.start, period.end)


def local_today(tz: str, now: dt.datetime | None = None) -> dt.date:
    moment = now or dt.datetime.now(dt.UTC)
    return moment.astimezone(ZoneInfo(tz)).date()


def local_day(value: object, tz: str) -> dt.date | None:
    """The local day of a date or datetime value (None for anything else)."""
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(ZoneInfo(tz)).date()
    if isinstance(value, dt.date):
        return value
    return None


def recent(kind: str, today: dt.date, count: int) -> list[Period]:
    """The ``count`` periods of ``kind`` up to the one holding ``today``, newest first."""
    out = [containing(kind, today)]
    while len(out) < count:
        out.append(containing(kind, out[-1].start - dt.timedelta(days=1)))
    return out
