"""The acceptance run of issue #3 through the CLI: a directory mixing every format plus
broken files, the partial exit code, the rejects file, re-runs, and dedupe by url."""
from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch.cli import main

from .ingest_fixtures import ATOM, CSV, HTML_JSONLD, HTML_PAGE, MARKDOWN, NEWSAPI, RDF, RSS, TSV

SUMMARY = re.compile(r"^added (\d+), updated (\d+), unchanged (\d+), rejected (\d+) in \d+\.\ds$")


def summary(stderr: str) -> tuple[int, ...]:
    match = SUMMARY.match(stderr.strip().splitlines()[-1])
    assert match, stderr
    return tuple(int(g) for g in match.groups())


@pytest.fixture()
def mixed(tmp_path: Path) -> Path:
    root = tmp_path / "inbox"
    (root / "feeds").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "feeds" / "wire.xml").write_text(RSS, encoding="utf-8")           # 2 good, 1 bad item
    (root / "feeds" / "valley.atom").write_text(ATOM, encoding="utf-8")       # 1
    (root / "feeds" / "ridge.rdf.gz").write_bytes(gzip.compress(RDF.encode()))  # 1
    (root / "pages" / "mill.html").write_text(HTML_PAGE, encoding="utf-8")     # 1
    (root / "pages" / "lane.htm").write_text(HTML_JSONLD, encoding="utf-8")   # 1
    (root / "top.json").write_text(json.dumps(NEWSAPI), encoding="utf-8")     # 2
    (root / "odd.csv").write_text(CSV, encoding="utf-8")                      # 2 good, 1 bad row
    (root / "lib.tsv").write_text(TSV, encoding="utf-8")                      # 1
    (root / "note.md").write_text(MARKDOWN, encoding="utf-8")                 # 1
    (root / "lines.jsonl").write_text(
        '{"title": "Line one", "body": "First."}\n{broken\n{"title": "Line three", "body": "Third."}\n',
        encoding="utf-8")                                                     # 2 good, 1 bad line
    (root / "page.txt").write_text(
        "Bridge reopens\n\nBridge reopens\n\nRiver Post13 Aug 2025 10:00 GMT\nTraffic flows again.\n",
        encoding="utf-8")                                                     # 1 (aggregator page)
    (root / "not-a-feed.rss").write_text("<<<this is not xml", encoding="utf-8")
    (root / "image.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00")
    (root / "empty.jsonl").write_bytes(b"")
    (root / "README.md").write_text("# About this folder\n", encoding="utf-8")  # skipped: a project file
    return root


