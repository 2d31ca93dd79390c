"""Hostile servers, all on 127.0.0.1: redirects to other schemes and to other local
services, answers dripped a byte at a time, bodies past the size limit with and without a
Content-Length, and gzip'd bodies that unpack past theirs. Each is one FetchFailed line
(one Rejected through read_paths), within the deadline."""
from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from newssearch.errors import FetchFailed
from newssearch.ingest import limits, read_paths
from newssearch.ingest.fetch import fetch, redirect_problem
from newssearch.model import Article, Rejected

from .ingest_fixtures import RSS
from .test_fetch import Server

GOOD = json.dumps({"title": "Good record", "body": "Fetched whole."})


@pytest.fixture()
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


@pytest.fixture()
def other() -> Iterator[Server]:
    """A second local service, on another port: what a redirect must not be able to reach."""
    srv = Server()
    srv.routes["/secret"] = (200, {"Content-Type": "application/rss+xml"}, RSS.encode())
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


class Raw:
    """A hand-written HTTP server: drips its answer, or floods it without a length.

    mode "body": headers at once, then the body a byte every *interval*;
    "headers": the status line and headers themselves a byte every *interval*;
    "flood": no Content-Length (or chunked), then *flood_bytes* as fast as it can.
    """

    def __init__(self, mode: str, interval: float = 0.2, flood_bytes: int = 0, chunked: bool = False) -> None:
        self.mode, self.interval, self.flood_bytes, self.chunked = mode, interval, flood_bytes, chunked
        self.sent = 0
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    got = conn.recv(4096)
                    if not got:
                        return
                    request += got
                body = (GOOD + "\n").encode() * 100
                if self.mode == "headers":
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                    for i in range(len(head)):
                        if self.stop.wait(self.interval):
                            return
                        conn.sendall(head[i:i + 1])
                    conn.sendall(body)
                elif self.mode == "body":
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
                                 f"Content-Length: {len(body)}\r\n\r\n".encode())
                    for i in range(len(body)):
                        if self.stop.wait(self.interval):
                            return
                        conn.sendall(body[i:i + 1])
                        self.sent += 1
                else:  # flood
                    framing = "Transfer-Encoding: chunked" if self.chunked else "Connection: close"
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{framing}\r\n\r\n".encode())
                    block = b"x" * 65536
                    while self.sent < self.flood_bytes and not self.stop.is_set():
                        conn.sendall(b"%x\r\n%s\r\n" % (len(block), block) if self.chunked else block)
                        self.sent += len(block)
                    if self.chunked:
                        conn.sendall(b"0\r\n\r\n")
            except OSError:
                return  # the client hung up: what a cut-off looks like from here

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(2)


@pytest.fixture()
def raw_servers() -> Iterator[list]:
    made: list = []
    yield made
    for srv in made:
        srv.close()


# ---------------------------------------------------------------- redirects to other schemes


@pytest.mark.parametrize("location", ["ftp://127.0.0.1/pub/feed.xml", "file:///etc/passwd", "gopher://127.0.0.1/",
                                      "data:text/plain,hello"])
def test_redirect_to_another_scheme_is_refused(server: Server, location: str) -> None:
    server.routes["/hop"] = (302, {"Location": location}, b"")
    url = server.base + "/hop"
    with pytest.raises(FetchFailed) as caught:
        fetch(url)
    message = str(caught.value)
    assert message == f"{url}: redirected to {location}: only http:// and https:// redirects are followed"
    assert "\n" not in message
    (only,) = list(read_paths([url]))
    assert isinstance(only, Rejected) and only.file == url and "only http:// and https://" in only.reason


