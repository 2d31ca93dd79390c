"""Config-driven rebuild/update and the scheduling commands, through the API and the CLI."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from newssearch import BadInput, open_index
from newssearch.cli import EXIT_LOCKED, main
from newssearch.errors import RebuildRefused
from newssearch.rebuild import load_config, rebuild, update

from .conftest import EXAMPLES

UTC = timezone.utc


def write_jsonl(path: Path, n: int, *, start: int = 0, days_old: int = 1, tag: str = "") -> None:
    now = datetime.now(UTC)
    lines = []
    for i in range(start, start + n):
        lines.append(
            json.dumps(
                {
                    "id": str(i),
                    "title": f"Canal lock {i} reopens{tag}",
                    "body": f"Boats passed canal lock {i} again after repairs{tag}.",
                    "source": "Canal Courier",
                    "date": (now - timedelta(days=days_old)).isoformat(),
                    "url": f"https://example.com/canal/{i}",
                }
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture()
def setup(tmp_path):
    """A config in its own directory, with a relative index path and one JSON-lines source."""
    conf_dir = tmp_path / "conf"
    (conf_dir / "data").mkdir(parents=True)
    write_jsonl(conf_dir / "data" / "news.jsonl", 20)
    cfg = conf_dir / "newssearch.toml"
    cfg.write_text(
        'index = "../ix"\nkeep_generations = 2\n\n[[sources]]\npath = "data/*.jsonl"\nsource = "Canal Courier Online"\n',
        encoding="utf-8",
    )
    return cfg


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_config_paths_are_relative_to_the_config_file(setup, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path.parent)  # cron starts commands elsewhere
    config = load_config(setup)
    assert config.index == (setup.parent / "../ix")
    assert config.sources[0].path == str(setup.parent / "data/*.jsonl")
    assert (config.keep_generations, config.min_ratio, config.retention_days) == (2, 0.5, None)


@pytest.mark.parametrize(
    "text, message",
    [
        ("index = 3\n[[sources]]\npath='x'\n", "index"),
        ('index = "ix"\n', "[[sources]]"),
        ('index = "ix"\n[[sources]]\npath = "a"\nurl = "http://127.0.0.1/"\n', "exactly one of"),
        ('index = "ix"\nmin_ratio = 2\n[[sources]]\npath = "a"\n', "min_ratio"),
        ('index = "ix"\ncolour = 1\n[[sources]]\npath = "a"\n', "unknown key 'colour'"),
        ('index = "ix"\n[[sources]]\npath = "a"\nas_of = "sometime"\n', "as_of"),
        ("index = [\n", "not valid TOML"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path, text, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(BadInput, match=f"{cfg}.*{message}".replace("[", r"\[").replace("]", r"\]")):
        load_config(cfg)
    res = run("rebuild", "--config", cfg)
    assert res.exit_code == 1 and res.stderr.startswith(f"error: {cfg}")


def test_rebuild_update_and_overrides(setup):
    config = load_config(setup)
    report = rebuild(config)
    assert (report.kind, report.added, report.articles, report.switched) == ("rebuild", 20, 20, True)
    with open_index(config.index) as ix:
        assert {h.source for h in ix.search("canal", limit=50)} == {"Canal Courier Online"}
    # nothing new: no new generation
    again = update(config)
    assert (again.added, again.unchanged, again.switched) == (0, 20, False)
    # five new and one changed article
    data = setup.parent / "data" / "news.jsonl"
    write_jsonl(setup.parent / "data" / "more.jsonl", 5, start=100)
    lines = data.read_text().splitlines()
    lines[0] = lines[0].replace("after repairs", "after long repairs")
    data.write_text("\n".join(lines) + "\n")
    up = update(config)
    assert (up.added, up.updated, up.unchanged, up.articles) == (5, 1, 19, 25)
    assert up.generation == report.generation + 1


def test_rebuild_refuses_to_empty_the_index(setup):
    config = load_config(setup)
    rebuild(config)
    (setup.parent / "data" / "news.jsonl").write_text("", encoding="utf-8")  # a broken feed
    with pytest.raises(RebuildRefused, match="0 articles, fewer than min_ratio 0.5 x 20 live"):
        rebuild(config)
    with open_index(config.index) as ix:
        assert len(ix) == 20
    res = run("rebuild", "--config", setup)
    assert res.exit_code == 1
    assert "rebuild refused" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    forced = run("rebuild", "--config", setup, "--force")
    assert forced.exit_code == 3, forced.output  # switched; the empty file is a reject
    assert "empty file" in forced.stderr
    with open_index(config.index) as ix:
        assert len(ix) == 0


def test_retention_days_applies_on_rebuild_and_update(setup):
    write_jsonl(setup.parent / "data" / "old.jsonl", 3, start=500, days_old=400)
    setup.write_text(setup.read_text().replace("keep_generations = 2", "keep_generations = 2\nretention_days = 90"))
    config = load_config(setup)
    report = rebuild(config)
    assert (report.articles, report.expired) == (20, 3)


def test_cli_rebuild_summary_generations_rollback(setup):
    res = run("rebuild", "--config", setup)
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("rebuild: generation ") and "added 20" in res.stdout
    write_jsonl(setup.parent / "data" / "more.jsonl", 4, start=100)
    res = run("update", "--config", setup)
    assert res.exit_code == 0 and "added 4" in res.stdout
    gens = json.loads(run("generations", "--config", setup, "--json").stdout)
    assert [(g["articles"], g["live"]) for g in gens] == [(20, False), (24, True)]
    assert set(gens[0]) >= {"id", "created", "articles", "live"}
    res = run("rollback", "--config", setup)
    assert res.exit_code == 0 and "20 articles" in res.stdout
    ix_dir = load_config(setup).index
    stats = json.loads(run("stats", "--index", ix_dir, "--json").stdout)
    assert stats["articles"] == 20
    # --quiet prints nothing on success
    res = run("update", "--config", setup, "--quiet")
    assert res.exit_code == 0 and res.stdout == ""


def test_cli_rebuild_with_rejects_exits_3(setup):
    (setup.parent / "data" / "broken.jsonl").write_text('{"title": "ok", "body": "fine"}\nnot json\n')
    res = run("rebuild", "--config", setup)
    assert res.exit_code == 3
    assert "broken.jsonl:2:" in res.stderr
    assert "added 21" in res.stdout


def test_cli_rebuild_needs_a_config(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWSSEARCH_CONFIG", raising=False)
    res = run("rebuild", "--index", tmp_path / "ix")
    assert res.exit_code == 1 and "--config" in res.stderr


def test_cli_prune(setup):
    write_jsonl(setup.parent / "data" / "old.jsonl", 3, start=500, days_old=400)
    run("rebuild", "--config", setup)
    res = run("prune", "--config", setup, "--older-than", "90d")
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("deleted 3 articles")
    assert json.loads(run("stats", "--index", load_config(setup).index, "--json").stdout)["articles"] == 20
    assert run("prune", "--config", setup).exit_code == 2  # neither --older-than nor --before


def test_cli_locked_exit_code(setup):
    from newssearch.generations import IndexRoot

    config = load_config(setup)
    rebuild(config)
    with IndexRoot(config.index).lock(command="other"):
        res = run("update", "--config", setup, "--wait", "0.2")
    assert res.exit_code == EXIT_LOCKED
    assert f"locked by pid {os.getpid()}" in res.stderr


def test_example_config_reads_the_examples(tmp_path):
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    cfg = tmp_path / "examples" / "newssearch.toml"
    res = run("rebuild", "--config", cfg)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "indexes" / "examples" / "CURRENT").is_file()
    stats = json.loads(run("stats", "--index", tmp_path / "indexes" / "examples", "--json").stdout)
    assert stats["articles"] >= 10


def _recipe_env(tmp_path):
    """A copy of examples/ standing in for /srv/newssearch, and the variables cron/systemd set."""
    shutil.copytree(EXAMPLES, tmp_path / "srv" / "examples")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shim = bindir / "newssearch"  # the virtualenv's console script, for this interpreter
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m newssearch "$@"\n')
    shim.chmod(0o755)
    return tmp_path / "srv", bindir


def test_crontab_recipe_runs_as_written(tmp_path):
    srv, bindir = _recipe_env(tmp_path)
    text = (EXAMPLES / "schedule" / "crontab").read_text().replace("/srv/newssearch", str(srv))
    text = text.replace("/var/tmp/newssearch.log", str(tmp_path / "cron.log"))
    env = {"HOME": str(tmp_path), "SHELL": "/bin/sh"}
    jobs = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            key, value = line.split("=", 1)
            env[key] = value
        else:
            jobs.append(line.split(None, 5)[5])  # after the five time fields
    env["PATH"] = f"{bindir}:{env['PATH']}"
    assert len(jobs) == 2
    for job in jobs:  # cron runs each with /bin/sh
        done = subprocess.run(["/bin/sh", "-c", job], env=env, capture_output=True, text=True, cwd="/")
        assert done.returncode == 0 and done.stdout == "", done.stdout + done.stderr
    stats = json.loads(run("stats", "--index", srv / "indexes" / "examples", "--json").stdout)
    assert stats["articles"] >= 10
    # a failing job says so on stdout, which cron mails
    env["NEWSSEARCH_CONFIG"] = str(tmp_path / "missing.toml")
    failed = subprocess.run(["/bin/sh", "-c", jobs[0]], env=env, capture_output=True, text=True, cwd="/")
    assert "newssearch rebuild failed with exit 1" in failed.stdout
    assert "config file not found" in (tmp_path / "cron.log").read_text()


def test_systemd_recipe_runs_as_written(tmp_path):
    srv, bindir = _recipe_env(tmp_path)
    service = (EXAMPLES / "schedule" / "newssearch-rebuild.service").read_text().replace("/srv/newssearch", str(srv))
    keys = dict(
        line.split("=", 1) for line in service.splitlines() if "=" in line and not line.startswith("#")
    )
    assert keys["Type"] == "oneshot" and keys["SuccessExitStatus"] == "3"
    var, value = keys["Environment"].split("=", 1)
    argv = keys["ExecStart"].split()
    assert argv[0] == f"{srv}/.venv/bin/newssearch"
    done = subprocess.run(
        [str(bindir / "newssearch"), *argv[1:]],
        env={**os.environ, var: value}, capture_output=True, text=True, cwd="/",
    )
    assert done.returncode in (0, 3), done.stderr
    assert done.stdout.startswith("rebuild: generation ")
    timer = (EXAMPLES / "schedule" / "newssearch-rebuild.timer").read_text()
    assert "OnCalendar=*-*-* 03:15:00" in timer and "WantedBy=timers.target" in timer


def test_url_sources_rebuild_in_full_and_update_conditionally(tmp_path):
    from .test_fetch import ETAG, Server, feed_route

    server = Server()
    try:
        server.routes["/feed"] = feed_route()
        cfg = tmp_path / "feeds.toml"
        cfg.write_text(f'index = "ix"\n[[sources]]\nurl = "{server.base}/feed"\n', encoding="utf-8")
        config = load_config(cfg)
        first = rebuild(config)
        assert (first.added, first.articles) == (2, 2)
        up = update(config)
        assert (up.added, up.switched, up.not_modified) == (0, False, (f"{server.base}/feed",))
        assert server.requests[-1][1].get("If-None-Match") == ETAG
        # a rebuild starts from nothing, so it must fetch in full, never accept a 304
        again = rebuild(config)
        assert "If-None-Match" not in server.requests[-1][1]
        assert (again.added, again.articles) == (2, 2)
        res = run("update", "--config", cfg)
        assert res.exit_code == 0 and f"not modified: {server.base}/feed" in res.stderr
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


@pytest.mark.parametrize("engine", ["whoosh", "tantivy"])
def test_rebuild_moves_an_index_this_version_cannot_read_to_the_current_format(setup, engine):
    """After an upgrade that changes an engine's format, queries and updates say "rebuild
    needed"; the scheduled `rebuild` then builds the new generation from the sources (the
    old one is counted from its record for min_ratio, never opened) and switches to it."""
    if engine == "tantivy":
        pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")
    setup.write_text(f'engine = "{engine}"\n' + setup.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(setup)
    rebuild(config)
    with open_index(config.index) as ix:
        live = Path(ix.generations()[-1].path)
    record = json.loads((live / "newssearch.json").read_text(encoding="utf-8"))
    record["format"] = -1  # as an older newssearch wrote it
    (live / "newssearch.json").write_text(json.dumps(record), encoding="utf-8")
    for args in (("query", "canal", "--index", config.index), ("update", "--config", setup)):
        r = run(*args)
        assert r.exit_code == 1 and "rebuild needed" in r.stderr and "Traceback" not in r.output, args
    # min_ratio still guards: the old generation's 20 articles come from its record
    (setup.parent / "data" / "news.jsonl").write_text("", encoding="utf-8")
    r = run("rebuild", "--config", setup)
    assert r.exit_code == 1 and "fewer than min_ratio 0.5 x 20 live" in r.stderr
    write_jsonl(setup.parent / "data" / "news.jsonl", 15)
    r = run("rebuild", "--config", setup)
    assert r.exit_code == 0, r.output
    with open_index(config.index) as ix:
        assert len(ix) == 15 and ix.search("canal lock").total == 15
        assert [g.live for g in ix.generations()][-2:] == [False, True]  # the old one kept for rollback
