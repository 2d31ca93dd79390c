"""The command line, through click's CliRunner: exit codes, output, errors."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from newssearch.cli import main

from .conftest import EXAMPLES, SEED_TITLE_SHA, sha


@pytest.fixture()
def runner():
    return CliRunner()


@pytest.fixture()
def seed_ix(tmp_path, runner, seed_path):
    path = tmp_path / "ix"
    res = runner.invoke(main, ["index", str(seed_path), "--as-of", "2025-08-13T12:00:00Z", "--index", str(path)])
    assert res.exit_code == 0, res.output
    # the summary is one line on stderr, exactly in this form; stdout stays empty
    assert re.fullmatch(r"added 4, updated 0, unchanged 0, rejected 0 in \d+\.\ds\n", res.stderr), res.stderr
    assert res.stdout == ""
    return path


def test_seed_acceptance(runner, seed_ix):
    res = runner.invoke(main, ["query", "coup", "--index", str(seed_ix), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    first = doc["hits"][0]
    assert sha(first["title"]) == SEED_TITLE_SHA["mali"]
    assert first["source"] == "Al Jazeera"
    assert first["published"].startswith("2025-08-11")
    assert set(first) >= {"id", "title", "source", "published", "url", "score", "snippet"}
    assert doc["total"] >= 1 and doc["warnings"] == []

    stats = runner.invoke(main, ["stats", "--index", str(seed_ix)])
    assert stats.exit_code == 0
    assert "articles: 4" in stats.stdout.splitlines()
    stats_json = json.loads(runner.invoke(main, ["stats", "--index", str(seed_ix), "--json"]).stdout)
    assert stats_json["articles"] == 4
    assert stats_json["sources"] == {"Al Jazeera": 3, "ILoveQatar.net": 1}


def test_seed_indexed_twice_keeps_four(runner, seed_ix, seed_path):
    res = runner.invoke(main, ["index", str(seed_path), "--as-of", "2025-08-13T12:00:00Z", "--index", str(seed_ix)])
    assert res.exit_code == 0
    assert res.stderr.startswith("added 0, updated 0, unchanged 4, rejected 0 in ")
    doc = json.loads(runner.invoke(main, ["stats", "--index", str(seed_ix), "--json"]).stdout)
    assert doc["articles"] == 4


def test_since_and_source_options(runner, seed_ix):
    args = ["query", "mali OR gaza OR myanmar OR metrash", "--index", str(seed_ix), "--json"]
    every = json.loads(runner.invoke(main, args).stdout)
    assert every["total"] == 4
    recent = json.loads(runner.invoke(main, args + ["--since", "2025-08-12"]).stdout)
    assert recent["total"] == 3
    assert all(h["published"] >= "2025-08-12" for h in recent["hits"])
    only = json.loads(runner.invoke(main, args + ["--source", "iloveqatar.net"]).stdout)
    assert [h["source"] for h in only["hits"]] == ["ILoveQatar.net"]
    upto = json.loads(runner.invoke(main, args + ["--until", "2025-08-11"]).stdout)
    assert [h["published"][:10] for h in upto["hits"]] == ["2025-08-11"]


def test_table_output_on_terminal(runner, seed_ix):
    res = runner.invoke(main, ["query", "Goïta", "--index", str(seed_ix)])
    assert res.exit_code == 0
    out = res.stdout
    first_title = out.split("\n  1. ", 1)[1].split("\n", 1)[0]
    assert sha(first_title) == SEED_TITLE_SHA["mali"]
    assert "Al Jazeera · 2025-08-11 12:00 UTC" in out
    assert "[[Goita" in out  # the matched word, marked


def test_examples_index_and_query(runner, tmp_path):
    path = tmp_path / "ex"
    res = runner.invoke(main, ["index", str(EXAMPLES), "--index", str(path)])
    assert res.exit_code == 0, res.output
    stats = json.loads(runner.invoke(main, ["stats", "--index", str(path), "--json"]).stdout)
    assert stats["articles"] >= 10
    assert len(stats["languages"]) >= 3


def test_env_var_names_the_index(runner, seed_ix, monkeypatch):
    monkeypatch.setenv("NEWSSEARCH_INDEX", str(seed_ix))
    res = runner.invoke(main, ["stats"])
    assert res.exit_code == 0
    assert "articles: 4" in res.stdout


def test_missing_index_is_one_line_exit_1(runner, tmp_path):
    res = runner.invoke(main, ["query", "coup", "--index", str(tmp_path / "none")])
    assert res.exit_code == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no index at")
    assert "Traceback" not in res.output


def test_query_with_nothing_to_search_exit_1(runner, seed_ix):
    res = runner.invoke(main, ["query", "   ", "--index", str(seed_ix)])
    assert res.exit_code == 1
    assert res.stderr.startswith("error: ")
    assert len(res.stderr.strip().splitlines()) == 1


def test_bad_date_option_exit_1(runner, seed_ix):
    res = runner.invoke(main, ["query", "coup", "--index", str(seed_ix), "--since", "not a date"])
    assert res.exit_code == 1
    assert "not a date" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_usage_error_exit_2(runner, seed_ix):
    res = runner.invoke(main, ["query", "coup", "--index", str(seed_ix), "--sort", "random"])
    assert res.exit_code == 2


def test_rejected_records_exit_3_and_good_ones_indexed(runner, tmp_path):
    data = tmp_path / "mixed.jsonl"
    data.write_text(
        '{"id": "1", "title": "Bridge reopens", "body": "The old bridge reopened.", "source": "Town Post"}\n'
        "{this is not json\n"
        '{"id": "3", "title": "Ferry delayed", "body": "Fog delayed the ferry.", "source": "Town Post"}\n',
        encoding="utf-8",
    )
    path = tmp_path / "ix"
    res = runner.invoke(main, ["index", str(data), "--index", str(path)])
    assert res.exit_code == 3
    assert f"{data}:2:" in res.stderr
    assert res.stderr.splitlines()[-1].startswith("added 2, updated 0, unchanged 0, rejected 1 in ")
    assert json.loads(runner.invoke(main, ["stats", "--index", str(path), "--json"]).stdout)["articles"] == 2


def test_all_rejected_exit_1(runner, tmp_path):
    data = tmp_path / "bad.jsonl"
    data.write_text("not json\n", encoding="utf-8")
    res = runner.invoke(main, ["index", str(data), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 1
    assert f"{data}:1:" in res.stderr


def test_missing_input_file_is_rejected_not_a_traceback(runner, tmp_path):
    res = runner.invoke(main, ["index", str(tmp_path / "nope.jsonl"), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 1
    assert "nope.jsonl" in res.stderr
    assert "Traceback" not in res.output


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "newssearch", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("index", "query", "stats"):
        assert command in out