def test_redirect_limit_is_read_at_call_time(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    server.routes["/a"] = (302, {"Location": "/b"}, b"")
    server.routes["/b"] = (302, {"Location": "/c"}, b"")
    server.routes["/c"] = (200, {"Content-Type": "application/x-ndjson"}, (GOOD + "\n").encode())
    assert fetch(server.base + "/a").data == (GOOD + "\n").encode()
    monkeypatch.setattr(limits, "MAX_REDIRECTS", 1)
    with pytest.raises(FetchFailed, match="MAX_REDIRECTS"):
        fetch(server.base + "/a")


# ---------------------------------------------------------------- redirects to local services


def test_redirect_to_another_loopback_service_is_refused(server: Server, other: Server) -> None:
    port = other.httpd.server_address[1]
    for target in (f"http://127.0.0.1:{port}/secret", f"http://localhost:{port}/secret"):
        server.routes["/hop"] = (302, {"Location": target}, b"")
        url = server.base + "/hop"
        with pytest.raises(FetchFailed) as caught:
            fetch(url)
        assert str(caught.value).startswith(f"{url}: redirected to {target}, a loopback address")
        assert "only on the host and port named" in str(caught.value)
    assert other.requests == []  # refused before any request reached the other service
    # named outright, the same local service is fetched: the user chose it
    assert fetch(other.base + "/secret").status == 200


def test_redirect_on_the_same_host_and_port_is_followed(server: Server) -> None:
    server.routes["/old"] = (301, {"Location": "/new"}, b"")
    server.routes["/abs"] = (307, {"Location": server.base + "/new"}, b"")
    server.routes["/new"] = (200, {"Content-Type": "application/x-ndjson"}, (GOOD + "\n").encode())
    for path in ("/old", "/abs"):
        got = fetch(server.base + path)
        assert got.final_url == server.base + "/new" and got.data == (GOOD + "\n").encode()


def test_dns_that_changes_after_the_redirect_check_is_caught_at_connect(
        server: Server, other: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The redirect's name resolves to a public address when checked, to 127.0.0.1 when
    connected: the address actually connected to is checked too."""
    real = socket.getaddrinfo
    calls = []

    def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "rebind.invalid":
            calls.append(port)
            address = "93.184.216.34" if len(calls) == 1 else "127.0.0.1"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = other.httpd.server_address[1]
    server.routes["/hop"] = (302, {"Location": f"http://rebind.invalid:{port}/secret"}, b"")
    with pytest.raises(FetchFailed, match=r"a loopback address \(127\.0\.0\.1\)"):
        fetch(server.base + "/hop")
    assert len(calls) == 2 and other.requests == []


def test_redirect_policy_by_address_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"intranet.invalid": "10.1.2.3", "metadata.invalid": "169.254.169.254",
               "public.invalid": "93.184.216.34", "v6local.invalid": "::1", "mapped.invalid": "::ffff:127.0.0.1"}

    def fake(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    start = "http://public.invalid/feed"
    assert redirect_problem(start, "http://public.invalid:8080/other") is None
    assert redirect_problem(start, "https://public.invalid/feed") is None
    for host, kind in (("intranet.invalid", "private"), ("metadata.invalid", "link-local"),
                       ("v6local.invalid", "loopback"), ("mapped.invalid", "loopback")):
        assert f"a {kind} address" in (redirect_problem(start, f"http://{host}/") or ""), host
    # from a private host the user named, its own host and port are fine, another one is not
    assert redirect_problem("http://intranet.invalid/a", "http://intranet.invalid/b") is None
    assert redirect_problem("http://intranet.invalid/a", "http://intranet.invalid:81/b") is not None


# ---------------------------------------------------------------- time


def test_a_dripping_body_is_cut_off_at_the_deadline(raw_servers: list, monkeypatch: pytest.MonkeyPatch) -> None:
    drip = Raw("body", interval=0.2)  # 3,900 bytes at 5 a second: 13 minutes without a deadline
    raw_servers.append(drip)
    monkeypatch.setattr(limits, "FETCH_TIMEOUT", 5.0)  # every byte comes well within the timeout
    monkeypatch.setattr(limits, "FETCH_DEADLINE", 1.0)
    start = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(drip.url)
    took = time.monotonic() - start
    assert str(caught.value) == f"{drip.url}: took longer than FETCH_DEADLINE (1 s): cut off"
    assert 0.9 < took < 3.0, took
    assert drip.sent < 20
    # through read_paths: one Rejected
    start = time.monotonic()
    (only,) = list(read_paths([drip.url]))
    assert isinstance(only, Rejected) and "FETCH_DEADLINE" in only.reason and time.monotonic() - start < 3.0


def test_dripping_headers_are_cut_off_at_the_deadline(raw_servers: list, monkeypatch: pytest.MonkeyPatch) -> None:
    drip = Raw("headers", interval=0.2)
    raw_servers.append(drip)
    monkeypatch.setattr(limits, "FETCH_TIMEOUT", 5.0)
    monkeypatch.setattr(limits, "FETCH_DEADLINE", 1.0)
    start = time.monotonic()
    with pytest.raises(FetchFailed, match="FETCH_DEADLINE"):
        fetch(drip.url)
    assert time.monotonic() - start < 3.0


def test_a_fast_answer_is_not_cut_off(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "FETCH_DEADLINE", 5.0)
    server.routes["/feed"] = (200, {"Content-Type": "application/x-ndjson"}, (GOOD + "\n").encode() * 2000)
    assert len(fetch(server.base + "/feed").data or b"") == (len(GOOD) + 1) * 2000


# ---------------------------------------------------------------- size


@pytest.mark.parametrize("chunked", [False, True], ids=["no-length", "chunked"])
def test_a_body_without_a_length_is_cut_at_the_size_limit(raw_servers: list, monkeypatch: pytest.MonkeyPatch,
                                                          chunked: bool) -> None:
    flood = Raw("flood", flood_bytes=200 * 1024 * 1024, chunked=chunked)  # 200 MiB on offer
    raw_servers.append(flood)
    monkeypatch.setattr(limits, "MAX_DOWNLOAD_BYTES", 1024 * 1024)
    start = time.monotonic()
    with pytest.raises(FetchFailed) as caught:
        fetch(flood.url)
    assert str(caught.value) == f"{flood.url}: larger than MAX_DOWNLOAD_BYTES (1,048,576 bytes): refused"
    assert time.monotonic() - start < 5.0
    assert flood.sent < 50 * 1024 * 1024  # the client stopped reading; the server stalled and gave up


def test_a_declared_length_past_the_limit_is_refused_unread(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    server.routes["/big"] = (200, {"Content-Type": "text/plain"}, b"x" * 20000)
    monkeypatch.setattr(limits, "MAX_DOWNLOAD_BYTES", 10000)
    with pytest.raises(FetchFailed, match=r"20,000 bytes is more than MAX_DOWNLOAD_BYTES \(10,000\)"):
        fetch(server.base + "/big")


def test_a_gzip_encoded_body_that_unpacks_past_the_limit(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    lines = (GOOD + "\n").encode() * (8 * 1024 * 1024 // (len(GOOD) + 1))  # 8 MiB of lines
    packed = gzip.compress(lines, 9)
    assert len(packed) < 200_000
    server.routes["/bomb.jsonl"] = (200, {"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}, packed)
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 256 * 1024)
    got = fetch(server.base + "/bomb.jsonl")
    assert got.data == packed  # fetch keeps the bytes as sent; the reader unpacks them, within its limit
    found = list(read_paths([server.base + "/bomb.jsonl"]))
    bad = [r for r in found if isinstance(r, Rejected)]
    good = [r for r in found if isinstance(r, Article)]
    assert len(bad) == 1 and "MAX_DECOMPRESSED_BYTES" in bad[0].reason and "gzip bomb" in bad[0].reason
    assert 0 < len(good) < 256 * 1024 // len(GOOD)  # what came before the limit is kept


def test_cli_reports_a_refused_redirect_on_one_line(server: Server, other: Server, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newssearch.cli import main

    server.routes["/hop"] = (302, {"Location": other.base + "/secret"}, b"")
    server.routes["/feed"] = (200, {"Content-Type": "application/rss+xml"}, RSS.encode())
    result = CliRunner().invoke(main, ["index", server.base + "/hop", server.base + "/feed",
                                       "--index", str(tmp_path / "ix")])
    assert result.exit_code == 3, result.output  # partial: the feed is indexed
    (line,) = [x for x in result.stderr.splitlines() if x.startswith(f"rejected: {server.base}/hop")]
    assert "a loopback address" in line and "Traceback" not in result.output
    assert other.requests == []
