"""Click helpers for ``newssearch index``: the --field parser and the progress bar.

Kept apart from cli.py so the command itself stays one library call.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator, Optional, Sequence

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


@contextlib.contextmanager
def progress(quiet: bool) -> Iterator[Optional[Callable[[int, int, str], None]]]:
    """A progress callback drawing a bar over the inputs, or None when quiet or not on a terminal."""
    if quiet or not sys.stdout.isatty():
        yield None
        return
    bar = None

    def update(number: int, total: int, name: str) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label="indexing", show_pos=True).__enter__()
        bar.update(number - 1 - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.update(bar.length - bar.pos)
            bar.__exit__(None, None, None)
