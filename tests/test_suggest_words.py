"""Did-you-mean offers real words, ranked on the word as typed, not on stems.

Written from two cases that went wrong: ``opek`` got ``operations`` (its stem ``oper``
is one edit from ``opek``, as ``opec`` is, and more frequent) and ``inflaton fears`` got
``inflato fears``, a stem no article spells.
"""
from __future__ import annotations

import pytest

from newssearch import Article, open_index
from newssearch.suggest import edit_distance


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    path = tmp_path_factory.mktemp("suggest") / "ix"
    texts = (
        ["Oil producers in OPEC agree to cut output"] * 2
        + ["Port operations resume after the storm", "Rescue operations continue in the valley",
           "Military operations widen", "Mining operations paused", "Airline operations hit by strike",
           "Operations at the plant restart"]
        + ["Inflation fears weigh on markets", "Inflation eases in the spring", "Fears of a drought grow"]
    )
    with open_index(path, create=True) as index:
        index.add([Article(title=t, body=t + ".", source="Desk", url=f"https://s.example/{i}")
                   for i, t in enumerate(texts)])
    with open_index(path) as index:
        yield index


def test_a_misspelt_acronym_gets_the_acronym_not_a_frequent_stem(ix):
    res = ix.search("opek")
    assert res.total == 0
    assert res.suggestion == "opec"


def test_a_suggestion_is_a_word_of_the_texts_never_a_stem(ix):
    assert ix.search("inflaton fears").suggestion == "inflation fears"


def test_a_known_word_is_left_alone(ix):
    assert ix.search("operations opek").suggestion == "operations opec"


def test_edit_distance():
    assert edit_distance("opek", "opec") == 1
    assert edit_distance("opek", "operations") == 3  # capped
    assert edit_distance("inflaton", "inflation") == 1
    assert edit_distance("", "ab") == 2
