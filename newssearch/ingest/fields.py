"""One record with named fields (a JSON object, a CSV row) to an Article.

Exports name the same things many ways; this module is the one place that knows them.
For each Article field the first alias present with a non-empty value wins, keys
compared without regard to case. A caller can name the column outright
(``fields={"body": "story"}``), for headers no alias covers.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple, Optional

from .. import dates
from ..errors import BadInput
from ..model import Article
from . import limits
from .text import clean

__all__ = ["ALIASES", "FIELD_NAMES", "Mapped", "map_record", "check_fields"]

ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "body": ("body", "content", "text", "description", "summary"),
    "source": ("source", "publisher", "site_name"),
    "published": ("date", "published", "published_at", "publishedat", "pubdate", "timestamp"),
    "url": ("url", "link"),
    "lang": ("lang", "language"),
    "author": ("author", "byline", "authors"),
    "id": ("id", "guid"),
}
"""Article field -> the record keys read for it, in order of preference (lower case)."""

FIELD_NAMES = tuple(ALIASES) + ("date",)
"""Names a field override may use; ``date`` is another name for ``published``."""


class Mapped(NamedTuple):
    """An Article and what was changed on the way (truncation, a dropped date)."""

    article: Article
    warnings: tuple[str, ...]


def check_fields(fields: Optional[Mapping[str, str]]) -> dict[str, str]:
    """*fields* with ``date`` read as ``published``; BadInput for a name we do not know."""
    out: dict[str, str] = {}
    for name, column in (fields or {}).items():
        key = "published" if name == "date" else name
        if key not in ALIASES:
            raise BadInput(f"unknown field {name!r} in a field mapping (known: {', '.join(FIELD_NAMES)})")
        if not column:
            raise BadInput(f"field {name!r} is mapped to an empty column name")
        out[key] = column
    return out


def _name_of(value: Any) -> Any:
    # NewsAPI's source is {"id": ..., "name": ...}; authors are often [{"name": ...}]
    if isinstance(value, dict):
        return value.get("name") or value.get("title")
    return value


def _text(value: Any, field: str, key: str) -> str:
    value = _name_of(value)
    if value is None:
        return ""
    if isinstance(value, list):
        names = [_name_of(v) for v in value]
        if all(isinstance(v, str) for v in names):
            return ", ".join(clean(v).strip() for v in names if v.strip())  # several authors
        raise BadInput(f"{key} is a list of {type(value[0]).__name__ if value else 'nothing'}, not text")
    if field == "id" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # dataset row numbers
    if not isinstance(value, str):
        raise BadInput(f"{key} is {type(value).__name__}, not text")
    return clean(value).strip()


def _pick(record: Mapping[str, Any], lowered: Mapping[str, str], field: str, overrides: Mapping[str, str]) -> tuple[str, Any]:
    """(key used, value) for *field*; ("", None) when the record has none."""
    if field in overrides:
        key = overrides[field]
        actual = key if key in record else lowered.get(key.lower())
        if actual is not None:
            return key, record.get(actual)
        # a record without the named column (another file of the same run) falls back to the aliases
    for alias in ALIASES[field]:
        actual = lowered.get(alias)
        if actual is not None and record.get(actual) not in (None, "", [], {}):
            return actual, record[actual]
    return "", None


def _date(value: Any, key: str, as_of: Optional[datetime]) -> datetime:
    if isinstance(value, bool):
        raise BadInput(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, tz=timezone.utc)  # epoch seconds
        except (OverflowError, OSError, ValueError):
            raise BadInput(f"not a date: {value!r} is out of range as epoch seconds") from None
    return dates.parse_datetime(str(value), now=as_of)


def _cut(text: str, limit: int, what: str, warnings: list[str], size: Optional[int] = None) -> str:
    if len(text) <= limit and size is None:
        return text
    warnings.append(f"{what} truncated from {size or len(text):,} to {limit:,} characters")
    return text[:limit]


def map_record(
    record: Any, *, as_of: Optional[datetime] = None, fields: Optional[Mapping[str, str]] = None
) -> Mapped:
    """*record* (a dict) as an Article, with warnings; BadInput says why it cannot be one.

    A date that cannot be read is dropped with a warning (the article is kept); a
    relative date ("2 hours ago") is resolved against *as_of*. A body longer than
    :data:`~newssearch.ingest.limits.MAX_TEXT_CHARS` is cut there, with a warning.
    """
    if not isinstance(record, dict):
        raise BadInput(f"not a JSON object but {type(record).__name__}")
    overrides = check_fields(fields)
    lowered = {str(k).lower(): k for k in record if isinstance(k, str)}
    warnings: list[str] = []
    values: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for field in ("title", "body", "source", "url", "lang", "author", "id"):
        key, value = _pick(record, lowered, field, overrides)
        if isinstance(value, str) and len(value) > 2 * limits.MAX_TEXT_CHARS:
            # cut before cleaning: a 50 MB body should not be normalised only to be thrown away
            sizes[field], value = len(value), value[: 2 * limits.MAX_TEXT_CHARS]
        values[field] = _text(value, field, key or field)
    if not values["title"] and not values["body"]:
        raise BadInput("has neither title nor body")
    title = _cut(" ".join(values["title"].split()), limits.MAX_TITLE_CHARS, "title", warnings, sizes.get("title"))
    body = _cut(values["body"], limits.MAX_TEXT_CHARS, "body", warnings, sizes.get("body"))
    for field in ("source", "url", "lang", "author", "id"):
        values[field] = _cut(values[field], limits.MAX_TITLE_CHARS, field, warnings, sizes.get(field))
    published = None
    key, value = _pick(record, lowered, "published", overrides)
    if value not in (None, ""):
        try:
            published = _date(value, key, as_of)
        except BadInput as exc:
            warnings.append(f"{exc}: kept without a date")
        else:
            if isinstance(value, str) and (doubt := dates.ambiguity(value)):
                warnings.append(doubt)
    article = Article(
        title=title,
        body=body,
        source=values["source"],
        published=published,
        url=values["url"] or None,
        lang=values["lang"].lower() or None,
        author=values["author"] or None,
        native_id=values["id"] or None,
    )
    return Mapped(article, tuple(warnings))
