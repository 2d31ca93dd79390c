"""The query surface on real data read at run time: the seed page and a slice of Reuters-21578.

Reads only what it needs (the first articles of one corpus) and skips, with the reason,
when ../shared is absent. Nothing of the corpora is copied into the repo.
"""
from __future__ import annotations

import gzip
import json
from datetime import datetime, timezone

import pytest

import newssearch
from newssearch import Article

from .conftest import CORPORA, SEED_TITLE_SHA, need_shared, sha

REUTERS = CORPORA / "reuters21578" / "reuters21578.jsonl.gz"
SLICE = 800


@pytest.fixture(scope="module")
def reuters(tmp_path_factory):
    path = need_shared(REUTERS)
    arts = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            date = rec.get("date")
            arts.append(Article(id=rec["id"], title=rec.get("title") or "", body=rec.get("body") or "",
                                source=rec.get("source") or "Reuters",
                                published=datetime.fromisoformat(date) if date else None, lang="en"))
            if len(arts) >= SLICE:
                break
    ix_path = tmp_path_factory.mktemp("reuters") / "ix"
    with newssearch.open_index(ix_path, create=True) as ix:
        ix.add(arts)
    ix = newssearch.open_index(ix_path)
    yield ix
    ix.close()


def test_real_copies_collapse_and_all_shows_them(reuters):
    # find a story with copies in the slice through the API itself
    collapsed = reuters.search("oil OR bank OR trade OR wheat OR dollar", limit=200)
    withdups = [h for h in collapsed if h.duplicates]
    assert withdups, "the first Reuters-21578 articles hold repeated stories"
    hit = withdups[0]
    every = reuters.search("oil OR bank OR trade OR wheat OR dollar", limit=1000, collapse=False)
    listed = {h.id for h in every}
    assert set(hit.duplicate_ids) <= listed and hit.id in listed
    assert collapsed.total == every.total


def test_real_facets_sum_to_total(reuters):
    res = reuters.search("wheat", facets=["source", "day", "month"])
    assert res.total > 5
    assert sum(res.facets["day"].values()) == sum(res.facets["month"].values()) <= res.total
    assert all(k.startswith("1987-") for k in res.facets["month"])


def test_real_sentence_query_is_never_empty(reuters):
    text = "what did the bank of japan say about the dollar and interest rates on monday zyxwv"
    res = reuters.search(text)
    assert res.total > 0 and len(res.hits) == 10
    assert any("every word" in w for w in res.warnings)


def test_real_related_leaves_out_the_article(reuters):
    first = reuters.search("wheat").hits[0]
    related = reuters.related(first.id, limit=5)
    assert related.hits and first.id not in {h.id for h in related}
    assert not set(first.duplicate_ids) & {h.id for h in related}


def test_seed_page_related_articles(seed_index):
    mali = next(h for h in seed_index.search("coup") if sha(h.title) == SEED_TITLE_SHA["mali"])
    related = seed_index.related(mali.id, limit=5)
    assert mali.id not in {h.id for h in related}
    assert len(related.hits) == 3  # the other three articles of the page, best first


def test_seed_page_dates_and_sources(seed_index):
    now = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)
    assert seed_index.search("coup when:7d", now=now).total == 1
    assert seed_index.search("coup when:1h", now=now).total == 0
    rows = {s.name: s.articles for s in seed_index.sources()}
    assert rows == {"Al Jazeera": 3, "ILoveQatar.net": 1}
