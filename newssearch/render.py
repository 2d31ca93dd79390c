"""Turn results and stats into text or JSON-ready dicts; pure functions, no I/O."""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import textwrap
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence

import click

from .model import (SHORT_ID, SNIPPET_MARK_END, SNIPPET_MARK_START, Article, Explanation, Generation, Hit, IndexStats, IngestReport,
                    Rejected, Results, RunReport, SourceInfo, Timeline, clean_text)

__all__ = [
    "iso",
    "results_to_dict",
    "results_table",
    "stats_to_dict",
    "stats_text",
    "report_line",
    "run_line",
    "generations_to_list",
    "generations_table",
    "ingest_summary",
    "rejects_jsonl",
    "hit_to_dict",
    "results_jsonl",
    "results_csv",
    "facets_table",
    "sources_to_list",
    "sources_table",
    "sources_jsonl",
    "sources_csv",
    "explanation_to_dict",
    "explanation_text",
    "HIT_COLUMNS",
    "SHORT_ID",
    "short_id",
    "terminal_width",
    "use_color",
    "article_text",
    "article_to_dict",
    "timeline_table",
    "timeline_csv",
]

HIT_COLUMNS = (
    "rank", "id", "title", "source", "published", "url", "lang", "author", "score",
    "snippet", "snippet_html", "duplicates", "duplicate_ids",
)
"""Keys of a hit in --json / --jsonl, and the --csv header."""


def iso(dt: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if dt is None:
        return None
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def results_to_dict(results: Results) -> Dict[str, Any]:
    """The ``--json`` document for a search."""
    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "limit": results.limit,
        "hits": [hit_to_dict(h) for h in results.hits],
        "warnings": list(results.warnings),
        "suggestion": results.suggestion,
        "facets": {name: dict(counts) for name, counts in results.facets.items()},
    }


def hit_to_dict(h: Hit) -> Dict[str, Any]:
    """One hit as JSON-ready values (the keys of :data:`HIT_COLUMNS`)."""
    return {
        "rank": h.rank,
        "id": h.id,
        "title": h.title,
        "source": h.source,
        "published": iso(h.published),
        "url": h.url,
        "lang": h.lang,
        "author": h.author,
        "score": round(h.score, 4),
        "snippet": h.snippet,
        "snippet_html": h.snippet_html,
        "duplicates": h.duplicates,
        "duplicate_ids": list(h.duplicate_ids),
    }


def results_jsonl(results: Results) -> str:
    """One JSON object per hit, one per line (no envelope: total, facets... are in --json)."""
    return "\n".join(json.dumps(hit_to_dict(h), ensure_ascii=False) for h in results.hits)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is read as a formula by spreadsheets (CSV injection)."""


def csv_cell(value: Any) -> Any:
    """*value* safe in a spreadsheet: text starting with = + - @ (or tab / CR) gets a leading
    apostrophe, so ``=HYPERLINK(...)`` in a title shows as text and never runs."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue().rstrip("\n")


def results_csv(results: Results) -> str:
    """A header row of :data:`HIT_COLUMNS`, then one row per hit (duplicate ids joined by spaces)."""
    rows: List[Sequence[Any]] = [HIT_COLUMNS]
    for h in results.hits:
        d = hit_to_dict(h)
        d["duplicate_ids"] = " ".join(d["duplicate_ids"])
        rows.append(["" if d[c] is None else d[c] for c in HIT_COLUMNS])
    return _csv(rows)


FACET_SORTS = ("auto", "count", "value")
"""``auto``: dates newest first, other facets by count; ``count``: every facet by count;
``value``: by value (dates oldest first, names A-Z)."""


def facets_table(facets: Mapping[str, Mapping[str, int]], top: int = 10, sort: str = "auto") -> str:
    """Facet counts as small two-column tables: the *top* values of each, in *sort* order."""
    lines: List[str] = []
    for name, counts in facets.items():
        lines.append("")
        lines.append(f"{name}:")
        dated = name in ("day", "week", "month")
        if sort == "value":
            items = sorted(counts.items())[:top]
        elif dated and sort == "auto":
            items = sorted(counts.items(), reverse=True)[:top]  # the newest periods, newest first
        else:
            items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        if not items:
            lines.append("  -")
            continue
        width = max(len(k) for k, _ in items)
        for key, count in items:
            lines.append(f"  {key:<{width}}  {count:>6}")
        more = len(counts) - len(items)
        if more > 0:
            lines.append(f"  … {more} more")
    return "\n".join(lines)


def sources_to_list(sources: Sequence[SourceInfo]) -> List[Dict[str, Any]]:
    """``sources`` as JSON-ready dicts."""
    return [{"source": s.name, "articles": s.articles, "first": iso(s.first), "last": iso(s.last)} for s in sources]


