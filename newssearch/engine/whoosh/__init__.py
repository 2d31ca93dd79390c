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

Security note: a Whoosh index keeps pickles on disk (the schema and segment list in its
table of contents; directories, headers, posting blocks, inlined postings and stored
fields in its segments), so reading an index unpickles data from it. Every such pickle,
whether Whoosh or this package reads it, goes through :mod:`.safepickle`'s restricted
unpickler: a pickle may name only the globals our indexes hold (an explicit allow-list of
our codec and segment classes, the schema's Whoosh field, format and analysis classes,
``array`` and ``datetime`` reconstructors, a few builtins); any other global, such as
``os.system``, raises :class:`~newssearch.errors.UntrustedIndex` naming the file, before
anything of that pickle ran. So opening or querying an index directory someone else made
runs no code of theirs.

Limits: the guarantee is only against code execution through pickle. A crafted index can
still build the allowed objects with any state and call the allowed callables (class
constructors, the ``array``/``datetime``/``defaultdict`` reconstructors, ``re._compile``;
``_codecs.encode`` is narrowed to latin-1) with any arguments; none of them runs code or
touches files, but the index can give wrong results, errors other than UntrustedIndex
(a traceback for a merely corrupt file), or exhaust memory or CPU (huge or zlib-bomb
blocks, a costly regex); the
format record and generation files are JSON and not at issue. It covers what this
package reads through Whoosh 2.7.5's readers (as patched in one place, :func:`.safepickle.install`);
another Whoosh version needs the patched names checked again (tests/test_untrusted_index.py
does), and the helper process of :mod:`.parallel` still exchanges plain pickles with its
parent (never data from an index directory). Anyone who can write into the index
directory can still replace its contents: keep it as protected as the data it serves.
"""
from __future__ import annotations

# first: every pickle Whoosh or this package reads from an index goes through it from now on
from . import safepickle

safepickle.install()

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
