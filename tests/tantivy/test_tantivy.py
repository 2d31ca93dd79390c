"""The tantivy engine beyond the contract: chosen per index by every route a user has, the
Whoosh engine's hits for word forms and phrases, analysis on worker processes, bad indexes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")

import newssearch  # noqa: E402
from newssearch import Article  # noqa: E402
from newssearch.cli import main  # noqa: E402
from newssearch.engine import format_record  # noqa: E402
from newssearch.engine.documents import index_doc  # noqa: E402
from newssearch.engine.tantivy import pool  # noqa: E402
from newssearch.errors import RebuildNeeded  # noqa: E402
from newssearch.index import content_hash  # noqa: E402
from newssearch.rebuild import load_config, rebuild  # noqa: E402

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def articles(n: int, start: int = 0):
    return [Article(id=f"t{i}", title=f"Harbour strike day {i}", body=f"Dockworkers walked out again, week {i % 3}.",
                    source="Coast Post" if i % 2 else "Lake Wire", published=T0 + timedelta(hours=i), lang="en")
            for i in range(start, start + n)]


def test_open_index_with_engine_tantivy_records_it_and_reopening_picks_it(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(articles(6))
        assert ix.stats().engine == "tantivy"
    gens = [p for p in (tmp_path / "ix").iterdir() if p.is_dir() and format_record(p)]
    assert {format_record(p)["engine"] for p in gens} == {"tantivy"}
    with newssearch.open_index(tmp_path / "ix") as again:  # no engine named: the record decides
        assert again.stats().engine == "tantivy"
        assert again.search("harbour strike").total == 6


def test_cli_index_with_engine_tantivy_then_query_and_stats(tmp_path):
    data = tmp_path / "a.jsonl"
    data.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body, "source": a.source,
                                        "published": a.published.isoformat()}) + "\n" for a in articles(5)))
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    r = runner.invoke(main, ["index", str(data), "--index", ix, "--engine", "tantivy", "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["query", "dockworkers", "--index", ix, "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["total"] == 5
    r = runner.invoke(main, ["stats", "--index", ix, "--json"])
    assert json.loads(r.output)["engine"] == "tantivy"


def test_config_engine_tantivy_builds_a_tantivy_index(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body, "source": a.source,
                                        "published": a.published.isoformat()}) + "\n" for a in articles(4)))
    cfg = tmp_path / "news.toml"
    cfg.write_text('index = "ix"\nengine = "tantivy"\n[[sources]]\npath = "data.jsonl"\n')
    config = load_config(cfg)
    assert config.engine == "tantivy"
    rebuild(config)
    with newssearch.open_index(tmp_path / "ix") as ix:
        assert ix.stats().engine == "tantivy" and len(ix) == 4


def test_a_damaged_tantivy_generation_says_rebuild_needed_without_a_traceback(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(articles(2))
    gen = next(p for p in (tmp_path / "ix").iterdir() if p.is_dir() and (p / "tantivy").is_dir())
    (gen / "tantivy" / "meta.json").write_text("{not json")
    with pytest.raises(RebuildNeeded):
        newssearch.open_index(tmp_path / "ix")
    r = CliRunner().invoke(main, ["query", "harbour", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 1 and "rebuild" in r.output.lower() and "Traceback" not in r.output


HEBREW = [
    Article(id="h1", title="שביתה בנמל", body="השביתה בנמל חיפה נמשכה יום שלישי והנוסעים חיכו.",
            source="Haifa Daily", published=T0, lang="he"),
    Article(id="h2", title="נמל חיפה", body="הנמל פתוח. שביתה אחרת הסתיימה בחיפה.",
            source="Haifa Daily", published=T0 + timedelta(days=1), lang="he"),
]


@pytest.mark.parametrize("query", ['"נמל חיפה"', "נמל", '"שביתה בנמל"', "בחיפה"])
def test_hebrew_word_forms_at_one_position_find_what_whoosh_finds(tmp_path, query):
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add(HEBREW)
        t.add(HEBREW)
        a, b = w.search(query, collapse=False), t.search(query, collapse=False)
        assert [h.id for h in b.hits] == [h.id for h in a.hits] and a.total == b.total and a.total > 0


ORDER = [
    Article(id="o1", title="Port news", body="the strike at the harbour ended", source="S", published=T0, lang="en"),
    Article(id="o2", title="Port news", body="the harbour strike ended", source="S", published=T0, lang="en"),
    Article(id="o3", title="Port news", body="the harbour saw a long strike", source="S", published=T0, lang="en"),
]


@pytest.mark.parametrize("query,expected", [('"harbour strike"~1', {"o2"}), ('"harbour strike"~3', {"o2", "o3"}),
                                            ('"strike harbour"~3', {"o1"})])
def test_phrase_slop_keeps_word_order_as_whoosh_does(tmp_path, query, expected):
    # tantivy's own sloppy phrase also takes the words the other way round
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add(ORDER)
        t.add(ORDER)
        assert {h.id for h in t.search(query, collapse=False).hits} == expected
        assert {h.id for h in w.search(query, collapse=False).hits} == expected


def test_analysis_on_worker_processes_gives_what_this_process_gives(monkeypatch):
    monkeypatch.setattr(pool, "PARALLEL_MIN_DOCS", 10)
    monkeypatch.setattr(pool, "CHUNK", 3)
    docs = [index_doc(a, content_hash(a)) for a in articles(40)]
    one = [(d.id, a) for d, a in pool.analysed(docs, workers=0)]
    two = [(d.id, a) for d, a in pool.analysed(docs, workers=2)]
    assert [i for i, _ in two] == [d.id for d in docs]  # in order
    assert two == one


URLS = [
    Article(id="u1", title="Markets", body="Stocks then collapsed.", source="S", published=T0,
            url="https://ex.com/news/then-collapse-of-markets", lang="en"),
    Article(id="u2", title="Markets", body="Stocks rose.", source="S", published=T0, url="https://ex.com/news/rise",
            lang="en"),
]


@pytest.mark.parametrize("query", ["inurl:then", "inurl:then-col*", "inurl:news -inurl:rise"])
def test_url_words_find_what_whoosh_finds(tmp_path, query):
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add(URLS)
        t.add(URLS)
        assert [h.id for h in t.search(query).hits] == [h.id for h in w.search(query).hits]


def test_a_phrase_too_loose_to_check_gap_by_gap_still_finds_it_and_says_so(tmp_path):
    with newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        t.add(ORDER)
        res = t.search('"the harbour strike ended"~9')
        assert {h.id for h in res.hits} >= {"o2"}
        assert any("gaps" in w for w in res.warnings)


MANY = [Article(id=f"m{i:03d}", title=f"Report {i}", body="Markets moved.", source="Coast Post" if i % 3 else "Lake Wire",
                published=(T0 + timedelta(days=i % 7)) if i % 5 else None, lang="en") for i in range(120)]


@pytest.mark.parametrize("query", ['source:"Coast Post"', "date:[2025-03-02 TO 2025-03-05]",
                                   'source:"Coast Post" OR source:"Lake Wire"',
                                   'source:"Lake Wire" OR date:[2025-03-02 TO 2025-03-05]'])
def test_queries_scoring_by_constants_only_rank_as_whoosh_then_newest_first_then_id(tmp_path, query):
    with newssearch.open_index(tmp_path / "w", create=True) as w, \
            newssearch.open_index(tmp_path / "t", create=True, engine="tantivy") as t:
        w.add(MANY)
        t.add(MANY)
        for page in (1, 3):
            a = w.search(query, collapse=False, limit=10, page=page)
            b = t.search(query, collapse=False, limit=10, page=page)
            assert [h.id for h in b.hits] == [h.id for h in a.hits] and a.total == b.total


def test_source_lang_domain_and_date_are_columns_tantivy_can_count(tmp_path):
    """The issue's fast fields: source, lang, domain and published are counted from
    tantivy's columns (aggregations), with no article loaded."""
    import tantivy

    from newssearch.engine.tantivy.engine import FOLDER

    docs = [Article(id=f"d{i}", title=f"Ferry timetable {i}", body="The ferry ran late.", source="Coast Post",
                    lang="en", published=T0 + timedelta(days=i),
                    url=f"https://{'news.coast.example' if i % 2 else 'lake.example'}/a/{i}") for i in range(5)]
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(docs)
        live = [p for p in (tmp_path / "ix").iterdir() if p.is_dir() and format_record(p)][-1]
    index = tantivy.Index.open(str(live / FOLDER))
    index.reload()
    s = index.searcher()
    aggs = {f: {"terms": {"field": f, "size": 10}} for f in ("source", "lang", "domains")}
    aggs["first"] = {"min": {"field": "published"}}
    r = s.aggregate(tantivy.Query.all_query(), aggs)
    counts = {f: {b["key"]: b["doc_count"] for b in r[f]["buckets"]} for f in ("source", "lang", "domains")}
    assert counts["source"] == {"Coast Post": 5} and counts["lang"] == {"en": 5}
    assert counts["domains"] == {"news.coast.example": 2, "coast.example": 2, "lake.example": 3}
    assert r["first"]["value"] is not None