def sources_table(sources: Sequence[SourceInfo]) -> str:
    """``sources`` for a terminal: name, articles, first and last date."""
    if not sources:
        return "no articles"
    width = max(6, max(len(s.name or "(none)") for s in sources))
    lines = [f"{'source':<{width}}  {'articles':>8}  {'first':<10}  {'last':<10}"]
    for s in sources:
        first = s.first.strftime("%Y-%m-%d") if s.first else "-"
        last = s.last.strftime("%Y-%m-%d") if s.last else "-"
        lines.append(f"{(_plain(s.name) or '(none)'):<{width}}  {s.articles:>8}  {first:<10}  {last:<10}")
    return "\n".join(lines)


def sources_jsonl(sources: Sequence[SourceInfo]) -> str:
    return "\n".join(json.dumps(d, ensure_ascii=False) for d in sources_to_list(sources))


def sources_csv(sources: Sequence[SourceInfo]) -> str:
    rows: List[Sequence[Any]] = [("source", "articles", "first", "last")]
    rows.extend((d["source"], d["articles"], d["first"] or "", d["last"] or "") for d in sources_to_list(sources))
    return _csv(rows)


def explanation_to_dict(e: Explanation) -> Dict[str, Any]:
    """``--explain --json``."""
    return {
        "query": e.query,
        "tree": e.tree.splitlines(),
        "compiled": e.compiled,
        "warnings": list(e.warnings),
        "expanded": dict(e.expanded),
        "expansion_cap": e.expansion_cap,
        "fallback": e.fallback.splitlines() if e.fallback else None,
    }


def explanation_text(e: Explanation) -> str:
    """``--explain`` for a terminal."""
    lines = [f"query: {e.query!r}", "parsed:"]
    lines.extend("  " + line for line in e.tree.splitlines())
    lines.append(f"compiled: {e.compiled}")
    for word, n in e.expanded.items():
        lines.append(f"expanded: {word} -> {n} terms (cap {e.expansion_cap})")
    if e.fallback:
        lines.append("fallback when too few articles hold every word:")
        lines.extend("  " + line for line in e.fallback.splitlines())
    for w in e.warnings:
        lines.append(f"warning: {w}")
    if not e.warnings:
        lines.append("warnings: none")
    return "\n".join(lines)


def _plain(text: Optional[str]) -> str:
    """*text* for a terminal: no escape sequence or control character ever reaches it raw
    (the index cleans text on the way in; this also covers indexes written before that)."""
    return clean_text(text or "", keep_lines=False)


DEFAULT_WIDTH = 100


def short_id(article_id: str) -> str:
    """The first :data:`SHORT_ID` characters of an id, as listings show it."""
    return article_id[:SHORT_ID]


def terminal_width(fallback: int = DEFAULT_WIDTH) -> int:
    """The terminal's columns (COLUMNS when set), kept between 40 and 160 so text stays readable."""
    columns = shutil.get_terminal_size((fallback, 24)).columns
    return max(40, min(160, columns))


def use_color(choice: Optional[bool], stream: Any = None) -> bool:
    """Colour or not: ``--color``/``--no-color`` when given (True/False), else colour
    only on a terminal and only when ``NO_COLOR`` is unset or empty (no-color.org)."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


_MARK = re.compile(re.escape(SNIPPET_MARK_START) + "(.*?)" + re.escape(SNIPPET_MARK_END))


def _paint_marks(line: str, color: bool) -> str:
    """A wrapped snippet line with its ``[[word]]`` marks shown in colour (bold yellow)
    on a colour terminal; a mark the wrap cut in two is closed at the line's end."""
    if not color:
        return line
    line = _MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), line)
    if SNIPPET_MARK_START in line:  # opened here, closed on the next line
        head, _, tail = line.partition(SNIPPET_MARK_START)
        line = head + click.style(tail, fg="yellow", bold=True)
    if SNIPPET_MARK_END in line:  # opened on the previous line
        head, _, tail = line.partition(SNIPPET_MARK_END)
        line = click.style(head, fg="yellow", bold=True) + tail
    return line


def _style(text: str, color: bool, **style: Any) -> str:
    return click.style(text, **style) if color else text


