"""An article as the searcher reads it: its record (:mod:`.rows`) for ranking, tantivy's
stored text for a page; each field decoded when first asked for."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import tantivy

from .rows import unpack_record
from .score import DocView

__all__ = ["Row", "Loaded", "addr_key", "from_micros"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NEEDLES: Dict[str, bytes] = {}
"""Terms as the bytes that start their line in packed counts (a query looks each up ~40 times)."""


def from_micros(us: float) -> datetime:
    return _EPOCH + timedelta(microseconds=int(us))


class Row:
    """One article's record (:mod:`.rows`): its id, ``meta`` and term counts, decoded when
    first asked for. What ranking needs; the stored text is in :class:`Loaded`."""

    __slots__ = ("id", "addr", "_meta_raw", "_meta", "_tfs_raw", "_split", "sig", "cols")

    def __init__(self, record: bytes, addr: "tantivy.DocAddress") -> None:
        self.id, self._meta_raw, self._tfs_raw = unpack_record(record)
        self.addr = addr
        self._meta: Optional[Dict[str, Any]] = None
        self._split: Optional[int] = None
        self.sig: Optional[Tuple[int, ...]] = None
        """The sketch, read from its columns when a candidate needs it (:meth:`TantivySearcher.with_sigs`)."""
        self.cols: Optional[Tuple[int, int, Optional[int]]] = None
        """(title length, body length, publication time in us or None) from the columns, when
        the searcher read them (a score then decodes no ``meta``: :meth:`TantivySearcher._rescore`)."""

    @property
    def meta(self) -> Dict[str, Any]:
        if self._meta is None:
            self._meta = json.loads(self._meta_raw)
        return self._meta

    @property
    def published(self) -> Optional[datetime]:
        us = self.cols[2] if self.cols is not None else self.meta.get("pub")
        return from_micros(us) if us is not None else None

    def tf(self, fieldname: str, term: str) -> int:
        """How often *term* is in the field, found in the packed counts (:func:`.schema.pack_tfs`)
        as bytes: a window looks up a few terms of each article, never decoding all of them."""
        raw = self._tfs_raw
        if self._split is None:
            self._split = raw.find(b"\0")
        needle = _NEEDLES.get(term)
        if needle is None:
            if len(_NEEDLES) > 10_000:
                _NEEDLES.clear()
            needle = _NEEDLES[term] = b"\n" + term.encode("utf-8", "surrogatepass") + b" "
        if fieldname == "title":
            at = raw.find(needle, 0, self._split)
        else:
            at = raw.find(needle, self._split)
        if at < 0:
            return 0
        start = at + len(needle)
        return int(raw[start : raw.index(b"\n", start)])

    def counts(self, fieldname: str) -> Dict[str, int]:
        """Every term count of a field (for related articles)."""
        title, _, body = self._tfs_raw.decode("utf-8", "surrogatepass").partition("\0")
        out: Dict[str, int] = {}
        for line in (title if fieldname == "title" else body).split("\n"):
            if line:
                t, _, c = line.rpartition(" ")
                out[t] = int(c)
        return out

    def keywords(self) -> Dict[str, Sequence[str]]:
        m = self.meta
        return {"source_key": [m["sk"]], "lang": [m["lang"]] if m.get("lang") else [], "domains": m["dom"],
                "urlwords": m["uw"], "authorwords": m["aw"]}

    def view(self) -> DocView:
        if self.cols is not None:
            tl, bl, pub = self.cols
            return DocView(self.id, self.tf, {"title": tl, "body": bl}, _Keywords(self), pub)
        m = self.meta
        return DocView(self.id, self.tf, {"title": m["tl"], "body": m["bl"]}, self.keywords(), m.get("pub"))


class Loaded:
    """An article's stored text from tantivy's document store, with its :class:`Row`."""

    __slots__ = ("row", "_d")

    def __init__(self, doc: "tantivy.Document", row: Row) -> None:
        # fields read one by one when asked for (to_dict converts every field, body included)
        self._d = doc
        self.row = row

    @property
    def id(self) -> str:
        return self.row.id

    @property
    def meta(self) -> Dict[str, Any]:
        return self.row.meta

    @property
    def published(self) -> Optional[datetime]:
        return self.row.published

    def _text(self, name: str) -> str:
        raw = self._d.get_first(name)
        return raw.decode("utf-8", "surrogatepass") if raw else ""

    @property
    def title(self) -> str:
        return self._text("ttext")

    @property
    def body(self) -> str:
        return self._text("btext")

    @property
    def source(self) -> str:
        return self._d.get_first("source") or ""

    @property
    def lang(self) -> Optional[str]:
        return self._d.get_first("lang")


class _Keywords(Mapping):
    """An article's keyword fields, decoded from its ``meta`` only if a score asks for one."""

    __slots__ = ("_doc", "_kw")

    def __init__(self, doc: Row) -> None:
        self._doc = doc
        self._kw: Optional[Dict[str, Sequence[str]]] = None

    def _all(self) -> Dict[str, Sequence[str]]:
        if self._kw is None:
            self._kw = self._doc.keywords()
        return self._kw

    def __getitem__(self, name: str) -> Sequence[str]:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def addr_key(a: "tantivy.DocAddress") -> Tuple[int, int]:
    return (a.segment_ord, a.doc)
