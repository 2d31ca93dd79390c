"""The query tree (:mod:`newssearch.query`) and a search's filters, compiled to Whoosh queries.

One :class:`QueryCompiler` per compilation: it holds what that compilation needs (the
search's language, the languages the index holds, the reader for prefix and fuzzy
expansion) and what it found out (warnings, expansions), so nothing is kept between
searches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, List, Optional, Sequence, Set, Tuple

from whoosh import query as wq
from whoosh.fields import Schema
from whoosh.support.levenshtein import distance as edit_distance

from ... import analysis
from ...query import MIN_PREFIX, Node
from ..base import SearchSpec
from ..documents import MAX_EXPANSION, MAX_SCAN, author_words, clean_domain, source_key, url_words
from ..walk import TreeWalk
from .schema import naive_utc

__all__ = ["QueryCompiler", "CompileReport", "filters"]


@dataclass
class CompileReport:
    """What compiling a tree did beyond the tree itself."""

    warnings: List[str] = field(default_factory=list)
    expanded: Dict[str, int] = field(default_factory=dict)
    """Prefix/fuzzy word -> number of index terms it expanded to (never above MAX_EXPANSION)."""
    terms: Set[str] = field(default_factory=set)
    """The index terms chosen for prefix/fuzzy words (what snippets mark)."""

    def merge(self, other: "CompileReport") -> None:
        self.warnings += other.warnings
        self.expanded.update(other.expanded)
        self.terms |= other.terms


def _any_term(fieldname: str, terms: Sequence[str]) -> wq.Query:
    """One term, or any of several alternatives for one word."""
    if len(terms) == 1:
        return wq.Term(fieldname, terms[0])
    return wq.Or([wq.Term(fieldname, t) for t in terms])


def filters(spec: SearchSpec) -> List[wq.Query]:
    """A search's filters as Whoosh queries (every one must hold)."""
    out: List[wq.Query] = []
    if spec.sources:
        out.append(wq.Or([wq.Term("source_key", source_key(s)) for s in spec.sources]))
    if spec.since is not None or spec.until is not None:
        out.append(wq.DateRange("published", naive_utc(spec.since), naive_utc(spec.until)))
    if spec.lang:
        out.append(wq.Term("lang", spec.lang.lower()))
    if spec.domains:
        out.append(wq.Or([wq.Term("domains", clean_domain(d)) for d in spec.domains]))
    if spec.authors:
        names = [[wq.Term("authorwords", w) for w in author_words(a)] for a in spec.authors]
        out.append(wq.Or([wq.And(n) if len(n) > 1 else n[0] for n in names if n]) if any(names) else wq.NullQuery)
    if spec.exclude_domains:
        out.append(wq.Not(wq.Or([wq.Term("domains", clean_domain(d)) for d in spec.exclude_domains])))
    if spec.exclude_sources:
        out.append(wq.Not(wq.Or([wq.Term("source_key", source_key(s)) for s in spec.exclude_sources])))
    if spec.exclude_ids:
        out.append(wq.Not(wq.Or([wq.Term("id", i) for i in spec.exclude_ids])))
    return out


