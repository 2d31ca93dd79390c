"""newssearch on its tantivy engine, through the same public API as eng_newssearch.py
(``NewsIndex.search(text, limit=10)``: a page of 10 titles, each with its snippet): only
the index differs. run.py indexes with the real CLI, ``newssearch index FILE --engine tantivy``."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import child_main  # noqa: E402
from eng_newssearch import Engine as NewsSearchEngine  # noqa: E402


class Engine(NewsSearchEngine):
    name = "newssearch-tantivy"


if __name__ == "__main__":
    child_main(Engine())
