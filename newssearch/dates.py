"""Dates as news text writes them: absolute timestamps, "2 days ago", and durations.

Engine-free and clock-free: anything relative is resolved against a ``now`` the caller
passes in, so the same input gives the same answer in a test, a cron job or a rebuild.
Every result is an aware UTC datetime; every failure is a :class:`BadInput`.
"""
from __future__ import annotations

import math
import re
import warnings
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Optional

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Iterator

from dateutil import parser as _dateutil
from dateutil.tz import tzoffset

from . import dates_intl
from .errors import BadInput
from .model import to_utc

__all__ = ["parse_datetime", "parse_relative", "parse_duration", "TZ_ABBREVIATIONS", "day_first", "ambiguity"]

_H = 3600
# Abbreviations are ambiguous across the world; each gets the meaning most common in
# English-language news datelines and feeds. Where two readings compete we chose:
#   IST  = India Standard Time (+05:30), by far the most frequent use in news; Israel's
#          summer time is the unambiguous IDT (+03:00), and Israel's winter time has no
#          unambiguous abbreviation (write the offset).
#   CST  = US Central (-06:00), not China;  BST = British Summer Time (+01:00), not Bangladesh;
#   AST  = Arabia Standard Time (+03:00), as Gulf and Saudi outlets use it, not Atlantic.
# An abbreviation not listed here is rejected rather than silently read as UTC.
TZ_ABBREVIATIONS: dict[str, int] = {
    "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "WET": 0,
    "EST": -5 * _H, "EDT": -4 * _H, "CST": -6 * _H, "CDT": -5 * _H,
    "MST": -7 * _H, "MDT": -6 * _H, "PST": -8 * _H, "PDT": -7 * _H,
    "AKST": -9 * _H, "AKDT": -8 * _H, "HST": -10 * _H,
    "BST": 1 * _H, "WEST": 1 * _H, "CET": 1 * _H, "CEST": 2 * _H, "MET": 1 * _H, "MEST": 2 * _H,
    "EET": 2 * _H, "EEST": 3 * _H, "MSK": 3 * _H, "IDT": 3 * _H, "AST": 3 * _H, "GST": 4 * _H,
    "WAT": 1 * _H, "CAT": 2 * _H, "SAST": 2 * _H, "EAT": 3 * _H,
    "PKT": 5 * _H, "IST": 5 * _H + 1800, "HKT": 8 * _H, "SGT": 8 * _H, "AWST": 8 * _H,
    "JST": 9 * _H, "KST": 9 * _H, "ACST": 9 * _H + 1800, "ACDT": 10 * _H + 1800,
    "AEST": 10 * _H, "AEDT": 11 * _H, "NZST": 12 * _H, "NZDT": 13 * _H,
}

_SECOND, _MINUTE, _HOUR, _DAY = 1, 60, 3600, 86400
# Calendar units are fixed lengths: a month is 30 days and a year 365 days. Good enough
# for "2 months ago" and `when:1m`, and it keeps arithmetic independent of the calendar.
_WEEK, _MONTH, _YEAR = 7 * _DAY, 30 * _DAY, 365 * _DAY

_AGO_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _SECOND),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), _WEEK),
    **dict.fromkeys(("mo", "mos", "month", "months"), _MONTH),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), _YEAR),
}
# A bare "m" is left out of "... ago" on purpose: feeds use "5m ago" for minutes while the
# query language uses `1m` for a month, so we refuse to guess.
_DURATION_UNITS = {**_AGO_UNITS, "m": _MONTH}

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "a couple of": 2, "a few": 3,
}
_FIXED_RELATIVE = {"now": 0, "just now": 0, "right now": 0, "moments ago": 0,
                   "a moment ago": 0, "today": 0, "yesterday": _DAY}

