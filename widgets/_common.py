"""Helpers shared by the widget modules; defines no widget of its own.

Everything here is defensive: user input and field specs may hold any type,
and no helper raises on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from widgets.base import Invalid

T = TypeVar("T")

Sample = tuple[Any, dict[str, Any], Any]
Samples = dict[str, list[Sample]]
Problems = list[tuple[str, str]]

try:
    SHANGHAI: tzinfo = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # pragma: no cover - tzdata missing: China has no DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")

_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)
_NUMBER_CHARS = 60  # longer strings are not numbers anyone typed

BAD_CHARACTERS = Invalid(
    "bad_characters", "含有无法保存的字符", "Contains characters that cannot be saved"
)


# ---------------------------------------------------------------- field specs


def get(field: Any, key: str) -> Any:
    """``field[key]`` when the spec is a mapping, else None."""
    if isinstance(field, Mapping):
        return field.get(key)
    return None


def is_int(value: Any) -> TypeGuard[int]:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def opt_int(field: Any, key: str) -> int | None:
    """An integer option (``5`` or ``5.0``), else None."""
    value = get(field, key)
    if is_int(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def opt_decimal(field: Any, key: str) -> Decimal | None:
    """A numeric option (a number or a numeric string), else None."""
    return to_decimal(get(field, key))


def opt_bool(field: Any, key: str) -> bool:
    return get(field, key) is True


def label_pair(label: Any, fallback: str) -> tuple[str, str]:
    """A label (a string, or ``{zh, en}``) as ``(zh, en)``; ``fallback`` fills gaps."""
    if isinstance(label, str) and label:
        return label, label
    if isinstance(label, Mapping):
        zh = label.get("zh")
        en = label.get("en")
        zh_text = zh if isinstance(zh, str) and zh else None
        en_text = en if isinstance(en, str) and en else None
        return zh_text or en_text or fallback, en_text or zh_text or fallback
    return fallback, fallback


def count_option(field: Any, key: str, problems: Problems, what: str) -> int | None:
    """A count option (0 or more); a string or a negative count is reported."""
    value = get(field, key)
    if value is None:
        return None
    number = opt_int(field, key)
    if number is None:
        if isinstance(value, str | float):
            problems.append((key, f"{key} must be a whole number of {what}"))
        return None
    if number < 0:
        problems.append((key, f"{key} must not be negative"))
        return None
    return number


def check_order(low: Any, high: Any, problems: Problems) -> None:
    """Report ``min`` above ``max`` (both already read, None when absent)."""
    try:
        if low is not None and high is not None and low > high:
            problems.append(("min", f"min ({low}) is greater than max ({high})"))
    except TypeError:  # incomparable values were reported by their own checks
        pass


def check_variant(field: Any, variants: tuple[str, ...], problems: Problems) -> None:
    """Report a ``widget`` display variant this type does not offer."""
    value = get(field, "widget")
    if isinstance(value, str) and value not in variants:
        problems.append(
            ("widget", f"widget '{value}' is not offered here; use {' or '.join(variants)}")
        )


# ---------------------------------------------------------------- values


def is_empty(raw: Any) -> bool:
    """None, a blank string, or an empty collection."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple | set | frozenset | dict):
        return len(raw) == 0
    return False


def normalized(text: str) -> str:
    """Full-width digits and punctuation folded (for numbers, phones, ids): NFKC, stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def has_bad_chars(text: str) -> bool:
    """Control characters or lone surrogates, which the database refuses."""
    return _BAD_CHARS.search(text) is not None


def to_decimal(raw: Any) -> Decimal | None:
    """A finite number from a number or a numeric string ('1,234.5', '１２'), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        if abs(raw) > 10**30:
            return None
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return None
        return Decimal(repr(raw))
    if isinstance(raw, Decimal):
        if not raw.is_finite() or abs(raw.adjusted()) > 30:
            return None
        return raw
    if not isinstance(raw, str) or len(raw) > _NUMBER_CHARS:
        return None
    text = normalized(raw).replace("\u2212", "-").replace(" ", "")
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    if not _DECIMAL.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only literals
        return None
    if abs(value.adjusted()) > 30:
        return None
    return value


def decimal_places(value: Decimal) -> int:
    """Digits after the point, ignoring trailing zeros (no context rounding)."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return 0
    kept = list(digits)
    while exponent < 0 and kept and kept[-1] == 0:
        kept.pop()
        exponent += 1
    return max(0, -exponent) if kept else 0


def to_number(value: Any) -> Decimal | None:
    """A parsed numeric value (int, float or Decimal, finite) as a Decimal, else None."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return to_decimal(value)
    return None


