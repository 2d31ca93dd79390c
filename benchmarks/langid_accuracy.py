"""Language detection accuracy per language: the word-list fast path alone beside the
fast path with its statistical fallback (py3langid), measured in the same run.

    python benchmarks/langid_accuracy.py [--n 1000]

On the corpora in ../shared/corpora (their own lang field is the truth; title + body,
and title alone) and on our own sentences (tests/langid_sentences.py), with the share
of texts that reached the fallback and the time per text.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from newssearch.analysis import langid  # noqa: E402
from tests.langid_sentences import SENTENCES  # noqa: E402


def fast_only(text: str):
    real = langid._statistical
    langid._statistical = lambda sample: None
    try:
        return langid.detect_language(text)
    finally:
        langid._statistical = real


def samples(n: int):
    for path in sorted((ROOT.parent / "shared" / "corpora").glob("*/*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= n:
                    break
                r = json.loads(line)
                if r.get("lang"):
                    body = r.get("body") or ""
                    if body:
                        yield f"{r['lang']} articles", r["lang"], (r.get("title") or "") + "\n" + body
                    if r.get("title"):
                        yield f"{r['lang']} titles", r["lang"], r["title"]
    for lang, texts in SENTENCES.items():
        for text in texts:
            yield f"{lang} (ours)", lang, text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="records read from each corpus file")
    args = ap.parse_args()
    rows = defaultdict(lambda: [0, 0, 0, 0, 0.0, 0.0])  # total, fast right, both right, asked, t fast, t both
    asked = []
    real = langid._statistical
    langid._statistical = lambda s: asked.append(1) or real(s)
    real("warm up the model")
    for group, truth, text in samples(args.n):
        row = rows[group]
        t0 = time.perf_counter()
        a = fast_only(text)
        t1 = time.perf_counter()
        before = len(asked)
        b = langid.detect_language(text)
        t2 = time.perf_counter()
        row[0] += 1
        row[1] += a == truth
        row[2] += b == truth
        row[3] += len(asked) > before
        row[4] += t1 - t0
        row[5] += t2 - t1
    print(f"{'texts':<18} {'n':>6} {'fast path':>10} {'+ fallback':>11} {'asked':>7} {'us fast':>8} {'us both':>8}")
    for group, (n, fast, both, ask, tf, tb) in sorted(rows.items()):
        print(f"{group:<18} {n:>6} {fast / n:>10.1%} {both / n:>11.1%} {ask / n:>7.1%} {tf / n * 1e6:>8.0f} {tb / n * 1e6:>8.0f}")


if __name__ == "__main__":
    main()
