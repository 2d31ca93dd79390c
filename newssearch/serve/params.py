"""What a search page shows, read from and written back to its URL (no web framework here).

:class:`SearchState` is the query text, filters, sort, page and timeline period of one
page; every link the page draws (a facet value, a removed filter, the next page, a
download) is the same state with one thing changed, so the other filters are kept.
"""
from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional
from urllib.parse import urlencode, urlsplit

from ..errors import BadQuery
from ..index import SORTS
from ..timeline import PERIODS

__all__ = ["SearchState", "FILTERS", "BY", "PAGE_SIZE", "safe_href", "is_loopback"]

FILTERS = ("source", "lang", "domain", "since", "until")
"""The filters of the form, in the order links write them."""
BY = ("auto",) + PERIODS
"""Timeline periods the page offers; auto picks day, week or month by the span."""
PAGE_SIZE = 10
MAX_PARAM = 2_000
"""Longest filter value kept (the query itself is bounded by the library)."""


@dataclass(frozen=True)
class SearchState:
    """One search page: ``q`` and the filters as typed, sort, 1-based page and timeline period."""

    q: str = ""
    source: str = ""
    lang: str = ""
    domain: str = ""
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1
    by: str = "auto"

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, strict: bool = True) -> "SearchState":
        """The state a URL's query parameters describe. Raises :class:`BadQuery` for an
        unknown sort or period or a page that is not a whole number from 1; with
        ``strict=False`` those fall back to their defaults instead."""
        values = {name: str(params.get(name) or "").strip()[:MAX_PARAM] for name in FILTERS}
        q = str(params.get("q") or "")
        sort = str(params.get("sort") or "relevance")
        by = str(params.get("by") or "auto")
        raw_page = str(params.get("page") or "1").strip()
        problem = None
        if sort not in SORTS:
            problem, sort = f"unknown sort {sort[:40]!r}: use one of {', '.join(SORTS)}", "relevance"
        if by not in BY:
            problem, by = f"unknown timeline period {by[:40]!r}: use one of {', '.join(BY)}", "auto"
        if not (raw_page.isascii() and raw_page.isdigit()) or len(raw_page) > 9 or int(raw_page) < 1:
            problem, raw_page = f"page must be a whole number from 1, not {raw_page[:40]!r}", "1"
        if problem and strict:
            raise BadQuery(problem)
        return cls(q=q, sort=sort, page=int(raw_page), by=by, **values)

    def search_args(self) -> Dict[str, Any]:
        """The filters as keyword arguments of ``NewsIndex.search`` / ``iter_search`` / ``timeline``."""
        return {
            "source": self.source or None,
            "lang": self.lang or None,
            "domain": self.domain or None,
            "since": self.since or None,
            "until": self.until or None,
        }

    def active_filters(self) -> Dict[str, str]:
        """The filters that are set, name -> value."""
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}

    def with_(self, **changes: Any) -> "SearchState":
        """This state with *changes*; a change of query, filter or sort goes back to page 1."""
        if "page" not in changes and set(changes) & (set(FILTERS) | {"q", "sort"}):
            changes["page"] = 1
        return dataclasses.replace(self, **changes)

    def query_string(self, **changes: Any) -> str:
        """The URL query (``?q=...``) of this state with *changes*, defaults left out."""
        state = self.with_(**changes) if changes else self
        pairs = [("q", state.q)] + [(name, getattr(state, name)) for name in FILTERS]
        if state.sort != "relevance":
            pairs.append(("sort", state.sort))
        if state.page != 1:
            pairs.append(("page", str(state.page)))
        if state.by != "auto":
            pairs.append(("by", state.by))
        kept = [(k, v) for k, v in pairs if v]
        return "?" + urlencode(kept) if kept else ""


def safe_href(url: Optional[str]) -> Optional[str]:
    """*url* when it is an absolute http(s) address that may be a link; else None
    (``javascript:``, ``data:`` and relative urls from an article are shown, never linked)."""
    if not url:
        return None
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        return None
    return text


def is_loopback(host: str) -> bool:
    """True when *host* (a name or address to bind) only answers this machine."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
