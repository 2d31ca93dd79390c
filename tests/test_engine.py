"""The Whoosh wing's fast writer: same index as Whoosh's own writer, chunks, two processes."""
from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import newssearch
from newssearch import Article
from newssearch.engine.base import SearchSpec
from newssearch.engine.documents import index_doc
from newssearch.engine.whoosh import WhooshEngine, evaluate, store, writer
from newssearch.engine.whoosh import copies as wcopies
from newssearch.engine.whoosh.schema import whoosh_fields
from newssearch.index import content_hash
from tests.whoosh_oracle import oracle_search

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


def docs(arts):
    return [index_doc(a, content_hash(a)) for a in arts]


def engine_with(path: Path, *batches):
    """A Whoosh engine at *path* holding each batch of articles, one write (segment) each."""
    eng = WhooshEngine.create(path)
    for arts in batches:
        with eng.writer() as w:
            w.upsert(docs(arts))
    return eng


def whoosh_writer_index(path: Path, arts):
    """The same articles written by Whoosh's own SegmentWriter (the reference)."""
    eng = WhooshEngine.create(path)
    w = eng.ix.writer()
    for d in docs(arts):
        w.add_document(**whoosh_fields(d))
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
    fast = engine_with(tmp_path / "fast", arts)
    spec = SearchSpec(limit=50)
    for text, _ in QUERIES:
        tree = newssearch.parse_query(text).tree
        a_ref, a_fast = ref.searcher().search(tree, spec), fast.searcher().search(tree, spec)
        assert a_fast.total == a_ref.total > 0, text
        assert [h.id for h in a_fast.candidates] == [h.id for h in a_ref.candidates], text
        assert [round(h.score, 6) for h in a_fast.candidates] == [round(h.score, 6) for h in a_ref.candidates], text
    ref.close()
    fast.close()


def test_array_search_matches_whooshs_matchers(tmp_path):
    arts = articles(300)
    eng = engine_with(tmp_path / "ix", arts[:150], arts[150:])  # two segments
    specs = [SearchSpec(limit=300), SearchSpec(limit=300, sort="newest"),
             SearchSpec(limit=300, sources=["Coast Post"], facets=("source", "day"))]
    trees = [newssearch.parse_query(t).tree for t, _ in QUERIES]
    searcher = eng.searcher()
    got = {(i, j): searcher.search(tree, spec) for i, tree in enumerate(trees) for j, spec in enumerate(specs)}
    for (i, j), answer in got.items():
        ref = oracle_search(searcher, trees[i], specs[j])
        label = (QUERIES[i][0], j)
        assert answer.total == ref.total > 0, label
        assert answer.facets == ref.facets, label
        if "\"" in QUERIES[i][0]:  # Whoosh scores phrases its own way: the same articles
            assert {c.id for c in answer.candidates} == {c.id for c in ref.candidates}, label
        elif j < 2:  # (Whoosh adds a constant per filter to every score)
            assert [c.id for c in answer.candidates] == [c.id for c in ref.candidates], label
            assert [round(c.score, 6) for c in answer.candidates] == [round(c.score, 6) for c in ref.candidates] or j == 1
    # deleted articles drop out and nothing else changes (Whoosh's own AndNot, for one,
    # let a deleted segment's "pay -storm" through an article holding "storm")
    gone = {arts[2].id, arts[200].id}
    with eng.writer() as w:
        assert w.delete(ids=sorted(gone)) == 2
    for (i, j), answer in got.items():
        after = eng.searcher().search(trees[i], specs[j])
        kept = [c.id for c in answer.candidates if c.id not in gone]
        assert after.total == answer.total - (len(answer.candidates) - len(kept)), (QUERIES[i][0], j)
        assert [c.id for c in after.candidates] == kept, (QUERIES[i][0], j)
    eng.close()


