"""The ``newssearch`` command: a thin click shell over the library.

Each command parses options, makes one library call and renders the answer.
Exit codes: 0 ok; 1 error (one line on stderr, no traceback); 2 usage error;
3 some input records were rejected but the rest were indexed.
"""
from __future__ import annotations

import errno
import functools
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, TypeVar

import click

from . import __version__
from .dates import parse_datetime, parse_duration
from ._cli_ingest import field_map as _field_map, progress as _progress
from .engine import DEFAULT_ENGINE, engine_names, engine_spec
from .errors import ArticleNotFound, BadInput, IndexLocked, NewsSearchError
from .export import EXPORT_FORMATS, write_export
from .model import clean_text
from .index import FACETS, SORTS, open_index
from .ingest import READERS
from .rebuild import Config, RunReport, load_config, rebuild, update
from .timeline import PERIODS
from .render import (
    article_text,
    article_to_dict,
    terminal_width,
    timeline_csv,
    timeline_table,
    use_color,
    explanation_text,
    explanation_to_dict,
    generations_table,
    generations_to_list,
    ingest_summary,
    rejects_jsonl,
    results_csv,
    results_jsonl,
    FACET_SORTS,
    results_table,
    results_to_dict,
    run_line,
    sources_csv,
    sources_jsonl,
    sources_table,
    sources_to_list,
    stats_text,
    stats_to_dict,
)

DEFAULT_INDEX = "indexes/default"
EXIT_ERROR = 1
EXIT_REJECTED = 3
"""Exit code when some records were rejected but every good one was indexed."""
EXIT_LOCKED = 75
"""Exit code when another writer held the index lock past --wait (EX_TEMPFAIL: try later)."""

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> "click.exceptions.Exit":
    click.echo(f"error: {clean_text(message, keep_lines=False)}", err=True)
    return click.exceptions.Exit(EXIT_ERROR)


def _errors_to_exit(func: F) -> F:
    """Turn library errors into one line on stderr and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except IndexLocked as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(EXIT_LOCKED) from None
        except NewsSearchError as exc:
            raise _fail(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                # every write builds a new generation beside the live one, which stays as it was
                raise _fail(f"{where}no space left on device: nothing was switched, the index is as it was "
                            f"before this run; free some space and run it again") from None
            raise _fail(f"{where}{exc.strerror or exc}") from None

    return wrapper  # type: ignore[return-value]


index_option = click.option(
    "--index",
    "index_path",
    envvar="NEWSSEARCH_INDEX",
    default=DEFAULT_INDEX,
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Index directory (else $NEWSSEARCH_INDEX, else indexes/default).",
)


wait_option = click.option(
    "--wait",
    type=click.FloatRange(0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another writer's lock before giving up (exit 75).",
)
config_option = click.option(
    "--config",
    "config_path",
    envvar="NEWSSEARCH_CONFIG",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML config naming the index and its sources (else $NEWSSEARCH_CONFIG).",
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")


def engine_options(func: F) -> F:
    """--engine, --url and --prefix: the engine a new index is made with."""
    func = click.option("--prefix", help="OpenSearch index prefix; the live generation is the alias PREFIX "
                                         "(default newssearch).")(func)
    func = click.option("--url", help="OpenSearch url, e.g. http://127.0.0.1:9200 (else $OPENSEARCH_URL); "
                                      "credentials only from $OPENSEARCH_USERNAME/$OPENSEARCH_PASSWORD.")(func)
    func = click.option("--engine", type=click.Choice(engine_names()), default=None,
                        help="Engine of a new index (default whoosh; an existing index keeps its own).")(func)
    return func


def _engine_from(engine: Optional[str], url: Optional[str], prefix: Optional[str],
                 default: Optional[str] = DEFAULT_ENGINE) -> Optional[str]:
    if engine is None and url is None and prefix is None:
        return default
    if engine is None:
        engine = "opensearch"  # --url/--prefix only mean something for a server engine
    return engine_spec(engine, url=url, prefix=prefix)


def _index_from(config_path: Optional[Path], index_path: Path) -> Path:
    """--index when given on the command line or in the environment, else the config's index."""
    ctx = click.get_current_context()
    source = ctx.get_parameter_source("index_path")
    if config_path is not None and source not in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT):
        return load_config(config_path).index
    return index_path


