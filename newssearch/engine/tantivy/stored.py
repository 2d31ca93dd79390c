"""An article as the searcher reads it from its record (:mod:`.rows`): each part decoded
when first asked for."""
from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import tantivy

from ...errors import RebuildNeeded
from .rows import Buffer, TextAt, layout, unpack_text

__all__ = ["Row", "addr_key", "from_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NEEDLES: Dict[str, bytes] = {}
"""Terms as the bytes that start their line in packed counts (a query looks each up ~40 times)."""


def from_micros(us: float) -> datetime:
    return _EPOCH + _MICROSECOND * int(us)  # a third of timedelta(microseconds=...)'s cost, the same datetime


_MICROSECOND = timedelta(microseconds=1)


class Row:
    """One article's record (:mod:`.rows`): its id, ``meta``, term counts and text, each
    decoded when first asked for (ranking reads the term counts, a page the text)."""

    __slots__ = ("id", "addr", "key", "_rec", "_meta_at", "_tfs_at", "_text_at", "_meta", "_split", "_text", "sig",
                 "cols", "norms", "_kw", "_text_ref")

    def __init__(self, record: Buffer, addr: "tantivy.DocAddress", at: int = 0, text: Optional[TextAt] = None) -> None:
        # the parts are read in place, when asked for (ranking looks up a few term counts):
        # the record starts at *at* of *record* (a mapped file: :meth:`.rows.RowStore.heads`),
        # its text is at *text* when given, else after its term counts
        self._rec = record
        self._text_ref = text
        self.id, self._meta_at, self._tfs_at, self._text_at = layout(record, at)
        self._text: Optional[Tuple[str, str]] = None
        self.addr = addr
        self.key = (addr.segment_ord, addr.doc)
        """:func:`addr_key` of :attr:`addr`, once (a search looks its records up by it)."""
        self._meta: Optional[Dict[str, Any]] = None
        self._split: Optional[int] = None
        self.sig: Optional[Tuple[int, ...]] = None
        """The sketch, read from its columns when a candidate needs it (:meth:`TantivySearcher.with_sigs`)."""
        self.cols: Optional[Tuple[int, int, Optional[int]]] = None
        """(title length, body length, publication time in us or None) from the columns, when
        the searcher read them (a score then decodes no ``meta``: :meth:`TantivySearcher._rescore`)."""
        self.norms: Dict[str, float] = {}
        """Each field's BM25 length norm (:func:`.score.norm_of`), set with :attr:`cols`."""
        self._kw: Optional[_Keywords] = None

    def _damaged(self, exc: Exception) -> RebuildNeeded:
        return RebuildNeeded(f"the record of article {self.id!r} is damaged ({exc}): rebuild needed")

    @property
    def meta(self) -> Dict[str, Any]:
        if self._meta is None:
            try:
                meta = json.loads(self._rec[self._meta_at : self._tfs_at])
            except ValueError as exc:  # JSON or UTF-8
                raise self._damaged(exc) from exc
            if not isinstance(meta, dict):
                raise self._damaged(TypeError("its meta is not a JSON object"))
            self._meta = meta
        return self._meta

    @property
    def published(self) -> Optional[datetime]:
        us = self.cols[2] if self.cols is not None else self.meta.get("pub")
        return from_micros(us) if us is not None else None

    def _texts(self) -> Tuple[str, str]:
        if self._text is None:
            try:
                ref = self._text_ref
                self._text = unpack_text(self._rec[self._text_at :] if ref is None else ref[0][ref[1] : ref[2]])
            except (ValueError, struct.error) as exc:
                raise self._damaged(exc) from exc
        return self._text

    @property
    def title(self) -> str:
        return self._texts()[0]

    @property
    def body(self) -> str:
        return self._texts()[1]

    @property
    def source(self) -> str:
        return self.meta.get("src") or ""

    @property
    def lang(self) -> Optional[str]:
        return self.meta.get("lang")

    def tf(self, fieldname: str, term: str) -> int:
        """How often *term* is in the field, found in the packed counts (:func:`.schema.pack_tfs`)
        as bytes: a window looks up a few terms of each article, never decoding all of them."""
        raw = self._rec
        if self._split is None:
            split = raw.find(b"\0", self._tfs_at, self._text_at)
            self._split = split if split >= 0 else self._text_at
        needle = _NEEDLES.get(term)
        if needle is None:
            if len(_NEEDLES) > 10_000:
                _NEEDLES.clear()
            needle = _NEEDLES[term] = b"\n" + term.encode("utf-8", "surrogatepass") + b" "
        if fieldname == "title":
            at = raw.find(needle, self._tfs_at, self._split)
        else:
            at = raw.find(needle, self._split, self._text_at)
        if at < 0:
            return 0
        start = at + len(needle)
        end = raw.find(b"\n", start, self._text_at)  # a line of the counts ends before the text
        try:
            if end < 0:
                raise ValueError("a term count runs into the text")
            return int(raw[start:end])
        except ValueError as exc:
            raise self._damaged(exc) from exc

    def counts(self, fieldname: str) -> Dict[str, int]:
        """Every term count of a field (for related articles)."""
        try:
            packed = self._rec[self._tfs_at : self._text_at]
            title, _, body = packed.decode("utf-8", "surrogatepass").partition("\0")
            out: Dict[str, int] = {}
            for line in (title if fieldname == "title" else body).split("\n"):
                if line:
                    t, _, c = line.rpartition(" ")
                    out[t] = int(c)
        except ValueError as exc:
            raise self._damaged(exc) from exc
        return out

    @property
    def pub(self) -> Optional[int]:
        """Publication time in microseconds (None when undated), as a score compares it."""
        return self.cols[2] if self.cols is not None else self.meta.get("pub")

    @property
    def keywords(self) -> Mapping[str, Sequence[str]]:
        """The keyword fields a score may ask for, decoded from ``meta`` only then."""
        if self._kw is None:
            self._kw = _Keywords(self)
        return self._kw

    def keyword_values(self) -> Dict[str, Sequence[str]]:
        m = self.meta
        return {"source_key": [m["sk"]], "lang": [m["lang"]] if m.get("lang") else [], "domains": m["dom"],
                "urlwords": m["uw"], "authorwords": m["aw"]}


class _Keywords(Mapping):
    """An article's keyword fields, decoded from its ``meta`` only if a score asks for one."""

    __slots__ = ("_doc", "_kw")

    def __init__(self, doc: Row) -> None:
        self._doc = doc
        self._kw: Optional[Dict[str, Sequence[str]]] = None

    def _all(self) -> Dict[str, Sequence[str]]:
        if self._kw is None:
            self._kw = self._doc.keyword_values()
        return self._kw

    def __getitem__(self, name: str) -> Sequence[str]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def addr_key(a: "tantivy.DocAddress") -> Tuple[int, int]:
    return (a.segment_ord, a.doc)
