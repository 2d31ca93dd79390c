"""NewsIndex on a registered engine it does not name: generations, search, related, stats."""
from __future__ import annotations

import pytest

import newssearch

from .conftest import ENGINES, engine_spec_for
from .test_contract import CORPUS, NOW


@pytest.mark.parametrize("engine", ENGINES)
def test_newsindex_runs_on_a_registered_engine(request, tmp_path, engine):
    spec = engine_spec_for(request, engine)
    with newssearch.open_index(tmp_path / "ix", create=True, engine=spec) as ix:
        ix.add(CORPUS[:5])
        ix.add(CORPUS[5:])
        assert len(ix) == len(CORPUS) and ix.generation == 3
        res = ix.search('"harbour strike" OR Goita', facets=["source"], now=NOW)
        assert {h.id for h in res.hits} == {"a1", "a5"} and res.facets["source"] == {"Coast Post": 1, "Sahel Desk": 1}
        assert "[[" in res.hits[0].snippet or "<mark>" in res.hits[0].snippet_html
        folded = ix.search("bridge lorries")
        assert folded.total == 2 and len(folded.hits) == 1 and folded.hits[0].duplicates == 1
        related = [h.id for h in ix.related("a3", collapse=False).hits]
        assert related and "a3" not in related and "a4" not in related  # itself and its copies left out
        assert ix.delete(source="Coast Post") == 3
        assert ix.stats().engine == engine and ix.stats().articles == len(CORPUS) - 3
        ix.rollback()
        assert len(ix) == len(CORPUS)
