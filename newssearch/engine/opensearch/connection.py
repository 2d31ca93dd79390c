"""Where an OpenSearch index lives, and a client for it.

An engine spec names the cluster and the index prefix::

    opensearch                                  # $OPENSEARCH_URL (else 127.0.0.1:9200), prefix "newssearch"
    opensearch+http://127.0.0.1:9200/news       # cluster url, prefix "news"
    opensearch+http://h1:9200,http://h2:9200/news?shards=2&replicas=1

Each generation is one server-side index named ``PREFIX-<hex>``; the alias ``PREFIX``
points at the live one. Credentials come only from the environment
(``OPENSEARCH_USERNAME`` / ``OPENSEARCH_PASSWORD``); a url holding them is refused,
so they are never written into a format record or printed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from ...errors import NewsSearchError

__all__ = ["Cluster", "parse_spec", "spec_text", "client_for", "call", "DEFAULT_URL", "DEFAULT_PREFIX"]

DEFAULT_URL = "http://127.0.0.1:9200"
DEFAULT_PREFIX = "newssearch"
REQUEST_TIMEOUT = 60.0
"""Seconds one request may take (bulk batches and searches alike)."""
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,100}$")


@dataclass(frozen=True)
class Cluster:
    """A cluster's urls (no credentials), the index prefix and the shape of new indexes."""

    urls: Tuple[str, ...]
    prefix: str = DEFAULT_PREFIX
    shards: int = 1
    replicas: int = 0

    @property
    def alias(self) -> str:
        """The alias that names the live generation's index."""
        return self.prefix

    def record(self) -> Dict[str, Any]:
        """What a format record keeps of the cluster."""
        return {"urls": list(self.urls), "prefix": self.prefix, "shards": self.shards, "replicas": self.replicas}

    @classmethod
    def from_record(cls, record: Dict[str, Any]) -> "Cluster":
        urls = os.environ.get("NEWSSEARCH_OPENSEARCH_URL")  # the cluster moved: reach it there
        return cls(tuple(urls.split(",")) if urls else tuple(record.get("urls") or (DEFAULT_URL,)),
                   str(record.get("prefix") or DEFAULT_PREFIX), int(record.get("shards") or 1),
                   int(record.get("replicas") or 0))


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NewsSearchError(f"opensearch url {url!r} must be http://host:port or https://host:port")
    if parts.username or parts.password:
        raise NewsSearchError("put OpenSearch credentials in OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD, "
                              "not in the url")
    return f"{parts.scheme}://{parts.netloc}"


def parse_spec(rest: str = "") -> Cluster:
    """The part of an engine spec after ``opensearch+`` (empty: the environment's defaults)."""
    if not rest:
        urls = os.environ.get("OPENSEARCH_URL", DEFAULT_URL)
        return Cluster(tuple(_check_url(u) for u in urls.split(",")))
    head, _, query = rest.partition("?")
    options = {k: v[-1] for k, v in parse_qs(query).items()}
    # the prefix is the path after the last url's host
    last = head.rsplit(",", 1)[-1]
    path = urlsplit(last).path.strip("/")
    base = head[: len(head) - len(urlsplit(last).path)] if path else head.rstrip("/")
    prefix = path or options.get("prefix", DEFAULT_PREFIX)
    if not _PREFIX_RE.match(prefix):
        raise NewsSearchError(f"opensearch index prefix {prefix!r} must be lower-case letters, digits, - _ or .")
    try:
        shards, replicas = int(options.get("shards", 1)), int(options.get("replicas", 0))
    except ValueError as exc:
        raise NewsSearchError(f"opensearch shards and replicas must be numbers: {exc}") from None
    return Cluster(tuple(_check_url(u) for u in base.split(",") if u), prefix, max(1, shards), max(0, replicas))


def spec_text(*, url: Optional[str] = None, prefix: Optional[str] = None, shards: Optional[int] = None,
              replicas: Optional[int] = None) -> str:
    """The engine spec of a config's or the command line's parts (url else $OPENSEARCH_URL)."""
    url = (url or os.environ.get("OPENSEARCH_URL") or DEFAULT_URL).rstrip("/")
    spec = f"{url}/{prefix or DEFAULT_PREFIX}"
    extra = [f"{k}={v}" for k, v in (("shards", shards), ("replicas", replicas)) if v is not None]
    spec += "?" + "&".join(extra) if extra else ""
    parse_spec(spec)  # a bad url or prefix fails here, naming it
    return "opensearch+" + spec


def _auth() -> Optional[Tuple[str, str]]:
    user, password = os.environ.get("OPENSEARCH_USERNAME"), os.environ.get("OPENSEARCH_PASSWORD")
    return (user, password or "") if user else None


_CLIENTS: Dict[Tuple[str, ...], Any] = {}


def client_for(cluster: Cluster, *, fresh: bool = False):  # noqa: ANN201 - an opensearchpy.OpenSearch
    """A client of *cluster* (one per process and cluster unless *fresh*).

    Requests are retried on connection errors, timeouts and 429/502/503/504 answers,
    on every url given, so a node going down mid-query costs a retry, not an error.
    """
    key = cluster.urls
    if not fresh and key in _CLIENTS:
        return _CLIENTS[key]
    try:
        from opensearchpy import OpenSearch
    except ImportError as exc:  # pragma: no cover - the extra is not installed
        raise NewsSearchError("the opensearch engine needs opensearch-py: pip install 'newssearch[opensearch]'") from exc
    client = OpenSearch(
        hosts=list(cluster.urls),
        http_auth=_auth(),
        timeout=REQUEST_TIMEOUT,
        max_retries=3,
        retry_on_timeout=True,
        retry_on_status=(429, 502, 503, 504),
        http_compress=False,
    )
    if not fresh:
        _CLIENTS[key] = client
    return client


def error_text(exc: BaseException) -> str:
    """The cluster's own error type and reason when it gave one (urls carry no credentials)."""
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        err = info["error"]
        return f"{err.get('type')}: {err.get('reason')}"
    return f"{type(exc).__name__}: {exc}"


def call(what: str, func, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN001
    """One client call; a NewsSearchError naming *what* failed instead of the client's exception."""
    try:
        return func(*args, **kwargs)
    except NewsSearchError:
        raise
    except Exception as exc:  # the client raises its own hierarchy (connection, transport, ...)
        raise NewsSearchError(f"opensearch: {what} failed ({error_text(exc)})") from exc
