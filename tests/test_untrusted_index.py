"""An index directory someone else made never runs code: every pickle is read restricted.

A Whoosh index keeps pickles on disk (the table of contents, each segment's directory,
posting blocks, stored fields...). These tests take a real index, plant in it pickles
whose reduce would create a marker file (``os.system``, ``builtins.exec``, ``io.open``,
``subprocess``), and check that the CLI and the library refuse them with one clear
error, and that the marker never appears. The attack payloads are written here, by hand.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Tuple

import pytest
from click.testing import CliRunner

import newssearch
from newssearch.cli import main
from newssearch.errors import NewsSearchError, UntrustedIndex

MARKER = "PWNED"
"""Every payload creates this file in the working directory (each test runs in its tmp_path)."""

ARTICLES = [
    {
        "id": f"u-{i}",
        "title": title,
        "body": body,
        "source": source,
        "date": f"2025-0{i + 1}-1{i}T08:00:00+00:00",
        "lang": "en",
        "url": f"https://news.example.com/u/{i}",
    }
    for i, (title, body, source) in enumerate(
        [
            ("Army officers announce a coup in the capital", "Soldiers said on state television that the coup "
             "had removed the president; the airport was closed and a curfew declared.", "Desert Wire"),
            ("Harbour ferries return after the storm", "The ferries sailed again on Monday after three days "
             "in port; the coup of the weather was short, the harbour master said.", "Coast Daily"),
            ("Council votes on night buses", "Night buses will run through the harbour district from May.",
             "Coast Daily"),
            ("Grain prices fall on good harvest", "Wheat and barley prices fell for a second week as the "
             "harvest came in early and large.", "Market Ledger"),
        ]
    )
]


# ---------------------------------------------------------------- payloads


class _Reduce:
    """Pickles as a call of *func* with *args* (what an attacker writes with __reduce__)."""

    def __init__(self, func: Callable, *args: object) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payloads() -> Dict[str, Tuple[bytes, str]]:
    """name -> (pickle whose unpickling creates MARKER in the working directory, the
    global it asks for as the error must name it)."""
    return {
        # hand-written protocol 0: GLOBAL 'os system', then call it
        "os.system": (b"cos\nsystem\n(S'touch " + MARKER.encode() + b"'\ntR.", "os.system"),
        # os.system as pickle itself names it (posix.system), protocol 2
        "posix.system": (pickle.dumps(_Reduce(os.system, f"touch {MARKER}"), 2), f"{os.system.__module__}.system"),
        # STACK_GLOBAL (protocol 4+) for builtins.exec of a whole program
        "builtins.exec": (pickle.dumps(_Reduce(exec, f"open({MARKER!r}, 'w').close()"), 4), "builtins.exec"),
        # builtins.open is io.open; the call alone makes the file
        "io.open": (pickle.dumps(_Reduce(open, MARKER, "w"), 3), f"{open.__module__}.open"),
        "subprocess.call": (pickle.dumps(_Reduce(subprocess.call, ["touch", MARKER]), 2), "subprocess.call"),
        # the evil call nested deep inside data that looks like an index's own
        "nested": (
            pickle.dumps([{"o": (1, [_Reduce(os.system, f"touch {MARKER}")])}], 4),
            f"{os.system.__module__}.system",
        ),
    }


PAYLOAD_NAMES = list(payloads())


def test_payloads_are_live(tmp_path):
    """Plain pickle runs every payload: the tests below refuse real attacks."""
    for name, (data, _asked) in payloads().items():
        code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"
        subprocess.run([sys.executable, "-c", code], input=data, cwd=tmp_path, check=False, capture_output=True)
        assert (tmp_path / MARKER).exists(), name
        (tmp_path / MARKER).unlink()


# ---------------------------------------------------------------- a real index, and where its pickles are


@pytest.fixture()
def built(tmp_path, monkeypatch) -> Path:
    """A real index in tmp_path/ix (four articles); the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "articles.jsonl"
    data.write_text("".join(json.dumps(a) + "\n" for a in ARTICLES), encoding="utf-8")
    res = CliRunner().invoke(main, ["index", str(data), "--index", str(tmp_path / "ix")])
    assert res.exit_code == 0, res.output
    return tmp_path / "ix"


def live_dir(root: Path) -> Path:
    return root / (root / "CURRENT").read_text(encoding="utf-8").strip()


def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    """Whoosh's varint at *pos*: (value, position after it)."""
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def toc_parts(toc: bytes) -> Tuple[bytes, bytes, bytes, bytes]:
    """(header, schema pickle, generation + unused ints, segment list pickle) of a TOC."""
    pos = 0
    for _ in range(3):  # int, long, float sizes
        _, pos = _varint(toc, pos)
    pos += 8  # -12345 and the TOC version
    for _ in range(3):  # Whoosh's release
        _, pos = _varint(toc, pos)
    header_end = pos
    length, pos = _varint(toc, pos)
    schema = toc[pos : pos + length]
    pos += length
    return toc[:header_end], schema, toc[pos : pos + 8], toc[pos + 8 :]


