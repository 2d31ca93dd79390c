"""Hostile files for ``newssearch index``: FIFOs, sockets and devices, unreadable and
looping trees, gzip bombs, a gigabyte of blank lines, one enormous line, broken
encodings, absurdly wide CSV, oversized pages, XML entity tricks and lone surrogates.

Each one is bounded in time (hang-prone cases run the CLI in a subprocess with a timeout)
and, where memory is the risk, in peak RSS, which the child process reports itself. All
data is written here, at run time, into tmp_path."""
from __future__ import annotations

import errno
import gzip
import json
import os
import re
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple, Optional

import pytest
from click.testing import CliRunner

import newssearch

from newssearch.cli import main
from newssearch.ingest import limits, read_path, read_paths
from newssearch.model import Article, IngestWarning, Rejected

from .ingest_fixtures import RSS

GOOD = json.dumps({"title": "Good record", "body": "Kept whatever its neighbours do."})
GOOD2 = json.dumps({"title": "Second good record", "body": "Kept as well."})
MIB = 1024 * 1024
SUMMARY = re.compile(r"^added (\d+), updated (\d+), unchanged (\d+), rejected (\d+) in \d+\.\ds$", re.M)

# the CLI in a child process that sets limits from $HOSTILE_LIMITS and reports its own peak RSS
CHILD = r"""
import json, os, resource, sys
from newssearch.ingest import limits
for name, value in json.loads(os.environ.get("HOSTILE_LIMITS") or "{}").items():
    setattr(limits, name, value)
from newssearch.cli import main
try:
    main(sys.argv[1:], prog_name="newssearch")
    code = 0
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
try:  # VmHWM: the high-water mark of this program only (ru_maxrss keeps the parent's across exec)
    with open("/proc/self/status") as status:
        peak = int(next(line for line in status if line.startswith("VmHWM:")).split()[1])
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sys.stderr.flush()
sys.stderr.write("\npeak-rss-kib=%d\n" % peak)
sys.exit(code)
"""


class Ran(NamedTuple):
    code: int
    stdout: str
    stderr: str
    peak_mib: float
    seconds: float


def cli(*args: str, cwd: Path, timeout: float = 60, limits_: Optional[dict] = None) -> Ran:
    """Run ``newssearch ARGS`` in a child; a hang fails the test at *timeout* instead of never ending."""
    here = str(Path(newssearch.__file__).resolve().parents[1])  # the child runs the code under test
    env = {**os.environ, "HOSTILE_LIMITS": json.dumps(limits_ or {}), "PYTHONIOENCODING": "utf-8",
           "PYTHONPATH": os.pathsep.join([here, os.environ.get("PYTHONPATH", "")])}
    start = time.monotonic()
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=cwd, env=env, capture_output=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"newssearch {' '.join(args)} still running after {timeout} s: it hangs")
    seconds = time.monotonic() - start
    stderr = done.stderr.decode("utf-8")
    match = re.search(r"\npeak-rss-kib=(\d+)\n$", stderr)
    assert match, stderr
    return Ran(done.returncode, done.stdout.decode("utf-8"), stderr[: match.start()], int(match.group(1)) / 1024, seconds)


def summary(stderr: str) -> tuple[int, ...]:
    found = SUMMARY.findall(stderr)
    assert found, stderr
    return tuple(int(g) for g in found[-1])


def rejected_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("rejected: ")]


def split(records: list) -> tuple[list, list, list]:
    return ([r for r in records if isinstance(r, Article)], [r for r in records if isinstance(r, Rejected)],
            [r for r in records if isinstance(r, IngestWarning)])


def members(*parts: tuple[bytes, int]) -> bytes:
    """A multi-member gzip file: each (chunk, times) compressed once and repeated, so a
    gigabyte of input costs a few KiB and a few milliseconds to make."""
    return b"".join(gzip.compress(chunk, 6) * times for chunk, times in parts)


# ---------------------------------------------------------------- 1. FIFOs, sockets, devices


