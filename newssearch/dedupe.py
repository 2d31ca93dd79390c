"""Near-duplicate signatures (bottom-k MinHash over word shingles) and collapsing; engine-free.

Syndicated copies of one story differ by a dateline, a byline or an edited sentence. The
signature of an article is the ``SIGNATURE_SIZE`` smallest 64-bit hashes of its word
3-shingles (analysed, unstemmed terms of title + body): a *bottom-k* MinHash sketch. Two
sketches estimate the Jaccard similarity of the shingle sets; at or above
``NEAR_DUPLICATE`` the articles are copies. The ``BUCKET_KEYS`` smallest hashes are the
lookup keys: two copies share at least one of them with high probability, so finding an
article's copies is a few binary searches among the keys, not a scan.

Computed once at index time (the engine stores it), compared at query time.

Hashing is cheap and stable across processes, runs and Python versions: each distinct
token surface gets a 64-bit blake2b hash of its folded form once (cached), and a shingle's
hash is a fixed multiply-add mix of its three word hashes mod 2**64. Never Python's
``hash()``, which is salted per process for strings.
"""
from __future__ import annotations

import struct
from operator import add
from hashlib import blake2b
from typing import AbstractSet, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple, TypeVar

import numpy as np

from .analysis import fold
from .analysis.latin import fold_latin
from .analysis.tokenize import token_re_for

__all__ = [
    "SIGNATURE_SIZE",
    "BUCKET_KEYS",
    "NEAR_DUPLICATE",
    "SHINGLE",
    "signature",
    "signature_of_words",
    "encode",
    "decode",
    "to_bytes",
    "from_bytes",
    "bucket_keys",
    "similarity",
    "collapse",
]

SHINGLE = 3
"""Words per shingle."""
SIGNATURE_SIZE = 32
"""Hashes kept per article (k of bottom-k): the similarity estimate's error is about 1/sqrt(k)."""
BUCKET_KEYS = 4
"""Smallest hashes of a signature used as its lookup keys."""
NEAR_DUPLICATE = 0.7
"""Estimated Jaccard similarity of shingle sets at or above which two articles are copies."""

Signature = Tuple[int, ...]
T = TypeVar("T")


_MASK = (1 << 64) - 1
# odd 64-bit constants (golden ratio, xxhash primes): the shingle mix a*h1 + b*h2 + h3
_MUL1 = 0x9E3779B97F4A7C15
_MUL2 = 0xC2B2AE3D27D4EB4F
_MUL1_U64 = np.uint64(_MUL1)
_MUL2_U64 = np.uint64(_MUL2)
_TRUE = np.ones(1, dtype=bool)
_VECTOR_FROM = 64
"""Texts of at least this many hashed words are sketched with numpy (faster past ~50 words)."""

_MAX_CACHED_WORDS = 200_000


