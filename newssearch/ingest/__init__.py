"""Input readers: files, directories, stdin and URLs in; ``Article``, ``Rejected`` or
``IngestWarning`` out.

One module per format; this module only finds the inputs and picks the reader. To add a
format, write a reader ``(inp: Input, *, as_of, fields) -> Iterator[Record]`` and add it
to ``READERS``, its file endings to ``EXTENSIONS`` and, if it can be recognised by
content, a test to :func:`_by_content`. Readers never raise for bad data: a bad record (or
an unreadable file) is a Rejected and the good records still come through; a record kept
with a change (truncated, date dropped, encoding guessed) is followed by an IngestWarning.
"""
from __future__ import annotations

import errno
import fnmatch
import os
from datetime import datetime
from pathlib import Path
from typing import IO, Callable, Iterable, Iterator, Mapping, Optional, Sequence, Union
from urllib.parse import urlsplit

from ..errors import BadInput, FetchFailed
from ..model import Article, IngestWarning, Rejected
from . import limits
from .aggregator import looks_like_aggregator, parse_aggregator
from .feeds import looks_like_feed, parse_feed
from .fetch import STATE_FILE, FetchState, fetch, is_url
from .fields import check_fields
from .html import looks_like_html, parse_html
from .jsonl import parse_json, parse_jsonl
from .plaintext import parse_text
from .source import READ_ERRORS, Input, NotRegularFile, open_bytes, open_file, open_stream
from .tabular import parse_csv, parse_tsv
from ..dates import day_first
from .text import bom_encoding, forced_encoding, looks_binary

__all__ = ["read_path", "read_paths", "detect_format", "plan_inputs", "READERS", "EXTENSIONS", "STDIN"]

Record = Union[Article, Rejected, IngestWarning]
Reader = Callable[..., Iterator[Record]]
PathLike = Union[str, Path]

STDIN = "-"
"""The path that means "read standard input"."""

READERS: dict[str, Reader] = {
    "jsonl": parse_jsonl,
    "json": parse_json,
    "csv": parse_csv,
    "tsv": parse_tsv,
    "feed": parse_feed,
    "html": parse_html,
    "text": parse_text,
    "aggregator": parse_aggregator,
}
"""Format name -> reader; the names are what ``format=`` accepts."""

EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".rdf": "feed",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "text",
    ".md": "text",
    ".markdown": "text",
}
"""File ending (lower case) -> format name; also decides what a directory walk picks up.
Any of them may be followed by ``.gz``. A ``.txt`` file that reads as an aggregator page
is one."""

_NOT_NEWS = frozenset({"readme", "license", "licence", "copying", "changelog", "changes", "contributing",
                       "notice", "authors", "security", "code_of_conduct", "history"})
"""Names (before the first dot) of project files that a directory walk skips unless
``include`` names them: a folder of exports often carries a README."""

_INDEX_MARKERS = ("newssearch.json", STATE_FILE)
"""Files that mark a folder as a newssearch index (the engine's format record — named here
because ingest may not import the engine — and the fetch state): walks never read an
index's own files as news."""

_SNIFF_BYTES = 64 * 1024


def _ending(name: str) -> Optional[str]:
    name = name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    dot = name.rfind(".")
    ending = name[dot:] if dot >= 0 else ""
    return ending if ending in EXTENSIONS else None


def _head_text(head: bytes) -> str:
    return head.decode(bom_encoding(head) or "utf-8", errors="replace").lstrip("\ufeff")


def _by_content(text: str, content_type: str = "") -> Optional[str]:
    stripped = text.lstrip()
    if looks_like_feed(stripped):
        return "feed"
    if looks_like_html(stripped):
        return "html"
    for marker, fmt in (("html", "html"), ("rss", "feed"), ("atom", "feed"), ("xml", "feed"),
                        ("json", "json"), ("csv", "csv"), ("tab-separated", "tsv")):
        if marker in content_type:
            return fmt
    if stripped[:1] in ("{", "["):
        return "json"
    if stripped.startswith("<?xml"):
        return "feed"  # XML that is not a feed: the feed reader says so clearly
    if looks_like_aggregator(text):
        return "aggregator"
    if content_type == "text/plain":
        return "text"
    return None


def _detect(inp: Input) -> Union[str, Rejected]:
    """The format of *inp* from its ending, else its content; a Rejected for empty/binary input."""
    try:
        head = inp.head(_SNIFF_BYTES)
    except READ_ERRORS:
        if _ending(inp.hint):
            return EXTENSIONS[_ending(inp.hint) or ""]  # broken early: its reader reports where
        raise
    if not head.strip():
        return Rejected(inp.name, None, "empty file")
    if looks_binary(head):
        return Rejected(inp.name, None, "binary file (NUL bytes): not text")
    text = _head_text(head)
    fmt = EXTENSIONS.get(_ending(inp.hint) or "")
    if fmt == "text":
        return "aggregator" if looks_like_aggregator(text) else "text"
    return fmt or _by_content(text, inp.content_type) or Rejected(
        inp.name, None, f"unknown format (known endings: {', '.join(sorted(EXTENSIONS))}; or force one)"
    )


