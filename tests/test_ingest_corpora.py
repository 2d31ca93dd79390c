"""5,000 real articles from ../shared/corpora (read at run time, skipped when absent):
every one is read, indexed, found by its id and by a word of its title.

Five corpora, 1,000 articles each: English (two Reuters sets, BBC), Arabic and Hebrew.
To keep the run to seconds on a shared machine (Whoosh indexes ~50-200 articles/s with
full bodies), each article is indexed with its title and the first 200 characters of
its body; the reader itself reads the whole records.
"""
from __future__ import annotations

import dataclasses
import itertools
from collections import Counter

import pytest

import newssearch
from newssearch import analysis
from newssearch.ingest import read_paths
from newssearch.model import Article, IngestWarning, Rejected

from .conftest import CORPORA, need_shared

PER_CORPUS = 1000
FILES = [
    "reuters-financial-news-2006-2013/reuters_financial_news_2006_2013.sample50pct.jsonl.gz",
    "reuters21578/reuters21578.jsonl.gz",
    "bbc-news-2004-2005/bbc_news_en.jsonl.gz",
    "saudinewsnet-arabic/saudinewsnet_ar.jsonl.gz",
    "israeli-headlines-2014-2015-hebrew/israeli_headlines_he.jsonl.gz",
]
BATCH = 80  # title words OR'ed into one query


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[list[Article], "newssearch.NewsIndex"]:
    paths = [need_shared(CORPORA / name) for name in FILES]
    chosen: list[Article] = []
    for path in paths:
        records = read_paths([path])  # through detection and the gzip'd JSON-lines reader
        titled = (r for r in records if isinstance(r, Article) and _title_word(r))
        chosen.extend(itertools.islice(titled, PER_CORPUS))
    assert len(chosen) == len(FILES) * PER_CORPUS
    ix = newssearch.open_index(tmp_path_factory.mktemp("corpora") / "ix", create=True)
    report = ix.add(dataclasses.replace(a, body=a.body[:200]) for a in chosen)
    assert report.added == len({a.id for a in chosen})
    yield chosen, ix
    ix.close()


def _title_word(article: Article, counts: "Counter[str] | None" = None) -> str:
    """A word of the title as written: the one whose term is rarest in *counts* (so a
    query for it has few hits), else the longest.

    Taken from the analyser's own token offsets: a regex ``\\w+`` would split Arabic words
    at their diacritics (tanween), which the analyser keeps inside the word.
    """
    tokens = analysis.analyze(article.title, lang=article.lang)
    if not tokens:
        return ""
    counts = counts or Counter()
    term, _, start, end = min(tokens, key=lambda t: (counts[t[0]], -len(t[0])))
    return article.title[start:end]


def test_the_readers_keep_every_record_of_the_first_thousands() -> None:
    path = need_shared(CORPORA / FILES[0])
    first = list(itertools.islice(read_paths([path]), 2000))
    assert not [r for r in first if isinstance(r, (Rejected, IngestWarning))]


def test_every_article_is_found_by_id(corpus) -> None:
    articles, ix = corpus
    assert len(ix) == len({a.id for a in articles}) == len(articles)
    for article in articles:
        stored = ix.get(article.id)
        assert stored is not None and stored.title == article.title, article.id


def test_every_article_is_found_by_a_word_of_its_title(corpus) -> None:
    articles, ix = corpus
    counts = Counter(t for a in articles for t in {tok[0] for tok in analysis.analyze(a.title, lang=a.lang)})
    missing = []
    for start in range(0, len(articles), BATCH):
        batch = articles[start:start + BATCH]
        words = {a.id: _title_word(a, counts) for a in batch}
        query = " OR ".join(f'title:"{w}"' for w in sorted(set(words.values())))
        # collapse=False: a near-duplicate copy folded into another hit is still a match
        found = {hit.id for hit in ix.search(query, limit=1000, collapse=False)}
        for article in batch:
            if article.id not in found:  # too many hits for one page: ask for this word alone
                alone = {hit.id for hit in ix.search(f'title:"{words[article.id]}"', limit=1000, collapse=False)}
                if article.id not in alone:
                    missing.append((article.id, words[article.id]))
    assert missing == []
