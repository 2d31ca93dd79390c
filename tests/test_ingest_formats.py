"""Every input format and source kind of newssearch.ingest, on inputs written for these tests."""
from __future__ import annotations

import gzip
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from newssearch.errors import BadInput
from newssearch.ingest import detect_format, read_path, read_paths
from newssearch.ingest.html import page_metadata
from newssearch.model import Article, IngestWarning, Rejected

from .ingest_fixtures import ATOM, CSV, HTML_JSONLD, HTML_PAGE, HTML_TIME, MARKDOWN, NEWSAPI, RDF, RSS, RSS091, TSV

UTC = timezone.utc


def articles(records: list) -> list[Article]:
    return [r for r in records if isinstance(r, Article)]


def rejects(records: list) -> list[Rejected]:
    return [r for r in records if isinstance(r, Rejected)]


def warnings(records: list) -> list[IngestWarning]:
    return [r for r in records if isinstance(r, IngestWarning)]


def put(folder: Path, name: str, data: "str | bytes") -> Path:
    path = folder / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ------------------------------------------------------------------ feeds


def test_rss2_items_with_html_reduced_and_bad_items_reported(tmp_path: Path) -> None:
    found = list(read_path(put(tmp_path, "wire.xml", RSS)))
    pilots, tugs = articles(found)
    assert pilots.title == "Pilots vote to end the strike"
    assert pilots.source == "Harbour Wire" and pilots.lang == "en"
    assert pilots.body == "Harbour pilots voted to return on Monday."  # tags and script gone
    assert pilots.published == datetime(2025, 3, 14, 8, tzinfo=UTC)
    assert pilots.url == "https://wire.example.org/pilots?utm_source=rss"
    # the empty item is rejected with its line; the undated one kept, with a warning
    assert [(r.line, r.reason) for r in rejects(found)] == [(8, "has neither title nor body")]
    assert tugs.published is None
    assert [(w.line, "someday" in w.message) for w in warnings(found)] == [(9, True)]


def test_rss091_with_declared_latin1_and_a_doctype(tmp_path: Path) -> None:
    found = list(read_path(put(tmp_path, "cafe.rss", RSS091.encode("latin-1"))))
    (item,) = articles(found)
    assert item.source == "Café Gazette" and item.title == "Le café rouvre"
    assert item.body == "Le café du port rouvre ses portes." and item.lang == "fr"


def test_rss1_rdf_and_atom(tmp_path: Path) -> None:
    (snow,) = articles(list(read_path(put(tmp_path, "ridge.rdf", RDF))))
    assert snow.title == "Snow closes the ridge road" and snow.source == "Ridge Daily"
    assert snow.published == datetime(2025, 1, 5, 7, tzinfo=UTC)
    (frost,) = articles(list(read_path(put(tmp_path, "valley.atom", ATOM))))
    assert frost.source == "Valley Notes" and frost.author == "R. Field"
    assert frost.body == "Frost hit the orchards.\n\nGrowers lit fires."  # content wins over summary
    assert frost.published == datetime(2025, 3, 13, 6, tzinfo=UTC)  # updated, when no published
    assert frost.url == "https://valley.example.net/frost"


def test_a_feed_that_is_not_xml_is_one_reject(tmp_path: Path) -> None:
    found = list(read_path(put(tmp_path, "broken.rss", "this is not a feed\nat all\n")))
    assert len(found) == 1 and "not a feed" in found[0].reason
    found = list(read_path(put(tmp_path, "other.xml", "<?xml version='1.0'?><note><to>me</to></note>")))
    assert len(found) == 1 and isinstance(found[0], Rejected) and "no items" in found[0].reason


# ------------------------------------------------------------------ HTML pages


