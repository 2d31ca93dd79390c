"""Finding near-duplicate copies by sketch lookup keys, all segments at once."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ... import dedupe
from .. import arrays
from .leaves import _Leaf

MAX_COPIES = 200
"""Most candidate copies looked at for one article."""
MAX_KEY_SHARE = 25
"""A lookup key held by more articles than this is ignored when looking for copies."""


class CopyIndex:
    """The near-copy lookup of one searcher, all segments together (global docnums).

    Finding the copies of a page of hits is then one pass of whole-array steps, not one
    per segment: the lookup keys (each document's BUCKET_KEYS smallest hashes) sorted
    with their documents, and every sketch's hashes, start and length.
    """

    def __init__(self, leaves: List[_Leaf]) -> None:
        keys, docs, words, starts, lengths = [], [], [], [], []
        base = 0
        for leaf in leaves:
            leaf_keys, leaf_docs = leaf.dupkeys()
            keys.append(leaf_keys)
            docs.append(leaf_docs + leaf.offset)
            leaf_words, leaf_starts, leaf_lengths = leaf.sketches()
            words.append(leaf_words)
            starts.append(leaf_starts + base)
            lengths.append(leaf_lengths)
            base += leaf_words.size
        all_keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64)
        order = np.argsort(all_keys, kind="stable")
        self.keys = all_keys[order]
        self.docs = (np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64))[order]
        self.words = np.concatenate(words).astype(np.uint64) if words else np.zeros(0, dtype=np.uint64)
        self.starts = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        self.lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
        self.leaves = leaves
        self.offsets = np.asarray([leaf.offset for leaf in leaves], dtype=np.int64)
        self.live = np.concatenate([leaf.live for leaf in leaves]) if leaves else np.zeros(0, dtype=bool)

    def rows(self, docs: np.ndarray, width: int) -> Tuple[np.ndarray, np.ndarray]:
        """The first *width* hashes of these documents' sketches as rows, and how many each has."""
        lens = np.minimum(self.lengths[docs], width)
        if not self.words.size:
            return np.zeros((docs.size, width), dtype=np.uint64), lens
        at = np.minimum(self.starts[docs][:, None] + np.arange(width)[None, :], self.words.size - 1)
        return self.words[at], lens

    def id(self, docnum: int) -> str:
        n = int(np.searchsorted(self.offsets, docnum, side="right")) - 1
        leaf = self.leaves[n]
        return leaf.id(docnum - leaf.offset)



def copies_of_many(index: CopyIndex, signatures: Sequence[Tuple[int, ...]],
                   filter_mask: Optional[np.ndarray] = None) -> List[List[str]]:
    """For each signature, the ids of indexed near-copies: a binary search per lookup key.

    Copies are found by their lookup keys and the search's filters, not by re-running
    the query: a copy of a story holds (nearly) the same words.
    """
    out: List[List[str]] = [[] for _ in signatures]
    if not signatures:
        return out
    wanted = np.asarray(sorted({h for sig in signatures for h in sig[: dedupe.BUCKET_KEYS]}), dtype=np.uint64)
    lo = np.searchsorted(index.keys, wanted, side="left")
    count = np.searchsorted(index.keys, wanted, side="right") - lo
    # a key shared by many articles is a stock phrase ("said in a statement"), not a copy:
    # such keys only add candidates to reject
    rare = count <= MAX_KEY_SHARE
    keys, lo, count = wanted[rare], lo[rare], count[rare]
    if not keys.size:
        return out
    # which signatures hold each key, as flat arrays: key j's are flat[start[j] : start[j] + count[j]]
    holders: Dict[int, List[int]] = {}
    for i, sig in enumerate(signatures):
        for h in sig[: dedupe.BUCKET_KEYS]:
            holders.setdefault(h, []).append(i)
    held = [holders[key] for key in keys.tolist()]
    held_count = np.asarray([len(h) for h in held], dtype=np.int64)
    held_start = np.cumsum(held_count) - held_count
    held_flat = np.asarray([i for h in held for i in h], dtype=np.int64)
    which = np.repeat(np.arange(keys.size), count)  # per candidate, the key it was found by
    docs = index.docs[arrays.ranges(lo, count)]
    keep = index.live[docs]
    if filter_mask is not None:
        keep &= filter_mask[docs]
    docs, which = docs[keep], which[keep]
    if not docs.size:
        return out
    # a candidate is compared only with the signatures it shares a key with, each pair once
    reps = held_count[which]
    cand = np.repeat(docs, reps)
    sig_i = held_flat[arrays.ranges(held_start[which], reps)]
    first = np.unique(cand * len(signatures) + sig_i, return_index=True)[1]
    first.sort()
    budget = MAX_COPIES * len(signatures)  # keeps a pathological key cheap
    cand, sig_i = cand[first][:budget], sig_i[first][:budget]
    size = dedupe.SIGNATURE_SIZE
    mine = np.zeros((len(signatures), size), dtype=np.uint64)
    mine_len = np.zeros(len(signatures), dtype=np.int64)
    for i, sig in enumerate(signatures):
        head = sig[:size]  # sketches are sorted: only their k smallest hashes are compared
        mine[i, : len(head)] = head
        mine_len[i] = len(head)
    rows, lens = index.rows(cand, size)
    ok = arrays.near_duplicates(rows, lens, mine[sig_i], mine_len[sig_i], dedupe.NEAR_DUPLICATE, size)
    for d, i in zip(cand[ok].tolist(), sig_i[ok].tolist()):
        out[i].append(index.id(d))
    return out
