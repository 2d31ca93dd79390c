"""The Whoosh wing: the only module that imports whoosh.

Schema, the analyzer adapter, query-tree compilation, writer and searcher
lifecycle. Whoosh objects never leave this module: hits are copied into
:class:`~newssearch.model.Hit` before the searcher is released.

Security note: a Whoosh index stores its segment list with pickle, so opening an
index directory unpickles data from it. Only open indexes you built yourself.
"""
from __future__ import annotations

import contextlib
import contextvars
import gc
import json
import math
import os
import re
import shutil
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from io import BytesIO
from itertools import chain, groupby
from operator import sub as _sub
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple
from urllib.parse import urlsplit

from array import array
from pickle import dumps as _pickle_dumps
from pickle import UnpicklingError
from pickle import load as _pickle_load
from pickle import loads as _pickle_loads

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import collectors, scoring, sorting, writing
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound
from whoosh.searching import TimeLimit
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import LockError
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter, W3Segment, W3TermInfo
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.support.levenshtein import distance as _edit_distance
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length, length_to_byte

import numpy as np

from .. import analysis, dedupe
from . import arrays
from .._testhooks import checkpoint
from ..errors import IndexLocked, IndexNotFound, RebuildNeeded
from ..model import Article
from ..query import MIN_PREFIX, And, AnyOf, DateRange, Fuzzy, Node, Not, Or, Phrase, Prefix, Word

__all__ = ["WhooshEngine", "FORMAT_VERSION", "TITLE_BOOST", "SearchSpec"]

FORMAT_VERSION = 5
"""Bump when the schema changes; together with ANALYSIS_VERSION it guards old indexes."""

TITLE_BOOST = 2.0
"""A title match weighs this many body matches (BM25F field weight)."""

MAX_SEGMENTS = 16
"""More segments than this after a write are merged (small ones first)."""

CHUNK_DOCS = 25_000
"""Articles held in memory before they are written as segments (bounds peak memory)."""

PARALLEL_MIN_DOCS = 1_000
"""Below this many articles a write stays on one core (a second process costs ~0.3 s)."""

# The language of the document being added, for Whoosh's own writer path. Whoosh gives a
# field analyzer no per-document arguments, so a caller of a plain Whoosh writer sets this
# around add_document and NewsTokenizer reads it. FastSegmentWriter, which every write of
# ours goes through (in this process and in the helper process), takes the language from
# the document's own `lang` field instead, so it travels with each document.
_DOC_LANG: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("newssearch_doc_lang", default=None)
# The same for compiling a query: (the search's language, the languages the index holds),
# read by _word without threading them through every _compile call.
_QUERY_LANGS: contextvars.ContextVar[Tuple[Optional[str], Optional[Tuple[str, ...]]]] = contextvars.ContextVar(
    "newssearch_query_langs", default=(None, None)
)

_META_FILE = "newssearch.json"
_INDEX_NAME = "MAIN"


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
        for term, pos, start, end in analysis.analyze(value, lang=_DOC_LANG.get()):
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


def _typecode(largest: int) -> str:
    """The smallest unsigned array typecode holding *largest*."""
    return "B" if largest < 256 else "H" if largest < 65536 else "I" if largest < 2**32 else "Q"


def _packed(values: Iterable[int]) -> array:
    a = array("I", values) if not isinstance(values, array) else values
    largest = max(a) if len(a) else 0
    tc = _typecode(largest)
    return a if a.typecode == tc else array(tc, a)


class PackedPositions:
    """The position lists of one block of postings in two small arrays.

    Whoosh stores each posting's positions as its own pickled list inside the block's
    pickled tuple: ~17 bytes and an object per posting to write, unpickle and decode.
    Here a block holds ``counts`` (positions per posting) and ``deltas`` (each posting's
    positions, delta-coded from 0), so a block unpickles as two arrays and the array
    searcher decodes all its positions at once. Indexing by posting gives Whoosh's own
    value bytes, so Whoosh's matchers, phrase queries and merges read it unchanged.

    Module-level on purpose: Whoosh pickles block data, so this class is looked up by
    name when a segment is read.
    """

    __slots__ = ("counts", "deltas", "_starts")

    def __init__(self, counts: array, deltas: array) -> None:
        self.counts = counts
        self.deltas = deltas
        self._starts: Optional[List[int]] = None

    @classmethod
    def from_values(cls, values: Sequence[bytes]) -> "PackedPositions":
        """Pack Whoosh-format position values (count + pickled deltas each)."""
        counts: List[int] = []
        deltas: List[int] = []
        for v in values:
            ds = _pickle_loads(v[4:]) if v else []  # written by Whoosh or by us, in our own index
            counts.append(len(ds))
            deltas.extend(ds)
        return cls(_packed(counts), _packed(deltas))

    def __len__(self) -> int:
        return len(self.counts)

    def __getitem__(self, i: int) -> bytes:
        if self._starts is None:
            starts, pos = [], 0
            for c in self.counts:
                starts.append(pos)
                pos += c
            self._starts = starts
        start = self._starts[i]
        n = self.counts[i]
        return pack_uint(n) + _pickle_dumps(list(self.deltas[start : start + n]), 2)

    def __iter__(self) -> Iterator[bytes]:
        return (self[i] for i in range(len(self.counts)))

    def __reduce__(self):
        return (_unpack_positions, (self.counts.typecode, self.counts.tobytes(), self.deltas.typecode, self.deltas.tobytes()))


def _unpack_positions(ctype: str, counts: bytes, dtype: str, deltas: bytes) -> PackedPositions:
    """Unpickling helper of :class:`PackedPositions` (module-level for pickle)."""
    c, d = array(ctype), array(dtype)
    c.frombytes(counts)
    d.frombytes(deltas)
    return PackedPositions(c, d)


_MIN_COMPRESS = 256
"""Posting blocks smaller than this many bytes are stored uncompressed."""
BLOCK_POSTINGS = 1024
"""Most postings in one block (Whoosh's default is 128)."""


_INLINE_POSTINGS = 2
"""Terms of fields other than title and body with at most this many postings are stored
inline in the term table (Whoosh's own inlining, read back as a ListMatcher): an id, a
url word, a dedupe key or a timestamp is mostly one posting, and a block of its own cost
~90 bytes and a pickle. Title and body postings always stay in W3 blocks."""


class NewsPostingsWriter(W3PostingsWriter):
    """Whoosh 3's postings writer with compact blocks; Whoosh's readers read them as usual.

    - ids (delta-coded) and weights are arrays, not tuples of Python numbers;
    - positions are :class:`PackedPositions`, not a pickled list per posting;
    - tiny blocks are not zlib-compressed: Whoosh meant to skip compressing blocks under
      20 bytes but overwrites the decision (whoosh3.py ``_write_block``), and most terms
      in news have one or two postings. Readers take the level from each block's header.
    """

    def start_postings(self, format_, terminfo):
        super().start_postings(format_, NewsTermInfo())

    def finish_postings(self):
        # Whoosh's own inlining calls a misspelt terminfo method (set_inline) and so never
        # runs (its inlinelimit default of 1 inlines nothing); readers handle inlined terms
        if not self.written() and len(self) < self._inlinelimit:
            terminfo = self._terminfo
            terminfo.add_block(self)
            weights = self._weights
            # one value per posting, b"" when the format has none: with no values Whoosh's
            # ListMatcher.value() gives "" (a str), which its merge pool rejects
            terminfo.set_inlined(self._ids, weights, self._values or [b""] * len(self._ids))
            if weights.count(1.0) == len(weights):
                # ListMatcher takes no weights as all 1.0; saves 9 bytes a posting
                terminfo._inlined = (terminfo._inlined[0], None, terminfo._inlined[2])
            self._terminfo = None
            return terminfo
        return super().finish_postings()

    # Whoosh's _mini_ids/_mini_weights walk a Python generator per posting; these give
    # the same values with C-level loops
    def _mini_ids(self):
        ids = self._ids
        if self._byteids:  # pragma: no cover - vectors, which we never write
            return tuple(ids)
        return _packed(array("I", map(_sub, ids, chain((0,), ids))))

    def _mini_weights(self):
        weights = self._weights
        first = weights[0]
        if weights.count(first) == len(weights):
            return None if first == 1.0 else float(first)
        return weights if isinstance(weights, array) and weights.typecode == "f" else array("f", weights)

    def _mini_values(self):
        values = self._values
        if isinstance(values, PackedPositions):
            return values
        if values and isinstance(self._format, Positions):
            return PackedPositions.from_values(values)
        return super()._mini_values()

    def _write_block(self, last=False):
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        # protocol 3, not Whoosh's 2: the reader unpickles whatever protocol, and protocol 2
        # writes every position value (bytes) as a ~20-byte _codecs.encode call
        databytes = _pickle_dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), 3)
        comp = self._compression if len(databytes) >= _MIN_COMPRESS else 0
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        infobytes = _pickle_dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        blocklength = len(infobytes) + len(databytes)
        postfile = self._postfile
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class NewsTermInfo(W3TermInfo):
    """W3TermInfo whose inlined postings are pickled with protocol 3 instead of 2.

    Whoosh reads them with ``pickle.loads``, which takes any protocol; protocol 2 writes
    each ``bytes`` as a ~40-byte ``_codecs.encode`` call, protocol 3 in two bytes.
    """

    def to_bytes(self):
        if not self.is_inlined():
            return super().to_bytes()
        minlength = 0 if self._minlength is None else length_to_byte(self._minlength)
        minid = 0xFFFFFFFF if self._minid is None else self._minid
        maxid = 0xFFFFFFFF if self._maxid is None else self._maxid
        head = self._struct.pack(
            True, self._weight, self._df, minlength, length_to_byte(self._maxlength), self._maxweight, minid, maxid
        )
        return head + _pickle_dumps(self._inlined, 3)


class NewsCodec(W3Codec):
    """Whoosh's default codec with :class:`NewsPostingsWriter`; reads exactly as W3Codec.

    Module-level because Whoosh pickles the codec into each segment's record.

    Blocks hold up to BLOCK_POSTINGS postings, not Whoosh's 128: the array searcher reads
    whole posting lists, and each block costs a fixed ~50 us to decompress and unpickle.
    """

    def __init__(self, blocklimit: int = 0, compression: int = 3, inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit or BLOCK_POSTINGS, compression=compression, inlinelimit=inlinelimit)

    def new_segment(self, storage, indexname):  # noqa: ANN001, ANN201 - whoosh types
        return NewsSegment(self, indexname)

    def postings_writer(self, dbfile, byteids=False):
        return NewsPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