def detect_format(path: PathLike) -> Optional[str]:
    """The format name for the file at *path*, from its ending, else its first 64 KiB;
    None if unknown, empty or binary.

    Raises OSError when the file cannot be read.
    """
    with open_file(Path(path)) as inp:
        found = _detect(inp)
    return None if isinstance(found, Rejected) else found


def _check(format: Optional[str], fields: Optional[Mapping[str, str]]) -> None:
    if format is not None and format not in READERS:
        raise BadInput(f"unknown format {format!r} (known: {', '.join(sorted(READERS))})")
    check_fields(fields)


def _read_input(inp: Input, as_of: Optional[datetime], format: Optional[str],
                fields: Optional[Mapping[str, str]]) -> Iterator[Record]:
    with inp:
        try:
            found = format or _detect(inp)
        except READ_ERRORS as exc:
            yield Rejected(inp.name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
            return
        if isinstance(found, Rejected):
            yield found
            return
        yield from _bounded(inp.name, READERS[found](inp, as_of=as_of or inp.mtime, fields=fields))


def _bounded(name: str, records: Iterator[Record]) -> Iterator[Record]:
    """*records*, stopped after MAX_BAD_IN_A_ROW rejects with no good record between:
    a file of garbage (a million lines of ``x``) costs a bounded time and report."""
    limit = limits.MAX_BAD_IN_A_ROW
    in_a_row = 0
    for record in records:
        yield record
        if isinstance(record, Article):
            in_a_row = 0
        elif isinstance(record, Rejected):
            in_a_row += 1
            if in_a_row >= limit:
                yield Rejected(name, None, f"{in_a_row:,} bad records in a row (MAX_BAD_IN_A_ROW): "
                                           "the rest of the file is skipped")
                return


def _open_error(path: Path, exc: OSError) -> str:
    """The one-line reason a file could not be opened."""
    if isinstance(exc, NotRegularFile):
        return str(exc)
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of links): skipped"
    if isinstance(exc, FileNotFoundError):
        return "broken symbolic link (its target does not exist)" if os.path.islink(path) else "no such file or directory"
    return f"cannot read: {exc.strerror or exc}"


def _read_file(path: Path, as_of: Optional[datetime], format: Optional[str],
               fields: Optional[Mapping[str, str]]) -> Iterator[Record]:
    try:
        inp = open_file(path)
    except OSError as exc:
        yield Rejected(str(path), None, _open_error(path, exc))
        return
    except READ_ERRORS as exc:  # a .gz too broken to start unpacking
        yield Rejected(str(path), None, f"cannot read: {exc}")
        return
    yield from _read_input(inp, as_of, format, fields)


def _read_url(url: str, as_of: Optional[datetime], format: Optional[str], fields: Optional[Mapping[str, str]],
              state: Optional[FetchState]) -> Iterator[Record]:
    try:
        got = fetch(url, state=state)
    except FetchFailed as exc:
        yield Rejected(url, None, f"cannot fetch: {str(exc).removeprefix(url + ': ')}")
        return
    if got.not_modified or got.data is None:
        return  # 304: nothing new since the last run
    inp = open_bytes(url, got.data, hint=urlsplit(got.final_url).path, charset=got.charset,
                     url=got.final_url, mtime=got.when, content_type=got.content_type)
    yield from _read_input(inp, as_of, format, fields)


def _read_stdin(stdin: Optional[IO[bytes]], as_of: Optional[datetime], format: Optional[str],
                fields: Optional[Mapping[str, str]]) -> Iterator[Record]:
    import sys

    stream = stdin if stdin is not None else sys.stdin.buffer
    try:
        inp = open_stream("<stdin>", stream)
    except READ_ERRORS as exc:
        yield Rejected("<stdin>", None, f"cannot read: {exc}")
        return
    yield from _read_input(inp, as_of, format, fields)


def read_path(
    path: PathLike, *, as_of: Optional[datetime] = None, format: Optional[str] = None,
    fields: Optional[Mapping[str, str]] = None,
) -> Iterator[Record]:
    """Read one file, choosing the reader from *format*, the file ending or the content.

    *as_of* resolves relative times (default: the file's modification time). *fields*
    names columns/keys for Article fields (``{"body": "story"}``) in CSV and JSON.
    Problems with the file or its records come out as Rejected; only an unknown *format*
    or field name raises BadInput, at once.
    """
    _check(format, fields)
    return _read_file(Path(path), as_of, format, fields)