def _whoosh_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def segment_files(gen: Path) -> List[Path]:
    return sorted(gen.glob("*.seg"))


def seg_directory(seg: bytes) -> Tuple[int, Dict[str, Tuple[int, int]]]:
    """(offset of the directory pickle, {part: (offset, length)}) of a compound segment file.
    Read with plain pickle: this is the test's own, freshly built index."""
    diroffset = struct.unpack("!q", seg[:8])[0]
    directory = pickle.loads(seg[diroffset:])
    return diroffset, {name: (info["offset"], info["length"]) for name, info in directory.items()}


def posting_blocks(seg: bytes, start: int, length: int) -> Iterator[Tuple[int, int, int]]:
    """(offset, length, compression level) of each posting block's data pickle in a .pst part."""
    pos, end = start, start + length
    while pos < end:
        assert seg[pos : pos + 4] == b"W3Bl", "a term's postings start with Whoosh 3's magic"
        pos += 4
        while True:
            blocklength = struct.unpack("!i", seg[pos : pos + 4])[0]
            pos += 4
            header = io.BytesIO(seg[pos : pos + abs(blocklength)])
            info = pickle.load(header)  # the block header: (count, last id, max weight, compression, ...)
            data_at, data_len = pos + header.tell(), abs(blocklength) - header.tell()
            yield data_at, data_len, info[3]
            pos += abs(blocklength)
            if blocklength < 0:  # the term's last block
                break


def stored_values(seg: bytes, start: int, length: int) -> Iterator[Tuple[int, int]]:
    """(offset, length) of each zlib stream in a per-document part that holds a pickled dict
    with a title: the stored fields of one article."""
    part = seg[start : start + length]
    at = 0
    while True:
        at = part.find(b"x", at)
        if at < 0:
            return
        d = zlib.decompressobj()
        try:
            raw = d.decompress(part[at:])
        except zlib.error:
            at += 1
            continue
        if d.eof and raw.startswith(b"\x80\x02}") and b"title" in raw:
            used = len(part) - at - len(d.unused_data)
            yield start + at, used
            at += used
        else:
            at += 1


def _fit(payload: bytes, room: int, compressed: bool) -> bytes:
    """*payload* in exactly *room* bytes (the unpickler stops at STOP and zlib at its end)."""
    data = zlib.compress(payload, 9) if compressed else payload
    assert len(data) <= room, f"payload of {len(data)} bytes does not fit {room}"
    return data + b"\0" * (room - len(data))


# ---------------------------------------------------------------- planting


def plant_toc_segments(root: Path, payload: bytes) -> str:
    """The TOC's segment list is the payload; returns the planted file's name."""
    toc = sorted(live_dir(root).glob("_MAIN_*.toc"))[-1]
    header, schema, ints, _segments = toc_parts(toc.read_bytes())
    toc.write_bytes(header + _whoosh_varint(len(schema)) + schema + ints + payload)
    return toc.name


def plant_toc_schema(root: Path, payload: bytes) -> str:
    """The TOC's pickled schema is the payload (Whoosh unpickles it to see the index exists)."""
    toc = sorted(live_dir(root).glob("_MAIN_*.toc"))[-1]
    header, _schema, ints, segments = toc_parts(toc.read_bytes())
    toc.write_bytes(header + _whoosh_varint(len(payload)) + payload + ints + segments)
    return toc.name


def plant_seg_directory(root: Path, payload: bytes) -> str:
    """The segment file's own directory (read when a reader opens it) is the payload."""
    seg = segment_files(live_dir(root))[0]
    raw = seg.read_bytes()
    diroffset, _ = seg_directory(raw)
    seg.write_bytes(raw[:diroffset] + payload)
    return seg.name


def plant_postings(root: Path, payload: bytes) -> str:
    """Every posting block's data (read lazily, when a query needs a term) is the payload."""
    seg = segment_files(live_dir(root))[0]
    raw = bytearray(seg.read_bytes())
    _, parts = seg_directory(bytes(raw))
    (pst,) = [name for name in parts if name.endswith(".pst")]
    planted = 0
    for at, room, comp in list(posting_blocks(bytes(raw), *parts[pst])):
        raw[at : at + room] = _fit(payload, room, bool(comp))
        planted += 1
    assert planted
    seg.write_bytes(bytes(raw))
    return seg.name