def _hash(text: str) -> int:
    return int.from_bytes(blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")


def _word_hash(surface: str) -> int:
    # a word of ASCII letters is one Latin token, whose fold() is fold_latin's (fold() would
    # find the token again with the tokeniser first, at twice the cost; fold_latin lowers it)
    term = fold_latin(surface) if surface.isalpha() and surface.isascii() else fold(surface)
    return (_hash(term) or 1) if term else 0


class _WordHashes(dict):
    """Token surface -> 64-bit hash of its folded, unstemmed form (0: the token gives no
    term), a new surface hashed on lookup. Bounded like the analysis caches: cleared when full."""

    def __missing__(self, surface: str) -> int:
        if len(self) >= _MAX_CACHED_WORDS:
            self.clear()
        h = self[surface] = _word_hash(surface)
        return h


_WORD_HASH = _WordHashes()


def signature_of_words(words: Sequence[str]) -> Signature:
    """The bottom-k sketch of a text given its token surfaces, in order (see the module docstring).

    Words are folded but not stemmed, so the sketch does not depend on the language an
    article was detected in; ``signature(title, body)`` is this of the title's and the
    body's tokens.
    """
    hash_of = _WORD_HASH.__getitem__
    if len(words) >= _VECTOR_FROM:
        # the common case, a long text: its hashes go straight into a numpy array
        h = np.fromiter(map(hash_of, words), dtype=np.uint64, count=len(words))
        if not h.all():
            h = h[h != 0]  # tokens without a term (0) take no place
        if len(h) >= _VECTOR_FROM:
            return _vector_sketch(h)
        hashes = h.tolist()
    else:
        hashes = list(map(hash_of, words))
        if 0 in hashes:
            hashes = list(filter(None, hashes))  # tokens without a term (0) take no place
    n = len(hashes)
    if not n:
        return ()
    if n < SHINGLE:  # one shingle of all the words
        return (((_MUL1 * hashes[0] + (_MUL2 * hashes[1] if n > 1 else 0)) & _MASK),)
    if n >= _VECTOR_FROM:
        return _vector_sketch(np.array(hashes, dtype=np.uint64))
    first = map(_MUL1.__mul__, hashes[: n - 2])
    second = map(_MUL2.__mul__, hashes[1 : n - 1])
    shingles = list(map(_MASK.__and__, map(add, map(add, first, second), hashes[2:])))
    # The k smallest are almost always below a bound that ~3k of the hashes pass: keep
    # those (a C-level filter) and sort them; if too few pass, sort them all. Same result.
    bound = (_MASK // len(shingles)) * (3 * SIGNATURE_SIZE)
    below = set(filter(bound.__gt__, shingles))
    if len(below) < SIGNATURE_SIZE:
        below = set(shingles)
    return tuple(sorted(below)[:SIGNATURE_SIZE])


def _vector_sketch(h: "np.ndarray") -> Signature:
    """The sketch of the word hashes *h* (uint64, none 0, at least SHINGLE of them) with numpy."""
    # the same mix in uint64 arithmetic, which wraps modulo 2**64 exactly like "& _MASK"
    mixed = h[:-2] * _MUL1_U64 + h[1:-1] * _MUL2_U64 + h[2:]
    # sorted, repeats dropped: np.unique's result, at a fifth of its cost on these sizes
    mixed.sort()
    mixed = mixed[np.concatenate((_TRUE, mixed[1:] != mixed[:-1]))]
    return tuple(mixed[:SIGNATURE_SIZE].tolist())


def signature(title: str, body: str, *, lang: Optional[str] = None) -> Signature:
    """The bottom-k sketch of an article (sorted ascending); empty for an article with no words.

    *lang* is accepted for callers that have it; the sketch uses unstemmed words and does
    not depend on it.
    """
    text = f"{title}\n{body}"
    return signature_of_words(token_re_for(text).findall(text))


def encode(sig: Signature) -> str:
    """A compact stored form: hex hashes joined by spaces."""
    return " ".join(f"{h:016x}" for h in sig)


def decode(text: Optional[str]) -> Signature:
    """Inverse of :func:`encode`; empty for None or garbage."""
    if not text:
        return ()
    try:
        return tuple(int(part, 16) for part in text.split())
    except ValueError:
        return ()


def to_bytes(sig: Signature) -> bytes:
    """Binary stored form: big-endian unsigned 64-bit hashes."""
    return struct.pack(f">{len(sig)}Q", *sig)


def from_bytes(data: Optional[bytes]) -> Signature:
    """Inverse of :func:`to_bytes`; empty for None or a length that is not a multiple of 8."""
    if not data or len(data) % 8:
        return ()
    return struct.unpack(f">{len(data) // 8}Q", data)


def bucket_keys(sig: Signature) -> List[str]:
    """Lookup terms of a signature: its smallest hashes in hex."""
    return [f"{h:016x}" for h in sig[:BUCKET_KEYS]]


def similarity(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0..1)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return _bottom_k_share(set(a), set(b), min(len(a), len(b), SIGNATURE_SIZE))


def _bottom_k_share(sa: AbstractSet[int], sb: AbstractSet[int], k: int) -> float:
    """Share of the union's *k* smallest hashes that both sketches hold."""
    union_bottom = sorted(sa | sb)[:k]
    return sum(1 for h in union_bottom if h in sa and h in sb) / k


def is_near_duplicate(a: Signature, b: Signature, threshold: float = NEAR_DUPLICATE) -> bool:
    """True when *a* and *b* look like copies of one article."""
    return NearDuplicateTest(a, threshold)(b)


class NearDuplicateTest:
    """``is_near_duplicate(sig, other)`` for one *sig* against many others, its set built once."""

    __slots__ = ("sig", "hashes", "threshold")

    def __init__(self, sig: Signature, threshold: float = NEAR_DUPLICATE) -> None:
        self.sig = sig
        self.hashes = frozenset(sig)
        self.threshold = threshold

    def __call__(self, other: Signature) -> bool:
        sig = self.sig
        if not sig or not other:
            return False
        if other == sig:
            return True
        k = min(len(sig), len(other), SIGNATURE_SIZE)
        hashes = self.hashes
        # the estimate counts shared hashes only: too few shared, and no sort is needed to say no
        if len(hashes.intersection(other)) < self.threshold * k:
            return False
        return _bottom_k_share(hashes, set(other), k) >= self.threshold


def collapse(
    items: Sequence[T], sig_of: Callable[[T], Signature], threshold: float = NEAR_DUPLICATE
) -> List[Tuple[T, List[T]]]:
    """Group ranked *items* into (first, [later copies]) keeping the first (best) of each story.

    Only items sharing a bucket key are compared, so this is near-linear in len(items).
    """
    groups: List[Tuple[T, List[T]]] = []
    leaders: List[Signature] = []  # the signature of each group's first item
    # each group's test, built when something is first compared with it: most items share
    # no bucket key with an earlier one and are never compared
    tests: List[Optional[NearDuplicateTest]] = []
    leaders_by_key: Dict[Hashable, List[int]] = {}
    get = leaders_by_key.get
    for item in items:
        sig = sig_of(item)
        keys = sig[:BUCKET_KEYS]
        home = None
        seen: Optional[set] = None
        for key in keys:
            found = get(key)
            if found is None:
                continue
            for g in found:
                if seen is None:
                    seen = set()
                elif g in seen:
                    continue
                seen.add(g)
                test = tests[g]
                if test is None:
                    test = tests[g] = NearDuplicateTest(leaders[g], threshold)
                if test(sig):
                    home = g
                    break
            if home is not None:
                break
        if home is None:
            g = len(groups)
            groups.append((item, []))
            leaders.append(sig)
            tests.append(None)
            for key in keys:
                found = get(key)
                if found is None:
                    leaders_by_key[key] = [g]
                else:
                    found.append(g)
        else:
            groups[home][1].append(item)
    return groups


def group_counts(sigs: Iterable[Signature], threshold: float = NEAR_DUPLICATE) -> Tuple[int, int]:
    """(articles that are exact copies of an earlier one, articles that are near copies but not exact).

    For measuring a corpus; exact means an identical signature.
    """
    items = list(sigs)
    exact = len(items) - len(set(s for s in items if s)) - sum(1 for s in items if not s)
    groups = collapse(list(dict.fromkeys(s for s in items if s)), lambda s: s, threshold)
    near = sum(len(copies) for _first, copies in groups)
    return exact, near
