"""Generations, atomic switches, rollback, retention and the writer lock (library level)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import newssearch
from newssearch import Article, IndexLocked, IndexNotFound
from newssearch.errors import NewsSearchError
from newssearch.generations import IndexRoot

UTC = timezone.utc
T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def clock(start=T0):
    """A fake clock that moves one minute per call, so generations get distinct times."""
    state = {"t": start}

    def now():
        state["t"] += timedelta(minutes=1)
        return state["t"]

    return now


def story(n: int, days_old: int = 0, source: str = "Lakeside Post") -> Article:
    return Article(
        title=f"Ferry report number {n}",
        body=f"The lake ferry ran route {n} on schedule; passengers praised the crew.",
        source=source,
        published=T0 - timedelta(days=days_old),
        url=f"https://example.com/ferry/{n}",
    )


def test_each_write_publishes_a_new_generation_and_readers_keep_theirs(tmp_path):
    path = tmp_path / "ix"
    writer = newssearch.open_index(path, create=True, now=clock())
    writer.add([story(1), story(2)])
    reader = newssearch.open_index(path)
    assert reader.search("ferry").total == 2
    writer.add([story(3)])
    # the reader still sees its complete generation until it refreshes
    assert reader.search("ferry").total == 2
    assert reader.refresh() is True
    assert reader.search("ferry").total == 3
    assert reader.refresh() is False
    gens = writer.generations()
    assert [g.articles for g in gens] == [2, 3]
    assert [g.live for g in gens] == [False, True]
    assert gens[0].created < gens[1].created
    reader.close()
    writer.close()


def test_nothing_new_makes_no_generation(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([story(1)])
        before = [g.id for g in ix.generations()]
        report = ix.add([story(1)])
        assert report.unchanged == 1
        assert [g.id for g in ix.generations()] == before


def test_keep_generations_prunes_the_oldest(tmp_path):
    with newssearch.NewsIndex(tmp_path / "ix", create=True, keep_generations=2) as ix:
        for n in range(1, 6):
            ix.add([story(n)])
        gens = ix.generations()
        assert len(gens) == 3  # live + 2 old
        assert [g.articles for g in gens] == [3, 4, 5]
        assert gens[-1].live


def test_rollback_restores_the_previous_generation(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([story(1), story(2)])
        ix.add([story(3)])
        assert len(ix) == 3
        gen = ix.rollback()
        assert gen.articles == 2 and gen.live
        assert len(ix) == 2
        assert ix.search("ferry").total == 2
        # a reader opened now reads the rolled-back generation too
        with newssearch.open_index(tmp_path / "ix") as other:
            assert len(other) == 2


def test_rollback_with_nothing_older_is_a_clear_error(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([story(1)])
        with pytest.raises(NewsSearchError, match="nothing to roll back"):
            ix.rollback()


def test_delete_by_source_and_age_keeps_undated(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        undated = Article(title="Ferry timetable", body="Undated ferry notice.", source="Lakeside Post")
        ix.add([story(1, days_old=200), story(2, days_old=10), story(3, days_old=300, source="Hill Gazette"), undated])
        assert ix.delete(before=T0 - timedelta(days=100), source="lakeside post") == 1
        assert len(ix) == 3
        assert ix.delete(before=T0 - timedelta(days=100)) == 1
        assert sorted(h.title for h in ix.search("ferry")) == ["Ferry report number 2", "Ferry timetable"]
        assert ix.delete(ids=[story(2).id]) == 1
        assert ix.delete() == 0
        assert len(ix) == 1


def test_failed_write_leaves_the_live_generation_and_no_debris(tmp_path):
    path = tmp_path / "ix"
    with newssearch.open_index(path, create=True) as ix:
        ix.add([story(1)])

        def boom():
            yield story(2)
            raise RuntimeError("source died")

        with pytest.raises(RuntimeError):
            ix.add(boom())
        assert len(ix) == 1
    assert not [p.name for p in path.iterdir() if p.name.startswith("building-")]


def test_missing_index_and_damaged_pointer(tmp_path):
    with pytest.raises(IndexNotFound):
        newssearch.open_index(tmp_path / "none")
    path = tmp_path / "ix"
    newssearch.open_index(path, create=True).close()
    (path / "CURRENT").write_text("../../etc\n")
    with pytest.raises(NewsSearchError, match="damaged"):
        newssearch.open_index(path)


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from newssearch.generations import IndexRoot
    with IndexRoot(sys.argv[1]).lock(command="test-holder"):
        print("locked", flush=True)
        time.sleep(60)
    """
)


def _hold_lock(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_second_writer_waits_then_names_the_holder(tmp_path):
    path = tmp_path / "ix"
    newssearch.open_index(path, create=True).close()
    holder = _hold_lock(path)
    try:
        with newssearch.open_index(path, wait=0.3) as ix:
            start = time.monotonic()
            with pytest.raises(IndexLocked, match=rf"locked by pid {holder.pid} since .*test-holder"):
                ix.add([story(1)])
            assert time.monotonic() - start >= 0.3
            assert len(ix) == 0
    finally:
        holder.kill()
        holder.wait()


def test_lock_of_a_killed_writer_is_cleared(tmp_path):
    path = tmp_path / "ix"
    newssearch.open_index(path, create=True).close()
    holder = _hold_lock(path)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert "test-holder" in (path / "lock").read_text()  # its record is still there...
    with newssearch.open_index(path) as ix:
        ix.add([story(1)])  # ...but the lock died with it
        assert len(ix) == 1


def test_debris_of_a_dead_build_is_removed_by_the_next_write(tmp_path):
    path = tmp_path / "ix"
    with newssearch.open_index(path, create=True) as ix:
        (path / "building-000099").mkdir()
        (path / "building-000099" / "half-written").write_text("x")
        ix.add([story(1)])
    assert not (path / "building-000099").exists()
    assert [g.articles for g in IndexRoot(path).generations()] == [1]