def fmt_number(value: Any) -> str:
    """A number as people write it: no exponent, no trailing zeros."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) <= 30:
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    return str(value)


def scalar_text(raw: Any) -> str | None:
    """A stripped string from a string or a finite number (choice values), else None."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float | Decimal):
        number = to_decimal(raw)
        return None if number is None else fmt_number(number)
    return None


def split_values(raw: Any, limit: int = 1000) -> list[Any] | None:
    """Several values: a list, or a string separated by , ， 、 ; or new lines.

    None when there are more than ``limit`` (nobody means that many).
    """
    if isinstance(raw, list | tuple):
        items = list(raw)
    elif isinstance(raw, str):
        if len(raw) > limit * 100:
            return None
        items = [part for part in re.split(r"[,，、;；\n]+", raw)]
    else:
        items = [raw]
    items = [item for item in items if not (isinstance(item, str) and not item.strip())]
    if len(items) > limit:
        return None
    return items


def parse_many(
    raw: Any,
    multiple: bool,
    one: Callable[[Any], T | None],
    bad: Invalid,
    duplicate: Invalid,
    only_one: Invalid,
) -> tuple[T | list[T] | None, Invalid | None]:
    """Parse one value, or several when ``multiple``; each through ``one``."""
    if is_empty(raw):
        return None, None
    items = split_values(raw) if multiple or isinstance(raw, list | tuple) else [raw]
    if items is None:
        return None, bad
    if not items:
        return None, None
    values: list[T] = []
    for item in items:
        value = one(item)
        if value is None:
            return None, bad
        if value in values:
            return None, duplicate
        values.append(value)
    if multiple:
        return values, None
    if len(values) > 1:
        return None, only_one
    return values[0], None


def check_many(
    value: Any, multiple: bool, ok: Callable[[Any], bool], bad: Invalid, duplicate: Invalid
) -> Invalid | None:
    """Validate one value, or a list without duplicates when ``multiple``."""
    if multiple:
        if not isinstance(value, list) or not value:
            return bad
        if not all(ok(item) for item in value):
            return bad
        if len(set(value)) != len(value):
            return duplicate
        return None
    return None if ok(value) else bad


# ---------------------------------------------------------------- dates

_DATE = re.compile(
    r"(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
    r"(?:[ T]00:00(?::00)?)?",
    re.ASCII,
)


def parse_date_text(raw: str) -> date | str:
    """A date from 'YYYY-MM-DD', 'YYYY/MM/DD', 'YYYY年M月D日' or 'YYYYMMDD'.

    Returns the date, or the code ``not_a_date`` / ``invalid_date``.
    """
    if len(raw) > 40:
        return "not_a_date"
    match = _DATE.fullmatch(normalized(raw))
    if not match:
        return "not_a_date"
    groups = [g for g in match.groups() if g is not None]
    try:
        return date(int(groups[0]), int(groups[1]), int(groups[2]))
    except ValueError:
        return "invalid_date"


def to_date(raw: Any) -> date | None:
    """A date option: a date or a date string, else None."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, str):
        parsed = parse_date_text(raw)
        return parsed if isinstance(parsed, date) else None
    return None


def today() -> date:
    """Today in China."""
    return datetime.now(SHANGHAI).date()


_DATETIME = re.compile(
    r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
    r"(?:\s*[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
    r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)


def _zone(text: str | None) -> tzinfo:
    if not text:
        return SHANGHAI
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def to_utc(moment: datetime) -> datetime | None:
    """An aware UTC datetime; a naive one is taken as China time."""
    try:
        if moment.tzinfo is None or moment.utcoffset() is None:
            moment = moment.replace(tzinfo=SHANGHAI)
        result = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not 1000 <= result.year <= 9999:
        return None
    return result


def parse_datetime_text(raw: str) -> datetime | None:
    """A UTC datetime from ISO 8601, 'YYYY-MM-DD HH:MM' or 'YYYY年M月D日 HH:MM'."""
    if len(raw) > 60:
        return None
    text = normalized(raw)
    text = re.sub(r"年|月", "-", text).replace("日", " ").strip()
    match = _DATETIME.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second, fraction, zone = match.groups()
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0").ljust(6, "0")),
                tzinfo=_zone(zone),
            )
        else:
            moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return to_utc(moment)


def to_datetime(raw: Any) -> datetime | None:
    """A datetime option or input: a datetime, a date (midnight) or a string, in UTC."""
    if isinstance(raw, datetime):
        return to_utc(raw)
    if isinstance(raw, date):
        return to_utc(datetime(raw.year, raw.month, raw.day))
    if isinstance(raw, str):
        return parse_datetime_text(raw)
    return None


def local_text(moment: datetime) -> str:
    """A moment as China time, 'YYYY-MM-DD HH:MM'."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