def test_filters_over_many_values_find_what_one_value_finds(tmp_path):
    """Up to FEW_TERMS values a filter is a disjunction of term queries, past it a term set:
    both ways keep exactly the articles holding one of the values."""
    from newssearch.engine.tantivy.compile import FEW_TERMS

    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(articles(6))
        many = [f"Outlet {i}" for i in range(FEW_TERMS + 6)]
        for names in (["Coast Post"], ["Coast Post"] + many[:3], ["Coast Post"] + many):
            found = ix.search("harbour", source=names, limit=20)
            assert sorted(h.id for h in found.hits) == ["t1", "t3", "t5"], len(names)
            kept = ix.search("harbour", exclude_source=names, limit=20)
            assert sorted(h.id for h in kept.hits) == ["t0", "t2", "t4"], len(names)
        assert ix.search("harbour", source=many, limit=20).total == 0


def test_copies_of_every_article_are_its_near_copies_sharing_a_rare_key_page_after_page(tmp_path):
    """After the first page a searcher finds copies in a table of candidate pairs: every
    article's copies, page after page, are still exactly the near copies sharing a lookup
    key few articles hold (stories with edited copies, a stock paragraph many share, stubs)."""
    import random

    from newssearch import dedupe
    from newssearch.engine.tantivy.copies import MAX_KEY_SHARE

    rnd = random.Random(3)
    vocab = [f"w{j}" for j in range(400)] + "port strike union harbour minister talks crane cargo".split()
    stories = [[rnd.choice(vocab) for _ in range(rnd.choice([6, 30, 120]))] for _ in range(40)]
    stock = "markets closed higher on thursday as traders weighed the figures".split()
    arts = []
    for i in range(240):
        words = list(stories[i % 40])
        for _ in range(rnd.choice([0, 1, 3, 10, 60])):  # a few words edited, or many (not a copy)
            words[rnd.randrange(len(words))] = rnd.choice(vocab)
        if i % 3 == 0:
            words += stock
        arts.append(Article(id=f"c{i}", title=f"Item {i % 40}", body=" ".join(words), source="Desk"))
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(arts[:150])
        ix.add(arts[150:])
        eng = ix._searcher
        sigs = {a.id: eng.signature(a.id) for a in arts}

        def expected(live):
            held = [h for i in live for h in sigs[i][: dedupe.BUCKET_KEYS]]
            rare = {h for h in held if held.count(h) <= MAX_KEY_SHARE}
            keys = lambda sig: set(sig[: dedupe.BUCKET_KEYS]) & rare  # noqa: E731
            assert len(rare) < len(set(held))  # some key is held by too many to look up
            return {i: {o for o in live if keys(sigs[i]) & keys(sigs[o]) and dedupe.is_near_duplicate(sigs[i], sigs[o])}
                    for i in live}

        want = expected(list(sigs))
        assert sum(len(v) for v in want.values()) > 2 * len(want)  # copies beyond the articles themselves
        ids = list(sigs)
        for _round in range(2):  # the first page looks keys up, the later ones use the table
            for at in range(0, len(ids), 10):
                page = ids[at : at + 10]
                assert [set(c) for c in eng.copies([sigs[i] for i in page])] == [want[i] for i in page]
        assert eng.copy_index()._pairs is not None
        gone = {f"c{i}" for i in range(0, 240, 7)}
        ix.delete(ids=sorted(gone))
        eng = ix._searcher
        live = [i for i in ids if i not in gone]
        want = expected(live)
        for _round in range(2):
            for at in range(0, len(live), 10):
                page = live[at : at + 10]
                sig_page = [eng.signature(i) for i in page]
                assert [set(c) for c in eng.copies(sig_page)] == [want[i] for i in page]


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_candidates_sort_from_record_microseconds_as_from_their_datetimes(sort):
    """The searcher orders (score, record) pairs by the record's time in microseconds; the
    order must be the one every engine gives candidates (score, then date, then id),
    including ties, undated articles and times far apart or a microsecond apart."""
    import random
    from types import SimpleNamespace

    from newssearch.engine.base import Candidate
    from newssearch.engine.documents import order_key
    from newssearch.engine.tantivy.searcher import _row_order
    from newssearch.engine.tantivy.stored import from_micros

    rnd = random.Random(9)
    base = [0, 1, 1_700_000_000_000_000, 1_700_000_000_000_001, 253_402_300_799_999_999, 32_503_680_000_000_000]
    pairs = []
    for i in range(400):
        us = rnd.choice(base + [None, rnd.randrange(-10**16, 2 * 10**17)]) if i % 5 else base[i % len(base)]
        pairs.append((rnd.choice([0.0, 1.5, 2.25, rnd.random()]), SimpleNamespace(id=f"a{rnd.randrange(60)}", pub=us)))
    as_candidates = [Candidate(d.id, sc, from_micros(d.pub) if d.pub is not None else None, ()) for sc, d in pairs]
    want = sorted(range(len(pairs)), key=lambda i: order_key(sort)(as_candidates[i]))
    got = sorted(range(len(pairs)), key=lambda i: _row_order(sort)(pairs[i]))
    assert [order_key(sort)(as_candidates[i]) for i in got] == [order_key(sort)(as_candidates[i]) for i in want]


