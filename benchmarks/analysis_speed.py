"""Indexing speed of the analysis, before and after a change, in one run.

    python benchmarks/analysis_speed.py [--baseline REV] [--docs 5000] [--langs en,de,he,ar] [--repeat N]

For each language, the first N articles of a corpus in ../shared/corpora (German has
1,028 in all) are analysed and indexed by a fresh process per code version, so per-word
caches start cold each time:

- *analysis*: ``analyze`` on title and body only (what the engine's tokenizer calls),
  articles a second;
- *index*: ``NewsIndex.add`` of all articles into a new index, commit included,
  articles a second; "now, lang detected" drops the corpus's ``lang`` so detection at
  ingest is measured too.

"before" is the code this branch started from (``--baseline`` another git revision).
The machine is shared: ``--repeat N`` runs the three variants in turn N times and keeps
each one's best figures, which evens out load from other processes.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve()
CORPORA = HERE.parents[2] / "shared" / "corpora"
SOURCES = {
    "en": "reuters-financial-news-2006-2013",
    "de": "10kgnad-german-test",
    "he": "israeli-headlines-2014-2015-hebrew",
    "ar": "saudinewsnet-arabic",
}


def _records(lang: str, limit: int) -> List[dict]:
    folder = CORPORA / SOURCES[lang]
    files = sorted(folder.glob("*.jsonl.gz"))
    if not files:
        raise SystemExit(f"{folder} is missing: the benchmark reads ../shared/corpora beside the repo")
    with gzip.open(files[0], "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in itertools.islice(lines, limit)]


def worker(lang: str, docs: int, detect: bool) -> Dict[str, object]:
    import newssearch
    from newssearch import Article, analysis

    new_code = hasattr(analysis, "query_alternatives")
    articles = [
        Article(
            title=r.get("title") or "",
            body=r.get("body") or "",
            source=r.get("source") or "",
            url=r.get("url"),
            lang=None if detect else r.get("lang"),
            native_id=str(r["id"]),
        )
        for r in _records(lang, docs)
    ]
    # the analysis the engine runs: the old engine passed no language
    analysis_lang = lang if new_code else None
    start = time.perf_counter()
    postings = 0
    for a in articles:
        postings += len(analysis.analyze(a.title, lang=analysis_lang))
        postings += len(analysis.analyze(a.body, lang=analysis_lang))
    analysis_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        with newssearch.open_index(Path(tmp) / "ix", create=True) as ix:
            start = time.perf_counter()
            report = ix.add(articles)
            index_s = time.perf_counter() - start
            langs = ix.stats().languages
    return {
        "articles": len(articles),
        "added": report.added,
        "terms": postings,
        "analysis_docs_s": round(len(articles) / analysis_s, 1),
        "index_docs_s": round(len(articles) / index_s, 1),
        "languages": langs,
    }


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="git revision measured as 'before' (default: where this branch left main)")
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--langs", default="en,de,he,ar")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each variant")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--lang", help=argparse.SUPPRESS)
    parser.add_argument("--detect", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.lang, args.docs, args.detect)))
        return
    sys.path.insert(0, str(HERE.parent))
    from _trees import REPO, default_baseline, export, run_worker

    baseline = args.baseline or default_baseline()
    print(f"baseline: {baseline}")
    print(f"{'lang':4} {'code':22} {'articles':>8} {'terms':>9} {'analysis/s':>11} {'index/s':>8}  languages")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        before_tree = export(baseline, Path(tmp))
        for lang in args.langs.split(","):
            common = ["--lang", lang, "--docs", str(args.docs)]
            variants = {
                "before": (before_tree, common),
                "now": (REPO, common),
                "now, lang detected": (REPO, common + ["--detect"]),
            }
            runs: Dict[str, Dict[str, object]] = {}
            for _ in range(args.repeat):
                for name, (tree, worker_args) in variants.items():
                    r = run_worker(HERE, tree, worker_args)
                    best = runs.setdefault(name, r)
                    for key in ("analysis_docs_s", "index_docs_s"):
                        best[key] = max(best[key], r[key])  # type: ignore[type-var]
            results[lang] = runs
            for name, r in runs.items():
                print(
                    f"{lang:4} {name:22} {r['articles']:>8} {r['terms']:>9} {r['analysis_docs_s']:>11} "
                    f"{r['index_docs_s']:>8}  {r['languages']}",
                    flush=True,
                )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