def plant_stored(root: Path, payload: bytes) -> str:
    """Every article's stored fields (read for the hits shown) are the payload."""
    seg = segment_files(live_dir(root))[0]
    raw = bytearray(seg.read_bytes())
    _, parts = seg_directory(bytes(raw))
    planted = 0
    (stored,) = [name for name in parts if name.endswith("._stored.col")]
    for at, room in list(stored_values(bytes(raw), *parts[stored])):
        raw[at : at + room] = _fit(payload, room, True)
        planted += 1
    assert planted == len(ARTICLES)
    seg.write_bytes(bytes(raw))
    return seg.name


PLANTS = {
    "toc-segments": plant_toc_segments,
    "toc-schema": plant_toc_schema,
    "seg-directory": plant_seg_directory,
    "postings": plant_postings,
    "stored": plant_stored,
}

READ_ON_OPEN = {"toc-segments", "toc-schema", "seg-directory"}
"""Where opening the index reads the planted pickle, so every command refuses it."""

REFUSED_BY = {
    **{where: {"query", "stats", "generations"} for where in READ_ON_OPEN},
    # read only when needed: a query's terms, the hits shown; stats reads both (sources,
    # newest article), generations neither, and lists them (nothing planted is unpickled)
    "postings": {"query", "stats"},
    "stored": {"query", "stats"},
}


# ---------------------------------------------------------------- the CLI


