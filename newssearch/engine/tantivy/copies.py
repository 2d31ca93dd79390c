"""Every live article's near-duplicate sketch as arrays, for a page's copies at once."""
from __future__ import annotations

from typing import TYPE_CHECKING, List, Sequence, Set, Tuple

import numpy as np
import tantivy

from ... import dedupe
from ..arrays import near_duplicates

if TYPE_CHECKING:  # pragma: no cover
    from .searcher import TantivySearcher

__all__ = ["CopyIndex", "MAX_COPIES", "MAX_KEY_SHARE"]

MAX_COPIES = 200
"""Most candidate copies looked at for one article (as the Whoosh wing)."""
MAX_KEY_SHARE = 25
"""A lookup key held by more articles than this is ignored when looking for copies (as the Whoosh wing)."""


class CopyIndex:
    """Every live article's sketch as arrays, for unfiltered copy lookups (made on first use,
    ~0.1 s at 50,000 articles: a page's copies are then a few array operations, not a search)."""

    def __init__(self, searcher: "TantivySearcher") -> None:
        s = searcher.s
        self.addrs = [a for _s, a in s.search(tantivy.Query.all_query(), max(1, searcher.n), count=False).hits]
        lens = np.asarray([n or 0 for n in s.fast_field_values("siglen", self.addrs)], dtype=np.int64)
        width = int(lens.max()) if lens.size else 0
        self.rows = np.zeros((len(self.addrs), dedupe.SIGNATURE_SIZE), dtype=np.uint64)
        for i in range(width):
            self.rows[:, i] = [v or 0 for v in s.fast_field_values(f"sig{i}", self.addrs)]
        self.lens = lens
        keys = np.minimum(lens, dedupe.BUCKET_KEYS)
        docs = np.repeat(np.arange(len(self.addrs)), keys)
        flat = self.rows[:, : dedupe.BUCKET_KEYS][np.arange(dedupe.BUCKET_KEYS)[None, :] < keys[:, None]]
        order = np.argsort(flat, kind="stable")
        self.keys, self.docs = flat[order], docs[order]
        self.row_of = {(a.segment_ord, a.doc): i for i, a in enumerate(self.addrs)}
        """The row of each live article's sketch, by address."""

    def sigs(self, keys: Sequence[Tuple[int, int]]) -> List[Tuple[int, ...]]:
        """The sketches of these articles (by address key), as their columns give them."""
        rows = [self.row_of[k] for k in keys]
        lens = self.lens[rows].tolist()
        return [tuple(row[:n]) for row, n in zip(self.rows[rows].tolist(), lens)]

    def find(self, signatures: Sequence[Tuple[int, ...]]) -> List[Tuple[int, "tantivy.DocAddress"]]:
        cand: List[int] = []
        which: List[int] = []
        # every lookup key of the page in two array searches
        heads = [sig[: dedupe.BUCKET_KEYS] for sig in signatures]
        flat = np.asarray([k for head in heads for k in head], dtype=np.uint64)
        los = np.searchsorted(self.keys, flat, side="left").tolist()
        his = np.searchsorted(self.keys, flat, side="right").tolist()
        at = 0
        for n, head in enumerate(heads):
            held: Set[int] = set()
            for lo, hi in zip(los[at : at + len(head)], his[at : at + len(head)]):
                if 0 < hi - lo <= MAX_KEY_SHARE:  # a stock phrase's key finds no copies
                    held.update(self.docs[lo:hi].tolist())
            at += len(head)
            for d in sorted(held)[:MAX_COPIES]:
                cand.append(d)
                which.append(n)
        if not cand:
            return []
        size = dedupe.SIGNATURE_SIZE
        mine = np.zeros((len(signatures), size), dtype=np.uint64)
        mine_len = np.zeros(len(signatures), dtype=np.int64)
        for i, sig in enumerate(signatures):
            head = sig[:size]
            mine[i, : len(head)] = head
            mine_len[i] = len(head)
        c = np.asarray(cand, dtype=np.int64)
        w = np.asarray(which, dtype=np.int64)
        ok = near_duplicates(self.rows[c], self.lens[c], mine[w], mine_len[w], dedupe.NEAR_DUPLICATE, size)
        return [(int(n), self.addrs[int(d)]) for d, n in zip(c[ok], w[ok])]
