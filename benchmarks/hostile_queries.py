"""Time of each hostile query beside a plain one, on the 5,000-article index of the test suite.

    python benchmarks/hostile_queries.py [--repeat 3]

The target (issue 16): no query over 250 ms. Each line shows the best of --repeat runs,
the ratio to the plain query measured in the same run, and the warnings the user sees.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from newssearch import open_index  # noqa: E402
from newssearch.errors import NewsSearchError  # noqa: E402
from tests import hostile  # noqa: E402


def attacks() -> list[tuple[str, str, dict]]:
    vocab = hostile.vocabulary()
    return [
        ("plain query (baseline)", "coup", {}),
        ("3,000 nested parentheses", "(" * 3000 + "coup" + ")" * 3000, {}),
        ("10,000 nested parentheses", "(" * 10_000 + "coup" + ")" * 10_000, {}),
        ("title:( nested 2,000 times", "title:(" * 2000 + "coup" + ")" * 2000, {}),
        ("986 NOT chain", "NOT " * 986 + "junta coup", {}),
        ("100k-character query", " ".join(["coup"] * 20_000), {}),
        ("10,000-term OR", " OR ".join((vocab * 3)[:10_000]), {}),
        ("phrase of 'the' x 10,000", '"' + " ".join(["the"] * 10_000) + '"', {}),
        ("OR of 1,000 fuzzy words", " OR ".join(w + "~" for w in vocab[11:1011]), {}),
        ("fuzzy~2 on 64 words", " ".join(w + "~2" for w in vocab[11:75]), {}),
        ("prefix on 64 words", " OR ".join(w[:2] + "*" for w in vocab[11:75]), {}),
        ("NUL, surrogate, bidi", "coup\x00junta\ud800 \u202estrike\u202c", {}),
        ("page=10**9", "coup", {"page": 10**9}),
        ("date range to 9999-12-31", "date:[1987-01-01 TO 9999-12-31]", {}),
        ("common word, facets, newest", "the", {"facets": True, "sort": "newest"}),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = hostile.build(Path(tmp) / "ix")
        print(f"built {hostile.ARTICLES:,} synthetic articles in {time.perf_counter() - t0:.1f}s")
        with open_index(path) as ix:
            ix.search("warm up")
            base = None
            slowest = ("", 0.0)
            print(f"{'attack':<30} {'ms':>8} {'x plain':>8}  total  warnings")
            for name, text, kw in attacks():
                best = float("inf")
                outcome = ""
                for _ in range(args.repeat):
                    t = time.perf_counter()
                    try:
                        res = ix.search(text, **kw)
                        outcome = f"{res.total:>6}  {len(res.warnings)}"
                    except NewsSearchError as exc:
                        outcome = f"error: {str(exc)[:50]}"
                    best = min(best, time.perf_counter() - t)
                ms = best * 1000
                base = base or ms
                if ms > slowest[1]:
                    slowest = (name, ms)
                print(f"{name:<30} {ms:>8.1f} {ms / base:>8.1f}  {outcome}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"slowest: {slowest[0]} at {slowest[1]:.1f} ms (target 250 ms); peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    main()
