"""Reader for JSON: JSON lines, one JSON array, or an object holding one (NewsAPI's
``{"articles": [...]}``).

Field names are mapped by :mod:`newssearch.ingest.fields` (title/headline,
body/content/text..., date/publishedAt/epoch seconds...). Each bad record becomes a
Rejected naming its line (or its item number in an array), and reading goes on. Nesting
deeper than :data:`~newssearch.ingest.limits.MAX_JSON_DEPTH` is a Rejected, never a
RecursionError.
"""
from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Union

from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected
from . import limits
from .fields import ALIASES, map_record
from .source import READ_ERRORS, Input, open_bytes, open_file, read_all
from .text import decode, decode_as, forced

__all__ = ["read_jsonl", "parse_json", "parse_jsonl", "record_to_article", "json_depth_ok", "ARRAY_KEYS"]

Record = Union[Article, Rejected, IngestWarning]

ARRAY_KEYS = ("articles", "items", "entries", "results", "data", "records", "docs", "stories", "news", "posts")
"""Keys of a top-level JSON object that may hold the array of articles, tried in order."""

# a JSON string (escapes included) or one bracket: enough to measure nesting without parsing
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def json_depth_ok(text: str, limit: Optional[int] = None) -> bool:
    """True when *text* nests arrays/objects no deeper than *limit* (default MAX_JSON_DEPTH)."""
    limit = limits.MAX_JSON_DEPTH if limit is None else limit
    if text.count("[") + text.count("{") <= limit:
        return True  # cannot be deeper than the brackets it has
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return False
        elif token in "]}":
            depth -= 1
    return True


