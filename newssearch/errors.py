"""Named errors: every failure the library reports is one of these.

The CLI turns each into a one-line message on stderr and exit code 1.
"""
from __future__ import annotations

from typing import Optional


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


class UntrustedIndex(NewsSearchError):
    """The index holds a pickle that asks for a global newssearch never writes into an index
    (``os.system``, ``builtins.exec``...): refused before anything of it ran.

    ``asked`` is the refused global (``module.name``); ``path`` the file that held it and
    ``part`` the part of that file (a segment file holds several), when known.
    """

    def __init__(self, message: str, *, asked: str = "", path: Optional[str] = None,
                 part: Optional[str] = None) -> None:
        super().__init__(message)
        self.asked = asked
        self.path = path
        self.part = part
