"""The data that flows through newssearch: articles in, hits and results out.

Plain frozen dataclasses with no engine import; everything the engine returns is
copied into these before its searcher closes.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import InitVar, dataclass, field
from datetime import date, datetime, timezone
from typing import Dict, Iterator, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import BadInput

__all__ = [
    "Article",
    "Generation",
    "IndexStats",
    "RunReport",
    "Hit",
    "Results",
    "SourceInfo",
    "Explanation",
    "Rejected",
    "IngestWarning",
    "IngestReport",
    "normalize_url",
    "to_utc",
]

# Query parameters that only track a click; two urls differing only in these are one article.
_TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src", "cmpid", "ocid"}
)


def normalize_url(url: Optional[str]) -> Optional[str]:
    """Canonical form of *url* for identity: lower-case scheme and host, no fragment,
    no default port, no trailing slash, tracking parameters (utm_*, fbclid, gclid...) removed.

    Returns None for an empty or missing url.
    """
    if not url:
        return None
    return _normalize_url(url)


@functools.lru_cache(maxsize=64)
def _normalize_url(url: str) -> Optional[str]:
    # cached: indexing normalises each article's url twice (its id, then its content hash)
    url = url.strip()
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    if (scheme == "http" and netloc.endswith(":80")) or (scheme == "https" and netloc.endswith(":443")):
        netloc = netloc.rsplit(":", 1)[0]
    path = parts.path.rstrip("/")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    query.sort()
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


# C0 controls but tab and newline, DEL, C1 controls (ESC and CSI/OSC introducers among them)
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROLS_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# an ANSI/OSC escape sequence as a whole, so no "[31m" is left behind when ESC goes
ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[0-~])|\x9b[0-?]*[ -/]*[@-~]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_LINES_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"


def clean_text(text: str, *, keep_lines: bool = True) -> str:
    """*text* safe to store and print: escape sequences and control characters removed
    (tab and, with *keep_lines*, newline kept; others become a space), lone surrogates
    replaced by U+FFFD, so the text always encodes as UTF-8."""
    if text.isascii() and (text.isprintable() or keep_lines and not text.encode("ascii").translate(None, _LINES_ASCII)):
        return text  # nothing below changes printable ASCII (with tabs and line ends when kept)
    if "\x1b" in text or "\x9b" in text:
        text = ESCAPE_SEQUENCE.sub("", text)
    text = (_CONTROLS if keep_lines else _CONTROLS_ONE_LINE).sub(" ", text)
    if text.isascii():  # no surrogates to look for (a news body is often ASCII with newlines)
        return text
    return _SURROGATES.sub("\ufffd", text)


def to_utc(value: Optional[datetime]) -> Optional[datetime]:
    """*value* as an aware UTC datetime; a naive datetime is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _digest(*parts: str) -> str:
    h = hashlib.sha1()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")  # separator, so ("ab", "c") and ("a", "bc") differ
    return h.hexdigest()[:20]


