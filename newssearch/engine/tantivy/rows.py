"""Each article's scoring record beside the tantivy index, found by its row number.

The exact re-scoring of a search (:mod:`.score`) reads the term counts of the ~40
articles tantivy ranks first. From tantivy's document store an article costs ~20-30 us
(a compressed block opened, every stored field converted), so a page spent about a
millisecond on loads alone. The records live here instead, read through ``mmap`` in
~1-2 us: the article's id, its ``meta`` record (source, content hash, url, author,
keyword values), its packed term counts (:func:`.schema.pack_tfs`) and its title and
body. tantivy then stores nothing: it holds the terms and the columns. The text is not
compressed: zlib's fastest level halves it but costs ~70 us an article to write (8% of
indexing) and ~15 us to read (a page's 10 hits: 0.15 ms).

An article's row number is its ``row`` fast field; rows only grow, never reused. The
records are files written once and never changed (``rows/<first row>.rows``), so a
generation's clone hard-links them as it does tantivy's segments. A file holds its
records, then each record's end offset (u64 little-endian), then a footer: first row,
record count (u64 each) and a magic. A record is the lengths of the id, the meta and
the term counts (u32 each), then those three and the text (:func:`pack_text`). A writer
adds one file per commit; past :data:`MAX_FILES` files the writer folds them into one
holding only the live articles' records (the rows of deleted or replaced articles then
read as absent).
"""
from __future__ import annotations

import bisect
import mmap
import os
import struct
from array import array
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from ...errors import RebuildNeeded

__all__ = ["RowStore", "RowWriter", "MAX_FILES", "FOLDER", "pack_record", "unpack_record", "layout", "pack_text",
           "unpack_text", "record_files", "next_row"]

Buffer = Union[bytes, mmap.mmap]
"""A record's bytes, or the mapped file holding it."""
TextAt = Tuple[mmap.mmap, int, int]
"""Where a record's text is: the mapped file, start and end."""

FOLDER = "rows"
"""The records' folder inside a location (beside ``tantivy/``)."""
SUFFIX = ".rows"
MAGIC = b"NSROWS01"
_FOOTER = struct.Struct("<QQ8s")
_HEAD = struct.Struct("<III")
_TEXT = struct.Struct("<I")
_END = struct.Struct("<Q")
_ENDS = struct.Struct("<QQ")
MAX_FILES = 16
"""Files beyond which a writer folds them into one (each commit adds one)."""
PREFAULT_BYTES = 512 << 20
"""Record files up to this size in all are mapped with their pages entered at once
(``MAP_POPULATE``, ~26 ms for 260 MB already cached): a query reads ~45 records at random,
and a first touch of a page costs a page fault (~5.5 us a record instead of ~1.5-2.5)."""


def pack_text(title: str, body: str) -> bytes:
    """An article's title and body as a record holds them: the title's length in bytes,
    then both (UTF-8)."""
    t = (title or "").encode("utf-8", "surrogatepass")
    return _TEXT.pack(len(t)) + t + (body or "").encode("utf-8", "surrogatepass")


def unpack_text(blob: bytes) -> Tuple[str, str]:
    """(title, body) of a :func:`pack_text` blob."""
    (n_title,) = _TEXT.unpack_from(blob)
    mid = _TEXT.size + n_title
    return blob[_TEXT.size:mid].decode("utf-8", "surrogatepass"), blob[mid:].decode("utf-8", "surrogatepass")


def pack_record(article_id: str, meta: bytes, tfs: bytes, text: bytes) -> bytes:
    """A record: *meta* (JSON), *tfs* (packed term counts) and *text* (:func:`pack_text`)."""
    raw_id = article_id.encode("utf-8", "surrogatepass")
    return _HEAD.pack(len(raw_id), len(meta), len(tfs)) + raw_id + meta + tfs + text


def layout(rec: Buffer, at: int = 0) -> Tuple[str, int, int, int]:
    """(id, where the meta starts, where the term counts start, where the text starts) of
    the record at *at* of *rec*: its parts can then be read in place."""
    n_id, n_meta, n_tfs = _HEAD.unpack_from(rec, at)
    mid = at + _HEAD.size + n_id
    end = mid + n_meta
    return rec[at + _HEAD.size : mid].decode("utf-8", "surrogatepass"), mid, end, end + n_tfs


def unpack_record(rec: bytes) -> Tuple[str, bytes, bytes, bytes]:
    """(id, meta, term counts, text) of a record."""
    article_id, mid, end, text = layout(rec)
    return article_id, rec[mid:end], rec[end:text], rec[text:]


