"""Exact scores for a result window, so the OpenSearch engine ranks as the Whoosh engine does.

Lucene's BM25 and the Whoosh wing's BM25F differ after the idf correction (see
:mod:`.compile`) only in how they round document lengths: Lucene keeps a length in one
byte of its own (exact below 24 tokens, then four significant bits), Whoosh in one byte
of another table (steps of about 5%). Near-equal scores can then swap. So the engine asks
OpenSearch for a window somewhat deeper than the page (RESCORE_EXTRA more), with the
clauses each hit matched (named queries) and its stored term frequencies and lengths,
and scores that window again with Whoosh's formula and length steps
(:mod:`newssearch.engine.lengths`): the matching set
and the total are OpenSearch's; the order within the window is Whoosh's.
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable, Dict, Sequence, Tuple

from ..arrays import B, K1
from ..documents import TITLE_BOOST
from ..lengths import rounded_length

__all__ = ["RESCORE_EXTRA", "exact_score"]

RESCORE_EXTRA = 40
"""How many candidates beyond the asked-for window are scored again."""


def exact_score(hit: Dict[str, Any], scored: Sequence[Tuple[Dict[str, Any], str, str, float, Tuple[str, ...]]],
                idf: Callable[[str, str], Tuple[float, float]], avgdl: Dict[str, float]) -> float:
    """Whoosh's score of one hit: its matched term clauses by BM25F, its constant clauses 1 each."""
    matched = hit.get("matched_queries") or ()
    groups = {name for name in matched if name.startswith("g")}
    fields = hit.get("fields") or {}
    raw = (fields.get("tfs") or [""])[0]
    # doc values come back as base64 without its padding
    tfs = json.loads(base64.b64decode(raw + "=" * (-len(raw) % 4))) if raw else {}
    score = 0.0
    for name in matched:
        if name.startswith("c"):
            score += 1.0
            continue
        if not name.startswith("t"):
            continue
        leaf, fieldname, term, weight, inside = scored[int(name[1:])]
        if not groups.issuperset(inside):  # a phrase's terms in a field that lacks one of them
            continue
        tf = (tfs.get(fieldname) or {}).get(term, 0)
        if not tf:
            continue
        w = tf * (TITLE_BOOST if fieldname == "title" else 1.0)
        dl = rounded_length(int((fields.get(f"{fieldname}_len") or [0])[0]))
        avg = avgdl.get(fieldname) or 1.0
        score += weight * idf(fieldname, term)[0] * (w * (K1 + 1)) / (w + K1 * ((1 - B) + B * dl / avg))
    return score
