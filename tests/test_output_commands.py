"""export, timeline, show and the terminal table: what a person at a terminal or a
spreadsheet sees (issue 13, items 3, 5 and 6)."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import newssearch
from newssearch._cli_ingest import progress
from newssearch.cli import main
from newssearch.errors import ArticleNotFound, BadQuery
from newssearch.timeline import sparkline

T0 = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MANY = 1_150  # past the 1,000 a query page can show


def _flotilla():
    """MANY ferry reports a day apart by source, plus a few odd ones."""
    out = []
    for i in range(MANY):
        out.append(newssearch.Article(
            title=f"Ferry report {i}: crossing {'delayed' if i % 3 else 'on time'}",
            body=f"The ferry crossing number {i} from Port Calder was logged by the harbour office. "
                 f"Wind {i % 40} knots, {i % 7} crew on duty.",
            source="Harbour Log" if i % 2 else "Calder Tide",
            published=T0 + timedelta(hours=6 * i),
            url=f"https://log.example.org/ferry/{i}",
            lang="en",
        ))
    out += [
        newssearch.Article(title="=HYPERLINK(\"http://evil.example\",\"ferry refund\")",
                           body="+1 ferry refund claims opened -- @office says so", source="@Spoof",
                           published=T0 + timedelta(days=1), url="https://spoof.example/1", lang="en"),
        newssearch.Article(title="Undated ferry timetable notice", body="The ferry timetable changes soon.",
                           source="Notice Board", lang="en"),
        newssearch.Article(title="Lighthouse keeper retires after forty years",
                           body="The keeper of the north light retired on Friday after forty winters.",
                           source="Calder Tide", published=T0 + timedelta(days=20), lang="en"),
    ]
    return out


@pytest.fixture(scope="module")
def ix_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("outputs") / "ix"
    with newssearch.open_index(path, create=True) as ix:
        ix.add(_flotilla())
    return path


@pytest.fixture()
def run(ix_path):
    runner = CliRunner()

    def invoke(*args, env=None):
        return runner.invoke(main, [*args, "--index", str(ix_path)], env=env)

    return invoke


# ------------------------------------------------------------------ export


def test_export_jsonl_streams_every_match_past_the_page_cap_with_bodies(run):
    res = run("export", "ferry")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == MANY + 2  # every ferry article, the undated one too; not the lighthouse
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert len({r["id"] for r in rows}) == len(rows)
    one = next(r for r in rows if r["url"] == "https://log.example.org/ferry/7")
    assert one["body"].startswith("The ferry crossing number 7 from Port Calder")
    assert set(one) >= {"id", "title", "body", "source", "published", "url", "lang", "author", "score"}
    assert one["published"] == "2025-06-04T03:00:00Z"  # 7 x 6 hours after 2 June 09:00
    # relevance order: scores never rise
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores, reverse=True)


def test_export_csv_neutralises_formulas_and_takes_filters(run):
    res = run("export", "ferry", "--format", "csv", "--source", "@Spoof")
    assert res.exit_code == 0, res.output
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(table) == 1
    row = table[0]
    assert row["title"].startswith("'=HYPERLINK(")
    assert row["body"].startswith("'+1 ferry refund")
    assert row["source"] == "'@Spoof"
    # plain text is left as it is
    res = run("export", "ferry", "--format", "csv", "--source", "Harbour Log", "--sort", "oldest")
    table = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(table) == MANY // 2
    assert table[0]["title"] == "Ferry report 1: crossing delayed"
    assert table[0]["published"] < table[-1]["published"]


def test_export_to_a_file_is_whole_or_absent(run, tmp_path):
    out = tmp_path / "ferries.csv"
    res = run("export", "ferry", "--format", "csv", "--output", str(out), "--since", "2025-06-01",
              "--until", "2025-06-03")
    assert res.exit_code == 0, res.output
    assert "exported 8 articles" in res.stderr  # 2 June from 09:00: 3; 3 June: 4 and the refund claim
    assert len(list(csv.DictReader(out.open(encoding="utf-8")))) == 8
    bad = tmp_path / "none.csv"
    res = run("export", "", "--output", str(bad))
    assert res.exit_code == 1 and res.stderr.startswith("error: ") and "Traceback" not in res.output
    assert not bad.exists() and list(tmp_path.iterdir()) == [out]


def test_export_into_a_closed_pipe_ends_quietly(ix_path):
    code = ("import sys; from newssearch.cli import main; "
            f"sys.argv = ['newssearch', 'export', 'ferry', '--index', {str(ix_path)!r}]; main()")
    proc = subprocess.run(f"{sys.executable} -c \"{code}\" | head -n 2", shell=True, capture_output=True, text=True,
                          timeout=120)
    assert len(proc.stdout.splitlines()) == 2
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_iter_search_collapse_and_sort(ix_path):
    with newssearch.open_index(ix_path) as ix:
        newest = ix.iter_search("ferry", sort="newest", batch=100)
        first = next(newest)
        assert first.title.startswith(f"Ferry report {MANY - 1}:")
        rest = list(newest)
        assert rest[-1].published is None  # undated last
        assert len(rest) + 1 == ix.search("ferry").total
        with pytest.raises(BadQuery):
            ix.iter_search("ferry", sort="sideways")
        with pytest.raises(BadQuery):
            ix.iter_search("ferry", batch=0)


def test_iter_search_collapses_copies_when_asked(tmp_path):
    body = ("Harbour pilots in Port Calder agreed a new rota on Tuesday after three weeks of talks, "
            "ending the slowdown that had kept container ships waiting outside the breakwater.")
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([newssearch.Article(title="Pilots agree rota", body=body, source=s, published=T0)
                for s in ("Wire A", "Wire B", "Wire C")])
        every = list(ix.iter_search("pilots rota"))
        folded = list(ix.iter_search("pilots rota", collapse=True))
    assert len(every) == 3 and len(folded) == 1
    assert sorted((folded[0].id, *folded[0].duplicate_ids)) == sorted(m.id for m in every)


# ------------------------------------------------------------------ timeline


def test_timeline_counts_per_period_with_empty_ones(ix_path):
    with newssearch.open_index(ix_path) as ix:
        days = ix.timeline("lighthouse OR refund", by="day")
        weeks = ix.timeline("ferry", by="week")
        months = ix.timeline("ferry", by="month", source="Harbour Log")
        with pytest.raises(BadQuery):
            ix.timeline("ferry", by="fortnight")
    # 3 June (refund) and 22 June (lighthouse): every day between is there, at 0
    assert [p.label for p in days][0] == "2025-06-03" and days.periods[-1].label == "2025-06-22"
    assert len(days) == 20 and sum(p.count for p in days) == 2
    assert days.periods[1].count == 0
    assert weeks.undated == 1 and weeks.total == MANY + 2
    assert sum(p.count for p in weeks) == MANY + 1
    assert weeks.periods[0].label == "2025-W23" and weeks.periods[0].start.isoformat() == "2025-06-02"
    assert weeks.periods[0].count == 3 + 6 * 4 + 1  # 2 June from 09:00, 3-8 June, the refund claim
    assert all(p.start.day == 1 for p in months)
    assert sum(p.count for p in months) == MANY // 2


def test_timeline_cli_table_json_csv_and_png(run, tmp_path):
    res = run("timeline", "ferry", "--by", "month")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{MANY + 2} matches for 'ferry' by month, 2025-06 to ")
    assert "1 undated" in lines[0]
    assert set(lines[1]) <= set("▁▂▃▄▅▆▇█ ") and "█" in lines[1]
    assert any(line.startswith("2025-06  ") and "█" in line for line in lines)
    doc = json.loads(run("timeline", "ferry", "--by", "week", "--json").stdout)
    assert doc["by"] == "week" and doc["periods"][0] == {"period": "2025-W23", "start": "2025-06-02", "count": 28}
    rows = list(csv.reader(io.StringIO(run("timeline", "refund", "--csv").stdout)))
    assert rows == [["period", "start", "count"], ["2025-06-03", "2025-06-03", "1"]]
    png = tmp_path / "chart.png"
    res = run("timeline", "ferry", "--by", "week", "--png", str(png))
    assert res.exit_code == 0, res.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert run("timeline", "ferry", "--by", "year").exit_code == 2


def test_sparkline_scales_and_fits():
    assert sparkline([0, 1, 2, 4, 8]) == " ▁▂▄█"
    assert sparkline([0, 0]) == "  "
    assert len(sparkline(list(range(500)), width=50)) == 50


# ------------------------------------------------------------------ show, short ids


def test_show_takes_a_short_id_from_the_listing(run):
    res = run("query", "lighthouse keeper")
    assert res.exit_code == 0, res.output
    short = re.search(r"^\s+(\w{8}) · Calder Tide", res.stdout, re.M).group(1)
    shown = run("show", short)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("Lighthouse keeper retires after forty years\n")
    assert "The keeper of the north light retired on Friday" in shown.stdout
    doc = json.loads(run("show", short, "--json").stdout)
    assert doc["id"].startswith(short) and doc["body"].startswith("The keeper")
    rel = run("related", short)
    assert rel.exit_code == 0 and f"related:{doc['id']}" in rel.stdout


def test_short_id_errors_are_one_line(run):
    for args, needle in ((("show", "zzzzzzzz"), "no article with id 'zzzzzzzz'"),
                         (("show", "uz"), "at least 4 characters")):
        res = run(*args)
        assert res.exit_code == 1 and needle in res.stderr and len(res.stderr.splitlines()) == 1


def test_an_ambiguous_short_id_asks_for_more(ix_path):
    with newssearch.open_index(ix_path) as ix:
        ids = sorted(m.id for m in ix.iter_search("ferry"))
        prefix = next(a[:4] for a, b in zip(ids, ids[1:]) if a[:4] == b[:4])
        with pytest.raises(BadQuery, match="several article ids"):
            ix.resolve_id(prefix)
        with pytest.raises(ArticleNotFound):
            ix.resolve_id("qqqqqqqq")
        assert ix.resolve_id(ids[0]) == ids[0]


# ------------------------------------------------------------------ the terminal table


def test_colour_replaces_marks_and_no_color_keeps_them(run):
    coloured = run("query", "keeper", "--color").stdout
    assert "\x1b[" in coloured and "[[" not in coloured
    assert "\x1b[33m\x1b[1mkeeper\x1b[0m" in coloured
    plain = run("query", "keeper", "--no-color").stdout
    assert "\x1b[" not in plain and "[[" in plain
    assert ANSI.sub("", coloured).replace("[[", "").replace("]]", "") != ""
    # NO_COLOR wins over a terminal; --color wins over NO_COLOR
    from newssearch.render import use_color

    class Tty(io.StringIO):
        def isatty(self):
            return True

    os.environ["NO_COLOR"] = "1"
    try:
        assert use_color(None, Tty()) is False
        assert use_color(True, Tty()) is True
    finally:
        del os.environ["NO_COLOR"]
    assert use_color(None, Tty()) is True and use_color(None, io.StringIO()) is False


@pytest.mark.parametrize("columns", [60, 140])
def test_table_fills_the_terminal_width(run, columns):
    res = run("query", "ferry crossing", "-n", "5", env={"COLUMNS": str(columns)})
    lines = res.stdout.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert max(len(line) for line in lines if line.startswith("     ")) > columns - 25
    assert re.search(r"^\s+\w{8} · (Harbour Log|Calder Tide) · 20\d\d-", res.stdout, re.M)


def test_index_progress_counts_records_of_one_big_file(tmp_path):
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as fh:
        for i in range(700):
            fh.write(json.dumps({"title": f"Tide table {i}", "body": f"High water at {i % 12} o'clock.",
                                 "source": "Tide Office"}) + "\n")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    shown = Tty()
    with newssearch.open_index(tmp_path / "ix", create=True) as ix, progress(False, shown) as bar:
        report = ix.add_paths([big], progress=bar.on_input, on_records=bar.on_records)
    assert report.added == 700
    text = shown.getvalue()
    assert "big.jsonl · 700 records" in text.rsplit("\r", 1)[-1]
    assert text.endswith("\n")
    quiet = Tty()
    with progress(True, quiet) as none:
        assert none is None
    with progress(False, io.StringIO()) as none:  # not a terminal: no progress at all
        assert none is None
