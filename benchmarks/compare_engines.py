#!/usr/bin/env python3
"""Do two engines give the same top hits? The same articles indexed by each engine, then
the same queries through ``NewsIndex.search``; prints, per query, whether the top-10 ids
are identical (in order), the same set, or where they part.

    OPENSEARCH_URL=http://127.0.0.1:9200 python benchmarks/compare_engines.py --n 5000
    python benchmarks/compare_engines.py --n 5000 --engine tantivy     # the tantivy engine (extra fast)

Reads Reuters-21578 from ../shared/corpora at run time (never copied into the repo).
The tests tests/opensearch/test_same_results.py and tests/tantivy/test_same_results.py run
the same comparison. Each line also gives both engines' totals (matches counted).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import tempfile
import uuid
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Sequence

import newssearch
from newssearch import Article
from newssearch.engine import remove_location

REPO = Path(__file__).resolve().parents[1]
REUTERS = REPO.parent / "shared" / "corpora" / "reuters21578" / "reuters21578.jsonl.gz"

QUERIES = [
    "coup", "oil prices", '"interest rates"', "wheat OR corn", "bank -japan", "dollar yen", "opec",
    "expor*", "tarif~1", "title:trade", '"crude oil"~2', "gold", "merger acquisition", "inflation",
    '"stock exchange"', "grain exports", "shares NOT dividend", "coffee", "sugar quota", '"federal reserve"',
]


def reuters(n: int, path: Path = REUTERS) -> List[Article]:
    out: List[Article] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            try:
                published = datetime.fromisoformat(rec["date"]) if rec.get("date") else None
            except ValueError:  # a few Reuters-21578 dates are garbled ("1987-03-31T605:12:19")
                published = None
            out.append(Article(id=rec["id"], title=rec.get("title") or "", body=rec.get("body") or "",
                               source=rec.get("source") or "Reuters", published=published, lang="en"))
            if len(out) >= n:
                break
    return out


def top_ids(ix, queries: Sequence[str], k: int = 10) -> Dict[str, List[str]]:
    return {q: [h.id for h in ix.search(q, limit=k, collapse=False).hits] for q in queries}


def compare(a: Dict[str, List[str]], b: Dict[str, List[str]]) -> List[Dict[str, object]]:
    rows = []
    for q in a:
        x, y = a[q], b[q]
        first = next((i for i, (p, r) in enumerate(zip(x, y)) if p != r), None if len(x) == len(y) else min(len(x), len(y)))
        rows.append({"query": q, "identical": x == y, "same_set": set(x) == set(y), "parts_at": first,
                     "a": x, "b": y})
    return rows


def main(argv: Sequence[str] = ()) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=5000)
    p.add_argument("--engine", default=None, help="engine spec to compare with whoosh "
                   "(default opensearch on $OPENSEARCH_URL)")
    args = p.parse_args(list(argv) or None)
    spec = args.engine or f"opensearch+{os.environ.get('OPENSEARCH_URL', 'http://127.0.0.1:9200')}/bench-{uuid.uuid4().hex[:8]}"
    arts = reuters(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        with newssearch.open_index(Path(tmp) / "w", create=True) as w, \
                newssearch.open_index(Path(tmp) / "o", create=True, engine=spec) as o:
            w.add(arts)
            o.add(arts)
            rows = compare(top_ids(w, QUERIES), top_ids(o, QUERIES))
            totals = {q: (w.search(q).total, o.search(q).total) for q in QUERIES}
        for gen in (Path(tmp) / "o").glob("gen-*"):
            remove_location(gen)  # and its index on the server
    same = sum(1 for r in rows if r["identical"])
    for r in rows:
        state = "identical" if r["identical"] else ("same set" if r["same_set"] else f"parts at rank {r['parts_at'] + 1}")
        a, b = totals[str(r["query"])]
        print(f"{r['query']:<24} {state:<10} totals {a} / {b}{'' if a == b else '  DIFFER'}")
    print(f"{same}/{len(rows)} queries with identical top-10 ids ({len(arts)} articles, whoosh vs {spec.split('+')[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
