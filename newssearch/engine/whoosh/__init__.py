"""The Whoosh wing: the only package that imports whoosh. One concern a module:

- :mod:`.schema` — the schema, the tokenizer adapter, IndexDoc -> Whoosh fields, dates;
- :mod:`.codec` — how postings are written (packed positions, big blocks, inlined terms);
- :mod:`.store` — segments read in place from mmapped compound files;
- :mod:`.segwriter` — FastSegmentWriter, a segment from in-memory per-term postings;
- :mod:`.parallel` — the helper process writing part of a batch on the second core;
- :mod:`.writer` — chunked upserts, deletes, merges, the commit-or-cancel with-block;
- :mod:`.compile` — the query tree and filters as Whoosh queries;
- :mod:`.leaves` — one segment as numpy arrays (postings, lengths, columns);
- :mod:`.evaluate` — compiled queries evaluated over whole arrays, phrase checks;
- :mod:`.copies` — near-duplicate lookup by sketch keys;
- :mod:`.searcher` — the EngineSearcher; :mod:`.engine` — the Engine.

Security note: a Whoosh index stores its schema and segment list with pickle, so opening
an index directory unpickles data from it. Only open indexes you built yourself.
"""
from __future__ import annotations

# Whoosh pickles these classes into every index by their import path at the time they were
# written (``newssearch.engine.whoosh.NewsTokenizer`` etc.): they stay importable here so
# indexes written before this package was split keep opening.
from .codec import NewsCodec, NewsPostingsWriter, NewsTermInfo, PackedPositions, _unpack_positions
from .engine import WhooshEngine
from .schema import FORMAT_VERSION, NewsTokenizer
from .store import NewsSegment

__all__ = [
    "FORMAT_VERSION",
    "NewsCodec",
    "NewsPostingsWriter",
    "NewsSegment",
    "NewsTermInfo",
    "NewsTokenizer",
    "PackedPositions",
    "WhooshEngine",
    "_unpack_positions",
]

# ... and are pickled under those names by new indexes too, so moving a class between the
# modules of this package never changes what an index holds
for _pickled in (NewsCodec, NewsPostingsWriter, NewsTermInfo, PackedPositions, _unpack_positions, NewsTokenizer,
                 NewsSegment):
    _pickled.__module__ = __name__
del _pickled
