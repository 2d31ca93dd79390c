"""The search page's web app: read-only GET routes over one index, rendered with Jinja2.

:func:`make_app` returns a Starlette app (tests drive it with ``TestClient``);
:func:`serve` runs it with uvicorn. One :class:`~newssearch.index.NewsIndex` serves
every page, one request at a time, refreshed before each so a rebuild or update made
by another process shows on the next request. Downloads stream from an index opened
for them alone, so a long export never holds up the pages.

Safety: Jinja2 autoescapes every template, so article text is always escaped; the
one piece of markup taken from the library is ``Hit.snippet_html`` (escaped text with
``<mark>``), checked again here. Only http(s) urls become links. Every response
carries a strict Content-Security-Policy (no script at all, styles from our static
file only), ``nosniff`` and ``no-referrer``. Only GET and HEAD are routed, so any
other method is a 405. A Host header other than the loopback names is refused when
bound to loopback (DNS rebinding). Errors are one-line messages, never a traceback.
"""
from __future__ import annotations

import re
import threading
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from functools import partial
from math import ceil
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import parse_qsl, quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import ArticleNotFound, BadQuery, NewsSearchError
from ..export import EXPORT_FORMATS, iter_export
from ..index import MAX_DEPTH, NewsIndex, open_index
from ..model import SHORT_ID, Article, Hit, Results, Timeline, clean_text
from .chart import timeline_svg
from .params import BY, PAGE_SIZE, SearchState, is_loopback, safe_href

