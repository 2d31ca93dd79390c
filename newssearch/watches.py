"""Saved searches ("watches") and the alerts they raise when new articles match.

Stored in ROOT/watches.json beside the index's generations; every change rewrites it
atomically while holding ROOT/watches.lock (a lock of its own, never the index writer's,
and held only for the read-modify-write, never during a search). A watch's *seen* set
holds the id of every article it ever matched, the baseline taken when it was added
included, so only articles matching for the first time are alerts; a rebuild that
re-adds the same articles raises none. The last :data:`MAX_HISTORY` alerts per watch
are kept.
"""
from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows; open_index refuses it anyway
    fcntl = None  # type: ignore[assignment]

from .errors import BadInput, NewsSearchError

__all__ = ["Watch", "Check", "Alerts", "add_watch", "remove_watch", "list_watches", "has_watches", "check_watches",
           "alerts", "history", "write_feed", "write_feeds", "MAX_HISTORY", "WATCHES_FILE"]

WATCHES_FILE = "watches.json"
LOCK_FILE = "watches.lock"
MAX_HISTORY = 1000
"""Alerts kept per watch (the seen set is never cut)."""
ATOM_NS = "http://www.w3.org/2005/Atom"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DATE_FILTERS = ("since", "until")
_FILTERS = {"source", "exclude_source", "domain", "exclude_domain", "author", "lang", "since", "until"}
# characters XML 1.0 cannot hold at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

PathLike = Union[str, Path]


