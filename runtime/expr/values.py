"""Python-side meaning of the operations both compilers must agree on.

The SQL compiler reproduces exactly these computations (the same IEEE double
operations in the same order), so that Python and the database agree.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

#: beyond this magnitude integers are not exact in a double; arithmetic there
#: is done in floating point, as PostgreSQL's double precision does
EXACT = 2**53
#: doubles at or beyond this magnitude are whole numbers
WHOLE = 2.0**52
FIRST_DAY = 1  # date.min.toordinal()
LAST_DAY = date.max.toordinal()


def number(value: float) -> Any:
    """NaN (inf - inf …) is null, as in SQLite."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def arith(op: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if op == "div":
        return None if b == 0 else number(float(a) / float(b))
    if op == "mod":
        return modulo(a, b)
    exact = isinstance(a, int) and isinstance(b, int) and abs(a) <= EXACT and abs(b) <= EXACT
    if exact:
        result = a + b if op == "add" else a - b if op == "sub" else a * b
        if abs(result) <= EXACT:
            return result
    x, y = float(a), float(b)
    return number(x + y if op == "add" else x - y if op == "sub" else x * y)


def floor(q: float) -> float:
    """``floor`` for doubles as the SQL side computes it (``q`` itself when whole or huge)."""
    if not abs(q) < WHOLE:
        return q
    return float(math.floor(q))


def modulo(a: Any, b: Any) -> Any:
    """Remainder with the sign of the divisor (as in Python and spreadsheets); % 0 is null."""
    if b == 0:
        return None
    if isinstance(a, int) and isinstance(b, int) and abs(a) < WHOLE and abs(b) < WHOLE:
        return a % b
    x, y = float(a), float(b)
    return number(x - y * floor(x / y))


def round_half_away(x: Any, digits: int) -> Any:
    """Round half away from zero to ``digits`` decimals (negative: tens, hundreds …)."""
    if x is None:
        return None
    value = float(x)
    if math.isnan(value) or math.isinf(value):
        return number(value)
    scale = 10.0 ** abs(digits)
    magnitude = abs(value)
    if digits >= 0 and magnitude >= WHOLE:
        result = magnitude
    else:
        y = magnitude * scale if digits >= 0 else magnitude / scale
        whole = y if y >= WHOLE else float(math.trunc(y))
        if y - whole >= 0.5:
            whole += 1.0
        result = whole / scale if digits >= 0 else whole * scale
    result = -result if value < 0 else result
    if digits <= 0 and abs(result) < EXACT:
        return int(result)
    return result


def as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def day_of(value: Any) -> date | None:
    """The (UTC) date of a date or datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value).date()
    return value if isinstance(value, date) else None


def add_days(day: Any, count: Any) -> date | None:
    """``day`` plus the whole part of ``count`` days; null outside years 1–9999."""
    if day is None or count is None:
        return None
    amount = float(count)
    if not abs(amount) <= LAST_DAY:
        return None
    ordinal = day.toordinal() + math.trunc(amount)
    if not FIRST_DAY <= ordinal <= LAST_DAY:
        return None
    return date.fromordinal(ordinal)


def datetime_key(moment: datetime) -> str:
    """SQLite's comparison key of a datetime: UTC ``YYYY-MM-DD HH:MM:SS`` + 6 digits of µs."""
    moment = as_utc(moment)
    return moment.isoformat(sep=" ", timespec="seconds")[:19] + f"{moment.microsecond:06d}"


def sqlite_value(value: Any) -> Any:
    """A Python value as SQLite stores it (dates and datetimes as ISO text)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value
