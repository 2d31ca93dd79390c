"""Input readers: files and directories in, ``Article`` or ``Rejected`` out.

One module per format; this module only picks the reader. To add a format, write a
reader ``(path, *, as_of) -> Iterator[Article | Rejected]`` and add it to ``READERS``,
its file endings to ``EXTENSIONS`` and, if it can be recognised by content, a test to
``_SNIFFERS``. Readers never raise for bad data: a bad record (or an unreadable file)
is a Rejected and the good records still come through.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Union

from ..errors import BadInput
from ..model import Article, Rejected
from .aggregator import looks_like_aggregator, read_aggregator
from .jsonl import read_jsonl

__all__ = ["read_path", "read_paths", "detect_format", "READERS", "EXTENSIONS"]

Record = Union[Article, Rejected]
Reader = Callable[..., Iterator[Record]]
PathLike = Union[str, Path]

READERS: dict[str, Reader] = {
    "jsonl": read_jsonl,
    "aggregator": read_aggregator,
}
"""Format name -> reader; the names are what ``format=`` accepts."""

EXTENSIONS: dict[str, str] = {
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".json.gz": "jsonl",
    ".txt": "aggregator",
}
"""File ending (lower case) -> format name; also decides what a directory walk picks up."""

_GENERIC_ENDINGS = frozenset({".txt"})
"""Endings that plenty of non-news files share (README.txt, licences): a directory walk
takes such a file only when its content sniffs as the format; a file named outright is
always read."""

_SNIFF_BYTES = 64 * 1024
_SNIFFERS: list[tuple[str, Callable[[str], bool]]] = [
    ("jsonl", lambda text: text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")),
    ("aggregator", looks_like_aggregator),
]


def _ending(path: Path) -> Optional[str]:
    name = path.name.lower()
    # longest ending first, so ".jsonl.gz" wins over ".gz"
    return next((e for e in sorted(EXTENSIONS, key=len, reverse=True) if name.endswith(e)), None)


def _by_extension(path: Path) -> Optional[str]:
    ending = _ending(path)
    return EXTENSIONS[ending] if ending else None


def _sniff(path: Path) -> Optional[str]:
    with path.open("rb") as stream:
        text = stream.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    return next((fmt for fmt, sniff in _SNIFFERS if sniff(text)), None)


def detect_format(path: PathLike) -> Optional[str]:
    """The format name for *path*: from its ending, else from its first 64 KiB; None if unknown.

    Raises OSError when the file has no known ending and cannot be read.
    """
    path = Path(path)
    return _by_extension(path) or _sniff(path)


def _check_format(format: Optional[str]) -> None:
    if format is not None and format not in READERS:
        raise BadInput(f"unknown format {format!r} (known: {', '.join(sorted(READERS))})")


def _read_file(path: Path, as_of: Optional[datetime], format: Optional[str]) -> Iterator[Record]:
    name = str(path)
    if not path.exists():
        yield Rejected(name, None, "no such file or directory")
        return
    try:
        fmt = format or detect_format(path)
    except OSError as exc:
        yield Rejected(name, None, f"cannot read: {exc.strerror or exc}")
        return
    if fmt is None:
        yield Rejected(name, None, f"unknown format (known endings: {', '.join(sorted(EXTENSIONS))})")
        return
    yield from READERS[fmt](path, as_of=as_of)


def read_path(
    path: PathLike, *, as_of: Optional[datetime] = None, format: Optional[str] = None
) -> Iterator[Record]:
    """Read one file, choosing the reader from *format*, the file ending or the content.

    *as_of* resolves relative times (default: each file's modification time). Problems
    with the file or its records come out as Rejected; only an unknown *format* name
    raises BadInput, at once.
    """
    _check_format(format)
    return _read_file(Path(path), as_of, format)


def _walk(root: Path) -> Iterator[Path]:
    # sorted and hidden-free so that two runs over the same tree read the same order
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder, name)
            ending = None if name.startswith(".") else _ending(path)
            if ending in _GENERIC_ENDINGS:
                try:
                    if _sniff(path) != EXTENSIONS[ending]:
                        continue
                except OSError:
                    pass  # let the reader report it
            if ending:
                yield path


def read_paths(
    paths: Iterable[PathLike], *, as_of: Optional[datetime] = None, format: Optional[str] = None
) -> Iterator[Record]:
    """Read files and directories (walked recursively) in order, as :func:`read_path` does.

    In directories, hidden entries and files without a known ending (``EXTENSIONS``)
    are skipped silently, even when *format* is given; a named file that is missing or
    unreadable gives a Rejected.
    """
    _check_format(format)
    return _read_all(paths, as_of, format)


def _read_all(paths: Iterable[PathLike], as_of: Optional[datetime], format: Optional[str]) -> Iterator[Record]:
    for given in paths:
        path = Path(given)
        files = _walk(path) if path.is_dir() else [path]
        for file in files:
            yield from _read_file(file, as_of, format)
