"""Hostile and broken input: each is a clear reject (or a truncation with a warning),
never an exception, and never costs the good records around it."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from newssearch.ingest import limits, read_path, read_paths
from newssearch.ingest.jsonl import json_depth_ok
from newssearch.model import Article, IngestWarning, Rejected

GOOD = json.dumps({"title": "Good record", "body": "Kept whatever its neighbours do."})


def split(records: list) -> tuple[list, list, list]:
    return ([r for r in records if isinstance(r, Article)], [r for r in records if isinstance(r, Rejected)],
            [r for r in records if isinstance(r, IngestWarning)])


def test_gzip_bomb_is_refused_not_unpacked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 256 * 1024)
    bomb = tmp_path / "bomb.jsonl.gz"
    # 16 MiB of one repeated line compress to ~16 KiB: far past the 256 KiB limit set above
    bomb.write_bytes(gzip.compress((GOOD + "\n").encode() * (16 * 1024 * 1024 // (len(GOOD) + 1)), 6))
    assert bomb.stat().st_size < 1024 * 1024
    good, bad, _ = split(list(read_path(bomb)))
    assert len(bad) == 1 and "MAX_DECOMPRESSED_BYTES" in bad[0].reason and "gzip bomb" in bad[0].reason
    assert 0 < len(good) < 5_000  # what came before the limit is kept; the rest never unpacked
    # a whole-document format stops at the same limit
    page = tmp_path / "bomb.html.gz"
    page.write_bytes(gzip.compress(b"<html><body>" + b" " * (8 * 1024 * 1024), 9))
    (only,) = list(read_path(page))
    assert isinstance(only, Rejected) and "gzip bomb" in only.reason


def test_document_and_page_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 1000)
    path = tmp_path / "big.csv"
    path.write_text("title,body\n" + "T,body\n" * 500, encoding="utf-8")
    (only,) = list(read_path(path))
    assert isinstance(only, Rejected) and "MAX_DOCUMENT_BYTES" in only.reason
    monkeypatch.setattr(limits, "MAX_DOCUMENT_BYTES", 10_000)
    monkeypatch.setattr(limits, "MAX_PAGE_BYTES", 500)
    page = tmp_path / "big.html"
    page.write_text("<html><body>" + "<p>Paragraph.</p>" * 100 + "</body></html>", encoding="utf-8")
    (only,) = list(read_path(page))
    assert isinstance(only, Rejected) and "MAX_PAGE_BYTES" in only.reason


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&secret;</title><description>d</description></item></channel></rss>
"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external-entity"])
def test_xml_entities_are_refused(tmp_path: Path, doc: str) -> None:
    path = tmp_path / "evil.xml"
    path.write_text(doc, encoding="utf-8")
    (only,) = list(read_path(path))
    assert isinstance(only, Rejected) and "entity" in only.reason
    assert only.line == doc.count("\n", 0, doc.index("<!ENTITY")) + 1


def test_deep_json_is_a_reject_not_a_recursion_error(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([GOOD, '{"title": ' + deep + "}", GOOD]) + "\n", encoding="utf-8")
    good, bad, _ = split(list(read_path(path)))
    assert len(good) == 2 and [(r.line, "MAX_JSON_DEPTH" in r.reason) for r in bad] == [(2, True)]
    whole = tmp_path / "deep.json"
    whole.write_text(deep, encoding="utf-8")
    (only,) = list(read_path(whole))
    assert isinstance(only, Rejected) and "MAX_JSON_DEPTH" in only.reason
    # brackets inside strings are text, not nesting
    assert json_depth_ok(json.dumps({"title": "[" * 1000}))
    assert not json_depth_ok("[" * (limits.MAX_JSON_DEPTH + 1))


def test_huge_article_is_truncated_with_a_warning(tmp_path: Path) -> None:
    body = ("word " * 10_000_000)  # 50 MB
    path = tmp_path / "huge.jsonl"
    path.write_text(GOOD + "\n" + json.dumps({"title": "Huge", "body": body}) + "\n" + GOOD + "\n", encoding="utf-8")
    good, bad, warned = split(list(read_path(path)))
    assert not bad and len(good) == 3
    assert len(good[1].body) == limits.MAX_TEXT_CHARS
    assert [(w.line, w.message) for w in warned] == [
        (2, f"body truncated from {len(body):,} to {limits.MAX_TEXT_CHARS:,} characters")]


def test_each_bad_file_is_one_reject_beside_good_ones(tmp_path: Path) -> None:
    (tmp_path / "a-good.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    (tmp_path / "binary.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "blank.md").write_text("\n\n  \n", encoding="utf-8")
    (tmp_path / "none.json").write_text('[{"title": "", "body": null, "url": "https://x.example/1"}]', encoding="utf-8")
    (tmp_path / "z-good.csv").write_text("title,body\nAlso good,Yes.\n", encoding="utf-8")
    good, bad, _ = split(list(read_paths([tmp_path])))
    assert [a.title for a in good] == ["Good record", "Also good"]
    reasons = {Path(r.file).name: r.reason for r in bad}
    assert reasons == {
        "binary.json": "binary file (NUL bytes): not text",
        "empty.csv": "empty file",
        "blank.md": "empty file",
        "none.json": "item 1: has neither title nor body",
    }
