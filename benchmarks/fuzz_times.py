"""Time random query strings (the fuzz test's alphabet) on a real index; report the slowest.

    python benchmarks/fuzz_times.py [--docs N] [--queries Q] [--index DIR]

Indexes the first N BBC News 2004-2005 articles from ../shared/corpora (or reuses --index),
runs Q random queries built from operators, scopes, dates, prefixes, fuzzy words, quotes,
Hebrew and Arabic, and prints the slowest ones, the largest prefix/fuzzy expansion seen
and how many raised BadQuery (anything else would be a bug and stops the run).
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import newssearch  # noqa: E402
from newssearch import Article, BadQuery  # noqa: E402

BBC = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "bbc-news-2004-2005" / "bbc_news_en.jsonl.gz"
PIECES = [
    "AND", "OR", "NOT", "and", "or", "not", "(", ")", '"', "\u201c", ":", "~", "~2", "*", "-", "+",
    "title:", "body:", "source:", "inurl:", "site:", "when:", "since:", "until:", "date:", "[", "]", " TO ",
    "7d", "1y", "yesterday", "last week", "2005-01-01", "a*", "s*", "th*", "pre*", "govern*", "econom~",
    "minister~", "labour", "blair", "election", "the", "of", "market", "צה\"ל", "الميناء", "🙂", " ", " ", " ",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=2225)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--index")
    args = ap.parse_args()
    rng = random.Random(7)
    now = datetime(2005, 6, 1, tzinfo=timezone.utc)
    tmp = tempfile.TemporaryDirectory()
    path = Path(args.index) if args.index else Path(tmp.name) / "ix"
    if not path.exists():
        arts = []
        with gzip.open(BBC, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= args.docs:
                    break
                rec = json.loads(line)
                arts.append(Article(id=rec["id"], title=rec["title"] or "", body=rec["body"] or "",
                                    source=rec.get("category") or "BBC", lang="en"))
        with newssearch.open_index(path, create=True) as ix:
            ix.add(arts)
    times = []
    bad = 0
    most = 0
    with newssearch.open_index(path) as ix:
        for _ in range(args.queries):
            text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 10)))
            t = time.perf_counter()
            try:
                res = ix.search(text, now=now)
                exp = ix.explain(text, now=now)
                most = max([most, *exp.expanded.values()])
                del res
            except BadQuery:
                bad += 1
            times.append((time.perf_counter() - t, text))
    times.sort(reverse=True)
    ms = sorted(t for t, _ in times)
    print(f"{args.queries} queries on {args.docs} articles: p50 {ms[len(ms) // 2] * 1000:.0f} ms, "
          f"p95 {ms[int(len(ms) * 0.95)] * 1000:.0f} ms, max {ms[-1] * 1000:.0f} ms (search + explain)")
    print(f"BadQuery: {bad}; largest expansion: {most} terms")
    print("slowest:")
    for t, text in times[:8]:
        print(f"  {t * 1000:7.0f} ms  {text!r}")


if __name__ == "__main__":
    main()
