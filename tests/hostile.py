"""A synthetic 5,000-article index for the hostile-input suite (no ../shared needed).

Words are made up from syllables, drawn with a Zipf-like skew so a few are in most
articles (as "the" is) and most are rare; a handful of real words we chose are mixed
in so queries have something to find. Seeded: the same articles every run.
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import List

from newssearch import Article, open_index

ARTICLES = 5_000
COMMON = "the"
"""In nearly every article: what a phrase of one common word repeated is made of."""
KNOWN = ["coup", "strike", "harbour", "election", "minister", "flood", "junta", "budget", "court", "protest"]


def vocabulary(n: int = 4_000, seed: int = 7) -> List[str]:
    rng = random.Random(seed)
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return [COMMON] + KNOWN + sorted(words)


def articles(n: int = ARTICLES, seed: int = 11) -> List[Article]:
    rng = random.Random(seed)
    vocab = vocabulary()
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        body = " ".join(rng.choices(vocab, weights, k=rng.randint(40, 160)))
        title = " ".join(rng.choices(vocab[1:], weights[1:], k=rng.randint(4, 9)))
        out.append(Article(
            title=title.capitalize(), body=f"{COMMON} {body}", source=f"Wire {i % 7}",
            published=start + timedelta(hours=7 * i), url=f"https://news{i % 5}.example/a/{i}", lang="en",
        ))
    return out


def build(path: Path, n: int = ARTICLES) -> Path:
    with open_index(path, create=True) as ix:
        ix.add(articles(n))
    return path
