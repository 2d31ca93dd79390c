"""SQLite FTS5 with the porter tokenizer, from Python's own sqlite3.

One FTS5 table: title and body indexed, source/published/id as UNINDEXED columns
(filters are then checked on the matching rows). One transaction for the whole load.
Queries: FTS5 syntax (bare words are all required, quotes make a phrase), ``ORDER BY
rank`` (bm25) or ``published DESC``, facets as a GROUP BY over the same match. Each
query makes the page a user sees, as newssearch does: 10 titles, each with a snippet of
its body around the matches (FTS5's ``snippet()``, 16 tokens).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_main, parse_date, read_jsonl, text  # noqa: E402

DB = "fts5.sqlite"


def fts5_available() -> bool:
    import sqlite3

    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(a, tokenize='porter unicode61')")
        return True
    except sqlite3.Error:
        return False


class Engine:
    name = "fts5"

    def load(self) -> None:
        global sqlite3
        import sqlite3

    def build(self, jsonl: str, directory: str) -> int:
        Path(directory).mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(Path(directory) / DB))
        conn.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            "title, body, source UNINDEXED, published UNINDEXED, id UNINDEXED, "
            "tokenize='porter unicode61')"
        )
        n = 0

        def rows():
            nonlocal n
            for rec in read_jsonl(jsonl):
                published = parse_date(rec.get("date"))
                n += 1
                yield (
                    text(rec, "title"),
                    text(rec, "body"),
                    text(rec, "source"),
                    published.isoformat(timespec="seconds") if published else None,
                    str(rec.get("id") or n),
                )

        with conn:
            conn.executemany("INSERT INTO docs(title, body, source, published, id) VALUES (?,?,?,?,?)", rows())
        conn.close()
        return n

    def open(self, directory: str) -> None:
        self.conn = sqlite3.connect(str(Path(directory) / DB))

    def count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM docs").fetchone()[0]

    def search(self, q: Dict[str, Any]) -> int:
        where = ["docs MATCH ?"]
        params: List[Any] = [q["text"]]
        if q.get("source"):
            where.append("source = ?")
            params.append(q["source"])
        if q.get("since"):
            where.append("published >= ?")
            params.append(parse_date(q["since"]).isoformat(timespec="seconds"))
        if q.get("until"):
            where.append("published <= ?")
            params.append(parse_date(q["until"]).isoformat(timespec="seconds"))
        cond = " AND ".join(where)
        order = "published DESC" if q.get("sort") == "newest" else "rank"
        rows = self.conn.execute(
            f"SELECT title, source, published, snippet(docs, 1, '[[', ']]', '…', 16) FROM docs "
            f"WHERE {cond} ORDER BY {order} LIMIT 10", params
        ).fetchall()
        if q.get("facets"):
            self.conn.execute(f"SELECT source, count(*) FROM docs WHERE {cond} GROUP BY source", params).fetchall()
        return len(rows)

    def close(self) -> None:
        self.conn.close()


if __name__ == "__main__":
    child_main(Engine())
