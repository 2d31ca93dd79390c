"""Turn results and stats into text or JSON-ready dicts; pure functions, no I/O."""
from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import datetime, timezone
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .model import Explanation, Generation, Hit, IndexStats, IngestReport, Rejected, Results, RunReport, SourceInfo, clean_text

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


def results_table(results: Results, width: int = 100, facet_sort: str = "auto") -> str:
    """A readable listing for a terminal: rank, title, source · date · score, snippet."""
    lines: List[str] = []
    for w in results.warnings:
        lines.append(f"warning: {w}")
    pages = max(1, -(-results.total // results.limit))
    noun = "result" if results.total == 1 else "results"
    lines.append(f"{results.total} {noun} for {results.query!r} (page {results.page} of {pages})")
    if results.suggestion:
        lines.append(f"did you mean: {results.suggestion}")
    if not results.hits:
        return "\n".join(lines)
    indent = " " * 5
    for h in results.hits:
        lines.append("")
        lines.append(f"{h.rank:>3}. {_plain(h.title) or '(untitled)'}")
        when = h.published.strftime("%Y-%m-%d %H:%M UTC") if h.published else "undated"
        meta = " · ".join(p for p in (_plain(h.source) or "unknown source", when, f"score {h.score:.2f}") if p)
        lines.append(indent + meta)
        if h.url:
            lines.append(indent + _plain(h.url))
        if h.snippet:
            lines.extend(textwrap.wrap(_plain(h.snippet), width=width, initial_indent=indent, subsequent_indent=indent))
        if h.duplicates:
            lines.append(indent + f"+ {h.duplicates} near-duplicate cop{'y' if h.duplicates == 1 else 'ies'} (--all shows them)")
    if results.facets:
        lines.append(facets_table(results.facets, sort=facet_sort))
    return "\n".join(lines)


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
