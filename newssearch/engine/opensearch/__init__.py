"""The OpenSearch wing: the only package that imports opensearch-py (``newssearch[opensearch]``).

- :mod:`.connection` — engine specs (``opensearch+http://host:9200/news``), clients, credentials;
- :mod:`.mapping` — the server-side index and an IndexDoc as its document (pre-analysed terms);
- :mod:`.compile` — the query tree as query DSL, scored as the Whoosh wing scores;
- :mod:`.rescore` — Whoosh's scores for a result window (exact length rounding);
- :mod:`.searcher` — the EngineSearcher; :mod:`.writer` — clone, bulk with retries, seal;
- :mod:`.engine` — the Engine: generations as indexes, the alias, views, verification.
"""
from __future__ import annotations

from .connection import Cluster, parse_spec
from .engine import OpenSearchEngine, OpenSearchSearcher, OpenSearchWriter

__all__ = ["Cluster", "OpenSearchEngine", "OpenSearchSearcher", "OpenSearchWriter", "parse_spec"]
