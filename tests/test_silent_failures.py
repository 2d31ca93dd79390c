"""Searches that find nothing say why; library inputs and outputs a newsroom script uses.

Each test is written from a case that went wrong silently: a --lang or --source the
index has no article of, a page past the end, two output formats at once, results that
json.dumps could not take.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
from click.testing import CliRunner

from newssearch import Article, open_index
from newssearch.cli import main


@pytest.fixture(scope="module")
def ix_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("silent") / "ix"
    when = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)
    with open_index(path, create=True) as ix:
        ix.add([
            Article(title=f"Harbour strike day {i}", body="Dock workers stopped the cranes at the harbour.",
                    source="Reuters" if i % 2 else "Coastal Times", lang="en", published=when,
                    url=f"https://port.example/{i}")
            for i in range(25)
        ] + [Article(title="Hafenstreik", body="Die Hafenarbeiter streiken im Hafen.", source="Hafenblatt", lang="de",
                     published=when, url="https://hafen.example/1")])
    return path


def cli(*args):
    return CliRunner().invoke(main, list(args))


def test_a_lang_name_the_index_does_not_use_says_so_and_suggests_the_code(ix_path):
    res = cli("query", "--index", str(ix_path), "harbour", "--lang", "english")
    assert res.exit_code == 0
    assert "0 results" in res.stdout
    assert "no articles in language 'english'" in res.stdout
    assert "de, en" in res.stdout and "did you mean 'en'" in res.stdout


def test_a_source_name_close_to_one_the_index_has(ix_path):
    res = cli("query", "--index", str(ix_path), "harbour", "--source", "Reuters News")
    assert "no source named 'Reuters News'" in res.stdout
    assert "did you mean 'Reuters'" in res.stdout
    with open_index(ix_path) as ix:
        warnings = ix.search("harbour", source="Coastal Tims").warnings
    assert any("'Coastal Times'" in w for w in warnings), warnings


def test_a_known_source_that_simply_has_no_match_gets_no_such_warning(ix_path):
    with open_index(ix_path) as ix:
        res = ix.search("cranes", source="Hafenblatt")
    assert res.total == 0
    assert not any("no source named" in w for w in res.warnings)


def test_a_page_past_the_end_warns(ix_path):
    res = cli("query", "--index", str(ix_path), "harbour", "--page", "9999")
    assert res.exit_code == 0
    assert "page 9,999 is past the end: 25 results make 3 pages" in res.stdout


def test_two_output_formats_are_a_usage_error(ix_path):
    for pair in (("--json", "--csv"), ("--jsonl", "--json")):
        res = cli("query", "--index", str(ix_path), "harbour", *pair)
        assert res.exit_code == 2
        assert "cannot be used together" in res.stderr
    res = cli("sources", "--index", str(ix_path), "--csv", "--json")
    assert res.exit_code == 2


def test_n_is_short_for_limit(ix_path):
    res = cli("query", "--index", str(ix_path), "harbour", "-n", "2", "--json")
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.stdout)["hits"]) == 2


def test_results_and_hits_are_json_ready(ix_path):
    with open_index(ix_path) as ix:
        res = ix.search("harbour", limit=3, facets=True)
    doc = json.loads(json.dumps(res.to_dict()))
    assert doc["total"] == 25 and len(doc["hits"]) == 3
    assert doc["hits"][0]["published"] == "2025-06-02T09:00:00Z"
    assert json.loads(json.dumps(res.hits[0].to_dict()))["id"] == res.hits[0].id


def test_since_takes_a_string_or_a_date(ix_path):
    with open_index(ix_path) as ix:
        assert ix.search("harbour", since="2025-06-01").total == 25
        assert ix.search("harbour", since=date(2025, 6, 3)).total == 0
        assert ix.search("harbour", until="2025-06-02").total == 25  # a bare day covers that whole day


def test_query_help_shows_the_syntax_and_every_option_has_help():
    import click

    res = cli("query", "--help")
    assert "Query syntax:" in res.stdout and '"coup plot"~3' in res.stdout and "when:7d" in res.stdout
    missing = []
    for name, cmd in main.commands.items():
        subs = cmd.commands.values() if isinstance(cmd, click.Group) else [cmd]
        for c in subs:
            missing += [(name, p.opts) for p in c.params if isinstance(p, click.Option) and not p.hidden and not p.help]
    assert missing == []


def test_date_facets_list_the_newest_periods_first(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(title=f"Harbour day {d}", body="harbour", source="S", url=f"https://x.example/{d}",
                        published=datetime(2025, 1, 1, tzinfo=timezone.utc).replace(day=d)) for d in range(1, 29)])
    res = cli("query", "--index", str(tmp_path / "ix"), "harbour", "--facets")
    day_block = res.stdout.split("day:")[1].split("week:")[0].split()
    assert day_block[0] == "2025-01-28" and day_block[2] == "2025-01-27"
    res = cli("query", "--index", str(tmp_path / "ix"), "harbour", "--facets", "--facet-sort", "value")
    assert res.stdout.split("day:")[1].split()[0] == "2025-01-01"


def test_related_never_marks_stop_words(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add([
            Article(title="Ferry to resume crossings to the island", body="The ferry will resume crossings to the island.",
                    source="A", url="https://a.example/1"),
            Article(title="Island ferry crossings resume", body="Crossings to the island resume as the ferry returns to it.",
                    source="B", url="https://b.example/2"),
        ])
        seed = ix.search('"resume crossings"').hits[0].id
        hits = ix.related(seed).hits
    assert hits
    assert "[[to]]" not in hits[0].snippet and "[[the]]" not in hits[0].snippet
    assert "[[ferry]]" in hits[0].snippet.lower() or "[[island]]" in hits[0].snippet.lower()


def test_exclude_domain_leaves_a_site_and_its_subdomains_out(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(title="Harbour strike", body="harbour", url=u) for u in (
            "https://www.wire.example/1", "https://news.wire.example/2", "https://other.example/3")])
    res = cli("query", "--index", str(tmp_path / "ix"), "harbour", "--exclude-domain", "wire.example", "--json")
    assert res.exit_code == 0, res.output
    assert [h["url"] for h in json.loads(res.stdout)["hits"]] == ["https://other.example/3"]


def test_author_scope_and_option(tmp_path):
    with open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(title="Harbour strike", body="harbour", url="https://a.example/1", author="Jane Smith"),
                Article(title="Harbour strike", body="harbour", url="https://a.example/2", author="Tom Lee")])
    res = cli("query", "--index", str(tmp_path / "ix"), 'harbour author:"jane smith"', "--json")
    assert [h["author"] for h in json.loads(res.stdout)["hits"]] == ["Jane Smith"]
    res = cli("query", "--index", str(tmp_path / "ix"), "harbour", "--author", "lee", "--json")
    assert [h["author"] for h in json.loads(res.stdout)["hits"]] == ["Tom Lee"]
