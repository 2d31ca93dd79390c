"""newssearch through its public API, the way a user calls it: ``NewsIndex.search(text, limit=10)``
with its defaults (snippets and all). Indexing is not done here: run.py runs the real CLI,
``newssearch index FILE --index DIR``, as a whole process.

Facet queries pass ``facets=`` only when ``NewsIndex.search`` accepts that keyword
(checked with inspect.signature); otherwise they run as plain searches, with a note.
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_main, parse_date  # noqa: E402


class Engine:
    name = "newssearch"

    def __init__(self) -> None:
        self.notes: List[str] = []

    def load(self) -> None:
        global newssearch
        import newssearch

    def build(self, jsonl: str, directory: str) -> int:  # pragma: no cover - run.py uses the CLI
        with newssearch.open_index(directory, create=True) as ix:
            ix.add_paths([jsonl])
            return len(ix)

    def open(self, directory: str) -> None:
        self.ix = newssearch.open_index(directory)
        params = inspect.signature(type(self.ix).search).parameters
        self.facets_ok = "facets" in params
        if not self.facets_ok:
            self.notes.append("NewsIndex.search has no facets keyword: facet queries ran as plain searches")

    def count(self) -> int:
        return len(self.ix)

    def search(self, q: Dict[str, Any]) -> int:
        from datetime import timezone

        kwargs: Dict[str, Any] = {"limit": 10}
        if q.get("source"):
            kwargs["source"] = q["source"]
        for key in ("since", "until"):
            if q.get(key):
                kwargs[key] = parse_date(q[key]).replace(tzinfo=timezone.utc)
        if q.get("sort") == "newest":
            kwargs["sort"] = "newest"
        if q.get("facets") and self.facets_ok:
            kwargs["facets"] = ["source"]
        results = self.ix.search(q["text"], **kwargs)
        hits = [(h.title, h.source, h.snippet) for h in results.hits]
        return len(hits)

    def close(self) -> None:
        self.ix.close()


if __name__ == "__main__":
    child_main(Engine())
