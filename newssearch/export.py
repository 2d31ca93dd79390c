"""Streaming every match of a query out as JSON Lines or CSV (``newssearch export``).

Rows are written as :meth:`NewsIndex.iter_search` yields them, so an export of the
whole archive never holds more than one batch of articles in memory. CSV cells that
a spreadsheet would read as a formula (text starting with ``= + - @``, tab or CR) are
neutralised with a leading apostrophe (:func:`newssearch.render.csv_cell`).
"""
from __future__ import annotations

import csv
import io
import json
from typing import IO, Iterable, Iterator, List

from .model import Match
from .render import csv_cell

__all__ = ["EXPORT_FORMATS", "CSV_COLUMNS", "write_jsonl", "write_csv", "write_export", "iter_export"]

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
        writer.writerow(_csv_row(m))
        n += 1
    return n


def _csv_row(m: Match) -> List[object]:
    d = m.to_dict()
    d["published"] = d["published"] or ""
    d["duplicate_ids"] = " ".join(m.duplicate_ids)
    return [csv_cell("" if d[c] is None else d[c]) for c in CSV_COLUMNS]


def write_export(matches: Iterable[Match], out: IO[str], fmt: str = "jsonl") -> int:
    """:func:`write_jsonl` or :func:`write_csv` by *fmt* (one of :data:`EXPORT_FORMATS`)."""
    if fmt == "jsonl":
        return write_jsonl(matches, out)
    if fmt == "csv":
        return write_csv(matches, out)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")


def iter_export(matches: Iterable[Match], fmt: str = "jsonl", *, rows: int = 200) -> Iterator[str]:
    """The text :func:`write_export` writes, as chunks of about *rows* rows each, for a
    server to stream (the search page's download links). Checks *fmt* before anything."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(EXPORT_FORMATS)}")
    return _chunks(matches, fmt, max(1, rows))


def _chunks(matches: Iterable[Match], fmt: str, rows: int) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    if fmt == "csv":
        writer.writerow(CSV_COLUMNS)
    n = 0
    for m in matches:
        if fmt == "csv":
            writer.writerow(_csv_row(m))
        else:
            buf.write(json.dumps(m.to_dict(), ensure_ascii=False))
            buf.write("\n")
        n += 1
        if n % rows == 0:
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue()