def results_table(results: Results, width: int = DEFAULT_WIDTH, facet_sort: str = "auto", color: bool = False) -> str:
    """A readable listing for a terminal *width* columns wide: rank and title, then short
    id · source · date · score, the url and the snippet. Matched words are ``[[marked]]``
    in plain text and coloured instead when *color*."""
    lines: List[str] = []
    for w in results.warnings:
        lines.append(_style(f"warning: {w}", color, fg="red"))
    pages = max(1, -(-results.total // results.limit))
    noun = "result" if results.total == 1 else "results"
    lines.append(_style(f"{results.total} {noun} for {results.query!r} (page {results.page} of {pages})", color, bold=True))
    if results.suggestion:
        lines.append(f"did you mean: {results.suggestion}")
    if not results.hits:
        return "\n".join(lines)
    indent = " " * 5
    text_width = max(20, width)
    for h in results.hits:
        lines.append("")
        title = textwrap.wrap(_plain(h.title) or "(untitled)", width=text_width, initial_indent=f"{h.rank:>3}. ",
                              subsequent_indent=indent) or [f"{h.rank:>3}. "]
        lines.append(_style(title[0][:5], color, dim=True) + _style(title[0][5:], color, bold=True))
        lines.extend(_style(t, color, bold=True) for t in title[1:])
        when = h.published.strftime("%Y-%m-%d %H:%M UTC") if h.published else "undated"
        meta = " · ".join(p for p in (short_id(h.id), _plain(h.source) or "unknown source", when,
                                      f"score {h.score:.2f}") if p)
        lines.extend(_style(m, color, fg="cyan")
                     for m in textwrap.wrap(meta, width=text_width, initial_indent=indent, subsequent_indent=indent))
        if h.url:
            lines.append(indent + _style(_plain(h.url), color, dim=True))
        if h.snippet:
            wrapped = textwrap.wrap(_plain(h.snippet), width=text_width, initial_indent=indent, subsequent_indent=indent)
            lines.extend(_paint_marks(line, color) for line in wrapped)
        if h.duplicates:
            lines.append(indent + _style(f"+ {h.duplicates} near-duplicate cop{'y' if h.duplicates == 1 else 'ies'} "
                                         "(--all shows them)", color, dim=True))
    if results.facets:
        lines.append(facets_table(results.facets, sort=facet_sort))
    return "\n".join(lines)


def article_text(article: Article, width: int = DEFAULT_WIDTH, color: bool = False) -> str:
    """One whole article for ``show``: title, id · source · date, url, author and language,
    then the body, paragraphs wrapped to *width*."""
    width = max(20, width)
    lines = [_style(t, color, bold=True) for t in textwrap.wrap(_plain(article.title) or "(untitled)", width=width)]
    when = article.published.strftime("%Y-%m-%d %H:%M UTC") if article.published else "undated"
    lines.append(_style(" · ".join((article.id, _plain(article.source) or "unknown source", when)), color, fg="cyan"))
    if article.url:
        lines.append(_style(_plain(article.url), color, dim=True))
    extra = [f"by {_plain(article.author)}" if article.author else "", f"language {article.lang}" if article.lang else ""]
    if any(extra):
        lines.append(" · ".join(e for e in extra if e))
    for para in re.split(r"\n\s*\n|\n", article.body or ""):
        para = _plain(para).strip()
        if para:
            lines.append("")
            lines.extend(textwrap.wrap(para, width=width))
    return "\n".join(lines)


def article_to_dict(article: Article) -> Dict[str, Any]:
    """The ``show --json`` document: every stored field."""
    return {"id": article.id, "title": article.title, "source": article.source, "published": iso(article.published),
            "url": article.url, "lang": article.lang, "author": article.author, "body": article.body}


def timeline_table(tl: Timeline, width: int = DEFAULT_WIDTH, color: bool = False, list_all: int = 60) -> str:
    """Counts per period for a terminal: a sparkline over every period, then one row per
    period with a bar (only the non-empty ones past *list_all* periods)."""
    from .timeline import sparkline

    lines = [f"warning: {w}" for w in tl.warnings]
    noun = "match" if tl.total == 1 else "matches"
    if not tl.periods:
        lines.append(f"{tl.total} {noun} for {tl.query!r}" + (f", {tl.undated} undated" if tl.undated else "")
                     + ": no dated match to chart")
        return "\n".join(lines)
    first, last = tl.periods[0].label, tl.periods[-1].label
    head = f"{tl.total} {noun} for {tl.query!r} by {tl.by}, {first} to {last}"
    if tl.undated:
        head += f" ({tl.undated} undated, not charted)"
    lines.append(_style(head, color, bold=True))
    line = sparkline([p.count for p in tl.periods], width=max(10, width - 2))
    lines.append(_style(line, color, fg="cyan"))
    rows = list(tl.periods) if len(tl.periods) <= list_all else [p for p in tl.periods if p.count]
    label_w = max(len(p.label) for p in rows) if rows else 7
    count_w = max(len(str(p.count)) for p in rows) if rows else 1
    top = max((p.count for p in rows), default=0) or 1
    bar_room = max(5, width - label_w - count_w - 4)
    lines.append("")
    for p in rows:
        bar = "█" * max(1 if p.count else 0, round(p.count * bar_room / top))
        lines.append(f"{p.label:<{label_w}}  {p.count:>{count_w}} {_style(bar, color, fg='cyan')}".rstrip())
    if len(rows) < len(tl.periods):
        empty = len(tl.periods) - len(rows)
        lines.append(_style(f"({empty} empty {tl.by}s not listed; --csv lists every one)", color, dim=True))
    return "\n".join(lines)


def timeline_csv(tl: Timeline) -> str:
    """``period,start,count`` rows, every period (empty ones as 0)."""
    return _csv([("period", "start", "count")] + [(p.label, p.start.isoformat(), p.count) for p in tl.periods])


def stats_to_dict(stats: IndexStats) -> Dict[str, Any]:
    """The ``--json`` document for ``stats``."""
    return {
        "path": stats.path,
        "articles": stats.articles,
        "sources": dict(stats.sources),
        "languages": dict(stats.languages),
        "oldest": iso(stats.oldest),
        "newest": iso(stats.newest),
        "segments": stats.segments,
        "size_bytes": stats.size_bytes,
        "format": stats.format,
        "analysis": stats.analysis,
        "engine": stats.engine,
    }


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def stats_text(stats: IndexStats, top: int = 10) -> str:
    """``stats`` for a terminal: one ``key: value`` per line."""
    top_sources = ", ".join(f"{k} {v}" for k, v in list(stats.sources.items())[:top])
    more = len(stats.sources) - top
    if more > 0:
        top_sources += f", … {more} more"
    langs = ", ".join(f"{k} {v}" for k, v in stats.languages.items())
    lines = [
        f"index: {stats.path}",
        f"articles: {stats.articles}",
        f"sources: {len(stats.sources)}" + (f" ({top_sources})" if top_sources else ""),
        f"languages: {langs or '-'}",
        f"oldest: {iso(stats.oldest) or '-'}",
        f"newest: {iso(stats.newest) or '-'}",
        f"size: {_size(stats.size_bytes)} in {stats.segments} segment{'s' if stats.segments != 1 else ''}",
        f"format: {stats.format} (analysis {stats.analysis})",
    ]
    if stats.engine:
        lines.insert(1, f"engine: {stats.engine}")
    return "\n".join(lines)


def report_line(report: IngestReport, total: Optional[int] = None) -> str:
    """One-line summary of an ingest."""
    line = (
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.rejected)} rejected in {report.seconds:.1f}s"
    )
    if total is not None:
        line += f"; index holds {total} article{'s' if total != 1 else ''}"
    return line


