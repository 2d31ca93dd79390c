"""The tantivy engine's article records beside the index (engine/tantivy/rows.py): every
write adds a file, many files fold into one, generations keep their own, and an index
that lost its records says "rebuild needed" instead of ranking wrongly."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

pytest.importorskip("tantivy", reason="the tantivy engine needs the tantivy package: pip install '.[fast]'")

import newssearch  # noqa: E402
from newssearch import Article  # noqa: E402
from newssearch.cli import main  # noqa: E402
from newssearch.engine.tantivy import rows, writer  # noqa: E402
from newssearch.engine.tantivy.rows import (  # noqa: E402
    RowStore, RowWriter, pack_record, pack_text, unpack_record, unpack_text)
from newssearch.errors import NewsSearchError  # noqa: E402

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def article(i: int, body: str = "") -> Article:
    return Article(id=f"r{i}", title=f"Harbour strike day {i}", body=body or f"Dockworkers walked out, week {i % 3}.",
                   source="Coast Post", published=T0 + timedelta(hours=i), lang="en")


def live_gen(root) -> "object":
    return next(p for p in sorted(root.iterdir()) if p.is_dir() and (p / "rows").is_dir() and
                (root / "CURRENT").read_text().strip() in p.name)


def page(ix, query: str):
    r = ix.search(query, limit=20, collapse=False)
    return r.total, [(h.id, h.snippet) for h in r.hits]


def test_records_round_trip_across_files_and_unknown_rows_read_as_none(tmp_path):
    w = RowWriter(tmp_path, 0)
    text = pack_text("Strike\0 at the port", "Dockworkers — שביתה \udcff " * 50)
    assert w.add(pack_record("a", b'{"x":1}', b"\nstrike 2\n\0\nport 1\n", text)) == 0
    assert w.skip() == 1  # an empty record: a row with nothing
    assert w.add(pack_record("שביתה-3", b"{}", b"", pack_text("", ""))) == 2
    w.commit()
    w2 = RowWriter(tmp_path, 3)
    assert w2.add(pack_record("d", b"{}", b"\nx 1\n\0", pack_text("t", "b"))) == 3
    w2.commit()
    store = RowStore(tmp_path)
    assert store.end == 4
    assert unpack_record(store.record(0)) == ("a", b'{"x":1}', b"\nstrike 2\n\0\nport 1\n", text)
    # the text comes back exactly (a NUL in the title, lone surrogates kept)
    assert unpack_text(text) == ("Strike\0 at the port", "Dockworkers — שביתה \udcff " * 50)
    assert store.record(1) is None
    assert unpack_record(store.record(2))[0] == "שביתה-3" and unpack_text(unpack_record(store.record(2))[3]) == ("", "")
    assert unpack_record(store.record(3))[0] == "d"
    assert store.record(4) is None and store.record(None) is None
    assert not store.holds([0, 1]) and store.holds([0, 2, 3])


def test_an_aborted_write_publishes_no_records(tmp_path):
    w = RowWriter(tmp_path, 0)
    w.add(pack_record("a", b"{}", b"", pack_text("t", "b")))
    w.abort()
    assert list(tmp_path.iterdir()) == [] and RowStore(tmp_path).end == 0


def test_many_writes_fold_into_one_file_with_the_same_results_and_no_deleted_records(tmp_path, monkeypatch):
    monkeypatch.setattr(writer, "MAX_FILES", 4)
    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine="tantivy") as ix:
        for i in range(3):  # three writes, three files
            ix.add([article(i)])
        assert len(list((live_gen(root) / "rows").glob("*.rows"))) == 3
        before = page(ix, "harbour strike")
        old_gen = live_gen(root)
        # a long article, then deleted: its record goes at the fold
        ix.add([article(3, body=" ".join(f"walked{k}" for k in range(3000)))])
        assert sum(f.stat().st_size for f in (live_gen(root) / "rows").glob("*.rows")) > 15_000
        ix.delete(ids=["r3"])
        ix.add([article(4)])  # the write past MAX_FILES folds
        folded = live_gen(root) / "rows"
        files = list(folded.glob("*.rows"))
        assert len(files) == 1 and files[0].stat().st_size < 5000
        after = page(ix, "harbour strike")
        # the same articles in the same order (scores move: there is one article more)
        assert after[0] == before[0] + 1 and [h for h in after[1] if h[0] != "r4"] == before[1]
        assert page(ix, "dockworkers week 1")[1][0][0] == "r1"
        # the generation published before the fold still reads its own files
        assert len(list((old_gen / "rows").glob("*.rows"))) == 3
        older = newssearch.open_index(root)
        older.rollback()
        assert [h.id for h in older.search("harbour", limit=20).hits] == [f"r{i}" for i in (2, 1, 0)]


def test_an_index_missing_its_records_says_rebuild_needed_without_a_traceback(tmp_path):
    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine="tantivy") as ix:
        ix.add([article(i) for i in range(3)])
    for f in (live_gen(root) / "rows").glob("*.rows"):
        f.unlink()
    r = CliRunner().invoke(main, ["query", "harbour", "--index", str(root)])
    assert r.exit_code == 1 and "rebuild needed" in r.output and "Traceback" not in r.output
    # a write on top is refused by verification: the previous generation stays live
    gen = live_gen(root)
    with newssearch.open_index(root) as ix:
        with pytest.raises(NewsSearchError, match="no record"):
            ix.add([article(9)])
    assert live_gen(root) == gen


def test_a_location_without_its_records_folder_is_rebuild_needed(tmp_path):
    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine="tantivy") as ix:
        ix.add([article(1)])
    import shutil
    shutil.rmtree(live_gen(root) / rows.FOLDER)
    r = CliRunner().invoke(main, ["stats", "--index", str(root)])
    assert r.exit_code == 1 and "rebuild needed" in r.output and "Traceback" not in r.output


def test_searches_past_the_record_cache_size_keep_answering(tmp_path, monkeypatch):
    """The searcher's cache of records is emptied when full: a search whose window holds
    records read before and new ones still gets all of them."""
    from newssearch.engine.tantivy import searcher

    monkeypatch.setattr(searcher, "CACHE", 3)
    with newssearch.open_index(tmp_path / "ix", create=True, engine="tantivy") as ix:
        ix.add([article(i) for i in range(12)] + [article(i, body=f"Ferry {i} sailed late.") for i in range(12, 18)])
        assert len(ix.search("dockworkers", limit=20, collapse=False).hits) == 12  # 12 records read
        both = ix.search("harbour", limit=20, collapse=False)  # those 12 and 6 new ones
        assert sorted(h.id for h in both.hits) == sorted(f"r{i}" for i in range(18))
        assert [h.id for h in ix.search("ferry", limit=20).hits] == [f"r{i}" for i in range(17, 11, -1)]


@pytest.mark.parametrize("damage", [b"", b"short", b"x" * 64])
def test_a_damaged_records_file_says_rebuild_needed_and_a_write_leaves_the_live_index(tmp_path, damage):
    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine="tantivy") as ix:
        ix.add([article(i) for i in range(3)])
    gen = live_gen(root)
    # a later generation's file damaged (its own inode: the live one is a hard link elsewhere too)
    (f,) = (gen / "rows").glob("*.rows")
    f.unlink()
    f.write_bytes(damage)
    for args in (["query", "harbour"], ["index", str(tmp_path / "none.jsonl")]):
        (tmp_path / "none.jsonl").write_text('{"id": "n1", "title": "Harbour", "body": "Strike."}\n')
        r = CliRunner().invoke(main, args + ["--index", str(root)])
        assert r.exit_code == 1 and "rebuild needed" in r.output and "Traceback" not in r.output, args
    assert live_gen(root) == gen


def test_random_damage_to_a_records_file_gives_results_or_one_clear_error(tmp_path):
    """Bytes flipped anywhere in a records file (a bad disk, a bad copy): every search,
    page and fetch either answers or raises a NewsSearchError ("rebuild needed"), never
    another exception."""
    import random

    root = tmp_path / "ix"
    with newssearch.open_index(root, create=True, engine="tantivy") as ix:
        ix.add([article(i, body=f"Dockworkers at pier {i} walked out; ferries waited.") for i in range(6)])
    (f,) = (live_gen(root) / "rows").glob("*.rows")
    good = f.read_bytes()
    rng = random.Random(7)
    outcomes = {"answered": 0, "clear error": 0}
    for _ in range(150):
        damaged = bytearray(good)
        for _ in range(rng.choice((1, 3, 8))):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        f.unlink()  # a new inode: generations never share a damaged file
        f.write_bytes(bytes(damaged))
        try:
            with newssearch.open_index(root) as ix:
                hits = ix.search("dockworkers pier", limit=6).hits
                [(h.title, h.snippet, h.source, h.url) for h in hits]
                ix.get("r2")
                ix.related("r1")
            outcomes["answered"] += 1
        except NewsSearchError:
            outcomes["clear error"] += 1
    assert outcomes["answered"] and outcomes["clear error"], outcomes
