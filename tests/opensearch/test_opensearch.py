"""The OpenSearch engine on a real server: generations as indexes behind an alias, the
url form, bulk rejects, credentials, and the CLI. The contract suite runs on it too
(tests/engine_contract)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

import newssearch
from newssearch import Article
from newssearch.cli import main
from newssearch.engine import engine_class, format_record
from newssearch.errors import NewsSearchError, RebuildRefused
from newssearch.rebuild import load_config, rebuild

pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[test]'")
from opensearchpy import OpenSearch  # noqa: E402

T0 = datetime(2025, 6, 1, 8, 0, tzinfo=timezone.utc)


def articles(n, *, word="harbour", start=0):
    return [Article(id=f"n{i}", title=f"{word.title()} story {i}", body=f"The {word} strike went on for day {i}.",
                    source="Coast Post" if i % 2 else "Lake Wire", published=T0 + timedelta(hours=i), lang="en")
            for i in range(start, start + n)]


@pytest.fixture()
def prefix():
    return f"nstest-{uuid.uuid4().hex[:8]}"


@pytest.fixture()
def spec(opensearch_url, prefix):
    return f"opensearch+{opensearch_url}/{prefix}"


@pytest.fixture()
def client(opensearch_url):
    return OpenSearch([opensearch_url])


def aliased(client, alias):
    return sorted(client.indices.get_alias(name=alias))


def live_key(ix):
    return format_record(ix.path / ix._generation)["key"]


def test_each_generation_is_an_index_and_the_alias_names_the_live_one(tmp_path, spec, prefix, client):
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        ix.add(articles(5))
        first = live_key(ix)
        assert aliased(client, prefix) == [first]
        ix.add(articles(3, start=5))
        second = live_key(ix)
        assert second != first and aliased(client, prefix) == [second]
        assert client.count(index=prefix)["count"] == 8
        ix.rollback()  # the alias moves back with the generation
        assert aliased(client, prefix) == [first] and client.count(index=prefix)["count"] == 5
        assert len(ix) == 5


def test_pruned_and_failed_generations_leave_no_index_behind(tmp_path, spec, prefix, client):
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        ix.keep_generations = 1
        for n in range(4):
            ix.add(articles(2, start=2 * n))
        with pytest.raises(RuntimeError):
            with ix.writing("index") as w:
                w.upsert([])
                raise RuntimeError("a write that fails half way")
        kept = {format_record(g.path)["key"] for g in ix.generations()}
        on_server = set(client.indices.get(index=f"{prefix}-*"))
        assert on_server == kept and len(kept) == 2  # the live one and one to roll back to
        assert len(ix) == 8


def test_a_rebuild_builds_a_new_index_and_the_shrink_guard_holds(tmp_path, opensearch_url, prefix, client):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body, "source": a.source,
                                        "published": a.published.isoformat()}) + "\n" for a in articles(10)))
    cfg = tmp_path / "news.toml"
    cfg.write_text(f'index = "ix"\nengine = "opensearch"\nurl = "{opensearch_url}"\nprefix = "{prefix}"\n'
                   '[[sources]]\npath = "data.jsonl"\n')
    config = load_config(cfg)
    assert config.engine == f"opensearch+{opensearch_url}/{prefix}"
    rebuild(config)
    first = aliased(client, prefix)
    assert client.count(index=prefix)["count"] == 10
    data.write_text(data.read_text().splitlines(True)[0])  # a source that lost 9 of its 10 articles
    with pytest.raises(RebuildRefused):
        rebuild(config)
    assert aliased(client, prefix) == first and client.count(index=prefix)["count"] == 10


def test_the_url_form_writes_a_root_in_the_state_dir_and_reads_anywhere(tmp_path, monkeypatch, spec, prefix):
    monkeypatch.setenv("NEWSSEARCH_STATE_DIR", str(tmp_path / "writer-state"))
    with newssearch.open_index(spec, create=True) as ix:
        ix.add(articles(4))
        assert str(ix.path).startswith(str(tmp_path / "writer-state"))
    # another machine (no root): read-only through the alias, following it as it moves
    monkeypatch.setenv("NEWSSEARCH_STATE_DIR", str(tmp_path / "reader-state"))
    with newssearch.open_index(spec) as reader:
        assert reader.search("harbour").total == 4
        monkeypatch.setenv("NEWSSEARCH_STATE_DIR", str(tmp_path / "writer-state"))
        with newssearch.open_index(spec) as writer:
            writer.add(articles(2, start=4))
        assert reader.search("harbour").total == 6  # the alias moved; the reader follows
        with pytest.raises(NewsSearchError, match="read-only view"):
            reader.add(articles(1, start=9))


def test_an_article_the_cluster_refuses_is_a_reject_with_its_reason(tmp_path, spec):
    from newssearch.engine.opensearch import writer as os_engine

    bad = Article(id="huge", title="Harbour", body="harbour " * 10, source="S", published=T0, lang="en")
    real = os_engine.document

    def poisoned(doc):
        src, sig = real(doc)
        if doc.id == "huge":
            src["published"] = "not a date"  # the mapping refuses it, as it would a broken record
        return src, sig

    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        os_engine.document = poisoned
        try:
            report = ix.add(articles(3) + [bad])
        finally:
            os_engine.document = real
        assert report.added == 3 and len(ix) == 3
        assert [r.file for r in report.rejected] == ["article huge"]
        assert "opensearch refused it" in report.rejected[0].reason


def test_credentials_never_go_in_the_url():
    with pytest.raises(NewsSearchError, match="OPENSEARCH_USERNAME"):
        engine_class("opensearch+http://admin:secret@127.0.0.1:9200/news")


def test_cli_index_and_query_with_engine_and_url(tmp_path, opensearch_url, prefix):
    data = tmp_path / "a.jsonl"
    data.write_text("".join(json.dumps({"id": a.id, "title": a.title, "body": a.body, "source": a.source,
                                        "published": a.published.isoformat()}) + "\n" for a in articles(6)))
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    r = runner.invoke(main, ["index", str(data), "--index", ix, "--engine", "opensearch", "--url", opensearch_url,
                             "--prefix", prefix, "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["query", "harbour strike", "--index", ix, "--json", "--limit", "3"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["total"] == 6
    r = runner.invoke(main, ["stats", "--index", ix, "--json"])
    assert json.loads(r.output)["engine"] == "opensearch"
    r = runner.invoke(main, ["query", "harbour", "--index", ix, "--explain"])
    assert r.exit_code == 0 and '"span_near"' not in r.output and '"term"' in r.output
    r = runner.invoke(main, ["query", '"harbour strike"', "--index", ix, "--explain"])
    assert '"span_near"' in r.output


def test_bulk_items_refused_as_busy_are_retried_not_lost(tmp_path, spec, monkeypatch):
    from newssearch.engine.opensearch import writer as os_engine

    monkeypatch.setattr(os_engine, "BULK_PAUSE", 0.01)
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        client = ix._engine.client
        real = client.bulk
        calls = []

        def busy_once(body, **kw):
            lines = body.strip("\n").split("\n")
            calls.append(len(lines) // 2)
            if len(calls) > 1:
                return real(body=body, **kw)
            # the cluster takes all but the last two articles and answers 429 for those
            answer = real(body="\n".join(lines[:-4]) + "\n", **kw)
            answer["items"] += [{"index": {"status": 429, "error": {"type": "es_rejected_execution_exception"}}}] * 2
            return answer

        monkeypatch.setattr(client, "bulk", busy_once)
        report = ix.add(articles(6))
    assert calls == [6, 2] and report.added == 6 and not report.rejected
    with newssearch.open_index(tmp_path / "ix") as again:
        assert len(again) == 6


def test_a_writer_killed_mid_block_leaves_no_index_on_the_server(tmp_path, opensearch_url, prefix, client):
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine=f"opensearch+{opensearch_url}/{prefix}") as ix:
        ix.add(articles(3))
    # a writer process that stops for good in the middle of its block
    code = textwrap.dedent(f"""
        import os, signal, newssearch
        from newssearch import Article
        ix = newssearch.open_index({str(root)!r})
        with ix.writing("index") as w:
            w.upsert(newssearch.records.index_docs([Article(id="x", title="Late", body="late harbour news", source="S")]))
            print("written", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ))
    assert run.returncode == -signal.SIGKILL and "written" in run.stdout
    assert len(client.indices.get(index=f"{prefix}-*")) >= 3  # the live one, the build's clone, its staging clone
    with newssearch.open_index(root) as ix:
        ix.add(articles(1, start=10))  # the next write clears what the dead one left
        kept = {format_record(g.path)["key"] for g in ix.generations()}
        assert set(client.indices.get(index=f"{prefix}-*")) == kept
        assert len(ix) == 4