def _config_for_run(config_path: Optional[Path], index_path: Path) -> Config:
    if config_path is None:
        raise BadInput("this command reads its sources from a config: pass --config FILE (or set NEWSSEARCH_CONFIG)")
    config = load_config(config_path)
    ctx = click.get_current_context()
    if ctx.get_parameter_source("index_path") in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT):
        config = Config(**{**config.__dict__, "index": index_path})
    return config


def _echo_record_notes(report: Any, quiet: bool) -> None:
    """On stderr: every rejected record, and (unless quiet) the warnings and 304 URLs."""
    for rej in report.rejected:
        click.echo(f"rejected: {rej}", err=True)
    if not quiet:
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        for url in report.not_modified:
            click.echo(f"not modified: {url}", err=True)


def _finish_run(report: RunReport, quiet: bool) -> None:
    _echo_record_notes(report, quiet)
    if not quiet:
        click.echo(run_line(report))
    if report.rejected:
        raise click.exceptions.Exit(EXIT_REJECTED)


def _now() -> datetime:
    return datetime.now(timezone.utc)


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _when(text: Optional[str], *, end_of_day: bool = False) -> Optional[datetime]:
    """A --since/--until value: a date, a datetime, "yesterday", "2 days ago" or a span like "7d"."""
    if text is None:
        return None
    now = _now()
    try:
        return now - parse_duration(text)
    except BadInput:
        pass
    value = parse_datetime(text, now=now)
    if end_of_day and _DATE_ONLY.match(text.strip()):
        # --until 2025-08-12 includes all of that day
        value = value + timedelta(days=1) - timedelta(microseconds=1)
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="newssearch")
def main() -> None:
    """Full-text search for news: index articles, then query them."""
    # text the index got before it cleaned its input, or a file name with invalid UTF-8,
    # prints with a replacement character instead of ending in UnicodeEncodeError
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


@main.command("index")
@click.argument("paths", nargs=-1, required=True)
@index_option
@click.option(
    "--as-of",
    metavar="DATETIME",
    help='Reference time for relative dates such as "2 hours ago" (default: each file\'s modification time).',
)
@click.option("--format", "format_", type=click.Choice(sorted(READERS)), help="Read every input as this format.")
@click.option("--field", "fields", multiple=True, metavar="FIELD=COLUMN",
              help="Read FIELD (title, body, source, date, url, lang, author, id) from COLUMN; repeatable.")
