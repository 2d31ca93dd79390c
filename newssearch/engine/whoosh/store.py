"""Reading segments in place: mmapped compound files without copies (NewsSegment)."""
from __future__ import annotations

import os
from io import BytesIO
from pickle import UnpicklingError
from typing import Optional, Tuple

from whoosh.codec.whoosh3 import W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.structfile import BufferFile

from .safepickle import load as _pickle_load


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

    def __init__(self, buf, name=None, onclose=None, origin: Optional[Tuple[str, str]] = None):  # noqa: ANN001
        self._buf = buf
        self._name = name
        self._origin = origin  # (the segment file's path, this part's name): for errors
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
                value = _pickle_load(window, self)
            except (EOFError, UnpicklingError):
                if start + size >= len(self._buf):
                    raise
                size *= 8
                continue
            stream.seek(start + window.tell())
            return value

    def close(self) -> None:
        if self.is_closed:
            raise ValueError("This file is already closed")
        if self.onclose:
            self.onclose(self)
        if self._stream is not None:
            self._stream.close()
        self.is_closed = True


class NewsCompoundStorage(CompoundStorage):
    """Whoosh's compound segment file, handing out :class:`_MappedFile` parts."""

    def __init__(self, dbfile, use_mmap=True, basepos=0):  # noqa: ANN001 - whoosh types
        # the segment file's path, for errors about its parts (Whoosh drops the file once mapped)
        path = getattr(getattr(dbfile, "file", None), "name", None)
        self._path = os.path.abspath(path) if isinstance(path, str) else None
        super().__init__(dbfile, use_mmap=use_mmap, basepos=basepos)

    def open_file(self, name, *args, **kwargs):  # noqa: ANN001, ANN201 - whoosh types
        if self._source is None or self.is_closed:
            return super().open_file(name, *args, **kwargs)
        offset, length = self.range(name)
        origin = (self._path, name) if self._path is not None else None
        return _MappedFile(memoryview(self._source)[offset : offset + length], name=name, origin=origin)


class NewsSegment(W3Segment):
    """Whoosh 3's segment, opened as a :class:`NewsCompoundStorage`.

    Module-level because Whoosh pickles segments (and so this class) into the index's
    table of contents; NewsCodec makes every segment we write, merges included, one.
    """

    def open_compound_file(self, storage):  # noqa: ANN001, ANN201 - whoosh types
        dbfile = storage.open_file(self.make_filename(self.COMPOUND_EXT))
        return NewsCompoundStorage(dbfile, use_mmap=storage.supports_mmap)

