"""Hostile queries and arguments: each case states what a user gets, never a traceback.

Every query here runs on a 5,000-article index (tests/hostile.py). Times are checked
only against a generous ceiling (CEILING), ten times the 250 ms target, so a noisy
machine never fails them while the attacks found earlier (20 s, 40 s) would;
benchmarks/hostile_queries.py reports the real figures side by side with a plain query.
"""
from __future__ import annotations

import resource
import time
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from newssearch import open_index
from newssearch.cli import main
from newssearch.errors import BadQuery, NewsSearchError
from newssearch.query import MAX_DEPTH, MAX_EXPANDING, MAX_PHRASE_WORDS, MAX_QUERY_TERMS, parse_query

from . import hostile

CEILING = 2.5
"""Seconds; the target is 250 ms (benchmarks/hostile_queries.py), this only catches a runaway."""


@pytest.fixture(scope="module")
def ix_path(tmp_path_factory):
    return hostile.build(tmp_path_factory.mktemp("hostile") / "ix")


@pytest.fixture(scope="module")
def ix(ix_path):
    with open_index(ix_path) as index:
        yield index


def timed(ix, text, **kw):
    t0 = time.perf_counter()
    results = ix.search(text, **kw)
    took = time.perf_counter() - t0
    assert took < CEILING, f"{text[:60]!r}... took {took:.2f}s"
    return results


def cli(*args):
    res = CliRunner().invoke(main, list(args))
    assert "Traceback" not in res.output, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    return res


# ------------------------------------------------------------------ nesting


@pytest.mark.parametrize("depth", [247, 3_000, 10_000])
def test_deep_parentheses_search_the_inner_words_with_a_warning(ix, depth):
    """Expected: the words inside are searched; one warning says deeper nesting was ignored."""
    res = timed(ix, "(" * depth + "coup" + ")" * depth)
    assert res.total > 0
    assert res.total == ix.search("coup").total
    assert any(f"deeper than {MAX_DEPTH}" in w for w in res.warnings), res.warnings


def test_deep_nesting_with_words_at_every_level_keeps_its_meaning_up_to_the_limit(ix):
    """Expected: nesting within MAX_DEPTH means what it says; past it groups are flattened."""
    shallow = "(coup OR " * 3 + "junta" + ")" * 3
    assert ix.search(shallow).total == ix.search("coup OR junta").total
    deep = "(coup " * 40 + "junta" + ")" * 40
    res = timed(ix, deep)
    assert res.total == ix.search("coup junta").total


def test_the_issue_query_exits_0_on_the_command_line(ix_path):
    """Expected: the reported attack (3,000 parentheses) prints results and exits 0."""
    res = cli("query", "--index", str(ix_path), "(" * 3000 + "coup" + ")" * 3000)
    assert res.exit_code == 0, res.output
    assert "results for" in res.stdout


@pytest.mark.parametrize("text", [
    "title:(" * 2_000 + "coup" + ")" * 2_000,
    "title:" * 986 + "coup",
    "NOT " * 986 + "junta coup",
    "- " * 10 + "-" * 3_000 + "coup",
    "NOT (" * 1_000 + "junta" + ")" * 1_000 + " coup",
])
def test_chains_of_scopes_and_negations_never_recurse(ix, text):
    """Expected: a search (or a named BadQuery), never RecursionError."""
    try:
        res = timed(ix, text)
    except BadQuery as exc:
        assert str(exc)
    else:
        assert res.total >= 0


def test_negation_chains_cancel_in_pairs():
    """Expected: NOT NOT x is x, an odd chain excludes."""
    assert parse_query("NOT " * 1_000 + "a b").describe() == "(a AND b)"
    assert parse_query("NOT " * 999 + "a b").describe() == "(NOT a AND b)"


# ------------------------------------------------------------------ size and work


def test_a_100k_character_query_is_searched_in_part_with_a_warning(ix):
    """Expected: the first MAX_QUERY_TERMS words are searched; a warning says so."""
    text = " ".join(["coup"] * 20_000)
    assert len(text) > 99_000
    res = timed(ix, text)
    assert res.total == ix.search("coup").total
    assert any(f"more than {MAX_QUERY_TERMS} words" in w for w in res.warnings), res.warnings