@dataclass(frozen=True, kw_only=True)
class Article:
    """One news article, as read from any input.

    ``id`` is stable and computed when not given: from the normalised url when there is
    one (the same url is the same article); else from the source plus the input's own
    id (``native_id``), so two feeds that both number their items "1" do not collide;
    else from a hash of source + title + published + body.
    """

    title: str = ""
    """Headline; may be empty."""
    body: str = ""
    """Main text, plain (no markup)."""
    source: str = ""
    """Publisher or outlet, e.g. "Al Jazeera"."""
    published: Optional[datetime] = None
    """Publication time as an aware UTC datetime (naive values are taken as UTC)."""
    url: Optional[str] = None
    """Where the article lives, if known."""
    lang: Optional[str] = None
    """ISO 639-1 language code, if known."""
    author: Optional[str] = None
    """Byline, if known."""
    id: str = ""
    """Stable identity; computed from url / source+native_id / content when empty."""
    native_id: InitVar[Optional[str]] = None
    """The input's own id for the item (e.g. a feed's guid or a dataset's row id)."""

    def __post_init__(self, native_id: Optional[str]) -> None:
        # NFC so that the same text typed two ways is stored (and hashed) one way; lone
        # surrogates and control characters (ANSI/OSC escapes, NUL) never reach the index
        for name in ("title", "body", "source"):
            value = getattr(self, name)
            if value is None:
                value = ""
            elif not isinstance(value, str):
                raise BadInput(f"article {name} must be text (str), not {type(value).__name__}")
            object.__setattr__(self, name, clean_text(unicodedata.normalize("NFC", value), keep_lines=name == "body"))
        for name in ("url", "lang", "author"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise BadInput(f"article {name} must be text (str) or None, not {type(value).__name__}")
            if value:
                object.__setattr__(self, name, clean_text(value, keep_lines=False))
        if self.published is not None and not isinstance(self.published, datetime):
            raise BadInput(f"article published must be a datetime or None, not {type(self.published).__name__}")
        object.__setattr__(self, "published", to_utc(self.published))
        if not self.id:
            object.__setattr__(self, "id", self._make_id(native_id))

    def _make_id(self, native_id: Optional[str]) -> str:
        url = normalize_url(self.url)
        if url:
            return "u" + _digest(url)
        if native_id not in (None, ""):
            return "n" + _digest(self.source.casefold(), str(native_id))
        published = self.published.isoformat() if self.published else ""
        return "h" + _digest(self.source.casefold(), self.title, published, self.body)


@dataclass(frozen=True)
class Hit:
    """One article in a result list, detached from the engine."""

    id: str
    title: str
    source: str
    published: Optional[datetime]
    url: Optional[str]
    lang: Optional[str]
    author: Optional[str]
    score: float
    """Relevance score (BM25F); comparable only within one result list."""
    snippet: str
    """Best passage of the body (or title) with matched words marked as [[word]]."""
    rank: int = 0
    """1-based position in the whole result list."""
    snippet_html: str = ""
    """The same passage as HTML: all article text escaped, matched words in ``<mark>``."""
    duplicates: int = 0
    """How many near-duplicate copies (syndicated versions) were folded into this hit."""
    duplicate_ids: Tuple[str, ...] = ()
    """Ids of those copies."""

    def to_dict(self) -> Dict[str, object]:
        """This hit as JSON-ready values (dates as ISO 8601 UTC), the shape of ``--jsonl``."""
        from .render import hit_to_dict  # render imports this module

        return hit_to_dict(self)


@dataclass(frozen=True)
class Match:
    """One article of :meth:`NewsIndex.iter_search`: every stored field, body included."""

    id: str
    title: str
    body: str
    source: str
    published: Optional[datetime]
    url: Optional[str]
    lang: Optional[str]
    author: Optional[str]
    score: float
    """Relevance score (0 under a date sort's ties is possible); comparable only within one export."""
    rank: int
    """1-based position in the whole export."""
    duplicate_ids: Tuple[str, ...] = ()
    """With ``collapse=True``: the ids of the copies folded into this match."""

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready values (dates as ISO 8601 UTC), the shape of ``export --format jsonl``."""
        return {
            "rank": self.rank,
            "id": self.id,
            "score": round(self.score, 4),
            "title": self.title,
            "source": self.source,
            "published": self.published.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if self.published else None,
            "url": self.url,
            "lang": self.lang,
            "author": self.author,
            "body": self.body,
            "duplicate_ids": list(self.duplicate_ids),
        }


@dataclass(frozen=True)
class Period:
    """One period of a :class:`Timeline`: its first day, its label and its count."""

    start: date
    label: str
    """2025-08-13 (day), 2025-W33 (ISO week), 2025-08 (month)."""
    count: int


@dataclass(frozen=True)
class Timeline:
    """Matches of a query per period, oldest first, empty periods included."""

    query: str
    by: str
    """day, week or month."""
    periods: Tuple[Period, ...]
    total: int
    """Every match, dated or not."""
    undated: int = 0
    warnings: Sequence[str] = ()

    def __iter__(self) -> Iterator[Period]:
        return iter(self.periods)

    def __len__(self) -> int:
        return len(self.periods)

    def to_dict(self) -> Dict[str, object]:
        """JSON-ready values, the shape of ``timeline --json``."""
        return {
            "query": self.query,
            "by": self.by,
            "total": self.total,
            "undated": self.undated,
            "warnings": list(self.warnings),
            "periods": [{"period": p.label, "start": p.start.isoformat(), "count": p.count} for p in self.periods],
        }


SHORT_ID = 8
"""Leading characters of an article id that listings show; ``NewsIndex.resolve_id`` takes them."""

SNIPPET_MARK_START = "[["
SNIPPET_MARK_END = "]]"


@dataclass(frozen=True)
class Results:
    """The answer to one search: a page of hits plus what was understood of the query."""

    total: int
    """Number of matching articles (all pages)."""
    hits: Sequence[Hit]
    """This page of hits, best first."""
    query: str = ""
    """The query text as given."""
    page: int = 1
    limit: int = 10
    warnings: Sequence[str] = ()
    """What was not understood in the query and how it was read instead."""
    facets: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Counts per facet value over the whole matching set, when asked for."""
    suggestion: Optional[str] = None
    """A corrected query when this one found little, else None."""

    def to_dict(self) -> Dict[str, object]:
        """The whole answer as JSON-ready values, the shape of ``--json``:
        ``json.dumps(results.to_dict())`` always works."""
        from .render import results_to_dict  # render imports this module

        return results_to_dict(self)

    def __iter__(self) -> Iterator[Hit]:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)