@click.option("--include", multiple=True, metavar="GLOB", help="In directories, read only files matching GLOB; repeatable.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="In directories, skip files and folders matching GLOB; repeatable.")
@click.option("--dayfirst", is_flag=True, help="Read numeric dates day first: 12/08/2025 is 12 August.")
@click.option("--encoding", metavar="CODEC",
              help="Read every input as this encoding (cp1256, cp1255, latin-1 ...) instead of detecting it.")
@click.option("--rejects", "rejects_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the rejected records to FILE as JSON lines.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and rejects.")
@engine_options
@wait_option
@_errors_to_exit
def index_cmd(
    paths: Sequence[str],
    index_path: Path,
    as_of: Optional[str],
    format_: Optional[str],
    fields: Sequence[str],
    include: Sequence[str],
    exclude: Sequence[str],
    dayfirst: bool,
    encoding: Optional[str],
    rejects_path: Optional[Path],
    quiet: bool,
    engine: Optional[str],
    url: Optional[str],
    prefix: Optional[str],
    wait: float,
) -> None:
    """Add the articles in PATHS to the index, creating it if needed.

    PATHS are files, directories (walked), http(s) URLs of feeds and pages, or - for
    standard input. Articles already indexed are updated when their content changed.
    Rejected records are listed on stderr as FILE:LINE: REASON; the exit code is then 3
    (1 when nothing could be read).
    """
    as_of_dt = parse_datetime(as_of) if as_of else None
    field_map = _field_map(fields)
    spec = _engine_from(engine, url, prefix)
    with open_index(index_path, create=True, wait=wait, engine=spec) as ix, _progress(quiet) as progress:
        report = ix.add_paths(
            list(paths), as_of=as_of_dt, format=format_, fields=field_map, include=include,
            exclude=exclude, stdin=sys.stdin.buffer if "-" in paths else None, encoding=encoding, dayfirst=dayfirst,
            progress=progress.on_input if progress else None, on_records=progress.on_records if progress else None,
        )
    _echo_record_notes(report, quiet)
    if rejects_path is not None:
        rejects_path.write_text(rejects_jsonl(report.rejected), encoding="utf-8")
    if not quiet:
        click.echo(ingest_summary(report), err=True)
    if report.rejected:
        read_ok = report.added + report.updated + report.unchanged
        raise click.exceptions.Exit(EXIT_REJECTED if read_ok else EXIT_ERROR)


def output_options(func: F) -> F:
    """--json / --jsonl / --csv for every listing command (one at most: two is a usage
    error); the terminal table otherwise. The command gets them as ``fmt``."""

    @functools.wraps(func)
    def wrapper(*args: Any, as_json: bool = False, as_jsonl: bool = False, as_csv: bool = False, **kwargs: Any) -> Any:
        chosen = [name for name, on in (("--json", as_json), ("--jsonl", as_jsonl), ("--csv", as_csv)) if on]
        if len(chosen) > 1:
            raise click.UsageError(f"{' and '.join(chosen)} cannot be used together: choose one output format")
        return func(*args, fmt=chosen[0][2:] if chosen else "table", **kwargs)

    out: Any = click.option("--csv", "as_csv", is_flag=True, help="Print CSV: a header, then one row per item.")(wrapper)
    out = click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON object per item, one per line.")(out)
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")(out)  # type: ignore[no-any-return]


def _echo(fmt: str, value: Any, *, as_json: Callable, as_jsonl: Callable, as_csv: Callable, as_table: Callable) -> None:
    """Print *value* in the format the output-options decorator chose."""
    if fmt == "json":
        click.echo(json.dumps(as_json(value), ensure_ascii=False, indent=2))
    elif fmt == "jsonl":
        text = as_jsonl(value)
        if text:
            click.echo(text)
    elif fmt == "csv":
        click.echo(as_csv(value))
    else:
        click.echo(as_table(value))


def _echo_results(results: Any, fmt: str) -> None:
    _echo(fmt, results, as_json=results_to_dict, as_jsonl=results_jsonl, as_csv=results_csv, as_table=results_table)


def filter_options(func: F) -> F:
    """The filters a search takes (--source ... --lang), handed to the command as ``filters``:
    the keyword arguments of ``NewsIndex.search`` / ``iter_search`` / ``timeline``."""

    @functools.wraps(func)
    def wrapper(*args: Any, source: Sequence[str] = (), exclude_source: Sequence[str] = (), domain: Sequence[str] = (),
                author: Sequence[str] = (), exclude_domain: Sequence[str] = (), since: Optional[str] = None,
                until: Optional[str] = None, lang: Optional[str] = None, **kwargs: Any) -> Any:
        try:
            bounds = dict(since=_when(since), until=_when(until, end_of_day=True))
        except NewsSearchError as exc:  # a bad --since: one line, exit 1, as the command's own errors
            raise _fail(str(exc)) from None
        filters = dict(
            source=list(source) or None,
            exclude_source=list(exclude_source) or None,
            domain=list(domain) or None,
            exclude_domain=list(exclude_domain) or None,
            author=list(author) or None,
            lang=lang,
            **bounds,
        )
        return func(*args, filters=filters, **kwargs)

    out: Any = wrapper
    for option in reversed((
        click.option("--source", multiple=True, help="Only this source (exact, case-insensitive); repeatable."),
        click.option("--exclude-source", multiple=True, help="Leave out this source (exact, case-insensitive); repeatable."),
        click.option("--domain", multiple=True, help="Only articles whose url is on this domain or a subdomain; repeatable."),
        click.option("--author", multiple=True, help="Only articles whose byline holds every word of this name; repeatable."),
        click.option("--exclude-domain", multiple=True, help="Leave out articles on this domain or its subdomains; repeatable."),
        click.option("--since", metavar="WHEN",
                     help='Published at or after: a date, "yesterday", "2 days ago" or a span like 7d.'),
        click.option("--until", metavar="WHEN", help="Published at or before (a bare date includes that whole day)."),
        click.option("--lang", help="Only articles in this language (ISO 639-1 code, e.g. he)."),
    )):
        out = option(out)
    return out  # type: ignore[no-any-return]


color_option = click.option(
    "--color/--no-color", "color", default=None,
    help="Colour matched words and headings (default: only on a terminal, never when NO_COLOR is set).",
)


@main.command("query")
@click.argument("text")
@index_option
@filter_options
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="fresh = relevance x freshness (half-life 2 days).")
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True, help="Hits per page (1-1000).")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Which page of results (1-based).")
@click.option("--facets", "facets", is_flag=True, help="Count matches per source, language, day, week and month.")
@click.option("--facet-sort", type=click.Choice(FACET_SORTS), default="auto", show_default=True,
              help="Order of facet values: auto = dates newest first, others by count; count; value.")
