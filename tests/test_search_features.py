"""The query surface through the library: operators, dates, filters, sorts, facets,
snippets, did-you-mean, near-duplicates, related articles, sources, explain, pages."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest

import newssearch
from newssearch import ArticleNotFound, BadQuery

from .newsroom import NOW, newsroom

UTC = timezone.utc


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    path = tmp_path_factory.mktemp("room") / "ix"
    with newssearch.open_index(path, create=True) as ix:
        ix.add(newsroom())
    ix = newssearch.open_index(path)
    yield ix
    ix.close()


def ids(results):
    return [h.id for h in results]


# ---------------------------------------------------------------- language


def test_prefix_finds_word_forms_and_reports_expansion(room):
    res = room.search("elect*", collapse=False)
    assert set(ids(res)) == {"election-1", "elector-1"}
    assert "[[Election]]" in res.hits[0].snippet or "[[Electors]]" in res.hits[0].snippet
    exp = room.explain("elect*")
    assert exp.expanded and all(0 < n <= exp.expansion_cap for n in exp.expanded.values())


def test_fuzzy_word_finds_a_misspelling(room):
    assert ids(room.search("Goitta~")) == ["goita-1"]
    assert room.search("Goitta").total == 0  # without ~ the word is exact


def test_phrase_slop(room):
    assert room.search('"suspension bridge"', collapse=False).total == 3
    assert room.search('"bridge tarnveld"').total == 0
    assert room.search('"reopened bridge"~3', collapse=False).total == 3


def test_url_and_site_scopes(room):
    assert ids(room.search("inurl:harbour-strike")) == ["harbour-1"]
    # site: matches the host and its subdomains; www. is ignored
    assert set(ids(room.search("site:coastal.example.net", collapse=False))) == {"copy-2", "harbour-1"}
    assert set(ids(room.search("site:valleyherald.example.org bridge", collapse=False))) == {"copy-1", "toll-1"}


def test_lowercase_operators_in_a_sentence_are_words(room):
    # "and", "not" are searched as words: the sentence still finds the harbour strike
    res = room.search("dock workers and ferry crews did not work")
    assert res.hits and res.hits[0].id == "harbour-2"


# ---------------------------------------------------------------- dates


def test_when_since_until_date_range_against_now(room):
    assert set(ids(room.search("bridge when:24h", now=NOW, collapse=False))) == {"wire-1", "copy-1", "copy-2", "toll-1"}
    assert ids(room.search("bridge when:7h", now=NOW, collapse=False)) == ["copy-2", "copy-1", "wire-1"][::-1] or set(
        ids(room.search("bridge when:7h", now=NOW, collapse=False))
    ) == {"wire-1", "copy-1", "copy-2"}
    assert set(ids(room.search("election* OR elector* date:[2025-07-01 TO 2025-07-31]", now=NOW))) == {
        "election-1", "elector-1"}
    assert ids(room.search("coup since:2025-08-07 until:2025-08-07", now=NOW)) == ["coup-1", "coup-2"]
    assert room.search("coup before:2025-08-07", now=NOW).total == 0
    assert room.search("coup after:2025-08-08", now=NOW).total == 0


def test_relative_words(room):
    yesterday = room.search("bridge date:yesterday", now=NOW)
    assert ids(yesterday) == ["toll-1"]
    assert room.search("bridge date:today", now=NOW, collapse=False).total == 3
    last_month = room.search("elect*", now=NOW)  # sanity: both are in July
    assert last_month.total == 2
    assert room.search('elect* since:"last month"', now=NOW).total == 2
    assert room.search("elect* since:this month", now=NOW).total == 0


def test_relative_date_without_now_is_a_warning_not_an_error(room):
    res = room.search("bridge when:7d")
    assert any("needs a reference time" in w for w in res.warnings)
    assert res.total >= 1


def test_date_only_query_lists_that_span(room):
    res = room.search("when:4h", now=NOW, collapse=False)
    assert set(ids(res)) == {"wire-1", "copy-1", "copy-2"}


# ---------------------------------------------------------------- filters and sorts


def test_source_and_exclude_source_and_domain_filters(room):
    everything = room.search("bridge OR strike", collapse=False, limit=20)
    only = room.search("bridge OR strike", source=["VALLEY HERALD", "northern wire"], collapse=False, limit=20)
    assert {h.source for h in only} == {"Valley Herald", "Northern Wire"}
    without = room.search("bridge OR strike", exclude_source="Coastal Times", collapse=False, limit=20)
    assert "Coastal Times" not in {h.source for h in without}
    assert without.total == everything.total - 2
    on = room.search("bridge OR strike", domain="example.com", collapse=False, limit=20)
    assert {h.url.split("/")[2] for h in on} == {"wire.example.com"}
    assert room.search("bridge", lang="he").total == 0 and room.search("הגשר", lang="he").total == 1


def test_sorts_newest_oldest_fresh_and_ties(room):
    q = "coup OR bridge OR lantern OR strike"
    newest = room.search(q, sort="newest", collapse=False, limit=20)
    dates = [h.published for h in newest if h.published]
    assert dates == sorted(dates, reverse=True)
    assert newest.hits[-1].published is None  # undated last
    oldest = room.search(q, sort="oldest", collapse=False, limit=20)
    dated = [h.published for h in oldest if h.published]
    assert dated == sorted(dated)
    fresh = room.search("lantern", sort="fresh", now=NOW)
    relevance = room.search("lantern")
    assert fresh.total == relevance.total
    # the undated article can never come first by freshness
    assert fresh.hits[-1].id == "undated-1"
    # repeated runs give the same order
    assert ids(room.search(q, sort="fresh", now=NOW)) == ids(room.search(q, sort="fresh", now=NOW))


def test_fresh_prefers_recent_among_equally_relevant(room):
    res = room.search("coup", sort="fresh", now=NOW + timedelta(days=30))
    plain = room.search("coup")
    assert set(ids(res)) == set(ids(plain)) == {"coup-1", "coup-2"}
    # coup-1 is two hours newer; a month later that alone can flip close scores
    assert res.hits[0].score >= res.hits[1].score


def test_bad_options_are_bad_queries(room):
    with pytest.raises(BadQuery):
        room.search("bridge", sort="random")
    with pytest.raises(BadQuery):
        room.search("bridge", facets=["colour"])


# ---------------------------------------------------------------- facets


def test_facets_count_the_whole_matching_set(room):
    res = room.search("bridge OR strike OR coup", facets=["source", "day", "week", "month"], limit=1, collapse=False)
    assert len(res.hits) == 1
    assert sum(res.facets["source"].values()) == res.total
    assert res.facets["source"]["Valley Herald"] == 2
    assert sum(res.facets["day"].values()) == res.total
    assert res.facets["day"]["2025-08-13"] == 3
    assert res.facets["month"] == {"2025-08": res.total}
    assert all(k.startswith("2025-W") for k in res.facets["week"])


def test_facets_true_means_source_and_day_and_undated_are_skipped(room):
    res = room.search("lantern", facets=True)
    assert set(res.facets) == {"source", "day"}
    assert sum(res.facets["source"].values()) == res.total == 2
    assert sum(res.facets["day"].values()) == 1  # one lantern article has no date


# ---------------------------------------------------------------- snippets


def test_snippet_html_escapes_article_markup(room):
    hit = room.search("lantern schedule").hits[0]
    assert hit.id == "markup-1"
    assert "<script>" not in hit.snippet_html
    assert "&lt;script&gt;" in hit.snippet_html
    assert "<mark>lantern</mark>" in hit.snippet_html
    assert "[[lantern]]" in hit.snippet and "<mark>" not in hit.snippet


# ---------------------------------------------------------------- did-you-mean


def test_suggestion_from_the_vocabulary(room):
    res = room.search("Goitta")
    assert res.total == 0
    assert res.suggestion == "goita"
    res = room.search("tarnveldd bridge")
    assert res.suggestion == "tarnveld bridge"
    assert room.search("bridge").suggestion is None


# ---------------------------------------------------------------- near-duplicates


def test_copies_collapse_into_one_hit(room):
    res = room.search("tarnveld bridge reopens")
    firsts = [h for h in res if h.id in {"wire-1", "copy-1", "copy-2"}]
    assert len(firsts) == 1
    assert firsts[0].duplicates == 2
    assert set(firsts[0].duplicate_ids) | {firsts[0].id} == {"wire-1", "copy-1", "copy-2"}
    every = room.search("tarnveld bridge reopens", collapse=False)
    assert {"wire-1", "copy-1", "copy-2"} <= set(ids(every))
    assert all(h.duplicates == 0 for h in every)
    assert res.total == every.total  # total counts every matching article


def test_copies_count_even_when_a_filter_keeps_one(room):
    res = room.search("tarnveld", source="Coastal Times")
    assert ids(res) == ["copy-2"]
    assert res.hits[0].duplicates == 0  # its copies are from other outlets, filtered out


# ---------------------------------------------------------------- related


def test_related_excludes_itself_and_its_copies(room):
    res = room.related("wire-1", limit=5)
    got = ids(res)
    assert "wire-1" not in got and "copy-1" not in got and "copy-2" not in got
    assert got[0] == "toll-1"
    assert len(got) <= 5
    with pytest.raises(ArticleNotFound):
        room.related("no-such-id")


# ---------------------------------------------------------------- long queries


def test_sentence_with_a_missing_word_falls_back_to_most_words(room):
    text = "why did the dock workers in Port Elira strike over the unsafe night shifts in winter"
    res = room.search(text)
    assert res.hits and res.hits[0].id == "harbour-1"
    assert any("every word" in w for w in res.warnings)
    # the all-words search alone would have found nothing: "winter" is nowhere
    assert room.search("dock workers Elira night shifts winter").total >= 1


def test_short_queries_stay_strict(room):
    assert room.search("harbour lantern").total == 0


# ---------------------------------------------------------------- sources, pages, explain


def test_sources_counts_and_date_range(room):
    rows = {s.name: s for s in room.sources()}
    assert rows["Valley Herald"].articles == 5
    assert rows["Sahel Daily"].first == NOW - timedelta(days=6)
    assert rows["Sahel Daily"].last == NOW - timedelta(days=5)
    assert [s.articles for s in room.sources()] == sorted((s.articles for s in room.sources()), reverse=True)


def test_pages_have_an_exact_total_and_do_not_overlap(room):
    q = "the OR a"
    first = room.search(q, limit=3, page=1, collapse=False)
    second = room.search(q, limit=3, page=2, collapse=False)
    assert first.total == second.total
    assert not set(ids(first)) & set(ids(second))
    assert [h.rank for h in second] == [4, 5, 6]


def test_explain_shows_tree_compiled_and_warnings(room):
    exp = room.explain('(bridge OR ferry) -toll "coup plot"~2 elect* when:1y (', now=NOW)
    assert "Or" in exp.tree and "Not" in exp.tree and "Phrase 'coup plot'" in exp.tree
    assert "DateRange" in exp.tree and "Prefix 'elect'" in exp.tree
    assert "body:bridg" in exp.compiled  # stemmed
    assert any("unclosed" in w for w in exp.warnings)


def test_expansion_is_capped_with_a_warning(tmp_path):
    from newssearch import Article
    from newssearch.engine.documents import MAX_EXPANSION

    letters = "abcdefghij"
    words = ["zq" + a + b for a in letters for b in letters][: MAX_EXPANSION + 20]
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(id="w", title="many", body=" ".join(words), source="S")])
        res = ix.search("zq*")
        assert res.total == 1
        assert any("too many words" in w for w in res.warnings)
        assert ix.explain("zq*").expanded["zq*"] == MAX_EXPANSION


def test_phrase_search_checks_positions_exactly(room):
    # every candidate's positions are checked: exact total, no warning
    res = room.search('"suspension bridge"', collapse=False)
    assert res.total == 3 and not res.warnings
    # both words in the same articles but not side by side: not the phrase
    assert room.search('"bridge suspension"', collapse=False).total == 0


def test_sentence_fallback_counts_across_segments(tmp_path):
    from newssearch import Article

    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(id="a", title="Harbour cranes idle", body="The cranes stood idle at the harbour.", source="S")])
        ix.add([Article(id="b", title="Harbour pilots return", body="Pilots returned to the harbour on Friday.", source="S")])
        ix.add([Article(id="c", title="Festival lanterns", body="Lanterns lit the old town.", source="S")])
        res = ix.search("why were the harbour cranes and pilots idle on friday evening")
        assert set(ids(res)) == {"a", "b"}
        assert res.total == 2
        assert res.hits[0].id in {"a", "b"}


def test_plain_and_html_snippets_show_the_same_passage():
    from newssearch.analysis import query_terms
    from newssearch.snippets import make_snippet, make_snippet_html, make_snippets

    filler = "The council met again on Tuesday evening to go over the budget. " * 6
    text = filler + 'Dock <b>workers</b> & crane "operators" voted; the strike at the port ended. ' + filler
    for query in ("strike port", "crane workers", "nothing here", "budget"):
        terms = set(query_terms(query))
        plain, marked = make_snippets(text, terms)
        assert (plain, marked) == (make_snippet(text, terms), make_snippet_html(text, terms))
        # the same words, marked the same way, in both forms
        assert plain.count("[[") == marked.count("<mark>")
        assert "<b>" not in marked and ("&lt;b&gt;" in marked) == ("<b>" in plain)
    plain, marked = make_snippets(text, set(query_terms("strike port")))
    assert "[[strike]]" in plain and "<mark>port</mark>" in marked and plain.startswith("\u2026")


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_sentence_fallback_says_why_and_counts_only_when_the_filtered_total_is_low(tmp_path, engine, monkeypatch):
    """A sentence of 4+ words falls back when fewer than 10 articles hold every word: "too
    few" when that is so without the filters too, else the number the filters left. The
    unfiltered count only runs when the filtered total is that low."""
    from newssearch import Article

    if engine == "tantivy":
        pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")
    arts = [Article(id=f"all{i}", title=f"Canal report {i}", body="barge lock keeper ferry schedule",
                    source="North Desk" if i < 8 else "South Desk") for i in range(12)]
    arts += [Article(id=f"some{i}", title=f"Canal note {i}", body="barge lock keeper timetable",
                     source="South Desk") for i in range(6)]
    arts += [Article(id=f"rare{i}", title="Canal notice", body="barge lock keeper ferry lantern", source="North Desk")
             for i in range(3)]
    with newssearch.open_index(tmp_path / "ix", create=True, engine=engine) as ix:
        ix.add(arts)
        counted = []
        searcher = ix._searcher
        real_count = searcher.count
        monkeypatch.setattr(searcher, "count", lambda tree: counted.append(tree) or real_count(tree))

        res = ix.search("barge lock keeper ferry")  # 15 hold every word
        assert res.total == 15 and not any("every word" in w for w in res.warnings) and not counted

        res = ix.search("barge lock keeper ferry", source="South Desk")  # 4 of them here, 15 in all
        assert len(counted) == 1
        assert any(w.startswith("4 articles have every word") for w in res.warnings)
        assert res.total == 10  # the 4, and the 6 with three of the four words

        res = ix.search("barge lock keeper lantern")  # 3 in all: too few, filters or not
        assert len(counted) == 2
        assert any(w.startswith("too few articles have every word") for w in res.warnings)
        assert res.hits[0].id.startswith("rare")  # the articles with every word first
