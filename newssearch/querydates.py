"""Date scopes of the query language -> (start, end) in UTC; engine-free and clock-free.

``when:7d``, ``since:yesterday``, ``until:2025-08-12``, ``date:[2025-08-01 TO *]``,
``date:"last week"``... Every relative value is resolved against the ``now`` the caller
passes; without one it is a :class:`~newssearch.errors.BadInput` (the parser turns that
into a warning). Calendar words use UTC days and ISO weeks (Monday first):

=============  ==============================================================
today          00:00 today .. end of today
yesterday      the whole previous day
this week      Monday 00:00 of this week .. end of Sunday
last week      the whole previous Monday..Sunday
this month     the 1st 00:00 .. end of the month (also ``this year``)
last month     the whole previous calendar month (also ``last year``)
past week      the last 7 x 24 hours (also ``past month`` = 30 days, ``past year``)
=============  ==============================================================
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Optional, Tuple

from .dates import parse_datetime, parse_duration
from .errors import BadInput
from .model import to_utc

__all__ = ["DATE_SCOPES", "resolve_date_scope", "date_span"]

DATE_SCOPES = ("when", "since", "after", "until", "before", "date")
"""Scope names that take a date (``when:`` takes a span back from now)."""

Span = Tuple[Optional[datetime], Optional[datetime]]
_TICK = timedelta(microseconds=1)
_YEAR_RE = re.compile(r"\d{4}")
_MONTH_RE = re.compile(r"(\d{4})-(\d{1,2})")
_DAY_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_RANGE_RE = re.compile(r"\[\s*(.*?)\s+to\s+(.*?)\s*\]?", re.IGNORECASE | re.DOTALL)


def _need(now: Optional[datetime], text: str) -> datetime:
    if now is None:
        raise BadInput(f"relative date {text!r} needs a reference time (pass now=)")
    return to_utc(now)  # type: ignore[return-value]


def _day(dt: datetime) -> datetime:
    return dt.replace(hour=0, minute=0, second=0, microsecond=0)


_END_OF_TIME = datetime.max.replace(tzinfo=timezone.utc)


def _month_span(year: int, month: int) -> Span:
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    if (year, month) == (9999, 12):
        return start, _END_OF_TIME
    nxt = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return start, nxt - _TICK


def _day_end(start: datetime) -> datetime:
    """The last instant of *start*'s day (9999-12-31 ends at the end of time, not in an overflow)."""
    try:
        return start + timedelta(days=1) - _TICK
    except OverflowError:
        return _END_OF_TIME


def _calendar_word(key: str, now: datetime) -> Span:
    today = _day(now)
    if key == "today":
        return today, today + timedelta(days=1) - _TICK
    if key == "yesterday":
        return today - timedelta(days=1), today - _TICK
    which, unit = key.split()
    if which == "past":
        days = {"week": 7, "month": 30, "year": 365}[unit]
        return now - timedelta(days=days), now
    back = which in ("last", "previous")
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        if back:
            monday -= timedelta(days=7)
        return monday, monday + timedelta(days=7) - _TICK
    if unit == "month":
        year, month = now.year, now.month
        if back:
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        return _month_span(year, month)
    year = now.year - back
    return datetime(year, 1, 1, tzinfo=timezone.utc), datetime(year + 1, 1, 1, tzinfo=timezone.utc) - _TICK


_CALENDAR = re.compile(r"today|yesterday|(?:this|last|previous|past)\s+(?:week|month|year)")


def date_span(text: str, *, now: Optional[datetime] = None) -> Span:
    """The time span one date value covers: a bare day is that whole day, ``2025-08`` that
    month, ``2025`` that year, a calendar word its span, a time or "2 days ago" one instant.
    """
    cleaned = " ".join(text.split()).lower().strip('"')
    if not cleaned:
        raise BadInput("empty date")
    if _CALENDAR.fullmatch(cleaned):
        return _calendar_word(cleaned, _need(now, text))
    try:
        if _YEAR_RE.fullmatch(cleaned):
            year = int(cleaned)
            if year < 1:
                raise ValueError
            return datetime(year, 1, 1, tzinfo=timezone.utc), datetime(year, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
        m = _MONTH_RE.fullmatch(cleaned)
        if m:
            return _month_span(int(m.group(1)), int(m.group(2)))
    except ValueError:
        raise BadInput(f"not a date: {text!r}") from None
    if _DAY_RE.fullmatch(cleaned):
        start = parse_datetime(cleaned)
        return start, _day_end(start)
    try:
        # a span back from now: since:7d == the last 7 days
        ago = _need(now, text) if _looks_like_duration(cleaned) else None
        if ago is not None:
            point = ago - parse_duration(cleaned)
            return point, point
    except OverflowError:
        raise BadInput(f"date out of range: {text!r}") from None
    point = parse_datetime(text, now=now)
    return point, point


def _looks_like_duration(text: str) -> bool:
    try:
        parse_duration(text)
    except BadInput:
        return False
    return True


def resolve_date_scope(scope: str, value: str, *, now: Optional[datetime] = None) -> Span:
    """(start, end) for one date scope (``when``, ``since`` ...) and its value; BadInput if unreadable.

    ``since:``/``after:`` D start at the beginning of D; ``until:`` D ends at the end of D;
    ``before:`` D ends just before D begins; ``date:`` D is D; ``when:`` 7d is the last 7 days.
    """
    try:
        return _resolve(scope, value, now)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, BadInput):
            raise
        raise BadInput(f"date out of range: {value!r}") from None


def _resolve(scope: str, value: str, now: Optional[datetime]) -> Span:
    scope = scope.lower()
    value = value.strip()
    if scope == "when":
        cleaned = " ".join(value.split()).lower().strip('"')
        if _CALENDAR.fullmatch(cleaned):
            return _calendar_word(cleaned, _need(now, value))
        span = parse_duration(cleaned)
        current = _need(now, value)
        try:
            return current - span, None
        except OverflowError:
            raise BadInput(f"span too long: {value!r}") from None
    if scope == "date" and value.startswith("["):
        m = _RANGE_RE.fullmatch(value)
        if not m:
            raise BadInput(f"not a date range: {value!r} (write [A TO B], * for an open end)")
        lo_text, hi_text = m.group(1).strip(), m.group(2).strip().rstrip("]").strip()
        lo = None if lo_text in ("", "*") else date_span(lo_text, now=now)[0]
        hi = None if hi_text in ("", "*") else date_span(hi_text, now=now)[1]
        if lo is not None and hi is not None and lo > hi:
            raise BadInput(f"date range {value!r} ends before it starts")
        return lo, hi
    start, end = date_span(value, now=now)
    if scope in ("since", "after"):
        return start, None
    if scope == "until":
        return None, end
    if scope == "before":
        return None, (start - _TICK) if start is not None else None
    return start, end
