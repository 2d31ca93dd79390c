"""One segment as numpy arrays: postings (with a shared LRU budget), lengths, columns."""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import Schema
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from ... import dedupe
from .codec import PackedPositions
from .schema import NO_DATE

POSTINGS_CACHE = 1_000_000
"""Most postings kept decoded per index, shared by its segments (roughly 70 MB with positions)."""
CACHE_MIN_POSTINGS = 32
"""Posting lists shorter than this are cheap to decode again and are not kept."""

_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


def _numeric_column(col, n: int) -> np.ndarray:  # noqa: ANN001 - whoosh column reader
    """A whole numeric column as one array (one read instead of one per document)."""
    if not isinstance(col, NumericColumn.Reader):
        return np.fromiter((col[i] for i in range(n)), dtype=np.float64, count=n)  # pragma: no cover
    count = min(col._count, n)
    raw = col._dbfile.get(col._basepos, count * col._fixedlen)
    values = np.frombuffer(raw, dtype=np.dtype(col._typecode).newbyteorder(">"), count=count)
    if count < n:  # documents past the written part hold the default
        values = np.concatenate([values, np.full(n - count, col._default, dtype=values.dtype)])
    return values


class _TermPostings:
    """One term's postings in one segment: docnums, weights and (lazily) positions."""

    __slots__ = ("ids", "weights", "df", "_values", "_counts", "_abs", "_starts")

    def __init__(self, ids: np.ndarray, weights: np.ndarray, values: List[Sequence[bytes]], df: int = 0) -> None:
        self.ids = ids
        self.weights = weights
        self.df = df  # the term's document frequency in the segment, deleted documents included (as Whoosh's)
        self._values = values  # per block: PackedPositions, or Whoosh's tuple of value bytes
        self._counts: Optional[np.ndarray] = None
        self._abs: Optional[np.ndarray] = None
        self._starts: Optional[np.ndarray] = None

    def _decode(self) -> None:
        counts, deltas = [], []
        for v in self._values:
            if not isinstance(v, PackedPositions):  # a block Whoosh's own writer wrote
                v = PackedPositions.from_values(list(v))
            counts.append(np.asarray(v.counts, dtype=np.int64))
            deltas.append(np.asarray(v.deltas, dtype=np.int64))
        c = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        d = np.concatenate(deltas) if deltas else np.zeros(0, dtype=np.int64)
        starts = np.cumsum(c) - c
        running = np.cumsum(d)
        # each posting's deltas start from 0: take off what the postings before it summed to
        before = running[starts] - d[starts] if d.size else np.zeros(0, dtype=np.int64)
        self._abs = running - np.repeat(before, c)
        self._counts, self._starts = c, starts

    def positions(self, docs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(docnum, position) pairs, in docnum then position order, for the documents of the
        bool array *docs* (one entry per document of the segment) that hold the term."""
        if self._abs is None:
            self._decode()
        at = np.flatnonzero(docs[self.ids])
        if not at.size:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        c = self._counts[at]
        total = int(c.sum())
        first = self._starts[at]
        # indexes of every position of the chosen postings, without a Python loop
        idx = np.repeat(first - (np.cumsum(c) - c), c) + np.arange(total)
        return np.repeat(self.ids[at], c), self._abs[idx]


_NO_POSTINGS = _TermPostings(np.zeros(0, dtype=np.int64), np.zeros(0), [])


class _Leaf:
    """One segment as arrays, built lazily and kept while the index state lives."""

    def __init__(self, reader, offset: int, schema: Schema) -> None:  # noqa: ANN001 - whoosh reader
        self.reader = reader
        self.offset = offset
        self.n = reader.doc_count_all()
        self.schema = schema
        self._terms = reader._terms
        self.live = np.ones(self.n, dtype=bool)
        deleted = reader.deleted_docs_set
        if deleted:
            self.live[np.fromiter(deleted, dtype=np.int64, count=len(deleted))] = False
        self._lengths: Dict[str, np.ndarray] = {}
        self._published: Optional[np.ndarray] = None
        self._date_key: Optional[np.ndarray] = None
        self._codes: Dict[str, Tuple[np.ndarray, List[str]]] = {}
        self._dupkeys: Optional[Tuple[np.ndarray, np.ndarray]] = None
        self._sigs: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None
        self._cache: "OrderedDict[Tuple[str, object], _TermPostings]" = OrderedDict()
        self._cached = 0
        self.cache_budget = POSTINGS_CACHE
        self._ids = None

    def id(self, docnum: int) -> str:
        """The article id of one document of this segment, from its column (no stored fields)."""
        col = self._ids
        if col is None:
            col = self._ids = self.reader.column_reader("id", translate=False)
        value = col[docnum]
        return value.decode("utf-8") if isinstance(value, bytes) else str(value)

    def blocks(self, fieldname: str, term: object) -> List[Tuple[np.ndarray, np.ndarray, Sequence[bytes]]]:
        """The posting blocks of one term: (docnums, weights, values) each; [] if absent."""
        return self._blocks(fieldname, term)[0]

    def _blocks(self, fieldname: str, term: object) -> Tuple[List[Tuple[np.ndarray, np.ndarray, Sequence[bytes]]], int]:
        """(:meth:`blocks`, document frequency), from one lookup in the term table."""
        tbytes = term.encode("utf-8") if isinstance(term, str) else term
        terms = self._terms
        try:
            info = terms.term_info(fieldname, tbytes)
        except TermNotFound:
            return [], 0
        # W3TermsReader.matcher without its second lookup of the same term
        m = terms._codec.postings_reader(terms._postfile, info, self.schema[fieldname].format, term=(fieldname, tbytes))
        df = info.doc_frequency()
        if not isinstance(m, W3LeafMatcher):  # inlined postings: plain lists
            ids = np.asarray(m._ids, dtype=np.int64)
            weights = np.asarray(m._weights if m._weights is not None else [1.0] * len(ids), dtype=np.float64)
            return [(ids, weights, m._values or ())], df
        out = []
        while m.is_active():
            if m._data is None:
                m._read_data()
            deltas, weights, values = m._data
            ids = np.cumsum(np.asarray(deltas), dtype=np.int64)
            if weights is None:
                w = np.ones(ids.size)
            elif isinstance(weights, float):
                w = np.full(ids.size, weights)
            else:
                w = np.asarray(weights, dtype=np.float64)
            out.append((ids, w, values if values is not None else ()))
            m._next_block()
        return out, df

    def postings(self, fieldname: str, term: object) -> "_TermPostings":
        """One term's postings, all blocks joined.

        Long posting lists (common words) are kept, least recently used dropped first,
        up to this segment's share of POSTINGS_CACHE: the same common words come back in
        query after query (phrases above all).
        """
        key = (fieldname, term)
        cache = self._cache
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
        blocks, df = self._blocks(fieldname, term)
        if not blocks:
            return _NO_POSTINGS
        ids = np.concatenate([b[0] for b in blocks]) if len(blocks) > 1 else blocks[0][0]
        weights = np.concatenate([b[1] for b in blocks]) if len(blocks) > 1 else blocks[0][1]
        found = _TermPostings(ids, weights, [b[2] for b in blocks], df)
        if ids.size >= CACHE_MIN_POSTINGS:
            cache[key] = found
            self._cached += ids.size
            while self._cached > self.cache_budget and cache:
                _k, old = cache.popitem(last=False)
                self._cached -= old.ids.size
        return found

    def lengths(self, fieldname: str) -> np.ndarray:
        found = self._lengths.get(fieldname)
        if found is None:
            name = f"_{fieldname}_len"
            perdoc = self.reader._perdoc
            if perdoc.has_column(name):
                raw = _numeric_column(perdoc.column_reader(name, LENGTHS_COLUMN), self.n)
                found = _BYTE_LENGTHS[raw]
            else:
                found = np.ones(self.n)
            self._lengths[fieldname] = found
        return found

    def published(self) -> np.ndarray:
        """Raw DATETIME column values (microseconds since datetime.min), NO_DATE if none."""
        if self._published is None:
            if self.reader.has_column("published"):
                col = self.reader.column_reader("published", translate=False)
                self._published = _numeric_column(col, self.n).astype(np.uint64)
            else:
                self._published = np.full(self.n, NO_DATE, dtype=np.uint64)
        return self._published

    def dupkeys(self) -> Tuple[np.ndarray, np.ndarray]:
        """(sorted lookup keys, their docnums): the first BUCKET_KEYS hashes of every
        document's signature, from one read of the signature column. Finding the copies
        of ten hits is then forty binary searches instead of forty term lookups."""
        if self._dupkeys is None:
            keys: List[np.ndarray] = []
            docs: List[np.ndarray] = []
            if self.reader.has_column("dupsig"):
                col = self.reader.column_reader("dupsig", translate=False)
                if isinstance(col, VarBytesColumn.Reader):
                    lengths = np.asarray(col._lengths, dtype=np.int64)[: self.n]
                    raw = col._dbfile.get(col._basepos, int(lengths.sum())) if lengths.size else b""
                    words = np.frombuffer(raw, dtype=">u8", count=len(raw) // 8)
                    nwords = lengths // 8
                    starts = np.concatenate([[0], np.cumsum(nwords)[:-1]]) if nwords.size else nwords
                    self._sigs = (words, starts.astype(np.int64), nwords)
                    for j in range(dedupe.BUCKET_KEYS):
                        has = np.flatnonzero(nwords > j)
                        keys.append(words[starts[has] + j].astype(np.uint64))
                        docs.append(has)
                else:  # pragma: no cover - another column type
                    for d in range(self.n):
                        sig = dedupe.from_bytes(col[d])[: dedupe.BUCKET_KEYS]
                        keys.append(np.asarray(sig, dtype=np.uint64))
                        docs.append(np.full(len(sig), d, dtype=np.int64))
            k = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
            d = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
            order = np.argsort(k, kind="stable")
            self._dupkeys = (k[order], d[order])
        return self._dupkeys

    def signature(self, docnum: int) -> Tuple[int, ...]:
        """The near-duplicate signature of one document of this segment (() if none)."""
        if self._dupkeys is None:
            self.dupkeys()
        if self._sigs is None:  # pragma: no cover - another column type
            col = self.reader.column_reader("dupsig", translate=False) if self.reader.has_column("dupsig") else None
            return dedupe.from_bytes(col[docnum]) if col is not None else ()
        words, starts, nwords = self._sigs
        start = int(starts[docnum])
        return tuple(words[start : start + int(nwords[docnum])].tolist())

    def sketches(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(every document's sketch hashes end to end, each one's start, each one's length)."""
        if self._dupkeys is None:
            self.dupkeys()
        if self._sigs is None:  # pragma: no cover - another column type
            sigs = [self.signature(d) for d in range(self.n)]
            lengths = np.asarray([len(sig) for sig in sigs], dtype=np.int64)
            words = np.asarray([h for sig in sigs for h in sig], dtype=np.uint64)
            return words, np.cumsum(lengths) - lengths, lengths
        return self._sigs

    def date_key(self) -> np.ndarray:
        """Dates as floats for ordering, undated articles as -1 (before every date)."""
        if self._date_key is None:
            pub = self.published()
            self._date_key = np.where(pub == NO_DATE, -1.0, pub.astype(np.float64))
        return self._date_key

    def codes(self, fieldname: str) -> Tuple[np.ndarray, List[str]]:
        """Per document, the index of its value of an ID field in the returned names (-1: none)."""
        found = self._codes.get(fieldname)
        if found is None:
            codes = np.full(self.n, -1, dtype=np.int64)
            names: List[str] = []
            for tbytes in self.reader.lexicon(fieldname):
                ids = [b[0] for b in self.blocks(fieldname, tbytes)]
                if ids:
                    codes[np.concatenate(ids)] = len(names)
                    names.append(tbytes.decode("utf-8") if isinstance(tbytes, bytes) else str(tbytes))
            found = self._codes[fieldname] = (codes, names)
        return found


def _day_key(raw: np.ndarray) -> np.ndarray:
    """Raw DATETIME values to whole days since datetime.min."""
    return raw // np.uint64(86_400_000_000)

