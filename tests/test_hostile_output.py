"""Hostile article text on the way out: terminal escapes, spreadsheet formulas, HTML.

Expected, case by case:
- ANSI/OSC escape sequences and other control characters in a title, body or source
  never reach a terminal raw: the index drops them on the way in (Article), and the
  table output strips them again for text from any other origin;
- a CSV cell starting with = + - @ (or tab / CR) gets a leading apostrophe, so a
  spreadsheet shows it as text (query --csv, sources --csv);
- --json is valid JSON whatever the text holds; ``snippet_html`` escapes markup, only
  our own <mark> tags are HTML.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from newssearch import Article, open_index
from newssearch.cli import main
from newssearch.model import Hit, Results
from newssearch.render import results_csv, results_table

ESC = "\x1b"
NASTY_TITLE = f"Harbour strike {ESC}[31mred{ESC}[0m {ESC}]8;;http://evil.example{ESC}\\click{ESC}]8;;{ESC}\\ {ESC}]0;owned\x07ends\x07\x00"
FORMULA_TITLE = '=HYPERLINK("http://evil.example","harbour strike")'
SCRIPT_TITLE = "<script>alert(1)</script> harbour strike"


@pytest.fixture(scope="module")
def ix_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("out") / "ix"
    when = datetime(2025, 3, 1, tzinfo=timezone.utc)
    with open_index(path, create=True) as ix:
        ix.add([
            Article(title=NASTY_TITLE, body=f"Dock workers {ESC}[2J{ESC}[H walked out in a harbour strike.\x07",
                    source=f"Port{ESC}[1m News", published=when, url="https://a.example/1"),
            Article(title=FORMULA_TITLE, body="The harbour strike spread to a second port.", source="=cmd|' /C calc'!A0",
                    published=when, url="https://b.example/2"),
            Article(title=SCRIPT_TITLE, body="<img src=x onerror=alert(2)> harbour strike talks", source="+Wire",
                    published=when, url="https://c.example/3"),
            Article(title="-1 harbour strike day", body="@SUM(1+1) harbour strike", source="@Desk",
                    published=when, url="https://d.example/4"),
        ])
    return path


def invoke(*args):
    res = CliRunner().invoke(main, list(args))
    assert res.exit_code == 0, res.output
    return res.stdout


def has_controls(text: str) -> bool:
    return any((ord(ch) < 32 and ch not in "\n\t") or 0x7f <= ord(ch) <= 0x9f for ch in text)


def test_the_table_never_prints_escape_sequences(ix_path):
    out = invoke("query", "--index", str(ix_path), "harbour strike", "--limit", "10")
    assert ESC not in out and "\x07" not in out and not has_controls(out)
    assert "Harbour strike red" in out  # the words stay, the colouring goes


def test_stored_text_has_no_control_characters(ix_path):
    with open_index(ix_path) as ix:
        for hit in ix.search("harbour strike", limit=10).hits:
            article = ix.get(hit.id)
            for text in (article.title, article.body, article.source):
                assert not has_controls(text), repr(text)


def test_the_table_strips_controls_from_text_of_any_origin():
    """Text that reached an index before it cleaned input (or another engine) is stripped at print."""
    hit = Hit(id="x", title=f"a{ESC}[31mb", source=f"s{ESC}]0;t\x07", published=None, url=f"https://x/{ESC}[2J",
              lang=None, author=None, score=1.0, snippet=f"one{ESC}[5mtwo\x9bthree", rank=1)
    out = results_table(Results(total=1, hits=(hit,), query="q", page=1, limit=10))
    assert ESC not in out and "\x9b" not in out and not has_controls(out)


def test_csv_cells_that_would_be_formulas_are_neutralised(ix_path):
    out = invoke("query", "--index", str(ix_path), "harbour strike", "--csv", "--limit", "10")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 4
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    titles = {r["title"] for r in rows}
    assert "'" + FORMULA_TITLE in titles
    assert "'-1 harbour strike day" in titles
    assert {r["source"] for r in rows} >= {"'=cmd|' /C calc'!A0", "'+Wire", "'@Desk"}


def test_sources_csv_is_neutralised_too(ix_path):
    out = invoke("sources", "--index", str(ix_path), "--csv")
    names = [r["source"] for r in csv.DictReader(io.StringIO(out))]
    assert "'=cmd|' /C calc'!A0" in names and "'+Wire" in names and "'@Desk" in names
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)


def test_plain_csv_values_are_left_alone():
    hit = Hit(id="x", title="Budget: 2+2", source="Wire", published=None, url=None, lang=None, author=None,
              score=1.5, snippet="", rank=1)
    row = list(csv.reader(io.StringIO(results_csv(Results(total=1, hits=(hit,), query="q", page=1, limit=10)))))[1]
    assert "Budget: 2+2" in row and "Wire" in row


def test_json_output_is_valid_and_keeps_the_text_as_data(ix_path):
    doc = json.loads(invoke("query", "--index", str(ix_path), "harbour strike", "--json", "--limit", "10"))
    titles = {h["title"] for h in doc["hits"]}
    assert SCRIPT_TITLE in titles  # JSON carries text as it is; escaping is the page's job
    for line in invoke("query", "--index", str(ix_path), "harbour strike", "--jsonl", "--limit", "10").splitlines():
        json.loads(line)


def test_snippet_html_escapes_everything_but_our_marks(ix_path):
    with open_index(ix_path) as ix:
        hits = {h.title: h for h in ix.search("harbour strike", limit=10).hits}
    html = hits[SCRIPT_TITLE].snippet_html
    assert "<img" not in html and "&lt;img" in html
    assert html.replace("<mark>", "").replace("</mark>", "").count("<") == 0
    assert "<mark>harbour</mark>" in html
