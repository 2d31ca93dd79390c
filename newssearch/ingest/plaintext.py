"""Reader for plain text and Markdown files: the first line is the title, the rest the body."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterator, Mapping, Optional, Union

from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected
from .fields import map_record
from .source import READ_ERRORS, Input, read_text

__all__ = ["parse_text"]

Record = Union[Article, Rejected, IngestWarning]
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+|\s+#+\s*$")
_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)


def parse_text(inp: Input, *, as_of: Optional[datetime] = None,
               fields: Optional[Mapping[str, str]] = None) -> Iterator[Record]:
    """One file, one Article: first non-blank line (Markdown ``#`` removed) as title, the rest as body."""
    name = inp.name
    try:
        text, warning = read_text(inp)
    except READ_ERRORS as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if warning:
        yield IngestWarning(name, None, warning)
    text = _FRONT_MATTER.sub("", text.lstrip("\ufeff").replace("\r\n", "\n"))
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        yield Rejected(name, None, "empty file")
        return
    title = _HEADING.sub("", lines[first]).strip()
    body = "\n".join(lines[first + 1:]).strip()
    try:
        article, warnings = map_record({"title": title, "body": body}, as_of=as_of)
    except BadInput as exc:
        yield Rejected(name, first + 1, str(exc))
        return
    for message in warnings:
        yield IngestWarning(name, first + 1, message)
    yield article
