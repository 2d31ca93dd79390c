"""Limits that keep hostile or broken input from costing more than it is worth.

Each is a module constant so the README can name it and a caller (or a test) can
change it; readers look them up at call time. Going past one is a Rejected (or, for
an article's text, a truncation with a warning), never an exception.
"""
from __future__ import annotations

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
"""Largest body read from one http(s) URL; a bigger one is refused."""

MAX_DECOMPRESSED_BYTES = 1024 * 1024 * 1024
"""Largest size one ``.gz`` input may unpack to; past it the rest is refused (a gzip bomb
stops here rather than filling memory or disk)."""

MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
"""Largest whole document (JSON array, CSV, feed, HTML page, text file) held in memory
at once. JSON lines are read a line at a time and are bounded by MAX_RECORD_BYTES."""

MAX_PAGE_BYTES = 16 * 1024 * 1024
"""Largest HTML page given to the main-text extractor (~1 s a MiB); real article pages,
scripts included, are a few MiB at most."""

MAX_RECORD_BYTES = 128 * 1024 * 1024
"""Longest single JSON line; longer lines are rejected, not read into memory."""

MAX_TEXT_CHARS = 1_000_000
"""Longest article body kept (characters); a longer one is cut here, with a warning."""

MAX_TITLE_CHARS = 2_000
"""Longest title kept (characters); a longer one is cut here, with a warning."""

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays/objects accepted in one JSON document or line."""

FETCH_TIMEOUT = 30.0
"""Seconds to wait for a server to connect or send more data."""

MAX_REDIRECTS = 5
"""Redirects followed for one URL."""

FETCH_DEADLINE = 120.0
"""Seconds one URL may take in all (connecting, redirects, headers and body); a server that
drips its answer a byte at a time is cut off here even though each read is within
FETCH_TIMEOUT."""

MAX_BAD_IN_A_ROW = 10_000
"""Rejected records in a row, with no good one between, after which the rest of a file is
skipped with one more Rejected saying so: a file of garbage lines costs a bounded time and
a bounded report. Blank lines are skipped, not counted."""

MAX_CSV_COLUMNS = 10_000
"""Most columns a CSV/TSV header may have; a wider file is refused (each row would cost a
mapping of every column: 10^6 columns are ~100 MB a row)."""
