"""Every live article's near-duplicate sketch as arrays, for a page's copies at once."""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import tantivy

from ... import dedupe
from ..arrays import near_duplicates, ranges

if TYPE_CHECKING:  # pragma: no cover
    from .searcher import TantivySearcher

__all__ = ["CopyIndex", "MAX_COPIES", "MAX_KEY_SHARE"]

MAX_COPIES = 200
"""Most candidate copies looked at for one article (as the Whoosh wing)."""
MAX_KEY_SHARE = 25
"""A lookup key held by more articles than this is ignored when looking for copies (as the Whoosh wing)."""
_SKETCH = [struct.Struct(f"={n}Q") for n in range(dedupe.SIGNATURE_SIZE + 1)]
"""The first n hashes of a row of :attr:`CopyIndex.rows` (native uint64, as numpy holds them)."""
_KNOWN_SKETCHES = 100_000
"""Sketches handed out by :meth:`CopyIndex.sigs` remembered with their row (then dropped)."""


class CopyIndex:
    """Every live article's sketch as arrays, for unfiltered copy lookups (made on first use,
    ~0.25 s at 50,000 articles: a page's copies are then a few array operations, not a search;
    from a searcher's second page on, mostly lookups in a table of candidate pairs)."""

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
        self._bytes = memoryview(self.rows).cast("B") if self.rows.size else memoryview(b"")
        self._lens = lens.tolist()
        self.row_of = {(a.segment_ord, a.doc): i for i, a in enumerate(self.addrs)}
        """The row of each live article's sketch, by address."""
        self._known: Dict[int, Tuple[Tuple[int, ...], int]] = {}
        """Each sketch :meth:`sigs` gave out and its row, by the tuple's identity (a page's
        copies start from there; hashing 40 tuples of 32 hashes a page cost ~50 us)."""
        self._pairs: Optional[Tuple[np.ndarray, np.ndarray, np.ndarray]] = None
        self._verdicts: Dict[Tuple[int, int], bool] = {}
        self._finds = 0

    def sigs(self, keys: Sequence[Tuple[int, int]]) -> List[Tuple[int, ...]]:
        """The sketches of these articles (by address key), as their columns give them."""
        rows = [self.row_of[k] for k in keys]
        out = [self._sketch(r) for r in rows]
        known = self._known
        if len(known) > _KNOWN_SKETCHES:
            known.clear()
        for sig, row in zip(out, rows):
            known[id(sig)] = (sig, row)  # the tuple is kept here, so its id is not reused
        return out

    def _sketch(self, r: int) -> Tuple[int, ...]:
        """Row *r*'s hashes as a tuple, unpacked in C from the array's bytes."""
        return _SKETCH[self._lens[r]].unpack_from(self._bytes, r * 8 * dedupe.SIGNATURE_SIZE)

    def find(self, signatures: Sequence[Tuple[int, ...]]) -> List[Tuple[int, "tantivy.DocAddress"]]:
        """(which sketch, address) of every near copy of each sketch: the articles sharing one
        of its lookup keys held by at most MAX_KEY_SHARE articles that are near duplicates
        of it (itself included).

        From the second call on (a one-off query does not pay for the table), a sketch
        :meth:`sigs` gave out starts from its row's candidates (:meth:`_candidates`); any
        other is looked up key by key (:meth:`_looked_up`), as every one is on a first call."""
        rows: List[Optional[int]] = [None] * len(signatures)
        self._finds += 1
        if self._finds > 1 and dedupe.BUCKET_KEYS * MAX_KEY_SHARE <= MAX_COPIES:  # MAX_COPIES never cuts
            known = self._known
            for n, sig in enumerate(signatures):
                entry = known.get(id(sig))
                if entry is not None and entry[0] is sig:
                    rows[n] = entry[1]
        found: List[Tuple[int, int]] = []
        if any(r is not None for r in rows):
            reach, starts, others = self._candidates()
            for n, r in enumerate(rows):
                if r is None:
                    continue
                if reach[r]:
                    found.append((n, r))
                lo, hi = int(starts[r]), int(starts[r + 1])
                for d in others[lo:hi].tolist():
                    if self._near(r, d):
                        found.append((n, d))
        unknown = [n for n, r in enumerate(rows) if r is None]
        if unknown:
            found += [(unknown[i], d) for i, d in self._looked_up([signatures[n] for n in unknown])]
        return [(n, self.addrs[d]) for n, d in found]

    def _candidates(self) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reach, starts, others): whether each row is found by one of its own lookup keys
        (one held by at most MAX_KEY_SHARE articles), and the other rows that may be its
        near copies, ``others[starts[r]:starts[r + 1]]`` (sorted).

        Those share such a key with it, as :meth:`_looked_up` finds them, and pass a test
        that rules out most of them: the estimate counts hashes both sketches hold, and a
        sketch holds at most as many hashes that another article also holds (``shared``),
        so a pair where either side has fewer than the threshold needs is no copy. Made on
        first use (~0.04 s at 20,000 articles, ~0.15 s at 50,000); the survivors, ~1 a row,
        are then checked one by one (:meth:`_near`).
        """
        if self._pairs is None:
            n, width = self.rows.shape
            real = np.arange(width)[None, :] < self.lens[:, None]
            flat = self.rows.ravel()
            order = np.argsort(flat)
            ordered = flat[order]
            same = ordered[1:] == ordered[:-1]
            twice = np.zeros(flat.size, dtype=bool)
            twice[1:] = same
            twice[:-1] |= same
            held = np.empty(flat.size, dtype=bool)
            held[order] = twice
            # (padding reads as hash 0: at worst a real 0 counts as shared, which only lets more through)
            shared = np.count_nonzero(held.reshape(n, width) & real, axis=1)
            keys, docs = self.keys, self.docs
            # the lookup keys' runs in their sorted array: where each starts, how many hold it
            starts = (np.flatnonzero(np.concatenate([[True], keys[1:] != keys[:-1]])) if keys.size
                      else np.zeros(0, np.int64))
            sizes = np.diff(np.append(starts, keys.size))
            rare = sizes <= MAX_KEY_SHARE
            reach = np.zeros(n, dtype=bool)
            reach[docs[ranges(starts[rare], sizes[rare])]] = True
            pooled = rare & (sizes >= 2)
            at, size = starts[pooled], sizes[pooled]
            members = ranges(at, size)
            each = np.repeat(size, size)
            a, b = docs[np.repeat(members, each)], docs[ranges(np.repeat(at, size), each)]
            k = np.minimum(np.minimum(self.lens[a], self.lens[b]), dedupe.SIGNATURE_SIZE)
            bound = np.minimum(shared[a], shared[b])
            keep = (a != b) & (k > 0) & (bound / np.maximum(k, 1) >= dedupe.NEAR_DUPLICATE)
            pair = np.unique(a[keep] * n + b[keep])
            self._pairs = (reach, np.searchsorted(pair // n, np.arange(n + 1)), pair % n)
        return self._pairs

    def _near(self, r: int, d: int) -> bool:
        """Whether rows *r* and *d* are near duplicates (``dedupe.is_near_duplicate``), remembered."""
        key = (r, d) if r < d else (d, r)
        verdicts = self._verdicts
        found = verdicts.get(key)
        if found is None:
            if len(verdicts) > 200_000:
                verdicts.clear()
            found = verdicts[key] = dedupe.is_near_duplicate(self._sketch(r), self._sketch(d))
        return found

    def _looked_up(self, signatures: Sequence[Tuple[int, ...]]) -> List[Tuple[int, int]]:
        """(which sketch, row) of the near copies of each sketch, key by key."""
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
        return [(int(n), int(d)) for d, n in zip(c[ok], w[ok])]