@dataclass(frozen=True)
class Watch:
    """One saved search, as :func:`list_watches` reports it."""

    name: str
    query: str
    filters: Dict[str, Any]
    created: Optional[datetime]
    last_checked: Optional[datetime]
    last_asked: Optional[datetime]
    seen: int
    """Articles it has matched so far (baseline included)."""
    arrivals: int
    """Alerts in its history."""

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready values (dates ISO 8601 UTC)."""
        return {"name": self.name, "query": self.query, "filters": _dump_filters(self.filters),
                "created": _iso(self.created), "last_checked": _iso(self.last_checked),
                "last_asked": _iso(self.last_asked), "seen": self.seen, "arrivals": self.arrivals}


@dataclass(frozen=True)
class Check:
    """What one :func:`check_watches` found: new arrivals per watch, errors per watch."""

    arrivals: Dict[str, List[Dict[str, Any]]] = field(default_factory=dict)
    errors: Dict[str, str] = field(default_factory=dict)

    def error_lines(self) -> List[str]:
        return [f"watch {name}: {msg}" for name, msg in self.errors.items()]


@dataclass(frozen=True)
class Alerts:
    """What :func:`alerts` returns: alerts newest first (each with its ``watch``) and errors."""

    alerts: List[Dict[str, Any]]
    errors: List[str]
    checked: int = 0
    """Watches checked without an error."""


# ---------------------------------------------------------------------------- helpers


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _iso(dt: Optional[datetime]) -> Optional[str]:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text: Optional[str]) -> Optional[datetime]:
    if text is None:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _dump_filters(filters: Dict[str, Any]) -> Dict[str, Any]:
    """*filters* as JSON values: empty ones left out, datetimes as ISO strings."""
    out: Dict[str, Any] = {}
    for key, value in filters.items():
        if value is None or value == [] or value == ():
            continue
        if key not in _FILTERS:
            raise BadInput(f"unknown filter {key!r} (known: {', '.join(sorted(_FILTERS))})")
        if isinstance(value, datetime):
            value = value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def _load_filters(raw: Dict[str, Any]) -> Dict[str, Any]:
    """Stored filters back as ``iter_search`` keyword arguments."""
    out = dict(raw)
    for key in _DATE_FILTERS:
        if isinstance(out.get(key), str):
            out[key] = _parse_iso(out[key])
    return out


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise BadInput(f"bad watch name {name!r}: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")


# ---------------------------------------------------------------------------- the store


def _file(root: PathLike) -> Path:
    return Path(root) / WATCHES_FILE


def has_watches(root: PathLike) -> bool:
    """True when *root* has a watches file (cheap: no read)."""
    return _file(root).exists()


def _load(root: PathLike) -> Dict[str, Dict[str, Any]]:
    """Every stored watch by name; {} when there is no file. Corrupt → NewsSearchError."""
    path = _file(root)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise NewsSearchError(f"{path}: cannot read the watches file: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = json.loads(text)
        watches = doc["watches"]
        if not isinstance(watches, dict):
            raise ValueError("'watches' is not an object")
        for name, w in watches.items():
            _check_stored(name, w)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise NewsSearchError(f"{path}: corrupt watches file ({exc}); fix it or move it away") from None
    return watches


def _check_stored(name: str, w: Any) -> None:
    if not isinstance(w, dict):
        raise ValueError(f"watch {name!r} is not an object")
    if not isinstance(w.get("query"), str) or not isinstance(w.get("filters"), dict):
        raise ValueError(f"watch {name!r} has no query or filters")
    if not isinstance(w.get("seen"), list) or not isinstance(w.get("arrivals"), list):
        raise ValueError(f"watch {name!r} has no seen or arrivals list")
    if not all(isinstance(a, dict) for a in w["arrivals"]):
        raise ValueError(f"watch {name!r} has an arrival that is not an object")
    for key in ("created", "last_checked", "last_asked"):
        if w.get(key) is not None:
            _parse_iso(w[key])  # ValueError when it is no date
    for key in _DATE_FILTERS:
        if isinstance(w["filters"].get(key), str):
            _parse_iso(w["filters"][key])


def _save(root: PathLike, watches: Dict[str, Dict[str, Any]]) -> None:
    path = _file(root)
    _write_atomic(path, json.dumps({"version": 1, "watches": watches}, ensure_ascii=False, indent=1).encode("utf-8"))


def _write_atomic(path: Path, data: bytes) -> None:
    """Write *data* to *path* complete or not at all (temp file, fsync, rename)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _locked(root: PathLike) -> Iterator[Dict[str, Dict[str, Any]]]:
    """Hold ROOT/watches.lock; yield the stored watches, saved on a clean exit if changed."""
    fd = os.open(Path(root) / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        watches = _load(root)
        before = json.dumps(watches, sort_keys=True)
        yield watches
        if json.dumps(watches, sort_keys=True) != before:
            _save(root, watches)
    finally:
        os.close(fd)  # closing releases the flock


# ---------------------------------------------------------------------------- watches


def _ix_root(ix: Any) -> Path:
    return Path(ix.path)


def _arrival(match: Any, now: datetime) -> Dict[str, Any]:
    return {"id": match.id, "title": match.title, "url": match.url, "source": match.source,
            "published": _iso(match.published), "arrived": _iso(now)}


def add_watch(ix: Any, name: str, query: str, filters: Optional[Dict[str, Any]] = None,
              now: Optional[datetime] = None) -> int:
    """Save the search *query* with *filters* as watch *name*; returns how many articles
    match now, all taken as seen (only later arrivals alert).

    BadInput for a bad or taken name or an unknown filter; BadQuery when the query
    means nothing searchable.
    """
    now = now or _utcnow()
    _check_name(name)
    stored_filters = _dump_filters(filters or {})
    root = _ix_root(ix)
    if name in _load(root):
        raise BadInput(f"watch {name} exists")
    seen = sorted({m.id for m in ix.iter_search(query, **_load_filters(stored_filters), collapse=False, now=now)})
    with _locked(root) as watches:
        if name in watches:  # added by another process meanwhile
            raise BadInput(f"watch {name} exists")
        watches[name] = {"query": query, "filters": stored_filters, "created": _iso(now), "last_checked": _iso(now),
                         "last_asked": None, "asked_n": 0, "next_n": 1, "seen": seen, "arrivals": []}
    return len(seen)


def remove_watch(root: PathLike, name: str) -> None:
    """Delete watch *name* and its history; BadInput when there is none."""
    with _locked(root) as watches:
        if name not in watches:
            raise BadInput(_unknown(name, watches))
        del watches[name]


def _unknown(name: str, watches: Dict[str, Any]) -> str:
    known = ", ".join(sorted(watches)) or "none yet; add one with `newssearch watch add NAME QUERY`"
    return f"no watch named {name!r} (watches: {known})"


def list_watches(root: PathLike) -> List[Watch]:
    """Every watch, by name."""
    out = []
    for name, w in sorted(_load(root).items()):
        out.append(Watch(name=name, query=w["query"], filters=_load_filters(w["filters"]),
                         created=_parse_iso(w.get("created")), last_checked=_parse_iso(w.get("last_checked")),
                         last_asked=_parse_iso(w.get("last_asked")), seen=len(w["seen"]),
                         arrivals=len(w["arrivals"])))
    return out


def check_watches(ix: Any, names: Optional[Sequence[str]] = None, now: Optional[datetime] = None) -> Check:
    """Run each watch (all, or those *names*) against *ix*; record and return what is new.

    The searches run without the watches lock; only the merge (articles still unseen
    under the lock become arrivals) holds it. A watch that fails (its query no longer
    parses, say) gets an error and the others go on. BadInput for an unknown name.
    """
    now = now or _utcnow()
    root = _ix_root(ix)
    stored = _load(root)
    for name in names or ():
        if name not in stored:
            raise BadInput(_unknown(name, stored))
    selected = list(names) if names else sorted(stored)
    found: Dict[str, Tuple[Optional[str], List[Dict[str, Any]]]] = {}
    errors: Dict[str, str] = {}
    for name in selected:
        w = stored[name]
        seen: Set[str] = set(w["seen"])
        try:
            matches = ix.iter_search(w["query"], **_load_filters(w["filters"]), sort="oldest", collapse=False, now=now)
            found[name] = (w.get("created"), [_arrival(m, now) for m in matches if m.id not in seen])
        except (NewsSearchError, TypeError, ValueError) as exc:
            errors[name] = str(exc) or type(exc).__name__
    result: Dict[str, List[Dict[str, Any]]] = {}
    with _locked(root) as watches:
        for name, (created, new) in found.items():
            w = watches.get(name)
            if w is None or w.get("created") != created:  # removed (or replaced) meanwhile
                continue
            seen = set(w["seen"])
            fresh = []
            for arrival in new:
                if arrival["id"] in seen:  # recorded by another check meanwhile
                    continue
                seen.add(arrival["id"])
                arrival["n"] = w.get("next_n", 1)
                w["next_n"] = arrival["n"] + 1
                fresh.append(arrival)
            w["seen"] = sorted(seen)
            w["arrivals"] = (w["arrivals"] + fresh)[-MAX_HISTORY:]
            w["last_checked"] = _iso(now)
            result[name] = [_public(a) for a in fresh]
    return Check(arrivals=result, errors=errors)


def _public(arrival: Dict[str, Any]) -> Dict[str, Any]:
    return {k: arrival.get(k) for k in ("id", "title", "url", "source", "published", "arrived")}


def alerts(ix: Any, name: Optional[str] = None, since_last: bool = False, now: Optional[datetime] = None) -> Alerts:
    """Check the watch *name* (or every watch), then return its alerts, newest first.

    Without *since_last*: the whole history; with it, only alerts recorded after the
    watch's previous ``alerts`` call. Every call marks the selected watches as asked.
    """
    now = now or _utcnow()
    check = check_watches(ix, [name] if name else None, now=now)
    out: List[Tuple[int, str, Dict[str, Any]]] = []
    with _locked(_ix_root(ix)) as watches:
        for wname in ([name] if name else sorted(watches)):
            w = watches.get(wname)
            if w is None:
                continue
            floor = w.get("asked_n", 0) if since_last else 0
            for a in w["arrivals"]:
                if a.get("n", 0) > floor:
                    out.append((a.get("n", 0), wname, a))
            w["asked_n"] = w.get("next_n", 1) - 1
            w["last_asked"] = _iso(now)
    out.sort(key=lambda t: (t[2].get("arrived") or "", t[0]), reverse=True)
    return Alerts(alerts=[{"watch": wname, **_public(a)} for _, wname, a in out], errors=check.error_lines(),
                  checked=len(check.arrivals))


def history(root: PathLike, name: str) -> List[Dict[str, Any]]:
    """Watch *name*'s stored alerts, newest first; BadInput when there is none."""
    watches = _load(root)
    if name not in watches:
        raise BadInput(_unknown(name, watches))
    return [_public(a) for a in sorted(watches[name]["arrivals"], key=lambda a: a.get("n", 0), reverse=True)]


# ---------------------------------------------------------------------------- feeds


def _xml(text: Any) -> str:
    return _NOT_XML.sub("", "" if text is None else str(text))


def write_feed(watch: Watch, arrivals: Sequence[Dict[str, Any]], path: PathLike, now: Optional[datetime] = None) -> None:
    """Write *arrivals* of *watch* to *path* as an Atom 1.0 feed, atomically."""
    now = now or _utcnow()
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: Optional[str] = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", {k: _xml(v) for k, v in attrs.items()})
        if text is not None:
            el.text = _xml(text)
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "title", f"newssearch: {watch.name} \u2014 {watch.query}")
    sub(feed, "id", f"urn:newssearch:watch:{watch.name}")
    sub(feed, "updated", _iso(now))
    sub(sub(feed, "author"), "name", "newssearch")
    sub(feed, "generator", "newssearch")
    for a in arrivals:
        entry = sub(feed, "entry")
        sub(entry, "title", a.get("title") or "(untitled)")
        if a.get("url"):
            sub(entry, "link", rel="alternate", href=a["url"])
        else:
            sub(entry, "summary", a.get("title") or "(untitled)")
        sub(entry, "id", f"urn:newssearch:{a.get('id')}")
        sub(entry, "updated", a.get("arrived") or _iso(now))
        if a.get("published"):
            sub(entry, "published", a["published"])
        if a.get("source"):
            sub(sub(entry, "author"), "name", a["source"])
    data = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    _write_atomic(Path(path), data)


def write_feeds(ix: Any, directory: PathLike, now: Optional[datetime] = None) -> Check:
    """Check every watch, then write DIRECTORY/NAME.atom for each; returns the check."""
    now = now or _utcnow()
    check = check_watches(ix, now=now)
    root = _ix_root(ix)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for watch in list_watches(root):
        write_feed(watch, history(root, watch.name), directory / f"{watch.name}.atom", now=now)
    return check
