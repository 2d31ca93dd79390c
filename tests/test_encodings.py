"""Legacy encodings: a cp1256 Arabic CSV and a cp1255 Hebrew CSV (and JSON lines) are
read in their own code page, found by charset-normalizer, with a warning naming it;
``--encoding`` forces one. Written from the case that went wrong: both were read as
cp1252, garbled, with exit 0, and Arabic queries found nothing."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from newssearch import open_index
from newssearch.cli import main

# our own sentences: a harbour strike, in Arabic and in Hebrew
ARABIC = [("إضراب عمال الميناء يدخل يومه الثالث", "توقفت الرافعات في الميناء بعد أن أضرب العمال عن العمل للمطالبة بالأجور."),
          ("وزير النقل يلتقي النقابة", "قال الوزير إن الحوار مع عمال الميناء سيستمر حتى التوصل إلى اتفاق.")]
HEBREW = [("שביתת עובדי הנמל נכנסת ליומה השלישי", "העגורנים בנמל עמדו דוממים אחרי שהעובדים שבתו בדרישה לשכר."),
          ("שר התחבורה נפגש עם ועד העובדים", "השר אמר כי השיחות עם עובדי הנמל יימשכו עד להסכם.")]


def write_csv(path, rows, codec):
    lines = ["title,body,source"] + [f'"{t}","{b}",Desk' for t, b in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(codec))


def run(*args):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("rows, codec, query", [(ARABIC, "cp1256", "الميناء"), (HEBREW, "cp1255", "הנמל")])
def test_a_legacy_csv_is_detected_and_searchable(tmp_path, rows, codec, query):
    src = tmp_path / "in.csv"
    write_csv(src, rows, codec)
    res = run("index", "--index", str(tmp_path / "ix"), str(src))
    assert res.exit_code == 0, res.output
    assert f"read as {codec} (detected)" in res.stderr
    with open_index(tmp_path / "ix") as ix:
        found = ix.search(query)
        assert found.total >= 1
        assert {h.title for h in ix.search(query, limit=10).hits} <= {t for t, _ in rows}


def test_legacy_json_lines_are_detected_too(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes("".join(json.dumps({"title": t, "body": b}, ensure_ascii=False) + "\n" for t, b in ARABIC * 3)
                    .encode("cp1256"))
    res = run("index", "--index", str(tmp_path / "ix"), str(src))
    assert res.exit_code == 0, res.output
    assert "read as cp1256 (detected)" in res.stderr
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("الميناء").total == 2


def test_encoding_forces_a_codec(tmp_path):
    src = tmp_path / "in.csv"
    write_csv(src, HEBREW, "cp1255")
    res = run("index", "--index", str(tmp_path / "ix"), str(src), "--encoding", "cp1255")
    assert res.exit_code == 0 and "detected" not in res.stderr
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("הנמל").total == 2


def test_an_unknown_encoding_is_one_line(tmp_path):
    src = tmp_path / "in.csv"
    write_csv(src, HEBREW, "cp1255")
    res = run("index", "--index", str(tmp_path / "ix"), str(src), "--encoding", "klingon-8")
    assert res.exit_code == 1
    assert res.stderr.strip() == "error: unknown encoding 'klingon-8' (use a Python codec name such as cp1256, cp1255, latin-1)"


def test_western_text_stays_cp1252(tmp_path):
    """A detector guesses cp1250 for short French text ("naïve" -> "naďve"); Latin text keeps cp1252."""
    src = tmp_path / "in.csv"
    write_csv(src, [("Café naïve “quoted”", "Le café de la gare a fermé. Élections à Genève.")], "cp1252")
    res = run("index", "--index", str(tmp_path / "ix"), str(src))
    assert "read as cp1252" in res.stderr
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("naïve").hits[0].title == "Café naïve “quoted”"