def test_fifo_socket_and_device_are_rejected_not_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "good.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    os.mkfifo(inbox / "pipe.jsonl")
    monkeypatch.chdir(tmp_path)  # a relative socket path: AF_UNIX paths are short
    listener = socket.socket(socket.AF_UNIX)
    listener.bind("in/sock.jsonl")
    try:
        ran = cli("index", "in", "in/pipe.jsonl", "/dev/zero", "--index", "ix", "--format", "jsonl",
                  cwd=tmp_path, timeout=60)
    finally:
        listener.close()
    assert ran.code == 3, ran.stderr  # partial: the good record is indexed
    assert rejected_lines(ran.stderr) == [
        "rejected: in/pipe.jsonl: not a regular file but a named pipe (FIFO): skipped",
        "rejected: in/sock.jsonl: not a regular file but a socket: skipped",
        "rejected: in/pipe.jsonl: not a regular file but a named pipe (FIFO): skipped",
        "rejected: /dev/zero: not a regular file but a character device: skipped",
    ]
    assert summary(ran.stderr) == (1, 0, 0, 4)
    assert ran.seconds < 30


def test_a_fifo_is_never_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    (tmp_path / "good.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    opened: list[str] = []
    real_open = os.open

    def spy(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(read_paths([tmp_path, fifo])), daemon=True)
    reader.start()
    reader.join(20)
    if reader.is_alive():  # it blocked in open(): let it go (a writer that closes at once), then fail
        os.close(real_open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading blocked on the FIFO")
    good, bad, _ = split(found)
    assert [a.title for a in good] == ["Good record"]
    assert [(r.file, r.reason) for r in bad] == [(str(fifo), "not a regular file but a named pipe (FIFO): skipped")] * 2
    assert str(fifo) not in opened


# ---------------------------------------------------------------- 2. unreadable directories and files


def _tree(root: Path) -> tuple[Path, Path]:
    (root / "ok").mkdir(parents=True)
    (root / "locked").mkdir()
    (root / "a.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    (root / "ok" / "b.jsonl").write_text(json.dumps({"title": "Second good", "body": "Also kept."}) + "\n",
                                         encoding="utf-8")
    (root / "locked" / "hidden.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    secret = root / "secret.jsonl"
    secret.write_text(GOOD + "\n", encoding="utf-8")
    return root / "locked", secret


def _check_unreadable_report(result, locked: Path, secret: Path) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 3, result.output
    assert sorted(rejected_lines(result.stderr)) == sorted([
        f"rejected: {locked}: cannot read directory: Permission denied",
        f"rejected: {secret}: cannot read: Permission denied",
    ])
    assert summary(result.stderr)[0] == 2  # a.jsonl and ok/b.jsonl


def test_unreadable_directory_and_file_are_reported(tmp_path: Path) -> None:
    locked, secret = _tree(tmp_path / "tree")
    locked.chmod(0)
    secret.chmod(0)
    try:
        if os.access(locked, os.R_OK) or os.access(secret, os.R_OK):
            pytest.skip(f"running as uid {os.geteuid()}: chmod 000 does not stop this user reading, so the "
                        "permission errors are simulated in test_unreadable_paths_simulated instead")
        result = CliRunner().invoke(main, ["index", str(tmp_path / "tree"), "--index", str(tmp_path / "ix")])
        _check_unreadable_report(result, locked, secret)
    finally:
        locked.chmod(stat.S_IRWXU)
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_unreadable_paths_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above for any user (root reads through chmod 000): listing the folder
    and opening the file fail with EACCES, as they would for anyone else."""
    locked, secret = _tree(tmp_path / "tree")
    real_scandir, real_open = os.scandir, os.open

    def named(path: object, target: Path) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.fspath(path) == str(target)

    def scandir(path="."):  # type: ignore[no-untyped-def]
        if named(path, locked):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_scandir(path)

    def open_(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if named(path, secret):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)
    result = CliRunner().invoke(main, ["index", str(tmp_path / "tree"), "--index", str(tmp_path / "ix")])
    _check_unreadable_report(result, locked, secret)


# ---------------------------------------------------------------- 3. symbolic link loops


def test_symlink_loops_end_and_are_reported_once(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "good.jsonl").write_text(GOOD + "\n", encoding="utf-8")
    os.symlink("b.jsonl", tree / "a.jsonl")  # a -> b -> a
    os.symlink("a.jsonl", tree / "b.jsonl")
    os.symlink("..", tree / "sub" / "up")  # a directory link to its parent
    os.symlink(".", tree / "self")
    os.symlink("nowhere.jsonl", tree / "dangling.jsonl")
    os.symlink("loop", tmp_path / "loop")  # named outright: a link to itself
    ran = cli("index", "tree", "loop", "--index", "ix", cwd=tmp_path, timeout=60)
    assert ran.code == 3, ran.stderr
    assert rejected_lines(ran.stderr) == [
        "rejected: tree/a.jsonl: symbolic link loop (too many levels of links): skipped",
        "rejected: tree/b.jsonl: symbolic link loop (too many levels of links): skipped",
        "rejected: tree/dangling.jsonl: broken symbolic link (its target does not exist)",
        "rejected: loop: symbolic link loop (too many levels of links): skipped",
    ]
    warnings = [line for line in ran.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: tree/self: symbolic link to a directory: not followed (name it to read it)",
        "warning: tree/sub/up: symbolic link to a directory: not followed (name it to read it)",
    ]
    assert summary(ran.stderr) == (1, 0, 0, 4)
    assert ran.seconds < 30


# ---------------------------------------------------------------- 4. gzip bombs


def test_gzip_bomb_keeps_the_records_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", MIB)
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(members(((GOOD + "\n").encode() * 3, 1), (b"\n" * MIB, 64)))  # 64 MiB past 3 records
    assert bomb.stat().st_size < 100_000
    good, bad, _ = split(list(read_path(bomb)))
    assert len(good) == 3
    (only,) = bad
    assert only.reason == ("cannot read further: unpacks to more than MAX_DECOMPRESSED_BYTES (1 MiB): "
                           "refused (a gzip bomb?)")
    assert only.line is not None and only.line > 3


def test_gzip_bomb_at_the_default_limit_is_bounded(tmp_path: Path) -> None:
    """The real MAX_DECOMPRESSED_BYTES (1 GiB): a 1 MiB file unpacking to 1.1 GiB is
    refused after a few seconds, memory flat (it is blank lines: case 5 at full size)."""
    bomb = tmp_path / "bomb.jsonl.gz"
    bomb.write_bytes(members(((GOOD + "\n").encode(), 1), (b"\n" * MIB, 1100)))
    assert bomb.stat().st_size < 2 * MIB
    ran = cli("index", "bomb.jsonl.gz", "--index", "ix", cwd=tmp_path, timeout=120)
    assert ran.code == 3, ran.stderr
    (line,) = rejected_lines(ran.stderr)
    assert "MAX_DECOMPRESSED_BYTES (1,024 MiB): refused (a gzip bomb?)" in line
    assert summary(ran.stderr)[0] == 1
    assert ran.peak_mib < 250, ran.peak_mib
    assert ran.seconds < 40, ran.seconds
    print(f"\n1.1 GiB gzip bomb at default limits: {ran.seconds:.1f} s, peak RSS {ran.peak_mib:.0f} MiB")


# ---------------------------------------------------------------- 5. blank and garbage lines


def test_blank_lines_are_skipped_fast_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "blank.jsonl.gz"
    path.write_bytes(members(((GOOD + "\n").encode(), 1), (b"\n" * MIB, 64), (b" \t\r\n" * (MIB // 4), 64),
                             ((GOOD + "\n{broken\n").encode(), 1)))
    start = time.monotonic()
    good, bad, _ = split(list(read_path(path)))
    took = time.monotonic() - start
    assert len(good) == 2
    blank = 64 * MIB + 64 * MIB // 4  # lines
    assert [(r.line, r.reason.split(" (")[0]) for r in bad] == [(blank + 3, "not valid JSON")]
    assert took < 10, f"128 MiB of blank lines took {took:.1f} s"  # a line at a time: half a minute
    print(f"\n128 MiB of blank lines (gzip'd): {took:.2f} s, {128 / took:.0f} MiB/s")


def test_garbage_lines_stop_after_max_bad_in_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "garbage.jsonl"
    path.write_bytes((GOOD + "\n").encode() + b"x\n" * 2_000_000 + (GOOD + "\n").encode())
    start = time.monotonic()
    good, bad, _ = split(list(read_path(path)))
    assert time.monotonic() - start < 10
    assert len(good) == 1 and len(bad) == limits.MAX_BAD_IN_A_ROW + 1
    assert str(bad[-1]) == f"{path}: {limits.MAX_BAD_IN_A_ROW:,} bad records in a row (MAX_BAD_IN_A_ROW): " \
                           "the rest of the file is skipped"
    # a good record between resets the count: nothing good is lost in a merely messy file
    monkeypatch.setattr(limits, "MAX_BAD_IN_A_ROW", 3)
    messy = tmp_path / "messy.jsonl"
    messy.write_text(("x\nx\n" + GOOD + "\n") * 50, encoding="utf-8")
    good, bad, _ = split(list(read_path(messy)))
    assert len(good) == 50 and len(bad) == 100


# ---------------------------------------------------------------- 6. one huge line, encodings, wide CSV, big pages, XML


def test_a_line_past_max_record_bytes_is_skipped_streaming(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl.gz"
    path.write_bytes(members(((GOOD + "\n" + '{"title": "').encode(), 1), (b"a" * MIB, 256),
                             (('"}\n' + GOOD2 + "\n{broken\n").encode(), 1)))
    ran = cli("index", "long.jsonl.gz", "--index", "ix", cwd=tmp_path, timeout=60,
              limits_={"MAX_RECORD_BYTES": MIB})
    assert ran.code == 3, ran.stderr
    assert [line.split(" (")[0] for line in rejected_lines(ran.stderr)] == [
        "rejected: long.jsonl.gz:2: line longer than MAX_RECORD_BYTES",
        "rejected: long.jsonl.gz:4: not valid JSON",  # the line count is right after the skip
    ]
    assert summary(ran.stderr)[0] == 2
    assert ran.peak_mib < 150, f"peak RSS {ran.peak_mib:.0f} MiB for a 256 MiB line"  # not proportional to it
    print(f"\n256 MiB line, MAX_RECORD_BYTES 1 MiB: {ran.seconds:.1f} s, peak RSS {ran.peak_mib:.0f} MiB")


def test_invalid_utf8_is_kept_as_cp1252_with_a_warning(tmp_path: Path) -> None:
    lines = tmp_path / "mixed.jsonl"
    lines.write_bytes((GOOD + "\n").encode() + b'{"title": "Caf\xe9 cr\xe8me", "body": "Na\xefve \x81text"}\n'
                      + json.dumps({"title": "Caf\u00e9 ok", "body": "UTF-8 line"}).encode() + b"\n")
    good, bad, warned = split(list(read_path(lines)))
    assert not bad and [a.title for a in good] == ["Good record", "Café crème", "Café ok"]
    assert good[1].body == "Naïve text"  # 0x81 is no cp1252 character: latin-1, and the C1 control dropped
    assert [(w.line, w.message) for w in warned] == [(2, "not UTF-8: read as latin-1")]
    table = tmp_path / "mixed.csv"
    table.write_bytes(b"title,body\nGood,Row\nCaf\xe9,Cr\xe8me \x93quoted\x94\n")
    good, bad, warned = split(list(read_path(table)))
    assert not bad and [a.title for a in good] == ["Good", "Café"] and good[1].body == "Crème \u201cquoted\u201d"
    assert [(w.line, w.message) for w in warned] == [(None, "not UTF-8: read as cp1252")]


def test_a_csv_with_a_million_columns_is_refused_fast(tmp_path: Path) -> None:
    wide = tmp_path / "wide.csv"
    n = 1_000_000
    wide.write_text("title,body," + ",".join(f"c{i}" for i in range(n)) + "\n" + "T,B" + ",x" * n + "\n",
                    encoding="utf-8")
    start = time.monotonic()
    (only,) = list(read_path(wide))
    assert time.monotonic() - start < 5
    assert isinstance(only, Rejected) and only.line == 1
    assert only.reason == f"header has {n + 2:,} columns, more than MAX_CSV_COLUMNS ({limits.MAX_CSV_COLUMNS:,}): refused"
    # a million fields in one row under a short header: that row only
    rows = tmp_path / "rows.csv"
    big_field = "w" * (300 * 1024)  # past the csv module's own 128 KiB field limit
    rows.write_text("title,body\nFirst,Row\n" + ",".join("x" for _ in range(n)) + f"\nLast,{big_field}\n",
                    encoding="utf-8")
    start = time.monotonic()
    good, bad, _ = split(list(read_path(rows)))
    assert time.monotonic() - start < 5
    assert [a.title for a in good] == ["First", "Last"] and len(good[1].body) == len(big_field)
    assert [(r.line, r.reason) for r in bad] == [(3, f"has {n} fields, the header has 2")]


def test_a_50_mb_page_is_refused_having_read_only_the_page_limit(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    with page.open("w", encoding="utf-8") as out:
        out.write("<html><head><title>Huge</title></head><body>")
        paragraph = "<p>" + "word " * 200 + "</p>\n"
        for _ in range(50 * MIB // len(paragraph)):
            out.write(paragraph)
        out.write("</body></html>")
    ran = cli("index", "huge.html", "--index", "ix", cwd=tmp_path, timeout=60)
    assert ran.code == 1, ran.stderr  # nothing could be read
    assert rejected_lines(ran.stderr) == [
        f"rejected: huge.html: page larger than MAX_PAGE_BYTES ({limits.MAX_PAGE_BYTES:,} bytes): refused"]
    assert ran.seconds < 20
    assert ran.peak_mib < 85, ran.peak_mib  # 16 MiB read, not 50 (which peaked at ~98 MiB)
    print(f"\n50 MB page: {ran.seconds:.1f} s, peak RSS {ran.peak_mib:.0f} MiB")


SECRET_WORD = "zanzibarquokka"


def _feeds(tmp_path: Path) -> Path:
    """Feeds that try to pull a local file into the index, and a good one."""
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{SECRET_WORD} root:x:0:0 private line\n", encoding="utf-8")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text(f'<!ENTITY secret SYSTEM "{secret.as_uri()}">\n', encoding="utf-8")
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    item = "<item><title>Leak &secret; here</title><description>Body &secret; too</description></item>"
    (feeds / "general.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>\n'
        f'<rss version="2.0"><channel><title>Evil</title>{item}</channel></rss>\n', encoding="utf-8")
    (feeds / "parameter.xml").write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>\n'
        f'<rss version="2.0"><channel><title>Evil</title>{item}</channel></rss>\n', encoding="utf-8")
    (feeds / "external-dtd.xml").write_text(  # no entity declared in the document itself
        f'<?xml version="1.0"?>\n<!DOCTYPE rss SYSTEM "{dtd.as_uri()}">\n'
        f'<rss version="2.0"><channel><title>Evil</title>{item}</channel></rss>\n', encoding="utf-8")
    (feeds / "wide.xml").write_bytes(  # UTF-16 with no BOM: the entity check must see it too
        (f'<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE rss [<!ENTITY secret SYSTEM "{secret.as_uri()}">]>\n'
         f'<rss version="2.0"><channel><title>Evil</title>{item}</channel></rss>\n').encode("utf-16-le"))
    (feeds / "good.xml").write_text(RSS, encoding="utf-8")
    return feeds


def test_xml_external_entities_never_reach_the_index(tmp_path: Path) -> None:
    feeds = _feeds(tmp_path)
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    result = runner.invoke(main, ["index", str(feeds), "--index", ix])
    assert result.exit_code == 3, result.output
    refused = "XML entity declarations are refused (entity expansion or external entities)"
    assert sorted(rejected_lines(result.stderr)) == sorted([
        f"rejected: {feeds / 'general.xml'}:2: {refused}",
        f"rejected: {feeds / 'parameter.xml'}:2: {refused}",
        f"rejected: {feeds / 'good.xml'}:8: has neither title nor body",
        f"rejected: {feeds / 'wide.xml'}: binary file (NUL bytes): not text",
    ])
    forced = runner.invoke(main, ["index", str(feeds / "wide.xml"), "--index", ix, "--format", "feed"])
    assert rejected_lines(forced.stderr) == [f"rejected: {feeds / 'wide.xml'}: {refused}"]
    # the external DTD's item is indexed, its entity unexpanded
    for word, hits in ((SECRET_WORD, 0), ("root", 0), ("private", 0), ("leak", 1), ("pilots", 1)):
        found = runner.invoke(main, ["query", word, "--index", ix, "--json"])
        assert found.exit_code == 0, found.output
        answer = json.loads(found.stdout)
        assert answer["total"] == hits, word
        assert SECRET_WORD not in json.dumps(answer["hits"])


def test_billion_laughs_is_refused_fast_in_little_memory(tmp_path: Path) -> None:
    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    doc = ('<?xml version="1.0"?>\n<!DOCTYPE rss [\n' + "\n".join(laughs) + "\n]>\n"
           '<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title>'
           "<description>&lol9;</description></item></channel></rss>\n")
    (tmp_path / "laughs.rss").write_text(doc, encoding="utf-8")
    (tmp_path / "laughs-16.rss").write_bytes(doc.replace('version="1.0"?>', 'version="1.0" encoding="UTF-16"?>')
                                             .encode("utf-16-le"))
    ran = cli("index", "laughs.rss", "laughs-16.rss", "--index", "ix", "--format", "feed", cwd=tmp_path, timeout=60)
    assert ran.code == 1  # nothing could be read
    assert [line.split(": ", 2)[1:] for line in rejected_lines(ran.stderr)] == [
        ["laughs.rss:3", "XML entity declarations are refused (entity expansion or external entities)"],
        ["laughs-16.rss", "XML entity declarations are refused (entity expansion or external entities)"],
    ]
    assert ran.seconds < 20 and ran.peak_mib < 150, (ran.seconds, ran.peak_mib)


# ---------------------------------------------------------------- 7. lone surrogates and control characters


def test_lone_surrogates_and_controls_are_replaced_so_every_output_prints(tmp_path: Path) -> None:
    """CliRunner writes stdout as strict UTF-8, as a UTF-8 terminal or pipe does: a lone
    surrogate left in stored text would raise UnicodeEncodeError in every format."""
    record = ('{"title": "Harbour \\ud800 strike", "body": "Pilots \\udfff voted\\u0000 to\\u0007 '
              'return\\u001b[31m now", "source": "Wire \\ud83d"}')
    (tmp_path / "odd.jsonl").write_text(record + "\n" + GOOD + "\n", encoding="utf-8")
    runner = CliRunner()
    ix = str(tmp_path / "ix")
    done = runner.invoke(main, ["index", str(tmp_path / "odd.jsonl"), "--index", ix])
    assert done.exit_code == 0 and done.exception is None, done.output
    assert summary(done.stderr) == (2, 0, 0, 0)
    for flag in ([], ["--json"], ["--jsonl"], ["--csv"]):
        out = runner.invoke(main, ["query", "pilots", "--index", ix, *flag])
        assert out.exit_code == 0 and out.exception is None, (flag, out.output)
        assert "Harbour \ufffd strike" in out.stdout and "Wire \ufffd" in out.stdout, flag
        assert not set(out.stdout) & {"\x00", "\x07", "\x1b"}, flag
        if flag == ["--json"]:
            (hit,) = json.loads(out.stdout)["hits"]
            assert hit["title"] == "Harbour \ufffd strike" and hit["source"] == "Wire \ufffd"
            assert "\ufffd voted to return[31m now" in hit["snippet"]
