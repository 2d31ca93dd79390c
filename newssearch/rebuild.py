"""Config-driven scheduled rebuilds and updates.

A TOML config names the index and its sources; :func:`rebuild` builds a complete new
generation from every source and switches to it only when it looks sane, and
:func:`update` adds what is new or changed to a copy of the live generation. Both
hold the index's writer lock, so they never run at once (see
:mod:`newssearch.generations` for how switching stays atomic).

Example config::

    index = "../indexes/news"          # relative to this file
    keep_generations = 3
    min_ratio = 0.5
    retention_days = 365               # optional

    [[sources]]
    path = "pages/"                    # a file, a directory or a glob
    as_of = "2025-08-13T12:00:00Z"     # optional: for relative times on pages

    [[sources]]
    path = "articles.jsonl"
    source = "Example Wire"            # optional: overrides each article's source
    lang = "en"                        # optional: overrides each article's language
"""
from __future__ import annotations

import codecs

import dataclasses
import glob as globmod
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ._testhooks import checkpoint
from .dates import parse_datetime
from .engine import DEFAULT_ENGINE, engine_spec
from .errors import BadInput, NewsSearchError, RebuildRefused
from .generations import DEFAULT_KEEP_GENERATIONS
from .index import NewsIndex, engine_rejects
from .model import RunReport
from .records import index_docs
from .ingest import read_paths
from .ingest.fetch import STATE_FILE, FetchState
from .model import Article, IngestWarning, Rejected
from . import watches

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SourceConfig", "Config", "RunReport", "load_config", "rebuild", "update", "DEFAULT_MIN_RATIO"]

DEFAULT_MIN_RATIO = 0.5
"""A rebuild holding fewer than this share of the live article count is refused."""


@dataclass(frozen=True)
class SourceConfig:
    """One ``[[sources]]`` table."""

    path: Optional[str] = None
    """File, directory or glob; relative to the config file."""
    url: Optional[str] = None
    source: Optional[str] = None
    lang: Optional[str] = None
    as_of: Optional[datetime] = None
    format: Optional[str] = None
    dayfirst: bool = False
    """Numeric dates of this source are day first (12/08/2025 is 12 August)."""
    encoding: Optional[str] = None
    """Read this source's files as this codec instead of detecting it."""

    @property
    def label(self) -> str:
        return self.path or self.url or "?"


@dataclass(frozen=True)
class Config:
    """A parsed config file, paths already resolved against its directory."""

    index: Path
    sources: Tuple[SourceConfig, ...]
    keep_generations: int = DEFAULT_KEEP_GENERATIONS
    min_ratio: float = DEFAULT_MIN_RATIO
    retention_days: Optional[float] = None
    file: Optional[Path] = None
    engine: Optional[str] = None
    """The engine spec (``whoosh``, ``opensearch+URL/PREFIX``) a new index is made with and a
    rebuild builds with; None keeps the live index's engine (whoosh for a new index)."""
    feeds: Optional[Path] = None
    """Directory each watch's Atom feed (NAME.atom) is written to after a run."""


_KNOWN_KEYS = {"index", "sources", "keep_generations", "min_ratio", "retention_days", "engine", "url", "prefix",
               "shards", "replicas", "dayfirst", "feeds"}
