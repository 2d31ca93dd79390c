"""Vectorised pieces of query evaluation: BM25, phrase checks, top-k, facet counts.

Engine-free numpy code used by the Whoosh wing's array searcher. Whoosh walks its
matcher tree one posting at a time, several Python method calls for each; news queries
touch tens of thousands of postings, so that walk, not the index, was the cost of a
search. Here a posting list is two arrays (document numbers, weights) and a query is a
handful of whole-array operations over one segment: a score array and a match mask per
query node, combined with ``+``, ``&`` and ``|``.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

__all__ = [
    "K1",
    "B",
    "bm25",
    "counts",
    "near_duplicates",
    "phrase_docs",
    "phrase_match",
    "ranges",
    "top_indices",
]

K1 = 1.2
"""BM25 term-frequency saturation (Whoosh's BM25F default)."""
B = 0.75
"""BM25 length normalisation (Whoosh's BM25F default, every field)."""


def bm25(idf: float, tf: np.ndarray, dl: np.ndarray, avgdl: float) -> np.ndarray:
    """Whoosh's ``scoring.bm25`` over arrays: *tf* weights, *dl* document field lengths."""
    tf = tf.astype(np.float64, copy=False)
    return idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * dl / avgdl)))


def phrase_docs(slots: Sequence[Dict[int, Set[int]]], slop: int) -> List[int]:
    """Documents where one position of every slot follows the previous within *slop* words.

    *slots* holds, per phrase word, document -> set of its positions (a word with several
    forms puts all of them at one position). ``slop`` 0 means adjacent, as in the
    query language; the check is greedy and ordered, like Whoosh's SpanNear.
    """
    if not slots:
        return []
    docs = set(slots[0])
    for s in slots[1:]:
        docs &= s.keys()
    out = []
    for doc in docs:
        firsts = slots[0][doc]
        if slop == 0:
            ok = False
            for p in firsts:
                for i in range(1, len(slots)):
                    if p + i not in slots[i][doc]:
                        break
                else:
                    ok = True
                    break
        else:
            ok = any(_near(p, slots, doc, slop) for p in firsts)
        if ok:
            out.append(doc)
    out.sort()
    return out


def _near(start: int, slots: Sequence[Dict[int, Set[int]]], doc: int, slop: int) -> bool:
    cur = start
    for slot in slots[1:]:
        nxt = [q for q in slot[doc] if cur < q <= cur + slop + 1]
        if not nxt:
            return False
        cur = min(nxt)
    return True


def phrase_match(slots: Sequence[Tuple[np.ndarray, np.ndarray]], slop: int) -> np.ndarray:
    """Documents holding a phrase, from each word's (docnum, position) pairs, one per position.

    Adjacent words (slop 0) are matched in whole arrays: word i at position p counts for
    a phrase starting at p - i, and a document matches where one start is shared by
    every word. With a slop the ordered, greedy check of :func:`phrase_docs` runs per
    document instead.
    """
    if not slots or any(d.size == 0 for d, _p in slots):
        return np.zeros(0, dtype=np.int64)
    if slop == 0:
        keys = []
        for docs, pos in slots:
            key = (docs << 32) | (pos + (1 << 31))
            if key.size > 1 and not bool(np.all(key[1:] >= key[:-1])):
                key = np.sort(key)  # a word of several forms: its terms' positions interleave
            keys.append(key)
        # start from the rarest word, then look each candidate start up in the others:
        # one binary search per candidate, the long lists (common words) are never sorted
        anchor = min(range(len(keys)), key=lambda i: keys[i].size)
        starts = keys[anchor] - anchor
        for i, key in enumerate(keys):
            if i == anchor or not starts.size:
                continue
            want = starts + i
            at = np.searchsorted(key, want)
            at[at >= key.size] = 0
            starts = starts[key[at] == want]
        return np.unique(starts >> 32)
    per_slot: List[Dict[int, Set[int]]] = []
    for docs, pos in slots:
        found: Dict[int, Set[int]] = {}
        for d, p in zip(docs.tolist(), pos.tolist()):
            found.setdefault(d, set()).add(p)
        per_slot.append(found)
    return np.asarray(phrase_docs(per_slot, slop), dtype=np.int64)


def top_indices(score: np.ndarray, mask: np.ndarray, k: int, tiebreak: Optional[np.ndarray] = None) -> np.ndarray:
    """Indices of the *k* best masked entries: highest *score*, then highest *tiebreak*.

    Returned best first; every entry that ties with the k-th on both keys is included,
    so the caller can break the remaining ties (by id) exactly.
    """
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return idx
    s = score[idx]
    if idx.size > k:
        # the k-th best score, then everything at least as good (ties kept)
        kth = np.partition(s, idx.size - k)[idx.size - k]
        keep = s >= kth
        idx, s = idx[keep], s[keep]
    t = np.zeros(idx.size) if tiebreak is None else tiebreak[idx].astype(np.float64)
    order = np.lexsort((idx, -t, -s))
    idx, s, t = idx[order], s[order], t[order]
    if idx.size > k:
        # past the k-th, only what ties with it on both keys (sorted: they come first)
        tied = (s[k:] == s[k - 1]) & (t[k:] == t[k - 1])
        idx = idx[: k + (tied.size if tied.all() else int(np.argmin(tied)))]
    return idx


def counts(codes: np.ndarray, mask: np.ndarray, size: int) -> np.ndarray:
    """How many masked documents hold each code 0..size-1 (negative codes: none)."""
    picked = codes[mask]
    picked = picked[picked >= 0]
    return np.bincount(picked, minlength=size) if size else np.zeros(0, dtype=np.int64)


def near_duplicates(
    left: np.ndarray, left_len: np.ndarray, right: np.ndarray, right_len: np.ndarray, threshold: float, size: int
) -> np.ndarray:
    """For each row pair, ``dedupe.is_near_duplicate`` of two bottom-k sketches, all at once.

    *left* and *right* are (pairs x width) arrays of sorted, distinct hashes, each row's
    first ``*_len`` entries real (the rest padding, ignored). The estimated Jaccard
    similarity is the share of the union's *k* smallest hashes that both hold, with
    k = min(len(a), len(b), *size*): after sorting each row pair together, a hash both
    hold sits next to its twin.
    """
    pairs, width = left.shape
    if not pairs:
        return np.zeros(0, dtype=bool)
    both = np.concatenate([left, right], axis=1)
    filled = np.arange(width)[None, :]
    real = np.concatenate([filled < left_len[:, None], filled < right_len[:, None]], axis=1)
    # padding sorts after every real hash (the same value sorts as one, wherever it sits)
    both = np.where(real, both, np.iinfo(np.uint64).max).astype(np.uint64)
    order = np.sort(both, axis=1)
    valid = np.arange(2 * width)[None, :] < (left_len + right_len)[:, None]
    twin = np.zeros_like(valid)
    twin[:, 1:] = order[:, 1:] == order[:, :-1]
    twin &= valid
    rank = np.cumsum(valid & ~twin, axis=1)  # 1-based rank in the union of each position's hash
    k = np.minimum(np.minimum(left_len, right_len), size)
    shared = np.count_nonzero(twin & (rank <= k[:, None]), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (k > 0) & (shared / np.maximum(k, 1) >= threshold)


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenation of ``arange(s, s + c)`` for each (s, c) pair, without a Python loop."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(counts)
    return np.arange(total, dtype=np.int64) + np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