def test_html_page_metadata_and_main_text(tmp_path: Path) -> None:
    (page,) = list(read_path(put(tmp_path, "mill.html", HTML_PAGE)))
    assert page.title == "Mill fire"  # "<title>Mill fire | Town Post" without the site
    assert page.source == "Town Post" and page.author == "K. Smith" and page.lang == "en"
    assert page.published == datetime(2025, 3, 11, 6, 30, tzinfo=UTC)
    assert page.url == "https://town.example.com/mill-fire"
    assert page.body.startswith("A fire broke out at the old mill")
    assert "collapsed into the yard." in page.body
    for chrome in ("Home", "Sport", "Subscribe", "garden furniture", "Copyright"):
        assert chrome not in page.body


def test_html_json_ld_and_time_element(tmp_path: Path) -> None:
    (lane,) = list(read_path(put(tmp_path, "lane.htm", HTML_JSONLD)))
    assert lane.title == "Council backs the new cycle lane"
    assert lane.published == datetime(2025, 2, 3, 12, tzinfo=UTC)
    assert lane.source == "Borough Bulletin" and lane.author == "L. Rider"
    assert "protected cycle lane" in lane.body
    (bakery,) = list(read_path(put(tmp_path, "bakery.html", HTML_TIME)))
    assert bakery.published == datetime(2025, 4, 1, 9, tzinfo=UTC)
    assert bakery.source == ""  # no site name and no url: nothing to guess from
    assert page_metadata(HTML_TIME, "https://www.bakery.example.com/prize")["source"] == "bakery.example.com"


