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
