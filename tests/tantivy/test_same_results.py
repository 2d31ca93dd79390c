"""The acceptance of the tantivy engine: the same top hits as the Whoosh engine, on the seed
page and on 5,000 real Reuters-21578 articles (read at run time from ../shared)."""
from __future__ import annotations

import sys

import pytest

import newssearch

from ..conftest import AS_OF, REPO, SEED, need_shared

pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")

sys.path.insert(0, str(REPO / "benchmarks"))
from compare_engines import QUERIES, REUTERS, compare, reuters, top_ids  # noqa: E402


def test_top_10_ids_match_whoosh_on_5000_reuters_articles(tmp_path):
    need_shared(REUTERS)
    arts = reuters(5000)
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add(arts)
        t.add(arts)
        rows = compare(top_ids(w, QUERIES), top_ids(t, QUERIES))
        totals = [(q, w.search(q).total, t.search(q).total) for q in QUERIES]
    differ = [(r["query"], r["a"], r["b"]) for r in rows if not r["identical"]]
    assert not differ
    assert all(a == b for _q, a, b in totals), totals  # the same matches, counted the same


def test_seed_page_gives_the_same_hits_on_both_engines(tmp_path):
    page = need_shared(SEED)
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add_paths([page], as_of=AS_OF)
        t.add_paths([page], as_of=AS_OF)
        for q in ("coup", "gantz", 'צה"ל', "Goita", "mali OR myanmar", "app"):
            a, b = w.search(q, collapse=False), t.search(q, collapse=False)
            assert [h.id for h in a.hits] == [h.id for h in b.hits], q
            assert [h.snippet for h in a.hits] == [h.snippet for h in b.hits], q
            assert a.total == b.total
