"""Reader for scraped news-aggregator pages: one main article plus "related" articles.

The page is plain text copied from an aggregator site. Each article starts with its
headline printed twice (with or without a blank line between), then a source/time
header in one of two shapes::

    Al Jazeera2 days ago            source glued to a relative (or absolute) time

    Al Jazeera                      source on its own line,
    timean hour ago                 a "time" label glued to the time,
      • Al Jazeera                  an optional bullet repeating the source,
    <headline again>                and an optional third copy of the headline

and then the body. Site chrome ("logo", "Comments", app-store promotions, video
duration captions ...) is dropped. Nothing here knows a particular headline or outlet.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

from ..dates import parse_datetime, parse_relative
from ..errors import BadInput
from ..model import Article, IngestWarning, Rejected, to_utc
from .source import READ_ERRORS, Input, read_text
from .text import clean

__all__ = ["read_aggregator", "parse_aggregator", "looks_like_aggregator"]

# Whole lines of site chrome, matched case-insensitively against the stripped line.
_BOILERPLATE = re.compile(
    "|".join(
        [
            r"logo",
            r"orange background",
            r"try our ai features",
            r"explore what .{1,40} can do for you:?",
            r"comments",
            r"no comments yet\.*",
            r"related articles",
            r"download the app",
            r"get started now:? download the app",
            r"ready to dive into .*\bdownload\b.*\bapp\b.*",
            # "app-storeplay-store", "App Store | Google Play" and the like
            r"(?:(?:apple[- ]?)?app[- ]?store|play[- ]?store|google[- ]?play)"
            r"(?:[\s|/,·•-]*(?:(?:apple[- ]?)?app[- ]?store|play[- ]?store|google[- ]?play))*",
        ]
    ),
    re.IGNORECASE,
)
# Video players leave "Video Duration 01 minutes 18 seconds 01:18" in the text, often
# many in a row inside one paragraph.
_VIDEO_DURATION = re.compile(
    r"Video Duration(?:\s+\d+\s+(?:hours?|minutes?|seconds?))+\s+\d{1,2}(?::\d{2}){1,2}",
    re.IGNORECASE,
)
_NAME_START = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Mon|Tue|Wed|Thu|Fri|Sat|Sun)")
_TIME_LABEL = re.compile(r"time\s*(?P<when>.+)", re.IGNORECASE)
_BULLET = re.compile(r"[•·]\s*(?P<source>.+)")
# Section labels some sites print between a repeated headline and the text.
_SECTION_LABEL = re.compile(r"^NewsFeed(?:\s+|$)")
# Only to test whether a string is a date at all; never used for an article's time.
_PROBE_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)
_SNIFF_LINES = 400
# A source/time line is short; longer lines are body text and not worth a date parse.
_MAX_HEADER = 120

_Line = tuple[int, str]  # (1-based line number, stripped text)


@dataclass
class _Draft:
    line: int
    title: str
    source: str
    when: str
    body: list[str] = field(default_factory=list)


def _is_when(text: str) -> bool:
    try:
        parse_datetime(text, now=_PROBE_NOW)
    except BadInput:
        return False
    return True


def _is_relative(text: str) -> bool:
    try:
        return parse_relative(text, now=_PROBE_NOW) is not None
    except BadInput:
        return True  # relative but out of range: reported when the article's time is resolved


def _when(text: str) -> Optional[str]:
    """The time in a header line ("2 hours ago", "time2 hours ago"), or None."""
    if len(text) > _MAX_HEADER:
        return None
    label = _TIME_LABEL.fullmatch(text)
    if label and _is_when(label.group("when")):
        return label.group("when")
    return text if _is_when(text) else None


def _split_glued(text: str) -> Optional[tuple[str, str]]:
    """("Al Jazeera", "2 days ago") from "Al Jazeera2 days ago", or None.

    The shortest source that leaves a date wins, so a source ending in a digit next to
    a numeric time is ambiguous ("Channel 42 hours ago"); the page gives us no better cue.
    """
    if len(text) > _MAX_HEADER:
        return None
    for k in range(1, len(text)):
        source, when = text[:k].strip(), text[k:]
        if not source:
            continue
        if _is_relative(when):
            return source, when
        # an absolute date must start at a number's first digit or a capitalised month or
        # weekday: letting dateutil try every split reads "Post13 Aug" as "st13 Aug" (ordinal)
        starts_date = (text[k].isdigit() and not text[k - 1].isdigit()) or _NAME_START.match(when)
        if starts_date and _is_when(when):
            return source, when
    return None


def _head_at(lines: Sequence[_Line], i: int) -> Optional[tuple[_Draft, int]]:
    """An article header starting at lines[i], and the index after it; else None."""
    if i + 2 >= len(lines) or lines[i][1] != lines[i + 1][1]:
        return None
    title, j = lines[i][1], i + 2
    source: Optional[str] = None
    when = _when(lines[j][1])
    if when is None:
        glued = _split_glued(lines[j][1])
        if glued:
            source, when = glued
        elif j + 1 < len(lines) and (when := _when(lines[j + 1][1])) is not None:
            source, j = lines[j][1], j + 1
        else:
            return None
    j += 1
    if j < len(lines) and (bullet := _BULLET.fullmatch(lines[j][1])):
        source = source or bullet.group("source").strip()
        j += 1
    if j < len(lines) and lines[j][1] == title:
        j += 1
    return _Draft(line=lines[i][0], title=title, source=source or "", when=when), j


def _content_lines(text: str) -> list[_Line]:
    lines = ((n, raw.strip()) for n, raw in enumerate(text.splitlines(), 1))
    return [(n, s) for n, s in lines if s and not _BOILERPLATE.fullmatch(s)]


def _drafts(lines: Sequence[_Line]) -> Iterator[_Draft]:
    current: Optional[_Draft] = None
    i = 0
    while i < len(lines):
        head = _head_at(lines, i)
        if head:
            if current:
                yield current
            current, i = head
            continue
        if current:  # lines before the first headline are page chrome
            current.body.append(lines[i][1])
        i += 1
    if current:
        yield current


def _clean_body(title: str, paragraphs: Sequence[str]) -> str:
    cleaned = [" ".join(_VIDEO_DURATION.sub(" ", p).split()) for p in paragraphs]
    cleaned = [p for p in cleaned if p]
    if cleaned and cleaned[0] == title:
        cleaned.pop(0)
    elif cleaned and cleaned[0].startswith(title + " "):
        # video pages repeat the headline (and a section label) in front of the text
        cleaned[0] = _SECTION_LABEL.sub("", cleaned[0][len(title):].lstrip())
    return "\n\n".join(p for p in cleaned if p)


def looks_like_aggregator(text: str) -> bool:
    """True when *text* has at least one headline-twice-then-source/time article start."""
    lines = _content_lines("\n".join(text.splitlines()[:_SNIFF_LINES]))
    return any(_head_at(lines, i) for i in range(len(lines) - 2))


def read_aggregator(
    path: Union[str, Path], *, as_of: Optional[datetime] = None, text: Optional[str] = None
) -> Iterator[Union[Article, Rejected]]:
    """Read the articles of one aggregator page, in page order.

    *text* is the page when already in memory (*path* then only names it). Relative
    times ("2 hours ago") are resolved against *as_of*, by default the file's
    modification time in UTC; an article whose time cannot be resolved, or a page with
    no article at all, comes out as a Rejected. ``lang`` and ``url`` are left None.
    """
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_bytes().decode("utf-8-sig", errors="replace")
        except OSError as exc:
            yield Rejected(name, None, f"cannot read: {exc.strerror or exc}")
            return
    if as_of is None:
        try:
            as_of = datetime.fromtimestamp(Path(path).stat().st_mtime, tz=timezone.utc)
        except OSError:
            pass  # text given for a path that does not exist: relative times will be rejected
    as_of = to_utc(as_of)
    found = False
    for draft in _drafts(_content_lines(text)):
        found = True
        try:
            published = parse_datetime(draft.when, now=as_of)
        except BadInput as exc:
            yield Rejected(name, draft.line, f"{exc} (headline {draft.title[:60]!r})")
            continue
        yield Article(
            title=draft.title,
            body=_clean_body(draft.title, draft.body),
            source=draft.source,
            published=published,
        )
    if not found:
        yield Rejected(name, None, "no article found: not a news-aggregator page")


def parse_aggregator(inp: "Input", *, as_of: Optional[datetime] = None,
                     fields: object = None) -> Iterator[Union[Article, Rejected, IngestWarning]]:
    """:func:`read_aggregator` over an Input (any source, any encoding); *fields* is ignored."""
    try:
        text, warning = read_text(inp)
    except READ_ERRORS as exc:
        yield Rejected(inp.name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
        return
    if warning:
        yield IngestWarning(inp.name, None, warning)
    yield from read_aggregator(inp.name, as_of=as_of or inp.mtime, text=clean(text))
