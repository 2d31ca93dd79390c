"""Fetching feeds and pages over http(s), with conditional GET.

Standard library only (urllib): a timeout, our User-Agent, a bounded number of redirects,
a size limit, and one clear error when a URL cannot be had. :class:`FetchState` keeps
each URL's ETag and Last-Modified in a small JSON file (the index keeps it beside
itself as ``fetch-state.json``) so the next run sends If-None-Match / If-Modified-Since
and a server with nothing new answers 304 without a body.
"""
from __future__ import annotations

import email.utils
import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional, Union

from ..errors import FetchFailed
from . import limits

__all__ = ["fetch", "Fetched", "FetchState", "is_url", "USER_AGENT", "STATE_FILE"]

USER_AGENT = "newssearch/0.1 (+news indexer; python-urllib)"
"""The User-Agent header sent with every request."""

STATE_FILE = "fetch-state.json"
"""Name of the conditional-GET state file inside an index directory."""


def is_url(text: str) -> bool:
    """True for an http:// or https:// URL (what :func:`fetch` accepts)."""
    return text.lower().startswith(("http://", "https://"))


class FetchState:
    """ETag and Last-Modified per URL, loaded from and saved to one JSON file.

    Changes stay in memory until :meth:`save`, so a caller can save only once what was
    fetched has been safely stored (else a crash would leave validators for content the
    index never got, and the next run would get 304 and miss it).
    """

    def __init__(self, path: Union[str, Path], entries: Optional[Dict[str, Dict[str, str]]] = None) -> None:
        self.path = Path(path)
        self.entries: Dict[str, Dict[str, str]] = dict(entries or {})
        self.not_modified: List[str] = []
        """URLs answered 304 in this run."""

    @classmethod
    def load(cls, path: Union[str, Path]) -> "FetchState":
        """The state in *path*; empty when the file is missing or unreadable (everything is re-fetched)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path)
        urls = data.get("urls") if isinstance(data, dict) else None
        entries = {
            url: {k: v for k, v in item.items() if k in ("etag", "last_modified") and isinstance(v, str)}
            for url, item in (urls or {}).items()
            if isinstance(url, str) and isinstance(item, dict)
        }
        return cls(path, entries)

    def headers(self, url: str) -> Dict[str, str]:
        """Conditional-request headers for *url*: only for the validators the server gave."""
        entry = self.entries.get(url, {})
        out = {}
        if entry.get("etag"):
            out["If-None-Match"] = entry["etag"]
        if entry.get("last_modified"):
            out["If-Modified-Since"] = entry["last_modified"]
        return out

    def remember(self, url: str, etag: Optional[str], last_modified: Optional[str]) -> None:
        """Keep the validators a 200 response gave (forget the URL's when it gave none)."""
        entry = {k: v for k, v in (("etag", etag), ("last_modified", last_modified)) if v}
        if entry:
            self.entries[url] = entry
        else:
            self.entries.pop(url, None)

    def save(self) -> None:
        """Write the file atomically (temp file + rename): a crash leaves the old one or the new one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".fetch-state.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"version": 1, "urls": self.entries}, out, indent=1, sort_keys=True)
                out.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True)
class Fetched:
    """One response: the body (None on 304) and what the server said about it."""

    url: str
    """The URL asked for (the key of the fetch state)."""
    final_url: str
    """Where redirects ended."""
    status: int
    data: Optional[bytes]
    content_type: str = ""
    charset: Optional[str] = None
    etag: Optional[str] = None
    last_modified: Optional[str] = None
    when: Optional[datetime] = None
    """The server's Last-Modified, else its Date: the reference for relative times."""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = limits.MAX_REDIRECTS


def _http_date(value: Optional[str]) -> Optional[datetime]:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(timezone.utc) if parsed and parsed.tzinfo else parsed


def fetch(url: str, *, state: Optional[FetchState] = None, timeout: Optional[float] = None,
          max_bytes: Optional[int] = None) -> Fetched:
    """GET *url*, conditionally when *state* knows it; raises FetchFailed with a one-line reason.

    Only http and https; redirects are followed (up to MAX_REDIRECTS); a body larger than
    *max_bytes* (default MAX_DOWNLOAD_BYTES) is refused. A 304 is recorded in
    ``state.not_modified``; a 200's validators are remembered in *state* (not saved).
    """
    if not is_url(url):
        raise FetchFailed(f"{url}: only http:// and https:// URLs can be fetched")
    timeout = limits.FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = limits.MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **(state.headers(url) if state else {})}
    opener = urllib.request.build_opener(_Redirects())
    request = urllib.request.Request(url, headers=headers)
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchFailed(f"{url}: {int(length):,} bytes is more than MAX_DOWNLOAD_BYTES ({max_bytes:,})")
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise FetchFailed(f"{url}: larger than MAX_DOWNLOAD_BYTES ({max_bytes:,} bytes): refused")
            info = response.headers
            result = Fetched(
                url=url,
                final_url=response.geturl(),
                status=response.status,
                data=data,
                content_type=info.get_content_type(),
                charset=info.get_content_charset(),
                etag=info.get("ETag"),
                last_modified=info.get("Last-Modified"),
                when=_http_date(info.get("Last-Modified")) or _http_date(info.get("Date")),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            if state is not None:
                state.not_modified.append(url)
            return Fetched(url=url, final_url=url, status=304, data=None)
        raise FetchFailed(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise FetchFailed(f"{url}: unreachable ({exc.reason})") from None
    except (OSError, ValueError) as exc:  # timeouts mid-body, bad URLs, connection resets
        raise FetchFailed(f"{url}: {type(exc).__name__}: {exc}") from None
    if state is not None:
        state.remember(url, result.etag, result.last_modified)
    return result