class FastSegmentWriter(writing.SegmentWriter):
    """A Whoosh SegmentWriter that keeps postings in memory, per term, instead of
    sending each posting through Whoosh's pool, sorter and per-posting codec calls.

    Whoosh spends most of its indexing time per posting (pool add, pickling each
    position list, sorting, ``add_posting`` and a column read for every posting's
    document length). Here a document's text fields are analysed once into
    term -> positions, appended to per-term arrays, and at commit every term's
    postings are written a block at a time, with document lengths taken from memory.
    The segment it writes is an ordinary Whoosh segment (same codec, same formats), so
    Whoosh reads, merges and searches it as usual.

    It never merges segments while committing (merging goes through Whoosh's pool);
    :meth:`WhooshEngine.upsert` merges small segments with a plain writer when they pile up.
    """

    def __init__(self, ix, **kwargs):
        super().__init__(ix, **kwargs)
        # field -> term (str for analysed text, bytes otherwise) -> [docnums, freqs, values]
        self._post: Dict[str, Dict[object, list]] = {}
        # field -> weight multiplier (the format's field boost)
        self._boost: Dict[str, float] = {}
        # field -> document lengths (tokens), indexed by docnum - docbase
        self._lengths: Dict[str, array] = {}

    def _posting_table(self, fieldname: str, field) -> Dict[object, list]:
        table = self._post.get(fieldname)
        if table is None:
            table = self._post[fieldname] = {}
            self._boost[fieldname] = field.format.field_boost
            self._lengths[fieldname] = array("I")
        return table

    def add_document(self, **fields):
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        rel = docnum - self.docbase
        lang = fields.get("lang")
        # title and body are analysed once, up front: their terms are indexed below and
        # their token surfaces give the near-duplicate sketch when the caller left it to us
        analysed: Dict[str, Tuple[List[str], Optional[List[int]]]] = {}
        words: List[str] = []
        for name in _TEXT_FIELDS:
            value = fields.get(name)
            if value is not None and isinstance(schema[name].analyzer, NewsTokenizer):
                terms, positions, surfaces = analysis.index_terms_words(value, lang=lang)
                analysed[name] = (terms, positions)
                words += surfaces
        if "dupsig" not in fields and "dupsig" in schema:
            fields.update(_signature_fields(dedupe.signature_of_words(words)))
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    table = self._posting_table(fieldname, field)
                    pre = analysed.get(fieldname)
                    if pre is not None:
                        length = self._index_terms(table, pre[0], pre[1], docnum)
                    elif isinstance(field.analyzer, NewsTokenizer):
                        terms, positions = analysis.index_terms(value, lang=lang)
                        length = self._index_terms(table, terms, positions, docnum)
                    else:
                        for tbytes, freq, _weight, vbytes in field.index(value):
                            entry = table.get(tbytes)
                            if entry is None:
                                entry = table[tbytes] = [array("I"), array("I"), []]
                            entry[0].append(docnum)
                            entry[1].append(freq)
                            entry[2].append(vbytes or b"")
                            if field.scorable:
                                length += freq
                    lengths = self._lengths[fieldname]
                    while len(lengths) < rel:
                        lengths.append(0)
                    lengths.append(length)
                perdocwriter.add_field(fieldname, field, value if field.stored else None, length)
                column = field.column_type
                if column:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(value))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    @staticmethod
    def _index_terms(table: Dict[object, list], terms: List[str], positions: Optional[List[int]], docnum: int) -> int:
        getterm = terms.__getitem__
        # group positions by term with a C-level sort instead of a Python loop per token
        # (the sort is stable, so each term's positions stay in order)
        order = sorted(range(len(terms)), key=getterm)
        for term, group in groupby(order, getterm):
            poslist = list(group) if positions is None else [positions[i] for i in group]
            entry = table.get(term)
            if entry is None:
                # docnums, frequencies, then every posting's positions delta-coded from 0
                entry = table[term] = [array("I"), array("I"), array("I")]
            entry[0].append(docnum)
            n = len(poslist)
            entry[1].append(n)
            if n == 1:
                entry[2].append(poslist[0])
            else:
                entry[2].extend(map(_sub, poslist, chain((0,), poslist)))
        # Whoosh counts a field's length as the terms it indexed, forms included
        return len(terms)

    def add_reader(self, reader):  # pragma: no cover - merging is done by a plain writer
        raise NotImplementedError("FastSegmentWriter does not merge; use a plain Whoosh writer")

    def commit(self, mergetype=None, optimize=None, merge=None):
        # never merge here: Whoosh merges by feeding other segments through its pool
        return super().commit(mergetype=writing.NO_MERGE)

    def commit_with(
        self, extra_segments: Callable[[], Sequence[object]] = tuple, superseded: Iterable[int] = ()
    ) -> None:
        """Commit this writer's segment plus segments written by other processes.

        *extra_segments* is called after this writer's own segment is written, so another
        process can finish its segment meanwhile. *superseded* are segment-relative
        docnums of this writer's documents that a later copy in the same batch replaced.
        """
        self._check_state()
        final = list(self.segments)
        if self._added:
            own = self._finalize_segment()
            for rel in superseded:
                own.delete_document(rel)
            final.append(own)
        else:
            self._close_segment()
        final.extend(extra_segments())
        self._commit_toc(final)
        self._finish()

    def _flush_segment(self):
        self.perdocwriter.close()
        fw = self.fieldwriter
        doccount = self.docnum - self.docbase
        for fieldname in sorted(self._post):
            field = self.schema[fieldname]
            boost = self._boost[fieldname]
            lengths = self._lengths[fieldname]
            lengths.extend([0] * (doccount - len(lengths)))
            base = self.docbase
            table = self._post[fieldname]
            keys = sorted(table)  # str sorts as its UTF-8 bytes do
            fw.start_field(fieldname, field)
            pw = fw._postwriter
            limit = pw._blocklimit
            packed = isinstance(field.analyzer, NewsTokenizer)
            if fieldname not in _TEXT_FIELDS:
                # rare terms of id/date/key fields go in the term table, not a block each
                pw._inlinelimit = _INLINE_POSTINGS + 1
            for key in keys:
                docs, freqs, values = table[key]
                fw.start_term(key.encode("utf-8") if isinstance(key, str) else key)
                n = len(docs)
                offset = 0
                for start in range(0, n, limit):
                    if start:
                        pw._write_block()  # writes the previous block and starts a new one
                    ids = docs[start : start + limit]
                    fr = freqs[start : start + limit]
                    pw._ids = ids
                    pw._weights = array("f", [f * boost for f in fr]) if boost != 1.0 else array("f", fr)
                    pw._maxweight = max(pw._weights)
                    if packed:  # text: each posting's positions are `freq` deltas
                        end = offset + sum(fr)
                        pw._values = PackedPositions(_packed(fr), _packed(values[offset:end]))
                        offset = end
                    else:
                        vals = values[start : start + limit]
                        pw._values = vals if any(vals) else []
                    if field.scorable:
                        lens = list(map(lengths.__getitem__, ids)) if not base else [lengths[d - base] for d in ids]
                        pw._minlength = min(lens) or None
                        pw._maxlength = max(lens)
                fw.finish_term()
            fw.finish_field()
        self._post.clear()
        fw.close()


