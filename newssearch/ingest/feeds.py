"""Reader for RSS 0.9x/1.0/2.0 and Atom feeds, through feedparser.

Each item is an Article: its title, link, published (else updated) time, the feed's
title as source, and its content (else summary) with the HTML reduced to text.
Documents that declare XML entities are refused before parsing: entity expansion
("billion laughs") and external entities have no place in a news feed.
"""
from __future__ import annotations

import io
import re
from datetime import datetime, timezone
from typing import Any, Iterator, Mapping, Optional, Union
from urllib.parse import urlsplit

from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected
from .fields import map_record
from .source import READ_ERRORS, Input, read_all
from .text import decode, declared_charset, html_to_text

__all__ = ["parse_feed", "looks_like_feed"]

Record = Union[Article, Rejected, IngestWarning]

_ENTITY_DECL = re.compile(r"<!ENTITY", re.IGNORECASE)
# the same declaration in the wide encodings an XML parser detects on its own (no BOM, no
# declaration our decoding would see): the check must see what the parser sees
_WIDE_ENTITY_DECL = re.compile(b"|".join(re.escape("<!ENTITY".encode(enc)) for enc in
                                         ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")), re.IGNORECASE)
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF|RDF)\b", re.IGNORECASE)
_ITEM_START = re.compile(r"<(?:item|entry)\b", re.IGNORECASE)


def looks_like_feed(text: str) -> bool:
    """True when the start of *text* is an RSS, RDF or Atom document."""
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    return head.startswith("<") and bool(_FEED_ROOT.search(head))


def _when(struct: Any) -> Optional[str]:
    if not struct:
        return None
    try:
        return datetime(*struct[:6], tzinfo=timezone.utc).isoformat()
    except (TypeError, ValueError):
        return None


def _entry_record(entry: Any, source: str, lang: str) -> dict:
    content = entry.get("content") or []
    body_html = next((c.get("value") for c in content if c.get("value")), None) or entry.get("summary") or ""
    # dict.get: feedparser's own get() maps missing "updated*" keys to "published*" with a DeprecationWarning
    raw_date = dict.get(entry, "published") or dict.get(entry, "updated")
    date = _when(dict.get(entry, "published_parsed")) or _when(dict.get(entry, "updated_parsed")) or raw_date
    return {
        "title": html_to_text(entry.get("title") or ""),
        "body": html_to_text(body_html),
        "source": source,
        "date": date,
        "url": entry.get("link"),
        "author": entry.get("author"),
        "id": entry.get("id"),
        "lang": lang,
    }


def parse_feed(inp: Input, *, as_of: Optional[datetime] = None,
               fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read the items of one RSS or Atom feed. *fields* is ignored: feeds name their own."""
    import feedparser  # imported here: only feed reading pays for it

    name = inp.name
    try:
        data = read_all(inp)
    except READ_ERRORS as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    text, _ = decode(data, inp.charset or declared_charset(data))
    if not text.strip():
        yield Rejected(name, None, "empty file")
        return
    entity = _ENTITY_DECL.search(text)
    if entity or (b"\x00" in data[:1024] and _WIDE_ENTITY_DECL.search(data)):
        line = text.count("\n", 0, entity.start()) + 1 if entity else None
        yield Rejected(name, line, "XML entity declarations are refused (entity expansion or external entities)")
        return
    headers = {"content-type": f"application/xml; charset={inp.charset}"} if inp.charset else {}
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # a third-party parser on hostile bytes: its failure is this file's reject
        yield Rejected(name, None, f"not a feed: the feed parser failed ({type(exc).__name__}: {exc})")
        return
    if not parsed.entries:
        if parsed.get("bozo") and not parsed.get("version"):
            reason = parsed.get("bozo_exception") or "unknown error"
            yield Rejected(name, getattr(reason, "getLineNumber", lambda: None)(), f"not a feed: not well-formed XML ({reason})")
        else:
            yield Rejected(name, None, "feed has no items")
        return
    feed = parsed.get("feed", {})
    link = feed.get("link") or inp.url or ""
    source = html_to_text(feed.get("title") or "") or urlsplit(link).hostname or ""
    lang = (feed.get("language") or "").split("-")[0].split("_")[0]
    # feedparser gives no line numbers: find each item's start tag so rejects can say where
    starts: list[int] = []
    item_line, at = 1, 0
    for match in _ITEM_START.finditer(text):  # counted on from the last one: linear, not quadratic
        item_line += text.count("\n", at, match.start())
        at = match.start()
        starts.append(item_line)
    lines = starts if len(starts) == len(parsed.entries) else [None] * len(parsed.entries)
    for index, (entry, line) in enumerate(zip(parsed.entries, lines), 1):
        label = "" if line else f"item {index}: "
        try:
            article, warnings = map_record(_entry_record(entry, source, lang), as_of=as_of)
        except BadInput as exc:
            yield Rejected(name, line, f"{label}{exc}")
            continue
        for message in warnings:
            yield IngestWarning(name, line, f"{label}{message}")
        yield article
