"""The OpenSearch engine: Engine, EngineWriter and EngineSearcher over a cluster.

A location (a generation directory of the index root) holds only the format record;
the record names the server-side index (``key``) and the cluster. Every commit makes
a new server-side index: the writer clones the committed one (``_clone`` hard-links
its segments, so it costs little), writes the clone, and on a clean exit makes it
read-only and points the record at it; an exception deletes the clone, so the
committed index never sees a half write. Publishing a generation moves the alias
``PREFIX`` to its index in one ``_aliases`` call (:meth:`OpenSearchEngine.published`),
so readers going through the alias see the old index or the new one, never a half one.
"""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Type

from ...errors import IndexNotFound, NewsSearchError
from .. import check_format_record, format_record, write_format_record
from .connection import Cluster, call, client_for, parse_spec, spec_text
from .mapping import FORMAT, index_body
from .searcher import NAME, OpenSearchSearcher
from .writer import OpenSearchWriter, drop_index, new_name, seal

__all__ = ["OpenSearchEngine", "OpenSearchWriter", "OpenSearchSearcher"]


class OpenSearchEngine:
    """One index generation on an OpenSearch cluster; see the module docstring."""

    name = NAME
    cluster: Cluster = Cluster(("http://127.0.0.1:9200",))
    configured_by: str = ""

    def __init__(self, where: Path, key: str, cluster: Cluster, *, view: bool = False) -> None:
        self.where = Path(where)
        self.key = key
        self.cluster = cluster
        self.view = view
        """True for a read-only view through the alias (a machine without the index root)."""
        self.client = client_for(cluster)
        self._searcher: Optional[OpenSearchSearcher] = None

    @classmethod
    def configured(cls, rest: str) -> Type["OpenSearchEngine"]:
        """This engine bound to the cluster an engine spec names (``opensearch+URL/PREFIX``)."""
        cluster = parse_spec(rest)
        return type(cls.__name__, (cls,), {"cluster": cluster, "configured_by": rest})

    @classmethod
    def spec_for(cls, **parts: Any) -> str:
        """An engine spec from a config's or the command line's url, prefix, shards, replicas."""
        return spec_text(**parts)

    @classmethod
    def _default_cluster(cls) -> Cluster:
        return cls.cluster if cls.configured_by else parse_spec("")

    @classmethod
    def create(cls, where: Path, cluster: Optional[Cluster] = None) -> "OpenSearchEngine":
        cluster = cluster or cls._default_cluster()
        client = client_for(cluster)
        name = new_name(cluster)
        call(f"creating index {name} on {', '.join(cluster.urls)}", client.indices.create, index=name,
              body=index_body(cluster.shards, cluster.replicas))
        seal(client, name)
        Path(where).mkdir(parents=True, exist_ok=True)
        write_format_record(where, NAME, FORMAT, key=name, **cluster.record())
        return cls(Path(where), name, cluster)

    @classmethod
    def create_beside(cls, src: Path, dst: Path) -> "OpenSearchEngine":
        """A new, empty index at *dst* on the cluster and prefix of *src* (a rebuild's fresh generation)."""
        return cls.create(dst, cls._record(src)[1])

    @classmethod
    def _record(cls, where: Path, *, writable: bool = False) -> Tuple[str, Cluster]:
        record = check_format_record(where, NAME, FORMAT)
        key = record.get("key")
        if not isinstance(key, str) or not key:
            raise IndexNotFound(f"{where} names no OpenSearch index")
        if writable and record.get("view"):
            raise NewsSearchError(f"{Path(where).parent} is a read-only view of the alias {key}: write from the "
                                  "machine that holds the index root (its config or --index)")
        return key, Cluster.from_record(dict(record))

    @classmethod
    def make_view(cls, root: Path) -> None:
        """An index root at *root* whose one generation reads the alias (see ``open_index``)."""
        from ...generations import IndexRoot

        cluster = cls._default_cluster()
        client = client_for(cluster)
        if not call(f"looking up alias {cluster.alias} on {', '.join(cluster.urls)}", client.indices.exists_alias,
                     name=cluster.alias):
            raise IndexNotFound(f"no index at {', '.join(cluster.urls)} under the alias {cluster.alias}: "
                                "create one with `newssearch index PATH --engine opensearch`")
        ix_root = IndexRoot(root)
        root.mkdir(parents=True, exist_ok=True)
        with ix_root.lock(wait=5.0, command="view", now=lambda: datetime.now(timezone.utc)):
            if ix_root.exists():
                return
            build = ix_root.next_build_dir()
            write_format_record(build, NAME, FORMAT, key=cluster.alias, view=True, **cluster.record())
            ix_root.publish(build, articles=0, kind="view", now=datetime.now(timezone.utc))

    @classmethod
    def open(cls, where: Path) -> "OpenSearchEngine":
        key, cluster = cls._record(where)
        client = client_for(cluster)
        if not call(f"looking up index {key} on {', '.join(cluster.urls)}", client.indices.exists, index=key):
            raise IndexNotFound(f"the OpenSearch index {key} of {where} is gone from {', '.join(cluster.urls)}")
        return cls(Path(where), key, cluster, view=bool((format_record(where) or {}).get("view")))

    @classmethod
    def clone(cls, src: Path, dst: Path) -> "OpenSearchEngine":
        key, cluster = cls._record(src, writable=True)
        client = client_for(cluster)
        name = new_name(cluster)
        call(f"cloning {key}", client.indices.clone, index=key, target=name, params={"wait_for_active_shards": "1"})
        Path(dst).mkdir(parents=True, exist_ok=True)
        write_format_record(dst, NAME, FORMAT, key=name, **cluster.record())
        return cls(Path(dst), name, cluster)

    @classmethod
    def recognizes(cls, where: Path) -> bool:
        return False

    @classmethod
    def published(cls, where: Path) -> None:
        """Point the alias at *where*'s index, in one atomic ``_aliases`` call."""
        key, cluster = cls._record(where)
        client = client_for(cluster)
        try:
            holders = list(client.indices.get_alias(name=cluster.alias))
        except Exception:  # no index holds the alias yet
            holders = []
        actions: List[Dict[str, Any]] = [{"remove": {"index": h, "alias": cluster.alias}} for h in holders if h != key]
        actions.append({"add": {"index": key, "alias": cluster.alias}})
        call(f"moving alias {cluster.alias} to {key}", client.indices.update_aliases, body={"actions": actions})

    @classmethod
    def drop(cls, where: Path) -> None:
        """Delete *where*'s server-side index (a pruned or thrown-away generation), and the
        clone of a writer that died in the middle of its block."""
        record = format_record(where) or {}
        if record.get("engine") != NAME or record.get("view"):
            return
        client = client_for(Cluster.from_record(dict(record)))
        for name in (record.get("key"), record.get("staging")):
            if isinstance(name, str) and name:
                drop_index(client, name)

    def writer(self) -> OpenSearchWriter:
        self._record(self.where, writable=True)
        return OpenSearchWriter(self)

    def searcher(self) -> OpenSearchSearcher:
        if self._searcher is None:
            self._searcher = OpenSearchSearcher(self.client, self.key, self.where, follow_alias=self.view)
        return self._searcher

    def verify(self, expected: int) -> None:
        key, cluster = self._record(self.where)
        cold = client_for(cluster, fresh=True)
        try:
            s = OpenSearchSearcher(cold, key, self.where)
            found = s.doc_count()
            if found != expected:
                raise NewsSearchError(f"{self.where.name} failed verification: {found} articles in {key}, "
                                      f"{expected} written")
            if found and not s.probe():
                raise NewsSearchError(f"{self.where.name} failed verification: a probe query did not find its article")
        finally:
            cold.close()

    def close(self) -> None:
        self._searcher = None
