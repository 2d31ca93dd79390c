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
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Type

from .. import analysis
from ..errors import IndexNotFound, NewsSearchError, RebuildNeeded
from .base import Engine, Where

__all__ = ["DEFAULT_ENGINE", "FORMAT_RECORD", "register", "engine_class", "engine_names", "engine_of", "open_engine",
           "format_record", "write_format_record", "check_format_record", "legacy_engine"]

DEFAULT_ENGINE = "whoosh"

FORMAT_RECORD = "newssearch.json"
"""The format record's file name inside an engine's location."""

_REGISTRY: Dict[str, object] = {
    "whoosh": "newssearch.engine.whoosh:WhooshEngine",
}


def register(name: str, engine: object) -> None:
    """Make *engine* (a class implementing :class:`~newssearch.engine.base.Engine`, or a
    ``"module:Class"`` path) available under *name*; a later registration replaces one."""
    _REGISTRY[name] = engine


def engine_names() -> List[str]:
    return sorted(_REGISTRY)


def engine_class(name: str) -> Type[Engine]:
    """The engine registered as *name*; NewsSearchError naming the known ones otherwise."""
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
            f"{analysis.ANALYSIS_VERSION}: rebuild needed (re-index into a fresh directory)"
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
