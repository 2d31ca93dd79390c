"""Operators users type from other search boxes: ``|`` for OR, ``allintitle:``."""
from __future__ import annotations

import pytest

from newssearch import Article, open_index
from newssearch.query import parse_query


@pytest.mark.parametrize("text, tree", [
    ("coup | junta", "(coup OR junta)"),
    ("coup|junta mali", "((coup OR junta) AND mali)"),
    ("a || b", "(a OR b)"),
    ("allintitle: mali coup", "(title:mali AND title:coup)"),
    ('allintitle:mali "coup plot" -rumour', '(title:mali AND title:"coup plot" AND NOT title:rumour)'),
    ("ALLINTEXT: harbour strike", "(body:harbour AND body:strike)"),
    ("allinurl: sport", "url:sport"),
    ("allintitle: mali body:coup", "(title:mali AND body:coup)"),
])
def test_parsed(text, tree):
    assert parse_query(text).describe() == tree


def test_a_pipe_alone_is_a_named_error_not_a_crash():
    from newssearch.errors import BadQuery

    with pytest.raises(BadQuery):
        parse_query("|")


def test_pipe_and_allintitle_search(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add([
            Article(title="Coup in the capital", body="Soldiers took the radio station.", url="https://a.example/1"),
            Article(title="Junta names a council", body="The council will sit in the capital.", url="https://a.example/2"),
            Article(title="Harvest report", body="A coup for farmers: record grain.", url="https://a.example/3"),
        ])
        assert ix.search("coup | junta").total == 3
        assert {h.title for h in ix.search("allintitle: coup").hits} == {"Coup in the capital"}
        assert ix.search("allintitle: capital council").total == 0
        assert ix.search("allintext: capital council").total == 1
