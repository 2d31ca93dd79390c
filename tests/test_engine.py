"""The Whoosh wing's fast writer: same index as Whoosh's own writer, chunks, two processes."""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import newssearch
from newssearch import Article
from newssearch.engine import whoosh as wengine
from newssearch.index import content_hash

UTC = timezone.utc
WORDS = "port strike union harbour minister talks night shift crane cargo ferry storm coast pay".split()


def articles(n: int, seed: int = 7):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        body = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(5, 80)))
        out.append(
            Article(
                title=f"{rnd.choice(WORDS).title()} report {i}",
                body=body + ". The harbour strike went on.",
                source=rnd.choice(["Coast Post", "Port Daily"]),
                published=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i),
                url=f"https://example.com/{seed}/{i}",
            )
        )
    return out


def whoosh_writer_index(path: Path, arts):
    """The same articles written by Whoosh's own SegmentWriter (the reference)."""
    eng = wengine.WhooshEngine(path, create=True)
    w = eng._ix.writer()
    for a in arts:
        w.add_document(**eng._fields(a, content_hash(a)))
    w.commit()
    return eng


QUERIES = [
    ("harbour", None),
    ("strike union", None),
    ('"harbour strike"', None),
    ('"night shift crane"~2', None),
    ("title:report ferry", None),
    ("pay -storm", None),
]


def test_fast_writer_matches_whooshs_own_writer(tmp_path):
    arts = articles(300)
    ref = whoosh_writer_index(tmp_path / "ref", arts)
    fast = wengine.WhooshEngine(tmp_path / "fast", create=True)
    fast.upsert((a, content_hash(a)) for a in arts)
    spec = wengine.SearchSpec(limit=50)
    for text, _ in QUERIES:
        tree = newssearch.parse_query(text).tree
        a_ref, a_fast = ref.search(tree, spec), fast.search(tree, spec)
        assert a_fast.total == a_ref.total > 0, text
        assert [h.id for h in a_fast.candidates] == [h.id for h in a_ref.candidates], text
        assert [round(h.score, 6) for h in a_fast.candidates] == [round(h.score, 6) for h in a_ref.candidates], text
    ref.close()
    fast.close()


def test_positions_survive_for_repeated_words(tmp_path):
    eng = wengine.WhooshEngine(tmp_path / "ix", create=True)
    a = Article(title="t", body="alpha beta gamma alpha beta delta alpha beta", url="https://example.com/p")
    eng.upsert([(a, content_hash(a))])
    spec = wengine.SearchSpec()
    for phrase, found in (('"alpha beta"', 1), ('"beta delta alpha"', 1), ('"alpha delta"', 0), ('"gamma alpha beta delta"', 1)):
        assert eng.search(newssearch.parse_query(phrase).tree, spec).total == found, phrase
    eng.close()


def test_chunks_and_helper_process(tmp_path, monkeypatch):
    monkeypatch.setattr(wengine, "CHUNK_DOCS", 40)
    monkeypatch.setattr(wengine, "PARALLEL_MIN_DOCS", 10)
    arts = articles(100)
    # the same article again later in the batch (a later chunk) with new content wins
    changed = Article(
        title=arts[3].title, body="rewritten copy about a lighthouse", source=arts[3].source,
        published=arts[3].published, url=arts[3].url,
    )
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        report = ix.add(arts + [arts[5], changed])
        assert (report.added, report.updated, report.unchanged) == (100, 1, 1)  # each record once
        assert len(ix) == 100
        assert ix.search("lighthouse").total == 1
        assert ix.search("harbour strike").total == 99
        assert ix.stats().segments >= 4  # two per chunk: this process's and the helper's
        again = ix.add(articles(100) + [changed])
        assert (again.added, again.updated, again.unchanged) == (0, 2, 99)