@click.option("--all", "show_all", is_flag=True, help="Show near-duplicate copies as hits of their own.")
@click.option("--explain", is_flag=True, help="Print how the query was parsed and compiled, then stop.")
@color_option
@config_option
@output_options
@_errors_to_exit
def query_cmd(
    text: str,
    index_path: Path,
    filters: dict,
    sort: str,
    limit: int,
    page: int,
    facets: bool,
    facet_sort: str,
    show_all: bool,
    explain: bool,
    color: Optional[bool],
    config_path: Optional[Path],
    fmt: str,
) -> None:
    """Search the index for TEXT, best matches first. Each hit shows its short id,
    which `newssearch show ID` and `newssearch related ID` take.

    \b
    Query syntax:
      mali coup              every word (stems and accents folded: Goita = Goïta)
      "coup plot"~3          a phrase; ~N lets the words be N positions apart
      coup OR junta          either (OR, AND, NOT only in capitals; | is OR too)
      allintitle: mali coup  every word in the title (allintext:, allinurl:)
      -rumour, NOT rumour    leave out;  (coup OR junta) mali  groups
      title:coup body:x      in the title / body (also intitle:, intext:)
      source:"Al Jazeera"    exact outlet;  lang:he  language;  site:bbc.co.uk  domain
      author:"Jane Smith"    every word in the byline;  url:sport  words of the address
      elect*  Goitta~  x~2   prefix; fuzzy (1 or 2 edits)
      when:7d since:2025-08-01 until:2025-08-31 date:[2025-08 TO *] today, last week
    Bad syntax never fails: it is repaired and a warning says how.
    """
    now = _now()
    with open_index(_index_from(config_path, index_path)) as ix:
        if explain:
            explanation = ix.explain(text, now=now)
        else:
            results = ix.search(
                text,
                **filters,
                sort=sort,
                limit=limit,
                page=page,
                facets=FACETS if facets else None,
                collapse=not show_all,
                now=now,
            )
    if explain:
        if fmt == "json":
            click.echo(json.dumps(explanation_to_dict(explanation), ensure_ascii=False, indent=2))
        else:
            click.echo(explanation_text(explanation))
        return
    if fmt == "table":
        click.echo(results_table(results, width=terminal_width(), facet_sort=facet_sort, color=use_color(color)),
                   color=use_color(color))
        return
    _echo_results(results, fmt)


@main.command("related")
@click.argument("article_id", metavar="ID")
@index_option
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=5, show_default=True, help="Related articles per page (1-1000).")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Which page of results (1-based).")
@click.option("--all", "show_all", is_flag=True, help="Show near-duplicate copies as hits of their own.")
@color_option
@config_option
@output_options
@_errors_to_exit
def related_cmd(article_id: str, index_path: Path, limit: int, page: int, show_all: bool, color: Optional[bool],
                config_path: Optional[Path], fmt: str) -> None:
    """Articles related to the article ID (its copies and itself left out). ID may be
    the short id a listing shows (any unique start of at least 4 characters)."""
    with open_index(_index_from(config_path, index_path)) as ix:
        results = ix.related(ix.resolve_id(article_id), limit=limit, page=page, collapse=not show_all)
    if fmt == "table":
        click.echo(results_table(results, width=terminal_width(), color=use_color(color)), color=use_color(color))
        return
    _echo_results(results, fmt)


