"""Where bytes come from: a file, a ``.gz`` file, stdin or a download, behind one shape.

An :class:`Input` is a size-limited binary stream plus what is known about it (its name
for messages, a declared charset, the page url). Readers take an Input, so every format
reads the same way from every place.
"""
from __future__ import annotations

import gzip
import io
import os
import stat
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Optional

from . import limits
from .text import declared_charset, decode

__all__ = ["Input", "TooLarge", "NotRegularFile", "READ_ERRORS", "file_kind", "open_file", "open_bytes", "open_stream",
           "read_all", "read_text"]

_GZIP_MAGIC = b"\x1f\x8b"


class TooLarge(OSError):
    """Input past one of the size limits in :mod:`newssearch.ingest.limits`."""


class NotRegularFile(OSError):
    """A path that names a FIFO, socket, device or directory: never opened for reading."""


READ_ERRORS = (OSError, EOFError, zlib.error)
"""What reading an Input may raise (TooLarge is an OSError): a reader turns each into a Rejected."""


class _Limited(io.RawIOBase):
    """A raw stream that refuses to give more than *limit* bytes in total."""

    def __init__(self, raw: IO[bytes], limit: int, message: str) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit
        self._message = message

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]
        n = self._raw.readinto(buffer)  # type: ignore[attr-defined]
        self._left -= n or 0
        if self._left < 0:
            raise TooLarge(self._message)
        return n or 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):,.0f} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


@dataclass
class Input:
    """One input being read: a stream with a name. Close it (or use ``with``)."""

    name: str
    """Path, URL or ``<stdin>``: what messages call it."""
    stream: IO[bytes]
    """Decompressed bytes, buffered (``peek`` works)."""
    hint: str = ""
    """A name whose ending tells the format (``.gz`` already removed); may be empty."""
    charset: Optional[str] = None
    """Charset the transport declared (an HTTP header), if any."""
    url: Optional[str] = None
    """Where the input was downloaded from, if it was."""
    mtime: Optional[datetime] = None
    """When the input was last changed, if known: the default reference for relative times."""
    content_type: str = ""
    """The media type the transport declared (``application/rss+xml``), if any."""
    gzipped: bool = False
    """True when the bytes were gzip'd and are unpacked on the fly."""

    def __enter__(self) -> "Input":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.stream.close()

    def head(self, size: int = 64 * 1024) -> bytes:
        """Up to *size* first bytes, without consuming them."""
        return self.stream.peek(size)[:size]  # type: ignore[attr-defined]


def _wrap(name: str, raw: IO[bytes], hint: str) -> tuple[IO[bytes], str, bool]:
    """(buffered stream, hint, gzipped): gzip'd data is unpacked on the fly, within limits."""
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
    if buffered.peek(2)[:2] != _GZIP_MAGIC:  # type: ignore[attr-defined]
        return buffered, hint, False
    limit = limits.MAX_DECOMPRESSED_BYTES
    message = f"unpacks to more than MAX_DECOMPRESSED_BYTES ({_size(limit)}): refused (a gzip bomb?)"
    unpacked = _Limited(gzip.GzipFile(fileobj=buffered, mode="rb"), limit, message)  # type: ignore[arg-type]
    if hint.lower().endswith(".gz"):
        hint = hint[:-3]
    # small reads: when a gzip stream turns out truncated, GzipFile drops the chunk it was
    # filling, so a small chunk keeps nearly everything before the break
    return io.BufferedReader(unpacked, buffer_size=8 * 1024), hint, True


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def file_kind(mode: int) -> str:
    """What a stat mode names, for messages: "a regular file", "a named pipe (FIFO)" ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((kind for test, kind in _KINDS if test(mode)), "not a file")


def _not_regular(mode: int) -> NotRegularFile:
    return NotRegularFile(f"not a regular file but {file_kind(mode)}: skipped")


def open_file(path: Path) -> Input:
    """Open the file at *path* (gzip'd or not) as an Input; raises OSError when it cannot.

    Only regular files (or symbolic links to one) are opened: a FIFO would block the
    read forever and a device may never end, so anything else is a NotRegularFile, found
    by ``stat`` before any open. The open itself does not block either (O_NONBLOCK, then
    checked again on the open descriptor), in case the path was swapped in between.
    """
    info = os.stat(path)  # follows links; a link loop is an OSError (ELOOP) here
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(info.st_mode)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(info.st_mode)
        if getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    raw = os.fdopen(fd, "rb")
    try:
        mtime = datetime.fromtimestamp(info.st_mtime, tz=timezone.utc)
        stream, hint, gzipped = _wrap(str(path), raw, path.name)
    except BaseException:
        raw.close()
        raise
    return Input(str(path), stream, hint=hint, mtime=mtime, gzipped=gzipped)


def open_bytes(
    name: str,
    data: bytes,
    *,
    hint: str = "",
    charset: Optional[str] = None,
    url: Optional[str] = None,
    mtime: Optional[datetime] = None,
    content_type: str = "",
) -> Input:
    """Bytes already in memory (stdin, a download) as an Input; gzip'd bytes are unpacked."""
    stream, hint, gzipped = _wrap(name, io.BytesIO(data), hint)
    return Input(name, stream, hint=hint, charset=charset, url=url, mtime=mtime,
                 content_type=content_type, gzipped=gzipped)


def read_all(inp: Input) -> bytes:
    """The whole input; TooLarge past MAX_DOCUMENT_BYTES."""
    limit = limits.MAX_DOCUMENT_BYTES
    data = inp.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"larger than MAX_DOCUMENT_BYTES ({_size(limit)}): refused")
    return data


def read_text(inp: Input) -> tuple[str, Optional[str]]:
    """The whole input decoded (see :func:`newssearch.ingest.text.decode`), and a warning or None."""

    data = read_all(inp)
    return decode(data, inp.charset or declared_charset(data))


def open_stream(name: str, stream: IO[bytes], *, hint: str = "") -> Input:
    """An open binary stream (stdin) as an Input; gzip'd data is unpacked. Closing the
    Input leaves *stream* open when it could be read as it is."""
    buffered, hint, gzipped = _wrap(name, stream, hint)
    return Input(name, buffered if buffered is not stream else _NoClose(stream), hint=hint, gzipped=gzipped)  # type: ignore[arg-type]


class _NoClose:
    """A stream we do not own (stdin), with close() doing nothing."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def peek(self, size: int = 0) -> bytes:
        return self._stream.peek(size)  # type: ignore[attr-defined]

    def read(self, size: Optional[int] = -1) -> bytes:
        return self._stream.read(size)

    def readline(self, size: Optional[int] = -1) -> bytes:
        return self._stream.readline(size)

    def close(self) -> None:
        pass
