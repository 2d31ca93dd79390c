"""Fetching feeds and pages over http(s), with conditional GET.

Standard library only (urllib): a timeout, our User-Agent, a bounded number of redirects,
a size limit, and one clear error when a URL cannot be had. :class:`FetchState` keeps
each URL's ETag and Last-Modified in a small JSON file (the index keeps it beside
itself as ``fetch-state.json``) so the next run sends If-None-Match / If-Modified-Since
and a server with nothing new answers 304 without a body.

What a server can make a fetch do is bounded:

* time: each connect or read waits at most FETCH_TIMEOUT, and the whole URL (connect,
  redirects, headers, body) at most FETCH_DEADLINE, so a server dripping a byte every few
  seconds is cut off (a watchdog shuts the socket down; name resolution itself is not
  interruptible);
* size: at most MAX_DOWNLOAD_BYTES of body, with or without a Content-Length; a gzip'd
  body is unpacked later by the reader, within MAX_DECOMPRESSED_BYTES;
* where it leads: redirects are followed (up to MAX_REDIRECTS) only to http:// and
  https:// URLs; never to file://, ftp:// or any other scheme.

Private addresses: a URL the user names is fetched wherever it points, loopback and
private networks included (it is a local tool: a feed on the intranet or on localhost is
a fair thing to index). A *redirect* is the server's choice, not the user's, so it may
lead to a loopback, private, link-local or other non-public address (per
:attr:`ipaddress.IPv4Address.is_global`) only when it stays on the host and port of the
URL named; a redirect from anywhere to another local service (``127.0.0.1:6379``, the
cloud metadata address ``169.254.169.254``) is refused. The check is made on the
redirect's host name when the redirect is seen, and again on the address actually
connected to (unless a proxy is in use), so DNS answers that change in between do not
get round it.
"""
from __future__ import annotations

import email.utils
import http.client
import ipaddress
import json
import os
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import urljoin, urlsplit

from ..errors import FetchFailed
from . import limits

__all__ = ["fetch", "Fetched", "FetchState", "is_url", "redirect_problem", "USER_AGENT", "STATE_FILE"]

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


class _Refused(Exception):
    """A fetch stopped on purpose (a redirect not followed); the message is the reason."""


def _origin(url: str) -> Tuple[str, Optional[int]]:
    """(host, port) of *url*, the port filled in from the scheme."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (parts.hostname or "").lower().rstrip("."), port or default


def _not_public(address: str) -> Optional[str]:
    """What kind of non-public address *address* is ("loopback", "private" ...), or None."""
    try:
        ip: Any = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if ip.is_global else "non-public"


def redirect_problem(url: str, target: str) -> Optional[str]:
    """Why a redirect from *url* (the one named) to *target* is not followed, or None.

    Only http(s); and a non-public address only on the host and port of *url*. A host
    name that does not resolve is let through: connecting to it fails on its own.
    """
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https"):
        return f"redirected to {target}: only http:// and https:// redirects are followed"
    if _origin(target) == _origin(url):
        return None
    host, port = _origin(target)
    try:
        infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None
    for *_, sockaddr in infos:
        kind = _not_public(str(sockaddr[0]))
        if kind:
            return (f"redirected to {target}, a {kind} address ({sockaddr[0]}): a redirect may reach a "
                    "non-public address only on the host and port named")
    return None


class _Guard:
    """One fetch's deadline, sockets and redirect policy.

    A watchdog thread shuts every socket of the fetch down when the deadline passes, which
    wakes a read blocked on a server that sends a byte just often enough to dodge the
    socket timeout. The sockets watched are duplicates (``dup``), so the watchdog can never
    shut down a descriptor number the fetch has closed and something else reuses.
    """

    def __init__(self, url: str, deadline: float) -> None:
        self.url = url
        self.deadline = deadline
        self.end = time.monotonic() + deadline
        self.expired = False
        self.request: Optional[urllib.request.Request] = None
        self._lock = threading.Lock()
        self._watched: List[socket.socket] = []
        self._timer = threading.Timer(deadline, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> "_Guard":
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._watched:
                sock.close()
            self._watched.clear()

    def left(self) -> float:
        return self.end - time.monotonic()

    def over(self) -> bool:
        return self.expired or self.left() <= 0

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._watched:
                _shutdown(sock)

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            dup = sock.dup()
            self._watched.append(dup)
            if self.expired:
                _shutdown(dup)

    def check_peer(self, sock: socket.socket) -> None:
        """Refuse a connection a redirect made to a non-public address off the named host."""
        req = self.request
        if req is None or req.has_proxy() or getattr(req, "_tunnel_host", None):
            return  # through a proxy the peer is the proxy; the name was checked at the redirect
        if _origin(req.full_url) == _origin(self.url):
            return
        try:
            peer = str(sock.getpeername()[0])
        except OSError:
            return
        kind = _not_public(peer)
        if kind:
            raise _Refused(f"redirected to {req.full_url}, a {kind} address ({peer}): a redirect may reach a "
                           "non-public address only on the host and port named")


def _shutdown(sock: socket.socket) -> None:
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain socket's: under TLS too
    except OSError:
        pass


def _guarded(base: Any, guard: _Guard) -> Any:
    """*base* (HTTPConnection or HTTPSConnection) with its socket watched and its peer checked."""

    class Guarded(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = self._connect_watched

        def _connect_watched(self, address: Any, timeout: Any = None, source_address: Any = None) -> socket.socket:
            if guard.over():
                raise socket.timeout("FETCH_DEADLINE passed")
            wait = guard.left() if not isinstance(timeout, (int, float)) else min(timeout, guard.left())
            sock = socket.create_connection(address, max(wait, 0.001), source_address)
            try:
                guard.watch(sock)
                guard.check_peer(sock)
            except BaseException:
                sock.close()
                raise
            return sock

    return Guarded


class _Handlers:
    """The opener's http, https and redirect handlers for one fetch."""

    def __init__(self, guard: _Guard) -> None:
        class Http(urllib.request.HTTPHandler):
            def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                guard.request = req
                return super().do_open(_guarded(http_class, guard), req, **kwargs)

        class Https(urllib.request.HTTPSHandler):
            def do_open(self, http_class: Any, req: Any, **kwargs: Any) -> Any:  # type: ignore[override]
                guard.request = req
                return super().do_open(_guarded(http_class, guard), req, **kwargs)

        class Redirects(urllib.request.HTTPRedirectHandler):
            max_redirections = limits.MAX_REDIRECTS  # read at call time, so a test can lower it

            def http_error_302(self, req: Any, fp: Any, code: int, msg: str, headers: Any) -> Any:  # type: ignore[override]
                location = headers.get("location") or headers.get("uri")
                if location:
                    problem = redirect_problem(guard.url, urljoin(req.full_url, location.strip()))
                    if problem:
                        fp.close()
                        raise _Refused(problem)
                return super().http_error_302(req, fp, code, msg, headers)

            http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302  # type: ignore[assignment]

        self.all = [Http(), Https(), Redirects()]