_AGO_RE = re.compile(
    r"(?:(?P<num>\d+(?:\.\d+)?)\s*|(?P<word>"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\s+)(?P<unit>" + "|".join(sorted(_AGO_UNITS, key=len, reverse=True)) + r")\.?\s+ago",
    re.IGNORECASE,
)
_DURATION_PART = (
    r"(\d+(?:\.\d+)?)\s*(" + "|".join(sorted(_DURATION_UNITS, key=len, reverse=True)) + r")\s*"
)
_DURATION_PART_RE = re.compile(_DURATION_PART, re.IGNORECASE)
_DURATION_RE = re.compile(f"(?:{_DURATION_PART})+", re.IGNORECASE)
_EPOCH_RE = re.compile(r"[+-]?\d{9,11}(?:\.\d+)?")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}|$)")
_TZ_WORD_RE = re.compile(r"\b[A-Za-z]{1,5}\b")
# Two defaults that differ in year, month and day: dateutil fills whatever the text lacks
# from the default, so a field that comes out different was never in the text.
_DEFAULT_A = datetime(2001, 1, 1)
_DEFAULT_B = datetime(2002, 2, 2)


class _UnknownZone(Exception):
    pass


_DAYFIRST: ContextVar[bool] = ContextVar("newssearch_dayfirst", default=False)
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})\b")


@contextmanager
def day_first(on: bool = True) -> Iterator[None]:
    """Within the block, numeric dates are read day first: ``12/08/2025`` is 12 August."""
    token = _DAYFIRST.set(bool(on))
    try:
        yield
    finally:
        _DAYFIRST.reset(token)


def ambiguity(text: str) -> Optional[str]:
    """A warning when *text* is a numeric date that reads two ways (``12/08/2025``) and was
    read month first by default; None when it is not ambiguous or dayfirst was set."""
    m = _NUMERIC_DATE.match(text)
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    if a == b or a > 12 or b > 12 or a == 0 or b == 0:
        return None
    if _DAYFIRST.get():
        return None  # the user said how their dates are written
    return (f"date {_show(text.strip())} is ambiguous: read month first (month {a}, day {b}); "
            "set dayfirst (index --dayfirst, or dayfirst = true in the config) if the day comes first")


