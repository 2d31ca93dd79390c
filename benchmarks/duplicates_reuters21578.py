"""Count exact and near-duplicate articles in Reuters-21578 with newssearch.dedupe.

    python benchmarks/duplicates_reuters21578.py [PATH_TO_reuters21578.jsonl.gz]

Exact = identical title and body after analysis (folding, no stemming); near = not exact but
the bottom-k MinHash estimate of 3-shingle Jaccard >= dedupe.NEAR_DUPLICATE. Articles with
the placeholder body "Blah blah blah." are counted separately (their body is not news).
Reads ../shared/corpora at run time; prints figures only.
"""
from __future__ import annotations

import gzip
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newssearch import dedupe  # noqa: E402
from newssearch.analysis import analyze  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "reuters21578" / "reuters21578.jsonl.gz"


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    start = time.perf_counter()
    sigs, exact_keys, blah = [], [], 0
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            title, body = rec.get("title") or "", rec.get("body") or ""
            if body.strip().lower().startswith("blah blah blah"):
                blah += 1
            sigs.append(dedupe.signature(title, body))
            exact_keys.append(" ".join(t[0] for t in analyze(f"{title}\n{body}", stem=False)))
    took = time.perf_counter() - start
    n = len(sigs)
    counts = Counter(k for k in exact_keys if k)
    exact_copies = sum(c - 1 for c in counts.values() if c > 1)
    exact_groups = sum(1 for c in counts.values() if c > 1)
    # near: collapse one representative per exact group, count the extra members
    first_of = {}
    reps = []
    for key, sig in zip(exact_keys, sigs):
        if key and key not in first_of and sig:
            first_of[key] = True
            reps.append(sig)
    for threshold in (0.5, dedupe.NEAR_DUPLICATE, 0.9):
        groups = dedupe.collapse(reps, lambda s: s, threshold)
        near = sum(len(rest) for _f, rest in groups)
        ngroups = sum(1 for _f, rest in groups if rest)
        print(f"threshold {threshold:.2f}: {near} near copies (not exact) in {ngroups} groups")
    print(f"articles: {n}; placeholder 'Blah blah blah' bodies: {blah}")
    print(f"exact copies: {exact_copies} articles repeat an earlier one ({exact_groups} groups)")
    print(f"signatures in {took:.1f}s ({n / took:.0f} articles/s)")


if __name__ == "__main__":
    main()