def test_helper_that_cannot_start_falls_back_to_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(wengine, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        assert ix.add(articles(50)).added == 50
        assert ix.search("harbour").total == 50


def test_many_small_writes_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(wengine, "MAX_SEGMENTS", 3)
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        for i, a in enumerate(articles(8)):
            ix.add([a])
        assert ix.stats().segments <= 3
        assert ix.search("harbour").total == 8


def test_phrase_search_over_budget_is_partial_and_says_so(tmp_path, monkeypatch):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add(articles(200))
        full = ix.search('"harbour strike"')
        assert full.total == 200 and not full.warnings
        monkeypatch.setattr(wengine, "PHRASE_TIME_LIMIT", 1e-9)
        cut = ix.search('"harbour strike"')
        assert cut.total < 200
        assert any("phrase search stopped" in w for w in cut.warnings)
        # words without phrases are never cut, however slow
        assert ix.search("harbour strike").total == 200


def test_fast_writer_stores_the_same_sketch_as_dedupe_signature(tmp_path):
    from newssearch import dedupe

    arts = articles(30)
    eng = wengine.WhooshEngine(tmp_path / "ix", create=True)
    eng.upsert((a, content_hash(a)) for a in arts)
    for a in arts:
        assert eng.signature_of(a.id) == dedupe.signature(a.title, a.body), a.id
    eng.close()


def _answers(ix):
    out = {}
    for text in ["harbour", "strike union", '"harbour strike"', "title:report ferry", "site:example.com crane",
                 "inurl:7 pay", "lighthouse"]:
        res = ix.search(text, limit=500)
        out[text] = (res.total, sorted(h.id for h in res.hits))
    return out


def test_parallel_streamed_write_gives_the_serial_index(tmp_path, monkeypatch):
    """Two processes (documents streamed to the helper while reading) == one process."""
    arts = articles(120)
    changed = Article(title=arts[3].title, body="rewritten copy about a lighthouse", source=arts[3].source,
                      published=arts[3].published, url=arts[3].url)
    changed2 = Article(title=arts[4].title, body="a lighthouse keeper retires", source=arts[4].source,
                       published=arts[4].published, url=arts[4].url)
    batch = arts + [changed, changed2, arts[5]]  # later copies supersede, in either process
    results = {}
    for name, min_docs in (("serial", 10**9), ("parallel", 10)):
        monkeypatch.setattr(wengine, "PARALLEL_MIN_DOCS", min_docs)
        with newssearch.open_index(tmp_path / name, create=True) as ix:
            report = ix.add(batch)
            assert (report.added, report.updated, report.unchanged) == (120, 2, 1)
            assert len(ix) == 120
            results[name] = (_answers(ix), ix.stats().segments)
    assert results["parallel"][0] == results["serial"][0]
    assert results["parallel"][0]["lighthouse"][0] == 2
    assert results["parallel"][1] == 2 and results["serial"][1] == 1


def test_merged_segments_keep_inlined_lookups(tmp_path, monkeypatch):
    """id, url-word, site and dedupe-key terms are inlined in the term table; Whoosh's
    own merge must carry them over."""
    monkeypatch.setattr(wengine, "MAX_SEGMENTS", 2)
    arts = articles(12)
    copy = Article(title=arts[0].title, body=arts[0].body, source="Copy Desk", url="https://copies.example.org/x")
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        for a in arts + [copy]:
            ix.add([a])
        assert ix.stats().segments <= 2
        before = _answers(ix)
        assert before["site:example.com crane"][0] > 0 and before["inurl:7 pay"][0] > 0
        assert ix.get(arts[7].id).title == arts[7].title
        res = ix.search(arts[0].title, collapse=True, limit=20)
        first = next(h for h in res.hits if h.id in (arts[0].id, copy.id))
        assert first.duplicates == 1
        # updating an article deletes its old copy through the inlined id term
        ix.add([Article(title=arts[7].title, body="new text about cargo", source=arts[7].source,
                        published=arts[7].published, url=arts[7].url)])
        assert len(ix) == 13 and ix.search("cargo").total >= 1