@main.command("show")
@click.argument("article_id", metavar="ID")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the article as one JSON document.")
@color_option
@config_option
@_errors_to_exit
def show_cmd(article_id: str, index_path: Path, as_json: bool, color: Optional[bool], config_path: Optional[Path]) -> None:
    """Print one whole article: ID is its id or the short id a listing shows."""
    with open_index(_index_from(config_path, index_path)) as ix:
        article = ix.get(ix.resolve_id(article_id))
    if article is None:  # pragma: no cover - deleted between the lookup and the load
        raise ArticleNotFound(f"no article with id {article_id!r}")
    if as_json:
        click.echo(json.dumps(article_to_dict(article), ensure_ascii=False, indent=2))
    else:
        click.echo(article_text(article, width=terminal_width(), color=use_color(color)), color=use_color(color))


@main.command("sources")
@index_option
@config_option
@output_options
@_errors_to_exit
def sources_cmd(index_path: Path, config_path: Optional[Path], fmt: str) -> None:
    """Each source with its article count and first/last publication date."""
    with open_index(_index_from(config_path, index_path)) as ix:
        sources = ix.sources()
    _echo(fmt, sources, as_json=sources_to_list, as_jsonl=sources_jsonl, as_csv=sources_csv, as_table=sources_table)


@main.command("stats")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@config_option
@_errors_to_exit
def stats_cmd(index_path: Path, as_json: bool, config_path: Optional[Path]) -> None:
    """What the index holds: articles, sources, languages, date range, size."""
    with open_index(_index_from(config_path, index_path)) as ix:
        stats = ix.stats()
    if as_json:
        click.echo(json.dumps(stats_to_dict(stats), ensure_ascii=False, indent=2))
    else:
        click.echo(stats_text(stats))


@main.command("rebuild")
@config_option
@index_option
@click.option("--force", is_flag=True, help="Switch even when the new build is much smaller than the live one.")
@engine_options
@wait_option
@quiet_option
@click.option("--feeds", "feeds", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each watch's Atom feed to DIR/NAME.atom after the run (overrides the config's feeds).")
@_errors_to_exit
def rebuild_cmd(config_path: Optional[Path], index_path: Path, force: bool, engine: Optional[str], url: Optional[str],
                prefix: Optional[str], wait: float, quiet: bool, feeds: Optional[Path]) -> None:
    """Build a complete new generation from the config's sources, verify it, switch to it.

    Readers keep answering from the previous generation until the switch. Refuses
    (exit 1, nothing switched) when the new build holds fewer than min_ratio x the live
    article count, unless --force. Exit 3 when it switched but some records were rejected.
    """
    config = _config_for_run(config_path, index_path)
    config = Config(**{**config.__dict__, "engine": _engine_from(engine, url, prefix, config.engine),
                       "feeds": feeds if feeds is not None else config.feeds})
    _finish_run(rebuild(config, force=force, wait=wait), quiet)


@main.command("update")
@config_option
@index_option
@wait_option
@quiet_option
@click.option("--feeds", "feeds", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write each watch's Atom feed to DIR/NAME.atom after the run (overrides the config's feeds).")
@_errors_to_exit
def update_cmd(config_path: Optional[Path], index_path: Path, wait: float, quiet: bool, feeds: Optional[Path]) -> None:
    """Add new and changed articles from the config's sources to the live index, atomically."""
    config = _config_for_run(config_path, index_path)
    if feeds is not None:
        config = Config(**{**config.__dict__, "feeds": feeds})
    _finish_run(update(config, wait=wait), quiet)


@main.command("rollback")
@config_option
@index_option
@wait_option
@quiet_option
@_errors_to_exit
def rollback_cmd(config_path: Optional[Path], index_path: Path, wait: float, quiet: bool) -> None:
    """Switch readers back to the previous generation."""
    with open_index(_index_from(config_path, index_path), wait=wait) as ix:
        gen = ix.rollback()
    if not quiet:
        click.echo(f"generation {gen.id} is live again ({gen.articles} articles)")


@main.command("generations")
@config_option
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {id, created, articles, live}.")
@_errors_to_exit
def generations_cmd(config_path: Optional[Path], index_path: Path, as_json: bool) -> None:
    """List the index's generations (id, created, articles, live)."""
    with open_index(_index_from(config_path, index_path)) as ix:
        gens = ix.generations()
    if as_json:
        click.echo(json.dumps(generations_to_list(gens), indent=2))
    else:
        click.echo(generations_table(gens))