def _check_refusal(res, asked: str, planted: str) -> None:
    assert res.exit_code == 1, (res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert line.startswith("error: ") and "Traceback" not in res.stderr
    assert f"asks for {asked}" in line and "refused (not an index newssearch wrote)" in line, line
    assert "index at " in line, line


@pytest.mark.parametrize("where", list(PLANTS))
@pytest.mark.parametrize("payload", PAYLOAD_NAMES)
def test_cli_refuses_planted_pickle(built, where, payload):
    data, asked = payloads()[payload]
    planted = PLANTS[where](built, data)
    runner = CliRunner()
    for args in (["query", "--index", str(built), "coup"], ["stats", "--index", str(built)],
                 ["generations", "--index", str(built)]):
        res = runner.invoke(main, args)
        assert not Path(MARKER).exists(), (where, payload, args)
        if args[0] in REFUSED_BY[where]:
            _check_refusal(res, asked, planted)
            if where in READ_ON_OPEN:
                assert f"in {planted}" in res.stderr, res.stderr  # names the file that held it
            else:  # read lazily, where Whoosh knows no file: the index directory
                assert f"index at {live_dir(built).resolve()} " in res.stderr, res.stderr
        else:
            assert res.exit_code == 0, res.output


@pytest.mark.parametrize("where", list(PLANTS))
def test_cli_process_refuses_planted_pickle(built, where):
    """The real command line, in its own process: one line on stderr, no traceback, exit 1."""
    data, asked = payloads()["os.system"]
    PLANTS[where](built, data)
    proc = subprocess.run([sys.executable, "-m", "newssearch", "query", "--index", str(built), "coup"],
                          capture_output=True, text=True, cwd=built.parent, timeout=120)
    assert not (built.parent / MARKER).exists()
    assert proc.returncode == 1, proc
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: index at "), proc.stderr
    assert "asks for os.system" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_plain_whoosh_would_run_the_planted_toc(built):
    """Without newssearch's unpickler, Whoosh itself runs the planted TOC: the attack is real."""
    data, _ = payloads()["os.system"]
    plant_toc_schema(built, data)
    code = "import sys; from whoosh import index; index.open_dir(sys.argv[1], indexname='MAIN')"
    subprocess.run([sys.executable, "-c", code, str(live_dir(built))], cwd=built.parent, capture_output=True,
                   timeout=120)
    assert (built.parent / MARKER).exists()


# ---------------------------------------------------------------- the library


@pytest.mark.parametrize("where", list(PLANTS))
@pytest.mark.parametrize("payload", ["os.system", "builtins.exec", "io.open"])
def test_library_refuses_planted_pickle(built, where, payload):
    data, asked = payloads()[payload]
    PLANTS[where](built, data)
    with pytest.raises(UntrustedIndex) as caught:
        with newssearch.open_index(built) as ix:
            ix.search("coup")
    assert not Path(MARKER).exists()
    exc = caught.value
    assert isinstance(exc, NewsSearchError)
    assert exc.asked == asked
    assert f"asks for {asked}" in str(exc) and "\n" not in str(exc)


def test_writing_to_a_planted_index_is_refused(built):
    """Adding to a planted index reads it too (clone, deletes, merges): refused as well."""
    data, _ = payloads()["os.system"]
    plant_toc_segments(built, data)
    res = CliRunner().invoke(main, ["index", str(built.parent / "articles.jsonl"), "--index", str(built)])
    assert not Path(MARKER).exists()
    assert res.exit_code == 1 and "asks for os.system" in res.stderr, res.output


def test_untouched_index_still_opens_and_searches(built):
    with newssearch.open_index(built) as ix:
        results = ix.search("coup")
        assert results.total == 2
        assert results.hits[0].title.startswith("Army officers")
        assert ix.get(results.hits[0].id).body.startswith("Soldiers said")
        assert ix.stats().articles == len(ARTICLES)


# ---------------------------------------------------------------- the unpickler itself


def test_restricted_loads_refuses_every_way_of_naming_a_global(tmp_path, monkeypatch):
    from newssearch.engine.whoosh import safepickle

    monkeypatch.chdir(tmp_path)
    for name, (data, asked) in payloads().items():
        with pytest.raises(UntrustedIndex) as caught:
            safepickle.loads(data)
        assert caught.value.asked == asked, name
        with pytest.raises(UntrustedIndex):
            safepickle.load(io.BytesIO(data))
    # INST (protocol 0) and an extension code (copyreg's registry) look globals up too
    with pytest.raises(UntrustedIndex):
        safepickle.loads(b"(S'touch " + MARKER.encode() + b"'\nios\nsystem\n.")
    import copyreg

    copyreg.add_extension("os", "system", 0xBEEF)
    try:
        with pytest.raises(UntrustedIndex):
            cmd = f"touch {MARKER}".encode()
            safepickle.loads(b"\x80\x02\x83\xef\xbeX" + struct.pack("<I", len(cmd)) + cmd + b"\x85R.")
    finally:
        copyreg.remove_extension("os", "system", 0xBEEF)
    assert not (tmp_path / MARKER).exists()


def test_refusal_names_are_one_printable_line():
    from newssearch.engine.whoosh import safepickle

    with pytest.raises(UntrustedIndex) as caught:
        safepickle.loads(b"\x80\x04\x8c\x0fos\nerror: fake!\x94\x8c\x06system\x94\x93.")
    message = str(caught.value)
    assert "\n" not in message and "refused" in message


def test_restricted_loads_keeps_plain_data_and_allowed_globals():
    from array import array

    from newssearch.engine.whoosh import safepickle
    from newssearch.engine.whoosh.codec import PackedPositions

    plain = [(1, 2.5, "c i \x93", b"ci\x82\x83\x84\x93", None, {"k": (True, [3, -7, 2**70])})]
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        assert safepickle.loads(pickle.dumps(plain, proto)) == plain
    block = (array("B", [1, 2]), array("f", [0.5, 1.0]), PackedPositions(array("B", [1, 2]), array("H", [4, 1, 2])))
    for proto in (2, 3, 5):
        ids, weights, positions = safepickle.loads(pickle.dumps(block, proto))
        assert ids == block[0] and weights == block[1] and list(positions) == list(block[2])


def test_every_whoosh_pickle_reader_is_restricted():
    """No Whoosh module the wing loads still holds pickle's own load or loads."""
    import pickle as std

    import newssearch.engine.whoosh  # noqa: F401 - installs the unpickler
    from newssearch.engine.whoosh import safepickle

    raw = {id(std.load), id(std.loads), id(std.Unpickler), id(std)}
    import _pickle

    raw |= {id(_pickle.load), id(_pickle.loads), id(_pickle.Unpickler)}
    # whoosh.util.loading: the module RenamingUnpickler subclasses from, a class whoosh.legacy
    # no longer reaches
    exempt = {"whoosh.util.loading"}
    left = [
        f"{name}.{attr}"
        for name, module in list(sys.modules.items())
        if (name == "whoosh" or name.startswith("whoosh.")) and name not in exempt and module is not None
        for attr, value in list(vars(module).items())
        if id(value) in raw
    ]
    assert not left, left
    from whoosh.filedb.structfile import StructFile

    assert StructFile.read_pickle is safepickle._read_pickle


def test_bytes_in_protocol_2_pickles_decode_as_latin1_only():
    from newssearch.engine.whoosh import safepickle

    assert safepickle.loads(pickle.dumps(b"\x00\xffraw", 2)) == b"\x00\xffraw"  # _codecs.encode(..., "latin1")
    rot13 = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x05\x00\x00\x00rot13\x86R."
    with pytest.raises(UntrustedIndex, match="asks for _codecs.encode with rot13"):
        safepickle.loads(rot13)


def test_a_global_cut_by_the_read_window_still_reads():
    """Segment parts unpickle from a 512-byte window first: a pickle the window cuts in a
    global's name reads whole (the cut name is truncated data, never a shorter name)."""
    from array import array

    from newssearch.engine.whoosh.store import _MappedFile

    for pad in range(470, 520):
        value = (b"x" * pad, array("B", [1, 2]))
        data = pickle.dumps(value, 3) + b"after"
        f = _MappedFile(memoryview(data), name="part")
        assert f.read_pickle() == value, pad
        assert f.file.read() == b"after"
