"""Reader for CSV and TSV with a header row.

Column names are mapped like JSON keys (:mod:`newssearch.ingest.fields`); a caller can
name odd columns (``fields={"body": "story"}``). A row with the wrong number of fields is
a Rejected naming its line; the other rows still come through.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Iterator, Mapping, Optional, Union

from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected
from . import limits
from .fields import ALIASES, check_fields, map_record
from .source import READ_ERRORS, Input, read_text

__all__ = ["parse_csv", "parse_tsv"]

Record = Union[Article, Rejected, IngestWarning]
_DELIMITERS = ",;\t|"


def _delimiter(header_line: str) -> str:
    # the separator the header uses most; a header is short and has no quoted commas
    # in practice, which is what makes this safer than csv.Sniffer on article text
    counts = {d: header_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _parse(inp: Input, delimiter: Optional[str], as_of: Optional[datetime],
           fields: Optional[Mapping[str, str]]) -> Iterator[Record]:
    name = inp.name
    try:
        overrides = check_fields(fields)
        text, warning = read_text(inp)
    except BadInput as exc:
        yield Rejected(name, None, str(exc))
        return
    except READ_ERRORS as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if warning:
        yield IngestWarning(name, None, warning)
    if not text.strip():
        yield Rejected(name, None, "empty file")
        return
    # the csv module's limit is process-wide; an article body can pass its 128 KiB default,
    # and our own document limit already bounds what reaches here
    if csv.field_size_limit() < limits.MAX_DOCUMENT_BYTES:
        csv.field_size_limit(limits.MAX_DOCUMENT_BYTES)
    text = text.replace("\x00", "")
    if not delimiter:
        bom = re.match("\ufeff*", text).end()  # type: ignore[union-attr]  # (it always matches)
        newline = text.find("\n", bom)
        delimiter = _delimiter(text[bom:] if newline < 0 else text[bom:newline])  # no copy of the rest
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: Optional[list[str]] = None
    end = 0  # physical line where the previous record ended
    while True:
        start = end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            end = reader.line_num
            yield Rejected(name, start, f"bad CSV: {exc}")
            continue
        end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if header is None:
            if len(row) > limits.MAX_CSV_COLUMNS:
                yield Rejected(name, start, f"header has {len(row):,} columns, more than MAX_CSV_COLUMNS "
                                            f"({limits.MAX_CSV_COLUMNS:,}): refused")
                return
            header = [cell.strip().lstrip("\ufeff") for cell in row]
            known = {h.lower() for h in header}
            wanted = [overrides.get(f) for f in ("title", "body")] + list(ALIASES["title"] + ALIASES["body"])
            if not any(w and w.lower() in known for w in wanted):
                yield Rejected(name, start, f"header has no title or body column (columns: {', '.join(header)[:200]});"
                               " name one with a field mapping such as body=COLUMN")
                return
            continue
        if len(row) != len(header):
            yield Rejected(name, start, f"has {len(row)} fields, the header has {len(header)}")
            continue
        try:
            article, warnings = map_record(dict(zip(header, row)), as_of=as_of, fields=overrides)
        except BadInput as exc:
            yield Rejected(name, start, str(exc))
            continue
        for message in warnings:
            yield IngestWarning(name, start, message)
        yield article
    if header is None:
        yield Rejected(name, None, "no header row")


def parse_csv(inp: Input, *, as_of: Optional[datetime] = None,
              fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read CSV with a header row; the separator (``, ; tab |``) is taken from the header."""
    return _parse(inp, None, as_of, fields)


def parse_tsv(inp: Input, *, as_of: Optional[datetime] = None,
              fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """Read tab-separated values with a header row."""
    return _parse(inp, "\t", as_of, fields)