def _loads(text: str) -> Any:
    """json.loads with the depth limit; BadInput with a short reason when it fails."""
    if not json_depth_ok(text):
        raise BadInput(f"JSON nested deeper than MAX_JSON_DEPTH ({limits.MAX_JSON_DEPTH})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    except RecursionError:  # only reachable if MAX_JSON_DEPTH is set near the recursion limit
        raise BadInput("JSON nested too deeply") from None


def record_to_article(
    record: Any, *, as_of: Optional[datetime] = None, fields: Optional[Mapping[str, str]] = None
) -> Article:
    """One decoded JSON record as an Article; BadInput says why when it cannot be one.

    A date with no zone is UTC; a relative date ("2 hours ago") is resolved against
    *as_of*; a date that cannot be read is dropped (see :func:`~newssearch.ingest.fields.map_record`).
    """
    return map_record(record, as_of=as_of, fields=fields).article


def _one(name: str, line: Optional[int], record: Any, as_of: Optional[datetime],
         fields: Optional[Mapping[str, str]], label: str = "") -> Iterator[Record]:
    try:
        article, warnings = map_record(record, as_of=as_of, fields=fields)
    except BadInput as exc:
        yield Rejected(name, line, f"{label}{exc}")
        return
    for message in warnings:
        yield IngestWarning(name, line, f"{label}{message}")
    yield article


_BLANK = b" \t\r\n\f\v"


def _blank_run(buf: bytes) -> int:
    """How many bytes at the start of *buf* are whole blank (whitespace-only) lines."""
    blank = len(buf) if buf.isspace() else len(buf) - len(buf.lstrip(_BLANK))
    return buf.rfind(b"\n", 0, blank) + 1


_PIECE = 1024 * 1024


def _readline(stream: Any, limit: int) -> Optional[bytes]:
    """The next line (b"" at the end), or None when it is longer than *limit*: read in
    pieces, so an overlong line costs about *limit* bytes of memory, not twice that."""
    line = stream.readline(min(limit + 1, _PIECE))
    if len(line) < _PIECE or line.endswith(b"\n"):
        return None if len(line) > limit else line
    parts, total = [line], len(line)
    while total <= limit:
        piece = stream.readline(min(limit + 1 - total, _PIECE))
        if not piece:
            break
        parts.append(piece)
        total += len(piece)
        if piece.endswith(b"\n"):
            break
    if total > limit:
        return None
    return b"".join(parts)


def _read_lines(inp: Input, as_of: Optional[datetime], fields: Optional[Mapping[str, str]],
                first: int = 1) -> Iterator[Record]:
    name, number = inp.name, first - 1
    limit = limits.MAX_RECORD_BYTES
    legacy: Optional[str] = None
    try:
        while True:
            # blank lines are consumed a buffer at a time, not a line at a time: a gigabyte
            # of newlines then costs what unpacking it costs, not 10^9 trips round this loop
            while True:
                buf = inp.stream.peek(64 * 1024)
                cut = _blank_run(buf) if buf[:1].isspace() else 0
                if not cut:
                    break
                number += buf.count(b"\n", 0, cut)
                inp.stream.read(cut)
            raw = _readline(inp.stream, limit)
            if raw is None:
                number += 1
                yield Rejected(name, number, f"line longer than MAX_RECORD_BYTES ({limit:,} bytes): skipped")
                while True:  # the rest of the line is read and dropped a MiB at a time, never held
                    chunk = inp.stream.readline(_PIECE)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                continue
            if not raw:
                break
            number += 1
            # decoded line by line, so that one line in a legacy encoding costs a warning on
            # that line, not the file
            try:
                line = raw.decode(forced() or ("utf-8-sig" if number == 1 else "utf-8"),
                                  errors="replace" if forced() else "strict").strip()
            except UnicodeDecodeError:
                # a legacy code page detected once is tried first on the file's next lines
                line, legacy, warning = decode_as(raw, legacy=legacy)
                line = line.strip()
                if warning:
                    yield IngestWarning(name, number, warning)
            if not line:
                continue
            try:
                record = _loads(line)
            except BadInput as exc:
                yield Rejected(name, number, str(exc))
                continue
            items = _items(record) if isinstance(record, dict) else None
            if items is not None and (len(items) != 1 or items[0] is not record):
                # a whole {"articles": [...]} document on one line
                for index, item in enumerate(items, 1):
                    yield from _one(name, number, item, as_of, fields, label=f"item {index}: ")
                continue
            yield from _one(name, number, record, as_of, fields)
    except READ_ERRORS as exc:
        # a truncated or corrupt gzip stream: keep what was read, report where it broke
        yield Rejected(name, number + 1, f"cannot read further: {exc}")


def _items(doc: Any) -> Optional[list]:
    """The list of article records in a decoded document, or None when there is none."""
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        lowered = {str(k).lower(): v for k, v in doc.items()}
        if any(lowered.get(k) not in (None, "") for k in ALIASES["title"] + ALIASES["body"]):
            return [doc]  # an article, even if it holds lists (authors, tags)
        for key in ARRAY_KEYS:
            if isinstance(lowered.get(key), list):
                return lowered[key]
        lists = [v for v in doc.values() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) == 1:
            return lists[0]
        return [doc]  # one article object
    return None


def parse_jsonl(inp: Input, *, as_of: Optional[datetime] = None,
                fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read JSON lines (one object a line), streamed; a file starting with ``[`` is read
    as a JSON document instead."""
    return parse_json(inp, as_of=as_of, fields=fields, lines=True)


def parse_json(inp: Input, *, as_of: Optional[datetime] = None,
               fields: Optional[Mapping[str, str]] = None, lines: bool = False) -> Iterator[Record]:
    """Read JSON lines, a JSON array, or an object holding an array (or being one article).

    A document that does not parse as a whole and has several lines is read as JSON
    lines, so one bad line costs one record. With *lines*, input starting with ``{`` is
    taken as JSON lines at once.
    """
    name = inp.name
    try:
        head = inp.head(64 * 1024)
    except READ_ERRORS:
        head = b"{" if lines else b""  # broken at once: let the line reader say where
    try:
        text_head = head.decode("utf-8-sig", errors="replace").lstrip()
        first_line = text_head.split("\n", 1)[0].strip()
        if text_head.startswith("{") and (lines or _is_json(first_line)):
            yield from _read_lines(inp, as_of, fields)  # JSON lines: stream, never hold it all
            return
        data = read_all(inp)
    except READ_ERRORS as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    text, warning = decode(data)
    if warning:
        yield IngestWarning(name, None, warning)
    if not text.strip():
        yield Rejected(name, None, "empty file")
        return
    try:
        doc = _loads(text)
    except BadInput as exc:
        if text.strip().count("\n") and not text.lstrip().startswith("["):
            with open_bytes(name, text.encode("utf-8")) as lines:
                yield from _read_lines(lines, as_of, fields)
            return
        line = re.search(r"line (\d+) column", str(exc))
        yield Rejected(name, int(line.group(1)) if line else None, str(exc))
        return
    items = _items(doc)
    if items is None:
        yield Rejected(name, None, f"holds no articles: a JSON {type(doc).__name__}")
        return
    for index, item in enumerate(items, 1):
        # line numbers of array items are unknown; name the item instead
        yield from _one(name, None, item, as_of, fields, label=f"item {index}: ")


def _is_json(line: str) -> bool:
    try:
        _loads(line)
    except BadInput:
        return False
    return True


def read_jsonl(path: Union[str, Path], *, as_of: Optional[datetime] = None,
               fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read a JSON-lines or JSON file (gzip'd or not) into Articles, Rejecteds and warnings.

    Rejected lines carry their 1-based line number; blank lines are skipped. A file that
    cannot be opened gives a single Rejected.
    """
    try:
        inp = open_file(Path(path))
    except READ_ERRORS as exc:
        yield Rejected(str(path), None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    with inp:
        yield from parse_json(inp, as_of=as_of, fields=fields, lines=inp.hint.lower().endswith((".jsonl", ".ndjson")))
