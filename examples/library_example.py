"""Index the bundled examples and run a query: the README's library example, runnable.

    python examples/library_example.py [INDEX_DIR]
"""
import sys
from pathlib import Path

import newssearch

here = Path(__file__).resolve().parent
index_dir = sys.argv[1] if len(sys.argv) > 1 else str(here.parent / "indexes" / "demo")

with newssearch.open_index(index_dir, create=True) as ix:
    report = ix.add_paths([here])
    print(f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
          f"{len(report.rejected)} rejected")
    results = ix.search("harbour strike", limit=5)
    print(results.total, "found")
    for hit in results:
        print(hit.rank, hit.title, "|", hit.source, hit.published, round(hit.score, 2))
        print("   ", hit.snippet)
