"""The query surface through the CLI: filters, sorts, facets, output formats, related, sources, explain."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

import newssearch
from newssearch.cli import main

from .newsroom import newsroom


@pytest.fixture(scope="module")
def room_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cliroom") / "ix"
    with newssearch.open_index(path, create=True) as ix:
        ix.add(newsroom())
    return str(path)


@pytest.fixture()
def run(room_path):
    runner = CliRunner()

    def invoke(*args):
        res = runner.invoke(main, [*args, "--index", room_path])
        return res

    return invoke


def test_json_hits_carry_snippets_and_duplicates(run):
    res = run("query", "tarnveld bridge reopens", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    top = doc["hits"][0]
    assert {"snippet", "snippet_html", "duplicates", "duplicate_ids"} <= set(top)
    assert top["duplicates"] == 2 and len(top["duplicate_ids"]) == 2
    assert "<mark>" in top["snippet_html"] and "[[" in top["snippet"]
    every = json.loads(run("query", "tarnveld bridge reopens", "--json", "--all").stdout)
    assert len(every["hits"]) == len(doc["hits"]) + 2


def test_filters_and_sort_options(run):
    base = ["query", "bridge OR strike OR coup", "--json", "--all", "--limit", "20"]
    doc = json.loads(run(*base, "--source", "valley herald", "--source", "Sahel Daily").stdout)
    assert {h["source"] for h in doc["hits"]} == {"Valley Herald", "Sahel Daily"}
    doc = json.loads(run(*base, "--exclude-source", "Northern Wire").stdout)
    assert "Northern Wire" not in {h["source"] for h in doc["hits"]}
    doc = json.loads(run(*base, "--domain", "coastal.example.net").stdout)
    assert {h["source"] for h in doc["hits"]} == {"Coastal Times"}
    newest = json.loads(run(*base, "--sort", "newest").stdout)
    dates = [h["published"] for h in newest["hits"]]
    assert dates == sorted(dates, reverse=True)
    assert run(*base, "--sort", "fresh").exit_code == 0
    assert run(*base, "--sort", "sideways").exit_code == 2


def test_facets_in_json_and_table(run):
    doc = json.loads(run("query", "bridge OR coup", "--facets", "--json", "--all").stdout)
    assert doc["facets"]["source"]["Valley Herald"] == 2
    assert sum(doc["facets"]["day"].values()) == doc["total"]
    assert set(doc["facets"]) == {"source", "lang", "day", "week", "month"}
    table = run("query", "bridge OR coup", "--facets").stdout
    assert "\nsource:\n" in table and "\nday:\n" in table
    assert "  Valley Herald" in table


def test_jsonl_and_csv(run):
    lines = run("query", "coup", "--jsonl").stdout.strip().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["id"].startswith("coup-") for line in lines)
    rows = list(csv.DictReader(io.StringIO(run("query", "coup", "--csv").stdout)))
    assert [r["id"] for r in rows] and set(rows[0]) >= {"rank", "id", "title", "snippet_html", "duplicate_ids"}


def test_did_you_mean_is_printed(run):
    res = run("query", "Goitta")
    assert res.exit_code == 0
    assert "did you mean: goita" in res.stdout
    assert json.loads(run("query", "Goitta", "--json").stdout)["suggestion"] == "goita"


def test_copies_are_announced_in_the_table(run):
    out = run("query", "tarnveld bridge reopens").stdout
    assert "+ 2 near-duplicate copies" in out


def test_related_command_same_shape_as_query(run):
    res = run("related", "wire-1", "--limit", "2", "--json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"query", "total", "hits", "warnings"}
    assert doc["hits"][0]["id"] == "toll-1"
    assert len(doc["hits"]) <= 2
    assert {"wire-1", "copy-1", "copy-2"}.isdisjoint(h["id"] for h in doc["hits"])
    missing = run("related", "nope")
    assert missing.exit_code == 1 and missing.stderr.startswith("error: no article with id")


def test_sources_command_all_formats(run):
    table = run("sources").stdout
    assert table.splitlines()[0].split() == ["source", "articles", "first", "last"]
    assert any(line.startswith("Valley Herald") and " 5 " in line for line in table.splitlines())
    doc = json.loads(run("sources", "--json").stdout)
    herald = next(d for d in doc if d["source"] == "Valley Herald")
    assert herald["articles"] == 5 and herald["first"] and herald["last"]
    assert len(run("sources", "--jsonl").stdout.strip().splitlines()) == len(doc)
    rows = list(csv.DictReader(io.StringIO(run("sources", "--csv").stdout)))
    assert {r["source"] for r in rows} == {d["source"] for d in doc}


def test_explain_prints_tree_compiled_and_warnings(run):
    res = run("query", 'title:bridge OR "coup plot"~2 -toll Goitta~ elect* when:7d )', "--explain")
    assert res.exit_code == 0
    out = res.stdout
    assert "parsed:" in out and "Fuzzy 'Goitta' distance 2" in out and "Prefix 'elect'" in out
    assert "compiled: " in out and "title:bridg" in out
    assert "expanded: elect* -> 2 terms (cap 50)" in out
    assert "warning: unbalanced ')'" in out
    doc = json.loads(run("query", "harbour strike", "--explain", "--json").stdout)
    assert doc["tree"][0] == "And" and doc["warnings"] == []


def test_query_with_date_words_uses_the_clock(run):
    # the newsroom is from 2025: nothing of it is from the last day of the real clock... unless
    # the clock is wrong; either way the option parses and the exit code is 0
    res = run("query", "bridge when:1d", "--json")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["warnings"] == []
