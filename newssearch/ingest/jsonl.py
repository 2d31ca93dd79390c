"""Reader for the JSON corpus format: one article object per line, or one JSON array.

Keys: ``id, title, body, source, date, lang, url`` (``author`` when known; other keys are
ignored). ``title``, ``url`` and ``date`` may be null. Files may be gzip'd (``.gz``).
Each bad record becomes a Rejected naming its line, and reading goes on.
"""
from __future__ import annotations

import gzip
import json
import zlib
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Iterator, Optional, Union

from ..dates import parse_datetime
from ..errors import BadInput
from ..model import Article, Rejected

__all__ = ["read_jsonl", "record_to_article"]

_TEXT_KEYS = ("title", "body", "source", "lang", "url", "author")


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    if value is None:
        return ""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)  # several authors
    if not isinstance(value, str):
        raise BadInput(f"{key} is {type(value).__name__}, not text")
    return value.strip()


def record_to_article(record: Any, *, as_of: Optional[datetime] = None) -> Article:
    """One decoded JSON record as an Article; BadInput says why when it cannot be one.

    A date with no zone is UTC; a relative date ("2 hours ago") is resolved against *as_of*.
    """
    if not isinstance(record, dict):
        raise BadInput(f"not a JSON object but {type(record).__name__}")
    title, body, source, lang, url, author = (_text(record, k) for k in _TEXT_KEYS)
    if not title and not body:
        raise BadInput("has neither title nor body")
    date = record.get("date")
    published = None if date in (None, "") else parse_datetime(str(date), now=as_of)
    native_id = record.get("id")
    return Article(
        title=title,
        body=body,
        source=source,
        published=published,
        url=url or None,
        lang=lang.lower() or None,
        author=author or None,
        native_id=None if native_id in (None, "") else str(native_id),
    )


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def _read_lines(name: str, stream: IO[bytes], as_of: Optional[datetime]) -> Iterator[Union[Article, Rejected]]:
    number = 0
    try:
        for number, raw in enumerate(stream, 1):
            # decoded line by line so that one bad byte costs one record, not the file
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
                if not line:
                    continue
                yield record_to_article(json.loads(line), as_of=as_of)
            except UnicodeDecodeError as exc:
                yield Rejected(name, number, f"not UTF-8 ({exc.reason} at byte {exc.start})")
            except json.JSONDecodeError as exc:
                yield Rejected(name, number, f"not valid JSON ({exc.msg}, column {exc.colno})")
            except BadInput as exc:
                yield Rejected(name, number, str(exc))
            except RecursionError:
                yield Rejected(name, number, "JSON nested too deeply")
    except (OSError, EOFError, zlib.error) as exc:
        # a truncated or corrupt gzip stream: keep what was read, report where it broke
        yield Rejected(name, number + 1, f"cannot read further: {exc}")


def _read_array(name: str, stream: IO[bytes], as_of: Optional[datetime]) -> Iterator[Union[Article, Rejected]]:
    try:
        items = json.loads(stream.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        yield Rejected(name, getattr(exc, "lineno", None), f"not a valid JSON array: {exc}")
        return
    if not isinstance(items, list):
        items = [items]
    for index, item in enumerate(items, 1):
        try:
            yield record_to_article(item, as_of=as_of)
        except BadInput as exc:
            # line numbers of array items are unknown; name the item instead
            yield Rejected(name, None, f"item {index}: {exc}")


def read_jsonl(path: Union[str, Path], *, as_of: Optional[datetime] = None) -> Iterator[Union[Article, Rejected]]:
    """Read a ``.jsonl``/``.jsonl.gz`` file (or a ``.json`` array) into Articles and Rejecteds.

    Rejected lines carry their 1-based line number; blank lines are skipped. A file whose
    first non-blank character is ``[`` is read as one JSON array. A file that cannot be
    opened gives a single Rejected.
    """
    name = str(path)
    try:
        with _open(Path(path)) as stream:
            head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
            is_array = head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[")
            reader = _read_array if is_array else _read_lines
            yield from reader(name, stream, as_of)
    except (OSError, EOFError, zlib.error) as exc:
        yield Rejected(name, None, f"cannot read: {getattr(exc, 'strerror', None) or exc}")
