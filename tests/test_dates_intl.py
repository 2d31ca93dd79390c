"""Dates as newsrooms outside the US write them.

Written from the failing cases: ``12/08/2025`` was read as December with no word said;
``vor 2 Stunden``, ``il y a 2 heures``, ``13 août 2025``, ``לפני שעתיים``, ``منذ ساعتين``
were unreadable, so the articles lost their dates.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from newssearch import open_index
from newssearch.cli import main
from newssearch.dates import ambiguity, day_first, parse_datetime

NOW = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, back", [
    ("vor 2 Stunden", timedelta(hours=2)), ("vor einer Stunde", timedelta(hours=1)), ("vor 3 Tagen", timedelta(days=3)),
    ("gestern", timedelta(days=1)),
    ("il y a 2 heures", timedelta(hours=2)), ("il y a un an", timedelta(days=365)), ("hier", timedelta(days=1)),
    ("hace 3 días", timedelta(days=3)), ("hace 10 minutos", timedelta(minutes=10)),
    ("לפני שעתיים", timedelta(hours=2)), ("לפני 5 דקות", timedelta(minutes=5)), ("לפני שעה", timedelta(hours=1)),
    ("לפני יומיים", timedelta(days=2)), ("אתמול", timedelta(days=1)),
    ("منذ ساعتين", timedelta(hours=2)), ("منذ ٣ ساعات", timedelta(hours=3)), ("قبل يومين", timedelta(days=2)),
    ("منذ دقيقة", timedelta(minutes=1)),
])
def test_relative_times_in_other_languages(text, back):
    assert parse_datetime(text, now=NOW) == NOW - back


@pytest.mark.parametrize("text, day", [
    ("13 août 2025", "2025-08-13"), ("1er mai 2025", "2025-05-01"), ("13. März 2025 10:00", "2025-03-13"),
    ("13 de agosto de 2025", "2025-08-13"), ("13 באוגוסט 2025", "2025-08-13"), ("13 أغسطس 2025", "2025-08-13"),
    ("13 آب 2025", "2025-08-13"),
])
def test_month_names_in_other_languages(text, day):
    assert parse_datetime(text).strftime("%Y-%m-%d") == day


def test_numbers_alone_are_not_times():
    from newssearch.errors import BadInput

    for text in ("vor Stunden", "לפני", "il y a longtemps"):
        with pytest.raises(BadInput):
            parse_datetime(text, now=NOW)


def test_an_ambiguous_numeric_date_warns_and_dayfirst_reads_it_day_first():
    assert parse_datetime("12/08/2025").month == 12
    assert "ambiguous" in ambiguity("12/08/2025")
    assert ambiguity("13/08/2025") is None and ambiguity("2025-08-12") is None and ambiguity("08/08/2025") is None
    with day_first():
        assert parse_datetime("12/08/2025").strftime("%Y-%m-%d") == "2025-08-12"
        assert ambiguity("12/08/2025") is None


def _csv(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("title,body,date\nHarbour strike,Dock workers stop,12/08/2025\n", encoding="utf-8")
    return src


def test_index_warns_on_an_ambiguous_date_and_dayfirst_fixes_it(tmp_path):
    src = _csv(tmp_path)
    res = CliRunner().invoke(main, ["index", "--index", str(tmp_path / "a"), str(src)])
    assert res.exit_code == 0 and "is ambiguous: read month first" in res.stderr and "--dayfirst" in res.stderr
    with open_index(tmp_path / "a") as ix:
        assert ix.search("harbour").hits[0].published.month == 12
    res = CliRunner().invoke(main, ["index", "--index", str(tmp_path / "b"), str(src), "--dayfirst"])
    assert res.exit_code == 0 and "ambiguous" not in res.stderr
    with open_index(tmp_path / "b") as ix:
        assert ix.search("harbour").hits[0].published.strftime("%Y-%m-%d") == "2025-08-12"


def test_config_dayfirst_applies_to_rebuilds(tmp_path):
    _csv(tmp_path)
    cfg = tmp_path / "newssearch.toml"
    cfg.write_text('index = "ix"\ndayfirst = true\n\n[[sources]]\npath = "in.csv"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["rebuild", "--config", str(cfg), "--force"])
    assert res.exit_code == 0, res.output
    with open_index(tmp_path / "ix") as ix:
        assert ix.search("harbour").hits[0].published.strftime("%Y-%m-%d") == "2025-08-12"
    cfg.write_text('index = "ix"\ndayfirst = "yes"\n\n[[sources]]\npath = "in.csv"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["rebuild", "--config", str(cfg), "--force"])
    assert res.exit_code == 1 and "dayfirst must be true or false" in res.stderr


def test_relative_dates_in_records_and_pages_are_resolved(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"title": f"Hafen {i}", "body": "Streik im Hafen", "date": d}, ensure_ascii=False)
                           + "\n" for i, d in enumerate(["vor 2 Stunden", "منذ ساعتين", "לפני שעתיים"])),
                   encoding="utf-8")
    page = tmp_path / "page.html"
    page.write_text('<html><head><title>Grève au port</title><meta property="article:published_time" '
                    'content="13 août 2025"></head><body><article><p>' + "Les dockers du port sont en grève. " * 20
                    + "</p></article></body></html>", encoding="utf-8")
    with open_index(tmp_path / "ix", create=True) as ix:
        report = ix.add_paths([src, page], as_of=NOW)
        assert not report.rejected
        got = {h.title: h.published for h in ix.search("hafen OR grève", limit=10).hits}
    assert got["Hafen 0"] == got["Hafen 1"] == got["Hafen 2"] == NOW - timedelta(hours=2)
    assert got["Grève au port"].strftime("%Y-%m-%d") == "2025-08-13"