@dataclass(frozen=True)
class SourceInfo:
    """One source of an index: how many articles, and the first and last publication time."""

    name: str
    articles: int
    first: Optional[datetime] = None
    last: Optional[datetime] = None


@dataclass(frozen=True)
class Explanation:
    """How a query is understood (``--explain``)."""

    query: str
    tree: str
    """The parsed tree, one node per line with its kind and words."""
    compiled: str
    """What the engine runs."""
    warnings: Sequence[str] = ()
    expanded: Mapping[str, int] = field(default_factory=dict)
    """Prefix/fuzzy word -> number of index terms it expanded to."""
    fallback: Optional[str] = None
    """The looser tree used when too few articles hold every word (sentences only)."""
    expansion_cap: int = 0
    """Most terms one prefix/fuzzy word may expand to."""


@dataclass(frozen=True)
class Rejected:
    """An input record that could not be indexed, and why."""

    file: str
    line: Optional[int]
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class IngestWarning:
    """A record that was indexed with a change worth knowing (truncated text, a date
    dropped, a guessed encoding)."""

    file: str
    line: Optional[int]
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class IngestReport:
    """What one ingest did: counts of articles added, updated and unchanged, and rejects."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: Sequence[Rejected] = ()
    seconds: float = 0.0
    warnings: Sequence[IngestWarning] = ()
    """Records kept with a change: truncated, date dropped, encoding guessed."""
    not_modified: Sequence[str] = ()
    """URLs the server answered 304 Not Modified for: nothing was read from them."""

    @property
    def ok(self) -> bool:
        """True when no record was rejected."""
        return not self.rejected


Record = Union[Article, Rejected, IngestWarning]


# ---------------------------------------------------------------------------- index state


@dataclass(frozen=True)
class Generation:
    """One complete generation of an index."""

    id: int
    created: Optional[datetime]
    """When the generation was published (UTC)."""
    articles: int
    live: bool
    kind: str = ""
    """What made it: create, index, rebuild, update, delete."""
    path: str = ""


@dataclass(frozen=True)
class IndexStats:
    """What an index holds."""

    path: str
    articles: int
    generation: int = 0
    """The live generation's id."""
    sources: Dict[str, int] = field(default_factory=dict)
    """Articles per source, most first."""
    languages: Dict[str, int] = field(default_factory=dict)
    oldest: Optional[datetime] = None
    newest: Optional[datetime] = None
    segments: int = 0
    size_bytes: int = 0
    format: int = 0
    analysis: str = ""
    engine: str = ""
    """The engine the live generation was made with."""


@dataclass(frozen=True)
class RunReport:
    """What one rebuild or update did."""

    kind: str
    generation: int
    """The live generation afterwards."""
    articles: int
    """Articles in the live generation afterwards."""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    expired: int = 0
    """Articles deleted by ``retention_days``."""
    rejected: Tuple[Rejected, ...] = ()
    seconds: float = 0.0
    switched: bool = True
    """False when nothing changed and no new generation was made."""
    warnings: Tuple[IngestWarning, ...] = ()
    """Records kept with a change (a dropped date, cut text, a guessed encoding)."""
    not_modified: Tuple[str, ...] = ()
    """URLs that answered 304 Not Modified (updates only)."""