def test_filtered_copies_pass_the_filters_whatever_the_last_search_filtered(tmp_path):
    """A page's copies under filters skip the check for articles the last search with the
    same filters loaded; a search with other filters in between must not leak into them."""
    from newssearch.engine.base import SearchSpec
    from newssearch.query import parse_query

    story = ("The ferry operator said on Monday that crossings to the northern islands would stop for two weeks "
             "while engineers replace the ramp at the main harbour, and that freight would go by barge instead.")
    arts = [Article(id=f"f{i}", title="Ferry crossings halted for ramp repairs", body=story + f" Desk note {i}.",
                    source=src, published=T0 + timedelta(hours=i), lang="en")
            for i, src in enumerate(["Coast Post", "Coast Post", "Lake Wire", "Lake Wire", "Hill Times"])]
    arts += articles(30)
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(arts)
        res = ix.search("ferry ramp", source="Coast Post")
        assert [h.id for h in res.hits] == ["f1"] and res.hits[0].duplicate_ids == ("f0",)
        s = ix._searcher
        sig = s.signature("f0")
        coast, lake = SearchSpec(sources=["Coast Post"]), SearchSpec(sources=["Lake Wire"])
        tree = parse_query("ferry ramp").tree
        for searched, asked, want in [(lake, coast, {"f0", "f1"}), (coast, lake, {"f2", "f3"}),
                                      (coast, coast, {"f0", "f1"}), (lake, SearchSpec(), {f"f{i}" for i in range(5)})]:
            s.search(tree, searched)
            assert set(s.copies([sig], asked)[0]) == want


def test_a_tree_searched_again_with_other_filters_answers_as_a_fresh_searcher(tmp_path):
    """A searcher keeps the trees it planned (a sentence is counted, then searched): the
    same tree again, counted or under other filters, must answer as the first time, with
    the same warnings and expansions."""
    from newssearch.engine.base import SearchSpec
    from newssearch.query import parse_query

    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add(articles(40))

        def answers(s, tree):
            out = []
            for spec in (SearchSpec(), SearchSpec(sources=["Lake Wire"]), SearchSpec(sources=["Coast Post"], limit=3),
                         SearchSpec()):
                a = s.search(tree, spec)
                out.append((a.total, [c.id for c in a.candidates], a.warnings, a.expanded, a.expanded_terms,
                            s.count(tree)))
            return out
        for text in ("harbour strike", "dock*", "strike OR week"):
            tree = parse_query(text).tree
            again = answers(ix._searcher, tree)
            assert again[0] == again[-1]
            assert again[1][0] < again[0][0] and again[1][1] != again[2][1]  # the filters were applied each time
            assert answers(ix._engine.searcher(), tree) == again  # a searcher that planned nothing yet