@main.command("prune")
@config_option
@index_option
@click.option("--older-than", metavar="SPAN", help="Delete articles published longer ago than this (e.g. 90d, 1y).")
@click.option("--before", metavar="DATE", help="Delete articles published before this date or time.")
@click.option("--source", multiple=True, help="Only articles of this source; repeatable.")
@wait_option
@quiet_option
@_errors_to_exit
def prune_cmd(
    config_path: Optional[Path],
    index_path: Path,
    older_than: Optional[str],
    before: Optional[str],
    source: Sequence[str],
    wait: float,
    quiet: bool,
) -> None:
    """Delete old articles (retention). Undated articles are kept."""
    if bool(older_than) == bool(before):
        raise click.UsageError("give exactly one of --older-than SPAN or --before DATE")
    now = _now()
    cutoff = now - parse_duration(older_than) if older_than else parse_datetime(before or "", now=now)
    with open_index(_index_from(config_path, index_path), wait=wait) as ix:
        deleted = ix.delete(source=list(source) or None, before=cutoff)
        left, gen = len(ix), ix.generation
    if not quiet:
        click.echo(f"deleted {deleted} article{'s' if deleted != 1 else ''} published before "
                   f"{cutoff.strftime('%Y-%m-%dT%H:%M:%SZ')}; generation {gen} holds {left}")


@main.command("export")
@click.argument("text", metavar="QUERY")
@index_option
@filter_options
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="jsonl", show_default=True,
              help="jsonl: one JSON object per article; csv: a header, then one row per article.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to FILE (complete or not at all: a failed export leaves no partial file); else stdout.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True, help="Order of the rows.")
@click.option("--collapse", is_flag=True, help="One row per story: near-duplicate copies folded (their ids in duplicate_ids).")
@config_option
@_errors_to_exit
def export_cmd(text: str, index_path: Path, filters: dict, fmt: str, output: Optional[Path], sort: str, collapse: bool,
               config_path: Optional[Path]) -> None:
    """Stream EVERY article matching QUERY, with body text, id and all fields (no 1,000 cap).

    CSV cells starting with = + - @ are prefixed with ' so a spreadsheet shows them as text.
    """
    with open_index(_index_from(config_path, index_path)) as ix:
        matches = ix.iter_search(text, **filters, sort=sort, collapse=collapse, now=_now())
        if output is None:
            out = sys.stdout
            try:
                write_export(matches, out, fmt)
                out.flush()
            except BrokenPipeError:  # `export ... | head`: the reader has all it wanted
                sys.stdout = None  # type: ignore[assignment]  # no second error at exit flushing it
                raise click.exceptions.Exit(0) from None
            return
        tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                count = write_export(matches, fh, fmt)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, output)
        finally:
            tmp.unlink(missing_ok=True)
    click.echo(f"exported {count} article{'s' if count != 1 else ''} to {output}", err=True)


@main.command("timeline")
@click.argument("text", metavar="QUERY")
@index_option
@filter_options
@click.option("--by", type=click.Choice(PERIODS), default="day", show_default=True, help="Count per day, ISO week or month.")
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the counts as a bar chart into this PNG file (needs 'newssearch[plot]').")
@color_option
@config_option
@output_options
@_errors_to_exit
def timeline_cmd(text: str, index_path: Path, filters: dict, by: str, png: Optional[Path], color: Optional[bool],
                 config_path: Optional[Path], fmt: str) -> None:
    """How coverage of QUERY grew: matches per day, week or month, with a sparkline.

    Every matching article counts, syndicated copies included; empty periods show as 0.
    """
    with open_index(_index_from(config_path, index_path)) as ix:
        tl = ix.timeline(text, by=by, **filters, now=_now())
    if png is not None:
        from .plot import plot_timeline

        plot_timeline(tl, png)
    if fmt == "table":
        click.echo(timeline_table(tl, width=terminal_width(), color=use_color(color)), color=use_color(color))
    else:
        _echo(fmt, tl, as_json=lambda t: t.to_dict(),
              as_jsonl=lambda t: "\n".join(json.dumps(p, ensure_ascii=False) for p in t.to_dict()["periods"]),
              as_csv=timeline_csv, as_table=str)
    if png is not None:
        click.echo(f"chart written to {png}", err=True)


from ._cli_watch import register as _register_watch; _register_watch(main)  # noqa: E402,E702 - needs the helpers above
from ._cli_serve import register as _register_serve; _register_serve(main)  # noqa: E402,E702 - needs the helpers above


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