def run_line(report: RunReport) -> str:
    """One-line summary of a rebuild or update, for logs and cron mail."""
    head = (
        f"{report.kind}: generation {report.generation} live"
        if report.switched
        else f"{report.kind}: nothing changed, generation {report.generation} stays live"
    )
    line = (
        f"{head} with {report.articles} articles; added {report.added}, updated {report.updated}, "
        f"unchanged {report.unchanged}, rejected {len(report.rejected)}"
    )
    if report.expired:
        line += f", expired {report.expired}"
    return line + f" in {report.seconds:.1f}s"


def generations_to_list(gens: List[Generation]) -> List[Dict[str, Any]]:
    """The ``generations --json`` document."""
    return [{"id": g.id, "created": iso(g.created), "articles": g.articles, "live": g.live, "kind": g.kind} for g in gens]


def generations_table(gens: List[Generation]) -> str:
    """Generations for a terminal, oldest first, the live one starred."""
    lines = [f"{'':2}{'id':>6}  {'created':20}  {'articles':>9}  kind"]
    for g in gens:
        lines.append(f"{'*' if g.live else '':2}{g.id:>6}  {iso(g.created) or '-':20}  {g.articles:>9}  {g.kind}")
    return "\n".join(lines)
def ingest_summary(report: IngestReport) -> str:
    """The one-line end-of-ingest summary: ``added A, updated U, unchanged C, rejected R in S.Ss``."""
    return (
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"rejected {len(report.rejected)} in {report.seconds:.1f}s"
    )


def rejects_jsonl(rejected: Sequence[Rejected]) -> str:
    """Rejected records as JSON lines: ``{"file", "line", "reason"}`` each."""
    return "".join(
        json.dumps({"file": r.file, "line": r.line, "reason": r.reason}, ensure_ascii=False) + "\n"
        for r in rejected
    )
