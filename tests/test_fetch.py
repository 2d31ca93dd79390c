"""Feeds and pages by URL, from a local HTTP server on 127.0.0.1 (nothing reaches outside):
User-Agent, redirects, errors, size and time limits, and conditional GET across runs."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

import newssearch
from newssearch.cli import main
from newssearch.errors import FetchFailed
from newssearch.ingest import limits, read_paths
from newssearch.ingest.fetch import STATE_FILE, USER_AGENT, FetchState, fetch
from newssearch.model import Article, Rejected

from .ingest_fixtures import HTML_PAGE, RSS

ETAG = '"feed-v1"'
LAST_MODIFIED = "Fri, 14 Mar 2025 10:00:00 GMT"


class Server:
    """Routes: path -> (status, headers, body). Records every request's path and headers."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append((self.path, dict(self.headers)))
                if self.path == "/slow":
                    time.sleep(1.5)
                status, headers, body = server.routes.get(self.path, (404, {}, b"no such page"))
                etag, modified = headers.get("ETag"), headers.get("Last-Modified")
                if status == 200 and (
                    (etag and self.headers.get("If-None-Match") == etag)
                    or (not etag and modified and self.headers.get("If-Modified-Since") == modified)
                ):
                    status, body = 304, b""
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


@pytest.fixture()
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def feed_route(etag: bool = True, modified: bool = True) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "application/rss+xml; charset=utf-8"}
    if etag:
        headers["ETag"] = ETAG
    if modified:
        headers["Last-Modified"] = LAST_MODIFIED
    return 200, headers, RSS.encode("utf-8")


def test_feed_by_url_then_304_on_the_next_run(server: Server, tmp_path: Path) -> None:
    server.routes["/feed"] = feed_route()
    url = server.base + "/feed"
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        first = ix.add_paths([url])
        assert (first.added, first.updated, first.unchanged) == (2, 0, 0)
        assert [str(r) for r in first.rejected] == [f"{url}:8: has neither title nor body"]
        state = json.loads((tmp_path / "ix" / STATE_FILE).read_text(encoding="utf-8"))
        assert state["urls"][url] == {"etag": ETAG, "last_modified": LAST_MODIFIED}
        second = ix.add_paths([url])
    assert (second.added, second.updated, second.unchanged, second.rejected) == (0, 0, 0, ())
    assert second.not_modified == (url,)
    first_headers, second_headers = server.requests[0][1], server.requests[1][1]
    assert first_headers["User-Agent"] == USER_AGENT
    assert "If-None-Match" not in first_headers
    assert second_headers["If-None-Match"] == ETAG and second_headers["If-Modified-Since"] == LAST_MODIFIED


def test_only_the_validator_the_server_gave_is_sent(server: Server, tmp_path: Path) -> None:
    server.routes["/modified-only"] = feed_route(etag=False)
    server.routes["/no-validators"] = feed_route(etag=False, modified=False)
    state = FetchState(tmp_path / STATE_FILE)
    for _ in range(2):
        fetch(server.base + "/modified-only", state=state)
        fetch(server.base + "/no-validators", state=state)
    second_modified, second_plain = server.requests[2][1], server.requests[3][1]
    assert second_modified.get("If-Modified-Since") == LAST_MODIFIED and "If-None-Match" not in second_modified
    assert "If-Modified-Since" not in second_plain and "If-None-Match" not in second_plain
    assert state.not_modified == [server.base + "/modified-only"]


def test_changed_feed_is_read_again(server: Server, tmp_path: Path) -> None:
    server.routes["/feed"] = feed_route()
    url = server.base + "/feed"
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add_paths([url])
        status, headers, body = feed_route()
        headers["ETag"] = '"feed-v2"'
        server.routes["/feed"] = (status, headers, body.replace(b"voted", b"chose"))
        again = ix.add_paths([url])
    assert (again.added, again.updated, again.unchanged) == (0, 1, 1)


def test_redirects_and_an_html_page(server: Server) -> None:
    server.routes["/old"] = (301, {"Location": "/news/mill-fire.html"}, b"")
    server.routes["/news/mill-fire.html"] = (200, {"Content-Type": "text/html; charset=utf-8"}, HTML_PAGE.encode())
    (page,) = list(read_paths([server.base + "/old"]))
    assert isinstance(page, Article) and page.title == "Mill fire" and page.source == "Town Post"
    assert server.paths() == ["/old", "/news/mill-fire.html"]


def test_fetch_errors_are_one_line_rejects(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    server.routes["/big"] = (200, {"Content-Type": "text/html"}, b"<html>" + b"x" * 5000)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/feed"
    monkeypatch.setattr(limits, "MAX_DOWNLOAD_BYTES", 1000)
    monkeypatch.setattr(limits, "FETCH_TIMEOUT", 0.3)
    found = list(read_paths([server.base + "/missing", closed, server.base + "/big", server.base + "/slow"]))
    assert all(isinstance(r, Rejected) and r.line is None for r in found)
    reasons = [r.reason for r in found]
    assert reasons[0] == "cannot fetch: HTTP 404 Not Found"
    assert reasons[1].startswith("cannot fetch: unreachable")
    assert "MAX_DOWNLOAD_BYTES" in reasons[2]
    assert "timed out" in reasons[3]
    with pytest.raises(FetchFailed, match="only http"):
        fetch("file:///etc/passwd")


def test_state_file_is_written_atomically_and_survives_garbage(tmp_path: Path) -> None:
    path = tmp_path / STATE_FILE
    path.write_text("{not json", encoding="utf-8")
    state = FetchState.load(path)
    assert state.entries == {}  # a broken file only costs a full fetch
    state.remember("https://a.example/feed", '"e"', None)
    state.save()
    assert FetchState.load(path).headers("https://a.example/feed") == {"If-None-Match": '"e"'}
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]  # no temp file left behind


def test_cli_indexes_a_feed_url_and_reports_304(server: Server, tmp_path: Path) -> None:
    server.routes["/feed.xml"] = feed_route()
    url = server.base + "/feed.xml"
    runner = CliRunner()
    args = ["index", url, "--index", str(tmp_path / "ix")]
    first = runner.invoke(main, args)
    assert first.exit_code == 3, first.output  # the empty item is rejected
    assert re.search(r"^added 2, updated 0, unchanged 0, rejected 1 in \d+\.\ds$", first.stderr, re.M)
    second = runner.invoke(main, args)
    assert second.exit_code == 0, second.output
    assert f"not modified: {url}" in second.stderr
    assert second.stderr.splitlines()[-1].startswith("added 0, updated 0, unchanged 0, rejected 0 in ")


def test_http_declared_charset_and_gzip_body(server: Server) -> None:
    import gzip

    page = HTML_PAGE.replace('<meta charset="utf-8">', "").replace("old mill", "old moulin à café")
    server.routes["/latin"] = (200, {"Content-Type": "text/html; charset=iso-8859-1"}, page.encode("latin-1"))
    server.routes["/packed"] = (200, {"Content-Type": "application/rss+xml"}, gzip.compress(RSS.encode()))
    page_found, *feed_found = read_paths([server.base + "/latin", server.base + "/packed"])
    assert "moulin à café" in page_found.body
    assert [a.title for a in feed_found if isinstance(a, Article)] == ["Pilots vote to end the strike", "Tug crews follow"]
