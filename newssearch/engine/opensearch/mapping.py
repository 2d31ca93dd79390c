"""The server-side index: its settings and mapping, and an IndexDoc as a document of it.

Every term comes from :mod:`newssearch.analysis`; OpenSearch only splits our term
stream on spaces (the built-in ``whitespace`` analyzer, the one analyzer that the
smallest distribution has and that changes nothing). Each text field is indexed three
ways:

- ``title`` / ``body``: the bag of terms BM25 scores. Title terms are written
  ``TITLE_BOOST`` times each, so a title match weighs as Whoosh's BM25F field boost
  makes it (term frequency doubled, length ratio to the average unchanged).
- ``title_p0..3`` / ``body_p0..3``: positions, for phrases. Layer 0 holds a token per
  position; a position with several terms (a Hebrew word and its prefix-stripped forms,
  an Arabic word and its light stem) puts the second in layer 1, and so on, with the
  filler ``_`` where a layer has nothing. All layers of a field have the same number
  of tokens, so a token's position is the same in every layer and a phrase is a span
  query over layer 0 with the other layers masked as layer 0 (``span_field_masking``).
- ``title_terms`` / ``body_terms``: the distinct terms as keywords, for document
  frequencies (the idf we score with) and for the vocabulary prefix and fuzzy words
  expand against.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from ... import analysis, dedupe
from ..base import IndexDoc
from ..documents import TITLE_BOOST

__all__ = ["FORMAT", "LAYERS", "FILLER", "index_body", "document", "analysed", "micros", "from_micros"]

FORMAT = 4
"""Version of this mapping; a change makes existing indexes 'rebuild needed'."""
LAYERS = 4
"""Terms one position may hold in the position fields (Hebrew: a word and up to three
prefix-stripped forms). A fifth term at one position is still scored and found as a
word, but not as part of a phrase."""
FILLER = "_"
"""The token of an empty layer position; analysis never makes it (it drops punctuation)."""
TITLE_REPEAT = int(TITLE_BOOST)
MAX_RESULT_WINDOW = 200_000
"""Deepest ranked window a search may ask for (OpenSearch's default is 10,000)."""
MAX_TOKEN = 255
"""The whitespace analyzer cuts longer tokens: longer terms are cut to this on both sides."""

_TEXT = {"type": "text", "analyzer": "whitespace", "index_options": "freqs"}
_POSITIONS = {"type": "text", "analyzer": "whitespace", "index_options": "positions", "norms": False,
              "similarity": "boolean"}
_KEYWORD = {"type": "keyword"}
_TERMS = {"type": "keyword", "ignore_above": 1000}


def index_body(shards: int, replicas: int) -> Dict[str, Any]:
    """Settings and mapping of a new generation's index."""
    props: Dict[str, Any] = {
        "id": _KEYWORD,
        "source": _KEYWORD,
        "source_key": _KEYWORD,
        "lang": _KEYWORD,
        "domains": _KEYWORD,
        "urlwords": _KEYWORD,
        "authorwords": _KEYWORD,
        "published": {"type": "date", "format": "epoch_millis"},
        "dated": {"type": "boolean"},
        "chash": {"type": "keyword", "index": False, "doc_values": False},
        "sigkeys": _KEYWORD,
        # what each hit of a result window needs is read from doc values only: loading a
        # stored field (even _id) decompresses the article's block, text and all, and
        # took half of a 50-hit search's time
        "sig": {"type": "unsigned_long", "index": False},  # sorted ascending, as a sketch is
        "published_us": {"type": "long"},
        "tfs": {"type": "binary", "doc_values": True},
        "stored": {"type": "object", "enabled": False},
        "title": _TEXT,
        "body": _TEXT,
        "title_terms": _TERMS,
        "body_terms": _TERMS,
        "title_len": {"type": "integer"},
        "body_len": {"type": "integer"},
    }
    for f in ("title", "body"):
        for layer in range(LAYERS):
            props[f"{f}_p{layer}"] = _POSITIONS
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "max_result_window": MAX_RESULT_WINDOW,
                "refresh_interval": "-1",
            }
        },
        "mappings": {
            "dynamic": "strict",
            # the token fields are derived: keep them out of _source (the text is in "stored")
            "_source": {"excludes": ["title", "body", "title_p*", "body_p*", "title_terms", "body_terms", "sig", "tfs"]},
            "properties": props,
        },
    }


