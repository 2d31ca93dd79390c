#!/usr/bin/env python3
"""Side-by-side benchmark: newssearch against plain Whoosh, SQLite FTS5 and tantivy-py.

One run measures every engine on the same first N articles of a corpus (read at run
time from ../shared/corpora, never copied into the repo):

- indexing articles/s, as a whole process: ``newssearch index FILE --index DIR`` (the
  real CLI) and one small script per peer (``eng_*.py``), each timed by wall clock from
  here, with its peak RSS (whole process tree) and CPU time;
- index size on disk (for newssearch only the live generation, the one CURRENT names);
- cold open: a fresh process imports the library, opens the index, runs one query;
- query latency p50/p95/max over a seeded mix of distinct queries generated from the
  corpus (single words, 2-3 word AND, phrases with common words, source- and
  date-filtered, newest first, with facets), in one long-lived process per engine,
  after a warm-up on other distinct queries, so no result cache can answer them.

Absolute times drift on a shared 2-core machine: read the ratios against plain Whoosh
measured in the same run. See benchmarks/README.md.

    python benchmarks/run.py --n 20000
    python benchmarks/run.py --scaling --sizes 10000,50000,120000
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from _common import dir_size, parse_date, read_jsonl  # noqa: E402

CORPORA = REPO.parent / "shared" / "corpora"
DEFAULT_CORPUS = CORPORA / "reuters-financial-news-2006-2013" / "reuters_financial_news_2006_2013.sample50pct.jsonl.gz"
ENGINES = ("newssearch", "newssearch-tantivy", "whoosh", "fts5", "tantivy", "opensearch")
"""opensearch: newssearch's OpenSearch engine on the server at $OPENSEARCH_URL (one node:
tests/opensearch/start.sh starts one), through the same CLI and API as newssearch;
newssearch-tantivy: newssearch's tantivy engine (``--engine tantivy``), likewise."""
CLI_ENGINES = ("newssearch", "newssearch-tantivy", "opensearch")
"""Indexed by the real ``newssearch index`` CLI (a generation root), queried through NewsIndex."""
BASELINE = "whoosh"
KEYS = ("id", "title", "body", "source", "date", "lang", "url", "author")
EXIT_REJECTED = 3  # `newssearch index`: some input records were rejected, the rest indexed
KINDS = ("word", "and", "phrase", "source", "date", "newest", "facets")

# Targets of issue 7 for newssearch, as ratios against plain Whoosh in the same run
TARGETS = {
    "index_x": 3.0,  # articles/s >= 3x plain Whoosh (defined at 20k articles)
    "p50_x": 1 / 3,  # p50 <= 1/3 of plain Whoosh (defined at 50k articles)
    "p95_x": 1 / 3,
    "max_ms": 250.0,  # no query over 250 ms
    "rss_mb": 1024.0,  # peak RSS while indexing <= 1 GB
    "size_x": 1.2,  # index size <= 1.2x plain Whoosh
}

# Targets of issue 15 for newssearch on its tantivy engine (figures, not ratios)
TANTIVY_TARGETS = {
    "articles_per_s": 2500.0,  # at 50k articles
    "p95_ms": 10.0,
    "max_ms": 100.0,
    "rss_mb": 1024.0,
}

# function words: never chosen as "interesting" query words, and what makes a phrase "common"
STOP = frozenset(
    """a about after all also an and are as at be been before but by can could did do for from
    had has have he her his if in into is it its last more most new no not of on one or other our
    out over said says she so than that the their them there these they this to two up was we
    were what when which while who will with would year years you""".split()
)
# whoosh.analysis.STOP_WORDS: a phrase made only of these is empty for plain Whoosh
WHOOSH_STOP = frozenset(
    """a an and are as at be by can for from have if in is it may not of on or tbd that the this
    to us we when will with yet you your""".split()
)
_WORD = re.compile(r"[a-z]+")
_BREAK = re.compile(r"[^a-z\s]+")


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower())


# ---------------------------------------------------------------------------- articles


def corpus_files(first: Path) -> List[Path]:
    """The given corpus first, then every other corpus in ../shared/corpora, in path order."""
    others = sorted(p for p in CORPORA.glob("*/*.jsonl.gz") if p.resolve() != first.resolve())
    return [first] + others


