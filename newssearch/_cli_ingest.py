"""Click helpers for ``newssearch index``: the --field parser and the progress bar.

Kept apart from cli.py so the command itself stays one library call.
"""
from __future__ import annotations

import contextlib
import sys
import time
from typing import IO, Iterator, Optional, Sequence

import click

from .ingest.fields import FIELD_NAMES

__all__ = ["field_map", "progress"]


def field_map(values: Sequence[str]) -> dict[str, str]:
    """``["body=story", "date=when"]`` as ``{"body": "story", "date": "when"}``; usage error otherwise."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, column = value.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise click.BadParameter(f"{value!r} is not FIELD=COLUMN", param_hint="--field")
        key = name.strip().lower()
        if key not in FIELD_NAMES:
            raise click.BadParameter(f"unknown field {name.strip()!r} (known: {', '.join(FIELD_NAMES)})",
                                     param_hint="--field")
        out[key] = column.strip()
    return out


class Progress:
    """Progress of ``newssearch index`` on stderr: which input of how many, and how many
    records were read so far, so one big file shows it is moving. Redrawn in place at
    most ten times a second; one final line when done."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.number = 0
        self.total = 0
        self.name = ""
        self.records = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self._width = 0

    def on_input(self, number: int, total: int, name: str) -> None:
        self.number, self.total, self.name = number, total, name
        self.draw(force=True)

    def on_records(self, count: int) -> None:
        self.records = count
        self.draw()

    def line(self) -> str:
        rate = self.records / max(time.monotonic() - self.started, 1e-6)
        name = self.name if len(self.name) <= 40 else "…" + self.name[-39:]
        where = f"[{self.number}/{self.total}] {name} · " if self.total > 1 else (f"{name} · " if name else "")
        return f"indexing {where}{self.records:,} records ({rate:,.0f}/s)"

    def draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        text = self.line()
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def close(self) -> None:
        if self.number or self.records:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


@contextlib.contextmanager
def progress(quiet: bool, stream: Optional[IO[str]] = None) -> Iterator[Optional[Progress]]:
    """A :class:`Progress` on *stream* (stderr), or None when quiet or not on a terminal."""
    stream = stream if stream is not None else sys.stderr
    if quiet or not (getattr(stream, "isatty", None) and stream.isatty()):
        yield None
        return
    shown = Progress(stream)
    try:
        yield shown
    finally:
        shown.close()
