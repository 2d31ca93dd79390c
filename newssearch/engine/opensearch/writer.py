"""The EngineWriter of the OpenSearch engine: clone, bulk, seal (see :mod:`.engine`)."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ...errors import NewsSearchError
from .. import write_format_record
from ..base import IndexDoc, UpsertCounts
from ..documents import source_key
from .connection import Cluster, call
from .mapping import FORMAT, document, index_body

if TYPE_CHECKING:  # pragma: no cover
    from .engine import OpenSearchEngine

__all__ = ["OpenSearchWriter", "BATCH_DOCS", "BULK_RETRIES", "new_name", "seal", "drop_index"]

NAME = "opensearch"
BATCH_DOCS = 500
"""Documents per bulk request."""
BATCH_BYTES = 8 << 20
"""... or fewer when their JSON passes this size."""
BULK_RETRIES = 6
"""Tries for items the cluster refused as too busy (429), with doubling pauses from BULK_PAUSE."""
BULK_PAUSE = 0.5


def new_name(cluster: Cluster) -> str:
    """A new server-side index name under the cluster's prefix."""
    return f"{cluster.prefix}-{uuid.uuid4().hex[:16]}"


class OpenSearchWriter:
    """Writes a clone of the committed index; commit switches the location to it."""

    def __init__(self, engine: "OpenSearchEngine") -> None:
        self.engine = engine
        self.client = engine.client
        self.changed = False
        self.staging = ""
        self.rejected: List[Tuple[str, str]] = []
        """(article id, the cluster's reason) of every article the cluster refused."""
        self._dirty = False

    def __enter__(self) -> "OpenSearchWriter":
        eng = self.engine
        self.staging = new_name(eng.cluster)
        # the record names the clone before it exists: a writer killed mid-block leaves a
        # record from which removing the location drops the clone too (no orphan index)
        write_format_record(eng.where, NAME, FORMAT, key=eng.key, staging=self.staging, **eng.cluster.record())
        if eng.searcher().doc_count() == 0:
            call(f"creating index {self.staging}", self.client.indices.create, index=self.staging,
                  body=index_body(eng.cluster.shards, eng.cluster.replicas))
        else:
            call(f"cloning {eng.key}", self.client.indices.clone, index=eng.key, target=self.staging,
                  body={"settings": {"index.blocks.write": False, "index.refresh_interval": "-1"}},
                  params={"wait_for_active_shards": "1"})
        return self

    def __exit__(self, exc_type, *rest) -> None:  # noqa: ANN001
        eng = self.engine
        if exc_type is None and self.changed:
            seal(self.client, self.staging)
            old = eng.key
            write_format_record(eng.where, NAME, FORMAT, key=self.staging, **eng.cluster.record())
            eng.key = self.staging
            eng._searcher = None
            drop_index(self.client, old)
            return
        self.changed = False
        drop_index(self.client, self.staging)
        write_format_record(eng.where, NAME, FORMAT, key=eng.key, **eng.cluster.record())

    def _refresh(self) -> None:
        if self._dirty:
            call(f"refreshing {self.staging}", self.client.indices.refresh, index=self.staging)
            self._dirty = False

    def _hashes(self, ids: Sequence[str]) -> Dict[str, str]:
        r = call(f"reading {self.staging}", self.client.mget, index=self.staging, body={"ids": list(ids)},
                  params={"_source": "chash", "realtime": "true"})
        return {d["_id"]: d["_source"].get("chash") for d in r["docs"] if d.get("found")}

    def _bulk(self, actions: List[Tuple[str, Dict[str, Any]]]) -> Set[str]:
        """Index *actions* (id, document); retries what the cluster refused as busy; returns
        the ids written. Any other refusal is kept in ``rejected`` with its reason."""
        done: Set[str] = set()
        todo = actions
        pause = BULK_PAUSE
        for attempt in range(BULK_RETRIES):
            lines: List[str] = []
            for doc_id, src in todo:
                lines.append(json.dumps({"index": {"_index": self.staging, "_id": doc_id}}))
                lines.append(json.dumps(src, ensure_ascii=False))
            r = call(f"bulk indexing into {self.staging}", self.client.bulk, body="\n".join(lines) + "\n")
            retry = []
            for (doc_id, src), item in zip(todo, r["items"]):
                res = item.get("index", {})
                status = res.get("status", 500)
                if status < 300:
                    done.add(doc_id)
                elif status == 429 and attempt + 1 < BULK_RETRIES:
                    retry.append((doc_id, src))
                else:
                    err = res.get("error") or {}
                    reason = f"{err.get('type', status)}: {err.get('reason', '')}" if isinstance(err, dict) else str(err)
                    self.rejected.append((doc_id, f"opensearch refused it ({reason})"))
            if not retry:
                break
            todo = retry
            time.sleep(pause)
            pause *= 2
        self._dirty = self._dirty or bool(done)
        return done

    def upsert(self, docs: Iterable[IndexDoc]) -> UpsertCounts:
        added = updated = unchanged = 0
        batch: List[IndexDoc] = []

        def flush() -> None:
            nonlocal added, updated, unchanged
            if not batch:
                return
            known = self._hashes(sorted({d.id for d in batch}))
            last = {d.id: d for d in batch}  # of one id given twice the last wins
            kinds: Dict[str, str] = {}
            for d in batch:
                old = known.get(d.id)
                if old == d.chash:
                    kinds.setdefault(d.id, "unchanged")
                    unchanged += 1
                    continue
                if old is None and d.id not in kinds:
                    added += 1
                else:
                    updated += 1
                kinds[d.id] = "written"
                known[d.id] = d.chash
            actions = [(i, document(last[i])[0]) for i, k in kinds.items() if k == "written"]
            written: Set[str] = set()
            size = 0
            chunk: List[Tuple[str, Dict[str, Any]]] = []
            for a in actions:
                chunk.append(a)
                size += len(a[1]["stored"]["body"] or "") + 500
                if size > BATCH_BYTES:
                    written |= self._bulk(chunk)
                    chunk, size = [], 0
            if chunk:
                written |= self._bulk(chunk)
            lost = len(actions) - len(written)
            if lost:  # refused items count as neither added nor updated
                added = max(0, added - lost)
            self.changed = self.changed or bool(written)
            batch.clear()

        for doc in docs:
            batch.append(doc)
            if len(batch) >= BATCH_DOCS:
                flush()
        flush()
        return UpsertCounts(added, updated, unchanged)

    def delete(self, *, ids: Optional[Sequence[str]] = None, sources: Sequence[str] = (),
               before: Optional[datetime] = None) -> int:
        if ids is None and not sources and before is None:
            return 0
        keep: List[Dict[str, Any]] = []
        if ids is not None:
            if not ids:
                return 0
            keep.append({"ids": {"values": list(ids)}})
        if sources:
            keep.append({"terms": {"source_key": [source_key(s) for s in sources]}})
        if before is not None:
            keep.append({"range": {"published": {"lt": int(before.timestamp() * 1000)}}})
        self._dirty = True
        self._refresh()
        # no _delete_by_query (it lives in the reindex module, which a minimal cluster lacks):
        # find the ids, then delete them in bulk
        doomed: List[str] = []
        after: Optional[List[Any]] = None
        while True:
            body: Dict[str, Any] = {"size": 5000, "_source": False, "sort": [{"id": "asc"}],
                                    "query": {"bool": {"filter": keep}}}
            if after is not None:
                body["search_after"] = after
            hits = call(f"finding articles to delete in {self.staging}", self.client.search, index=self.staging,
                         body=body)["hits"]["hits"]
            if not hits:
                break
            doomed += [h["_id"] for h in hits]
            after = hits[-1]["sort"]
        for start in range(0, len(doomed), BATCH_DOCS):
            lines = [json.dumps({"delete": {"_index": self.staging, "_id": i}}) for i in doomed[start : start + BATCH_DOCS]]
            r = call(f"deleting from {self.staging}", self.client.bulk, body="\n".join(lines) + "\n")
            failed = [it["delete"] for it in r["items"] if it["delete"].get("status", 500) >= 300
                      and it["delete"].get("status") != 404]
            if failed:
                raise NewsSearchError(f"opensearch: deleting {failed[0].get('_id')} from {self.staging} failed "
                                      f"({failed[0].get('error')})")
        self._dirty = self._dirty or bool(doomed)
        self.changed = self.changed or bool(doomed)
        return len(doomed)

    def doc_count(self) -> int:
        self._dirty = True
        self._refresh()
        return call(f"counting {self.staging}", self.client.count, index=self.staging)["count"]


def seal(client, name: str) -> None:  # noqa: ANN001
    """Make *name* searchable and read-only: a committed state never changes."""
    call(f"refreshing {name}", client.indices.refresh, index=name)
    call(f"sealing {name}", client.indices.put_settings, index=name,
          body={"index": {"refresh_interval": None, "blocks.write": True}})


def drop_index(client, name: str) -> None:  # noqa: ANN001
    if name:
        try:
            client.indices.delete(index=name, params={"ignore_unavailable": "true"})
        except Exception:  # best effort: a leftover index holds no live data
            pass
