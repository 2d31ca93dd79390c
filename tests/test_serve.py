"""The search page (``newssearch serve``): what a person sees through Starlette's
TestClient, and what a real browser (headless Chromium) does with it.

One small index, written here from articles this file makes up, serves the whole
module; the reload test builds its own. The browser tests need chromium and
chromedriver (Debian: ``apt-get install chromium chromium-driver``) and skip, saying
so, when either is missing.
"""
from __future__ import annotations

import csv
import io
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner

import newssearch
from newssearch.cli import main
from newssearch.serve import CONTENT_SECURITY_POLICY, make_app
from starlette.testclient import TestClient

NOW = datetime(2025, 8, 1, 12, 0, tzinfo=timezone.utc)
T0 = datetime(2025, 5, 5, 8, 0, tzinfo=timezone.utc)
EVIL_TITLE = "<script>alert(1)</script>"
PLACES = ["Port Calder", "Skerry Point", "Gull Rock", "Brannock Head", "the north mole", "Ferris Bay"]
OPENERS = [
    "The keeper at {place} logged {n} ships passing the lighthouse overnight.",
    "Fog closed over {place} and the lighthouse horn sounded for {n} hours.",
    "Volunteers repainted the lighthouse at {place}, the {n}th coat since it was built.",
    "A storm cut power to the lighthouse at {place} for {n} minutes before the generator started.",
    "School pupils from {place} toured the lighthouse and counted {n} steps to the lamp room.",
]
MIDDLES = [
    "Fishing crews said the beam was easy to see from the outer banks.",
    "The harbour board will review the maintenance budget next month.",
    "An old logbook found in the cellar lists every wreck since the war.",
    "Birdwatchers asked for the lamp to be dimmed during the spring migration.",
    "The council wants a small museum in the former oil store.",
    "Insurance for the tower has doubled in five years, the trust said.",
    "Engineers measured a lean of two centimetres and called it harmless.",
]
CLOSERS = [
    "Tours resume on Saturday.", "The trust thanked its {n} members.", "Nobody was hurt.",
    "The next inspection is due in autumn.", "Tickets cost {n} pounds.", "Parking at the pier remains closed.",
]
SYNDICATED = ("Wind farm approved off the lighthouse coast after a long inquiry. The inspector found that "
              "the turbines would not confuse ships reading the lighthouse signal, and the developer agreed to "
              "pay for a radar upgrade at the harbour. Objectors said the view from the cliffs would be lost "
              "for ever, and a petition with four thousand names was handed to the minister last spring.")


def corpus() -> List[newssearch.Article]:
    """26 lighthouse reports (two sources, English and German), one story in three
    syndicated copies, and the hostile articles the escaping tests look for."""
    rng = random.Random(7)
    out = []
    for i in range(26):
        place = PLACES[i % len(PLACES)]
        parts = [rng.choice(OPENERS), *rng.sample(MIDDLES, 2), rng.choice(CLOSERS)]
        body = "\n\n".join(p.format(place=place, n=i + 3) for p in parts)
        german = i % 9 == 4
        out.append(newssearch.Article(
            title=(f"Leuchtturm lighthouse in {place} Nummer {i}" if german else f"Lighthouse report {i}: {place}"),
            body=(body + "\n\nDer Leuchtturm bleibt geöffnet und die Besucher kommen wieder." if german else body),
            source="Coast Weekly" if i % 3 == 0 else "Harbour Notes",
            published=T0 + timedelta(days=2 * i, hours=i % 5),
            url=f"https://news.example.org/lighthouse/{i}",
            lang="de" if german else "en",
        ))
    for j, source in enumerate(("Harbour Notes", "Coast Weekly", "Island Wire")):
        out.append(newssearch.Article(title="Wind farm approved off the lighthouse coast", body=SYNDICATED,
                                      source=source, published=T0 + timedelta(days=40, hours=j),
                                      url=f"https://wire{j}.example.com/wind-farm", lang="en"))
    out += [
        newssearch.Article(title=EVIL_TITLE, body="<img src=x onerror=alert(2)> lighthouse keeper's <b>diary</b> & more",
                           source="<b>Evil</b> Source", published=T0 + timedelta(days=3), url="javascript:alert(3)",
                           lang="en", author="<i>Mallory</i>"),
        newssearch.Article(title="=HYPERLINK(\"http://evil.example\") lighthouse", body="+1 lighthouse formula cell",
                           source="Spreadsheet Gazette", published=T0 + timedelta(days=5),
                           url="https://sheets.example.net/a?x=1&y=\"2\"", lang="en"),
        newssearch.Article(title="Undated lighthouse note", body="A lighthouse note with no date at all.",
                           source="Notice Board", lang="en"),
    ]
    return out


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def ix_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("serve") / "ix"
    with newssearch.open_index(path, create=True) as ix:
        ix.add(corpus())
    return path


