"""What every engine must do, through the Protocols only (see conftest.ENGINES)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from newssearch import Article, dedupe, parse_query
from newssearch.engine import engine_class, open_engine
from newssearch.engine.base import EngineAnswer, EngineSearcher, EngineWriter, SearchSpec
from newssearch.engine.documents import MAX_EXPANSION
from newssearch.errors import NewsSearchError
from newssearch.query import AnyOf, Word

from .conftest import docs

UTC = timezone.utc
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2025, 3, 20, tzinfo=UTC)

COPY_BODY = ("The regional council voted late on Tuesday to close the old swing bridge to lorries after "
             "engineers found cracks in two of its steel girders, and buses will be diverted through the "
             "harbour road until repairs are finished next spring, the council said in a statement.")

CORPUS = [
    Article(id="a1", title="Harbour strike halts ferries", body="Dockworkers began a harbour strike over night-shift pay.",
            source="Coast Post", published=T0, url="https://news.coastpost.example.com/2025/harbour-strike", lang="en"),
    Article(id="a2", title="Ferry timetable cut", body="The strike at the harbour left ferry passengers waiting.",
            source="Coast Post", published=T0 + timedelta(days=1), url="https://coastpost.example.com/ferry", lang="en"),
    Article(id="a3", title="Council closes swing bridge", body=COPY_BODY, source="Valley Herald",
            published=T0 + timedelta(days=2), url="https://valleyherald.example.org/bridge", lang="en"),
    Article(id="a4", title="Swing bridge closed to lorries", body=COPY_BODY + " Repairs start soon.", source="Lake Wire",
            published=T0 + timedelta(days=3), url="https://lakewire.example.net/bridge-closed", lang="en"),
    Article(id="a5", title="Goïta meets regional envoys", body="Colonel Assimi Goïta met envoys in the capital.",
            source="Sahel Desk", published=T0 + timedelta(days=4), url="https://saheldesk.example.com/goita", lang="en"),
    Article(id="a6", title="President addresses parliament", body="The president spoke about elections and presidents past.",
            source="Valley Herald", published=T0 + timedelta(days=5), lang="en"),
    Article(id="a7", title="Hafen Streik beendet", body="Der Streik im Hafen ist nach drei Tagen beendet worden.",
            source="Nordblatt", published=T0 + timedelta(days=6), lang="de"),
    Article(id="a8", title="שביתה בנמל", body="השביתה בנמל חיפה נמשכה יום שלישי והנוסעים חיכו.",
            source="Haifa Daily", published=T0 + timedelta(days=7), lang="he"),
    Article(id="a9", title="Election results delayed", body="Officials said the election count would take longer.",
            source="coast post", lang="en"),
]


@pytest.fixture()
def eng(make):
    return make(CORPUS)


def ids(answer: EngineAnswer):
    return [c.id for c in answer.candidates]


def find(eng, text, **spec):
    spec.setdefault("limit", 50)
    return eng.searcher().search(parse_query(text, now=NOW).tree, SearchSpec(**spec))


# ------------------------------------------------------------ the Protocols


def test_engine_objects_implement_the_protocols(eng):
    assert isinstance(eng.searcher(), EngineSearcher)
    with eng.writer() as w:
        assert isinstance(w, EngineWriter)
    assert eng.name in engine_class(eng.name).name


# ------------------------------------------------------------ writing


def test_upsert_counts_and_is_idempotent(make):
    eng = make()
    with eng.writer() as w:
        counts = w.upsert(docs(CORPUS[:3]))
    assert (counts.added, counts.updated, counts.unchanged) == (3, 0, 0) and w.changed
    with eng.writer() as w:
        again = w.upsert(docs(CORPUS[:3]))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert eng.searcher().doc_count() == 3


def test_same_id_twice_in_one_call_last_wins(make):
    eng = make()
    first = CORPUS[0]
    second = Article(id="a1", title="Lighthouse reopens", body="The lighthouse reopened.", source="Coast Post", lang="en")
    with eng.writer() as w:
        counts = w.upsert(docs([first, first, second]))
        assert w.doc_count() == 1
    assert (counts.added, counts.updated, counts.unchanged) == (1, 1, 1)
    assert ids(find(eng, "lighthouse")) == ["a1"] and find(eng, "strike").total == 0


def test_changed_content_replaces_the_stored_article(eng):
    with eng.writer() as w:
        counts = w.upsert(docs([Article(id="a2", title="Ferry timetable restored", body="Ferries run again.",
                                        source="Coast Post", published=T0, lang="en")]))
    assert counts.updated == 1
    s = eng.searcher()
    assert s.doc_count() == len(CORPUS)
    assert s.fetch(["a2"])["a2"].title == "Ferry timetable restored"


def test_delete_by_ids_sources_and_date(eng):
    with eng.writer() as w:
        assert w.delete(ids=["a1", "nope"]) == 1
        assert w.delete(ids=[]) == 0
        assert w.delete(sources=["COAST POST"]) == 2  # a2 and a9, whatever the case
        # before is exclusive and undated articles are never "before"
        assert w.delete(before=T0 + timedelta(days=3)) == 1  # a3
        assert w.delete(sources=["Lake Wire"], before=T0) == 0  # every criterion must hold
        assert w.doc_count() == len(CORPUS) - 4
    assert sorted(eng.searcher().fetch([a.id for a in CORPUS])) == ["a4", "a5", "a6", "a7", "a8"]


def test_an_error_in_the_block_cancels_everything(eng):
    with pytest.raises(RuntimeError):
        with eng.writer() as w:
            w.upsert(docs([Article(id="new", title="Lighthouse", body="Lighthouse keeper", source="S")]))
            w.delete(ids=["a1"])
            raise RuntimeError("boom")
    assert not w.changed
    s = eng.searcher()
    assert s.doc_count() == len(CORPUS) and find(eng, "lighthouse").total == 0 and "a1" in s.fetch(["a1"])
    eng.verify(len(CORPUS))


def test_a_searcher_sees_a_commit_only_when_asked_again(eng):
    assert eng.searcher().doc_count() == len(CORPUS)
    with eng.writer() as w:
        w.delete(ids=["a1"])
    assert eng.searcher().doc_count() == len(CORPUS) - 1


def test_clone_is_isolated_from_its_source(make):
    src = make(CORPUS)
    cls = engine_class(make.engine)
    copy = cls.clone(src.where, make.tmp_path / "clone")
    try:
        with copy.writer() as w:
            w.delete(sources=["Coast Post"])
            w.upsert(docs([Article(id="c1", title="Lighthouse", body="Lighthouse keeper", source="S")]))
        assert copy.searcher().doc_count() == len(CORPUS) - 3 + 1  # a1, a2 and a9 ("coast post")
        fresh = open_engine(src.where)
        try:
            assert fresh.searcher().doc_count() == len(CORPUS)
            assert fresh.searcher().search(parse_query("lighthouse").tree, SearchSpec()).total == 0
        finally:
            fresh.close()
    finally:
        copy.close()


def test_verify_checks_count_from_a_cold_open(eng):
    eng.verify(len(CORPUS))
    with pytest.raises(NewsSearchError, match="verification"):
        eng.verify(len(CORPUS) + 1)


# ------------------------------------------------------------ the query language


@pytest.mark.parametrize("text, expected", [
    ("strike", {"a1", "a2"}),
    ("harbour strike", {"a1", "a2"}),
    ("ferry OR bridge", {"a1", "a2", "a3", "a4"}),
    ("strike -ferry", set()),
    ("harbour NOT ferries", {"a3", "a4"}),
    ("(bridge OR president) lorries", {"a3", "a4"}),
    ("title:bridge", {"a3", "a4"}),
    ("title:ferry", {"a1", "a2"}),
    ("body:dockworkers", {"a1"}),
    ('"harbour strike"', {"a1"}),
    ('"strike harbour"', set()),
    ('"strike harbour"~2', {"a2"}),
    ("night-shift", {"a1"}),
    ("source:\"coast post\"", {"a1", "a2", "a9"}),
    ("lang:de", {"a7"}),
    ("site:coastpost.example.com", {"a1", "a2"}),
    ("site:example.com strike", {"a1", "a2"}),
    ("inurl:bridge", {"a3", "a4"}),
    ("Goita", {"a5"}),
    ("goïta", {"a5"}),
    ("elect*", {"a6", "a9"}),
    ("presidents*", {"a6"}),
    ("Goitta~", {"a5"}),
    ("Gooitta~2", {"a5"}),
    ("Streik", {"a7"}),
    ("נמל", {"a8"}),
    ("after:2025-03-05 before:2025-03-07", {"a5", "a6"}),
    ("strike when:30d", {"a1", "a2"}),
])
def test_query_constructs_find_the_same_articles(eng, text, expected):
    answer = find(eng, text)
    assert set(ids(answer)) == expected, text
    assert answer.total == len(expected)


def test_too_short_prefix_is_searched_as_a_word_with_a_warning(eng):
    answer = find(eng, "[a*")
    assert any("too short" in w for w in answer.warnings)


def test_expansion_is_capped_and_reported(make):
    words = [f"zq{a}{b}" for a in "abcdefghij" for b in "abcdefghij"][: MAX_EXPANSION + 15]
    eng = make([Article(id="w", title="many", body=" ".join(words), source="S", lang="en")])
    answer = find(eng, "zq*")
    assert answer.total == 1
    assert answer.expanded == {"zq*": MAX_EXPANSION}
    assert len(answer.expanded_terms) == MAX_EXPANSION
    assert any("too many words" in w for w in answer.warnings)
    assert eng.searcher().explain(parse_query("zq*").tree).expanded == {"zq*": MAX_EXPANSION}


def test_any_of_needs_min_match_children(eng):
    tree = AnyOf((Word("harbour"), Word("strike"), Word("dockworkers")), min_match=2)
    answer = eng.searcher().search(tree, SearchSpec(limit=10))
    assert set(ids(answer)) == {"a1", "a2"}
    assert ids(answer)[0] == "a1"  # holds all three
    assert eng.searcher().count(tree) == 2


def test_count_ignores_filters_and_checks_phrases(eng):
    s = eng.searcher()
    assert s.count(parse_query("strike").tree) == 2
    assert s.count(parse_query('"harbour strike"').tree) == 1


# ------------------------------------------------------------ filters, sorts, facets


def test_author_scope_and_filter(make):
    """author: and SearchSpec.authors match every word of a name in the byline, folded."""
    eng = make([
        Article(id="b1", title="Harbour strike", body="Ferries stopped.", author="By Jane SMITH and Tom Lee", source="S"),
        Article(id="b2", title="Harbour strike", body="Cranes stopped.", author="Zoë Ndiaye", source="S"),
        Article(id="b3", title="Harbour strike", body="Trains stopped.", source="S"),
    ])
    assert set(ids(find(eng, 'author:"jane smith"'))) == {"b1"}
    assert set(ids(find(eng, "author:zoe"))) == {"b2"}
    assert ids(find(eng, 'author:"jane ndiaye"')) == []
    assert set(ids(find(eng, "harbour -author:lee"))) == {"b2", "b3"}
    assert set(ids(find(eng, "harbour", authors=["tom lee", "NDIAYE"]))) == {"b1", "b2"}
    assert ids(find(eng, "harbour", authors=["nobody"])) == []


def test_filters(eng):
    assert set(ids(find(eng, "strike OR bridge OR election", sources=["coast post"]))) == {"a1", "a2", "a9"}
    assert set(ids(find(eng, "strike OR bridge", exclude_sources=["Coast Post"]))) == {"a3", "a4"}
    assert set(ids(find(eng, "strike OR bridge", since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)))) == {"a2", "a3"}
    assert set(ids(find(eng, "strike OR streik", lang="de"))) == {"a7"}
    assert set(ids(find(eng, "strike OR bridge", domains=["www.coastpost.example.com"]))) == {"a1", "a2"}
    assert set(ids(find(eng, "strike OR bridge", exclude_domains=["coastpost.example.com"]))) == {"a3", "a4"}
    assert set(ids(find(eng, "strike", exclude_ids=["a1"]))) == {"a2"}
    # undated articles fail any date bound
    assert find(eng, "delayed").total == 1 and find(eng, "delayed", since=T0 - timedelta(days=900)).total == 0


def test_sorts_and_undated_last(eng):
    text = "strike OR bridge OR election OR president"
    newest = ids(find(eng, text, sort="newest"))
    oldest = ids(find(eng, text, sort="oldest"))
    assert newest == ["a6", "a4", "a3", "a2", "a1", "a9"]
    assert oldest == ["a1", "a2", "a3", "a4", "a6", "a9"]
    rel = find(eng, text).candidates
    keys = [(-c.score, -(c.published.timestamp() if c.published else float("-inf")), c.id) for c in rel]
    assert keys == sorted(keys)


def test_equal_scores_go_newest_first_then_by_id_and_pages_never_overlap(make):
    arts = [Article(id=f"t{i:02d}", title="tie", body="identical words about the harbour", source="S", lang="en",
                    published=T0 + timedelta(days=i % 3)) for i in range(12)]
    eng = make(arts[:6], arts[6:])
    expected = [a.id for a in sorted(arts, key=lambda a: (-a.published.timestamp(), a.id))]
    s = eng.searcher()
    for sort in ("relevance", "newest"):
        pages = [s.search(parse_query("tie").tree, SearchSpec(sort=sort, offset=o, limit=4)) for o in (0, 4, 8)]
        assert all(p.total == 12 for p in pages)
        assert [c.id for o, p in zip((0, 4, 8), pages) for c in p.candidates[o : o + 4]] == expected, sort


def test_facets_count_every_match_not_the_window(eng):
    answer = find(eng, "strike OR bridge OR delayed", facets=("source", "lang", "day", "month"), limit=1)
    assert answer.facets["source"] == {"Coast Post": 2, "Valley Herald": 1, "Lake Wire": 1, "coast post": 1}
    assert answer.facets["lang"] == {"en": 5} and answer.total == 5 and len(answer.candidates) == 1
    assert answer.facets["day"] == {"2025-03-01": 1, "2025-03-02": 1, "2025-03-03": 1, "2025-03-04": 1}
    assert answer.facets["month"] == {"2025-03": 4}


# ------------------------------------------------------------ copies, related, stored fields


def test_copies_are_found_filtered_and_never_deleted_ones(eng):
    s = eng.searcher()
    sig = s.signature("a3")
    assert sig == dedupe.signature(CORPUS[2].title, CORPUS[2].body)
    assert set(s.copies([sig])[0]) == {"a3", "a4"}
    assert set(s.copies([sig], SearchSpec(sources=["Lake Wire"]))[0]) == {"a4"}
    assert s.copies([]) == [] and s.signature("nope") is None
    with eng.writer() as w:
        w.delete(ids=["a4"])
    assert eng.searcher().copies([sig])[0] == ["a3"]


def test_more_like_ranks_the_closest_first_and_leaves_out_itself(eng):
    s = eng.searcher()
    answer = s.more_like("a3", SearchSpec(limit=5))
    assert ids(answer)[0] == "a4" and "a3" not in ids(answer)
    assert "a4" not in ids(s.more_like("a3", SearchSpec(limit=5, exclude_ids=["a4"])))
    assert s.more_like("nope", SearchSpec()) is None


def test_fetch_round_trips_every_stored_field(eng):
    got = eng.searcher().fetch(["a1", "a9", "missing"])
    assert sorted(got) == ["a1", "a9"]
    a1 = got["a1"]
    assert (a1.title, a1.source, a1.url, a1.lang) == (CORPUS[0].title, "Coast Post", CORPUS[0].url, "en")
    assert a1.published == T0 and a1.published.tzinfo is not None
    assert got["a9"].published is None


def test_ids_with_prefix_resolves_short_ids_and_skips_deleted_ones(eng):
    s = eng.searcher()
    assert s.ids_with_prefix("a", limit=3) == ["a1", "a2", "a3"]
    assert s.ids_with_prefix("a8") == ["a8"]
    assert s.ids_with_prefix("zz") == []
    with eng.writer() as w:
        w.delete(ids=["a8"])
    assert eng.searcher().ids_with_prefix("a8") == []


def test_sources_and_stats(eng):
    s = eng.searcher()
    rows = s.sources()
    assert [(r.name, r.articles) for r in rows[:2]] == [("Coast Post", 2), ("Valley Herald", 2)]
    first = next(r for r in rows if r.name == "Coast Post")
    assert (first.first, first.last) == (T0, T0 + timedelta(days=1))
    st = s.stats()
    assert st.articles == len(CORPUS) and st.engine == eng.name
    assert st.languages == {"en": 7, "de": 1, "he": 1}
    assert (st.oldest, st.newest) == (T0, T0 + timedelta(days=7))


def test_vocabulary_for_did_you_mean(eng):
    s = eng.searcher()
    assert s.term_frequency("ferri") > 0 or s.term_frequency("ferry") > 0
    assert s.term_frequency("zzzz") == 0
    near = s.similar_terms("harbor", max_distance=1)
    assert near and near[0][0] == 1 and near[0][2] == "harbour"
    assert s.surface_of("harbour").lower() == "harbour"


def test_explain_is_text(eng):
    compiled = eng.searcher().explain(parse_query('"harbour strike" elect*').tree)
    assert isinstance(compiled.text, str) and compiled.text
