"""The one record pipeline: input records -> articles with a language and a hash -> IndexDocs.

``NewsIndex.add``, ``add_paths``, ``rebuild`` and ``update`` all index through
:func:`index_docs`, so an article gets the same language, hash and derived fields
whichever command indexed it.
"""
from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Iterable, Iterator, List, Optional, Union

from . import analysis
from .engine.base import IndexDoc
from .engine.documents import index_doc
from .model import Article, IngestWarning, Rejected, normalize_url

__all__ = ["content_hash", "with_language", "index_docs", "Record"]

Record = Union[Article, Rejected, IngestWarning]
"""What readers yield: an article, a rejected record, or a warning about a kept one."""


def content_hash(article: Article) -> str:
    """Hash of everything stored about *article*: a changed hash means the article was updated."""
    h = hashlib.sha1()
    for part in (
        article.title,
        article.body,
        article.source,
        article.published.isoformat() if article.published else "",
        # the normalised url: the same link with other tracking parameters is not new content
        normalize_url(article.url) or "",
        article.lang or "",
        article.author or "",
    ):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def with_language(article: Article) -> Article:
    """*article* with ``lang`` detected from its text when the input gave none."""
    if article.lang:
        return article
    lang = analysis.detect_language(f"{article.title}\n{article.body}")
    return replace(article, lang=lang) if lang else article


def index_docs(
    records: Iterable[Record],
    *,
    rejected: Optional[List[Rejected]] = None,
    warnings: Optional[List[IngestWarning]] = None,
) -> Iterator[IndexDoc]:
    """The IndexDocs of the articles among *records* (language detected, then hashed);
    rejected records and warnings are collected in the lists given (dropped without)."""
    for record in records:
        if isinstance(record, Rejected):
            if rejected is not None:
                rejected.append(record)
        elif isinstance(record, IngestWarning):
            if warnings is not None:
                warnings.append(record)
        else:
            article = with_language(record)
            yield index_doc(article, content_hash(article))
