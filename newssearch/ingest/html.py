"""Reader for HTML article pages: metadata from the page's own tags, main text by trafilatura.

Title: ``og:title``, else JSON-LD ``headline``, else ``<title>``. Date:
``article:published_time``, else JSON-LD ``datePublished`` (NewsArticle and kin), else the
first ``<time datetime>``. Source: ``og:site_name``, else JSON-LD publisher, else the
domain. Author: ``<meta name=author>``, ``article:author`` or JSON-LD. The main text
(without navigation, ads, comments) comes from trafilatura, an optional extra:
``pip install 'newssearch[html]'``.
"""
from __future__ import annotations

import json
from datetime import datetime
from html.parser import HTMLParser
from typing import Any, Iterator, Mapping, Optional, Union
from urllib.parse import urlsplit

from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected
from . import limits
from .fields import map_record
from .jsonl import json_depth_ok
from .source import READ_ERRORS, Input, read_all
from .text import decode, declared_charset, html_to_text

__all__ = ["parse_html", "looks_like_html", "page_metadata", "HTML_EXTRA_MISSING"]

Record = Union[Article, Rejected, IngestWarning]

HTML_EXTRA_MISSING = "reading HTML pages needs the html extra: pip install 'newssearch[html]'"
_ARTICLE_TYPES = {"newsarticle", "article", "reportagenewsarticle", "blogposting", "analysisnewsarticle",
                  "opinionnewsarticle", "backgroundnewsarticle", "liveblogposting", "webpage"}


def looks_like_html(text: str) -> bool:
    """True when the start of *text* is an HTML document."""
    head = text.lstrip("\ufeff \t\r\n")[:2048].lower()
    return head.startswith("<") and ("<html" in head or "<!doctype html" in head or "<head" in head)


class _Meta(HTMLParser):
    """Collects <meta>, <title>, <time>, <html lang>, canonical link and JSON-LD blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.time = ""
        self.lang = ""
        self.canonical = ""
        self.jsonld: list[str] = []
        self._in: Optional[str] = None
        self._buf: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content") and key not in self.meta:
                self.meta[key] = a["content"]
        elif tag == "html":
            self.lang = a.get("lang", "")
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split():
            self.canonical = self.canonical or a.get("href", "")
        elif tag == "time" and not self.time and a.get("datetime"):
            self.time = a["datetime"]
        elif tag == "title" and not self.title:
            self._in, self._buf = "title", []
        elif tag == "script" and "ld+json" in a.get("type", "").lower():
            self._in, self._buf = "jsonld", []

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._in == "title" and tag == "title":
            self.title = " ".join("".join(self._buf).split())
            self._in = None
        elif self._in == "jsonld" and tag == "script":
            self.jsonld.append("".join(self._buf))
            self._in = None


def _ld_objects(blocks: list[str]) -> Iterator[dict]:
    for block in blocks:
        if not json_depth_ok(block):
            continue
        try:
            doc = json.loads(block)
        except (ValueError, RecursionError):
            continue
        stack = [doc]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                yield node
                if isinstance(node.get("@graph"), list):
                    stack.extend(node["@graph"])


def _types(node: dict) -> set:
    value = node.get("@type", "")
    values = value if isinstance(value, list) else [value]
    return {str(v).lower() for v in values}


def _name(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(n for n in (_name(v) for v in value) if n)
    if isinstance(value, dict):
        return str(value.get("name") or "")
    return str(value) if isinstance(value, str) else ""


def page_metadata(markup: str, url: Optional[str] = None) -> dict[str, str]:
    """title, date, source, author, url and lang of an HTML page, from its tags ("" when absent)."""
    meta = _Meta()
    try:
        meta.feed(markup)
        meta.close()
    except (AssertionError, ValueError):
        pass  # keep what was collected before html.parser gave up
    ld = next((n for n in _ld_objects(meta.jsonld) if _types(n) & _ARTICLE_TYPES), {})
    m = meta.meta
    page_url = url or m.get("og:url") or meta.canonical or ""
    return {
        "title": m.get("og:title") or _name(ld.get("headline")) or meta.title,
        "date": m.get("article:published_time") or _name(ld.get("datePublished")) or meta.time
        or m.get("date") or m.get("pubdate") or "",
        "source": m.get("og:site_name") or _name(ld.get("publisher")) or (urlsplit(page_url).hostname or "").removeprefix("www."),
        "author": m.get("author") or m.get("article:author") or _name(ld.get("author")),
        "url": page_url,
        "lang": meta.lang.split("-")[0].lower(),
    }


def _main_text(markup: str, url: Optional[str]) -> str:
    import trafilatura  # optional extra; ImportError handled by the caller

    text = trafilatura.extract(markup, url=url, include_comments=False, include_tables=False,
                               include_images=False, with_metadata=False)
    return text or ""


def parse_html(inp: Input, *, as_of: Optional[datetime] = None,
               fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read one HTML article page into one Article. *fields* is ignored."""
    name = inp.name
    try:
        # never more than one byte past the page limit: a 2 GB page is refused having read 16 MiB
        data = inp.stream.read(limits.MAX_PAGE_BYTES + 1) if limits.MAX_PAGE_BYTES < limits.MAX_DOCUMENT_BYTES \
            else read_all(inp)
    except READ_ERRORS as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if len(data) > limits.MAX_PAGE_BYTES:
        yield Rejected(name, None, f"page larger than MAX_PAGE_BYTES ({limits.MAX_PAGE_BYTES:,} bytes): refused")
        return
    markup, warning = decode(data, inp.charset or declared_charset(data))
    if warning:
        yield IngestWarning(name, None, warning)
    if not markup.strip():
        yield Rejected(name, None, "empty file")
        return
    info = page_metadata(markup, inp.url)
    try:
        body = _main_text(markup, info["url"] or None)
    except ImportError:
        yield Rejected(name, None, HTML_EXTRA_MISSING)
        return
    except Exception as exc:  # a third-party extractor on hostile markup: its failure is this page's reject
        yield Rejected(name, None, f"cannot extract the page's text ({type(exc).__name__}: {exc})")
        return
    title = html_to_text(info["title"])
    site = info["source"]
    for sep in (" | ", " - ", " – ", " — ", " :: "):
        if site and title.endswith(sep + site):
            title = title[: -len(sep + site)].strip()  # "<title>Headline | Site</title>"
    lines = body.split("\n")
    if lines and lines[0].strip() == title:
        body = "\n".join(lines[1:])  # the headline repeated as the first line of the text
    body = "\n\n".join(p.strip() for p in body.split("\n") if p.strip())
    try:
        article, warnings = map_record({**info, "title": title, "body": body}, as_of=as_of)
    except BadInput as exc:
        yield Rejected(name, None, f"{exc}: no article text found in the page")
        return
    for message in warnings:
        yield IngestWarning(name, None, message)
    yield article
