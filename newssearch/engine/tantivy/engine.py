"""TantivyEngine: a tantivy index in one location, behind the :class:`~newssearch.engine.base.Engine` contract.

The location (a generation directory) holds the format record, the tantivy index in
its ``tantivy/`` folder and the articles' records in ``rows/`` (:mod:`.rows`). tantivy
never rewrites a file it wrote (segments are immutable; ``meta.json`` and the
managed-files list are replaced atomically), nor does the record store, so a clone is
hard links, and a writer on the clone cannot change what readers of the source see.
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import tantivy

from ...errors import IndexNotFound, NewsSearchError, RebuildNeeded
from .. import check_format_record, link_or_copy, write_format_record
from ..base import Where
from .schema import FORMAT, build_schema
from .rows import FOLDER as ROWS
from .searcher import NAME, TantivySearcher
from .writer import TantivyWriter

__all__ = ["TantivyEngine"]

FOLDER = "tantivy"
"""The tantivy index's folder inside a location."""


def _index(path: Path) -> "tantivy.Index":
    try:
        return tantivy.Index(build_schema(), path=str(path), reuse=True)
    except (ValueError, OSError) as exc:
        raise RebuildNeeded(f"the tantivy index at {path} cannot be opened ({exc}): rebuild needed") from exc


class TantivyEngine:
    """A tantivy index (see the module docstring)."""

    name = NAME

    def __init__(self, where: Where, index: "tantivy.Index") -> None:
        self.where = Path(where)
        self.index = index
        self._searcher: Optional[TantivySearcher] = None

    @classmethod
    def create(cls, where: Where) -> "TantivyEngine":
        where = Path(where)
        (where / FOLDER).mkdir(parents=True, exist_ok=True)
        (where / ROWS).mkdir(exist_ok=True)
        index = tantivy.Index(build_schema(), path=str(where / FOLDER), reuse=False)
        write_format_record(where, NAME, FORMAT)
        return cls(where, index)

    @classmethod
    def open(cls, where: Where) -> "TantivyEngine":
        where = Path(where)
        check_format_record(where, NAME, FORMAT)
        if not (where / FOLDER / "meta.json").is_file():
            raise RebuildNeeded(f"{where} has a format record but no tantivy index: rebuild needed")
        if not (where / ROWS).is_dir():
            raise RebuildNeeded(f"{where} has no {ROWS}/ folder of article records: rebuild needed")
        return cls(where, _index(where / FOLDER))

    @classmethod
    def clone(cls, src: Where, dst: Where) -> "TantivyEngine":
        src, dst = Path(src), Path(dst)
        check_format_record(src, NAME, FORMAT)
        for folder in (FOLDER, ROWS):
            (dst / folder).mkdir(parents=True, exist_ok=True)
            if not (src / folder).is_dir():
                continue
            for f in (src / folder).iterdir():
                if not f.is_file() or f.name.endswith((".lock", ".tmp")):
                    continue
                link_or_copy(f, dst / folder / f.name)
        write_format_record(dst, NAME, FORMAT)
        return cls.open(dst)

    @classmethod
    def recognizes(cls, where: Where) -> bool:
        where = Path(where)
        return (where / FOLDER / "meta.json").is_file() or (where / "meta.json").is_file() and (
            where / ".managed.json").is_file()

    def writer(self) -> TantivyWriter:
        return TantivyWriter(self)

    def searcher(self) -> TantivySearcher:
        # one searcher until the next commit: a published generation never changes
        if self._searcher is None:
            self._searcher = TantivySearcher(self.index, self.where)
        return self._searcher

    def committed(self) -> None:
        """A writer committed: the next searcher sees it."""
        self.index.reload()
        self._searcher = None

    def verify(self, expected: int) -> None:
        """Open the index cold, count it and run a probe query."""
        try:
            cold = type(self).open(self.where)
        except (IndexNotFound, RebuildNeeded) as exc:
            raise NewsSearchError(f"{self.where.name} failed verification: {exc}") from exc
        s = cold.searcher()
        if s.doc_count() != expected:
            raise NewsSearchError(f"{self.where.name} failed verification: {s.doc_count()} articles on reopen, "
                                  f"{expected} written")
        if not s.rows_complete():
            raise NewsSearchError(f"{self.where.name} failed verification: an article has no record in {ROWS}/")
        if s.probe() is False:
            raise NewsSearchError(f"{self.where.name} failed verification: probe query found nothing")
        cold.close()

    def close(self) -> None:
        self._searcher = None
