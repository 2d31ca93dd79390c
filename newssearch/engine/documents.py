"""Engine-neutral rules: how an article becomes an :class:`~newssearch.engine.base.IndexDoc`,
and the orders, buckets and bounds every engine applies the same way.

Nothing here imports an engine library. An engine indexes the fields this module derives
(url words, domains, source key, near-duplicate sketch) and orders and buckets its
answers with the keys below, so two engines given the same articles find, order and
count the same ones.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

from .. import analysis
from ..model import Article
from .base import Candidate, IndexDoc

__all__ = [
    "author_words",
    "TITLE_BOOST",
    "MAX_EXPANSION",
    "MAX_SCAN",
    "index_doc",
    "url_words",
    "parent_domains",
    "domain_of",
    "clean_domain",
    "source_key",
    "relevance_key",
    "date_key",
    "order_key",
    "date_buckets",
    "edit_distance",
    "choose_expansion",
    "nearest_terms",
]

TITLE_BOOST = 2.0
"""A title match weighs this many body matches (BM25F field weight)."""

MAX_EXPANSION = 50
"""Most index terms one prefix or fuzzy word expands to (the most frequent are kept)."""

MAX_SCAN = 10_000
"""Most lexicon entries one prefix or fuzzy expansion reads, per field."""


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of *a* and *b*, or *limit* when it is at least that (how the
    engines that expand fuzzy words themselves pick index terms within the distance)."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        best = i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
            best = min(best, row[j])
        if best >= limit:
            return limit
    return min(row[-1], limit)



def choose_expansion(found: Iterable[Sequence[Tuple[str, int]]], *, stem: str, prefix: bool,
                     distance: int = 0) -> Tuple[List[str], bool]:
    """The index terms a prefix or fuzzy word expands to, chosen alike on every engine that
    expands words itself: *found* holds, per field, (term, document frequency) in term
    order; each field's first MAX_SCAN are read, a fuzzy word keeps those within *distance*
    edits of *stem*, frequencies add up over the fields, and the MAX_EXPANSION most
    frequent are kept (then by term). Returns (terms, whether anything was cut)."""
    freq: Dict[str, int] = {}
    cut = False
    for terms in found:
        if len(terms) > MAX_SCAN:
            cut = True
            terms = terms[:MAX_SCAN]
        for t, df in terms:
            if not prefix and edit_distance(t, stem, distance + 1) > distance:
                continue
            freq[t] = freq.get(t, 0) + df
    chosen = sorted(freq, key=lambda t: (-freq[t], t))
    if len(chosen) > MAX_EXPANSION:
        cut = True
        chosen = chosen[:MAX_EXPANSION]
    return chosen, cut


def nearest_terms(found: Iterable[Sequence[Tuple[str, int]]], term: str, max_distance: int,
                  limit: int) -> List[Tuple[int, int, str]]:
    """Did-you-mean candidates alike on every engine that reads its own term dictionary:
    *found* holds, per field, (term, document frequency) in term order; of each field's
    first MAX_SCAN, the terms within *max_distance* edits of *term* (itself left out), as
    (distance, -highest frequency, term), best first."""
    best: Dict[str, Tuple[int, int]] = {}
    for terms in found:
        for t, df in terms[:MAX_SCAN]:
            if t == term or abs(len(t) - len(term)) > max_distance:
                continue
            dist = edit_distance(t, term, max_distance + 1)
            if dist <= max_distance:
                old = best.get(t)
                best[t] = (dist, -max(df, -old[1] if old else 0))
    return sorted((dist, nf, t) for t, (dist, nf) in best.items())[:limit]


def author_words(text: str) -> Tuple[str, ...]:
    """The words of a byline (or of an ``author:`` query), folded and unstemmed, each once:
    ``author:"Jane Smith"`` matches "By Jane SMITH and Tom Lee"."""
    return tuple(dict.fromkeys(analysis.query_terms(text, stem=False)))


def url_words(url: str) -> List[str]:
    """Lower-case alphanumeric runs of a url (scheme dropped): what ``inurl:`` matches."""
    rest = url.split("://", 1)[-1]
    return [w for w in re.split(r"[^0-9a-z]+", rest.lower()) if w]


def parent_domains(host: str) -> List[str]:
    """``news.bbc.co.uk`` -> itself and each parent with at least two labels."""
    labels = host.lower().strip(".").split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def domain_of(url: Optional[str]) -> Optional[str]:
    """The host of *url*, lower case, without ``www.``; None without one."""
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else (host or None)


def clean_domain(text: str) -> str:
    """A typed domain (``site:`` value, ``--domain``) as the domains field holds it."""
    host = text.strip().lower()
    if "://" in host:
        host = urlsplit(host).hostname or ""
    host = host.strip("/").strip(".")
    return host[4:] if host.startswith("www.") else host


def source_key(name: str) -> str:
    """A source as it is indexed and as ``source:``, ``--source`` and deletes match it."""
    return name.casefold()


def _utc(dt: Optional[datetime]) -> Optional[datetime]:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def index_doc(article: Article, chash: str, *, signature: Optional[Tuple[int, ...]] = None) -> IndexDoc:
    """*article* as every engine indexes it (its language already set by the record pipeline)."""
    host = domain_of(article.url)
    return IndexDoc(
        id=article.id,
        title=article.title,
        body=article.body,
        chash=chash,
        source=article.source or "",
        source_key=source_key(article.source) if article.source else "",
        published=_utc(article.published),
        lang=article.lang.lower() if article.lang else None,
        url=article.url or None,
        author=article.author or None,
        url_words=tuple(url_words(article.url)) if article.url else (),
        author_words=author_words(article.author) if article.author else (),
        domains=tuple(parent_domains(host)) if host else (),
        signature=signature,
    )


def relevance_key(c: Candidate) -> Tuple[float, float, str]:
    """Best score first; ties by date (newest first, undated last), then id, so runs repeat."""
    return (-c.score, -(c.published.timestamp() if c.published else float("-inf")), c.id)


def date_key(c: Candidate, *, newest: bool) -> Tuple[bool, float, str]:
    """Newest or oldest first, undated articles last either way, then id."""
    if c.published is None:
        return (True, 0.0, c.id)
    stamp = c.published.timestamp()
    return (False, -stamp if newest else stamp, c.id)


def order_key(sort: str):
    """The candidate order of *sort* (``fresh`` is ranked as relevance: NewsIndex re-ranks)."""
    if sort == "newest":
        return lambda c: date_key(c, newest=True)
    if sort == "oldest":
        return lambda c: date_key(c, newest=False)
    return relevance_key


def date_buckets(stamps: Iterable[Tuple[Optional[datetime], int]], unit: str) -> dict:
    """Counts per day (2025-08-13), ISO week (2025-W33) or month (2025-08), oldest first;
    undated entries are left out."""
    out: dict = {}
    for when, count in stamps:
        if not isinstance(when, datetime):
            continue
        if unit == "day":
            key = when.strftime("%Y-%m-%d")
        elif unit == "week":
            year, week, _ = when.isocalendar()
            key = f"{year}-W{week:02d}"
        else:
            key = when.strftime("%Y-%m")
        out[key] = out.get(key, 0) + int(count)
    return dict(sorted(out.items()))
