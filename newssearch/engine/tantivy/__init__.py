"""The tantivy engine (optional extra ``fast``): a tantivy index behind the engine contract.

The only package that imports ``tantivy``. It indexes the terms :mod:`newssearch.analysis`
makes (analysed on every core, :mod:`.pool`), lets tantivy find and rank candidates, and
scores the ranked window again with Whoosh's BM25F (:mod:`.score`), so it returns the
articles, in the order, the Whoosh engine does.
"""
from __future__ import annotations

from .engine import TantivyEngine

__all__ = ["TantivyEngine"]
