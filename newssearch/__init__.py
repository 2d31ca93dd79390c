"""newssearch: full-text search for news articles.

>>> import newssearch
>>> with newssearch.open_index("indexes/news", create=True) as ix:   # doctest: +SKIP
...     ix.add_paths(["examples/"])
...     for hit in ix.search("coup"):
...         print(hit.title, hit.source, hit.published)
"""
from __future__ import annotations

from .errors import (
    ArticleNotFound,
    BadInput,
    BadQuery,
    FetchFailed,
    IndexLocked,
    IndexNotFound,
    NewsSearchError,
    RebuildNeeded,
    RebuildRefused,
    UntrustedIndex,
)
from .generations import Generation
from .index import FACETS, SORTS, IndexStats, NewsIndex, open_index
from .model import Article, Explanation, Hit, IngestReport, IngestWarning, Rejected, Results, SourceInfo
from .query import ParsedQuery, parse_query

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "open_index",
    "NewsIndex",
    "IndexStats",
    "Article",
    "Hit",
    "Results",
    "SourceInfo",
    "Explanation",
    "SORTS",
    "FACETS",
    "IngestReport",
    "Rejected",
    "IngestWarning",
    "ParsedQuery",
    "parse_query",
    "NewsSearchError",
    "IndexNotFound",
    "RebuildNeeded",
    "RebuildRefused",
    "UntrustedIndex",
    "Generation",
    "IndexLocked",
    "BadQuery",
    "BadInput",
    "FetchFailed",
    "ArticleNotFound",
]