def _show(text: str) -> str:
    """*text* quoted for a one-line message, cut short when long."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _squash(text: str) -> str:
    return " ".join(text.split()).lower()


def _relative_seconds(text: str) -> Optional[float]:
    """Seconds before the reference time that *text* means, or None if it is not relative."""
    key = _squash(text)
    if key in _FIXED_RELATIVE:
        return float(_FIXED_RELATIVE[key])
    m = _AGO_RE.fullmatch(key)
    if not m:
        return dates_intl.relative_seconds(key)
    count = _NUMBER_WORDS[m.group("word")] if m.group("word") else float(m.group("num"))
    return count * _AGO_UNITS[m.group("unit")]


def parse_relative(text: str, *, now: datetime) -> Optional[datetime]:
    """Resolve a relative expression against *now*; None when *text* is not one.

    Understood (any case, any spacing): "now", "just now", "today" (= *now*),
    "yesterday" (= *now* minus one day), and "<n> <unit> ago" where n is a number or
    a/an/one..ten and unit is seconds, minutes (min/mins), hours (h/hr/hrs), days,
    weeks, months (30 days) or years (365 days). A naive *now* is taken as UTC.
    """
    seconds = _relative_seconds(text)
    if seconds is None:
        return None
    try:
        return to_utc(now) - timedelta(seconds=seconds)
    except OverflowError:
        raise BadInput(f"date out of range: {_show(text)}") from None


def _tzinfos(name: Optional[str], offset: Optional[int]) -> Optional[tzinfo]:
    # Called by dateutil for every parse: our table first, then a numeric offset;
    # an unknown name must not fall through to the machine's local zone or to UTC.
    if name:
        if name.upper() in TZ_ABBREVIATIONS:
            return tzoffset(name.upper(), TZ_ABBREVIATIONS[name.upper()])
        if offset is None:
            raise _UnknownZone(name)
    if offset is not None:
        return tzoffset(None, offset)
    return None


def _upper_zone(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.upper() if word.upper() in TZ_ABBREVIATIONS else word


def _parse_absolute(text: str) -> datetime:
    # month names of other languages in English ("13 août 2025"), then dateutil
    text = dates_intl.english_months(text) or text
    # dateutil only sees upper-case words as zone names; "edt" is as clear as "EDT".
    zoned = _TZ_WORD_RE.sub(_upper_zone, text)
    dayfirst = _DAYFIRST.get()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = _dateutil.parse(zoned, default=_DEFAULT_A, tzinfos=_tzinfos, dayfirst=dayfirst)
        second = _dateutil.parse(zoned, default=_DEFAULT_B, tzinfos=_tzinfos, dayfirst=dayfirst)
    if first.replace(tzinfo=None) != second.replace(tzinfo=None):
        raise BadInput(f"incomplete date (needs year, month and day): {_show(text)}")
    return first


def parse_datetime(text: str, *, now: Optional[datetime] = None) -> datetime:
    """Parse a date as news sources write it into an aware UTC datetime.

    Accepts ISO 8601 ("2025-08-13", "2025-08-13T10:00:00+03:00", "...Z"), RFC 2822 as in
    RSS ("Wed, 13 Aug 2025 10:00:00 +0300" or "... GMT"), written dates ("August 13, 2025",
    "13 Aug 2025 10:00 EDT"), epoch seconds (9 to 11 digits) and the relative forms of
    :func:`parse_relative`, which need *now*. Zone abbreviations are read with
    :data:`TZ_ABBREVIATIONS`; a time with no zone at all is taken as UTC.

    Raises BadInput, naming the text, when it is not a complete date (year, month and
    day), names an unknown zone, or is relative and *now* is None.
    """
    if not isinstance(text, str):
        raise BadInput(f"not a date: {text!r:.60}")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise BadInput("empty date")
    if _relative_seconds(cleaned) is not None:
        if now is None:
            raise BadInput(f"relative date {_show(cleaned)} needs a reference time")
        return parse_relative(cleaned, now=now)  # type: ignore[return-value]
    try:
        if _EPOCH_RE.fullmatch(cleaned):
            return datetime.fromtimestamp(float(cleaned), tz=timezone.utc)
        if _ISO_RE.match(cleaned):
            # fast path for the corpora's ISO dates, ~20x cheaper than dateutil
            try:
                return to_utc(datetime.fromisoformat(cleaned))  # type: ignore[return-value]
            except ValueError:
                pass  # e.g. "Z" before Python 3.11, or a space before the offset
        return to_utc(_parse_absolute(cleaned))  # type: ignore[return-value]
    except _UnknownZone as exc:
        raise BadInput(f"unknown time zone {_show(exc.args[0])} in date {_show(cleaned)}") from None
    except (ValueError, OverflowError, ArithmeticError, TypeError):
        # dateutil's ParserError is a ValueError; out-of-range fields raise the others
        raise BadInput(f"not a date: {_show(cleaned)}") from None


def parse_duration(text: str) -> timedelta:
    """Parse a span such as "90d", "24h", "30min", "1m" or "1y6m" into a timedelta.

    Units: s (seconds), min (minutes), h (hours), d (days), w (weeks), m or mo (months of
    30 days), y (years of 365 days); longer spellings ("days", "hours") work too. Note
    that "m" is a month, as in the query language's `when:1m`; minutes are "min".
    Raises BadInput on anything else.
    """
    cleaned = text.strip().lower() if isinstance(text, str) else ""
    if not _DURATION_RE.fullmatch(cleaned):
        raise BadInput(f"not a duration: {_show(str(text))} (try 7d, 24h, 30min, 1m for a month, 1y)")
    seconds = sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART_RE.findall(cleaned))
    try:
        if not math.isfinite(seconds):
            raise OverflowError
        return timedelta(seconds=seconds)
    except OverflowError:
        raise BadInput(f"duration too long: {_show(text)}") from None