def _matches(rel: str, patterns: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str]) -> Iterator[Union[Path, Rejected, IngestWarning]]:
    # sorted and hidden-free so that two runs over the same tree read the same order.
    # Symbolic links to directories are not followed (a link to a parent would walk for
    # ever, one to / the whole disk); a folder seen before (a bind mount) is not walked
    # again; a folder that cannot be listed is a Rejected, not a silent gap.
    errors: list[OSError] = []
    seen: set[tuple[int, int]] = set()
    for folder, dirs, files in os.walk(root, onerror=errors.append):
        yield from _walk_errors(errors)
        try:
            info = os.stat(folder)
        except OSError as exc:
            errors.append(exc)
            dirs[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            dirs[:] = []
            yield IngestWarning(folder, None, "directory already walked (a mount or link loop): not read again")
            continue
        seen.add((info.st_dev, info.st_ino))
        if any(marker in files for marker in _INDEX_MARKERS):
            dirs[:] = []
            continue  # an index (perhaps the one being written): not news
        rel_dir = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        kept = sorted(d for d in dirs if not d.startswith(".") and not _matches(prefix + d, exclude))
        dirs[:] = [d for d in kept if not os.path.islink(os.path.join(folder, d))]
        for name in kept:
            if name not in dirs:
                yield IngestWarning(os.path.join(folder, name), None,
                                    "symbolic link to a directory: not followed (name it to read it)")
        for name in sorted(files):
            rel = prefix + name
            if name.startswith(".") or _matches(rel, exclude):
                continue
            if include:
                if _matches(rel, include):
                    yield Path(folder, name)
            elif _ending(name) and name.split(".", 1)[0].lower() not in _NOT_NEWS:
                yield Path(folder, name)
    yield from _walk_errors(errors)


def _walk_errors(errors: list[OSError]) -> Iterator[Rejected]:
    for exc in errors:
        where = exc.filename if exc.filename is not None else "?"
        yield Rejected(str(where), None, f"cannot read directory: {exc.strerror or exc}")
    errors.clear()


Planned = Union[str, Path, Rejected, IngestWarning]


def _plan(paths: Iterable[PathLike], include: Sequence[str], exclude: Sequence[str]) -> list[Planned]:
    out: list[Planned] = []
    for given in paths:
        text = str(given)
        if text == STDIN or is_url(text):
            out.append(text)
            continue
        path = Path(given)
        out.extend(_walk(path, include, exclude) if path.is_dir() else [path])
    return out


def plan_inputs(paths: Iterable[PathLike], *, include: Sequence[str] = (),
                exclude: Sequence[str] = ()) -> list[Union[str, Path]]:
    """What :func:`read_paths` will read, in order: files (directories walked), URLs, ``-``.

    In directories, hidden entries, files matching an *exclude* glob, and — unless
    *include* globs are given, which then choose the files — files without a known ending
    or named like project files (README, LICENSE ...) are skipped. Globs match the path
    relative to the directory or the bare file name. A path named outright is always read.
    Symbolic links to directories inside a walked directory are not followed; a folder
    that cannot be listed is left out here and reported by :func:`read_paths`.
    """
    return [item for item in _plan(paths, include, exclude) if isinstance(item, (str, Path))]


def read_paths(
    paths: Iterable[PathLike],
    *,
    as_of: Optional[datetime] = None,
    format: Optional[str] = None,
    fields: Optional[Mapping[str, str]] = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    stdin: Optional[IO[bytes]] = None,
    fetch_state: Optional[FetchState] = None,
    on_input: Optional[Callable[[int, int, str], None]] = None,
    encoding: Optional[str] = None,
    dayfirst: bool = False,
) -> Iterator[Record]:
    """Read files, directories (walked, see :func:`plan_inputs`), http(s) URLs and ``-``
    (standard input, or *stdin* when given), in order, as :func:`read_path` does.

    URLs are fetched with :func:`~newssearch.ingest.fetch.fetch`, conditionally when
    *fetch_state* is given (it is updated, not saved). *on_input* is called with
    (number, total, name) before each input, for progress display. *encoding* reads
    every input as that codec (``--encoding cp1256``) instead of detecting it; *dayfirst*
    reads numeric dates day first (``12/08/2025`` is 12 August).
    """
    _check(format, fields)
    with forced_encoding(encoding):  # an unknown codec is a BadInput now, not mid-read
        pass
    records = _read_all(_plan(paths, include, exclude), as_of, format, fields, stdin, fetch_state, on_input)
    return _forcing(records, encoding, dayfirst) if encoding or dayfirst else records


def _forcing(records: Iterator[Record], encoding: Optional[str], dayfirst: bool) -> Iterator[Record]:
    with forced_encoding(encoding), day_first(dayfirst):
        yield from records


def _read_all(inputs: list[Planned], as_of: Optional[datetime], format: Optional[str],
              fields: Optional[Mapping[str, str]], stdin: Optional[IO[bytes]],
              state: Optional[FetchState], on_input: Optional[Callable[[int, int, str], None]]) -> Iterator[Record]:
    for number, item in enumerate(inputs, 1):
        if isinstance(item, (Rejected, IngestWarning)):
            yield item  # found by the walk: a folder that cannot be listed, a link not followed
            continue
        if on_input:
            on_input(number, len(inputs), str(item))
        if item == STDIN:
            yield from _read_stdin(stdin, as_of, format, fields)
        elif isinstance(item, str):
            yield from _read_url(item, as_of, format, fields, state)
        else:
            yield from _read_file(item, as_of, format, fields)