__all__ = ["make_app", "serve", "is_loopback", "CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "LOOPBACK_NAMES"]

HERE = Path(__file__).resolve().parent
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Tuple[Tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    ("cross-origin-opener-policy", "same-origin"),
)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""Host header names accepted when the page is served on loopback."""
FACET_NAMES = ("source", "lang", "day", "month")
FACET_TOP = 10
RELATED_ON_ARTICLE = 5
AUTO_DAYS = 92
"""auto timeline: by day up to this many days, then by ISO week up to AUTO_WEEKS, then by month."""
AUTO_WEEKS = 104
SNIPPET_MARK = re.compile(r"</?mark>")
PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\n")
Clock = Callable[[], datetime]


# ------------------------------------------------------------------ the one index


class _Reader:
    """The app's NewsIndex: refreshed before each use, used by one request at a time
    (requests run in a thread pool; an engine searcher is not shared between threads)."""

    def __init__(self, path: Union[str, Path]) -> None:
        self.path = path
        self._ix = open_index(path)
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self) -> Iterator[NewsIndex]:
        with self._lock:
            self._ix.refresh()
            yield self._ix

    def close(self) -> None:
        with self._lock:
            self._ix.close()


# ------------------------------------------------------------------ middleware


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class _Guard:
    """Adds the security headers to every response, and answers 400 to a Host header
    outside *allowed_hosts* (None: any host)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Optional[Sequence[str]]) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.strip("[]").lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                ours = {name.encode() for name, _ in SECURITY_HEADERS}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in ours]
                headers += [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS]
                message = {**message, "headers": headers}
            await send(message)

        if self.allowed is not None:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if _host_name(host) not in self.allowed:
                response = Response("unexpected Host header: this page answers only on loopback names\n",
                                    status_code=400, media_type="text/plain")
                await response(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


# ------------------------------------------------------------------ views


def _when(value: Optional[datetime]) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _snippet(html: str) -> Markup:
    """``Hit.snippet_html`` as markup when its only tags are ``<mark>``; escaped again otherwise."""
    if "<" in SNIPPET_MARK.sub("", html) or ">" in SNIPPET_MARK.sub("", html):
        return escape(html)
    return Markup(html)


def _link(url: Optional[str]) -> Dict[str, Any]:
    href = safe_href(url)
    return {"text": clean_text(url or "", keep_lines=False), "href": href}


def _article_path(article_id: str) -> str:
    return "/article/" + quote(article_id, safe="")


def _hit_view(hit: Hit, state: Optional[SearchState]) -> Dict[str, Any]:
    path = _article_path(hit.id)
    similar = f"{path}/similar{state.query_string()}" if state and hit.duplicates else None
    return {
        "id": hit.id,
        "short": hit.id[:SHORT_ID],
        "rank": hit.rank,
        "title": hit.title or "(untitled)",
        "source": hit.source,
        "published": _when(hit.published),
        "lang": hit.lang or "",
        "url": _link(hit.url),
        "snippet": _snippet(hit.snippet_html),
        "duplicates": hit.duplicates,
        "similar_url": similar,
        "article_url": path,
        "related_url": f"{path}/related",
    }


def _pages(total_pages: int, page: int, url: Callable[[int], str]) -> List[Dict[str, Any]]:
    """Links to the first, last and nearby pages, and a gap entry where numbers are skipped."""
    wanted = sorted({1, total_pages, *range(max(1, page - 2), min(total_pages, page + 2) + 1)})
    out: List[Dict[str, Any]] = []
    prev = 0
    for n in wanted:
        if n - prev > 1:
            out.append({"gap": True, "number": None, "url": None, "current": False})
        out.append({"gap": False, "number": n, "url": url(n), "current": n == page})
        prev = n
    return out


def _pagination(results: Results, url: Callable[[int], str]) -> Optional[Dict[str, Any]]:
    limit = results.limit
    total_pages = max(1, min(ceil(results.total / limit), MAX_DEPTH // limit))
    page = results.page
    if total_pages <= 1 and page == 1:
        return None
    has_next = page < total_pages and len(results.hits) == limit
    return {
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if has_next else None,
        "pages": _pages(max(total_pages, page), page, url),
    }


def _date_filter(key: str) -> Dict[str, str]:
    # a day (2025-08-13) or month (2025-08) as since/until: the library reads either as its whole span
    return {"since": key, "until": key}


def _facets(results: Results, state: SearchState) -> List[Dict[str, Any]]:
    """The sidebar: sources and languages by count, then dates (months when the matches
    span several, else days), newest first; each value a link that filters by it."""
    out: List[Dict[str, Any]] = []
    for name, title in (("source", "Source"), ("lang", "Language")):
        counts = results.facets.get(name) or {}
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_TOP]
        values = []
        for key, count in items:
            active = getattr(state, name).casefold() == key.casefold()
            values.append({"label": key, "count": count, "active": active,
                           "url": "/" + state.query_string(**{name: "" if active else key})})
        out.append({"title": title, "entries": values, "more": max(0, len(counts) - len(items))})
    months = results.facets.get("month") or {}
    name = "month" if len(months) > 1 else "day"
    counts = results.facets.get(name) or {}
    items = sorted(counts.items(), reverse=True)[:FACET_TOP]
    values = []
    for key, count in items:
        active = state.since == key and state.until == key
        values.append({"label": key, "count": count, "active": active,
                       "url": "/" + state.query_string(**({"since": "", "until": ""} if active else
                                                          _date_filter(key)))})
    out.append({"title": "Date" if name == "day" else "Month", "entries": values,
                "more": max(0, len(counts) - len(items))})
    return out


FILTER_LABELS = {"source": "source", "lang": "language", "domain": "domain", "since": "since", "until": "until",
                 "date": "date"}


def _chips(state: SearchState) -> List[Dict[str, str]]:
    """The active filters, each with a link to the search without it (a date facet's
    since = until is one chip)."""
    active = state.active_filters()
    if state.since and state.since == state.until:
        del active["since"], active["until"]
        active["date"] = state.since
    out = []
    for name, value in active.items():
        removed = {"since": "", "until": ""} if name == "date" else {name: ""}
        out.append({"label": f"{FILTER_LABELS[name]}: {value}", "url": "/" + state.query_string(**removed)})
    return out


def _timeline(ix: NewsIndex, state: SearchState, now: datetime) -> Timeline:
    args = state.search_args()
    if state.by != "auto":
        return ix.timeline(state.q, by=state.by, **args, now=now)
    tl = ix.timeline(state.q, by="day", **args, now=now)
    if len(tl.periods) > AUTO_DAYS:
        tl = ix.timeline(state.q, by="week", **args, now=now)
        if len(tl.periods) > AUTO_WEEKS:
            tl = ix.timeline(state.q, by="month", **args, now=now)
    return tl


def _paragraphs(body: str) -> List[str]:
    return [p.strip() for p in PARAGRAPH_BREAK.split(body) if p.strip()]


class _Pages:
    """The route handlers, sharing the index, the templates and the clock."""

    def __init__(self, reader: _Reader, env: Environment, now: Clock) -> None:
        self.reader = reader
        self.env = env
        self.now = now

    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def error(self, status: int, message: str, state: Optional[SearchState] = None) -> HTMLResponse:
        titles = {400: "Cannot search that", 404: "Not found", 405: "Method not allowed", 500: "Something went wrong"}
        return self.render("error.html", status, title=titles.get(status, "Error"), message=message,
                           state=state or SearchState())

    def library_error(self, exc: Exception, state: Optional[SearchState] = None) -> HTMLResponse:
        """A library error as a page: 404 unknown article, 400 bad query, else 500; one line, no traceback."""
        message = clean_text(str(exc), keep_lines=False) or type(exc).__name__
        if isinstance(exc, ArticleNotFound):
            return self.error(404, message, state)
        if isinstance(exc, BadQuery):
            return self.error(400, message, state)
        if isinstance(exc, OSError):
            message = f"the index could not be read: {exc.strerror or type(exc).__name__}"
        return self.error(500, message, state)

    # -- search

    def search(self, request: Request) -> Response:
        try:
            state = SearchState.from_params(request.query_params)
        except BadQuery as exc:
            return self.problem(SearchState.from_params(request.query_params, strict=False), exc)
        canonical = state.query_string()
        if sorted(parse_qsl(request.url.query, keep_blank_values=True)) != sorted(parse_qsl(canonical[1:])):
            # the form sends every field, empty ones too: one short URL per search, to share or bookmark
            return RedirectResponse("/" + canonical, status_code=303)
        if not state.q.strip():
            return self.home(state)
        now = self.now()
        try:
            with self.reader() as ix:
                results = ix.search(state.q, **state.search_args(), sort=state.sort, limit=PAGE_SIZE,
                                    page=state.page, facets=FACET_NAMES, collapse=True, now=now)
                tl = _timeline(ix, state, now)
                sources = [s.name for s in ix.sources()[:500]]
        except BadQuery as exc:
            return self.problem(state, exc)
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc, state)
        return self.render(
            "search.html",
            state=state,
            results=results,
            problem=None,
            sources=sources,
            hits=[_hit_view(h, state) for h in results.hits],
            facets=_facets(results, state),
            chips=_chips(state),
            pagination=_pagination(results, lambda n: "/" + state.query_string(page=n)),
            timeline=Markup(timeline_svg(tl)),
            timeline_info=tl,
            periods=[{"label": b, "url": "/" + state.query_string(by=b), "active": b == state.by} for b in BY],
            downloads=[{"label": fmt.upper(), "url": f"/export.{fmt}{state.query_string(page=1, by='auto')}"}
                       for fmt in EXPORT_FORMATS],
            suggestion_url="/" + state.query_string(q=results.suggestion) if results.suggestion else None,
        )

    def problem(self, state: SearchState, exc: Exception) -> HTMLResponse:
        """The search form as typed, with what was wrong above it (400)."""
        return self.render("search.html", 400, state=state, results=None, sources=[],
                           problem=clean_text(str(exc), keep_lines=False), **self._empty())

    @staticmethod
    def _empty() -> Dict[str, Any]:
        return {"hits": [], "facets": [], "chips": [], "pagination": None, "timeline": None, "timeline_info": None,
                "periods": [], "downloads": [], "suggestion_url": None}

    def home(self, state: SearchState) -> Response:
        try:
            with self.reader() as ix:
                stats = ix.stats()
                sources = ix.sources()
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc, state)
        return self.render("home.html", state=state, results=None, problem=None, stats=stats, sources=[s.name for s in sources[:500]],
                           top_sources=sources[:FACET_TOP], oldest=_when(stats.oldest), newest=_when(stats.newest))

    # -- one article

    def article(self, request: Request) -> Response:
        wanted = request.path_params["article_id"]
        try:
            with self.reader() as ix:
                article = ix.get(wanted) or ix.get(ix.resolve_id(wanted))
                if article is None:  # pragma: no cover - deleted between the lookup and the load
                    raise ArticleNotFound(f"no article with id {wanted!r}")
                related = ix.related(article.id, limit=RELATED_ON_ARTICLE)
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc)
        return self.render("article.html", state=SearchState(), article=self._article_view(article),
                           related=[_hit_view(h, None) for h in related.hits], related_total=related.total,
                           related_url=_article_path(article.id) + "/related")

    @staticmethod
    def _article_view(article: Article) -> Dict[str, Any]:
        return {
            "id": article.id,
            "title": article.title or "(untitled)",
            "source": article.source,
            "published": _when(article.published),
            "author": article.author or "",
            "lang": article.lang or "",
            "url": _link(article.url),
            "paragraphs": _paragraphs(article.body),
            "url_path": _article_path(article.id),
        }

    def related(self, request: Request) -> Response:
        wanted = request.path_params["article_id"]
        try:
            state = SearchState.from_params(request.query_params)
            with self.reader() as ix:
                article = ix.get(wanted) or ix.get(ix.resolve_id(wanted))
                if article is None:  # pragma: no cover
                    raise ArticleNotFound(f"no article with id {wanted!r}")
                results = ix.related(article.id, limit=PAGE_SIZE, page=state.page)
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc)
        base = _article_path(article.id) + "/related"
        return self.render(
            "list.html", state=SearchState(), heading="Related articles", article=self._article_view(article),
            hits=[_hit_view(h, None) for h in results.hits], total=results.total, warnings=results.warnings,
            pagination=_pagination(results, lambda n: base + (f"?page={n}" if n > 1 else "")),
            empty="No related articles.",
        )

    def similar(self, request: Request) -> Response:
        """The near-copies folded into one hit of a search (the search is run again to find them)."""
        wanted = request.path_params["article_id"]
        try:
            state = SearchState.from_params(request.query_params)
            with self.reader() as ix:
                article = ix.get(wanted)
                if article is None:
                    raise ArticleNotFound(f"no article with id {wanted!r}")
                copies: List[Article] = []
                if state.q.strip():
                    results = ix.search(state.q, **state.search_args(), sort=state.sort, limit=PAGE_SIZE,
                                        page=state.page, collapse=True, now=self.now())
                    hit = next((h for h in results.hits if h.id == wanted), None)
                    ids = hit.duplicate_ids if hit is not None else ()
                    copies = [a for a in (ix.get(i) for i in ids) if a is not None]
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc, None)
        views = [{"id": a.id, "short": a.id[:SHORT_ID], "rank": None, "title": a.title or "(untitled)",
                  "source": a.source, "published": _when(a.published), "lang": a.lang or "", "url": _link(a.url),
                  "snippet": None, "duplicates": 0, "similar_url": None, "article_url": _article_path(a.id),
                  "related_url": _article_path(a.id) + "/related"} for a in copies]
        return self.render(
            "list.html", state=state, heading="Similar copies", article=self._article_view(article), hits=views,
            total=len(views), warnings=(), pagination=None, back_url="/" + state.query_string(),
            empty="No near-copies of this article match this search any more.",
        )

    # -- downloads

    def export(self, request: Request, fmt: str) -> Response:
        """Every match of the page's query and filters (copies included), streamed as CSV or JSON Lines."""
        try:
            state = SearchState.from_params(request.query_params)
            if not state.q.strip():
                raise BadQuery("a download needs a query: search first, then use its download links")
            ix = open_index(self.reader.path)  # its own reader: a long download holds up no page
        except (NewsSearchError, OSError) as exc:
            return self.library_error(exc)
        try:
            matches = ix.iter_search(state.q, **state.search_args(), sort=state.sort, collapse=False, now=self.now())
            chunks = iter_export(matches, fmt)
        except BaseException as exc:
            ix.close()
            if isinstance(exc, (NewsSearchError, OSError)):
                return self.library_error(exc, state)
            raise

        done = threading.Lock()

        def close() -> None:  # after the last chunk, or after the response when none was read (HEAD)
            if done.acquire(blocking=False):
                ix.close()

        def stream() -> Iterator[str]:
            try:
                yield from chunks
            finally:
                close()

        media = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}[fmt]
        return StreamingResponse(stream(), media_type=media, background=BackgroundTask(close),
                                 headers={"content-disposition": f'attachment; filename="newssearch-export.{fmt}"'})


