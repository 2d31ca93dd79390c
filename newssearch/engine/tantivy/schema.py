"""The tantivy index's fields, and an article analysed into what they hold.

Every term comes from :mod:`newssearch.analysis`; tantivy only splits our term stream
on spaces (its ``whitespace`` tokenizer, which changes nothing) or, where one position
holds several terms (a Hebrew word and its prefix-stripped forms, an Arabic word and its
light stem), takes the tokens with their positions as they are (pre-tokenized text).

Title terms are written twice, at positions 2p and 2p+1: tantivy's BM25 then sees a
title term frequency doubled, as Whoosh's BM25F field boost makes it (the length ratio
to the average is unchanged), and a phrase in the title steps two positions a word.

:func:`analyse` is a pure function of an :class:`IndexDoc` (it runs in worker
processes, :mod:`.pool`); :func:`document` turns its result into a tantivy document
in the process that owns the writer.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple, Union

import tantivy

from ... import analysis, dedupe
from ..base import IndexDoc
from .plan import clip, micros

__all__ = ["FORMAT", "UNDATED", "Analysed", "analyse", "build_schema", "document", "pack_tfs"]

FORMAT = 2
"""Version of this layout; a change makes existing tantivy indexes 'rebuild needed'
(2: the text, ``meta`` and term counts moved from the document store to the row records)."""
UNDATED = -(1 << 62)
"""The sort keys of an undated article: below every date, so it comes last either way."""

_OTHER_SPACE = re.compile(r"[^\S ]")
"""Whitespace other than the space (what the whitespace tokenizer would also split on)."""

Field = Union[str, List[Tuple[str, int]]]
"""A text field as written: space-separated terms, or (term, position) tokens."""


def build_schema() -> "tantivy.Schema":
    b = tantivy.SchemaBuilder()
    # nothing is stored in tantivy: an article's text and record are in rows/ (:mod:`.rows`)
    b.add_text_field("id", fast=True, tokenizer_name="raw")
    b.add_text_field("title", tokenizer_name="whitespace", index_option="position")
    b.add_text_field("body", tokenizer_name="whitespace", index_option="position")
    b.add_text_field("source", fast=True, tokenizer_name="raw")
    b.add_text_field("lang", fast=True, tokenizer_name="raw")
    # the host and its parent domains: a column too, as source and lang are (a multi-valued
    # fast field), so a domain can be counted or sorted on without loading articles
    b.add_text_field("domains", fast=True, tokenizer_name="raw", index_option="basic")
    for name in ("source_key", "urlwords", "authorwords"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    b.add_unsigned_field("sigkeys", indexed=True)
    b.add_integer_field("published", indexed=True, fast=True)
    # newest / oldest first as one descending order each, undated last in both
    b.add_integer_field("newest", fast=True)
    b.add_integer_field("oldest", fast=True)
    b.add_unsigned_field("tlen", fast=True)
    b.add_unsigned_field("blen", fast=True)
    # the sketch as columns: the copies of a page's hits are checked without loading any
    # stored article (a stored field costs a block decompression per article)
    b.add_unsigned_field("siglen", fast=True)
    for i in range(dedupe.SIGNATURE_SIZE):
        b.add_unsigned_field(f"sig{i}", fast=True)
    # the article's record beside the index (id, meta, term counts: :mod:`.rows`)
    b.add_unsigned_field("row", fast=True)
    return b.build()


def pack_tfs(counts: Dict[str, int]) -> str:
    """Term counts as text, ``"\nterm count\n..."``: finding a few terms in it is much
    cheaper than decoding all of them (a window re-scores a handful of terms:
    :meth:`.stored.Row.tf` finds them in the record's bytes)."""
    n = len(counts)
    if not n:
        return "\n\n"
    # one %-format over the terms and counts interleaved (slice assignments, all in C):
    # ~30% less than formatting an f-string per term and joining them
    parts: List[object] = [None] * (2 * n)
    parts[0::2] = counts
    parts[1::2] = counts.values()
    return ("\n" + "%s %s\n" * n) % tuple(parts)


@dataclass
class Analysed:
    """What a worker makes of one article (the writer keeps the article itself)."""

    title: Field
    body: Field
    tlen: int
    blen: int
    meta: bytes
    tfs: bytes
    sig: Tuple[int, ...]


def _field(text: str, lang: Optional[str], *, twice: bool) -> Tuple[Field, List[str], Dict[str, int], List[str]]:
    """(what the field is written as, its terms, term counts, surfaces)."""
    terms, positions, surfaces, plain = analysis.pipeline.index_terms_checked(text or "", lang=lang)
    joined = " ".join(terms)
    # terms never hold spaces; checked on the whole text at once (clipping each costs 10%);
    # printable text holds no whitespace but the space (the regex only runs on the rest).
    # Needless when the analysis says all terms are plain (printable, no space).
    if not plain and (joined.count(" ") != max(0, len(terms) - 1)
                      or (not joined.isprintable() and _OTHER_SPACE.search(joined))):
        terms = [clip(t) for t in terms]
        joined = " ".join(terms)
    counts: Dict[str, int] = Counter(terms)
    if positions is None:
        out: Field = " ".join(t for t in terms for _ in (0, 1)) if twice else joined
    elif twice:
        out = [tok for t, p in zip(terms, positions) for tok in ((t, 2 * p), (t, 2 * p + 1))]
    else:
        out = list(zip(terms, positions))
    return out, terms, counts, surfaces


def analyse(doc: IndexDoc) -> Analysed:
    """*doc*'s fields, term counts (for exact re-scoring), lengths and sketch."""
    title, tterms, tcounts, twords = _field(doc.title, doc.lang, twice=True)
    body, bterms, bcounts, bwords = _field(doc.body, doc.lang, twice=False)
    sig = tuple(doc.signature) if doc.signature is not None else tuple(dedupe.signature_of_words(twords + bwords))
    meta = {
        "chash": doc.chash, "src": doc.source, "sk": doc.source_key, "lang": doc.lang, "url": doc.url,
        "author": doc.author,
        "pub": micros(doc.published) if doc.published is not None else None,
        "dom": list(doc.domains), "uw": list(doc.url_words), "aw": list(doc.author_words),
        "tl": len(tterms), "bl": len(bterms),
    }
    raw = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    tfs = (pack_tfs(tcounts) + "\0" + pack_tfs(bcounts)).encode("utf-8", "surrogatepass")
    return Analysed(title, body, len(tterms), len(bterms), raw, tfs, sig)


def _add_text(d: "tantivy.Document", name: str, value: Field) -> None:
    if isinstance(value, str):
        d.add_text(name, value)
    else:
        tokens = [tantivy.Token(t, p, 0, 0) for t, p in value]
        d.add_pre_tokenized_text(name, tantivy.PreTokenizedString("", tokens))


def document(doc: IndexDoc, a: Analysed, row: int) -> "tantivy.Document":
    """The tantivy document of an article and what analysing it gave; *row* numbers its
    record (:mod:`.rows`), which holds the text, ``meta`` and term counts."""
    d = tantivy.Document()
    d.add_text("id", doc.id)
    _add_text(d, "title", a.title)
    _add_text(d, "body", a.body)
    d.add_text("source", doc.source)
    if doc.lang:
        d.add_text("lang", doc.lang)
    d.add_text("source_key", doc.source_key)
    for name, values in (("domains", doc.domains), ("urlwords", doc.url_words), ("authorwords", doc.author_words)):
        for v in values:
            d.add_text(name, v)
    for k in a.sig[: dedupe.BUCKET_KEYS]:
        d.add_unsigned("sigkeys", k)
    if doc.published is not None:
        us = micros(doc.published)
        d.add_integer("published", us)
        d.add_integer("newest", us)
        d.add_integer("oldest", -us)
    else:
        d.add_integer("newest", UNDATED)
        d.add_integer("oldest", UNDATED)
    d.add_unsigned("tlen", a.tlen)
    d.add_unsigned("blen", a.blen)
    d.add_unsigned("siglen", len(a.sig))
    for i, h in enumerate(a.sig[: dedupe.SIGNATURE_SIZE]):
        d.add_unsigned(f"sig{i}", h)
    d.add_unsigned("row", row)
    return d