def test_mixed_directory_acceptance(mixed: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    rejects_file = tmp_path / "rejects.jsonl"
    args = ["index", str(mixed), "--index", str(tmp_path / "ix"), "--field", "body=story", "--field", "date=when"]
    first = runner.invoke(main, args + ["--rejects", str(rejects_file)])
    assert first.exit_code == 3, first.output
    assert first.stdout == ""
    assert summary(first.stderr) == (15, 0, 0, 6)
    listed = sorted(line for line in first.stderr.splitlines() if line.startswith("rejected: "))
    assert listed == sorted([
        f"rejected: {mixed / 'empty.jsonl'}: empty file",
        f"rejected: {mixed / 'feeds' / 'wire.xml'}:8: has neither title nor body",
        f"rejected: {mixed / 'image.json'}: binary file (NUL bytes): not text",
        f"rejected: {mixed / 'lines.jsonl'}:2: not valid JSON (Expecting property name enclosed in double quotes, line 1 column 2)",
        listed_line(first.stderr, "not-a-feed.rss"),
        f"rejected: {mixed / 'odd.csv'}:3: has 2 fields, the header has 4",
    ])
    assert "not a feed" in listed_line(first.stderr, "not-a-feed.rss")
    assert f"warning: {mixed / 'feeds' / 'wire.xml'}:9: not a date: 'someday': kept without a date" in first.stderr
    written = [json.loads(line) for line in rejects_file.read_text(encoding="utf-8").splitlines()]
    assert len(written) == 6 and {"file", "line", "reason"} == set(written[0])
    assert {"file": str(mixed / "odd.csv"), "line": 3, "reason": "has 2 fields, the header has 4"} in written
    # every good record is searchable
    found = runner.invoke(main, ["query", "fire OR ferry OR frost OR pilots OR library OR market OR port OR "
                                 "lane OR snow OR bridge OR lighthouse OR line OR quoted OR tug",
                                 "--index", str(tmp_path / "ix"), "--json", "--limit", "50"])
    assert json.loads(found.stdout)["total"] == 15
    # the same run again: nothing added or updated
    again = runner.invoke(main, args)
    assert again.exit_code == 3
    assert summary(again.stderr) == (0, 0, 15, 6)


def listed_line(stderr: str, name: str) -> str:
    return next(line for line in stderr.splitlines() if line.startswith("rejected: ") and name in line)


def test_nothing_readable_exits_1_and_quiet_prints_only_rejects(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    res = CliRunner().invoke(main, ["index", str(tmp_path / "empty.csv"), "--index", str(tmp_path / "ix"), "-q"])
    assert res.exit_code == 1
    assert res.stderr == f"rejected: {tmp_path / 'empty.csv'}: empty file\n"


def test_same_url_is_one_article_updated_in_place(tmp_path: Path) -> None:
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    variants = [
        "https://News.Example.com/story/?utm_source=feed&utm_medium=rss",
        "https://news.example.com/story#comments",
        "HTTPS://NEWS.EXAMPLE.COM/story?fbclid=abc&gclid=def",
    ]
    first = tmp_path / "a.jsonl"
    first.write_text("\n".join(json.dumps({"title": "Story", "body": "Version one.", "url": u}) for u in variants[:1]))
    assert summary(runner.invoke(main, ["index", str(first), "--index", ix]).stderr) == (1, 0, 0, 0)
    same = tmp_path / "b.jsonl"
    same.write_text("\n".join(json.dumps({"title": "Story", "body": "Version one.", "url": variants[0]}) for _ in range(1)))
    assert summary(runner.invoke(main, ["index", str(same), "--index", ix]).stderr) == (0, 0, 1, 0)
    changed = tmp_path / "c.csv"
    changed.write_text("title,body,url\n" + "".join(f"Story,Version two.,{u}\n" for u in variants[1:2]))
    assert summary(runner.invoke(main, ["index", str(changed), "--index", ix]).stderr) == (0, 1, 0, 0)
    third = tmp_path / "d.json"
    third.write_text(json.dumps([{"title": "Story", "body": "Version two.", "link": variants[2]}]))
    assert summary(runner.invoke(main, ["index", str(third), "--index", ix]).stderr) == (0, 0, 1, 0)
    stats = json.loads(runner.invoke(main, ["stats", "--index", ix, "--json"]).stdout)
    assert stats["articles"] == 1
    hit = json.loads(runner.invoke(main, ["query", "story", "--index", ix, "--json"]).stdout)["hits"][0]
    assert "two" in hit["snippet"]


def test_same_id_from_one_source_is_one_article(tmp_path: Path) -> None:
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    data = tmp_path / "a.jsonl"
    data.write_text(json.dumps({"id": 7, "source": "Wire", "title": "Old headline", "body": "b"}) + "\n"
                    + json.dumps({"id": "7", "source": "Wire", "title": "New headline", "body": "b"}) + "\n"
                    + json.dumps({"id": "7", "source": "Other wire", "title": "Other", "body": "b"}) + "\n")
    assert summary(runner.invoke(main, ["index", str(data), "--index", ix]).stderr) == (2, 1, 0, 0)


def test_stdin_and_format_options(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["index", "-", "--index", str(tmp_path / "ix"), "--format", "csv"],
                             input=b"title,body\nPiped,From standard input.\n")
    assert res.exit_code == 0, res.output
    assert summary(res.stderr) == (1, 0, 0, 0)
    bad = CliRunner().invoke(main, ["index", "-", "--index", str(tmp_path / "ix"), "--format", "rss"])
    assert bad.exit_code == 2  # not a format name: a usage error
    field = CliRunner().invoke(main, ["index", "-", "--index", str(tmp_path / "ix"), "--field", "body"])
    assert field.exit_code == 2 and "FIELD=COLUMN" in field.output
    unknown = CliRunner().invoke(main, ["index", "-", "--index", str(tmp_path / "ix"), "--field", "story=body"])
    assert unknown.exit_code == 2 and "unknown field 'story'" in unknown.output