def select_articles(files: Sequence[Path], n: int) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """The first *n* usable records, reading *files* in order (moving on when one runs out).

    Records every engine would index the same way: a title or a body, an id not seen before.
    """
    chosen: List[Dict[str, Any]] = []
    seen: set = set()
    skipped = Counter()
    used: List[str] = []
    for path in files:
        if len(chosen) >= n:
            break
        used.append(str(path))
        for rec in read_jsonl(path):
            if len(chosen) >= n:
                break
            rec = {k: rec.get(k) for k in KEYS if rec.get(k) is not None}
            if any(not isinstance(v, str) for v in rec.values()):
                skipped["non-text field"] += 1
                continue
            if not (rec.get("title", "").strip() or rec.get("body", "").strip()):
                skipped["no title or body"] += 1
                continue
            if rec.get("id") in seen:
                skipped["duplicate id"] += 1
                continue
            seen.add(rec.get("id"))
            chosen.append(rec)
    return chosen, {"files": used, "skipped": dict(skipped), "articles": len(chosen)}


def write_jsonl(records: Sequence[Dict[str, Any]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for rec in records:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------------------- queries


def make_queries(articles: Sequence[Dict[str, Any]], count: int, warmup: int, seed: int) -> Dict[str, Any]:
    """A seeded, distinct mix of news queries drawn from the articles themselves.

    Returns {"warmup": [...], "timed": [...], "cold": {...}, "info": {...}}; every query
    text is different from every other, so each timed query is uncached.
    """
    rng = random.Random(seed)
    step = max(1, len(articles) // 4000)
    sample = articles[::step]
    docs = len(sample)
    df: Counter = Counter()
    ngram_df: Counter = Counter()
    for rec in sample:
        toks = words(rec.get("title", "") + " " + rec.get("body", ""))
        df.update(set(toks))
        grams = set()
        # phrases never cross punctuation or numbers ("5 percent. The" is not "percent the")
        for segment in _BREAK.split(rec.get("body", "").lower()):
            seg = segment.split()
            for size in (2, 3):
                for i in range(len(seg) - size + 1):
                    grams.add(tuple(seg[i : i + size]))
        ngram_df.update(grams)
    frac = {w: c / docs for w, c in df.items()}
    top_words = {w for w, _ in df.most_common(60)}

    def interesting(w: str, lo: float, hi: float, minlen: int = 4) -> bool:
        return len(w) >= minlen and w not in STOP and lo <= frac.get(w, 0) <= hi

    title_words = sorted({w for rec in sample for w in words(rec.get("title", ""))})
    mid = [w for w in title_words if interesting(w, 0.003, 0.05)]
    if len(mid) < 3 * count:  # small or odd corpora: widen the band
        mid = [w for w in title_words if interesting(w, 0.0005, 0.2, 3)]
    rng.shuffle(mid)

    common = STOP | top_words
    phrases = [
        g
        for g, _ in ngram_df.most_common(3000)
        if all(len(w) >= 2 for w in g) and any(w in common for w in g) and any(w not in WHOOSH_STOP for w in g)
    ][:400]
    rng.shuffle(phrases)

    used: set = set()

    def fresh(candidates: Iterator[str]) -> Optional[str]:
        for t in candidates:
            if t not in used:
                used.add(t)
                return t
        return None

    word_iter = iter(mid)
    phrase_iter = iter('"' + " ".join(g) + '"' for g in phrases)

    def and_text(k: int) -> Optional[str]:
        for _ in range(200):
            rec = rng.choice(articles)
            cands = []
            for w in words(rec.get("title", "")):
                if interesting(w, 0.002, 0.25, 3) and w not in cands:
                    cands.append(w)
            if len(cands) >= k:
                picked = sorted(rng.sample(range(len(cands)), k))
                t = " ".join(cands[i] for i in picked)
                if t not in used:
                    used.add(t)
                    return t
        return None

    sources = Counter(rec.get("source", "") for rec in articles if rec.get("source"))
    dates = sorted(d for d in (parse_date(rec.get("date")) for rec in articles) if d is not None)

    def iso(d: datetime) -> str:
        return d.replace(tzinfo=timezone.utc).isoformat()

    date_ranges: List[Dict[str, str]] = []
    if dates:
        q1, med, q3 = (dates[int(len(dates) * f)] for f in (0.25, 0.5, 0.75))
        date_ranges = [{"since": iso(med)}, {"since": iso(q1), "until": iso(q3)}, {"until": iso(med)}]

    def build(kind: str, i: int) -> Optional[Dict[str, Any]]:
        q: Dict[str, Any] = {"kind": kind}
        if kind == "word":
            q["text"] = fresh(word_iter)
        elif kind == "and":
            q["text"] = and_text(2 + i % 2)
            q["kind"] = f"and{2 + i % 2}"
        elif kind == "phrase":
            q["text"] = fresh(phrase_iter)
        else:
            q["text"] = fresh(word_iter) if i % 2 == 0 else and_text(2)
            if kind == "source":
                if not sources:
                    return None
                names = sorted(sources)
                q["source"] = rng.choices(names, weights=[sources[s] for s in names])[0]
            elif kind == "date":
                if not date_ranges:
                    return None
                q.update(date_ranges[i % len(date_ranges)])
            elif kind == "newest":
                q["sort"] = "newest"
            elif kind == "facets":
                q["facets"] = ["source"]
        return q if q["text"] else None

    out: List[Dict[str, Any]] = []
    i = 0
    while len(out) < warmup + count and i < 20 * (warmup + count):
        kind = KINDS[i % len(KINDS)]
        q = build(kind, i // len(KINDS))
        if q is not None:
            out.append(q)
        i += 1
    cold = {"kind": "word", "text": fresh(word_iter) or "market"}
    info = {
        "seed": seed,
        "df_sample_docs": docs,
        "mid_words": len(mid),
        "phrase_candidates": len(phrases),
        "sources": dict(sources.most_common(20)),
        "date_median": iso(dates[len(dates) // 2]) if dates else None,
    }
    if len(out) < warmup + count:
        info["short"] = f"only {len(out)} distinct queries could be made"
    return {"warmup": out[:warmup], "timed": out[warmup:], "cold": cold, "info": info}


# ---------------------------------------------------------------------------- processes


def _tree_rss_bytes(root: int, include_root: bool = True) -> int:
    """Resident bytes of *root*'s descendants (and of *root* itself), from /proc (0 when gone)."""
    parents: Dict[int, List[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root] if include_root else list(parents.get(root, ()))
    page = os.sysconf("SC_PAGE_SIZE")
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(parents.get(pid, ()))
    return total


def measure(cmd: Sequence[str], log: Path, timeout: float, sample_rss: bool = True) -> Dict[str, Any]:
    """Run *cmd* through _launch.py (see there why) and sample its process tree's RSS meanwhile.

    Returns wall and CPU seconds of the command alone (timed by the launcher, so the
    launcher's own start is not counted), exit code, peak RSS (the larger of the largest
    single process and the sampled sum over the tree, which matters when the command
    runs worker processes) and the log tail on failure.
    """
    report = log.with_suffix(".launch.json")
    report.unlink(missing_ok=True)
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(HERE / "_launch.py"), str(report), *cmd],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        peak = [0]
        done = threading.Event()
        timed_out = [False]

        def watch() -> None:
            while not done.wait(0.2):
                if sample_rss:
                    peak[0] = max(peak[0], _tree_rss_bytes(proc.pid, include_root=False))
                if time.perf_counter() - t0 > timeout:
                    timed_out[0] = True
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)  # the session this call started
                    except ProcessLookupError:
                        pass

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        rc = proc.wait()
        done.set()
        watcher.join()
    try:
        result = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        result = {"wall_s": time.perf_counter() - t0, "rc": rc, "cpu_s": None, "max_single_rss_mb": None}
    result["tree_rss_sampled_mb"] = peak[0] / 2**20
    result["peak_rss_mb"] = max(result.get("max_single_rss_mb") or 0.0, result["tree_rss_sampled_mb"])
    if timed_out[0]:
        result["error"] = f"timed out after {timeout:.0f} s"
    elif result["rc"] != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-6:]
        result["error"] = f"exit {result['rc']}: " + " | ".join(tail)
    return result


def newssearch_cli() -> List[str]:
    script = Path(sys.executable).parent / "newssearch"
    return [str(script)] if script.exists() else [sys.executable, "-m", "newssearch"]


def live_generation(root: Path) -> Path:
    current = root / "CURRENT"
    return root / current.read_text(encoding="utf-8").strip() if current.is_file() else root


def engine_available(name: str) -> Optional[str]:
    """None when the engine can run here, else why not."""
    if name in ("tantivy", "newssearch-tantivy") and importlib.util.find_spec("tantivy") is None:
        return "not installed (pip install -e '.[bench]')"
    if name == "fts5":
        from eng_fts5 import fts5_available

        if not fts5_available():
            return "this Python's sqlite3 has no FTS5"
    if name in ("newssearch", "newssearch-tantivy", "whoosh") and importlib.util.find_spec("whoosh") is None:
        return "whoosh not installed"
    if name == "opensearch":
        if importlib.util.find_spec("opensearchpy") is None:
            return "opensearch-py not installed (pip install -e '.[opensearch]')"
        if not os.environ.get("OPENSEARCH_URL"):
            return "OPENSEARCH_URL is unset (start a node with tests/opensearch/start.sh)"
    return None


def opensearch_server(index_dir: Path) -> Dict[str, Any]:
    """Server-side size of the opensearch engine's live index, and the node's resident memory."""
    import newssearch

    with newssearch.open_index(index_dir) as ix:
        size = ix.stats().size_bytes
    rss = None
    for pidfile in Path("/tmp").glob("newssearch-opensearch-*/node-1/node.pid"):
        try:
            status = Path(f"/proc/{pidfile.read_text().strip()}/status").read_text()
            rss = max(rss or 0, int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)
        except (OSError, AttributeError, ValueError):
            continue
    return {"size_bytes": size, "node_rss_mb": rss}


def drop_opensearch(index_dir: Path) -> None:
    """Delete the benchmark's server-side indexes (every generation of *index_dir*)."""
    from newssearch.engine import remove_location

    for gen in index_dir.glob("gen-*"):
        remove_location(gen)


def bench_engine(name: str, data: Path, queries: Path, cold: Path, work: Path, timeout: float) -> Dict[str, Any]:
    """Index, size, cold open and query latency of one engine; errors are reported, not raised."""
    res: Dict[str, Any] = {"engine": name}
    why = engine_available(name)
    if why:
        res["skipped"] = why
        return res
    script = str(HERE / f"eng_{name.replace('-', '_')}.py")
    index_dir = work / f"index-{name}"
    shutil.rmtree(index_dir, ignore_errors=True)
    if name == "newssearch":
        cmd = newssearch_cli() + ["index", str(data), "--index", str(index_dir), "--quiet"]
    elif name == "newssearch-tantivy":
        cmd = newssearch_cli() + ["index", str(data), "--index", str(index_dir), "--quiet", "--engine", "tantivy"]
    elif name == "opensearch":
        cmd = newssearch_cli() + ["index", str(data), "--index", str(index_dir), "--quiet", "--engine", "opensearch",
                                  "--url", os.environ["OPENSEARCH_URL"], "--prefix", f"bench-{os.getpid()}"]
    else:
        cmd = [sys.executable, script, "index", str(data), str(index_dir), str(work / f"{name}-index.json")]
    res["loadavg_before"] = os.getloadavg()  # other users of the machine show up here
    ix = measure(cmd, work / f"{name}-index.log", timeout)
    if name in CLI_ENGINES and ix["rc"] == EXIT_REJECTED and "timed out" not in ix.get("error", ""):
        # some records rejected, the rest indexed: a result, with the count as a note
        log = (work / f"{name}-index.log").read_text(encoding="utf-8", errors="replace")
        ix.pop("error", None)
        ix["rejected"] = sum(1 for line in log.splitlines() if line.startswith("rejected:"))
    res["index"] = ix
    if "error" in ix:
        res["error"] = "indexing: " + ix["error"]
        return res
    live = live_generation(index_dir) if name in CLI_ENGINES else index_dir
    res["size_bytes"] = dir_size(live)
    if name == "opensearch":  # the index lives on the server; the client keeps only records
        res.update(opensearch_server(index_dir))
    res["size_mb"] = res["size_bytes"] / 2**20
    if name in ("newssearch", "newssearch-tantivy"):
        res["all_generations_mb"] = dir_size(index_dir) / 2**20

    out = work / f"{name}-cold.json"
    c = measure([sys.executable, script, "cold", str(index_dir), str(cold), str(out)], work / f"{name}-cold.log", timeout, False)
    if "error" in c:
        res["error"] = "cold open: " + c["error"]
        return res
    res["cold"] = json.loads(out.read_text(encoding="utf-8"))
    res["docs"] = res["cold"]["docs"]

    out = work / f"{name}-query.json"
    q = measure([sys.executable, script, "query", str(index_dir), str(queries), str(out)], work / f"{name}-query.log", timeout, False)
    if "error" in q:
        res["error"] = "queries: " + q["error"]
        return res
    got = json.loads(out.read_text(encoding="utf-8"))
    timed = got["timed"]
    ok = [r for r in timed if "error" not in r]
    res["queries"] = {
        "count": len(timed),
        "errors": [r for r in timed if "error" in r] + got["warmup_errors"],
        "notes": got["notes"],
        "rss_mb": got["self_rss_mb"],
        "timed": timed,
    }
    if ok:
        ms = sorted(r["ms"] for r in ok)
        res["queries"].update(
            no_hits=sum(1 for r in ok if not r["returned"]),
            p50_ms=statistics.median(ms),
            p95_ms=ms[max(0, math.ceil(0.95 * len(ms)) - 1)],
            max_ms=ms[-1],
            mean_ms=statistics.fmean(ms),
            slowest=sorted(ok, key=lambda r: -r["ms"])[:5],
            by_kind={
                kind: statistics.median(r["ms"] for r in ok if r["kind"] == kind)
                for kind in sorted({r["kind"] for r in ok})
            },
        )
    return res


# ---------------------------------------------------------------------------- reporting


def _f(value: Optional[float], fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)


def summarize(engines: Dict[str, Dict[str, Any]], n: int) -> Dict[str, Dict[str, Optional[float]]]:
    """Headline figures per engine, with ratios against plain Whoosh."""
    rows: Dict[str, Dict[str, Optional[float]]] = {}
    for name, r in engines.items():
        ix = r.get("index") or {}
        q = r.get("queries") or {}
        rows[name] = {
            "docs": r.get("docs"),
            "articles_per_s": n / ix["wall_s"] if ix.get("wall_s") and "error" not in ix else None,
            "index_wall_s": ix.get("wall_s"),
            # less sensitive to other users of the machine, but blind to using two cores
            "articles_per_cpu_s": n / ix["cpu_s"] if ix.get("cpu_s") and "error" not in ix else None,
            "cpu_per_wall": ix["cpu_s"] / ix["wall_s"] if ix.get("wall_s") and ix.get("cpu_s") is not None else None,
            "size_mb": r.get("size_mb"),
            "peak_rss_mb": ix.get("peak_rss_mb"),
            "import_ms": (r.get("cold") or {}).get("import_ms"),
            "cold_ms": (r.get("cold") or {}).get("open_and_query_ms"),
            "p50_ms": q.get("p50_ms"),
            "p95_ms": q.get("p95_ms"),
            "max_ms": q.get("max_ms"),
        }
    base = rows.get(BASELINE, {})
    for row in rows.values():
        def ratio(key: str) -> Optional[float]:
            a, b = row.get(key), base.get(key)
            return a / b if a is not None and b else None

        row["index_x"] = ratio("articles_per_s")
        row["size_x"] = ratio("size_mb")
        row["p50_x"] = ratio("p50_ms")
        row["p95_x"] = ratio("p95_ms")
    return rows


def print_table(run: Dict[str, Any]) -> None:
    n, engines, rows = run["n"], run["engines"], run["summary"]
    print(f"\n== {n} articles ({', '.join(Path(f).name for f in run['corpus']['files'])}); "
          f"{run['query_count']} timed queries after {run['warmup_count']} warm-up; ratios vs plain Whoosh (x)")
    head = ["engine", "docs", "art/s", "x", "size MB", "x", "peak RSS MB", "cpu/wall",
            "import ms", "cold ms", "p50 ms", "x", "p95 ms", "x", "max ms"]
    table = [head]
    for name, r in engines.items():
        if "skipped" in r:
            table.append([name, f"skipped: {r['skipped']}"])
            continue
        s = rows[name]
        table.append([
            name, _f(s["docs"], "{:.0f}"), _f(s["articles_per_s"], "{:.0f}"), _f(s["index_x"], "{:.2f}"),
            _f(s["size_mb"]), _f(s["size_x"], "{:.2f}"), _f(s["peak_rss_mb"], "{:.0f}"),
            _f(s["cpu_per_wall"], "{:.2f}"), _f(s["import_ms"], "{:.0f}"), _f(s["cold_ms"], "{:.0f}"),
            _f(s["p50_ms"], "{:.2f}"), _f(s["p50_x"], "{:.2f}"), _f(s["p95_ms"], "{:.2f}"),
            _f(s["p95_x"], "{:.2f}"), _f(s["max_ms"], "{:.1f}"),
        ])
        if r.get("error"):
            table.append(["", f"ERROR {r['error'][:200]}"])
    widths = [max(len(row[i]) for row in table if len(row) == len(head)) for i in range(len(head))]
    for row in table:
        if len(row) != len(head):
            print("  " + row[0].ljust(widths[0]) + "  " + row[1])
            continue
        print("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))

    per_cpu = [(name, rows[name].get("articles_per_cpu_s")) for name in engines if "skipped" not in engines[name]]
    if any(v for _, v in per_cpu):
        base = rows.get(BASELINE, {}).get("articles_per_cpu_s")
        print("\n  indexing per CPU second (steadier when the machine is shared; blind to a second core): "
              + ", ".join(f"{name} {_f(v, '{:.0f}')}" + (f" ({v / base:.2f}x)" if v and base else "") for name, v in per_cpu))

    kinds = sorted({k for r in engines.values() for k in (r.get("queries") or {}).get("by_kind", {})})
    live = [name for name, r in engines.items() if (r.get("queries") or {}).get("by_kind")]
    if kinds and live:
        print("\n  p50 ms by query kind")
        print("  " + "kind".ljust(8) + "".join(name.rjust(20) for name in live))
        for kind in kinds:
            cells = [_f(engines[name]["queries"]["by_kind"].get(kind), "{:.2f}") for name in live]
            print("  " + kind.ljust(8) + "".join(c.rjust(20) for c in cells))
    for name in live:
        q = engines[name]["queries"]
        print(f"\n  {name}: slowest queries")
        for r in q.get("slowest", []):
            extra = ", ".join(f"{k}={r[k]}" for k in ("source", "since", "until", "sort") if r.get(k))
            print(f"    {r['ms']:9.1f} ms  {r['kind']:<7} {r['text']}" + (f"  [{extra}]" if extra else ""))
        if q.get("no_hits"):
            print(f"    {q['no_hits']} of {q['count']} timed queries found nothing")
        for note in q.get("notes", []):
            print(f"    note: {note}")
        for err in q.get("errors", [])[:3]:
            print(f"    query error: {err['text']!r}: {err['error']}")
    checks = run.get("targets")
    if checks:
        print("\n  newssearch against the issue-7 targets (ratios need this n; see README for where each is defined)")
        for c in checks:
            print(f"    {'PASS' if c['ok'] else 'FAIL'}  {c['what']}: {c['value']}")
    checks = run.get("tantivy_targets")
    if checks:
        print("\n  newssearch-tantivy against the issue-15 targets (indexing defined at 50k)")
        for c in checks:
            print(f"    {'PASS' if c['ok'] else 'FAIL'}  {c['what']}: {c['value']}")


def check_targets(rows: Dict[str, Dict[str, Optional[float]]]) -> List[Dict[str, Any]]:
    s = rows.get("newssearch")
    if not s:
        return []
    out = []

    def add(what: str, value: Optional[float], ok: bool, fmt: str) -> None:
        out.append({"what": what, "value": _f(value, fmt), "ok": bool(ok)})

    if s["index_x"] is not None:
        add("indexing >= 3x plain Whoosh (at 20k)", s["index_x"], s["index_x"] >= TARGETS["index_x"], "{:.2f}x")
    if s["p50_x"] is not None:
        add("p50 <= 1/3 plain Whoosh (at 50k)", s["p50_x"], s["p50_x"] <= TARGETS["p50_x"], "{:.2f}x")
        add("p95 <= 1/3 plain Whoosh (at 50k)", s["p95_x"], s["p95_x"] <= TARGETS["p95_x"], "{:.2f}x")
    if s["max_ms"] is not None:
        add("no query over 250 ms", s["max_ms"], s["max_ms"] <= TARGETS["max_ms"], "{:.1f} ms")
    if s["peak_rss_mb"] is not None:
        add("peak RSS while indexing <= 1 GB", s["peak_rss_mb"], s["peak_rss_mb"] <= TARGETS["rss_mb"], "{:.0f} MB")
    if s["size_x"] is not None:
        add("index size <= 1.2x plain Whoosh", s["size_x"], s["size_x"] <= TARGETS["size_x"], "{:.2f}x")
    return out


def check_tantivy_targets(rows: Dict[str, Dict[str, Optional[float]]]) -> List[Dict[str, Any]]:
    """newssearch-tantivy against issue 15: figures, and p50 against FTS5's on the same page work."""
    s = rows.get("newssearch-tantivy")
    if not s:
        return []
    out: List[Dict[str, Any]] = []

    def add(what: str, value: Optional[float], ok: bool, fmt: str) -> None:
        out.append({"what": what, "value": _f(value, fmt), "ok": bool(ok)})

    t = TANTIVY_TARGETS
    if s["articles_per_s"] is not None:
        add(f"indexing >= {t['articles_per_s']:.0f} articles/s", s["articles_per_s"],
            s["articles_per_s"] >= t["articles_per_s"], "{:.0f}/s")
    fts5 = (rows.get("fts5") or {}).get("p50_ms")
    if s["p50_ms"] is not None and fts5:
        add("p50 <= SQLite FTS5's p50 (same page: 10 titles + snippets)", s["p50_ms"], s["p50_ms"] <= fts5,
            "{:.2f} ms vs " + f"{fts5:.2f} ms")
    if s["p95_ms"] is not None:
        add(f"p95 < {t['p95_ms']:.0f} ms", s["p95_ms"], s["p95_ms"] < t["p95_ms"], "{:.2f} ms")
    if s["max_ms"] is not None:
        add(f"no query over {t['max_ms']:.0f} ms", s["max_ms"], s["max_ms"] <= t["max_ms"], "{:.1f} ms")
    if s["peak_rss_mb"] is not None:
        add("peak RSS while indexing < 1 GB", s["peak_rss_mb"], s["peak_rss_mb"] < t["rss_mb"], "{:.0f} MB")
    return out


def machine_info() -> Dict[str, Any]:
    from importlib import metadata
    import sqlite3

    def version(dist: str) -> Optional[str]:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    return {
        "date_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "loadavg_start": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "whoosh": version("whoosh-reloaded") or version("whoosh"),
        "newssearch": version("newssearch"),
        "tantivy": version("tantivy"),
        "sqlite": sqlite3.sqlite_version,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        # the engine may be edited while benchmarks run: say whether the tree was clean
        "git_dirty_files": [line.split(maxsplit=1)[-1] for line in git("status", "--porcelain").splitlines()],
    }


# ---------------------------------------------------------------------------- main


def run_size(n: int, args: argparse.Namespace, work: Path) -> Dict[str, Any]:
    # sizes the first corpus cannot fill go on into the other corpora, in path order
    articles, corpus = select_articles(corpus_files(args.corpus), n)
    if len(corpus["files"]) > 1:
        print(f"note: n={n} reads {len(corpus['files'])} corpora: {', '.join(Path(f).name for f in corpus['files'])}",
              file=sys.stderr)
    if len(articles) < n:
        print(f"note: only {len(articles)} articles available, wanted {n}", file=sys.stderr)
    n = len(articles)
    size_dir = work / f"n{n}"
    size_dir.mkdir(parents=True, exist_ok=True)
    data = size_dir / f"articles-{n}.jsonl"
    write_jsonl(articles, data)
    qs = make_queries(articles, args.queries, args.warmup, args.seed)
    del articles
    qfile, cfile = size_dir / "queries.json", size_dir / "cold-query.json"
    qfile.write_text(json.dumps(qs), encoding="utf-8")
    cfile.write_text(json.dumps(qs["cold"]), encoding="utf-8")
    print(f"[{time.strftime('%H:%M:%S')}] n={n}: {len(qs['timed'])} timed + {len(qs['warmup'])} warm-up queries; "
          f"engines {', '.join(args.engines)}", file=sys.stderr)
    engines: Dict[str, Dict[str, Any]] = {}
    for name in args.engines:
        t0 = time.perf_counter()
        try:
            engines[name] = bench_engine(name, data, qfile, cfile, size_dir, args.timeout)
        except Exception as exc:  # a broken engine must not end the run
            engines[name] = {"engine": name, "error": f"{type(exc).__name__}: {exc}"}
        state = engines[name].get("skipped") and "skipped" or engines[name].get("error") or "ok"
        print(f"[{time.strftime('%H:%M:%S')}]   {name}: {state} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        if not args.keep:
            if name == "opensearch" and (size_dir / f"index-{name}").exists():
                drop_opensearch(size_dir / f"index-{name}")
            shutil.rmtree(size_dir / f"index-{name}", ignore_errors=True)
    rows = summarize(engines, n)
    return {
        "n": n,
        "corpus": corpus,
        "query_count": len(qs["timed"]),
        "warmup_count": len(qs["warmup"]),
        "queries_info": qs["info"],
        "engines": engines,
        "summary": rows,
        "targets": check_targets(rows),
        "tantivy_targets": check_tantivy_targets(rows),
    }


def print_scaling(runs: List[Dict[str, Any]]) -> None:
    print("\n== scaling: articles/s and latency by size (x = ratio vs plain Whoosh at that size)")
    print("  " + "n".rjust(7) + "  " + "engine".ljust(19) + "art/s".rjust(8) + "x".rjust(7) + "size MB".rjust(9)
          + "p50 ms".rjust(9) + "x".rjust(6) + "p95 ms".rjust(9) + "x".rjust(6) + "max ms".rjust(9))
    for run in runs:
        for name, s in run["summary"].items():
            if "skipped" in run["engines"][name]:
                continue
            print("  " + str(run["n"]).rjust(7) + "  " + name.ljust(19) + _f(s["articles_per_s"], "{:.0f}").rjust(8)
                  + _f(s["index_x"], "{:.2f}").rjust(7) + _f(s["size_mb"]).rjust(9) + _f(s["p50_ms"], "{:.2f}").rjust(9)
                  + _f(s["p50_x"], "{:.2f}").rjust(6) + _f(s["p95_ms"], "{:.2f}").rjust(9)
                  + _f(s["p95_x"], "{:.2f}").rjust(6) + _f(s["max_ms"], "{:.1f}").rjust(9))


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="JSONL(.gz) corpus read first (default: %(default)s)")
    p.add_argument("--n", type=int, default=20000, help="articles to index (default: %(default)s)")
    p.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of " + ",".join(ENGINES))
    p.add_argument("--queries", type=int, default=60, help="timed queries, each distinct (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=20, help="distinct warm-up queries before timing (default: %(default)s)")
    p.add_argument("--seed", type=int, default=7, help="seed of the query mix (default: %(default)s)")
    p.add_argument("--json", type=Path, help="write all figures here (default: benchmarks/results/run-N.json)")
    p.add_argument("--scaling", action="store_true", help="measure at every size of --sizes instead of --n")
    p.add_argument("--sizes", default="10000,50000,120000", help="sizes for --scaling (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=3600, help="seconds allowed for each child process")
    p.add_argument("--workdir", type=Path, help="where indexes are built (default: a fresh temporary directory)")
    p.add_argument("--keep", action="store_true", help="keep the work directory and indexes")
    args = p.parse_args(argv)
    args.engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = [e for e in args.engines if e not in ENGINES]
    if unknown:
        p.error(f"unknown engine(s) {', '.join(unknown)}: choose from {', '.join(ENGINES)}")
    if BASELINE not in args.engines:
        print("note: plain Whoosh is not in --engines: no ratios", file=sys.stderr)
    if args.queries < 1 or args.warmup < 0:
        p.error("--queries must be >= 1 and --warmup >= 0")
    if not args.corpus.is_file():
        p.error(f"no corpus at {args.corpus}: pass --corpus PATH (a .jsonl or .jsonl.gz of articles)")
    sizes = [int(s) for s in args.sizes.split(",")] if args.scaling else [args.n]
    if any(s < 1 for s in sizes):
        p.error("sizes must be positive")

    info = machine_info()
    out = args.json or HERE / "results" / (f"run-scaling-{args.sizes.replace(',', '-')}.json" if args.scaling else f"run-{args.n}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="newssearch-bench-", dir=args.workdir))
    runs: List[Dict[str, Any]] = []

    def save() -> None:
        # written after every size, before printing, so a long run keeps what it measured
        info["loadavg_end"] = os.getloadavg()
        document = {"machine": info, "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                    "runs": runs}
        out.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")

    try:
        for n in sizes:
            runs.append(run_size(n, args, work))
            save()
            print_table(runs[-1])
    finally:
        if args.keep:
            print(f"\nwork directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if len(runs) > 1:
        print_scaling(runs)
    print(f"\nfigures written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
