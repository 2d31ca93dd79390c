"""tantivy-py (Rust), the native peer: en_stem on title and body, source as a raw fast field.

Default ``index.writer()`` (it uses every core) and one commit, then waits for merges.
Queries: tantivy's parser over title+body with every word required, filters as Must
clauses of a boolean query, newest-first via the published fast field, facets as a
terms aggregation on source. Each query makes the page a user sees, as newssearch does:
10 titles, each with a snippet of its body (tantivy's SnippetGenerator, as HTML).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_main, parse_date, read_jsonl, text  # noqa: E402


class Engine:
    name = "tantivy"

    def load(self) -> None:
        global tantivy
        import tantivy

    @staticmethod
    def _schema():
        b = tantivy.SchemaBuilder()
        b.add_text_field("id", stored=True, tokenizer_name="raw")
        b.add_text_field("title", stored=True, tokenizer_name="en_stem")
        b.add_text_field("body", stored=True, tokenizer_name="en_stem")
        b.add_text_field("source", stored=True, fast=True, tokenizer_name="raw")
        b.add_date_field("published", stored=True, indexed=True, fast=True)
        return b.build()

    def build(self, jsonl: str, directory: str) -> int:
        Path(directory).mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(self._schema(), path=directory)
        writer = index.writer()
        n = 0
        for rec in read_jsonl(jsonl):
            n += 1
            doc = tantivy.Document()
            doc.add_text("id", str(rec.get("id") or n))
            doc.add_text("title", text(rec, "title"))
            doc.add_text("body", text(rec, "body"))
            doc.add_text("source", text(rec, "source"))
            published = parse_date(rec.get("date"))
            if published is not None:
                doc.add_date("published", published)
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        return n

    def open(self, directory: str) -> None:
        self.index = tantivy.Index.open(directory)
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def count(self) -> int:
        return self.searcher.num_docs

    def search(self, q: Dict[str, Any]) -> int:
        query = self.index.parse_query(q["text"], ["title", "body"], conjunction_by_default=True)
        musts = [(tantivy.Occur.Must, query)]
        if q.get("source"):
            musts.append((tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "source", q["source"])))
        if q.get("since") or q.get("until"):
            rng = tantivy.Query.range_query(
                self.schema, "published", tantivy.FieldType.Date, parse_date(q.get("since")), parse_date(q.get("until"))
            )
            musts.append((tantivy.Occur.Must, rng))
        if len(musts) > 1:
            query = tantivy.Query.boolean_query(musts)
        if q.get("sort") == "newest":
            result = self.searcher.search(query, 10, order_by_field="published", order=tantivy.Order.Desc)
        else:
            result = self.searcher.search(query, 10)
        hits = []
        snippets = tantivy.SnippetGenerator.create(self.searcher, query, self.schema, "body")
        snippets.set_max_num_chars(200)
        for _key, address in result.hits:
            doc = self.searcher.doc(address)
            hits.append((doc.get_first("title"), doc.get_first("source"), snippets.snippet_from_doc(doc).to_html()))
        if q.get("facets"):
            self.searcher.aggregate(query, {"by_source": {"terms": {"field": "source"}}})
        return len(hits)

    def close(self) -> None:
        pass


if __name__ == "__main__":
    child_main(Engine())
