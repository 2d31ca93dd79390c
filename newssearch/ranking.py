"""Freshness re-ranking for ``sort="fresh"``; engine-free.

score x 2^(-age / FRESH_HALF_LIFE): an article a half-life old counts half as much as an
equally relevant one published at ``now``. Articles without a date count as infinitely old
(their factor is 0), so they come last, in relevance order.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, List, Optional, Sequence, TypeVar

__all__ = ["FRESH_HALF_LIFE", "FRESH_DEPTH", "freshness", "rerank_fresh"]

FRESH_HALF_LIFE = timedelta(days=2)
"""Age at which freshness halves a score: news relevance fades in days, not months."""
FRESH_DEPTH = 500
"""How many of the most relevant matches are re-ranked by freshness (the rest follow)."""

T = TypeVar("T")


def freshness(published: Optional[datetime], now: datetime) -> float:
    """The factor 2^(-age/half-life), 1.0 for an article from ``now`` (or the future), 0 for undated."""
    if published is None:
        return 0.0
    age = max((now - published).total_seconds(), 0.0)
    return 0.5 ** (age / FRESH_HALF_LIFE.total_seconds())


def rerank_fresh(
    items: Sequence[T],
    *,
    now: Optional[datetime],
    score: Callable[[T], float],
    published: Callable[[T], Optional[datetime]],
    ident: Callable[[T], str],
) -> List[T]:
    """*items* ordered by score x freshness, ties by date (newest first) then id.

    Without *now* the newest date among *items* stands in for it, so results repeat.
    """
    if now is None:
        dates = [published(i) for i in items if published(i) is not None]
        now = max(dates) if dates else None  # type: ignore[type-var]
    if now is None:
        return sorted(items, key=lambda i: (-score(i), ident(i)))

    def key(item: T) -> tuple:
        when = published(item)
        return (-score(item) * freshness(when, now), -(when.timestamp() if when else float("-inf")), ident(item))

    return sorted(items, key=key)
