"""Coverage over time: matches per day, ISO week or month, and a terminal sparkline.

:meth:`NewsIndex.timeline` asks the engine for the matches' day facet (every match
counted, over the whole index) and :func:`build_timeline` bins those days into periods,
filling the empty ones so a chart's gaps are real gaps.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from .model import Period, Timeline

__all__ = ["PERIODS", "MAX_PERIODS", "build_timeline", "period_start", "period_label", "sparkline"]

PERIODS = ("day", "week", "month")
MAX_PERIODS = 5_000
"""More periods than this (a --since decades back by day) are clipped to the matches' span."""
BARS = "▁▂▃▄▅▆▇█"


def period_start(day: date, by: str) -> date:
    """The first day of the period *day* falls in: itself, its ISO week's Monday, its month's 1st."""
    if by == "day":
        return day
    if by == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_label(start: date, by: str) -> str:
    """2025-08-13, 2025-W33 (ISO week, as the week facet names it) or 2025-08."""
    if by == "day":
        return start.isoformat()
    if by == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year:04d}-{start.month:02d}"


def _next(start: date, by: str) -> date:
    if by == "day":
        return start + timedelta(days=1)
    if by == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def _span(first: date, last: date, by: str) -> List[date]:
    out: List[date] = []
    at = period_start(first, by)
    end = period_start(last, by)
    while at <= end and len(out) <= MAX_PERIODS:
        out.append(at)
        at = _next(at, by)
    return out


def build_timeline(
    query: str,
    by: str,
    days: Mapping[str, int],
    *,
    total: int,
    warnings: Sequence[str] = (),
    since: Optional[datetime] = None,
    until: Optional[datetime] = None,
) -> Timeline:
    """A :class:`Timeline` from counts per day (``{"2025-08-13": 4, ...}``).

    The periods run from *since* (else the first match) to *until* (else the last
    match), every one present; a span of more than :data:`MAX_PERIODS` periods is
    clipped to the matches' own span.
    """
    binned: Dict[date, int] = {}
    for key, count in days.items():
        day = date.fromisoformat(key)
        start = period_start(day, by)
        binned[start] = binned.get(start, 0) + int(count)
    dated = sum(binned.values())
    if not binned:
        return Timeline(query=query, by=by, periods=(), total=total, undated=total - dated, warnings=tuple(warnings))
    first, last = min(binned), max(binned)
    lo = min(first, since.date()) if since is not None else first
    hi = max(last, until.date()) if until is not None else last
    starts = _span(lo, hi, by)
    if len(starts) > MAX_PERIODS:
        starts = _span(first, last, by)
    periods = tuple(Period(start=s, label=period_label(s, by), count=binned.get(s, 0)) for s in starts)
    return Timeline(query=query, by=by, periods=periods, total=total, undated=total - dated, warnings=tuple(warnings))


def sparkline(counts: Sequence[int], width: Optional[int] = None) -> str:
    """One bar per count (▁ to █, a space for 0), scaled to the largest; with *width*,
    neighbouring counts are summed so the line fits in that many characters."""
    values = [int(c) for c in counts]
    if width is not None and width > 0 and len(values) > width:
        step = -(-len(values) // width)
        values = [sum(values[i : i + step]) for i in range(0, len(values), step)]
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values)
    out = []
    for v in values:
        out.append(" " if v <= 0 else BARS[min(len(BARS) - 1, (v * len(BARS) - 1) // top)])
    return "".join(out)


def rows(tl: Timeline) -> List[Tuple[str, int]]:
    """(period, count) pairs, the rows of ``timeline --csv``."""
    return [(p.label, p.count) for p in tl.periods]
