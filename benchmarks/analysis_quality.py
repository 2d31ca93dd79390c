"""How well Hebrew and Arabic queries find their headlines/articles, before and after a change.

    python benchmarks/analysis_quality.py [--baseline REV] [--arabic-docs N]

Reads ../shared/corpora at run time (nothing from it is stored here). Matching is done
the way the engine matches single-word queries: a document is found when one of the
query word's terms (``query_alternatives``, or ``query_terms`` on older code) is among
the document's analysed terms; no Whoosh index is needed, so this runs in seconds.

Hebrew (israeli-headlines-2014-2015-hebrew): every distinct lemma of the dataset's own
``lemmas`` field is a query. Relevant headlines are those whose lemmas list it.
*recall*: share of (lemma, relevant headline) pairs found; *unrelated*: share of found
headlines that do not list the lemma. The lemmas are dictionary forms (ניצח for לנצח), so
no analyzer without a lexicon reaches full recall.

Arabic (saudinewsnet-arabic, the first N articles): word families written below (one
noun or adjective, its article, attached prefixes, sound plurals). Each form is a query;
relevant articles contain any form of the family (after removing tashkeel and unifying
letters). *unrelated* counts found articles with no listed form: an upper bound, since a
family lists only common forms.
"""
from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Set, Tuple

HERE = Path(__file__).resolve()

# Word families for Arabic, written for this benchmark (sound plurals and attached
# prefixes; broken plurals are families of their own, as no light stemmer joins them).
ARABIC_FAMILIES = [
    "شركة الشركة شركات الشركات والشركات للشركات بالشركات وشركات والشركة للشركة بالشركة",
    "وظائف الوظائف والوظائف للوظائف بالوظائف",
    "وظيفة الوظيفة والوظيفة للوظيفة بالوظيفة",
    "وزارة الوزارة والوزارة بالوزارة للوزارة وزارات الوزارات",
    "مدرسة المدرسة والمدرسة للمدرسة بالمدرسة",
    "معلم المعلم معلمين المعلمين معلمون المعلمون والمعلمين للمعلمين",
    "مستشفى المستشفى بالمستشفى للمستشفى مستشفيات المستشفيات",
    "مشروع المشروع والمشروع للمشروع بالمشروع مشروعات المشروعات",
    "سيارة السيارة بالسيارة سيارات السيارات والسيارات",
    "مواطن المواطن مواطنين المواطنين المواطنون للمواطنين والمواطنين",
    "وطني الوطني الوطنية وطنية والوطنية للوطنية",
    "ولاية الولاية ولايات الولايات والولايات",
    "طالبة الطالبة طالبات الطالبات والطالبات للطالبات",
    "حكومة الحكومة والحكومة للحكومة بالحكومة حكومات الحكومات",
    "مسؤول المسؤول مسؤولين المسؤولين المسؤولون والمسؤولين",
]

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")
_LETTERS = str.maketrans("أإآٱىة", "اااايه")
_ARABIC_WORD = re.compile("[\u0621-\u064a]+")


def _plain_arabic(text: str) -> str:
    """A fixed normalisation, independent of the code measured, to decide relevance."""
    return _TASHKEEL.sub("", text).translate(_LETTERS)


def _corpus(name: str, pattern: str) -> Path:
    folder = HERE.parents[2] / "shared" / "corpora" / name
    found = sorted(folder.glob(pattern))
    if not found:
        raise SystemExit(f"{folder} is missing: the benchmark reads ../shared/corpora beside the repo")
    return found[0]


def _read(path: Path, limit: int | None = None) -> List[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in itertools.islice(lines, limit)]


# ------------------------------------------------------------------ worker (one code tree)


def _analysis():
    from newssearch import analysis

    def index_terms(text: str, lang: str) -> Set[str]:
        return {t[0] for t in analysis.analyze(text, lang=lang)}

    def query(text: str, lang: str) -> List[Tuple[str, ...]]:
        if hasattr(analysis, "query_alternatives"):
            return analysis.query_alternatives(text, lang=lang, langs=[lang])
        return [(t,) for t in analysis.query_terms(text, lang=lang)]

    return index_terms, query


def _search(postings: Dict[str, Set[int]], alternatives: List[Tuple[str, ...]]) -> Set[int]:
    result: Set[int] | None = None
    for alts in alternatives:  # all words required, any alternative of a word
        docs: Set[int] = set().union(*(postings.get(t, set()) for t in alts))
        result = docs if result is None else result & docs
    return result or set()


def _score(pairs: Iterable[Tuple[Set[int], Set[int]]]) -> Dict[str, float]:
    relevant = hits = found = queries = 0
    for got, want in pairs:
        queries += 1
        relevant += len(want)
        hits += len(got & want)
        found += len(got)
    return {
        "queries": queries,
        "recall": round(hits / relevant, 4) if relevant else 0.0,
        "unrelated_share": round((found - hits) / found, 4) if found else 0.0,
        "unrelated_per_query": round((found - hits) / queries, 2) if queries else 0.0,
    }


def worker(arabic_docs: int) -> Dict[str, object]:
    index_terms, query = _analysis()

    heb = _read(_corpus("israeli-headlines-2014-2015-hebrew", "*.jsonl.gz"))
    postings: Dict[str, Set[int]] = defaultdict(set)
    by_lemma: Dict[str, Set[int]] = defaultdict(set)
    for i, rec in enumerate(heb):
        for term in index_terms(rec["title"] or "", "he"):
            postings[term].add(i)
        for lemma in (rec.get("lemmas") or "").split():
            by_lemma[lemma].add(i)
    hebrew = _score((_search(postings, query(lemma, "he")), docs) for lemma, docs in by_lemma.items())

    ara = _read(_corpus("saudinewsnet-arabic", "*.jsonl.gz"), arabic_docs)
    postings = defaultdict(set)
    plain_words: List[Set[str]] = []
    for i, rec in enumerate(ara):
        text = f"{rec.get('title') or ''}\n{rec.get('body') or ''}"
        for term in index_terms(text, "ar"):
            postings[term].add(i)
        plain_words.append(set(_ARABIC_WORD.findall(_plain_arabic(text))))
    pairs = []
    for family in ARABIC_FAMILIES:
        forms = {_plain_arabic(f) for f in family.split()}
        relevant = {i for i, words in enumerate(plain_words) if words & forms}
        for form in family.split():
            pairs.append((_search(postings, query(form, "ar")), relevant))
    arabic = _score(pairs)
    return {"hebrew": hebrew, "arabic": arabic, "hebrew_headlines": len(heb), "arabic_articles": len(ara)}


# ------------------------------------------------------------------ driver


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", help="git revision measured as 'before' (default: where this branch left main)")
    parser.add_argument("--arabic-docs", type=int, default=5000)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.arabic_docs)))
        return
    sys.path.insert(0, str(HERE.parent))
    from _trees import both, default_baseline

    baseline = args.baseline or default_baseline()
    results = both(HERE, baseline, ["--arabic-docs", str(args.arabic_docs)])
    print(f"baseline: {baseline}")
    print(f"{'':8} {'':7} {'queries':>8} {'recall':>8} {'unrelated':>10} {'unrel./query':>13}")
    for lang in ("hebrew", "arabic"):
        for when in ("before", "now"):
            r = results[when][lang]
            print(
                f"{lang:8} {when:7} {r['queries']:>8} {r['recall']:>8.1%} "
                f"{r['unrelated_share']:>10.1%} {r['unrelated_per_query']:>13}"
            )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
