"""The Whoosh schema of every newssearch index, the tokenizer adapter, and date conversion.

Security note: a Whoosh index keeps pickles on disk; every one is read through the
restricted unpickler of :mod:`.safepickle`, so opening an index directory someone else made
runs none of their code (see the package docstring for the limits).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Dict, Iterator, Optional

from whoosh.analysis import Token, Tokenizer
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from ... import analysis, dedupe
from ..base import IndexDoc
from ..documents import TITLE_BOOST

FORMAT_VERSION = 6
"""Bump when the schema changes; together with ANALYSIS_VERSION it guards old indexes."""

INDEX_NAME = "MAIN"
"""Whoosh's name of the index in its directory (its files are _MAIN_*.toc and MAIN_*.seg)."""

NO_DATE = 2**64 - 1
"""What Whoosh's DATETIME column holds for a document without a date."""

DAY0 = datetime.min
"""What raw DATETIME column values count from (in microseconds)."""


class NewsTokenizer(Tokenizer):
    """Adapts :func:`newssearch.analysis.analyze` to Whoosh's token stream.

    Module-level on purpose: Whoosh pickles the schema (and so this class) into the
    index, and a class that cannot be imported by name breaks opening it elsewhere.
    """

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        # one Token mutated and re-yielded, as Whoosh's own tokenizers do: no object per word
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for term, pos, start, end in analysis.analyze(value, lang=None):
            t.text = term
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t



def build_schema() -> Schema:
    """The schema every newssearch index has (the pickled copy in the index is never used)."""
    analyzer = NewsTokenizer()
    return Schema(
        # sortable: the tie-break of every sort reads it from a column instead of the lexicon
        id=ID(stored=True, unique=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=TITLE_BOOST),
        body=TEXT(analyzer=analyzer, stored=True, phrase=True),
        # display form, exact: sortable so it can be faceted and grouped
        source=ID(stored=True, sortable=True),
        # casefolded form, what source: and --source match against
        source_key=ID,
        published=DATETIME(stored=True, sortable=True),
        lang=ID(stored=True),
        url=STORED,
        author=STORED,
        chash=STORED,
        # near-duplicate sketch (newssearch.dedupe): a column, not stored; the searcher reads
        # its lookup keys (the sketch's smallest hashes) from it into a sorted array, so
        # they need no index terms
        dupsig=COLUMN(),
        # words of the url (inurl:) and the host with its parent domains (site:, --domain)
        urlwords=KEYWORD(lowercase=True, scorable=False),
        domains=KEYWORD(lowercase=True, scorable=False),
        # the byline's folded words (author:, --author); FORMAT_VERSION 6
        authorwords=KEYWORD(scorable=False),
    )



def naive_utc(dt: Optional[datetime]) -> Optional[datetime]:
    # Whoosh's DATETIME drops tzinfo without converting, so convert first
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None)


def aware(dt: Optional[datetime]) -> Optional[datetime]:
    return dt.replace(tzinfo=timezone.utc) if dt is not None else None



def whoosh_fields(doc: IndexDoc) -> Dict[str, object]:
    """The Whoosh document of *doc*. Without a sketch in *doc*, ``dupsig`` is left to
    :class:`~newssearch.engine.whoosh.segwriter.FastSegmentWriter`, which makes it from
    the words it analyses anyway (in whichever process writes the document)."""
    fields: Dict[str, object] = {"id": doc.id, "title": doc.title, "body": doc.body, "chash": doc.chash}
    if doc.source:
        fields["source"] = doc.source
        fields["source_key"] = doc.source_key
    if doc.published is not None:
        fields["published"] = naive_utc(doc.published)
    if doc.lang:
        fields["lang"] = doc.lang
    if doc.url:
        fields["url"] = doc.url
    if doc.author:
        fields["author"] = doc.author
    if doc.url_words:
        fields["urlwords"] = " ".join(doc.url_words)
    if doc.domains:
        fields["domains"] = " ".join(doc.domains)
    if doc.author_words:
        fields["authorwords"] = " ".join(doc.author_words)
    if doc.signature:
        fields["dupsig"] = dedupe.to_bytes(doc.signature)
    return fields
