"""How postings are written: packed positions, big blocks, inlined rare terms (NewsCodec).

Module-level classes on purpose: Whoosh pickles the codec and PackedPositions into each
segment, so they must stay importable by these names (re-exported by the package).
"""
from __future__ import annotations

import zlib
from array import array
from itertools import chain
from operator import sub as _sub
from pickle import dumps as _pickle_dumps
from typing import Iterable, Iterator, List, Optional, Sequence

from whoosh.codec.whoosh3 import (
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3PostingsWriter,
    W3TermInfo,
)
from whoosh.formats import Positions
from whoosh.system import pack_uint
from whoosh.util.numeric import length_to_byte

from .safepickle import loads as _pickle_loads
from .store import NewsSegment


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
            ds = _pickle_loads(v[4:]) if v else []  # read from a segment: restricted
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

    Whoosh reads them with ``loads`` (:mod:`.safepickle`'s restricted one), which takes any
    protocol; protocol 2 writes each ``bytes`` as a ~40-byte ``_codecs.encode`` call,
    protocol 3 in two bytes.
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