class _File:
    __slots__ = ("path", "first", "count", "mm", "ends_at")

    def __init__(self, path: Path, size: int, populate: bool) -> None:
        self.path = path
        if size < _FOOTER.size:
            raise RebuildNeeded(f"{path} is too short to be a records file: rebuild needed")
        with open(path, "rb") as f:
            if hasattr(mmap, "MAP_SHARED"):  # POSIX
                flags = mmap.MAP_SHARED | (getattr(mmap, "MAP_POPULATE", 0) if populate else 0)
                self.mm = mmap.mmap(f.fileno(), 0, flags=flags, prot=mmap.PROT_READ)
            else:  # pragma: no cover - Windows
                self.mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.first, self.count, magic = _FOOTER.unpack_from(self.mm, size - _FOOTER.size)
        if magic != MAGIC:
            raise RebuildNeeded(f"{path} is not a records file: rebuild needed")
        self.ends_at = size - _FOOTER.size - _END.size * self.count
        if self.ends_at < 0:
            raise RebuildNeeded(f"{path} is cut short: rebuild needed")

    def span(self, k: int) -> Tuple[int, int]:
        """Where record *k* of this file starts and ends."""
        if k:
            lo, hi = _ENDS.unpack_from(self.mm, self.ends_at + _END.size * (k - 1))
        else:
            lo, hi = 0, _END.unpack_from(self.mm, self.ends_at)[0]
        if hi > self.ends_at or lo > hi:
            raise RebuildNeeded(f"{self.path} holds a record past its end: rebuild needed")
        return lo, hi

    def record(self, k: int) -> Optional[bytes]:
        lo, hi = self.span(k)
        return self.mm[lo:hi] if hi > lo else None

    def head(self, k: int) -> Optional[Tuple[Buffer, int, Optional[TextAt]]]:
        """Record *k* read in place: (the mapped file, where the record starts, where its
        text is). A search scores ~45 records; copying them (~5 KB each) cost ~0.03 ms a
        query at 20,000 articles, and their text is only read for the hits shown. A
        record whose lengths do not fit its span comes as a copy of it, read as before."""
        lo, hi = self.span(k)
        if hi <= lo:
            return None
        mm = self.mm
        if hi - lo >= _HEAD.size:
            n_id, n_meta, n_tfs = _HEAD.unpack_from(mm, lo)
            cut = lo + _HEAD.size + n_id + n_meta + n_tfs
            if cut <= hi:
                return mm, lo, (mm, cut, hi)
        return mm[lo:hi], 0, None


def record_files(folder: Path) -> List[Path]:
    """The record files of a location, by name (first row)."""
    return sorted(folder.glob("*" + SUFFIX))


def next_row(folder: Path) -> int:
    """The row number a writer gives out next: past every file's last (footers only read)."""
    end = 0
    for p in record_files(folder):
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < _FOOTER.size:
                raise RebuildNeeded(f"{p} is too short to be a records file: rebuild needed")
            f.seek(size - _FOOTER.size)
            first, count, magic = _FOOTER.unpack(f.read(_FOOTER.size))
        if magic != MAGIC:
            raise RebuildNeeded(f"{p} is not a records file: rebuild needed")
        end = max(end, first + count)
    return end


class RowStore:
    """The records of one location, read-only (files never change once written)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        paths = [(p, p.stat().st_size) for p in record_files(folder)]
        populate = sum(size for _p, size in paths) <= PREFAULT_BYTES
        files = [_File(p, size, populate) for p, size in paths]
        files.sort(key=lambda f: f.first)
        self.files = files
        self.starts = [f.first for f in files]
        self.end = max((f.first + f.count for f in files), default=0)
        """The next row number a writer gives out."""

    def record(self, row: Optional[int]) -> Optional[bytes]:
        """The record of *row*, or None when this store has none (a row of a deleted article
        after a fold, or a damaged index)."""
        at = self._locate(row)
        return at[0].record(at[1]) if at is not None else None

    def _locate(self, row: Optional[int]) -> Optional[Tuple[_File, int]]:
        """The file holding *row* and its place there, or None."""
        if row is None:
            return None
        i = bisect.bisect_right(self.starts, row) - 1
        if i < 0:
            return None
        f = self.files[i]
        k = row - f.first
        return (f, k) if k < f.count else None

    def heads(self, rows: Sequence[Optional[int]]) -> List[Optional[Tuple[Buffer, int, Optional[TextAt]]]]:
        """:meth:`_File.head` of each of *rows*: a window's ~45 records without their text
        (with one file, as after a fold or a first build, no file is looked for)."""
        if len(self.files) == 1:
            f = self.files[0]
            first, count = f.first, f.count
            return [f.head(row - first) if row is not None and 0 <= row - first < count else None for row in rows]
        return [at[0].head(at[1]) if at is not None else None for at in map(self._locate, rows)]

    def holds(self, rows: Iterable[Optional[int]]) -> bool:
        """Whether every one of *rows* has a record here."""
        return all(self.record(r) is not None for r in rows)


class RowWriter:
    """Records of one commit, streamed to a temporary file and published by :meth:`commit`."""

    def __init__(self, folder: Path, first: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.first = first
        self.path = folder / f"{first:016d}{SUFFIX}"
        self.tmp = folder / f"{first:016d}.tmp"
        self._f = open(self.tmp, "wb", buffering=1 << 20)  # records are ~5 KB: few, large writes
        self._ends = array("Q")
        self._pos = 0

    def add(self, record: bytes) -> int:
        """Write *record* (:func:`pack_record`); returns its row number."""
        self._f.write(record)
        self._pos += len(record)
        self._ends.append(self._pos)
        return self.first + len(self._ends) - 1

    def skip(self) -> int:
        """An empty record (a row of a deleted article in a fold); returns its row number."""
        self._ends.append(self._pos)
        return self.first + len(self._ends) - 1

    def commit(self) -> Optional[Path]:
        """Finish the file and give it its name (nothing is published when no record was added)."""
        f, self._f = self._f, None
        if f is None:
            return None
        if not self._ends:
            f.close()
            self.tmp.unlink(missing_ok=True)
            return None
        ends = array("Q", self._ends)
        if ends.itemsize != 8:  # pragma: no cover - every platform we support has 8-byte Q
            raise RuntimeError("array('Q') is not 64-bit here")
        if struct.pack("=H", 1) != struct.pack("<H", 1):  # pragma: no cover - big-endian machine
            ends.byteswap()
        f.write(ends.tobytes())
        f.write(_FOOTER.pack(self.first, len(self._ends), MAGIC))
        f.flush()
        os.fsync(f.fileno())
        f.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            f.close()
            self.tmp.unlink(missing_ok=True)