class QueryCompiler(TreeWalk[wq.Query]):
    """Compiles one tree; ``report`` says what the compilation warned about and expanded.

    *lang* (the search's language filter) stems query words for that language; *langs*,
    the languages the index holds, are tried too (see ``analysis.query_alternatives``).
    *reader* is the Whoosh reader prefix and fuzzy words are expanded against.
    """

    def __init__(self, reader, schema: Schema, *, lang: Optional[str], langs: Tuple[str, ...]) -> None:  # noqa: ANN001
        self.reader = reader
        self.schema = schema
        self.lang = lang.lower() if lang else None
        self.langs = langs
        self.report = CompileReport()

    def compile(self, node: Node) -> wq.Query:
        """*node* as a Whoosh query (NullQuery when nothing in it is searchable)."""
        compiled = self._compile(node)
        return compiled if compiled is not None else wq.NullQuery

    def dates(self, start: Optional[datetime], end: Optional[datetime]) -> wq.Query:
        return wq.DateRange("published", naive_utc(start), naive_utc(end))

    def either(self, kids: List[wq.Query], need: int) -> Optional[wq.Query]:
        return wq.Or(kids) if len(kids) > 1 else (kids[0] if kids else None)  # nested at-least-k-of: an Or

    def both(self, pos: List[wq.Query], neg: List[wq.Query]) -> Optional[wq.Query]:
        if not pos:
            return None if not neg else wq.AndNot(wq.Every(), wq.Or(neg))
        base = wq.And(pos) if len(pos) > 1 else pos[0]
        return wq.AndNot(base, wq.Or(neg)) if neg else base

    def word(self, text: str, fieldname: Optional[str], slop: int) -> Optional[wq.Query]:
        """A word or phrase (*slop* 0 = adjacent) in one field, or in title and body."""
        if fieldname == "source":
            return wq.Term("source_key", source_key(text.strip()))
        if fieldname == "lang":
            return wq.Term("lang", text.strip().lower())
        if fieldname == "site":
            return wq.Term("domains", clean_domain(text))
        if fieldname in ("url", "author"):
            words = url_words(text) if fieldname == "url" else author_words(text)
            if not words:
                return None
            name = "urlwords" if fieldname == "url" else "authorwords"
            return wq.And([wq.Term(name, w) for w in words]) if len(words) > 1 else wq.Term(name, words[0])
        alternatives = analysis.query_alternatives(text, lang=self.lang, langs=self.langs)
        if not alternatives:
            return None
        fields = (fieldname,) if fieldname else ("title", "body")
        if len(alternatives) == 1:
            parts = [_any_term(f, alternatives[0]) for f in fields]
        elif all(len(a) == 1 for a in alternatives):
            # Whoosh's slop 1 means adjacent; ours 0 does
            parts = [wq.Phrase(f, [a[0] for a in alternatives], slop=slop + 1) for f in fields]
        else:
            # a word with alternative terms (Hebrew prefixes, Arabic stems...): a span
            # sequence of Or's, since Phrase takes one term per position
            parts = [wq.Sequence([_any_term(f, a) for a in alternatives], slop=slop + 1) for f in fields]
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def _expand(self, text: str, fieldname: Optional[str], *, prefix: bool, distance: int = 1) -> Optional[wq.Query]:
        """A prefix or fuzzy word as an Or of at most MAX_EXPANSION index terms (the most frequent)."""
        folded = analysis.query_terms(text, stem=False)
        stemmed = analysis.query_terms(text)
        if not folded:
            return None
        # a multi-token word ("then-col*"): the leading tokens are plain words
        head = [wq.Or([wq.Term(f, t) for f in (fieldname,) if f] or [wq.Term("title", t), wq.Term("body", t)])
                for t in stemmed[:-1]]
        word = folded[-1]
        stem = stemmed[-1] if stemmed else word
        if fieldname == "url":  # url: words live in their own field
            fieldname = "urlwords"
        fields = (fieldname,) if fieldname else ("title", "body")
        if not all(f in self.schema and self.schema[f].indexed for f in fields):
            return wq.NullQuery
        if prefix and len(word) < MIN_PREFIX:
            # "[a*" folds to "a": too short a prefix to expand, searched as the word
            self.report.warnings.append(f"prefix {text + '*'!r} is too short: searched {word!r}")
            return self.word(" ".join(folded), fieldname, slop=0)
        reader = self.reader
        freq: Dict[str, int] = {}
        cut = False
        for f in fields:
            scanned = 0
            if prefix:
                # the index holds stems: "presidents*" must look for "presid..."
                base = stem if word.startswith(stem) else word
                # iter_prefix hands over each term's stats with it: no second lookup per term
                for btext, info in reader.iter_prefix(f, base):
                    scanned += 1
                    if scanned > MAX_SCAN:
                        cut = True
                        break
                    t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                    freq[t] = freq.get(t, 0) + info.doc_frequency()
            else:
                # sharing the first letter keeps the scan to one slice of the lexicon
                for btext in reader.expand_prefix(f, stem[:1]):
                    scanned += 1
                    if scanned > MAX_SCAN:
                        cut = True
                        break
                    t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                    if abs(len(t) - len(stem)) > distance:
                        continue
                    if edit_distance(t, stem, limit=distance + 1) <= distance:
                        freq[t] = freq.get(t, 0) + reader.doc_frequency(f, t)
        label = f"{text}*" if prefix else f"{text}~{distance}"
        chosen = sorted(freq, key=lambda t: (-freq[t], t))
        if len(chosen) > MAX_EXPANSION:
            cut = True
            chosen = chosen[:MAX_EXPANSION]
        if cut:
            self.report.warnings.append(f"{label!r} matches too many words: searched the {len(chosen)} most frequent")
        self.report.expanded[label] = len(chosen)
        self.report.terms.update(chosen)
        if not chosen:
            return wq.NullQuery if not head else None
        alts = wq.Or([wq.Term(f, t) for t in chosen for f in fields])
        return wq.And(head + [alts]) if head else alts