def test_a_10000_term_or_list_is_cut_to_the_term_budget(ix):
    words = hostile.vocabulary()[:10_000]
    text = " OR ".join(words * (10_000 // len(words) + 1))
    res = timed(ix, text)
    assert res.total > 0
    assert any("more than" in w for w in res.warnings)


def test_a_phrase_of_one_common_word_10000_times_is_cut(ix):
    """Expected (found by an attack run: 20 s and 5.35 GB): the phrase is cut to MAX_PHRASE_WORDS."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = timed(ix, '"' + " ".join([hostile.COMMON] * 10_000) + '"')
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert any(f"first {MAX_PHRASE_WORDS}" in w for w in res.warnings), res.warnings
    assert grown_mb < 200, f"peak RSS grew by {grown_mb:.0f} MB"


def test_an_or_of_1000_fuzzy_words_expands_only_a_few(ix):
    """Expected (attack run: 40.8 s): MAX_EXPANDING words expand, the others are searched as typed."""
    vocab = hostile.vocabulary()[11:1_011]
    res = timed(ix, " OR ".join(w + "~" for w in vocab))
    assert res.total > 0
    assert any(f"more than {MAX_EXPANDING} prefix or fuzzy" in w for w in res.warnings)


def test_fuzzy_and_prefix_on_every_word(ix):
    vocab = hostile.vocabulary()[11:75]
    timed(ix, " ".join(w + "~2" for w in vocab))
    timed(ix, " OR ".join(w[:2] + "*" for w in vocab))


# ------------------------------------------------------------------ characters


@pytest.mark.parametrize("text", [
    "coup\x00junta", "coup\ud800", "\u202ecoup\u202c", "\u2067coup\u2069 \u200fjunta",
    "coup\x1b[2Jjunta", "\udcff", "coup\x7f",
])
def test_control_characters_surrogates_and_bidi_controls_are_spaces(ix, text):
    """Expected: they separate words like a space, with a warning; or a BadQuery when nothing is left."""
    try:
        res = timed(ix, text)
    except BadQuery as exc:
        assert "nothing" in str(exc)
        return
    assert any("control characters" in w for w in res.warnings)
    assert res.total > 0


def test_a_star_alone_is_a_named_error(ix, ix_path):
    with pytest.raises(BadQuery, match="nothing searchable"):
        ix.search("*")
    res = cli("query", "--index", str(ix_path), "*")
    assert res.exit_code == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error:")


# ------------------------------------------------------------------ pages, limits, types


def test_a_page_far_past_the_end_is_empty_with_a_warning(ix):
    res = timed(ix, "coup", page=10**9)
    assert res.hits == () and res.total > 0
    assert any("past the end" in w for w in res.warnings), res.warnings
    last = -(-res.total // 10)
    res = ix.search("coup", page=last + 1)
    assert res.hits == ()
    assert any("past the end" in w for w in res.warnings), res.warnings


@pytest.mark.parametrize("limit", [0, -1, 10**9])
def test_limits_out_of_range_are_named_errors(ix, ix_path, limit):
    with pytest.raises(BadQuery, match="limit must be between"):
        ix.search("coup", limit=limit)
    res = cli("query", "--index", str(ix_path), "coup", "--limit", str(limit))
    assert res.exit_code in (1, 2)
    assert "limit" in res.stderr.lower()


@pytest.mark.parametrize("kwargs, message", [
    (dict(limit=2.5), "limit must be a whole number"),
    (dict(limit="10"), "limit must be a whole number"),
    (dict(limit=None), "limit must be a whole number"),
    (dict(limit=True), "limit must be a whole number"),
    (dict(page="2"), "page must be a whole number"),
    (dict(since=20200101), "since must be a datetime, a date or date text"),
    (dict(until=b"2020"), "until must be a datetime, a date or date text"),
    (dict(since="not a date at all"), "since="),
    (dict(source=b"x"), "text"),
    (dict(source=[1, 2]), "text"),
    (dict(lang=3), "lang must be text"),
    (dict(sort=None), "unknown sort"),
])
def test_wrong_argument_types_are_named_errors(ix, kwargs, message):
    with pytest.raises(BadQuery, match=message):
        ix.search("coup", **kwargs)


@pytest.mark.parametrize("text", [b"coup", None, 42, ["coup"]])
def test_a_query_that_is_not_text_is_a_named_error(ix, text):
    with pytest.raises(BadQuery, match="a query is text"):
        ix.search(text)


def test_since_and_until_take_text_dates_and_datetimes(ix):
    """Expected: the same bounds however they are given; a bare day as until covers that day."""
    as_text = ix.search("coup", since="2024-02-01", until="2024-03-31").total
    as_dates = ix.search("coup", since=date(2024, 2, 1), until=date(2024, 3, 31)).total
    as_datetimes = ix.search(
        "coup", since=datetime(2024, 2, 1, tzinfo=timezone.utc),
        until=datetime(2024, 3, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)).total
    assert as_text == as_dates == as_datetimes > 0
    assert as_text < ix.search("coup").total


def test_related_checks_its_arguments_too(ix):
    some = ix.search("coup").hits[0].id
    with pytest.raises(BadQuery):
        ix.related(some, limit="5")
    with pytest.raises(BadQuery):
        ix.related(some, page=0)
    with pytest.raises(BadQuery):
        ix.related(b"abc")


def test_a_date_range_alone_to_the_end_of_time_lists_articles(ix, ix_path):
    """Expected (was "empty query"): the open-ended range is read and every article in it listed."""
    res = timed(ix, "date:[1987-01-01 TO 9999-12-31]")
    assert res.total == hostile.ARTICLES
    res = cli("query", "--index", str(ix_path), "date:[1987-01-01 TO 9999-12-31]")
    assert res.exit_code == 0 and f"{hostile.ARTICLES} results" in res.stdout


def test_a_date_range_that_cannot_be_read_says_why(ix):
    with pytest.raises(BadQuery, match="nothing to search for.*date"):
        ix.search("date:[1987-01-01 TO 99999-12-31]")


@pytest.mark.parametrize("args", [
    ["--source", "Wire\udcff"], ["--domain", "\udcffexample"], ["--lang", "\udcff"],
])
def test_undecodable_bytes_in_filters_never_raise_unicode_errors(ix_path, args):
    """Expected: a byte such as \\xff in an argument (a surrogate for Python) finds nothing, exit 0."""
    res = cli("query", "--index", str(ix_path), "coup", *args)
    assert res.exit_code == 0, res.output


@pytest.mark.parametrize("scope", ["source", "lang", "site"])
def test_undecodable_bytes_in_exact_scopes(ix, scope):
    res = timed(ix, f"{scope}:\udcff coup")
    assert res.total >= 0


# ------------------------------------------------------------------ empty indexes


def test_an_index_with_no_articles_answers_every_query(tmp_path):
    """Expected (was AttributeError 'EmptyReader'): zero results, facets empty, no crash."""
    with open_index(tmp_path / "empty", create=True) as ix:
        ix.add([])
        for text in ("coup", '"a b"', "co*", "coup~", "date:[2020 TO 2021]", "source:x", "-x coup"):
            res = ix.search(text, facets=True, sort="newest")
            assert res.total == 0 and res.hits == ()
        assert ix.stats().articles == 0
        assert ix.sources() == ()


def test_an_index_whose_articles_were_all_deleted(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add(hostile.articles(20))
        ix.delete(source=[f"Wire {i}" for i in range(7)])
        assert len(ix) == 0
        res = ix.search("coup", facets=True)
        assert res.total == 0


def test_cli_on_an_empty_index(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    ixp = tmp_path / "ix"
    res = cli("index", "--index", str(ixp), str(empty))
    for args in (["query", "coup"], ["query", "coup", "--json"], ["query", "coup", "--csv"], ["stats"],
                 ["sources"], ["generations"]):
        res = cli(*args, "--index", str(ixp))
        assert res.exit_code == 0, (args, res.output)


def test_no_newssearch_error_leaks_as_another_type(ix):
    """Every refusal above is a NewsSearchError, so callers catch one class."""
    assert issubclass(BadQuery, NewsSearchError)
