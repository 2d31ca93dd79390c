"""Shared fixtures: paths to ../shared (read at run time, never copied) and built indexes."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_46c411834d24fb68.txt"
CORPORA = SHARED / "corpora"
EXAMPLES = REPO / "examples"
AS_OF = datetime(2025, 8, 13, 12, 0, tzinfo=timezone.utc)

# The seed's headlines are the publisher's text, so the repo keeps only their hashes.
SEED_TITLE_SHA = {
    "mali": "9ff3584a2a14c187",
    "israel": "b7ff1e216e39f88a",
    "myanmar": "4211d7fd46ff4d3e",
    "metrash": "34e08f99f6f93e0e",
}


def sha(text: str) -> str:
    """Short SHA-256 of *text*, to compare with SEED_TITLE_SHA."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def need_shared(path: Path) -> Path:
    """Skip the calling test, with the reason, when ../shared (or a file in it) is absent."""
    if not path.exists():
        pytest.skip(f"{path} is not here: it lives in ../shared beside the repo, which this checkout lacks")
    return path


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return need_shared(SEED)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, seed_path):
    """An index of the seed page, relative times resolved against 2025-08-13T12:00Z."""
    import newssearch

    path = tmp_path_factory.mktemp("seed") / "ix"
    with newssearch.open_index(path, create=True) as ix:
        report = ix.add_paths([seed_path], as_of=AS_OF)
        assert report.added == 4 and not report.rejected
    ix = newssearch.open_index(path)
    yield ix
    ix.close()


# ---------------------------------------------------------------- a real OpenSearch

OPENSEARCH_SCRIPTS = REPO / "tests" / "opensearch"


def _reachable(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url}/_cluster/health", timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def opensearch_url():
    """The url of a real OpenSearch: $OPENSEARCH_URL, else one this session starts (and stops).

    Skips, saying why, only when OPENSEARCH_URL is unset and no server could be started
    (no Maven Central, no Java 11-21). Test indexes are named ``nstest-*`` and deleted
    at the end.
    """
    import os
    import subprocess

    url = os.environ.get("OPENSEARCH_URL")
    started = False
    if not url:
        port = os.environ.get("NEWSSEARCH_TEST_OPENSEARCH_PORT", "9270")
        if _reachable(f"http://127.0.0.1:{port}"):
            url = f"http://127.0.0.1:{port}"
        else:
            run = subprocess.run(["bash", str(OPENSEARCH_SCRIPTS / "start.sh"), "--port", port],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["no output"])[-1]
                pytest.skip(f"OPENSEARCH_URL is unset and tests/opensearch/start.sh could not start a server "
                            f"(exit {run.returncode}: {last})")
            url, started = run.stdout.strip().splitlines()[-1], True
    pytest.importorskip("opensearchpy", reason="opensearch-py is not installed: pip install -e '.[test]'")
    yield url.rstrip("/")
    try:
        from opensearchpy import OpenSearch

        OpenSearch([url]).indices.delete(index="nstest-*", params={"expand_wildcards": "all"})
    except Exception:
        pass
    if started:
        subprocess.run(["bash", str(OPENSEARCH_SCRIPTS / "stop.sh"), "--port", url.rsplit(":", 1)[-1]],
                       capture_output=True)