def _environment() -> Environment:
    # autoescape for every template whatever its name: article text is never markup
    return Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True)


def make_app(
    index_path: Union[str, Path],
    *,
    now: Optional[Clock] = None,
    allowed_hosts: Optional[Sequence[str]] = LOOPBACK_NAMES,
) -> Starlette:
    """The search page over the index at *index_path* as a Starlette (ASGI) app.

    Opens the index now (IndexNotFound and the other open errors are raised here) and
    closes it at the app's shutdown. *now* is the clock relative dates and ``fresh``
    are resolved against (the wall clock by default). *allowed_hosts* are the Host
    header names answered (default: loopback names; None answers any host, for a
    server bound to another address or behind a proxy).
    """
    reader = _Reader(index_path)
    pages = _Pages(reader, _environment(), now or (lambda: datetime.now(timezone.utc)))

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        messages = {404: "There is no page at this address.", 405: "This page is read-only: only GET and HEAD are answered."}
        response = pages.error(status, messages.get(status, "The request could not be answered."))
        for name, value in (getattr(exc, "headers", None) or {}).items():
            response.headers[name] = value
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        # Starlette answers this outside every middleware: the headers are set here
        response = pages.error(500, "The page could not be made; the server's log says why.")
        for name, value in SECURITY_HEADERS:
            response.headers[name] = value
        return response

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            reader.close()

    get = ["GET"]  # Starlette answers HEAD for every GET route, and 405 for any other method
    routes = [
        Route("/", pages.search, methods=get, name="search"),
        Route("/article/{article_id}", pages.article, methods=get, name="article"),
        Route("/article/{article_id}/related", pages.related, methods=get, name="related"),
        Route("/article/{article_id}/similar", pages.similar, methods=get, name="similar"),
        *[Route(f"/export.{fmt}", partial(pages.export, fmt=fmt), methods=get, name=f"export_{fmt}")
          for fmt in EXPORT_FORMATS],
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)
    app.state.reader = reader
    return app


def serve(index_path: Union[str, Path], *, host: str = "127.0.0.1", port: int = 8080,
          now: Optional[Clock] = None) -> None:
    """Run the search page with uvicorn until interrupted (Ctrl-C).

    On a loopback *host* only loopback Host names are answered; on any other address
    every Host is, and the page is readable by anyone who can reach it.
    """
    import uvicorn

    app = make_app(index_path, now=now, allowed_hosts=LOOPBACK_NAMES if is_loopback(host) else None)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
