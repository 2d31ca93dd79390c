"""The engine contract's fixtures: every engine in ENGINES runs every test of this folder.

A new engine plugs in by registering itself (``newssearch.engine.register``) and adding
its name here; the tests use only the Protocols of :mod:`newssearch.engine.base`.
"""
from __future__ import annotations

import pytest

from newssearch.engine import engine_class
from newssearch.engine.documents import index_doc
from newssearch.index import content_hash
from newssearch.records import with_language

from . import reference  # noqa: F401 - registers the in-memory reference engine "memory"

ENGINES = ["whoosh", "memory", "opensearch", "tantivy"]
"""opensearch runs against a real server (the ``opensearch_url`` fixture starts one if needed);
tantivy is skipped where the ``tantivy`` package (extra ``fast``) is not installed."""


def engine_spec_for(request, name: str) -> str:
    """The spec to create *name* with: a server-backed engine gets a fresh test prefix on the server."""
    if name == "tantivy":
        pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")
    if name == "opensearch":
        import uuid

        url = request.getfixturevalue("opensearch_url")
        return f"opensearch+{url}/nstest-{uuid.uuid4().hex[:8]}"
    return name


def docs(articles):
    return [index_doc(a, content_hash(a)) for a in map(with_language, articles)]


@pytest.fixture(params=ENGINES)
def make(request, tmp_path):
    """make(articles, *more_batches) -> an engine holding them (each batch one write)."""
    made = []
    spec = engine_spec_for(request, request.param)

    def factory(*batches, name=None):
        where = tmp_path / f"{request.param}-{len(made)}"
        eng = engine_class(spec).create(where)
        for batch in batches:
            with eng.writer() as w:
                w.upsert(docs(batch))
        made.append(eng)
        return eng

    factory.engine = request.param
    factory.tmp_path = tmp_path
    yield factory
    for eng in made:
        eng.close()
