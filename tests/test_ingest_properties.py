"""Properties: no reader lets an exception out, whatever the bytes, JSON or CSV.

Kept to a modest example count so the default run stays quick; set
NEWSSEARCH_FUZZ_EXAMPLES (e.g. 2000) to hunt harder.
"""
from __future__ import annotations

import csv
import io
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newssearch.ingest import READERS, read_paths
from newssearch.ingest.source import open_bytes
from newssearch.model import Article, IngestWarning, Rejected

RECORD_TYPES = (Article, Rejected, IngestWarning)
FAST = settings(max_examples=int(os.environ.get("NEWSSEARCH_FUZZ_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_all_formats(data: bytes) -> list:
    """Every reader over *data*, plus detection: what a user forcing any --format would get."""
    out = list(read_paths(["-"], stdin=io.BytesIO(data)))  # detection from content
    for fmt in sorted(READERS):
        with open_bytes("fuzz", data, hint="fuzz") as inp:
            out.extend(READERS[fmt](inp))
    return out


@FAST
@given(st.binary(max_size=400))
def test_random_bytes_never_raise_from_any_reader(data: bytes) -> None:
    for record in read_all_formats(data):
        assert isinstance(record, RECORD_TYPES)


@FAST
@given(st.sampled_from([b"<?xml version='1.0'?><rss><channel><item><title>", b"<html><head><title>",
                        b'{"articles": [', b"title,body\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x1f\x8b"]),
       st.binary(max_size=200))
def test_plausible_starts_with_random_tails_never_raise(start: bytes, tail: bytes) -> None:
    for record in read_all_formats(start + tail):
        assert isinstance(record, RECORD_TYPES)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["title", "body", "date", "source", "url", "authors", "articles",
                                       "publishedAt", "id", "x"]) | st.text(max_size=5), children, max_size=5),
    max_leaves=20,
)


@FAST
@given(st.lists(JSON, min_size=1, max_size=5))
def test_random_json_never_raises(values: list) -> None:
    as_lines = "\n".join(json.dumps(v) for v in values).encode()
    as_doc = json.dumps(values).encode()
    for data in (as_lines, as_doc):
        for fmt in ("json", "jsonl"):
            with open_bytes("fuzz.json", data) as inp:
                for record in READERS[fmt](inp):
                    assert isinstance(record, RECORD_TYPES)


CELL = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=15)


@FAST
@given(st.lists(st.lists(CELL, max_size=5), max_size=6), st.sampled_from([",", ";", "\t"]))
def test_random_csv_never_raises(rows: list, delimiter: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows([["title", "body", "date"], *rows])
    for fmt in ("csv", "tsv"):
        with open_bytes("fuzz.csv", buffer.getvalue().encode("utf-8")) as inp:
            records = list(READERS[fmt](inp))
        assert all(isinstance(r, RECORD_TYPES) for r in records)
        if fmt == "csv":
            # every non-blank data row is accounted for: one article or one reject
            data_rows = [r for r in rows if any(c.replace("\x00", "").strip() for c in r)]
            assert len([r for r in records if not isinstance(r, IngestWarning)]) == len(data_rows)
