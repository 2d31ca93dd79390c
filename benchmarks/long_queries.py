"""Known-item evaluation of long, natural-language queries: newssearch vs plain Whoosh BM25F.

    python benchmarks/long_queries.py [--docs N] [--queries Q] [--seed S]

Builds two indexes of the same articles (BBC News 2004-2005 and the start of
Reuters-21578, read from ../shared/corpora at run time) into a temporary directory:
newssearch's, and a plain Whoosh one (StemmingAnalyzer, title + body, BM25F, title x2).
Queries are made from the articles themselves, like a reader pasting what they remember:

- ``sentence``: the body's first sentence, a third of its words dropped, two words that
  are not in the article added (a misremembered detail);
- ``question``: "what happened when" + five title/lead words + one word not in the article;
- ``title``: the headline with one word replaced by a word not in the article.

The target is the article the query came from. Reported: MRR@10 and success@1/@10 for
newssearch (defaults: all words first, then the ranked minimum-should-match fallback) and
for plain Whoosh with its default AND grouping and with OR grouping.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import newssearch  # noqa: E402
from newssearch import Article  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
FILES = [
    SHARED / "bbc-news-2004-2005" / "bbc_news_en.jsonl.gz",
    SHARED / "reuters21578" / "reuters21578.jsonl.gz",
]
WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


def load(n: int):
    out = []
    per = n // len(FILES)
    for path in FILES:
        taken = 0
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                body = rec.get("body") or ""
                if not rec.get("title") or len(body) < 400 or body.lower().startswith("blah"):
                    continue
                out.append(rec)
                taken += 1
                if taken >= per:
                    break
    return out


def make_queries(recs, q, rng):
    vocab = sorted({w.lower() for r in recs[:500] for w in WORD.findall(r["body"])})
    out = []
    for _ in range(q):
        rec = rng.choice(recs)
        words_in = {w.lower() for w in WORD.findall(rec["title"] + " " + rec["body"])}
        noise = [w for w in rng.sample(vocab, 50) if w not in words_in]
        kind = rng.choice(["sentence", "question", "title"])
        if kind == "sentence":
            first = re.split(r"(?<=[.!?])\s", rec["body"].strip(), maxsplit=1)[0]
            words = WORD.findall(first)[:30]
            keep = [w for w in words if rng.random() > 1 / 3]
            for w in noise[:2]:
                keep.insert(rng.randrange(len(keep) + 1), w)
            text = " ".join(keep)
        elif kind == "question":
            words = WORD.findall(rec["title"] + " " + rec["body"][:200])
            picked = rng.sample(words, min(5, len(words)))
            text = "what happened when " + " ".join(picked + noise[:1])
        else:
            words = WORD.findall(rec["title"])
            if len(words) > 1:
                words[rng.randrange(len(words))] = noise[0]
            text = " ".join(words)
        if len(WORD.findall(text)) >= 3:
            out.append((kind, text, rec["id"]))
    return out


def build_plain(path, recs):
    from whoosh import index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    schema = Schema(id=ID(stored=True, unique=True), title=TEXT(analyzer=StemmingAnalyzer(), field_boost=2.0),
                    body=TEXT(analyzer=StemmingAnalyzer()))
    path.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(path), schema)
    w = ix.writer(limitmb=256)
    for r in recs:
        w.add_document(id=r["id"], title=r["title"], body=r["body"])
    w.commit()
    return ix


def rank_of(ids, target):
    try:
        return ids.index(target) + 1
    except ValueError:
        return None


def summarise(name, ranks, times):
    n = len(ranks)
    mrr = sum(1 / r for r in ranks if r) / n
    s1 = sum(1 for r in ranks if r == 1) / n
    s10 = sum(1 for r in ranks if r) / n
    times = sorted(times)
    p50 = times[len(times) // 2] * 1000
    p95 = times[int(len(times) * 0.95)] * 1000
    print(f"{name:<28} MRR@10 {mrr:.3f}  success@1 {s1:.3f}  success@10 {s10:.3f}  p50 {p50:.0f} ms  p95 {p95:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=6000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    for f in FILES:
        if not f.exists():
            sys.exit(f"{f} is missing: this benchmark reads ../shared/corpora")
    rng = random.Random(args.seed)
    recs = load(args.docs)
    queries = make_queries(recs, args.queries, rng)
    print(f"{len(recs)} articles, {len(queries)} queries (seed {args.seed})")
    from whoosh import qparser, scoring

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        plain = build_plain(Path(tmp) / "plain", recs)
        print(f"plain whoosh index: {time.perf_counter() - t:.0f}s")
        t = time.perf_counter()
        ix = newssearch.open_index(Path(tmp) / "ns", create=True)
        ix.add(Article(title=r["title"], body=r["body"], source=r.get("source") or "", url=None,
                       native_id=r["id"], id=r["id"]) for r in recs)
        print(f"newssearch index: {time.perf_counter() - t:.0f}s")
        results = {}
        with plain.searcher(weighting=scoring.BM25F()) as s:
            for name, group in (("whoosh BM25F, AND (default)", qparser.AndGroup),
                                ("whoosh BM25F, OR", qparser.OrGroup)):
                parser = qparser.MultifieldParser(["title", "body"], plain.schema, group=group)
                for kind, text, target in queries:
                    t = time.perf_counter()
                    ids = [h["id"] for h in s.search(parser.parse(text), limit=10)]
                    results.setdefault(name, []).append((kind, rank_of(ids, target), time.perf_counter() - t))
        for kind, text, target in queries:
            t = time.perf_counter()
            # a copy folded into a hit counts as that hit (collapse is on by default)
            ids = [target if target in h.duplicate_ids else h.id for h in ix.search(text, limit=10)]
            results.setdefault("newssearch", []).append((kind, rank_of(ids, target), time.perf_counter() - t))
        ix.close()
    for name, rows in results.items():
        summarise(name, [r for _k, r, _t in rows], [t for _k, _r, t in rows])
    for kind in ("sentence", "question", "title"):
        print(f"-- {kind} queries")
        for name, rows in results.items():
            sub = [(r, t) for k, r, t in rows if k == kind]
            if sub:
                summarise("  " + name, [r for r, _ in sub], [t for _, t in sub])


if __name__ == "__main__":
    main()