def clip(term: str) -> str:
    """A term as the position and score fields hold it (no spaces, at most MAX_TOKEN chars)."""
    if len(term) > MAX_TOKEN or " " in term:
        term = "".join(term.split())[:MAX_TOKEN]
    return term


def analysed(text: str, lang: Optional[str]) -> Tuple[List[List[str]], List[str]]:
    """(terms per position, surfaces) of *text*, as the Whoosh wing indexes it."""
    terms, positions, surfaces = analysis.index_terms_words(text or "", lang=lang)
    slots: List[List[str]] = []
    if positions is None:
        slots = [[clip(t)] for t in terms]
    else:
        last = -1
        for t, p in zip(terms, positions):
            if p != last:
                slots.append([])
                last = p
            slots[-1].append(clip(t))
    return slots, surfaces


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(when: datetime) -> int:
    """Microseconds since 1970 (exact, unlike a float timestamp)."""
    return (when - _EPOCH) // timedelta(microseconds=1)


def from_micros(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _counts(terms: List[str]) -> Dict[str, int]:
    out: Dict[str, int] = {}
    for t in terms:
        out[t] = out.get(t, 0) + 1
    return out


def _layers(slots: List[List[str]]) -> List[str]:
    depth = min(LAYERS, max((len(s) for s in slots), default=0))
    return [" ".join(s[layer] if layer < len(s) else FILLER for s in slots) for layer in range(depth)]


def document(doc: IndexDoc) -> Tuple[Dict[str, Any], Tuple[int, ...]]:
    """*doc* as an OpenSearch document, and its near-duplicate sketch."""
    title_slots, title_words = analysed(doc.title, doc.lang)
    body_slots, body_words = analysed(doc.body, doc.lang)
    sig = doc.signature if doc.signature is not None else dedupe.signature_of_words(title_words + body_words)
    title_flat = [t for s in title_slots for t in s]
    body_flat = [t for s in body_slots for t in s]
    src: Dict[str, Any] = {
        "id": doc.id,
        "source": doc.source,
        "source_key": doc.source_key,
        "lang": doc.lang,
        "domains": list(doc.domains),
        "urlwords": list(doc.url_words),
        "authorwords": list(doc.author_words),
        "published": int(doc.published.timestamp() * 1000) if doc.published else None,
        "dated": doc.published is not None,
        "chash": doc.chash,
        "sigkeys": [str(k) for k in sig[: dedupe.BUCKET_KEYS]],
        "sig": list(sig),
        "published_us": micros(doc.published) if doc.published else None,
        "stored": {"title": doc.title, "body": doc.body, "url": doc.url, "author": doc.author,
                   "published": doc.published.isoformat() if doc.published else None},
        "title": " ".join(t for t in title_flat for _ in range(TITLE_REPEAT)),
        "body": " ".join(body_flat),
        "title_terms": sorted(set(title_flat)),
        "body_terms": sorted(set(body_flat)),
        "title_len": len(title_flat),
        "body_len": len(body_flat),
        # per-term frequencies, for the exact re-scoring of a result window (see .rescore)
        "tfs": base64.b64encode(json.dumps({"title": _counts(title_flat), "body": _counts(body_flat)},
                                           ensure_ascii=False, separators=(",", ":")).encode("utf-8")).decode("ascii"),
    }
    for name, slots in (("title", title_slots), ("body", body_slots)):
        for layer, text in enumerate(_layers(slots)):
            src[f"{name}_p{layer}"] = text
    return src, tuple(sig)
