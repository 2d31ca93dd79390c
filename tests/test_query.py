"""The query language: user text -> tree + warnings, never a traceback."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newssearch.errors import BadQuery
from newssearch.query import And, Not, Or, Phrase, Word, parse_query


def tree(text: str):
    return parse_query(text).tree


def test_words_are_all_required():
    assert tree("mali coup") == And((Word("mali"), Word("coup")))


def test_phrase_and_slop():
    assert tree('"coup plot"') == Phrase("coup plot")
    assert tree('"coup plot"~3') == Phrase("coup plot", slop=3)


def test_curly_quotes_make_a_phrase():
    assert tree("\u201ccoup plot\u201d") == Phrase("coup plot")


def test_or_binds_tighter_than_and_like_web_search():
    assert tree("mali coup OR junta") == And((Word("mali"), Or((Word("coup"), Word("junta")))))


def test_lowercase_operators_are_words():
    # a pasted sentence searches its words, it does not turn into boolean logic
    assert tree("war and peace or not") == And(
        (Word("war"), Word("and"), Word("peace"), Word("or"), Word("not"))
    )


def test_not_minus_plus():
    assert tree("mali -russia") == And((Word("mali"), Not(Word("russia"))))
    assert tree("mali NOT russia") == And((Word("mali"), Not(Word("russia"))))
    assert tree("+mali") == Word("mali")


def test_hyphenated_word_is_not_an_exclusion():
    assert tree("then-colonel") == Word("then-colonel")


def test_parentheses_group():
    assert tree("(coup OR junta) mali") == And((Or((Word("coup"), Word("junta"))), Word("mali")))


def test_field_scopes_and_aliases():
    assert tree("title:coup") == Word("coup", "title")
    assert tree("intitle:coup") == Word("coup", "title")
    assert tree("intext:coup") == Word("coup", "body")
    assert tree('body:"coup plot"') == Phrase("coup plot", "body")
    assert tree("lang:he") == Word("he", "lang")
    assert tree("title:(coup OR junta)") == Or((Word("coup", "title"), Word("junta", "title")))


def test_source_phrase_is_an_exact_value():
    assert tree('source:"ILoveQatar.net"') == Word("ILoveQatar.net", "source")
    assert tree('source:"Al Jazeera"') == Word("Al Jazeera", "source")


def test_hebrew_gershayim_is_part_of_the_word_not_a_phrase():
    assert tree('צה"ל') == Word('צה"ל')
    assert tree("צה\u05f4ל") == Word("צה\u05f4ל")
    assert tree('"ההישגים של צה"ל"') == Phrase('ההישגים של צה"ל')


def test_unknown_field_is_searched_as_text_with_a_warning():
    parsed = parse_query("foo:bar")
    assert parsed.tree == Word("foo:bar")
    assert any("foo" in w for w in parsed.warnings)


def test_times_are_not_fields():
    assert tree("10:30") == Word("10:30")


@pytest.mark.parametrize(
    "text, expected, warning",
    [
        ('"coup plot', Phrase("coup plot"), "unclosed quote"),
        ("(coup OR junta", Or((Word("coup"), Word("junta"))), "unclosed '('"),
        ("coup)", Word("coup"), "unbalanced ')'"),
        ("coup OR", Word("coup"), "OR with nothing after"),
        ("AND coup", Word("coup"), "AND with nothing before"),
        ("coup OR NOT junta", Word("coup"), "NOT inside OR"),
    ],
)
def test_bad_syntax_degrades_with_a_warning(text, expected, warning):
    parsed = parse_query(text)
    assert parsed.tree == expected
    assert any(warning in w for w in parsed.warnings), parsed.warnings


@pytest.mark.parametrize("text", ["", "   ", "NOT", "()", "-coup", "NOT coup -junta"])
def test_nothing_to_search_is_bad_query(text):
    with pytest.raises(BadQuery):
        parse_query(text)


def test_describe_shows_the_tree():
    assert parse_query('mali -"coup plot"~2 title:x').describe() == '(mali AND NOT "coup plot"~2 AND title:x)'


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab צה"ל()-+:~ ORANDNOT\u201c\u201d\u05f4title')), max_size=40))
def test_parser_never_crashes(text):
    try:
        parsed = parse_query(text)
    except BadQuery:
        return
    assert parsed.tree is not None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parser_never_crashes_on_any_text(text):
    try:
        parse_query(text)
    except BadQuery:
        pass


# ---------------------------------------------------------------- issue 5: prefix, fuzzy, dates, url/site

from datetime import datetime, timezone  # noqa: E402

from newssearch.query import DateRange, Fuzzy, Prefix, outline  # noqa: E402

NOW = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)


def test_prefix_and_fuzzy_words():
    assert tree("elect*") == Prefix("elect")
    assert tree("title:presid*") == Prefix("presid", "title")
    assert tree("Goitta~") == Fuzzy("Goitta", None, 2)  # longer words get distance 2
    assert tree("coup~") == Fuzzy("coup", None, 1)
    assert tree("coup~1") == Fuzzy("coup", None, 1)
    assert tree("coup~0") == Word("coup")


def test_fuzzy_distance_is_capped_and_short_prefix_refused():
    parsed = parse_query("coup~7")
    assert parsed.tree == Fuzzy("coup", None, 2)
    assert any("capped" in w for w in parsed.warnings)
    parsed = parse_query("e*")
    assert parsed.tree == Word("e")
    assert any("too short" in w for w in parsed.warnings)


def test_url_and_site_scopes_parse():
    assert tree("inurl:harbour-strike") == Word("harbour-strike", "url")
    assert tree("site:example.com") == Word("example.com", "site")


def test_date_scopes_resolve_against_now():
    when = parse_query("coup when:7d", now=NOW).tree
    assert when == And((Word("coup"), DateRange(datetime(2025, 8, 6, 12, tzinfo=timezone.utc), None, "when:7d")))
    since = parse_query("since:yesterday", now=NOW).tree
    assert since.start == datetime(2025, 8, 12, tzinfo=timezone.utc) and since.end is None
    until = parse_query("until:2025-08-12").tree
    assert until.start is None and until.end.date().isoformat() == "2025-08-12" and until.end.hour == 23
    before = parse_query("before:2025-08-12").tree
    assert before.end < datetime(2025, 8, 12, tzinfo=timezone.utc)
    rng = parse_query("date:[2025-08-01 TO *]").tree
    assert rng.start == datetime(2025, 8, 1, tzinfo=timezone.utc) and rng.end is None
    last_week = parse_query('date:"last week"', now=NOW).tree  # 2025-08-13 is a Wednesday
    assert (last_week.start.day, last_week.end.day) == (4, 10)
    this_month = parse_query("since:this month", now=NOW).tree
    assert this_month.start == datetime(2025, 8, 1, tzinfo=timezone.utc)


def test_bad_or_clockless_dates_warn_and_are_dropped():
    parsed = parse_query("coup when:7d")  # no now
    assert parsed.tree == Word("coup")
    assert any("needs a reference time" in w for w in parsed.warnings)
    parsed = parse_query("coup date:[2025-09-01 TO 2025-08-01]")
    assert parsed.tree == Word("coup") and any("ends before it starts" in w for w in parsed.warnings)
    parsed = parse_query("coup since:someday")
    assert parsed.tree == Word("coup") and parsed.warnings


def test_outline_names_node_kinds_and_words():
    lines = outline(parse_query('(mali OR "coup plot"~2) -junta elect*').tree)
    assert lines == [
        "And",
        "  Or",
        "    Word 'mali'",
        "    Phrase 'coup plot' slop 2",
        "  Not",
        "    Word 'junta'",
        "  Prefix 'elect'",
    ]
