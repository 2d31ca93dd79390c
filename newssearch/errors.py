"""Named errors: every failure the library reports is one of these.

The CLI turns each into a one-line message on stderr and exit code 1.
"""
from __future__ import annotations


class NewsSearchError(Exception):
    """Base class of every error newssearch raises on purpose."""


class IndexNotFound(NewsSearchError):
    """No index exists at the given path (and ``create`` was not asked for)."""


class RebuildNeeded(NewsSearchError):
    """The index was built by another format version (schema or analysis); rebuild it."""


class IndexLocked(NewsSearchError):
    """Another writer holds the index."""


class BadQuery(NewsSearchError):
    """A query that means nothing searchable (bad syntax alone degrades to a warning)."""


class BadInput(NewsSearchError):
    """Input that cannot be read at all: a missing file, an unknown format, a bad date."""


class RebuildRefused(NewsSearchError):
    """A rebuild that would shrink the index below the configured ratio; nothing was switched."""


class FetchFailed(NewsSearchError):
    """A URL could not be fetched: unreachable, an HTTP error, too large or not http(s)."""


class ArticleNotFound(NewsSearchError):
    """No article with the given id is in the index."""
