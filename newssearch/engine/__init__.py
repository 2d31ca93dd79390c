"""Search engines behind NewsIndex, and the registry that picks one.

Each engine implements :mod:`newssearch.engine.base` and is registered here by name,
as a ``module:Class`` path imported on first use (an optional engine's library is
only imported when an index made by it is opened). Every location an engine writes
holds a small JSON *format record* naming the engine and its format version, so
opening a location picks the engine that made it. Only an engine's own package
imports its library.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Type

from .. import analysis
from ..errors import IndexNotFound, NewsSearchError, RebuildNeeded
from .base import Engine, Where

__all__ = ["DEFAULT_ENGINE", "engine_spec", "FORMAT_RECORD", "register", "engine_class", "engine_names", "engine_of", "open_engine",
           "format_record", "write_format_record", "check_format_record", "legacy_engine",
           "remove_location", "link_or_copy", "announce", "engine_location"]

DEFAULT_ENGINE = "whoosh"

FORMAT_RECORD = "newssearch.json"
"""The format record's file name inside an engine's location."""

_REGISTRY: Dict[str, object] = {
    "whoosh": "newssearch.engine.whoosh:WhooshEngine",
    "opensearch": "newssearch.engine.opensearch:OpenSearchEngine",
    "tantivy": "newssearch.engine.tantivy:TantivyEngine",
}


def register(name: str, engine: object) -> None:
    """Make *engine* (a class implementing :class:`~newssearch.engine.base.Engine`, or a
    ``"module:Class"`` path) available under *name*; a later registration replaces one."""
    _REGISTRY[name] = engine


def engine_names() -> List[str]:
    return sorted(_REGISTRY)


def engine_spec(engine: str = DEFAULT_ENGINE, *, url: Optional[str] = None, prefix: Optional[str] = None,
                shards: Optional[int] = None, replicas: Optional[int] = None) -> str:
    """An engine spec from a config's or the command line's parts (``engine``, ``url``, ``prefix``...).

    ``engine_spec("opensearch", url="http://127.0.0.1:9200", prefix="news")`` is
    ``"opensearch+http://127.0.0.1:9200/news"``; an engine without settings stays its name.
    """
    engine = engine.strip()
    base = engine.partition("+")[0]
    if base not in _REGISTRY:
        raise NewsSearchError(f"unknown engine {base!r}: known engines are {', '.join(engine_names())}")
    if "+" in engine or (url is None and prefix is None and shards is None and replicas is None):
        return engine
    spec_for = getattr(engine_class(base), "spec_for", None)
    if spec_for is None:
        raise NewsSearchError(f"engine {base!r} takes no url, prefix, shards or replicas")
    return spec_for(url=url, prefix=prefix, shards=shards, replicas=replicas)


_URL_FORM = re.compile(r"^([a-z][a-z0-9_]*)\+(https?):/+(.+)$")


def engine_location(path: object) -> Tuple[Optional[str], Optional[Path]]:
    """(engine spec, local index root) of an engine url such as
    ``opensearch+http://host:9200/news``; (None, None) for a plain path."""
    m = _URL_FORM.match(str(path))
    if not m:
        return None, None
    spec = f"{m.group(1)}+{m.group(2)}://{m.group(3)}"
    engine_class(spec)  # an unknown engine or a bad url fails here, naming it
    state = Path(os.environ.get("NEWSSEARCH_STATE_DIR") or Path.home() / ".local" / "state" / "newssearch")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{m.group(2)}_{m.group(3)}").strip("_")
    return spec, state / m.group(1) / safe


def engine_class(name: str) -> Type[Engine]:
    """The engine registered as *name*; NewsSearchError naming the known ones otherwise.

    *name* may be an engine spec, ``NAME+SETTINGS`` (``opensearch+http://127.0.0.1:9200/news``):
    the engine's ``configured(SETTINGS)`` then gives the class bound to those settings.
    """
    base, plus, rest = name.partition("+")
    if plus:
        cls = engine_class(base)
        configured = getattr(cls, "configured", None)
        if configured is None:
            raise NewsSearchError(f"engine {base!r} takes no settings (got {name!r})")
        return configured(rest)
    found = _REGISTRY.get(name)
    if found is None:
        raise NewsSearchError(f"unknown engine {name!r}: known engines are {', '.join(engine_names())}")
    if isinstance(found, str):
        module, _, attr = found.partition(":")
        try:
            found = getattr(importlib.import_module(module), attr)
        except ImportError as exc:
            raise NewsSearchError(f"engine {name!r} is not installed here ({exc})") from exc
        _REGISTRY[name] = found
    return found  # type: ignore[return-value]


