"""Plain Whoosh, the baseline of issue 7 and DESIGN.md: what a user gets from the textbook setup.

StemmingAnalyzer on title and body (both stored), source ID (stored, sortable),
published DATETIME (sortable), id ID (unique, stored); the default ``ix.writer()`` and
one commit. Queries: MultifieldParser over title+body with every word required,
filters as Whoosh ``filter=`` queries, newest-first via ``sortedby``, facets via
``groupedby``. No snippets. Run by run.py as a child process (see _common.py).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_main, parse_date, read_jsonl, text  # noqa: E402


class Engine:
    name = "whoosh"

    def load(self) -> None:
        global whoosh, index, fields, qparser, wquery, StemmingAnalyzer
        import whoosh  # noqa: F401
        from whoosh import fields, index, qparser
        from whoosh import query as wquery
        from whoosh.analysis import StemmingAnalyzer

    def build(self, jsonl: str, directory: str) -> int:
        schema = fields.Schema(
            id=fields.ID(unique=True, stored=True),
            title=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
            body=fields.TEXT(analyzer=StemmingAnalyzer(), stored=True),
            source=fields.ID(stored=True, sortable=True),
            published=fields.DATETIME(sortable=True),
        )
        Path(directory).mkdir(parents=True, exist_ok=True)
        ix = index.create_in(directory, schema)
        writer = ix.writer()
        n = 0
        for rec in read_jsonl(jsonl):
            doc: Dict[str, Any] = {
                "id": str(rec.get("id") or n),
                "title": text(rec, "title"),
                "body": text(rec, "body"),
                "source": text(rec, "source"),
            }
            published = parse_date(rec.get("date"))
            if published is not None:
                doc["published"] = published
            writer.add_document(**doc)
            n += 1
        writer.commit()
        ix.close()
        return n

    def open(self, directory: str) -> None:
        self.ix = index.open_dir(directory)
        self.searcher = self.ix.searcher()
        self.parser = qparser.MultifieldParser(["title", "body"], self.ix.schema, group=qparser.AndGroup)

    def count(self) -> int:
        return self.searcher.doc_count()

    def search(self, q: Dict[str, Any]) -> int:
        parsed = self.parser.parse(q["text"])
        filters = []
        if q.get("source"):
            filters.append(wquery.Term("source", q["source"]))
        if q.get("since") or q.get("until"):
            filters.append(wquery.DateRange("published", parse_date(q.get("since")), parse_date(q.get("until"))))
        kwargs: Dict[str, Any] = {"limit": 10}
        if filters:
            kwargs["filter"] = filters[0] if len(filters) == 1 else wquery.And(filters)
        if q.get("sort") == "newest":
            kwargs.update(sortedby="published", reverse=True)
        if q.get("facets"):
            kwargs["groupedby"] = "source"
        results = self.searcher.search(parsed, **kwargs)
        # with groupedby, iterating Results yields more than limit: take the top 10 like the others
        hits = [(h.get("title"), h.get("source")) for h in results[:10]]
        if q.get("facets"):
            results.groups("source")
        return len(hits)

    def close(self) -> None:
        self.searcher.close()
        self.ix.close()


if __name__ == "__main__":
    child_main(Engine())
