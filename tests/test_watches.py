"""Saved searches and alerts: the CLI, rebuild/update integration, feeds, the store."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch import open_index
from newssearch.cli import main
from newssearch.errors import BadInput, BadQuery, NewsSearchError
from newssearch.watches import (MAX_HISTORY, add_watch, alerts, check_watches, list_watches, remove_watch,
                                write_feed)

from .conftest import REPO

ATOM = "{http://www.w3.org/2005/Atom}"

OLD = [
    {"title": "Harbour strike halts the morning ferries", "body": "Dockworkers began a harbour strike over night shifts.",
     "source": "Calder Gazette", "date": "2025-03-10T08:00:00Z", "url": "https://news.example.com/strike-1"},
    {"title": "Bakery on Mill Lane wins a regional prize", "body": "The judges praised its rye loaf.",
     "source": "Calder Gazette", "date": "2025-03-10T09:00:00Z", "url": "https://news.example.com/bakery"},
]
NEW = [
    {"title": "Harbour strike enters its second week", "body": "The harbour strike continues; talks resume Friday.",
     "source": "Coast Wire", "date": "2025-03-17T08:00:00Z", "url": "https://news.example.com/strike-2"},
    {"title": "Rain expected over the weekend", "body": "Forecasters expect heavy rain on the coast.",
     "source": "Calder Gazette", "date": "2025-03-17T09:00:00Z", "url": "https://news.example.com/rain"},
    {"title": "Ferry union votes on the harbour strike", "body": "Members vote on extending the strike at the harbour.",
     "source": "Coast Wire", "date": "2025-03-18T10:00:00Z", "url": "https://news.example.com/strike-3"},
]
HOSTILE = {"title": 'Harbour strike: <script>alert("x")</script> & "quotes" \x07end',
           "body": "A harbour strike report with markup in its headline.", "source": "Tags & <Co>",
           "date": "2025-03-19T10:00:00Z", "url": "https://news.example.com/strike-4?a=1&b=2"}


def _write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture()
def runner():
    return CliRunner()


def _run(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def _ok(runner, *args):
    res = _run(runner, *args)
    assert res.exit_code == 0, res.output
    return res


def _ids(ix_path: Path, query: str):
    with open_index(ix_path) as ix:
        return {m.id for m in ix.iter_search(query)}


@pytest.fixture()
def ix_path(tmp_path, runner):
    path = tmp_path / "ix"
    _ok(runner, "index", _write(tmp_path / "old.jsonl", OLD), "--index", path, "-q")
    return path


def _config(tmp_path: Path, *sources: str, feeds: str = "") -> Path:
    cfg = tmp_path / "newssearch.toml"
    text = 'index = "ix"\nmin_ratio = 0\n' + (f'feeds = "{feeds}"\n' if feeds else "")
    text += "".join(f'\n[[sources]]\npath = "{s}"\n' for s in sources)
    cfg.write_text(text, encoding="utf-8")
    return cfg


# ---------------------------------------------------------------- the acceptance scenario


def test_alerts_list_exactly_the_new_matches(tmp_path, runner, ix_path):
    res = _ok(runner, "watch", "add", "strike", "harbour strike", "--index", ix_path)
    assert res.stdout == "watching strike: harbour strike (1 current matches taken as seen)\n"
    baseline = _ids(ix_path, "harbour strike")
    _ok(runner, "index", _write(tmp_path / "new.jsonl", NEW), "--index", ix_path, "-q")
    expected = _ids(ix_path, "harbour strike") - baseline
    assert len(expected) == 2

    doc = json.loads(_ok(runner, "alerts", "strike", "--json", "--index", ix_path).stdout)
    assert doc["errors"] == []
    assert {a["id"] for a in doc["alerts"]} == expected
    assert len(doc["alerts"]) == 2
    for alert in doc["alerts"]:
        assert set(alert) == {"watch", "id", "title", "url", "source", "published", "arrived"}
        assert alert["watch"] == "strike" and alert["arrived"].endswith("Z")
    # newest first: the later article was recorded after the earlier one
    assert doc["alerts"][0]["url"].endswith("strike-3")

    res = _ok(runner, "alerts", "strike", "--since-last", "--json", "--index", ix_path)
    assert json.loads(res.stdout) == {"alerts": [], "errors": []}
    res = _ok(runner, "alerts", "strike", "--since-last", "--jsonl", "--index", ix_path)
    assert res.stdout == ""
    # without --since-last the history is still there
    res = _ok(runner, "alerts", "--index", ix_path)
    assert len(res.stdout.splitlines()) == 2 and "Coast Wire" in res.stdout


def test_since_last_shows_what_arrived_between_calls(tmp_path, runner, ix_path):
    _ok(runner, "watch", "add", "strike", "harbour strike", "--index", ix_path)
    _ok(runner, "alerts", "strike", "--since-last", "--index", ix_path)
    _ok(runner, "index", _write(tmp_path / "new.jsonl", NEW[:1]), "--index", ix_path, "-q")
    first = json.loads(_ok(runner, "alerts", "--since-last", "--json", "--index", ix_path).stdout)
    assert [a["url"] for a in first["alerts"]] == ["https://news.example.com/strike-2"]
    _ok(runner, "index", _write(tmp_path / "more.jsonl", NEW[2:]), "--index", ix_path, "-q")
    lines = _ok(runner, "alerts", "strike", "--since-last", "--jsonl", "--index", ix_path).stdout.splitlines()
    assert [json.loads(line)["url"] for line in lines] == ["https://news.example.com/strike-3"]


# ---------------------------------------------------------------- rebuild / update


def test_rebuild_readding_the_same_articles_gives_no_duplicates(tmp_path, runner):
    _write(tmp_path / "old.jsonl", OLD)
    cfg = _config(tmp_path, "old.jsonl")
    _ok(runner, "rebuild", "--config", cfg, "-q")
    _ok(runner, "watch", "add", "strike", "harbour strike", "--config", cfg)
    _write(tmp_path / "old.jsonl", OLD + NEW)
    _ok(runner, "rebuild", "--config", cfg, "-q")  # the rebuild checks the watches itself
    _ok(runner, "rebuild", "--config", cfg, "-q")
    _ok(runner, "rebuild", "--config", cfg, "--force", "-q")
    doc = json.loads(_ok(runner, "alerts", "strike", "--json", "--config", cfg).stdout)
    urls = sorted(a["url"] for a in doc["alerts"])
    assert urls == ["https://news.example.com/strike-2", "https://news.example.com/strike-3"]
    # an article that disappears and comes back does not alert again
    _write(tmp_path / "old.jsonl", OLD)
    _ok(runner, "rebuild", "--config", cfg, "-q")
    _write(tmp_path / "old.jsonl", OLD + NEW)
    _ok(runner, "rebuild", "--config", cfg, "-q")
    doc = json.loads(_ok(runner, "alerts", "strike", "--since-last", "--json", "--config", cfg).stdout)
    assert doc["alerts"] == []


def test_update_with_feeds_writes_a_valid_atom_feed(tmp_path, runner):
    _write(tmp_path / "a.jsonl", OLD)
    cfg = _config(tmp_path, "a.jsonl")
    _ok(runner, "update", "--config", cfg, "-q")
    _ok(runner, "watch", "add", "strike", "harbour strike", "--config", cfg)
    _ok(runner, "watch", "add", "rain", "rain", "--config", cfg)
    _write(tmp_path / "a.jsonl", OLD + NEW + [HOSTILE])
    feeds = tmp_path / "feeds"
    _ok(runner, "update", "--config", cfg, "--feeds", feeds, "-q")
    assert sorted(p.name for p in feeds.iterdir()) == ["rain.atom", "strike.atom"]
    root = ET.parse(feeds / "strike.atom").getroot()
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}title").text == "newssearch: strike \u2014 harbour strike"
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 3
    by_url = {e.find(f"{ATOM}link").get("href"): e for e in entries}
    assert set(by_url) == {"https://news.example.com/strike-2", "https://news.example.com/strike-3",
                           "https://news.example.com/strike-4?a=1&b=2"}
    hostile = by_url["https://news.example.com/strike-4?a=1&b=2"]
    title = hostile.find(f"{ATOM}title").text
    assert '<script>alert("x")</script> & "quotes"' in title  # round-trips as text, never as markup
    assert hostile.find(f"{ATOM}author/{ATOM}name").text == "Tags & <Co>"
    assert hostile.find(f"{ATOM}id").text.startswith("urn:newssearch:u")
    assert hostile.find(f"{ATOM}published").text == "2025-03-19T10:00:00Z"
    raw = (feeds / "strike.atom").read_text(encoding="utf-8")
    assert "<script>" not in raw and "&lt;script&gt;" in raw
    rain = ET.parse(feeds / "rain.atom").getroot().findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href") for e in rain] == ["https://news.example.com/rain"]


def test_feeds_key_in_config(tmp_path, runner):
    _write(tmp_path / "a.jsonl", OLD)
    cfg = _config(tmp_path, "a.jsonl", feeds="out/feeds")
    _ok(runner, "rebuild", "--config", cfg, "-q")
    _ok(runner, "watch", "add", "strike", "harbour strike", "--config", cfg)
    _write(tmp_path / "a.jsonl", OLD + NEW)
    _ok(runner, "update", "--config", cfg, "-q")
    entries = ET.parse(tmp_path / "out" / "feeds" / "strike.atom").getroot().findall(f"{ATOM}entry")
    assert len(entries) == 2


def test_a_broken_watch_does_not_break_the_others_or_the_rebuild(tmp_path, runner):
    _write(tmp_path / "a.jsonl", OLD)
    cfg = _config(tmp_path, "a.jsonl")
    _ok(runner, "rebuild", "--config", cfg, "-q")
    _ok(runner, "watch", "add", "broken", "bakery", "--config", cfg)
    _ok(runner, "watch", "add", "strike", "harbour strike", "--config", cfg)
    store = tmp_path / "ix" / "watches.json"
    doc = json.loads(store.read_text(encoding="utf-8"))
    doc["watches"]["broken"]["query"] = "*"  # no longer means anything searchable
    store.write_text(json.dumps(doc), encoding="utf-8")
    _write(tmp_path / "a.jsonl", OLD + NEW)
    res = _ok(runner, "rebuild", "--config", cfg, "--feeds", tmp_path / "feeds")
    assert "warning: watch broken: " in res.stderr
    assert (tmp_path / "feeds" / "strike.atom").exists()
    res = _ok(runner, "alerts", "--json", "--config", cfg)
    out = json.loads(res.stdout)
    assert len(out["errors"]) == 1 and out["errors"][0].startswith("watch broken: ")
    assert sorted(a["url"] for a in out["alerts"]) == ["https://news.example.com/strike-2",
                                                       "https://news.example.com/strike-3"]
    assert "warning: watch broken" in res.stderr
    # the broken one alone: its error, exit 1, one line
    res = _run(runner, "alerts", "broken", "--config", cfg)
    assert res.exit_code == 1 and "Traceback" not in res.output


def test_a_corrupt_watches_file_is_one_line_and_left_alone(tmp_path, runner, ix_path):
    store = ix_path / "watches.json"
    store.write_text('{"watches": {"x": ', encoding="utf-8")
    for args in (["alerts"], ["watch", "list"], ["watch", "add", "y", "strike"], ["watch", "remove", "x"]):
        res = _run(runner, *args, "--index", ix_path)
        assert res.exit_code == 1, (args, res.output)
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and str(store) in lines[0] and "corrupt" in lines[0], lines
        assert res.exception is None or isinstance(res.exception, SystemExit)
    assert store.read_text(encoding="utf-8") == '{"watches": {"x": '


def test_corrupt_watches_do_not_fail_an_update(tmp_path, runner):
    _write(tmp_path / "a.jsonl", OLD)
    cfg = _config(tmp_path, "a.jsonl")
    _ok(runner, "update", "--config", cfg, "-q")
    (tmp_path / "ix" / "watches.json").write_text("not json", encoding="utf-8")
    _write(tmp_path / "a.jsonl", OLD + NEW)
    res = _ok(runner, "update", "--config", cfg)
    assert "warning: watches: " in res.stderr and "corrupt" in res.stderr
    assert (tmp_path / "ix" / "watches.json").read_text(encoding="utf-8") == "not json"


# ---------------------------------------------------------------- list, remove, names


def test_watch_list_and_remove(runner, ix_path):
    _ok(runner, "watch", "add", "strike", "harbour strike", "--index", ix_path, "--source", "Calder Gazette",
        "--since", "2025-01-01")
    _ok(runner, "watch", "add", "bakery", "bakery", "--index", ix_path)
    listed = json.loads(_ok(runner, "watch", "list", "--json", "--index", ix_path).stdout)
    assert [w["name"] for w in listed] == ["bakery", "strike"]
    strike = listed[1]
    assert strike["query"] == "harbour strike" and strike["seen"] == 1 and strike["arrivals"] == 0
    assert strike["filters"]["source"] == ["Calder Gazette"]
    assert strike["filters"]["since"].startswith("2025-01-01T00:00:00")
    table = _ok(runner, "watch", "list", "--index", ix_path).stdout
    assert "strike  'harbour strike'" in table and "bakery" in table
    assert _ok(runner, "watch", "remove", "bakery", "--index", ix_path).stdout == "removed watch bakery\n"
    assert [w["name"] for w in json.loads(_ok(runner, "watch", "list", "--json", "--index", ix_path).stdout)] == ["strike"]
    res = _run(runner, "watch", "remove", "bakery", "--index", ix_path)
    assert res.exit_code == 1 and res.stderr.startswith("error: no watch named 'bakery'")


def test_filters_are_kept_and_applied(tmp_path, ix_path):
    with open_index(ix_path) as ix:
        since = datetime(2025, 3, 18, tzinfo=timezone.utc)
        assert add_watch(ix, "late", "harbour strike", {"since": since, "source": ["Coast Wire"], "lang": None}) == 0
        assert list_watches(ix_path)[0].filters == {"since": since, "source": ["Coast Wire"]}
    CliRunner().invoke(main, ["index", str(_write(tmp_path / "new.jsonl", NEW)), "--index", str(ix_path), "-q"])
    with open_index(ix_path) as ix:
        found = check_watches(ix)
    assert [a["url"] for a in found.arrivals["late"]] == ["https://news.example.com/strike-3"]


def test_bad_and_duplicate_names(runner, ix_path):
    _ok(runner, "watch", "add", "strike", "harbour strike", "--index", ix_path)
    res = _run(runner, "watch", "add", "strike", "ferry", "--index", ix_path)
    assert res.exit_code == 1 and res.stderr == "error: watch strike exists\n"
    for bad in ("", "a b", "../x", ".hidden", "x" * 65, "naïve", "a/b"):
        res = _run(runner, "watch", "add", bad, "ferry", "--index", ix_path)
        assert res.exit_code == 1 and res.stderr.startswith("error: bad watch name"), (bad, res.output)
    res = _run(runner, "watch", "add", "empty", "*", "--index", ix_path)
    assert res.exit_code == 1 and res.stderr.startswith("error: ") and len(res.stderr.splitlines()) == 1
    res = _run(runner, "alerts", "nope", "--index", ix_path)
    assert res.exit_code == 1 and res.stderr.startswith("error: no watch named 'nope'")
    res = _run(runner, "alerts", "--rss", ix_path.parent / "f.atom", "--index", ix_path)
    assert res.exit_code == 1 and "give the watch NAME" in res.stderr
    assert [w.name for w in list_watches(ix_path)] == ["strike"]
    with open_index(ix_path) as ix:
        with pytest.raises(BadInput):
            add_watch(ix, "a" * 64 + "b", "ferry")
        with pytest.raises(BadQuery):
            add_watch(ix, "ok", "")
    with pytest.raises(BadInput):
        remove_watch(ix_path, "ok")


def test_alerts_rss_writes_the_watch_feed(tmp_path, runner, ix_path):
    _ok(runner, "watch", "add", "strike", "harbour strike", "--index", ix_path)
    _ok(runner, "index", _write(tmp_path / "new.jsonl", NEW), "--index", ix_path, "-q")
    _ok(runner, "alerts", "strike", "--rss", tmp_path / "strike.atom", "--index", ix_path)
    entries = ET.parse(tmp_path / "strike.atom").getroot().findall(f"{ATOM}entry")
    assert len(entries) == 2


def test_feed_strips_characters_xml_cannot_hold(tmp_path, ix_path):
    with open_index(ix_path) as ix:
        add_watch(ix, "w", "bakery")
        watch = list_watches(ix_path)[0]
    arrival = {"id": "x1", "title": "bad \x00\x1b\ufffe chars", "url": None, "source": "", "published": None,
               "arrived": "2025-03-20T00:00:00Z"}
    write_feed(watch, [arrival], tmp_path / "w.atom")
    entry = ET.parse(tmp_path / "w.atom").getroot().find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}title").text == "bad  chars"
    assert entry.find(f"{ATOM}link") is None and entry.find(f"{ATOM}summary") is not None


def test_history_is_capped_but_seen_is_complete(tmp_path, ix_path):
    many = [{"title": f"Harbour strike bulletin {n}", "body": "harbour strike news", "source": "Coast Wire",
             "url": f"https://news.example.com/b/{n}"} for n in range(MAX_HISTORY + 5)]
    with open_index(ix_path) as ix:
        add_watch(ix, "strike", "harbour strike")
    CliRunner().invoke(main, ["index", str(_write(tmp_path / "many.jsonl", many)), "--index", str(ix_path), "-q"])
    with open_index(ix_path) as ix:
        assert len(check_watches(ix).arrivals["strike"]) == MAX_HISTORY + 5
        assert len(alerts(ix, "strike").alerts) == MAX_HISTORY
        assert check_watches(ix).arrivals["strike"] == []
    w = list_watches(ix_path)[0]
    assert (w.arrivals, w.seen) == (MAX_HISTORY, MAX_HISTORY + 6)


def test_library_errors_are_named(tmp_path, ix_path):
    (ix_path / "watches.json").write_text('{"watches": []}', encoding="utf-8")
    with pytest.raises(NewsSearchError, match="corrupt watches file"):
        list_watches(ix_path)


# ---------------------------------------------------------------- concurrency


def test_concurrent_adds_all_land(ix_path):
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    names = [f"w{n}" for n in range(6)]
    procs = [subprocess.Popen([sys.executable, "-m", "newssearch", "watch", "add", name, "harbour strike",
                               "--index", str(ix_path)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name in names]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    assert [w.name for w in list_watches(ix_path)] == sorted(names)
    assert not [p for p in ix_path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------- the examples/cron recipe


def _recipe(tmp_path):
    import shutil

    srv = tmp_path / "srv"
    shutil.copytree(REPO / "examples", srv / "examples")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "newssearch"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m newssearch "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}",
           "NEWSSEARCH_CONFIG": str(srv / "examples" / "newssearch.toml")}
    env.pop("NEWSSEARCH_INDEX", None)
    subprocess.run([str(shim), "update", "-q"], env=env, check=True, cwd="/")
    subprocess.run([str(shim), "watch", "add", "strike", "harbour strike"], env=env, check=True, cwd="/",
                   capture_output=True)
    with open(srv / "examples" / "articles.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**NEW[0], "lang": "en"}) + "\n")
    return srv, bindir, env


def test_cron_recipe_runs_as_written(tmp_path):
    srv, bindir, env = _recipe(tmp_path)
    text = (REPO / "examples" / "cron" / "crontab").read_text(encoding="utf-8").replace("/srv/newssearch", str(srv))
    text = text.replace("/var/tmp/", f"{tmp_path}/")
    jobs = [line.split(None, 5)[5] for line in text.splitlines()
            if line.strip() and not line.startswith("#") and not line.split("=", 1)[0].isupper()]
    assert len(jobs) == 1
    done = subprocess.run(["/bin/sh", "-c", jobs[0]], env=env, capture_output=True, text=True, cwd="/")
    assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
    lines = (tmp_path / "newssearch-alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["url"] for line in lines] == [NEW[0]["url"]]
    entries = ET.parse(srv / "feeds" / "strike.atom").getroot().findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}link").get("href") for e in entries] == [NEW[0]["url"]]
    subprocess.run(["/bin/sh", "-c", jobs[0]], env=env, check=True, cwd="/")  # nothing new: nothing appended
    assert len((tmp_path / "newssearch-alerts.jsonl").read_text(encoding="utf-8").splitlines()) == 1


def test_systemd_update_recipe_runs_as_written(tmp_path):
    srv, bindir, env = _recipe(tmp_path)
    unit = (REPO / "examples" / "cron" / "newssearch-update.service").read_text(encoding="utf-8")
    keys = dict(line.split("=", 1) for line in unit.replace("/srv/newssearch", str(srv)).splitlines()
                if "=" in line and not line.startswith("#"))
    assert keys["Type"] == "oneshot" and keys["SuccessExitStatus"] == "3"
    outputs = []
    for key in ("ExecStart", "ExecStartPost"):
        argv = keys[key].split()
        assert argv[0] == f"{srv}/.venv/bin/newssearch"
        done = subprocess.run([str(bindir / "newssearch"), *argv[1:]], env=env, capture_output=True, text=True, cwd="/")
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == "" and json.loads(outputs[1])["url"] == NEW[0]["url"]
    assert (srv / "feeds" / "strike.atom").exists()
    timer = (REPO / "examples" / "cron" / "newssearch-update.timer").read_text(encoding="utf-8")
    assert "OnCalendar=*:0/30" in timer and "WantedBy=timers.target" in timer
