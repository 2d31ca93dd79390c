"""A two-node cluster on loopback: an index of 2 shards and 1 replica goes green, a node
killed mid-query loop costs no search and no article, and a rebuild's alias switch under
readers costs none either. Starts its own cluster (tests/opensearch/start.sh --nodes 2)."""
from __future__ import annotations

import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

import newssearch
from newssearch import Article

from ..conftest import OPENSEARCH_SCRIPTS

pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[test]'")
from opensearchpy import OpenSearch  # noqa: E402

PORT = "9280"
T0 = datetime(2025, 6, 1, tzinfo=timezone.utc)


def script(name, *args):
    return subprocess.run(["bash", str(OPENSEARCH_SCRIPTS / name), "--port", PORT, *args], capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def cluster(opensearch_url):  # a single node starting proves Java and the distribution are here
    run = script("start.sh", "--nodes", "2")
    if run.returncode != 0:
        pytest.fail(f"the 2-node cluster did not start: {run.stderr.strip().splitlines()[-3:]}")
    url = run.stdout.strip().splitlines()[-1]
    yield url
    script("stop.sh")


def articles(n, start=0):
    return [Article(id=f"c{i}", title=f"Port strike day {i}", body=f"Dockers kept the harbour strike going, day {i}.",
                    source="Coast Post", published=T0 + timedelta(minutes=i), lang="en") for i in range(start, start + n)]


def green(client, index, nodes=2):
    return client.cluster.health(index=index, params={"wait_for_status": "green", "wait_for_nodes": str(nodes),
                                                      "timeout": "30s"}, request_timeout=40)


def test_two_shards_one_replica_survive_a_killed_node(tmp_path, cluster):
    prefix = f"nstest-{uuid.uuid4().hex[:8]}"
    spec = f"opensearch+{cluster}/{prefix}?shards=2&replicas=1"
    client = OpenSearch([cluster])
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        ix.add(articles(400))
        health = green(client, prefix)
        assert health["status"] == "green" and health["number_of_nodes"] == 2
        shards = client.cat.shards(index=prefix, format="json")
        assert len(shards) == 4 and len({s["node"] for s in shards}) == 2  # copies on both nodes

        errors, answers, stop = [], [], threading.Event()

        def loop():
            while not stop.is_set():
                try:
                    answers.append(ix.search("harbour strike", limit=5).total)
                except Exception as exc:  # noqa: BLE001 - every failure is what this test counts
                    errors.append(repr(exc))

        reader = threading.Thread(target=loop)
        reader.start()
        time.sleep(1.0)
        killed = script("stop.sh", "--node", "2", "--kill")
        assert killed.returncode == 0 and "stopped node-2" in killed.stderr
        time.sleep(3.0)
        stop.set()
        reader.join()
        assert errors == [] and len(answers) > 20 and set(answers) == {400}

        back = script("start.sh", "--node", "2")
        assert back.returncode == 0, back.stderr
        assert green(client, prefix)["status"] == "green"
        assert len(ix) == 400 and ix.search("harbour strike").total == 400


def test_alias_switch_under_readers_costs_no_search(tmp_path, cluster, monkeypatch):
    prefix = f"nstest-{uuid.uuid4().hex[:8]}"
    spec = f"opensearch+{cluster}/{prefix}?shards=2&replicas=1"
    monkeypatch.setenv("NEWSSEARCH_STATE_DIR", str(tmp_path / "state"))
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        ix.add(articles(100))
        monkeypatch.setenv("NEWSSEARCH_STATE_DIR", str(tmp_path / "reader"))
        reader = newssearch.open_index(f"opensearch+{cluster}/{prefix}")  # through the alias
        errors, seen, stop = [], [], threading.Event()

        def loop():
            while not stop.is_set():
                try:
                    seen.append(reader.search("harbour").total)
                except Exception as exc:  # noqa: BLE001
                    errors.append(repr(exc))

        t = threading.Thread(target=loop)
        t.start()
        for n in range(1, 5):  # four new generations, each an alias switch
            ix.add(articles(25, start=100 * n))
        stop.set()
        t.join()
        reader.close()
    assert errors == []
    assert set(seen) <= {100, 125, 150, 175, 200} and seen[-1] == 200 and seen == sorted(seen)