def _http_date(value: Optional[str]) -> Optional[datetime]:
    try:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    return parsed.astimezone(timezone.utc) if parsed and parsed.tzinfo else parsed


def fetch(url: str, *, state: Optional[FetchState] = None, timeout: Optional[float] = None,
          max_bytes: Optional[int] = None, deadline: Optional[float] = None) -> Fetched:
    """GET *url*, conditionally when *state* knows it; raises FetchFailed with a one-line reason.

    Only http and https; redirects are followed (up to MAX_REDIRECTS, only to http(s), to
    a non-public address only on the host and port of *url*: see the module's notes); a
    body larger than *max_bytes* (default MAX_DOWNLOAD_BYTES) is refused; each wait is at
    most *timeout* (FETCH_TIMEOUT) and the whole fetch at most *deadline*
    (FETCH_DEADLINE). A 304 is recorded in ``state.not_modified``; a 200's validators are
    remembered in *state* (not saved).
    """
    if not is_url(url):
        raise FetchFailed(f"{url}: only http:// and https:// URLs can be fetched")
    timeout = limits.FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = limits.MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes
    deadline = limits.FETCH_DEADLINE if deadline is None else deadline
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", **(state.headers(url) if state else {})}
    request = urllib.request.Request(url, headers=headers)
    with _Guard(url, deadline) as guard:
        too_slow = f"{url}: took longer than FETCH_DEADLINE ({deadline:g} s): cut off"
        opener = urllib.request.build_opener(*_Handlers(guard).all)
        try:
            with opener.open(request, timeout=timeout) as response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise FetchFailed(f"{url}: {int(length):,} bytes is more than MAX_DOWNLOAD_BYTES ({max_bytes:,})")
                data = _read_body(response, max_bytes, guard, url, too_slow)
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
        except _Refused as exc:
            raise FetchFailed(f"{url}: {exc}") from None
        except urllib.error.HTTPError as exc:
            if exc.code == 304:
                if state is not None:
                    state.not_modified.append(url)
                return Fetched(url=url, final_url=url, status=304, data=None)
            if 300 <= exc.code < 400 and exc.headers is not None and exc.headers.get("Location"):
                raise FetchFailed(f"{url}: HTTP {exc.code}: more than MAX_REDIRECTS ({limits.MAX_REDIRECTS}) "
                                  "redirects, or a redirect loop") from None
            raise FetchFailed(f"{url}: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            if guard.over():
                raise FetchFailed(too_slow) from None
            raise FetchFailed(f"{url}: unreachable ({exc.reason})") from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # timeouts mid-body, bad URLs, resets
            if guard.over():
                raise FetchFailed(too_slow) from None
            raise FetchFailed(f"{url}: {type(exc).__name__}: {exc}") from None
    if state is not None:
        state.remember(url, result.etag, result.last_modified)
    return result


def _read_body(response: Any, max_bytes: int, guard: _Guard, url: str, too_slow: str) -> bytes:
    """The body, a chunk at a time, checking the size and the clock between chunks."""
    chunks: List[bytes] = []
    total = 0
    while True:
        if guard.over():
            raise FetchFailed(too_slow)
        chunk = response.read1(64 * 1024)
        if not chunk:
            break
        total += len(chunk)
        if total > max_bytes:
            raise FetchFailed(f"{url}: larger than MAX_DOWNLOAD_BYTES ({max_bytes:,} bytes): refused")
        chunks.append(chunk)
    if guard.expired:  # the watchdog's shutdown looks like the end of the body: it is not
        raise FetchFailed(too_slow)
    return b"".join(chunks)