class _ViewReader:
    """Sequential reads (read, seek, tell, readline) over a memoryview, without copying it."""

    def __init__(self, buf: memoryview) -> None:
        self._buf = buf
        self._pos = 0

    def read(self, n: int = -1) -> bytes:
        start = self._pos
        end = len(self._buf) if n is None or n < 0 else min(len(self._buf), start + n)
        self._pos = end
        return bytes(self._buf[start:end])

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while self._pos < len(self._buf) and (limit < 0 or len(out) < limit):
            ch = self._buf[self._pos]
            self._pos += 1
            out.append(ch)
            if ch == 10:
                break
        return bytes(out)

    def seek(self, pos: int, whence: int = 0) -> int:
        base = 0 if whence == 0 else self._pos if whence == 1 else len(self._buf)
        self._pos = max(0, base + pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._buf = memoryview(b"")


class _MappedFile(BufferFile):
    """A part of an mmapped segment, read in place.

    Whoosh's BufferFile copies its whole buffer into a BytesIO when it is made, so every
    part of every segment a reader opened was copied into memory: a searcher held a copy
    of the index, and peak RSS while indexing grew by the index size at every chunk and
    at verification (1.4 GB at 120k articles). Here slices (``get``) and sequential
    reads (:class:`_ViewReader`) both read the mapped file in place.
    """

    def __init__(self, buf, name=None, onclose=None):  # noqa: ANN001 - whoosh types
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False
        self._stream = None

    @property
    def file(self) -> "_ViewReader":
        if self._stream is None:
            self._stream = _ViewReader(self._buf)
        return self._stream

    def read_pickle(self) -> object:
        # pickle.load on a Python-level reader makes a call per opcode: unpickle from a
        # small copied window instead (block headers are a few dozen bytes)
        stream = self.file
        start = stream.tell()
        size = 512
        while True:
            window = BytesIO(self._buf[start : start + size])
            try:
                value = _pickle_load(window)
            except (EOFError, UnpicklingError):
                if start + size >= len(self._buf):
                    raise
                size *= 8
                continue
            stream.seek(start + window.tell())
            return value

    def close(self) -> None:
        if self.is_closed:
            raise Exception("This file is already closed")
        if self.onclose:
            self.onclose(self)
        if self._stream is not None:
            self._stream.close()
        self.is_closed = True


class NewsCompoundStorage(CompoundStorage):
    """Whoosh's compound segment file, handing out :class:`_MappedFile` parts."""

    def open_file(self, name, *args, **kwargs):  # noqa: ANN001, ANN201 - whoosh types
        if self._source is None or self.is_closed:
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        return _MappedFile(memoryview(self._source)[offset : offset + length], name=name)


class NewsSegment(W3Segment):
    """Whoosh 3's segment, opened as a :class:`NewsCompoundStorage`.

    Module-level because Whoosh pickles segments (and so this class) into the index's
    table of contents; NewsCodec makes every segment we write, merges included, one.
    """

    def open_compound_file(self, storage):  # noqa: ANN001, ANN201 - whoosh types
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return NewsCompoundStorage(dbfile, use_mmap=storage.supports_mmap)


def _write_segment(index_dir: str, batches: Iterable[Sequence[Dict[str, object]]]):
    """Write the documents of *batches* as one new segment of the index in *index_dir*.

    Returns the segment; the caller holds the index lock and puts the segment in the
    table of contents.
    """
    ix = whoosh_index.open_dir(index_dir, indexname=_INDEX_NAME, schema=build_schema())
    writer = FastSegmentWriter(ix, codec=NewsCodec(), _lk=False)
    for batch in batches:
        for fields in batch:
            writer.add_document(**fields)
    segment = writer._finalize_segment()
    # not writer._finish(): that deletes the temporary directory the parent's writer
    # shares with us; the parent removes it when it commits
    writer.is_closed = True
    return segment


def _segment_worker() -> None:
    """Entry point of the helper process. On stdin, pickled one after another: the index
    directory, lists of documents, then None; on stdout, the pickled segment. Only ever
    fed by :class:`_SegmentJob` of this library."""
    import pickle
    import sys

    # our own short-lived process: the cyclic GC only rescans the growing posting
    # tables (indexing makes no garbage cycles to speak of); ~8% of the time
    gc.disable()
    stdin = sys.stdin.buffer
    index_dir = pickle.load(stdin)

    def batches() -> Iterator[Sequence[Dict[str, object]]]:
        while True:
            batch = pickle.load(stdin)
            if batch is None:
                return
            yield batch

    segment = _write_segment(index_dir, batches())
    sys.stdout.buffer.write(pickle.dumps(segment, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


_SEND_DOCS = 32
"""Documents pickled to the helper per write (fewer, larger writes; small enough to keep it busy)."""


class _SegmentJob:
    """Write part of a batch as its own segment in a second Python process, streamed.

    Started as soon as a batch is big enough and fed documents while the caller is still
    reading its input, so reading, analysing and writing overlap on two cores.

    A plain subprocess, not multiprocessing: multiprocessing's spawn/forkserver re-run
    the caller's main module (breaking scripts without a ``__main__`` guard) and fork
    is unsafe in threaded callers. If the helper cannot run or dies, its documents are
    written in this process instead, so the result is the same either way, only slower.
    """

    def __init__(self, index_dir: str) -> None:
        import pickle
        import subprocess
        import sys

        self.index_dir = index_dir
        self.docs: List[Dict[str, object]] = []  # everything sent, for the fallback
        self._unsent = 0
        self._dumps = pickle.dumps
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        try:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                [sys.executable, "-c", "from newssearch.engine.whoosh import _segment_worker; _segment_worker()"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except (OSError, ValueError):
            self.proc = None
        self._send(index_dir)

    def _send(self, obj: object) -> None:
        if self.proc is None:
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(self._dumps(obj, protocol=5))
        except (OSError, ValueError):  # the helper died: its documents are written here
            self._abandon()

    def _abandon(self) -> None:
        if self.proc is not None:
            proc, self.proc = self.proc, None
            try:
                proc.kill()
                proc.wait()
            except OSError:  # pragma: no cover - already gone
                pass

    def add(self, fields: Dict[str, object]) -> int:
        """Queue one document; returns its docnum in the helper's segment."""
        self.docs.append(fields)
        self._unsent += 1
        if self._unsent >= _SEND_DOCS:
            self._flush()
        return len(self.docs) - 1

    def _flush(self) -> None:
        if self._unsent:
            self._send(self.docs[-self._unsent :])
            self._unsent = 0

    def close_input(self) -> None:
        """Send what is left and the end mark: the helper starts writing its segment."""
        self._flush()
        self._send(None)
        if self.proc is not None and self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:  # pragma: no cover - died after the last write
                self._abandon()

    def result(self):
        import pickle

        if self.proc is not None:
            assert self.proc.stdout is not None
            out = self.proc.stdout.read()
            if self.proc.wait() == 0 and out:
                return pickle.loads(out)  # our own helper's output, never outside data
        return _write_segment(self.index_dir, [self.docs])

    def cancel(self) -> None:
        self._abandon()


HELPER_SHARE = 0.55
"""Share of a parallel batch's text the helper process writes: this process also reads,
parses and hashes every input record, so it takes a little less of the indexing."""


class _Batch:
    """The documents of one chunk on their way into segments: ours and the helper's.

    The first :data:`PARALLEL_MIN_DOCS` documents are held; past that a helper process
    starts and every document goes at once to this process's writer or to the helper
    (by text size, :data:`HELPER_SHARE`). A later copy of an id in the same chunk
    supersedes the earlier one, which is deleted from its new segment at commit.
    """

    def __init__(self, engine: "WhooshEngine") -> None:
        self.engine = engine
        self.held: Dict[str, Dict[str, object]] = {}
        self.writer: Optional[FastSegmentWriter] = None
        self.job: Optional[_SegmentJob] = None
        self.placed: Dict[str, Tuple[int, int]] = {}  # id -> (0 here / 1 helper, docnum)
        self.superseded: Tuple[List[int], List[int]] = ([], [])
        self.text = [0, 0]  # characters of title+body written here / by the helper

    def __len__(self) -> int:
        return len(self.held) + len(self.placed)

    def __contains__(self, aid: str) -> bool:
        return aid in self.held or aid in self.placed

    def add(self, aid: str, fields: Dict[str, object]) -> None:
        if self.job is None:
            self.held[aid] = fields
            if len(self.held) >= PARALLEL_MIN_DOCS and (os.cpu_count() or 1) > 1:
                self._start_parallel()
            return
        self._place(aid, fields)

    def _start_parallel(self) -> None:
        self.writer = self.engine._writer()
        self.job = _SegmentJob(str(self.engine.path))
        held, self.held = self.held, {}
        for aid, fields in held.items():
            self._place(aid, fields)

    def _place(self, aid: str, fields: Dict[str, object]) -> None:
        old = self.placed.get(aid)
        if old is not None:
            self.superseded[old[0]].append(old[1])
        size = len(fields.get("title") or "") + len(fields.get("body") or "")  # type: ignore[arg-type]
        ours, theirs = self.text
        if theirs * (1 - HELPER_SHARE) <= ours * HELPER_SHARE:
            assert self.job is not None
            self.placed[aid] = (1, self.job.add(fields))
            self.text[1] += size
        else:
            writer = self.writer
            assert writer is not None
            self.placed[aid] = (0, writer.docnum - writer.docbase)
            writer.add_document(**fields)
            self.text[0] += size

    def commit(self, replace: Set[str]) -> None:
        """Write everything, delete the *replace*d ids from older segments, commit."""
        writer = self.writer or self.engine._writer()
        self.writer = None
        job = self.job
        try:
            for aid in sorted(replace):
                writer.delete_by_term("id", aid)
            for fields in self.held.values():
                writer.add_document(**fields)
            if job is not None:
                job.close_input()  # the helper writes its segment while we write ours

            def extra() -> Sequence[object]:
                if job is None:
                    return ()
                segment = job.result()
                for rel in self.superseded[1]:
                    segment.delete_document(rel)
                return [segment]

            checkpoint("committing")
            writer.commit_with(extra, self.superseded[0])
        except BaseException:
            if job is not None:
                job.cancel()
            if not writer.is_closed:
                writer.cancel()
            raise

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
        if self.writer is not None and not self.writer.is_closed:
            self.writer.cancel()


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
    )


def _any_term(field: str, terms: Sequence[str]) -> wq.Query:
    """One term, or any of several alternatives for one word."""
    if len(terms) == 1:
        return wq.Term(field, terms[0])
    return wq.Or([wq.Term(field, t) for t in terms])


def _domain(url: Optional[str]) -> Optional[str]:
    if not url:
        return None
    host = urlsplit(url).hostname or ""
    host = host.lower()
    return host[4:] if host.startswith("www.") else (host or None)


_TEXT_FIELDS = ("title", "body")
"""The analysed text fields, in the order their words make the near-duplicate sketch."""


def _signature_fields(sig: Tuple[int, ...]) -> Dict[str, object]:
    """The dupsig column value of a sketch (nothing for an empty one)."""
    if not sig:
        return {}
    return {"dupsig": dedupe.to_bytes(sig)}


def _extra_fields(article: Article, *, signature: bool = True) -> Dict[str, object]:
    """Fields for dedupe, inurl: and site: (issue 5), kept apart from the base ones.

    ``signature=False`` leaves dupsig to :class:`FastSegmentWriter`, which makes
    them from the words it analyses anyway (in whichever process writes the document).
    """
    out: Dict[str, object] = {}
    if signature:
        out.update(_signature_fields(dedupe.signature(article.title, article.body)))
    if article.url:
        words = url_words(article.url)
        if words:
            out["urlwords"] = " ".join(words)
        host = _domain(article.url)
        if host:
            out["domains"] = " ".join(parent_domains(host))
    return out


def url_words(url: str) -> List[str]:
    """Lower-case alphanumeric runs of a url (scheme dropped): what ``inurl:`` matches."""
    rest = url.split("://", 1)[-1]
    return [w for w in re.split(r"[^0-9a-z]+", rest.lower()) if w]


def parent_domains(host: str) -> List[str]:
    """``news.bbc.co.uk`` -> itself and each parent with at least two labels."""
    labels = host.lower().strip(".").split(".")
    return [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]


def _naive_utc(dt: Optional[datetime]) -> Optional[datetime]:
    # Whoosh's DATETIME drops tzinfo without converting, so convert first
    if dt is None:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=None)


def _aware(dt: Optional[datetime]) -> Optional[datetime]:
    return dt.replace(tzinfo=timezone.utc) if dt is not None else None


def _score(key: object, sort: str) -> float:
    # with sortedby, Whoosh reports the sort key as the score: for relevance its first
    # part is the negated score (see sorting.ScoreFacet); date sorts compute no score
    if sort == "relevance" and isinstance(key, tuple) and key:
        return float(-key[0])
    return float(key) if isinstance(key, (int, float)) else 0.0


class _DeadlineCollector(collectors.WrappingCollector):
    """Stops collecting with TimeLimit once a deadline passes, checked at every match.

    Whoosh's TimeLimitCollector sets a flag from a timer thread, so whether a short search
    is stopped depends on when that thread gets the GIL; reading the clock in the loop
    makes the limit the same on a busy machine as on an idle one.
    """

    def __init__(self, child: collectors.Collector, seconds: float) -> None:
        super().__init__(child)
        self.seconds = seconds
        self.deadline = 0.0

    def prepare(self, top_searcher, q, context) -> None:
        self.child.prepare(top_searcher, q, context)
        self.deadline = time.perf_counter() + self.seconds

    def collect_matches(self) -> None:
        child, deadline, clock = self.child, self.deadline, time.perf_counter
        for sub_docnum in child.matches():
            child.collect(sub_docnum)
            if clock() > deadline:
                raise TimeLimit


@dataclass(frozen=True)
class SearchSpec:
    """Everything a search needs besides the query tree; built by NewsIndex."""

    sources: Sequence[str] = ()
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    lang: Optional[str] = None
    sort: str = "relevance"
    offset: int = 0
    limit: int = 10
    exclude_sources: Sequence[str] = ()
    domains: Sequence[str] = ()
    exclude_ids: Sequence[str] = ()
    facets: Sequence[str] = ()
    """Facet names: source, lang, day, week, month."""
    window: int = 0
    """How many ranked candidates to return (at least offset + limit)."""


@dataclass(frozen=True)
class RawHit:
    """Stored fields of one hit, before the snippet is made (engine-free values only)."""

    id: str
    title: str
    body: str
    source: str
    published: Optional[datetime]
    url: Optional[str]
    lang: Optional[str]
    author: Optional[str]
    score: float
    rank: int


MAX_EXPANSION = 50
"""Most index terms one prefix or fuzzy word expands to (the most frequent are kept)."""
MAX_SCAN = 10_000
"""Most lexicon entries one prefix or fuzzy expansion reads, per field."""
PHRASE_EXACT_DOCS = 20_000
"""Up to this many candidates a phrase is checked in every one (an exact total)."""
PHRASE_SAMPLE = 150
"""Beyond that, how many of the unranked candidates are checked to estimate the total."""
PHRASE_TIME_LIMIT = 2.0
"""Seconds a search with phrases may spend collecting matches before it stops with a warning."""
MAX_COPIES = 200
"""Most candidate copies looked at for one article."""
MAX_KEY_SHARE = 25
"""A lookup key held by more articles than this is ignored when looking for copies."""


@dataclass
class CompileReport:
    """What compiling a tree did beyond the tree itself."""

    warnings: List[str] = field(default_factory=list)
    expanded: Dict[str, int] = field(default_factory=dict)
    """Prefix/fuzzy word -> number of index terms it expanded to (never above MAX_EXPANSION)."""
    terms: Set[str] = field(default_factory=set)
    """The index terms chosen for prefix/fuzzy words (what snippets mark)."""


@dataclass(frozen=True)
class Candidate:
    """One ranked match before its stored text is loaded."""

    id: str
    score: float
    published: Optional[datetime]
    signature: Tuple[int, ...]


@dataclass(frozen=True)
class EngineAnswer:
    """What the engine found for one search, as plain values."""

    total: int
    candidates: List[Candidate]
    facets: Dict[str, Dict[str, int]]
    warnings: Tuple[str, ...]
    expanded: Dict[str, int]
    expanded_terms: frozenset = frozenset()


_NO_DATE = 2**64 - 1  # what Whoosh's DATETIME column holds for a document without a date


class RawColumnFacet(sorting.FacetType):
    """Groups by a column's raw stored value.

    Whoosh's own FieldFacet converts every key back to a datetime and overflows on the
    placeholder of undated articles; raw values are converted (or skipped) by us.
    """

    def __init__(self, fieldname: str, maptype: object = None) -> None:
        self.fieldname = fieldname
        self.maptype = maptype

    def categorizer(self, global_searcher: object) -> "RawColumnCategorizer":
        return RawColumnCategorizer(self.fieldname)


class RawColumnCategorizer(sorting.Categorizer):
    """The categorizer of :class:`RawColumnFacet`."""

    def __init__(self, fieldname: str) -> None:
        self.fieldname = fieldname
        self._column = None

    def set_searcher(self, segment_searcher, docoffset: int) -> None:  # noqa: ANN001 - whoosh type
        self._column = segment_searcher.reader().column_reader(self.fieldname, translate=False)

    def key_for(self, matcher, segment_docnum: int) -> object:  # noqa: ANN001 - whoosh type
        return self._column[segment_docnum] if self._column is not None else _NO_DATE


def _has_phrase(node: Node) -> bool:
    if isinstance(node, Phrase):
        return len(analysis.query_terms(node.text)) > 1
    if isinstance(node, Not):
        return _has_phrase(node.child)
    if isinstance(node, (And, Or, AnyOf)):
        return any(_has_phrase(c) for c in node.children)
    return False


def _relevance_order(c: "Candidate") -> Tuple[float, float, str]:
    # ties broken by date (newest first), then id, so runs repeat
    return (-c.score, -(c.published.timestamp() if c.published else float("-inf")), c.id)


class _Columns:
    """Per-document id, date and signature read from columns: no stored article is loaded."""

    def __init__(self, reader, schema: Schema) -> None:  # noqa: ANN001 - whoosh reader
        self._ids = reader.column_reader("id") if reader.has_column("id") else None
        self._dates = reader.column_reader("published", translate=False) if reader.has_column("published") else None
        self._sigs = reader.column_reader("dupsig") if reader.has_column("dupsig") else None
        self._reader = reader
        self._published = schema["published"]

    def id(self, docnum: int) -> str:
        if self._ids is not None:
            value = self._ids[docnum]
            return value.decode("utf-8") if isinstance(value, bytes) else str(value)
        return self._reader.stored_fields(docnum)["id"]  # pragma: no cover - every index has the column

    def published(self, docnum: int) -> Optional[datetime]:
        if self._dates is None:
            return None
        raw = self._dates[docnum]
        if raw in (None, _NO_DATE):
            return None
        return _aware(self._published.from_column_value(raw))

    def signature(self, docnum: int) -> Tuple[int, ...]:
        return dedupe.from_bytes(self._sigs[docnum]) if self._sigs is not None else ()


class DateOrderFacet(sorting.FacetType):
    """Sorts by publication time, newest or oldest first, undated articles always last."""

    def __init__(self, newest: bool) -> None:
        self.newest = newest
        self.maptype = None

    def categorizer(self, global_searcher: object) -> "DateOrderCategorizer":
        return DateOrderCategorizer(self.newest)


class DateOrderCategorizer(RawColumnCategorizer):
    """The categorizer of :class:`DateOrderFacet`."""

    def __init__(self, newest: bool) -> None:
        super().__init__("published")
        self.newest = newest

    def key_for(self, matcher, segment_docnum: int) -> object:  # noqa: ANN001 - whoosh type
        raw = super().key_for(matcher, segment_docnum)
        if raw == _NO_DATE:
            return (1, 0)
        return (0, -raw if self.newest else raw)


def _clean_domain(text: str) -> str:
    host = text.strip().lower()
    if "://" in host:
        host = urlsplit(host).hostname or ""
    host = host.strip("/").strip(".")
    return host[4:] if host.startswith("www.") else host


def _min_match(tree: Node) -> int:
    return tree.min_match if isinstance(tree, AnyOf) else 1


def _posting_ids(reader, fieldname: str, term: str) -> List[int]:  # noqa: ANN001 - whoosh reader
    """Every docnum holding *term* in *fieldname*, a block of postings at a time.

    Whoosh's ``all_ids`` makes two method calls per posting; reading each block's id
    array (a private but stable part of the 2.7 codec) is ~10x faster on common words.
    """
    out: List[int] = []
    for leaf, offset in reader.leaf_readers():
        if (fieldname, term) not in leaf:
            continue
        m = leaf.postings(fieldname, term)
        if isinstance(m, W3LeafMatcher) and hasattr(m, "_read_ids"):
            while m.is_active():
                if m._ids is None:
                    m._read_ids()
                ids = m._ids[m._i :]
                out.extend(ids if not offset else [d + offset for d in ids])
                m._next_block()
        else:  # pragma: no cover - another codec
            out.extend(d + offset for d in m.all_ids())
    return out


def _word_counts(reader, tree: Node) -> Dict[int, int]:  # noqa: ANN001 - whoosh reader
    """Docnum -> how many of an AnyOf's words it holds (in title or body).

    A word of several terms ("night-shift", searched as a phrase) counts where all its
    terms are: a superset of the phrase's matches, so the count never misses one.
    """
    assert isinstance(tree, AnyOf)
    counts: Dict[int, int] = {}
    for child in tree.children:
        docs: Optional[Set[int]] = None
        text = getattr(child, "text", "")
        for term in analysis.query_terms(text):
            found = set(_posting_ids(reader, "title", term))
            found.update(_posting_ids(reader, "body", term))
            docs = found if docs is None else docs & found
        for d in docs or ():
            counts[d] = counts.get(d, 0) + 1
    return counts


def _date_buckets(stamps: Iterable[Tuple[Optional[datetime], int]], unit: str) -> Dict[str, int]:
    """Counts per day (2025-08-13), ISO week (2025-W33) or month (2025-08), oldest first."""
    out: Dict[str, int] = {}
    for when, count in stamps:
        if not isinstance(when, datetime):
            continue
        if unit == "day":
            key = when.strftime("%Y-%m-%d")
        elif unit == "week":
            year, week, _ = when.isocalendar()
            key = f"{year}-W{week:02d}"
        else:
            key = when.strftime("%Y-%m")
        out[key] = out.get(key, 0) + int(count)
    return dict(sorted(out.items()))


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration (restored after, if it was on).

    While a batch is indexed the heap grows by hundreds of thousands of long-lived
    containers (per-term posting lists) and each full collection rescans them all, for
    no garbage: ~8% of indexing time. Reference counting still frees everything else.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class WhooshEngine:
    """One Whoosh index directory: create/open, upsert, search, stats."""

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.schema = build_schema()
        self._searcher = None
        self.dirty = False
        """True once this engine committed a change (NewsIndex skips publishing otherwise)."""
        self._coverage: Dict[int, int] = {}
        self._coverage_key: Optional[Tuple[object, Tuple[str, ...]]] = None
        self._columns_cache: Optional[Tuple[object, "_Columns"]] = None
        self._array_state: Optional["_ArraySearch"] = None
        self._langs: Optional[Tuple[object, List[str]]] = None
        if create and not self._exists():
            self.path.mkdir(parents=True, exist_ok=True)
            self._ix = whoosh_index.create_in(str(self.path), self.schema, indexname=_INDEX_NAME)
            self._write_meta()
        else:
            self._check_meta()
            self._ix = whoosh_index.open_dir(str(self.path), indexname=_INDEX_NAME, schema=self.schema)

    # ------------------------------------------------------------ format guard

    def _exists(self) -> bool:
        return self.path.is_dir() and (
            (self.path / _META_FILE).exists() or whoosh_index.exists_in(str(self.path), indexname=_INDEX_NAME)
        )

    @staticmethod
    def expected_meta() -> Dict[str, object]:
        return {"engine": "whoosh", "format": FORMAT_VERSION, "analysis": analysis.ANALYSIS_VERSION}

    def _write_meta(self) -> None:
        tmp = self.path / (_META_FILE + ".tmp")
        tmp.write_text(json.dumps(self.expected_meta(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path / _META_FILE)

    def _check_meta(self) -> None:
        if not self.path.is_dir():
            raise IndexNotFound(f"no index at {self.path}: create one with `newssearch index PATH --index {self.path}`")
        meta_path = self.path / _META_FILE
        if not meta_path.exists():
            if whoosh_index.exists_in(str(self.path), indexname=_INDEX_NAME) or any(self.path.glob("*.toc")):
                raise RebuildNeeded(f"{self.path} holds an index without a newssearch format record: rebuild needed")
            raise IndexNotFound(f"no index at {self.path}: create one with `newssearch index PATH --index {self.path}`")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RebuildNeeded(f"{meta_path} is unreadable ({exc}): rebuild needed") from exc
        expected = self.expected_meta()
        if meta != expected:
            raise RebuildNeeded(
                f"index at {self.path} has format {meta.get('format')} / analysis {meta.get('analysis')}, "
                f"this newssearch uses format {expected['format']} / analysis {expected['analysis']}: "
                "rebuild needed (re-index into a fresh directory)"
            )

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
        self._ix.close()

    def _get_searcher(self):  # -> whoosh Searcher; private, never leaves the engine
        # one searcher for the engine's life: a published generation never changes
        # (NewsIndex writes into a new generation directory and reopens)
        if self._searcher is None:
            self._searcher = self._ix.searcher(weighting=scoring.BM25F())
        return self._searcher

    # ------------------------------------------------------------ writing

    def upsert(self, items: Iterable[Tuple[Article, str]]) -> Tuple[int, int, int]:
        """Add or replace articles by id; returns (added, updated, unchanged).

        *items* pairs each article with a hash of its content; an article whose id is
        already stored with the same hash is left alone, and of one id given twice the
        last wins. Articles are written in chunks of :data:`CHUNK_DOCS`, each on both
        cores when there are enough of them; NewsIndex publishes the generation only
        after the last chunk, so readers never see a part.
        """
        with _gc_paused():
            return self._upsert(items)

    def _upsert(self, items: Iterable[Tuple[Article, str]]) -> Tuple[int, int, int]:
        added = updated = unchanged = 0
        seen: Dict[str, str] = {}  # every id seen in this call -> its latest content hash
        batch = _Batch(self)  # id -> fields, on their way into this chunk's segments
        replace: Set[str] = set()  # ids whose stored copy goes when the chunk is committed
        existing = self._ix.searcher()
        try:
            for article, chash in items:
                aid = article.id
                old = seen.get(aid)
                if old is not None:
                    if old == chash:
                        unchanged += 1
                        continue
                    # every record read is counted once: a second copy with new
                    # content is an update (of the first, or of the stored one)
                    updated += 1
                    if aid not in batch:  # stored, or written in an earlier chunk
                        replace.add(aid)
                else:
                    # most ids are new (always, in a rebuild): a term lookup says so without a search
                    stored = existing.document(id=aid) if ("id", aid) in existing.reader() else None
                    if stored is None:
                        added += 1
                    elif stored.get("chash") == chash:
                        seen[aid] = chash
                        unchanged += 1
                        continue
                    else:
                        updated += 1
                        replace.add(aid)
                seen[aid] = chash
                batch.add(aid, self._fields(article, chash, signature=False))
                if len(batch) >= CHUNK_DOCS:
                    existing.close()
                    self._write(batch, replace)
                    batch = _Batch(self)
                    existing = self._ix.searcher()
        except BaseException:
            batch.cancel()
            raise
        finally:
            existing.close()
        if len(batch) or replace:
            self._write(batch, replace)
        return added, updated, unchanged

    def _write(self, batch: "_Batch", replace: Set[str]) -> None:
        """Commit *batch* as one or two new segments, deleting the *replace*d ids."""
        batch.commit(replace)
        replace.clear()
        # the collector is paused while indexing (_gc_paused): a chunk's writer, segment and
        # posting tables hold reference cycles, so without this every chunk stayed in
        # memory (peak RSS grew ~170 MB a chunk: 1.4 GB at 120k articles)
        gc.collect()
        self._committed()

    def _committed(self) -> None:
        self.dirty = True
        if len(self._ix._segments()) > MAX_SEGMENTS:
            # incremental writes add a segment each; fold the small ones together with
            # Whoosh's own merge (a plain writer) so queries do not fan out over many
            try:
                writing.SegmentWriter(self._ix, codec=NewsCodec()).commit(mergetype=writing.MERGE_SMALL)
                if len(self._ix._segments()) > MAX_SEGMENTS:
                    writing.SegmentWriter(self._ix, codec=NewsCodec()).commit(mergetype=writing.OPTIMIZE)
            except LockError as exc:  # pragma: no cover - we hold the root lock
                raise IndexLocked(f"index {self.path} is being written by another process") from exc
        if self._searcher is not None:  # it saw the index before this commit
            self._searcher.close()
            self._searcher = None

    def _writer(self):
        try:
            return FastSegmentWriter(self._ix, codec=NewsCodec())
        except LockError as exc:
            raise IndexLocked(f"index {self.path} is being written by another process") from exc

    @staticmethod
    def _fields(article: Article, chash: str, *, signature: bool = True) -> Dict[str, object]:
        """The document fields of *article*; complete for any Whoosh writer.

        ``signature=False`` (our own writer only) leaves the near-duplicate sketch to
        :class:`FastSegmentWriter`.
        """
        fields: Dict[str, object] = {
            "id": article.id,
            "title": article.title,
            "body": article.body,
            "chash": chash,
        }
        if article.source:
            fields["source"] = article.source
            fields["source_key"] = article.source.casefold()
        if article.published is not None:
            fields["published"] = _naive_utc(article.published)
        if article.lang:
            fields["lang"] = article.lang.lower()
        if article.url:
            fields["url"] = article.url
        if article.author:
            fields["author"] = article.author
        fields.update(_extra_fields(article, signature=signature))
        return fields

    def delete(
        self,
        *,
        ids: Optional[Sequence[str]] = None,
        sources: Optional[Sequence[str]] = None,
        before: Optional[datetime] = None,
    ) -> int:
        """Delete the articles matching every criterion given; returns how many."""
        parts: List[wq.Query] = []
        if ids is not None:
            parts.append(wq.Or([wq.Term("id", i) for i in ids]) if ids else wq.NullQuery)
        if sources:
            parts.append(wq.Or([wq.Term("source_key", s.casefold()) for s in sources]))
        if before is not None:
            # an undated article is never "older than": it has no published term to match
            parts.append(wq.DateRange("published", None, _naive_utc(before), endexcl=True))
        if not parts:
            return 0
        writer = self._writer()
        try:
            count = writer.delete_by_query(wq.And(parts) if len(parts) > 1 else parts[0])
        except BaseException:
            writer.cancel()
            raise
        if count:
            writer.commit()
            self._committed()
        else:
            writer.cancel()
        return count

    @staticmethod
    def clone(src: Path, dst: Path) -> None:
        """Make *dst* a copy of the index in *src*, by hard links where the filesystem allows.

        Safe because Whoosh never rewrites a file it has written: a commit adds new
        segment files and a new TOC, and deletions live in the TOC. So a writer on the
        copy can never change what readers of *src* see.
        """
        for f in src.iterdir():
            if not f.is_file() or "LOCK" in f.name.upper() or f.name == "generation.json":
                continue
            try:
                os.link(f, dst / f.name)
            except OSError:
                shutil.copy2(f, dst / f.name)

    # ------------------------------------------------------------ reading

    def doc_count(self) -> int:
        return self._get_searcher().doc_count()

    def get(self, article_id: str) -> Optional[Article]:
        raw = self.load([article_id]).get(article_id)
        if raw is None:
            return None
        return Article(
            id=raw.id,
            title=raw.title,
            body=raw.body,
            source=raw.source,
            published=raw.published,
            url=raw.url,
            lang=raw.lang,
            author=raw.author,
        )

    def search(self, tree: Node, spec: SearchSpec) -> "EngineAnswer":
        """Run *tree* with *spec*: total, a ranked window of candidates, facets, warnings.

        The window holds the first ``spec.window`` matches in the order asked for (for
        ``fresh``, by relevance: NewsIndex re-ranks). Stored fields are loaded later, only
        for the hits shown (:meth:`load`).
        """
        try:
            return self._search_arrays(tree, spec)
        except _Unsupported:
            pass
        q, report = self.compile_report(tree, lang=spec.lang)
        filters = self._filters(spec)
        if filters:
            q = wq.And([q] + filters)
        searcher = self._get_searcher()
        window = max(spec.window, spec.offset + spec.limit, 1)
        # relevance is collected by score alone (Whoosh can then skip blocks that cannot
        # reach the top) and its ties broken below; a sort facet would score every match
        sortedby = None if spec.sort in ("fresh", "relevance") else self._sort(spec.sort)
        groupedby = self._facet_spec(spec.facets)
        min_match = _min_match(tree)
        if min_match > 1:
            # the docs holding enough of the words, counted from the postings, then used as
            # a filter: total and facets stay exact without recording terms per match
            keep = self._min_match_docs(tree, min_match)
            results = None
            single = all(len(analysis.query_terms(getattr(c, "text", ""))) == 1 for c in tree.children)  # type: ignore[union-attr]
            if not filters and not groupedby and sortedby is None and single:
                # fast path: the unfiltered top matches mostly pass; the filter only if they do not
                loose = searcher.search(q, limit=window * 3)
                ranked = [(key, d) for key, d in loose.top_n if d in keep]
                if len(ranked) >= min(window, len(keep)):
                    total, facets = len(keep), {}
                else:
                    results = searcher.search(q, limit=window, filter=keep)
            else:
                results = searcher.search(q, limit=window, sortedby=sortedby, groupedby=groupedby, filter=keep)
            if results is not None:
                ranked = list(results.top_n)
                total = len(results)
                facets = self._facets(results, spec.facets)
        elif _has_phrase(tree):
            # phrase matching reads positions and can take seconds on common words: bounded in time
            collector = searcher.collector(limit=window, sortedby=sortedby, groupedby=groupedby)
            timed = _DeadlineCollector(collector, PHRASE_TIME_LIMIT)
            try:
                searcher.search_with_collector(q, timed)
                results = timed.results()
                total = len(results)
            except TimeLimit:
                results = timed.results()
                total = results.scored_length()
                report.warnings.append(
                    f"phrase search stopped after {PHRASE_TIME_LIMIT:g} s: results and total ({total}) may be incomplete"
                )
            ranked = list(results.top_n)
            facets = self._facets(results, spec.facets)
        else:
            results = searcher.search(q, limit=window, sortedby=sortedby, groupedby=groupedby)
            ranked = list(results.top_n)
            total = len(results)
            facets = self._facets(results, spec.facets)
        cols = self._columns(searcher)
        cands: List[Candidate] = []
        for key, docnum in ranked[:window]:
            cands.append(
                Candidate(
                    id=cols.id(docnum),
                    score=_score(key, spec.sort) if sortedby is not None else float(key),
                    published=cols.published(docnum),
                    signature=cols.signature(docnum),
                )
            )
        if spec.sort == "relevance":
            cands.sort(key=_relevance_order)
        return EngineAnswer(total, cands, facets, tuple(report.warnings), report.expanded, frozenset(report.terms))

    def _arrays(self) -> "_ArraySearch":
        searcher = self._get_searcher()
        if self._array_state is None or self._array_state.searcher is not searcher:
            self._array_state = _ArraySearch(searcher, self.schema)
        return self._array_state

    def _search_arrays(self, tree: Node, spec: SearchSpec) -> "EngineAnswer":
        """:meth:`search` over posting arrays (see _ArraySearch); _Unsupported if it cannot."""
        state = self._arrays()
        report = CompileReport()
        min_match = _min_match(tree)
        if min_match > 1:
            parts = []
            for child in tree.children:  # type: ignore[union-attr]
                q, rep = self.compile_report(child, lang=spec.lang)
                report.warnings += rep.warnings
                report.expanded.update(rep.expanded)
                report.terms |= rep.terms
                parts.append(q)
        else:
            q, report = self.compile_report(tree, lang=spec.lang)
        fmasks = state.filter_masks(spec, self._filters(spec))
        ev = state.evaluator()
        window = max(spec.window, spec.offset + spec.limit, 1)
        newest = spec.sort == "newest"
        by_date = spec.sort in ("newest", "oldest")
        total = 0
        sampled = False
        facet_counts: Dict[str, Dict[str, int]] = {}
        day_counts: Dict[int, int] = {}
        # (sort key, tie key, docnum in segment, segment, score)
        picked: List[Tuple[float, float, int, _Leaf, float]] = []
        for i, leaf in enumerate(state.leaves):
            if min_match > 1:
                hits = np.zeros(leaf.n, dtype=np.int64)
                score = np.zeros(leaf.n)
                for part in parts:
                    m, s = ev.run(part, leaf)
                    hits += m
                    score += s * m
                mask = hits >= min_match
            else:
                checks: List[_PhraseCheck] = []
                mask, score = ev.run(q, leaf, checks)
            mask = mask & leaf.live
            if fmasks is not None:
                mask &= fmasks[i]
            pub = leaf.published()
            dated_key = leaf.date_key()
            estimated = None
            if min_match == 1 and checks:
                estimated = self._check_phrases(checks, mask, score, dated_key, window, exact=bool(spec.facets))
                if estimated is not None:
                    sampled = True
            count = int(np.count_nonzero(mask)) if estimated is None else estimated
            if not count:
                continue
            total += count
            for name in ("source", "lang"):
                if name in spec.facets:
                    codes, names = leaf.codes(name)
                    counted = arrays.counts(codes, mask, len(names))
                    out = facet_counts.setdefault(name, {})
                    for k in np.flatnonzero(counted).tolist():
                        out[names[k]] = out.get(names[k], 0) + int(counted[k])
            if any(u in spec.facets for u in ("day", "week", "month")):
                dated = pub[mask]
                days, n = np.unique(_day_key(dated[dated != _NO_DATE]), return_counts=True)
                for d, c in zip(days.tolist(), n.tolist()):
                    day_counts[d] = day_counts.get(d, 0) + c
            if by_date:
                # undated articles last either way; then the other date order
                key = dated_key if newest else np.where(pub == _NO_DATE, -np.inf, -pub.astype(np.float64))
                top = arrays.top_indices(key, mask, window)
                # same-date ties all stay: the id decides them below
                picked += [(float(key[d]), 0.0, int(d), leaf, float(score[d])) for d in top.tolist()]
            else:
                top = arrays.top_indices(score, mask, window, tiebreak=dated_key)
                picked += [(float(score[d]), float(dated_key[d]), int(d), leaf, float(score[d])) for d in top.tolist()]
        picked.sort(key=lambda p: (-p[0], -p[1], p[3].offset + p[2]))
        cands: List[Candidate] = []
        # ties at the window's edge: keep them all, the id decides below
        limit_key = (picked[window - 1][0], picked[window - 1][1]) if len(picked) > window else None
        for key0, key1, d, leaf, hit_score in picked:
            if limit_key is not None and len(cands) >= window and (key0, key1) != limit_key:
                break
            docnum = leaf.offset + d
            aid = leaf.id(d)
            if len(state.docnums) > 10_000:
                state.docnums.clear()
            state.docnums[aid] = docnum
            raw = int(leaf.published()[d])
            published = None if raw == _NO_DATE else (_DAY0 + timedelta(microseconds=raw)).replace(tzinfo=timezone.utc)
            cands.append(Candidate(id=aid, score=hit_score, published=published,
                                   signature=leaf.signature(d)))
        if by_date:
            cands.sort(key=(lambda c: (c.published is None, -(c.published.timestamp() if c.published else 0), c.id))
                       if newest else (lambda c: (c.published is None, c.published.timestamp() if c.published else 0, c.id)))
        else:
            cands.sort(key=_relevance_order)
        cands = cands[:window]
        facets: Dict[str, Dict[str, int]] = {}
        for name in spec.facets:
            if name in facet_counts:
                facets[name] = facet_counts[name]
            elif name in ("source", "lang"):
                facets[name] = {}
            elif name in ("day", "week", "month"):
                facets[name] = _date_buckets(((_DAY0 + timedelta(days=d), c) for d, c in day_counts.items()), name)
        if sampled:
            report.warnings.append(
                f"about {total} articles hold the phrase: counted from a sample (the hits shown are exact)"
            )
        return EngineAnswer(total, cands, facets, tuple(report.warnings), report.expanded, frozenset(report.terms))

    @staticmethod
    def _check_phrases(checks: List["_PhraseCheck"], mask: np.ndarray, score: np.ndarray, tiebreak: np.ndarray,
                       window: int, *, exact: bool) -> Optional[int]:
        """Drop from *mask* the candidates failing a phrase check; None when the count is exact.

        Checking positions costs a few microseconds a candidate and common-word phrases
        have tens of thousands: past PHRASE_EXACT_DOCS candidates only the best are checked,
        in ranking order, until the window is full, and the total is estimated from an
        evenly spread sample of the rest (returned).
        """
        cand = np.flatnonzero(mask)

        def passing(docs: np.ndarray) -> np.ndarray:
            ok = np.ones(docs.size, dtype=bool)
            for check in checks:
                todo = np.flatnonzero(ok)
                if todo.size:
                    ok[todo] = check.passes(docs[todo])
            return ok

        if exact or cand.size <= PHRASE_EXACT_DOCS:
            mask[cand[~passing(cand)]] = False
            return None
        order = cand[np.lexsort((cand, -tiebreak[cand], -score[cand]))]
        found: List[np.ndarray] = []
        nfound = checked = 0
        while checked < order.size and nfound < window:
            chunk = order[checked : checked + max(32, window - nfound + 8)]
            good = chunk[passing(chunk)]
            found.append(good)
            nfound += good.size
            checked += chunk.size
        rest = order[checked:]
        mask[:] = False
        for good in found:
            mask[good] = True
        if not rest.size:
            return None
        sample = rest[:: max(1, rest.size // PHRASE_SAMPLE)]
        share = float(np.count_nonzero(passing(sample))) / sample.size
        return nfound + int(round(share * rest.size))

    def _columns(self, searcher) -> "_Columns":  # noqa: ANN001 - whoosh searcher
        """Column readers of this searcher's reader, kept until the index changes: opening a
        variable-length column reads its whole offset table, which cost more than the search."""
        reader = searcher.reader()
        if self._columns_cache is None or self._columns_cache[0] is not reader:
            self._columns_cache = (reader, _Columns(reader, self.schema))
        return self._columns_cache[1]

    def count_all_words(self, words: Sequence[Node]) -> int:
        """Articles holding every one of *words* (title or body), from the postings, no filters.

        An upper bound of what an all-words search with filters finds, and far cheaper for
        a long sentence than Whoosh's nested intersection.
        """
        if not words:
            return 0
        state = self._arrays()
        ev = state.evaluator()
        queries = [self.compile_report(w)[0] for w in words]
        total = 0
        for leaf in state.leaves:
            mask = leaf.live.copy()
            for q in queries:
                # phrase checks left undone: a word of several terms counts where all its terms are
                mask &= ev.run(q, leaf, [])[0]
            total += int(np.count_nonzero(mask))
        return total

    def _min_match_docs(self, tree: Node, min_match: int) -> Set[int]:
        """Docnums holding at least *min_match* of an AnyOf's words; the per-word counts of
        the last word list are kept, since a sentence asks twice (all words, then most)."""
        assert isinstance(tree, AnyOf)
        reader = self._get_searcher().reader()
        key = tuple(sorted({getattr(c, "text", "") for c in tree.children}))
        # the reader itself (not its id, which a new reader may reuse) marks the index state
        if self._coverage_key is None or self._coverage_key[0] is not reader or self._coverage_key[1] != key:
            self._coverage = _word_counts(reader, tree)
            self._coverage_key = (reader, key)
        return {d for d, c in self._coverage.items() if c >= min_match}

    def load(self, ids: Sequence[str]) -> Dict[str, RawHit]:
        """Stored fields of these articles (missing ids are left out)."""
        searcher = self._get_searcher()
        out: Dict[str, RawHit] = {}
        known = self._array_state.docnums if self._array_state is not None and self._array_state.searcher is searcher else {}
        for article_id in ids:
            docnum = known.get(article_id)
            # a candidate of a search on this searcher: its docnum is known, no id lookup
            stored = searcher.stored_fields(docnum) if docnum is not None else searcher.document(id=article_id)
            if stored is None:
                continue
            out[article_id] = RawHit(
                id=stored["id"],
                title=stored.get("title", ""),
                body=stored.get("body", ""),
                source=stored.get("source", ""),
                published=_aware(stored.get("published")),
                url=stored.get("url"),
                lang=stored.get("lang"),
                author=stored.get("author"),
                score=0.0,
                rank=0,
            )
        return out

    def copies_of(self, signature: Tuple[int, ...], spec: Optional[SearchSpec] = None) -> List[str]:
        """Ids of indexed near-copies of *signature* (passing *spec*'s filters when given)."""
        return self.copies_of_many([signature], spec)[0]

    def copies_of_many(self, signatures: Sequence[Tuple[int, ...]], spec: Optional[SearchSpec] = None) -> List[List[str]]:
        """For each signature, the ids of indexed near-copies: a binary search per lookup key.

        Copies are found by their lookup keys and the search's filters, not by re-running
        the query: a copy of a story holds (nearly) the same words.
        """
        out: List[List[str]] = [[] for _ in signatures]
        if not signatures:
            return out
        state = self._arrays()
        index = state.copy_index()
        wanted = np.asarray(sorted({h for sig in signatures for h in sig[: dedupe.BUCKET_KEYS]}), dtype=np.uint64)
        lo = np.searchsorted(index.keys, wanted, side="left")
        count = np.searchsorted(index.keys, wanted, side="right") - lo
        # a key shared by many articles is a stock phrase ("said in a statement"), not a copy:
        # such keys only add candidates to reject
        rare = count <= MAX_KEY_SHARE
        keys, lo, count = wanted[rare], lo[rare], count[rare]
        if not keys.size:
            return out
        # which signatures hold each key, as flat arrays: key j's are flat[start[j] : start[j] + count[j]]
        holders: Dict[int, List[int]] = {}
        for i, sig in enumerate(signatures):
            for h in sig[: dedupe.BUCKET_KEYS]:
                holders.setdefault(h, []).append(i)
        held = [holders[key] for key in keys.tolist()]
        held_count = np.asarray([len(h) for h in held], dtype=np.int64)
        held_start = np.cumsum(held_count) - held_count
        held_flat = np.asarray([i for h in held for i in h], dtype=np.int64)
        which = np.repeat(np.arange(keys.size), count)  # per candidate, the key it was found by
        docs = index.docs[arrays.ranges(lo, count)]
        keep = index.live[docs]
        if spec is not None:
            fmasks = state.filter_masks(spec, self._filters(spec))
            if fmasks is not None:
                keep &= np.concatenate(fmasks)[docs]
        docs, which = docs[keep], which[keep]
        if not docs.size:
            return out
        # a candidate is compared only with the signatures it shares a key with, each pair once
        reps = held_count[which]
        cand = np.repeat(docs, reps)
        sig_i = held_flat[arrays.ranges(held_start[which], reps)]
        first = np.unique(cand * len(signatures) + sig_i, return_index=True)[1]
        first.sort()
        budget = MAX_COPIES * len(signatures)  # keeps a pathological key cheap
        cand, sig_i = cand[first][:budget], sig_i[first][:budget]
        size = dedupe.SIGNATURE_SIZE
        mine = np.zeros((len(signatures), size), dtype=np.uint64)
        mine_len = np.zeros(len(signatures), dtype=np.int64)
        for i, sig in enumerate(signatures):
            head = sig[:size]  # sketches are sorted: only their k smallest hashes are compared
            mine[i, : len(head)] = head
            mine_len[i] = len(head)
        rows, lens = index.rows(cand, size)
        ok = arrays.near_duplicates(rows, lens, mine[sig_i], mine_len[sig_i], dedupe.NEAR_DUPLICATE, size)
        for d, i in zip(cand[ok].tolist(), sig_i[ok].tolist()):
            out[i].append(index.id(d))
        return out

    def signature_of(self, article_id: str) -> Tuple[int, ...]:
        searcher = self._get_searcher()
        docnum = searcher.document_number(id=article_id)
        return self._columns(searcher).signature(docnum) if docnum is not None else ()

    @staticmethod
    def _sort(sort: str):
        # ties always broken by date (newest first), then id, so runs repeat
        by_date = sorting.FieldFacet("published", reverse=True)
        by_id = sorting.FieldFacet("id")
        if sort == "newest":
            # not FieldFacet(reverse=True): undated articles hold the largest value and came first
            return sorting.MultiFacet([DateOrderFacet(newest=True), by_id])
        if sort == "oldest":
            return sorting.MultiFacet([DateOrderFacet(newest=False), by_id])
        return sorting.MultiFacet([sorting.ScoreFacet(), by_date, by_id])

    @staticmethod
    def _filters(spec: SearchSpec) -> List[wq.Query]:
        out: List[wq.Query] = []
        if spec.sources:
            out.append(wq.Or([wq.Term("source_key", s.casefold()) for s in spec.sources]))
        if spec.since is not None or spec.until is not None:
            out.append(wq.DateRange("published", _naive_utc(spec.since), _naive_utc(spec.until)))
        if spec.lang:
            out.append(wq.Term("lang", spec.lang.lower()))
        if spec.domains:
            out.append(wq.Or([wq.Term("domains", _clean_domain(d)) for d in spec.domains]))
        if spec.exclude_sources:
            out.append(wq.Not(wq.Or([wq.Term("source_key", s.casefold()) for s in spec.exclude_sources])))
        if spec.exclude_ids:
            out.append(wq.Not(wq.Or([wq.Term("id", i) for i in spec.exclude_ids])))
        return out

    # ------------------------------------------------------------ query tree -> whoosh

    def compile(self, node: Node, *, lang: Optional[str] = None) -> wq.Query:
        """Compile an engine-free query tree to a Whoosh query (NullQuery if nothing is searchable).

        *lang* (the search's language filter) stems query words for that language; the
        languages the index holds are tried too (see ``analysis.query_alternatives``).
        """
        return self.compile_report(node, lang=lang)[0]

    def compile_report(self, node: Node, *, lang: Optional[str] = None) -> Tuple[wq.Query, "CompileReport"]:
        """Compile *node*; also report how prefix/fuzzy words expanded and what was cut."""
        self._report = CompileReport()
        token = _QUERY_LANGS.set((lang.lower() if lang else None, tuple(self.languages())))
        try:
            compiled = self._compile(node)
        finally:
            _QUERY_LANGS.reset(token)
        report, self._report = self._report, CompileReport()
        return (compiled if compiled is not None else wq.NullQuery), report

    def languages(self) -> List[str]:
        """The distinct ``lang`` values stored in the index."""
        searcher = self._get_searcher()
        if self._langs is None or self._langs[0] is not searcher:
            langs = sorted(t.decode("utf-8") if isinstance(t, bytes) else str(t) for t in searcher.lexicon("lang"))
            self._langs = (searcher, langs)
        return list(self._langs[1])

    def _compile(self, node: Node) -> Optional[wq.Query]:
        if isinstance(node, Word):
            return self._word(node.text, node.field, slop=0)
        if isinstance(node, Phrase):
            return self._word(node.text, node.field, slop=node.slop)
        if isinstance(node, Prefix):
            return self._expand(node.text, node.field, node, prefix=True)
        if isinstance(node, Fuzzy):
            return self._expand(node.text, node.field, node, prefix=False)
        if isinstance(node, DateRange):
            return wq.DateRange("published", _naive_utc(node.start), _naive_utc(node.end))
        if isinstance(node, Not):
            return self._compile(node.child)
        if isinstance(node, (Or, AnyOf)):
            kids = [k for k in (self._compile(c) for c in node.children) if k is not None]
            return wq.Or(kids) if len(kids) > 1 else (kids[0] if kids else None)
        if isinstance(node, And):
            pos = [k for k in (self._compile(c) for c in node.children if not isinstance(c, Not)) if k is not None]
            neg = [k for k in (self._compile(c) for c in node.children if isinstance(c, Not)) if k is not None]
            if not pos:
                return None if not neg else wq.AndNot(wq.Every(), wq.Or(neg))
            base = wq.And(pos) if len(pos) > 1 else pos[0]
            return wq.AndNot(base, wq.Or(neg)) if neg else base
        raise TypeError(f"unknown query node {node!r}")  # pragma: no cover

    @staticmethod
    def _word(text: str, field: Optional[str], slop: int) -> Optional[wq.Query]:
        if field == "source":
            return wq.Term("source_key", text.strip().casefold())
        if field == "lang":
            return wq.Term("lang", text.strip().lower())
        if field == "site":
            return wq.Term("domains", _clean_domain(text))
        if field == "url":
            words = url_words(text)
            if not words:
                return None
            return wq.And([wq.Term("urlwords", w) for w in words]) if len(words) > 1 else wq.Term("urlwords", words[0])
        lang, langs = _QUERY_LANGS.get()
        alternatives = analysis.query_alternatives(text, lang=lang, langs=langs)
        if not alternatives:
            return None
        fields = (field,) if field else ("title", "body")
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

    def probe(self) -> Optional[bool]:
        """Search for a word of a stored article and check the article comes back.

        None for an empty index; used to verify a new generation before switching to it.
        """
        searcher = self._get_searcher()
        reader = searcher.reader()
        for n, docnum in enumerate(reader.all_doc_ids()):
            if n >= 20:
                break
            stored = reader.stored_fields(docnum)
            text = (stored.get("title") or "") + " " + (stored.get("body") or "")[:300]
            # stemmed for the article's language, as the writer stemmed it
            terms = analysis.query_terms(text, lang=stored.get("lang"))
            if terms:
                q = wq.And([wq.Or([wq.Term("title", terms[0]), wq.Term("body", terms[0])]), wq.Term("id", stored["id"])])
                return len(searcher.search(q, limit=1)) == 1
        return None if searcher.doc_count() == 0 else True

    def _expand(self, text: str, field: Optional[str], node: Node, *, prefix: bool) -> Optional[wq.Query]:
        """A prefix or fuzzy word as an Or of at most MAX_EXPANSION index terms (the most frequent)."""
        folded = analysis.query_terms(text, stem=False)
        stemmed = analysis.query_terms(text)
        if not folded:
            return None
        # a multi-token word ("then-col*"): the leading tokens are plain words
        head = [wq.Or([wq.Term(f, t) for f in (field,) if f] or [wq.Term("title", t), wq.Term("body", t)]) for t in stemmed[:-1]]
        word = folded[-1]
        stem = stemmed[-1] if stemmed else word
        if field == "url":  # url: words live in their own field
            field = "urlwords"
        fields = (field,) if field else ("title", "body")
        if not all(f in self.schema and self.schema[f].indexed for f in fields):
            return wq.NullQuery
        reader = self._get_searcher().reader()
        freq: Dict[str, int] = {}
        scanned = 0
        cut = False
        if prefix and len(word) < MIN_PREFIX:
            # "[a*" folds to "a": too short a prefix to expand, searched as the word
            self._report.warnings.append(f"prefix {text + '*'!r} is too short: searched {word!r}")
            return self._word(" ".join(folded), field, slop=0)
        if prefix:
            # the index holds stems: "presidents*" must look for "presid..."
            base = stem if word.startswith(stem) else word
            for f in fields:
                scanned = 0
                # iter_prefix hands over each term's stats with it: no second lookup per term
                for btext, info in reader.iter_prefix(f, base):
                    scanned += 1
                    if scanned > MAX_SCAN:
                        cut = True
                        break
                    t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                    freq[t] = freq.get(t, 0) + info.doc_frequency()
        else:
            dist = getattr(node, "distance", 1)
            for f in fields:
                scanned = 0
                # sharing the first letter keeps the scan to one slice of the lexicon
                for btext in reader.expand_prefix(f, stem[:1]):
                    scanned += 1
                    if scanned > MAX_SCAN:
                        cut = True
                        break
                    t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                    if abs(len(t) - len(stem)) > dist:
                        continue
                    if _edit_distance(t, stem, limit=dist + 1) <= dist:
                        freq[t] = freq.get(t, 0) + reader.doc_frequency(f, t)
        label = f"{text}*" if prefix else f"{text}~{getattr(node, 'distance', 1)}"
        chosen = sorted(freq, key=lambda t: (-freq[t], t))
        if len(chosen) > MAX_EXPANSION:
            cut = True
            chosen = chosen[:MAX_EXPANSION]
        if cut:
            self._report.warnings.append(
                f"{label!r} matches too many words: searched the {len(chosen)} most frequent"
            )
        self._report.expanded[label] = len(chosen)
        self._report.terms.update(chosen)
        if not chosen:
            return wq.NullQuery if not head else None
        alts = wq.Or([wq.Term(f, t) for t in chosen for f in fields])
        return wq.And(head + [alts]) if head else alts

    # ------------------------------------------------------------ facets

    @staticmethod
    def _facet_spec(names: Sequence[str]):
        if not names:
            return None
        spec = {}
        if "source" in names:
            spec["source"] = sorting.FieldFacet("source", maptype=sorting.Count)
        if "lang" in names:
            spec["lang"] = sorting.FieldFacet("lang", maptype=sorting.Count)
        if any(n in names for n in ("day", "week", "month")):
            spec["published"] = RawColumnFacet("published", maptype=sorting.Count)
        return spec

    def _facets(self, results, names: Sequence[str]) -> Dict[str, Dict[str, int]]:
        """Counts per facet value over every match (not just the page)."""
        if not names:
            return {}
        out: Dict[str, Dict[str, int]] = {}
        for name in ("source", "lang"):
            if name in names:
                groups = results.groups(name)
                out[name] = {str(k): int(v) for k, v in groups.items() if k not in (None, "")}
        if "published" in (results._facetmaps or {}):
            stamps = results.groups("published")
            field = self.schema["published"]
            for unit in ("day", "week", "month"):
                if unit in names:
                    out[unit] = _date_buckets(
                        ((field.from_column_value(k) if k != _NO_DATE else None, v) for k, v in stamps.items()), unit
                    )
        return {name: out[name] for name in names if name in out}

    # ------------------------------------------------------------ vocabulary, related, sources

    def term_frequency(self, term: str) -> int:
        """Articles whose title or body holds the analysed *term*."""
        reader = self._get_searcher().reader()
        return max(reader.doc_frequency("body", term), reader.doc_frequency("title", term))

    def similar_terms(self, term: str, max_distance: int = 2, limit: int = 5) -> List[Tuple[int, int, str]]:
        """Index terms near *term*: (edit distance, -frequency, term), best first, bounded scan."""
        reader = self._get_searcher().reader()
        found: Dict[str, Tuple[int, int]] = {}
        for f in ("body", "title"):
            scanned = 0
            for btext in reader.expand_prefix(f, term[:1]):
                scanned += 1
                if scanned > MAX_SCAN:
                    break
                t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
                if t == term or abs(len(t) - len(term)) > max_distance:
                    continue
                d = _edit_distance(t, term, limit=max_distance + 1)
                if d <= max_distance:
                    df = reader.doc_frequency(f, t)
                    old = found.get(t)
                    found[t] = (d, -max(df, -old[1] if old else 0))
        ranked = sorted((d, nf, t) for t, (d, nf) in found.items())
        return ranked[:limit]

    def surface_of(self, term: str) -> Optional[str]:
        """A readable word of the texts that analyses to *term* (for did-you-mean), if any."""
        searcher = self._get_searcher()
        for hit in searcher.search(wq.Or([wq.Term("title", term), wq.Term("body", term)]), limit=1):
            stored = hit.fields()
            for text in (stored.get("title", ""), stored.get("body", "")):
                for t, _pos, start, end in analysis.analyze(text or "", lang=stored.get("lang")):
                    if t == term:
                        return text[start:end]
        return None

    def more_like(self, article_id: str, spec: SearchSpec, *, numterms: int = 20) -> Optional["EngineAnswer"]:
        """Articles like *article_id* (key terms of its title and body), itself excluded; None if unknown."""
        searcher = self._get_searcher()
        docnum = searcher.document_number(id=article_id)
        if docnum is None:
            return None
        stored = searcher.stored_fields(docnum)
        text = f"{stored.get('title', '')}\n{stored.get('title', '')}\n{stored.get('body', '')}"
        terms = searcher.key_terms_from_text("body", text, numterms=numterms, normalize=False)
        parts = []
        for term, weight in terms:
            w = max(float(weight), 1e-6)
            parts.append(wq.Term("title", term, boost=w))
            parts.append(wq.Term("body", term, boost=w))
        if not parts:
            return EngineAnswer(0, [], {}, (), {})
        q: wq.Query = wq.Or(parts)
        filters = self._filters(spec) + [wq.Not(wq.Term("id", article_id))]
        q = wq.And([q] + filters)
        window = max(spec.window, spec.offset + spec.limit, 1)
        results = searcher.search(q, limit=window)
        cols = self._columns(searcher)
        cands = [Candidate(cols.id(d), float(score), cols.published(d), cols.signature(d)) for score, d in results.top_n]
        return EngineAnswer(len(results), cands, {}, (), {})

    def sources(self) -> List[Tuple[str, int, Optional[datetime], Optional[datetime]]]:
        """(source, articles, first date, last date) for every source, most articles first."""
        searcher = self._get_searcher()
        reader = searcher.reader()
        stats: Dict[str, List[object]] = {}
        field = self.schema["published"]
        dates = reader.column_reader("published", translate=False) if reader.has_column("published") else None
        sources = reader.column_reader("source") if reader.has_column("source") else None
        for docnum in reader.all_doc_ids():
            if sources is not None:
                name = sources[docnum]
                name = name.decode("utf-8") if isinstance(name, bytes) else name
            else:  # pragma: no cover - the schema always has the column
                name = reader.stored_fields(docnum).get("source", "")
            when = None
            if dates is not None:
                raw = dates[docnum]
                when = field.from_column_value(raw) if raw not in (None, _NO_DATE) else None
            entry = stats.setdefault(name or "", [0, None, None])
            entry[0] = int(entry[0]) + 1  # type: ignore[call-overload]
            if when is not None:
                entry[1] = when if entry[1] is None or when < entry[1] else entry[1]  # type: ignore[operator]
                entry[2] = when if entry[2] is None or when > entry[2] else entry[2]  # type: ignore[operator]
        rows = [(name, int(c), _aware(lo), _aware(hi)) for name, (c, lo, hi) in stats.items()]  # type: ignore[misc]
        rows.sort(key=lambda r: (-r[1], r[0].casefold(), r[0]))
        return rows

    # ------------------------------------------------------------ stats

    def stats(self) -> Dict[str, object]:
        searcher = self._get_searcher()
        facets = {
            "source": sorting.FieldFacet("source", maptype=sorting.Count),
            "lang": sorting.FieldFacet("lang", maptype=sorting.Count),
        }
        results = searcher.search(wq.Every(), groupedby=facets, limit=1)
        sources = {str(k): v for k, v in results.groups("source").items() if k not in (None, "")}
        langs = {str(k): v for k, v in results.groups("lang").items() if k not in (None, "")}
        dated = wq.DateRange("published", None, None)
        oldest = newest = None
        first = searcher.search(dated, limit=1, sortedby="published")
        if len(first):
            oldest = _aware(first[0].get("published"))
            newest = _aware(searcher.search(dated, limit=1, sortedby="published", reverse=True)[0].get("published"))
        size = sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())
        return {
            "articles": searcher.doc_count(),
            "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            "languages": dict(sorted(langs.items(), key=lambda kv: (-kv[1], kv[0]))),
            "oldest": oldest,
            "newest": newest,
            "segments": len(self._ix._segments()),
            "size_bytes": size,
            "format": FORMAT_VERSION,
            "analysis": analysis.ANALYSIS_VERSION,
        }


# ---------------------------------------------------------------------------- array search
#
# Searching walks Whoosh's matcher tree a posting at a time, several Python calls per
# posting and per tree level; that walk was most of a search's time. Instead, each
# segment's posting blocks are read as arrays (ids and weights; positions only for
# phrase candidates) and the compiled query is evaluated over whole arrays
# (newssearch.engine.arrays). Scores are Whoosh's BM25F, computed the same way; the
# Whoosh path stays for what this does not cover (it raises _Unsupported).

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


class _Unsupported(Exception):
    """A query shape the array searcher does not evaluate: use Whoosh's own search."""


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
        """Raw DATETIME column values (microseconds since datetime.min), _NO_DATE if none."""
        if self._published is None:
            if self.reader.has_column("published"):
                col = self.reader.column_reader("published", translate=False)
                self._published = _numeric_column(col, self.n).astype(np.uint64)
            else:
                self._published = np.full(self.n, _NO_DATE, dtype=np.uint64)
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
            self._date_key = np.where(pub == _NO_DATE, -1.0, pub.astype(np.float64))
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


class _PhraseCheck:
    """A phrase whose positions are checked only for the documents that need it.

    Holds one alternative per field (title, body): a document passes when any of them
    has the slots' terms in order. Built by :meth:`_ArrayEval.run` for phrases that sit
    in a conjunction, so a candidate failing the check simply drops out.
    """

    def __init__(self) -> None:
        self.alternatives: List[Tuple[np.ndarray, List[List["_TermPostings"]], int]] = []
        """(candidate mask, per slot the postings of each of its terms, slop)."""

    def passes(self, docs: np.ndarray) -> np.ndarray:
        """Which of *docs* hold the phrase: a bool array in their order."""
        ok = np.zeros(docs.size, dtype=bool)
        for cand, slots, slop in self.alternatives:
            todo = np.flatnonzero(~ok & cand[docs])
            if not todo.size:
                continue
            sub = np.zeros(cand.size, dtype=bool)
            sub[docs[todo]] = True
            per_slot = []
            for terms in slots:
                pairs = [tp.positions(sub) for tp in terms]
                per_slot.append((np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])))
            matched = arrays.phrase_match(per_slot, slop)
            ok[todo] = np.isin(docs[todo], matched)
        return ok


class _ArrayEval:
    """Evaluates compiled queries over the segments of one searcher."""

    def __init__(self, searcher, leaves: List[_Leaf], schema: Schema) -> None:  # noqa: ANN001
        self.searcher = searcher
        self.leaves = leaves
        self.schema = schema
        self.ndocs = searcher.doc_count_all()
        self._idf: Dict[Tuple[str, object], float] = {}
        self._avg: Dict[str, float] = {}
        self._postings: Dict[Tuple[int, str, object], "_TermPostings"] = {}

    def idf(self, fieldname: str, term: object) -> float:
        key = (fieldname, term)
        found = self._idf.get(key)
        if found is None:
            # the reader's doc_frequency, from the postings every segment reads anyway
            df = sum(self.postings(leaf, fieldname, term).df for leaf in self.leaves)
            found = self._idf[key] = math.log(self.ndocs / (df + 1)) + 1
        return found

    def avgdl(self, fieldname: str) -> float:
        found = self._avg.get(fieldname)
        if found is None:
            found = self._avg[fieldname] = self.searcher.avg_field_length(fieldname) or 1
        return found

    def postings(self, leaf: _Leaf, fieldname: str, term: object) -> "_TermPostings":
        """One term's postings in one segment; read once per search."""
        key = (id(leaf), fieldname, term)
        found = self._postings.get(key)
        if found is None:
            found = self._postings[key] = leaf.postings(fieldname, term)
        return found

    def term(self, leaf: _Leaf, fieldname: str, term: object, boost: float = 1.0):
        tp = self.postings(leaf, fieldname, term)
        ids, weights = tp.ids, tp.weights
        mask = np.zeros(leaf.n, dtype=bool)
        score = np.zeros(leaf.n)
        if not ids.size:
            return mask, score
        mask[ids] = True
        if self.schema[fieldname].scorable:
            s = arrays.bm25(self.idf(fieldname, term), weights, leaf.lengths(fieldname)[ids], self.avgdl(fieldname))
        else:
            s = weights  # Whoosh's WeightScorer for unscored fields
        score[ids] = s * boost if boost != 1.0 else s
        return mask, score

    def _phrase_parts(self, q: wq.Query) -> Optional[Tuple[str, List[List[str]], int]]:
        """(field, slots, slop) of a Phrase or a Sequence of terms; None for anything else."""
        if isinstance(q, wq.Phrase):
            return q.fieldname, [[w] for w in q.words], q.slop - 1
        if isinstance(q, wq.Sequence):
            slots, fieldname = [], None
            for sub in q.subqueries:
                terms = [sub] if isinstance(sub, wq.Term) else list(getattr(sub, "subqueries", ()))
                if not terms or not all(isinstance(t, wq.Term) for t in terms):
                    raise _Unsupported(repr(q))
                fieldname = terms[0].fieldname
                slots.append([t.text for t in terms])
            return fieldname, slots, q.slop - 1
        return None

    def phrase(self, leaf: _Leaf, parts: Sequence[Tuple[str, List[List[str]], int]], boost: float,
               defer: Optional[List[_PhraseCheck]]):
        """One phrase over one or more fields: candidates (all terms present) and scores.

        With *defer*, positions are left for the caller to check on the documents it needs
        (a :class:`_PhraseCheck` is appended); without, every candidate is checked now.
        """
        mask = np.zeros(leaf.n, dtype=bool)
        score = np.zeros(leaf.n)
        check = _PhraseCheck()
        for fieldname, slots, slop in parts:
            cand = leaf.live.copy()
            fscore = np.zeros(leaf.n)
            slot_terms = []
            for alts in slots:
                m = np.zeros(leaf.n, dtype=bool)
                terms = []
                for t in alts:
                    tm, ts = self.term(leaf, fieldname, t)
                    m |= tm
                    fscore += ts
                    terms.append(self.postings(leaf, fieldname, t))
                cand &= m
                slot_terms.append(terms)
            if len(slots) > 1:  # one word has no positions to check
                check.alternatives.append((cand, slot_terms, slop))
            mask |= cand
            score += fscore * cand
        if check.alternatives:
            if defer is not None:
                defer.append(check)
            else:
                docs = np.flatnonzero(mask)
                keep = check.passes(docs)
                mask = np.zeros(leaf.n, dtype=bool)
                mask[docs[keep]] = True
                score = score * mask
        return mask, (score * boost if boost != 1.0 else score)

    def run(self, q: wq.Query, leaf: _Leaf, defer: Optional[List[_PhraseCheck]] = None):
        """(mask, score) arrays of *q* over one segment.

        *defer* collects phrase checks the caller will do (only where *q* is a
        conjunction down to the phrase, so a failed check can only remove a match).
        """
        if isinstance(q, wq.Term):
            return self.term(leaf, q.fieldname, q.text, q.boost)
        parts = self._phrase_parts(q)
        if parts is not None:
            return self.phrase(leaf, [parts], q.boost, defer)
        if isinstance(q, wq.DateRange):
            pub = leaf.published()
            mask = pub != _NO_DATE
            if q.start is not None:
                mask &= (pub > q.start) if q.startexcl else (pub >= q.start)
            if q.end is not None:
                mask &= (pub < q.end) if q.endexcl else (pub <= q.end)
            return mask, mask * float(q.boost)  # constant score, as Whoosh
        if isinstance(q, wq.AndNot):
            mask, score = self.run(q.a, leaf, defer)
            neg, _ = self.run(q.b, leaf)
            mask = mask & ~neg
            return mask, score * mask
        if isinstance(q, wq.Not):
            neg, _ = self.run(q.query, leaf)
            return ~neg, np.zeros(leaf.n)
        if isinstance(q, wq.And):
            mask, score = None, np.zeros(leaf.n)
            for sub in q.subqueries:
                m, s = self.run(sub, leaf, defer)
                mask = m if mask is None else mask & m
                score += s
            if mask is None:
                return np.zeros(leaf.n, dtype=bool), score
            return mask, score * mask
        if isinstance(q, wq.Or):
            fields = [self._phrase_parts(sub) for sub in q.subqueries]
            if fields and all(f is not None for f in fields):
                # one phrase searched in title and body: one check, any field may hold it
                return self.phrase(leaf, fields, q.boost, defer)  # type: ignore[arg-type]
            mask, score = np.zeros(leaf.n, dtype=bool), np.zeros(leaf.n)
            for sub in q.subqueries:
                m, s = self.run(sub, leaf)
                mask |= m
                score += s
            return mask, score
        if isinstance(q, wq.Every):
            return np.ones(leaf.n, dtype=bool), np.ones(leaf.n)
        if q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return np.zeros(leaf.n, dtype=bool), np.zeros(leaf.n)
        raise _Unsupported(type(q).__name__)


def _day_key(raw: np.ndarray) -> np.ndarray:
    """Raw DATETIME values to whole days since datetime.min."""
    return raw // np.uint64(86_400_000_000)


_DAY0 = datetime.min


class _CopyIndex:
    """The near-copy lookup of one searcher, all segments together (global docnums).

    Finding the copies of a page of hits is then one pass of whole-array steps, not one
    per segment: the lookup keys (each document's BUCKET_KEYS smallest hashes) sorted
    with their documents, and every sketch's hashes, start and length.
    """

    def __init__(self, leaves: List[_Leaf]) -> None:
        keys, docs, words, starts, lengths = [], [], [], [], []
        base = 0
        for leaf in leaves:
            leaf_keys, leaf_docs = leaf.dupkeys()
            keys.append(leaf_keys)
            docs.append(leaf_docs + leaf.offset)
            leaf_words, leaf_starts, leaf_lengths = leaf.sketches()
            words.append(leaf_words)
            starts.append(leaf_starts + base)
            lengths.append(leaf_lengths)
            base += leaf_words.size
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
        order = np.argsort(all_keys, kind="stable")
        self.keys = all_keys[order]
        self.docs = (np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64))[order]
        self.words = np.concatenate(words).astype(np.uint64) if words else np.zeros(0, dtype=np.uint64)
        self.starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        self.lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        self.leaves = leaves
        self.offsets = np.asarray([leaf.offset for leaf in leaves], dtype=np.int64)
        self.live = np.concatenate([leaf.live for leaf in leaves]) if leaves else np.zeros(0, dtype=bool)

    def rows(self, docs: np.ndarray, width: int) -> Tuple[np.ndarray, np.ndarray]:
        """The first *width* hashes of these documents' sketches as rows, and how many each has."""
        lens = np.minimum(self.lengths[docs], width)
        if not self.words.size:
            return np.zeros((docs.size, width), dtype=np.uint64), lens
        at = np.minimum(self.starts[docs][:, None] + np.arange(width)[None, :], self.words.size - 1)
        return self.words[at], lens

    def id(self, docnum: int) -> str:
        n = int(np.searchsorted(self.offsets, docnum, side="right")) - 1
        leaf = self.leaves[n]
        return leaf.id(docnum - leaf.offset)


class _ArraySearch:
    """What :meth:`WhooshEngine.search` keeps of one searcher: segments as arrays, filter masks."""

    def __init__(self, searcher, schema: Schema) -> None:  # noqa: ANN001 - whoosh searcher
        self.searcher = searcher
        self.schema = schema
        self.leaves = [_Leaf(r, off, schema) for r, off in searcher.reader().leaf_readers()]
        for leaf in self.leaves:  # one budget for the index, shared by its segments
            leaf.cache_budget = max(CACHE_MIN_POSTINGS, POSTINGS_CACHE // len(self.leaves))
        self._filters: Dict[Tuple[object, ...], List[np.ndarray]] = {}
        self.docnums: Dict[str, int] = {}
        """Ids of recent candidates -> docnum, so loading them needs no id lookup."""
        self._copies: Optional[_CopyIndex] = None

    def copy_index(self) -> "_CopyIndex":
        """Every segment's near-copy lookup keys and sketches as one index (built on first use)."""
        if self._copies is None:
            self._copies = _CopyIndex(self.leaves)
        return self._copies

    def evaluator(self) -> _ArrayEval:
        return _ArrayEval(self.searcher, self.leaves, self.schema)

    def filter_masks(self, spec: SearchSpec, filters: List[wq.Query]) -> Optional[List[np.ndarray]]:
        """Per segment, the documents passing the search's filters (None: no filter); cached."""
        if not filters:
            return None
        key = (tuple(spec.sources), spec.since, spec.until, spec.lang, tuple(spec.domains),
               tuple(spec.exclude_sources), tuple(spec.exclude_ids))
        found = self._filters.get(key)
        if found is None:
            ev = self.evaluator()
            found = []
            for leaf in self.leaves:
                mask = np.ones(leaf.n, dtype=bool)
                for f in filters:
                    mask &= ev.run(f, leaf)[0]
                found.append(mask)
            if len(self._filters) > 64:
                self._filters.clear()
            self._filters[key] = found
        return found
