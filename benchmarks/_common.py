"""What every engine script shares: reading the benchmark JSONL, dates, sizes, the child protocol.

Standard library only, so that importing it costs the same for every engine and the
timed parts of a child measure the engine, not this module.

Each ``eng_*.py`` script defines an ``Engine`` with ``load`` (import the library),
``build`` (index a JSONL file into a directory), ``open``, ``count``, ``search`` and
``close``, and ends with ``child_main(Engine())``. The parent (``run.py``) calls::

    python benchmarks/eng_X.py index JSONL DIR OUT.json
    python benchmarks/eng_X.py cold  DIR QUERY.json OUT.json
    python benchmarks/eng_X.py query DIR QUERIES.json OUT.json

and reads OUT.json; a child that fails leaves a traceback on stderr and exit status 1.
"""
from __future__ import annotations

import gzip
import json
import os
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional


def read_jsonl(path: "str | Path") -> Iterator[Dict[str, Any]]:
    """Records of a ``.jsonl`` or ``.jsonl.gz`` file, one dict per non-blank line."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                yield json.loads(line)


def parse_date(value: Optional[str]) -> Optional[datetime]:
    """An ISO 8601 date of the corpus as a naive UTC datetime (a date with no zone is UTC)."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def text(record: Dict[str, Any], key: str) -> str:
    value = record.get(key)
    return value if isinstance(value, str) else ""


def dir_size(path: "str | Path") -> int:
    """Bytes of every file under *path* (or of *path* itself when it is a file)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def query_text(q: Dict[str, Any]) -> str:
    """The query string every engine is given: words (all required) or one quoted phrase."""
    return q["text"]


def _self_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _write(out: str, data: Dict[str, Any]) -> None:
    Path(out).write_text(json.dumps(data, indent=1, default=str), encoding="utf-8")


def child_main(engine: Any) -> None:
    """Dispatch ``index`` / ``cold`` / ``query`` for one engine script (see the module docstring)."""
    mode, *args = sys.argv[1:]
    if mode == "index":
        jsonl, directory, out = args
        t0 = time.perf_counter()
        engine.load()
        docs = engine.build(jsonl, directory)
        _write(out, {"seconds_inside": time.perf_counter() - t0, "docs": docs, "self_rss_mb": _self_rss_mb()})
    elif mode == "cold":
        directory, query_file, out = args
        q = json.loads(Path(query_file).read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        engine.load()
        t1 = time.perf_counter()
        engine.open(directory)
        t2 = time.perf_counter()
        returned = engine.search(q)
        t3 = time.perf_counter()
        docs = engine.count()
        engine.close()
        _write(
            out,
            {
                "import_ms": (t1 - t0) * 1e3,
                "open_ms": (t2 - t1) * 1e3,
                "first_query_ms": (t3 - t2) * 1e3,
                "open_and_query_ms": (t3 - t1) * 1e3,
                "returned": returned,
                "docs": docs,
            },
        )
    elif mode == "query":
        directory, query_file, out = args
        spec = json.loads(Path(query_file).read_text(encoding="utf-8"))
        engine.load()
        engine.open(directory)
        notes: List[str] = list(getattr(engine, "notes", []))

        def run(q: Dict[str, Any]) -> Dict[str, Any]:
            t0 = time.perf_counter()
            try:
                returned = engine.search(q)
                error = None
            except Exception as exc:  # one bad query must not end the run: report it
                returned, error = None, f"{type(exc).__name__}: {exc}"
            ms = (time.perf_counter() - t0) * 1e3
            row = {"kind": q["kind"], "text": q["text"], "ms": ms, "returned": returned}
            for key in ("source", "since", "until", "sort", "facets"):
                if q.get(key):
                    row[key] = q[key]
            if error:
                row["error"] = error
            return row

        warmup = [run(q) for q in spec["warmup"]]
        timed = [run(q) for q in spec["timed"]]
        docs = engine.count()
        notes += [n for n in getattr(engine, "notes", []) if n not in notes]
        engine.close()
        _write(
            out,
            {
                "docs": docs,
                "warmup_errors": [r for r in warmup if "error" in r],
                "timed": timed,
                "notes": notes,
                "self_rss_mb": _self_rss_mb(),
            },
        )
    else:
        raise SystemExit(f"unknown mode {mode!r}")
