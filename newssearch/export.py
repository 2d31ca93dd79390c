"""Streaming every match of a query out as JSON Lines or CSV (``newssearch export``).

Rows are written as :meth:`NewsIndex.iter_search` yields them, so an export of the
whole archive never holds more than one batch of articles in memory. CSV cells that
a spreadsheet would read as a formula (text starting with ``= + - @``, tab or CR) are
neutralised with a leading apostrophe (:func:`newssearch.render.csv_cell`).
"""
from __future__ import annotations

import csv
import json
from typing import IO, Iterable

from .model import Match
from .render import csv_cell

__all__ = ["EXPORT_FORMATS", "CSV_COLUMNS", "write_jsonl", "write_csv", "write_export"]

EXPORT_FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("rank", "id", "score", "published", "source", "title", "url", "lang", "author", "body", "duplicate_ids")


def write_jsonl(matches: Iterable[Match], out: IO[str]) -> int:
    """One JSON object per line (``Match.to_dict``); returns how many were written."""
    n = 0
    for m in matches:
        out.write(json.dumps(m.to_dict(), ensure_ascii=False))
        out.write("\n")
        n += 1
    return n


def write_csv(matches: Iterable[Match], out: IO[str]) -> int:
    """A header row then one row per match (ids of folded copies space-separated);
    returns how many rows were written after the header."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for m in matches:
        d = m.to_dict()
        d["published"] = d["published"] or ""
        d["duplicate_ids"] = " ".join(m.duplicate_ids)
        writer.writerow([csv_cell("" if d[c] is None else d[c]) for c in CSV_COLUMNS])
        n += 1
    return n


def write_export(matches: Iterable[Match], out: IO[str], fmt: str = "jsonl") -> int:
    """:func:`write_jsonl` or :func:`write_csv` by *fmt* (one of :data:`EXPORT_FORMATS`)."""
    if fmt == "jsonl":
        return write_jsonl(matches, out)
    if fmt == "csv":
        return write_csv(matches, out)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