def write_format_record(where: Where, engine: str, format: int, **extra: object) -> None:
    """Write *where*'s format record atomically (engine name, format version, analysis version)."""
    record = {"engine": engine, "format": format, "analysis": analysis.ANALYSIS_VERSION, **extra}
    tmp = Path(where) / (FORMAT_RECORD + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, Path(where) / FORMAT_RECORD)


def format_record(where: Where) -> Optional[Dict[str, object]]:
    """*where*'s format record; None when it has none; RebuildNeeded when it is unreadable."""
    path = Path(where) / FORMAT_RECORD
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RebuildNeeded(f"{path} is unreadable ({exc}): rebuild needed") from exc
    try:
        record = json.loads(raw)
    except ValueError as exc:
        raise RebuildNeeded(f"{path} is unreadable ({exc}): rebuild needed") from exc
    if not isinstance(record, dict):
        raise RebuildNeeded(f"{path} is not a format record: rebuild needed")
    return record


def check_format_record(where: Where, engine: str, format: int) -> Mapping[str, object]:
    """The record of *where* if it says *engine* at *format* with this analysis version;
    IndexNotFound or RebuildNeeded otherwise."""
    where = Path(where)
    if not where.is_dir():
        raise IndexNotFound(f"no index at {where}: create one with `newssearch index PATH --index {where}`")
    record = format_record(where)
    if record is None:
        raise IndexNotFound(f"no index at {where}: create one with `newssearch index PATH --index {where}`")
    if record.get("engine") != engine or record.get("format") != format or record.get("analysis") != analysis.ANALYSIS_VERSION:
        raise RebuildNeeded(
            f"index at {where} has engine {record.get('engine')} format {record.get('format')} / analysis "
            f"{record.get('analysis')}, this newssearch uses {engine} format {format} / analysis "
            f"{analysis.ANALYSIS_VERSION}: rebuild needed (`newssearch rebuild` with its config, or re-index into a fresh directory)"
        )
    return record


def engine_of(where: Where) -> Type[Engine]:
    """The class of the engine whose format record lies at *where*."""
    record = format_record(where)
    if record is None:
        legacy = legacy_engine(where)
        if legacy is not None:
            raise RebuildNeeded(f"{where} holds a {legacy} index without a newssearch format record: rebuild needed")
        raise IndexNotFound(f"no index at {where}: create one with `newssearch index PATH --index {where}`")
    name = record.get("engine")
    if not isinstance(name, str):
        raise RebuildNeeded(f"{Path(where) / FORMAT_RECORD} names no engine: rebuild needed")
    return engine_class(name)


def open_engine(where: Where) -> Engine:
    """Open the index at *where* with the engine its format record names."""
    return engine_of(where).open(where)


def link_or_copy(src: Path, dst: Path) -> None:
    """*src* at *dst* as a hard link where the filesystem allows, else as a copy (clones of
    engines whose files are never rewritten)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def remove_location(where: Where) -> None:
    """Delete a location: what its engine keeps elsewhere (a server-side index), then the directory."""
    try:
        record = format_record(where)
    except RebuildNeeded:
        record = None
    name = record.get("engine") if record else None
    if isinstance(name, str):
        try:
            drop = getattr(engine_class(name), "drop", None)
        except NewsSearchError:
            drop = None
        if drop is not None:
            drop(where)
    shutil.rmtree(where, ignore_errors=True)


def announce(where: Where) -> None:
    """Tell *where*'s engine its location became the live generation (an OpenSearch alias moves)."""
    published = getattr(engine_of(where), "published", None)
    if published is not None:
        published(where)


def legacy_engine(where: Where) -> Optional[str]:
    """The name of a registered engine whose files lie at *where* without a format record
    (an index from before format records, or a damaged one), if any."""
    for name in engine_names():
        try:
            cls = engine_class(name)
        except NewsSearchError:  # an optional engine that is not installed
            continue
        if cls.recognizes(where):
            return name
    return None