_SOURCE_KEYS = {"path", "url", "source", "lang", "as_of", "format", "dayfirst", "encoding"}


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def load_config(path: Path | str) -> Config:
    """Read a TOML config; BadInput naming the file and the key when something is wrong."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: config file not found") from None
    except OSError as exc:
        raise BadInput(f"{path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path}: not valid TOML: {exc}") from None
    base = path.resolve().parent

    def fail(msg: str) -> BadInput:
        return BadInput(f"{path}: {msg}")

    unknown = set(raw) - _KNOWN_KEYS
    if unknown:
        raise fail(f"unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KNOWN_KEYS))})")
    if not isinstance(raw.get("index"), str) or not raw["index"].strip():
        raise fail('needs `index = "PATH"`')
    sources_raw = raw.get("sources", [])
    if not isinstance(sources_raw, list) or not sources_raw:
        raise fail("needs at least one [[sources]] table")
    dayfirst_all = raw.get("dayfirst", False)
    if not isinstance(dayfirst_all, bool):
        raise fail("dayfirst must be true or false")
    sources: List[SourceConfig] = []
    for n, table in enumerate(sources_raw, start=1):
        if not isinstance(table, dict):
            raise fail(f"sources #{n} is not a table")
        extra = set(table) - _SOURCE_KEYS
        if extra:
            raise fail(f"sources #{n}: unknown key {sorted(extra)[0]!r}")
        if bool(table.get("path")) == bool(table.get("url")):
            raise fail(f"sources #{n}: give exactly one of `path` or `url`")
        as_of = table.get("as_of")
        if isinstance(as_of, datetime):
            as_of_dt: Optional[datetime] = as_of if as_of.tzinfo else as_of.replace(tzinfo=timezone.utc)
        elif isinstance(as_of, str):
            try:
                as_of_dt = parse_datetime(as_of)
            except BadInput as exc:
                raise fail(f"sources #{n}: as_of: {exc}") from None
        elif as_of is None:
            as_of_dt = None
        else:
            raise fail(f"sources #{n}: as_of must be a date-time")
        dayfirst = table.get("dayfirst", dayfirst_all)
        if not isinstance(dayfirst, bool):
            raise fail(f"sources #{n}: dayfirst must be true or false")
        encoding = table.get("encoding")
        if encoding is not None and (not isinstance(encoding, str) or not _known_codec(encoding)):
            raise fail(f"sources #{n}: encoding {encoding!r} is not a codec Python knows (e.g. cp1256, cp1255)")
        p = table.get("path")
        sources.append(
            SourceConfig(
                path=str(base / p) if p else None,
                url=table.get("url"),
                source=table.get("source"),
                lang=table.get("lang"),
                as_of=as_of_dt,
                format=table.get("format"),
                dayfirst=dayfirst,
                encoding=encoding,
            )
        )
    keep = raw.get("keep_generations", DEFAULT_KEEP_GENERATIONS)
    if not isinstance(keep, int) or keep < 0:
        raise fail("keep_generations must be a whole number >= 0")
    ratio = raw.get("min_ratio", DEFAULT_MIN_RATIO)
    if not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
        raise fail("min_ratio must be a number from 0 to 1")
    retention = raw.get("retention_days")
    if retention is not None and (not isinstance(retention, (int, float)) or retention <= 0):
        raise fail("retention_days must be a positive number")
    engine = raw.get("engine")
    options = {k: raw[k] for k in ("url", "prefix", "shards", "replicas") if k in raw}
    if engine is None and options:
        engine = "opensearch"
    if (engine is not None and not isinstance(engine, str)) or not all(isinstance(v, (str, int)) for v in options.values()):
        raise fail("engine, url and prefix must be strings, shards and replicas numbers")
    try:
        spec = engine_spec(engine, **options) if engine is not None else None  # type: ignore[arg-type]
    except NewsSearchError as exc:
        raise fail(str(exc)) from None
    feeds = raw.get("feeds")
    if feeds is not None and (not isinstance(feeds, str) or not feeds.strip()):
        raise fail('feeds must be a directory path, e.g. feeds = "feeds/"')
    return Config(
        feeds=base / feeds if feeds is not None else None,
        engine=spec,
        index=base / raw["index"],
        sources=tuple(sources),
        keep_generations=keep,
        min_ratio=float(ratio),
        retention_days=float(retention) if retention is not None else None,
        file=path,
    )


def _records(config: Config, fetch_state: Optional[FetchState] = None) -> Iterator[object]:
    """Every record of every configured source, with the config's overrides applied.

    URLs are fetched conditionally as far as *fetch_state* holds validators for them.
    """
    for src in config.sources:
        if src.url:
            targets: List[str] = [src.url]
        elif src.path and globmod.has_magic(src.path):
            targets = sorted(globmod.glob(src.path, recursive=True))
            if not targets:
                yield Rejected(src.path, None, "no file matches this pattern")
                continue
        else:
            targets = [src.path or ""]
        overrides: Dict[str, Any] = {}
        if src.source:
            overrides["source"] = src.source
        if src.lang:
            overrides["lang"] = src.lang
        for record in read_paths(targets, as_of=src.as_of, format=src.format, fetch_state=fetch_state,
                                 dayfirst=src.dayfirst, encoding=src.encoding):
            if overrides and isinstance(record, Article):
                record = dataclasses.replace(record, **overrides)
            yield record


def _run(
    config: Config,
    kind: str,
    *,
    force: bool,
    wait: float,
    now: Optional[Callable[[], datetime]],
) -> RunReport:
    start = time.perf_counter()
    clock = now or (lambda: datetime.now(timezone.utc))
    rejected: List[Rejected] = []
    warnings: List[IngestWarning] = []
    counts = {"added": 0, "updated": 0, "unchanged": 0, "expired": 0}

    # a rebuild fetches every URL in full (it starts from nothing) but remembers the
    # validators; an update sends them, so unchanged feeds answer 304 and cost nothing
    state_path = Path(config.index) / STATE_FILE
    fetch_state = FetchState(state_path) if kind == "rebuild" else FetchState.load(state_path)

    def records() -> Iterator[Any]:
        for n, record in enumerate(_records(config, fetch_state)):
            if n == 0:
                checkpoint("reading")
            elif n == 300:
                checkpoint("writing")
            yield record

    with NewsIndex(
        config.index, create=True, wait=wait, now=clock, keep_generations=config.keep_generations,
        engine=config.engine or DEFAULT_ENGINE, rebuilding=(kind == "rebuild"),
    ) as ix:
        live_count = len(ix)
        before_gen = ix.generation
        with ix.writing(kind, fresh=(kind == "rebuild"), engine=config.engine if kind == "rebuild" else None) as writer:
            upserted = writer.upsert(index_docs(records(), rejected=rejected, warnings=warnings))
            rejected += engine_rejects(writer)
            counts["added"], counts["updated"], counts["unchanged"] = upserted.added, upserted.updated, upserted.unchanged
            if config.retention_days is not None:
                cutoff = clock() - timedelta(days=config.retention_days)
                counts["expired"] = writer.delete(before=cutoff)
            new_count = writer.doc_count()
            if kind == "rebuild" and not force and live_count and new_count < config.min_ratio * live_count:
                raise RebuildRefused(
                    f"rebuild refused: the new build holds {new_count} articles, fewer than "
                    f"min_ratio {config.min_ratio:g} x {live_count} live; the live generation is unchanged "
                    "(check the sources, or pass --force)"
                )
        if fetch_state.entries or state_path.exists():
            fetch_state.save()  # only now: what was fetched is in the live generation
        warnings += _check_watches(ix, config.feeds, clock())
        return RunReport(
            kind=kind,
            generation=ix.generation,
            articles=len(ix),
            rejected=tuple(rejected),
            seconds=time.perf_counter() - start,
            switched=ix.generation != before_gen,
            warnings=tuple(warnings),
            not_modified=tuple(fetch_state.not_modified),
            **counts,
        )


def _check_watches(ix: NewsIndex, feeds: Optional[Path], now: datetime) -> List[IngestWarning]:
    """Check the index's watches (and write their feeds); failures become warnings, never errors."""
    try:
        if not watches.has_watches(ix.path):
            return []
        check = watches.write_feeds(ix, feeds, now=now) if feeds is not None else watches.check_watches(ix, now=now)
    except Exception as exc:  # a watch must never fail the run that fed it
        return [IngestWarning("watches", None, str(exc) or type(exc).__name__)]
    return [IngestWarning(f"watch {name}", None, msg) for name, msg in check.errors.items()]


def rebuild(
    config: Config, *, force: bool = False, wait: float = 0.0, now: Optional[Callable[[], datetime]] = None
) -> RunReport:
    """Build a complete new generation from every source, verify it, switch to it.

    Refuses (RebuildRefused, nothing switched) when the new build holds fewer than
    ``config.min_ratio`` x the live article count, unless *force*. Old generations
    beyond ``config.keep_generations`` are deleted.
    """
    return _run(config, "rebuild", force=force, wait=wait, now=now)


def update(config: Config, *, wait: float = 0.0, now: Optional[Callable[[], datetime]] = None) -> RunReport:
    """Add new and changed articles from every source to a copy of the live generation, then switch."""
    return _run(config, "update", force=True, wait=wait, now=now)