def test_whoosh_matchers_read_packed_positions_and_merges_keep_them(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_SEGMENTS", 2)
    arts = articles(60)
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        for start in range(0, 60, 15):  # four writes: merged by Whoosh's own writer
            ix.add(arts[start : start + 15])
        assert ix.stats().segments <= 2
        assert ix.search('"harbour strike went"').total == 60
        assert ix.search('"went harbour"').total == 0
        arrays_total = ix.search('"strike harbour"').total
        oracle = lambda text: oracle_search(ix._searcher, newssearch.parse_query(text).tree, SearchSpec()).total  # noqa: E731
        assert oracle('"harbour strike went"') == 60
        assert oracle('"went harbour"') == 0
        assert oracle('"strike harbour"') == arrays_total > 0


def test_positions_survive_for_repeated_words(tmp_path):
    a = Article(title="t", body="alpha beta gamma alpha beta delta alpha beta", url="https://example.com/p")
    eng = engine_with(tmp_path / "ix", [a])
    spec = SearchSpec()
    for phrase, found in (('"alpha beta"', 1), ('"beta delta alpha"', 1), ('"alpha delta"', 0), ('"gamma alpha beta delta"', 1)):
        assert eng.searcher().search(newssearch.parse_query(phrase).tree, spec).total == found, phrase
    eng.close()


def test_chunks_and_helper_process(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "CHUNK_DOCS", 40)
    monkeypatch.setattr(writer, "PARALLEL_MIN_DOCS", 10)
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
    monkeypatch.setattr(writer, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        assert ix.add(articles(50)).added == 50
        assert ix.search("harbour").total == 50


def test_many_small_writes_are_merged(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_SEGMENTS", 3)
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        for i, a in enumerate(articles(8)):
            ix.add([a])
        assert ix.stats().segments <= 3
        assert ix.search("harbour").total == 8


def _phrase_articles(n: int):
    """Half hold "harbour strike" as a phrase, half hold both words apart."""
    out = []
    for i in range(n):
        body = "the harbour strike went on" if i % 2 == 0 else "the strike at the harbour went on"
        out.append(Article(title=f"report {i}", body=body, source="Coast Post", url=f"https://example.com/p/{i}",
                           published=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=i)))
    return out


def test_phrase_with_many_candidates_estimates_the_total_and_says_so(tmp_path, monkeypatch):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add(_phrase_articles(400))
        full = ix.search('"harbour strike"', limit=20)
        assert full.total == 200 and not full.warnings
        monkeypatch.setattr(evaluate, "PHRASE_EXACT_DOCS", 50)
        monkeypatch.setattr(evaluate, "PHRASE_SAMPLE", 40)
        cut = ix.search('"harbour strike"', limit=20)
        # the hits shown are still checked and ranked exactly; only the total is estimated
        assert [h.id for h in cut.hits] == [h.id for h in full.hits]
        assert 150 <= cut.total <= 250
        assert any(w.startswith(f"about {cut.total} articles hold the phrase") for w in cut.warnings)
        # facets need the exact set: every candidate is checked then
        faceted = ix.search('"harbour strike"', facets=["source"])
        assert faceted.total == 200 and faceted.facets["source"] == {"Coast Post": 200}
        # words without phrases are never estimated
        assert ix.search("harbour strike").total == 400


def test_fast_writer_stores_the_same_sketch_as_dedupe_signature(tmp_path):
    from newssearch import dedupe

    arts = articles(30)
    eng = engine_with(tmp_path / "ix", arts)
    for a in arts:
        assert eng.searcher().signature(a.id) == dedupe.signature(a.title, a.body), a.id
    assert eng.searcher().signature("no-such-id") is None
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
        monkeypatch.setattr(writer, "PARALLEL_MIN_DOCS", min_docs)
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
    monkeypatch.setattr(writer, "MAX_SEGMENTS", 2)
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


def test_ties_at_the_page_edge_are_broken_by_date_then_id(tmp_path):
    # equal scores and equal dates across page edges: pages never overlap or skip
    arts = [
        Article(id=f"a{i:02d}", title="tie", body=f"identical words about the harbour {i % 2}",
                source="Coast Post", url=f"https://example.com/t/{i}",
                published=datetime(2025, 1, 1 + i % 3, tzinfo=UTC))
        for i in range(30)
    ]
    expected = [a.id for a in sorted(arts, key=lambda a: (-a.published.timestamp(), a.id))]
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add(arts)
        for sort in ("newest", "relevance"):
            pages = [ix.search("tie", sort=sort, limit=4, page=p, collapse=False) for p in range(1, 9)]
            ids = [h.id for res in pages for h in res.hits]
            if sort == "newest":
                assert ids == expected
            else:  # relevance: equal scores go by date (newest first), then id
                assert sorted(ids) == sorted(expected) and len(set(ids)) == 30
                keys = [(-round(h.score, 9), -h.published.timestamp(), h.id) for res in pages for h in res.hits]
                assert keys == sorted(keys)


def test_segments_are_read_in_place_not_copied(tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(writer, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(writer, "MAX_SEGMENTS", 2)
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add(articles(40))
        ix.add(articles(40, seed=8))  # Whoosh's own merge writes the merged segment
        segments = ix._engine.ix._segments()
        assert segments and all(isinstance(s, store.NewsSegment) for s in segments)
        assert ix.search("harbour").total == 80
    # the in-place reader reads like the BytesIO Whoosh would have made
    data = bytes(range(256)) * 3 + b"line one\nline two\n"
    view, ref = store._ViewReader(memoryview(data)), io.BytesIO(data)
    for op in (lambda f: f.read(5), lambda f: f.seek(700), lambda f: f.read(20), lambda f: f.tell(),
               lambda f: f.seek(-18, 2), lambda f: f.readline(), lambda f: f.readline(), lambda f: f.read(),
               lambda f: f.seek(3, 0), lambda f: f.seek(4, 1), lambda f: f.read(2), lambda f: f.read(-1)[-3:]):
        assert op(view) == op(ref)


def _reference_near(a, b, threshold=0.7):
    """Bottom-k Jaccard estimate written out plainly: shared share of the union's k smallest."""
    if not a or not b:
        return False
    k = min(len(a), len(b), 32)
    bottom = sorted(set(a) | set(b))[:k]
    return sum(1 for h in bottom if h in a and h in b) / k >= threshold


def test_vectorised_near_duplicate_test_agrees_with_the_definition():
    import numpy as np

    from newssearch import dedupe
    from newssearch.engine import arrays

    rnd = random.Random(3)
    pairs = []
    for _ in range(600):
        base = sorted({rnd.getrandbits(64) | 1 for _ in range(40)})
        a = base[: rnd.choice([0, 1, 3, 10, 31, 32])]
        # a near copy: some hashes replaced, a different length, or an unrelated sketch
        b = sorted(set(h if rnd.random() > rnd.choice([0.0, 0.1, 0.3, 0.6]) else rnd.randrange(1, 2**64) for h in base))
        b = b[: rnd.choice([0, 1, 5, 20, 32])] if rnd.random() < 0.9 else list(a)
        pairs.append((tuple(a), tuple(b)))
    rows = lambda sigs: (np.asarray([list(s) + [0] * (32 - len(s)) for s in sigs], dtype=np.uint64),  # noqa: E731
                         np.asarray([len(s) for s in sigs], dtype=np.int64))
    left, left_len = rows([a for a, _ in pairs])
    right, right_len = rows([b for _, b in pairs])
    got = arrays.near_duplicates(left, left_len, right, right_len, 0.7, 32).tolist()
    want = [_reference_near(a, b) for a, b in pairs]
    assert got == want
    assert got == [dedupe.is_near_duplicate(a, b) for a, b in pairs]
    assert 50 < sum(want) < 550  # both outcomes are exercised
    assert arrays.ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]


def test_copies_found_by_lookup_keys_are_every_near_copy(tmp_path):
    from newssearch import dedupe

    rnd = random.Random(11)
    stories = [" ".join(rnd.choice(WORDS + [f"w{j}" for j in range(300)]) for _ in range(120)) for _ in range(30)]
    arts = []
    for i in range(150):
        words = stories[i % 30].split()
        for _ in range(rnd.choice([0, 2, 8, 40])):  # a few words edited, or many (not a copy)
            words[rnd.randrange(len(words))] = rnd.choice(WORDS)
        arts.append(Article(id=f"a{i}", title=f"Story {i % 30}", body=" ".join(words), source="Desk"))
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add(arts[:80])
        ix.add(arts[80:])  # two segments
        eng = ix._searcher
        sigs = {a.id: eng.signature(a.id) for a in arts}
        chosen = [f"a{i}" for i in range(0, 150, 7)]
        found = eng.copies([sigs[i] for i in chosen])
        # every near copy sharing a lookup key with it that few articles hold (the way copies are looked up)
        held = [h for sig in sigs.values() for h in sig[: dedupe.BUCKET_KEYS]]
        rare = {h for h in held if held.count(h) <= wcopies.MAX_KEY_SHARE}
        keys = lambda sig: set(sig[: dedupe.BUCKET_KEYS]) & rare  # noqa: E731
        for aid, copies in zip(chosen, found):
            want = {o for o in sigs if keys(sigs[aid]) & keys(sigs[o]) and dedupe.is_near_duplicate(sigs[aid], sigs[o])}
            assert set(copies) == want and aid in want
        assert sum(len(c) for c in found) > 2 * len(chosen)  # copies exist beyond the article itself
        # deleted articles are never copies
        assert {"a30", "a60", "a90", "a120"} & set(found[0])
        ix.delete(ids=[f"a{i}" for i in range(30, 150, 30)])
        again = ix._searcher.copies([sigs["a0"]])
        assert set(again[0]) == {o for o in found[0] if o not in {"a30", "a60", "a90", "a120"}}