@pytest.fixture(scope="module")
def ix(ix_path):
    with newssearch.open_index(ix_path) as index:
        yield index


@pytest.fixture(scope="module")
def client(ix_path) -> Iterator[TestClient]:
    with TestClient(make_app(ix_path, now=lambda: NOW), base_url="http://127.0.0.1") as c:
        yield c


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """The parts of a page the tests look at: links, elements by class, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: List[Tuple[str, str]] = []  # (href, text)
        self.tags: List[Tuple[str, Dict[str, str]]] = []
        self.classes: Dict[str, List[str]] = {}
        self._open: List[Tuple[str, Optional[str], List[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag in VOID:
            return
        self._open.append((tag, a.get("href") if tag == "a" else a.get("class"), []))

    def handle_startendtag(self, tag: str, attrs) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, key, text = self._open.pop()
            joined = "".join(text)
            if self._open:
                self._open[-1][2].append(joined)
            if name == "a" and key is not None:
                self.links.append((key, joined.strip()))
            elif key:
                for cls in key.split():
                    self.classes.setdefault(cls, []).append(joined.strip())
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def text_of(self, cls: str) -> List[str]:
        return self.classes.get(cls, [])

    def hrefs(self, containing: str = "") -> List[str]:
        return [h for h, _ in self.links if containing in h]

    def link(self, text: str) -> str:
        return next(h for h, t in self.links if t == text)


def params(href: str) -> Dict[str, List[str]]:
    return parse_qs(urlsplit(href).query)


def titles(page: Page) -> List[str]:
    return [t for h, t in page.links if h.startswith("/article/") and "/related" not in h and "/similar" not in h]


# ------------------------------------------------------------------ searching


def test_results_are_ranked_as_the_library_ranks_them_with_marked_matches(client, ix):
    res = client.get("/", params={"q": "lighthouse keeper"})
    assert res.status_code == 200
    page = Page(res.text)
    expected = ix.search("lighthouse keeper", limit=10, now=NOW)
    assert titles(page)[:len(expected.hits)] == [h.title for h in expected.hits]
    assert f"<strong>{expected.total:,}</strong> result" in res.text
    assert "<mark>keeper</mark>" in res.text or "<mark>Keeper</mark>" in res.text
    assert len(page.text_of("hit")) == len(expected.hits)


def test_a_query_in_the_full_language_with_filters_from_the_form(client, ix):
    res = client.get("/", params={"q": '"lighthouse horn" OR generator -fog', "source": "harbour notes", "sort": "newest"})
    assert res.status_code == 200
    expected = ix.search('"lighthouse horn" OR generator -fog', source="harbour notes", sort="newest", now=NOW)
    assert expected.total > 0
    assert titles(Page(res.text))[:len(expected.hits)] == [h.title for h in expected.hits]
    assert 'value="harbour notes"' in res.text and '<option value="newest" selected>' in res.text


def test_home_page_says_what_the_index_holds(client):
    res = client.get("/")
    assert res.status_code == 200
    assert "<strong>32</strong> articles" in res.text and "6 sources" in res.text


def test_pagination_continues_the_ranking_and_keeps_the_filters(client, ix):
    first = Page(client.get("/", params={"q": "lighthouse", "sort": "oldest", "lang": "en"}).text)
    nxt = first.link("Next →")
    assert params(nxt) == {"q": ["lighthouse"], "lang": ["en"], "sort": ["oldest"], "page": ["2"]}
    second = client.get(nxt)
    expected = ix.search("lighthouse", sort="oldest", lang="en", page=2, now=NOW)
    assert titles(Page(second.text))[:10] == [h.title for h in expected.hits]
    assert '<ol class="hits" start="11">' in second.text
    assert Page(second.text).link("← Previous") == "/?q=lighthouse&lang=en&sort=oldest"
    last_page = -(-expected.total // 10)
    last = Page(client.get("/", params={"q": "lighthouse", "sort": "oldest", "lang": "en", "page": last_page}).text)
    assert not [h for h, t in last.links if t == "Next →"]


def test_facets_count_filter_and_keep_the_other_filters(client, ix):
    res = client.get("/", params={"q": "lighthouse", "sort": "newest", "lang": "en"})
    page = Page(res.text)
    counts = ix.search("lighthouse", lang="en", facets=["source"], now=NOW).facets["source"]
    coast = next(h for h, t in page.links if t == "Coast Weekly")
    assert params(coast) == {"q": ["lighthouse"], "source": ["Coast Weekly"], "lang": ["en"], "sort": ["newest"]}
    assert str(counts["Coast Weekly"]) in page.text_of("count")
    filtered = client.get(coast)
    sources = Page(filtered.text).text_of("source")
    assert sources and set(sources) == {"Coast Weekly"}
    # the active value is marked and links back to the search without it; so does its chip
    again = Page(filtered.text)
    removing = [h for h, t in again.links if t.startswith("source: Coast Weekly")]
    assert removing and params(removing[0]) == {"q": ["lighthouse"], "lang": ["en"], "sort": ["newest"]}
    assert params(again.link("Coast Weekly")) == params(removing[0])


def test_date_facet_filters_to_that_month_and_language_facet_by_code(client):
    page = Page(client.get("/", params={"q": "lighthouse"}).text)
    june = page.link("2025-06")
    assert params(june) == {"q": ["lighthouse"], "since": ["2025-06"], "until": ["2025-06"]}
    res = client.get(june)
    dates = Page(res.text).text_of("published")
    assert len(dates) == 10 and all(d.startswith("2025-06-") for d in dates)
    chip = next(h for h, t in Page(res.text).links if t.startswith("date: 2025-06"))
    assert params(chip) == {"q": ["lighthouse"]}
    de = Page(client.get(page.link("de")).text)
    assert all(t.startswith("Leuchtturm") for t in titles(de)) and titles(de)


def test_near_copies_fold_into_one_hit_with_a_link_to_them(client):
    res = client.get("/", params={"q": "wind farm"})
    page = Page(res.text)
    assert titles(page).count("Wind farm approved off the lighthouse coast") == 1
    shown_source = page.text_of("source")[titles(page).index("Wind farm approved off the lighthouse coast")]
    similar = page.link("2 similar")
    assert params(similar)["q"] == ["wind farm"]
    copies = Page(client.get(similar).text)
    assert len(copies.text_of("hit")) == 2
    # the two other copies, not the one shown
    assert sorted(copies.text_of("source")) == sorted({"Harbour Notes", "Coast Weekly", "Island Wire"} - {shown_source})


def test_article_page_shows_the_whole_text_in_paragraphs_and_related_articles(client, ix):
    hit = ix.search("wind farm", now=NOW).hits[0]
    res = client.get(f"/article/{hit.id}")
    assert res.status_code == 200
    assert "<h1 class=\"title\">Wind farm approved off the lighthouse coast</h1>" in res.text
    assert SYNDICATED.split(". ")[1] in res.text  # the body, not a snippet
    related = ix.related(hit.id, limit=5)
    page = Page(res.text)
    assert related.hits and [h.title for h in related.hits][:3] == titles(page)[: min(3, len(related.hits))]
    # a short id works too, as on the command line
    assert client.get(f"/article/{hit.id[:8]}").status_code == 200
    more = client.get(f"/article/{hit.id}/related")
    assert more.status_code == 200 and related.hits[0].title in more.text


def test_search_suggests_a_spelling(client):
    res = client.get("/", params={"q": "lighthuose"})
    assert res.status_code == 200
    assert "Did you mean" in res.text and "/?q=lighthouse" in res.text


# ------------------------------------------------------------------ timeline


def bars(html: str) -> List[Tuple[str, int]]:
    return [(label, int(n)) for label, n in re.findall(r"<rect class=\"bar\"[^>]*><title>([^:<]+): (\d+) articles?</title>", html)]


def test_timeline_svg_draws_the_counts_the_timeline_command_prints(client, ix_path):
    for by in ("day", "week", "month"):
        res = client.get("/", params={"q": "lighthouse", "source": "Harbour Notes", "by": by})
        cli = CliRunner().invoke(main, ["timeline", "lighthouse", "--source", "Harbour Notes", "--by", by, "--json",
                                        "--index", str(ix_path)])
        assert cli.exit_code == 0, cli.output
        expected = [(p["period"], p["count"]) for p in json.loads(cli.output)["periods"]]
        assert bars(res.text) == expected and len(expected) > 1
    auto = client.get("/", params={"q": "lighthouse"}).text
    assert '<svg class="timeline"' in auto and "Matches per day" in auto
    assert "1 undated" in auto


# ------------------------------------------------------------------ downloads


def test_csv_and_jsonl_downloads_hold_every_match_of_the_search(client, ix):
    query = {"q": "lighthouse OR formula", "source": "Harbour Notes", "sort": "newest"}
    page = Page(client.get("/", params=query).text)
    expected = [m.id for m in ix.iter_search("lighthouse OR formula", source="Harbour Notes", sort="newest", now=NOW)]
    assert len(expected) > 10  # more than the page shows
    res = client.get(page.link("CSV"))
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/csv")
    assert "attachment" in res.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(res.text)))
    assert [r["id"] for r in rows] == expected and rows[0]["body"]
    jl = client.get(page.link("JSONL"))
    assert jl.headers["content-type"].startswith("application/x-ndjson")
    assert [json.loads(line)["id"] for line in jl.text.splitlines()] == expected
    # every copy counts, as the total on the page does; spreadsheets get no formula
    every = client.get("/export.csv", params={"q": "lighthouse"})
    cells = list(csv.reader(io.StringIO(every.text)))[1:]
    assert len(cells) == ix.search("lighthouse", now=NOW).total
    assert any(row[5].startswith("'=HYPERLINK") for row in cells)
    assert client.get("/export.csv").status_code == 400


# ------------------------------------------------------------------ safety


def test_article_text_is_escaped_everywhere_and_only_http_urls_are_links(client, ix):
    evil = ix.search("diary", now=NOW).hits[0]
    for url in (f"/?q=diary", f"/article/{evil.id}"):
        res = client.get(url)
        assert res.status_code == 200
        html = res.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>" not in html and "<i>" not in html
        assert "&lt;b&gt;Evil&lt;/b&gt; Source" in html
        page = Page(html)
        assert all(h.startswith(("/", "http://", "https://")) for h, _ in page.links)
        assert "javascript:alert(3)" in html  # shown as text ...
        assert not page.hrefs("javascript")  # ... never a link
    article = client.get(f"/article/{evil.id}").text
    assert "&lt;img src=x onerror=alert(2)&gt;" in article and "&lt;i&gt;Mallory&lt;/i&gt;" in article
    sheet = client.get("/", params={"q": "formula"}).text
    assert 'href="https://sheets.example.net/a?x=1&amp;y=&#34;2&#34;"' in sheet


def test_every_response_carries_the_security_headers(client, ix):
    some_id = ix.search("lighthouse").hits[0].id
    for method, url in (("GET", "/"), ("GET", "/?q=lighthouse"), ("GET", f"/article/{some_id}"),
                        ("GET", "/static/style.css"), ("GET", "/no/such/page"), ("POST", "/"),
                        ("GET", "/?q=*"), ("GET", "/export.csv?q=lighthouse"), ("HEAD", "/")):
        res = client.request(method, url)
        assert res.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, url
        assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
        assert res.headers["x-content-type-options"] == "nosniff"
        assert res.headers["referrer-policy"] == "no-referrer"
    page = client.get("/?q=lighthouse").text
    assert "<script" not in page and " style=" not in page and "<style" not in page


def test_only_get_and_head_are_answered(client, ix):
    some_id = ix.search("lighthouse").hits[0].id
    for url in ("/", "/?q=lighthouse", f"/article/{some_id}", f"/article/{some_id}/related", "/export.csv?q=x",
                "/static/style.css"):
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            res = client.request(method, url)
            assert res.status_code == 405, (method, url)
        assert client.head(url).status_code == 200
    assert "read-only" in client.post("/").text


def test_bad_queries_show_what_was_wrong_never_a_server_error(client):
    unclosed = client.get("/", params={"q": '"lighthouse horn'})
    assert unclosed.status_code == 200 and "warnings" in unclosed.text and "quote" in unclosed.text
    for query, status, words in (({"q": "*"}, 400, "nothing searchable"), ({"q": "lighthouse", "page": "two"}, 400, "page"),
                                 ({"q": "lighthouse", "sort": "loudest"}, 400, "unknown sort"),
                                 ({"q": "lighthouse", "since": "someday"}, 400, "someday"),
                                 ({"q": "lighthouse", "page": "5"}, 200, "past the end"),
                                 ({"q": "lighthouse", "by": "fortnight"}, 400, "period")):
        res = client.get("/", params=query)
        assert res.status_code == status, query
        assert words in res.text and "Traceback" not in res.text
    kept = client.get("/", params={"q": "*"}).text
    assert 'value="*"' in kept  # the query stays in the box to be corrected
    kept = client.get("/", params={"q": "lighthouse", "source": "Coast Weekly", "sort": "loudest"}).text
    assert 'value="lighthouse"' in kept and 'value="Coast Weekly"' in kept and "unknown sort" in kept


def test_the_form_lands_on_one_short_url_per_search(client):
    form = {"q": "lighthouse keeper", "source": "", "lang": "en", "domain": "", "since": "", "until": "",
            "sort": "relevance"}
    res = client.get("/", params=form, follow_redirects=False)
    assert res.status_code == 303 and res.headers["location"] == "/?q=lighthouse+keeper&lang=en"
    assert client.get(res.headers["location"], follow_redirects=False).status_code == 200


def test_an_unknown_article_is_a_404_page(client):
    for url in ("/article/u0000000000000000000", "/article/zz", "/article/u0000000000000000000/related"):
        res = client.get(url)
        assert res.status_code == 404 and "no article" in res.text and "<h1>Not found</h1>" in res.text


def test_other_host_names_are_refused_on_loopback(client):
    assert client.get("/", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8080"}).status_code == 200


def test_a_library_error_is_a_page_not_a_traceback(tmp_path):
    path = tmp_path / "ix"
    with newssearch.open_index(path, create=True) as index:
        index.add(corpus()[:3])
    app = make_app(path)
    reader = app.state.reader

    def broken(*args, **kwargs):
        raise newssearch.NewsSearchError("the engine said no")

    reader._ix.search = broken
    with TestClient(app, base_url="http://127.0.0.1") as c:
        res = c.get("/", params={"q": "lighthouse"})
    assert res.status_code == 500 and "the engine said no" in res.text and "Traceback" not in res.text

    def bug(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    reader._ix.search = bug  # not a library error: a bug; the page still shows no internals
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as c:
        res = c.get("/", params={"q": "lighthouse"})
    assert res.status_code == 500 and "secret" not in res.text and "Traceback" not in res.text
    assert "Something went wrong" in res.text
    assert res.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


# ------------------------------------------------------------------ the command


def test_serve_command_starts_the_app_and_warns_off_loopback(monkeypatch, ix_path):
    import newssearch.serve as serve_pkg

    calls = []
    monkeypatch.setattr(serve_pkg, "serve", lambda path, **kw: calls.append((path, kw)))
    runner = CliRunner()
    res = runner.invoke(main, ["serve", "--index", str(ix_path), "--port", "9999"])
    assert res.exit_code == 0 and "warning" not in res.output
    assert calls[0][0] == ix_path and calls[0][1]["host"] == "127.0.0.1" and calls[0][1]["port"] == 9999
    res = runner.invoke(main, ["serve", "--index", str(ix_path), "--host", "0.0.0.0"])
    assert res.exit_code == 0
    assert res.stderr.count("\n") == 1 and "readable by anyone" in res.stderr


def test_serve_without_the_extra_says_how_to_install_it():
    code = ("import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None\n"
            "from newssearch.cli import main; main(['serve'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 1
    assert run.stderr == "error: newssearch serve needs the serve extra: pip install 'newssearch[serve]'\n"


def test_importing_newssearch_needs_no_web_framework():
    code = ("import sys, newssearch, newssearch.cli\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'jinja2', 'uvicorn', 'selenium'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ------------------------------------------------------------------ a real server


class LiveServer:
    """uvicorn serving *app* from a thread, on a loopback port the OS picked."""

    def __init__(self, app) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def fetch(url: str) -> Tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_a_running_server_follows_updates_and_rebuilds_without_a_restart(tmp_path):
    path = tmp_path / "ix"
    with newssearch.open_index(path, create=True) as index:
        index.add(corpus()[:5])
    with LiveServer(make_app(path)) as live:
        status, html = fetch(f"{live.url}/?q=narwhal")
        assert status == 200 and "<strong>0</strong> results" in html
        # another process adds an article: the command line, as cron would
        feed = tmp_path / "new.jsonl"
        feed.write_text(json.dumps({"title": "Narwhal seen near the lighthouse", "body": "A narwhal swam past the pier.",
                                    "source": "Harbour Notes", "date": "2025-07-30T10:00:00Z",
                                    "url": "https://news.example.org/narwhal"}) + "\n", encoding="utf-8")
        cli = subprocess.run([sys.executable, "-m", "newssearch", "index", str(feed), "--index", str(path), "-q"],
                             capture_output=True, text=True)
        assert cli.returncode == 0, cli.stderr
        status, html = fetch(f"{live.url}/?q=narwhal")
        assert status == 200 and "Narwhal seen near the lighthouse" in html and "<strong>1</strong> result" in html
        # and a library writer deleting it shows too
        with newssearch.open_index(path) as writer:
            writer.delete(source="Harbour Notes")
        status, html = fetch(f"{live.url}/?q=narwhal")
        assert "<strong>0</strong> results" in html


# ------------------------------------------------------------------ a real browser


def _browser_paths() -> Tuple[Optional[str], Optional[str]]:
    binary = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
    return binary, shutil.which("chromedriver")


@pytest.fixture(scope="module")
def live(ix_path) -> Iterator[LiveServer]:
    with LiveServer(make_app(ix_path, now=lambda: NOW)) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    binary, driver_path = _browser_paths()
    if binary is None or driver_path is None:
        pytest.skip("headless browser tests need chromium and chromedriver on PATH "
                    "(Debian: apt-get install chromium chromium-driver); not found")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver, condition, timeout: float = 10):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _no_alert(driver) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert
    except NoAlertPresentException:
        return True
    return False


def test_browser_search_facet_and_pages(live, browser, ix):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(live.url + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")
    box.send_keys("lighthouse keeper", Keys.ENTER)
    _wait(browser, lambda d: "q=lighthouse+keeper" in d.current_url)
    shown = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".hit h3 a")]
    expected = ix.search("lighthouse keeper", now=NOW)
    assert shown == [h.title for h in expected.hits]
    marks = browser.find_elements(By.CSS_SELECTOR, ".hit .snippet mark")
    assert marks and {m.text.lower() for m in marks} <= {"lighthouse", "keeper", "keeper's", "keepers", "lighthouses"}
    # the stylesheet loaded under the CSP: marks are highlighted
    assert marks[0].value_of_css_property("background-color") != "rgba(0, 0, 0, 0)"

    # a facet value filters; its link kept the query
    browser.find_element(By.XPATH, "//aside//a[normalize-space()='Coast Weekly']").click()
    _wait(browser, lambda d: "source=Coast+Weekly" in d.current_url)
    sources = {e.text for e in browser.find_elements(By.CSS_SELECTOR, ".hit .source")}
    assert sources == {"Coast Weekly"}
    assert browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]").get_attribute("value") == "lighthouse keeper"

    # page 2 through the pagination link
    browser.get(live.url + "/?q=lighthouse")
    first_page = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".hit h3 a")]
    browser.find_element(By.CSS_SELECTOR, "nav.pagination a[href*='page=2']").click()
    _wait(browser, lambda d: "page=2" in d.current_url)
    second_page = [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".hit h3 a")]
    assert second_page == [h.title for h in ix.search("lighthouse", page=2, now=NOW).hits]
    assert not set(first_page) & set(second_page)
    assert browser.find_element(By.CSS_SELECTOR, "nav.pagination .current").text == "2"


def test_browser_opens_an_article(live, browser):
    from selenium.webdriver.common.by import By

    browser.get(live.url + "/?q=%22wind+farm%22")
    link = browser.find_element(By.CSS_SELECTOR, ".hit h3 a")
    title = link.text
    link.click()
    _wait(browser, lambda d: "/article/" in d.current_url)
    assert browser.find_element(By.CSS_SELECTOR, "article h1").text == title
    paragraphs = [p.text for p in browser.find_elements(By.CSS_SELECTOR, "article .body p")]
    assert paragraphs == [SYNDICATED]
    assert browser.find_elements(By.CSS_SELECTOR, ".related .hit")


def test_browser_shows_a_script_title_as_text(live, browser):
    from selenium.webdriver.common.by import By

    browser.get(live.url + "/?q=diary")
    link = browser.find_element(By.CSS_SELECTOR, ".hit h3 a")
    assert link.text == EVIL_TITLE
    assert _no_alert(browser)
    link.click()
    _wait(browser, lambda d: "/article/" in d.current_url)
    h1 = browser.find_element(By.CSS_SELECTOR, "article h1")
    assert h1.text == EVIL_TITLE
    assert browser.execute_script("return arguments[0].firstChild.nodeType === 3 && "
                                  "arguments[0].childNodes.length === 1 && arguments[0].firstChild.data", h1) == EVIL_TITLE
    assert _no_alert(browser)
    assert browser.execute_script("return document.querySelectorAll('script, img, b, i').length") == 0
    assert "alert(2)" in browser.find_element(By.CSS_SELECTOR, "article .body").text
    url = browser.find_element(By.CSS_SELECTOR, "article .url")
    assert url.text == "javascript:alert(3)" and not url.find_elements(By.TAG_NAME, "a")


def test_browser_enforces_the_csp_against_inline_script(live, browser):
    browser.get(live.url + "/?q=lighthouse")
    ran = browser.execute_script("""
        window.__ran = false;
        window.__blocked = [];
        document.addEventListener('securitypolicyviolation', e => window.__blocked.push(e.violatedDirective));
        const s = document.createElement('script');
        s.textContent = 'window.__ran = true';
        document.body.appendChild(s);
        return window.__ran;
    """)
    assert ran is False
    _wait(browser, lambda d: d.execute_script("return window.__blocked.length") >= 1)
    assert any(d.startswith("script-src") for d in browser.execute_script("return window.__blocked"))
    assert _no_alert(browser)