def test_html_without_the_extra_is_a_clear_reject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_trafilatura(name, *args, **kwargs):
        if name == "trafilatura":
            raise ImportError("No module named 'trafilatura'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_trafilatura)
    (found,) = list(read_path(put(tmp_path, "mill.html", HTML_PAGE)))
    assert isinstance(found, Rejected) and "pip install 'newssearch[html]'" in found.reason


# ------------------------------------------------------------------ JSON, CSV, TSV, text


def test_newsapi_object_with_nested_source_and_epoch_date(tmp_path: Path) -> None:
    found = list(read_path(put(tmp_path, "top.json", json.dumps(NEWSAPI, indent=2))))
    fares, lighthouse = articles(found)
    assert (fares.source, fares.author, fares.title) == ("Coast Radio", "J. Wave", "Ferry fares fall")
    assert fares.body == "Fares on the island ferry drop by a tenth from April."  # content before description
    assert fares.published == datetime(2025, 3, 12, 8, tzinfo=UTC)
    assert lighthouse.body == "The lighthouse got a fresh coat of white paint."
    assert lighthouse.published == datetime(2025, 3, 12, 8, tzinfo=UTC)  # epoch seconds
    # the same document on one line reads the same
    one_line = list(read_path(put(tmp_path, "top2.json", json.dumps(NEWSAPI))))
    assert [a.id for a in articles(one_line)] == [fares.id, lighthouse.id]


def test_json_aliases_are_case_insensitive(tmp_path: Path) -> None:
    lines = [
        {"Headline": "Dam opens", "Text": "The dam opened.", "Publisher": "Valley Voice", "pubDate": "2025-01-02",
         "Link": "https://v.example.com/dam", "Language": "EN", "byline": "P. Stone", "guid": "d1"},
        {"title": "Kite day", "summary": "Kites filled the sky.", "site_name": "Beach News",
         "published_at": "2025-01-03T10:00:00+02:00", "authors": [{"name": "A"}, {"name": "B"}]},
    ]
    found = list(read_path(put(tmp_path, "x.jsonl", "\n".join(json.dumps(x) for x in lines))))
    dam, kite = articles(found)
    assert (dam.title, dam.body, dam.source, dam.lang, dam.author) == (
        "Dam opens", "The dam opened.", "Valley Voice", "en", "P. Stone")
    assert dam.published == datetime(2025, 1, 2, tzinfo=UTC) and dam.url == "https://v.example.com/dam"
    assert kite.source == "Beach News" and kite.author == "A, B"
    assert kite.published == datetime(2025, 1, 3, 8, tzinfo=UTC)


def test_csv_with_field_overrides_and_a_bad_row(tmp_path: Path) -> None:
    path = put(tmp_path, "odd.csv", CSV)
    # without a mapping, "story" is not read as the body
    assert [a.body for a in articles(list(read_path(path)))] == ["", ""]
    # a header with no title or body column at all is reported once, with the fix
    (only,) = list(read_path(put(tmp_path, "cols.csv", "x,y\n1,2\n")))
    assert only.line == 1 and "body=COLUMN" in only.reason
    found = list(read_path(path, fields={"body": "story", "date": "when"}))
    market, quoted = articles(found)
    assert market.title == "Night market opens" and market.url == "https://town.example.com/market"
    assert market.published == datetime(2025, 3, 10, 18, tzinfo=UTC)
    assert quoted.title == "Quoted, with comma" and quoted.body == "A body\nover two lines."
    assert [(r.line, r.reason) for r in rejects(found)] == [(3, "has 2 fields, the header has 4")]
    with pytest.raises(BadInput, match="unknown field 'story'"):
        read_path(path, fields={"story": "body"})


def test_tsv_semicolon_csv_and_text(tmp_path: Path) -> None:
    (library,) = list(read_path(put(tmp_path, "a.tsv", TSV)))
    assert library.title == "Library moves" and library.lang == "en"
    assert library.published == datetime.fromtimestamp(1741600000, tz=UTC)
    (semi,) = list(read_path(put(tmp_path, "b.csv", "title;body\nSemi;Colon separated.\n")))
    assert (semi.title, semi.body) == ("Semi", "Colon separated.")
    (note,) = list(read_path(put(tmp_path, "note.md", MARKDOWN)))
    assert note.title == "Quiet week at the port"
    assert note.body == "Nothing much happened at the port this week."
    (plain,) = list(read_path(put(tmp_path, "plain.txt", "\n\nA title line\nThe body.\nMore body.\n")))
    assert (plain.title, plain.body) == ("A title line", "The body.\nMore body.")


# ------------------------------------------------------------------ sources, detection, encodings


def test_detection_by_content_without_an_ending(tmp_path: Path) -> None:
    assert detect_format(put(tmp_path, "a", RSS)) == "feed"
    assert detect_format(put(tmp_path, "b", ATOM)) == "feed"
    assert detect_format(put(tmp_path, "c", HTML_PAGE)) == "html"
    assert detect_format(put(tmp_path, "d", json.dumps(NEWSAPI))) == "json"
    assert detect_format(put(tmp_path, "e.txt", "Just a note\nwith a body\n")) == "text"
    assert detect_format(put(tmp_path, "f.csv.gz", gzip.compress(CSV.encode()))) == "csv"
    # forced: a .txt file read as CSV
    found = list(read_path(put(tmp_path, "g.txt", "title,body\nForced,As CSV.\n"), format="csv"))
    assert [(a.title, a.body) for a in articles(found)] == [("Forced", "As CSV.")]


def test_gz_of_any_format(tmp_path: Path) -> None:
    (frost,) = articles(list(read_path(put(tmp_path, "valley.atom.gz", gzip.compress(ATOM.encode())))))
    assert frost.title == "Orchard frost"
    (page,) = list(read_path(put(tmp_path, "mill.html.gz", gzip.compress(HTML_PAGE.encode()))))
    assert page.title == "Mill fire"


def test_stdin_is_read_for_dash() -> None:
    found = list(read_paths(["-"], stdin=io.BytesIO(gzip.compress(RSS.encode()))))
    assert [a.title for a in articles(found)] == ["Pilots vote to end the strike", "Tug crews follow"]
    assert rejects(found)[0].file == "<stdin>"
    found = list(read_paths(["-"], stdin=io.BytesIO(b"title,body\nFrom a pipe,Piped in.\n"), format="csv"))
    assert [a.title for a in articles(found)] == ["From a pipe"]


def test_encodings_bom_utf16_cp1252_controls_nfc(tmp_path: Path) -> None:
    text = "title,body\nZürich café,Naïve \u0007text\u001b with a bell.\n"
    for name, data in [
        ("bom8.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("u16le.csv", text.encode("utf-16")),  # with BOM
        ("u16be.csv", b"\xfe\xff" + text.encode("utf-16-be")),
    ]:
        found = list(read_path(put(tmp_path, name, data)))
        assert not warnings(found), name
        (article,) = articles(found)
        assert article.title == "Zürich café" and article.body == "Naïve text with a bell.", name
    legacy = list(read_path(put(tmp_path, "legacy.csv", "title,body\n\u201cQuoted\u201d caf\xe9,Body\n".encode("cp1252"))))
    assert articles(legacy)[0].title == "\u201cQuoted\u201d café"
    assert [w.message for w in warnings(legacy)] == ["not UTF-8: read as cp1252"]
    # decomposed input (e + combining acute) is stored composed
    (nfc,) = articles(list(read_path(put(tmp_path, "nfc.md", "Cafe\u0301 opens\nbody\n"))))
    assert nfc.title == "Caf\u00e9 opens"


def test_html_declared_charset_is_honoured(tmp_path: Path) -> None:
    page = HTML_TIME.replace("<head>", '<head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">')
    page = page.replace("corner bakery", "corner bäckerei")
    (found,) = list(read_path(put(tmp_path, "latin.html", page.encode("latin-1"))))
    assert "bäckerei" in found.body


def test_include_exclude_and_project_files(tmp_path: Path) -> None:
    put(tmp_path, "a.json", json.dumps({"title": "A", "body": "a"}))
    (tmp_path / "drafts").mkdir()
    put(tmp_path / "drafts", "b.json", json.dumps({"title": "B", "body": "b"}))
    put(tmp_path, "c.dat", "title,body\nC,c\n")
    put(tmp_path, "LICENSE.md", "MIT licence text\n")
    titles = lambda **kw: [a.title for a in articles(list(read_paths([tmp_path], **kw)))]  # noqa: E731
    assert titles() == ["A", "B"]  # c.dat has no known ending, LICENSE.md is a project file
    assert titles(exclude=["drafts"]) == ["A"]
    assert titles(exclude=["*.json"]) == []
    assert titles(include=["*.dat"], format="csv") == ["C"]
    assert titles(include=["drafts/*"]) == ["B"]


def test_progress_is_reported_per_input(tmp_path: Path) -> None:
    import newssearch

    put(tmp_path, "a.md", "One\nbody")
    put(tmp_path, "b.md", "Two\nbody")
    calls = []
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        report = ix.add_paths([tmp_path / "a.md", tmp_path / "b.md"], progress=lambda *a: calls.append(a))
    assert report.added == 2
    assert calls == [(1, 2, str(tmp_path / "a.md")), (2, 2, str(tmp_path / "b.md"))]


def test_an_index_inside_the_walked_folder_is_not_read(tmp_path: Path) -> None:
    import newssearch

    put(tmp_path, "a.md", "One\nbody")
    with newssearch.open_index(tmp_path / "indexes" / "ix", create=True) as ix:
        first = ix.add_paths([tmp_path])
        (tmp_path / "indexes" / "ix" / "fetch-state.json").write_text('{"urls": {}}', encoding="utf-8")
        second = ix.add_paths([tmp_path])
    assert (first.added, first.rejected) == (1, ())
    assert (second.unchanged, second.rejected) == (1, ())


def test_utf16_json_lines(tmp_path: Path) -> None:
    lines = "\n".join(json.dumps({"title": t, "body": "b"}, ensure_ascii=False) for t in ("Ünïcode", "Zweite"))
    found = list(read_path(put(tmp_path, "wide.jsonl", lines.encode("utf-16"))))
    assert [a.title for a in articles(found)] == ["Ünïcode", "Zweite"] and not warnings(found)
