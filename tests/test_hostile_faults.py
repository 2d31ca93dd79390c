"""Faults a scheduled job meets: a full disk, a writer stopped while holding the lock,
SIGKILL at random moments of index, update and rebuild while readers search.

Expected behaviour, case by case:
- ENOSPC in a rebuild: exit 1 with one line naming the problem; the live generation
  answers as before; once there is space, the next rebuild succeeds and leaves no debris.
- A writer stopped (SIGSTOP) with the lock: another writer's ``--wait`` gives up after
  the wait with exit 75 and the holder's pid in its message; readers still search.
- 20 SIGKILLs: the readers never get an error or a count that is not a whole state, and
  no article indexed before a killed run is ever missing after it.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from .test_crash import READER, cli, count, no_debris, write_data


def run(*args: str, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    proc = cli(*args, **kw)
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# ------------------------------------------------------------------ ENOSPC


@pytest.fixture()
def small_fs(tmp_path):
    """A 3 MiB tmpfs (root only); skipped, with the reason, where it cannot be mounted."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not shutil.which("mount") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root and mount(8); ENOSPC is not tested here")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}); ENOSPC is not tested")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_rebuild_on_a_full_disk_keeps_the_live_generation(small_fs, tmp_path):
    data = tmp_path / "current.jsonl"
    write_data(data, 300, seed=1)
    cfg = small_fs / "newssearch.toml"
    cfg.write_text(f'index = "ix"\n\n[[sources]]\npath = "{data}"\n', encoding="utf-8")
    first = run("rebuild", "--config", str(cfg), "--force")
    assert first.returncode == 0, first.stderr
    index = small_fs / "ix"
    assert count(index) == 300

    write_data(data, 4_000, seed=2)  # an index several times the size of the disk
    full = run("rebuild", "--config", str(cfg), "--force")
    assert full.returncode == 1
    lines = full.stderr.strip().splitlines()
    assert len(lines) == 1 and "no space left on device" in lines[0], full.stderr
    assert "Traceback" not in full.stderr
    assert count(index) == 300  # the previous generation, whole
    query = run("query", "--index", str(index), "bulletin", "--json")
    assert query.returncode == 0 and json.loads(query.stdout)["total"] == 300
    assert no_debris(index)

    write_data(data, 600, seed=3)  # fits: the next run succeeds
    again = run("rebuild", "--config", str(cfg), "--force")
    assert again.returncode == 0, again.stderr
    assert count(index) == 600
    assert no_debris(index)


def test_index_on_a_full_disk_loses_nothing(small_fs, tmp_path):
    index = small_fs / "ix"
    some = tmp_path / "some.jsonl"
    write_data(some, 200, seed=4)
    assert run("index", "--index", str(index), str(some)).returncode == 0
    big = tmp_path / "big.jsonl"
    write_data(big, 4_000, seed=5)
    full = run("index", "--index", str(index), str(big))
    assert full.returncode == 1 and "no space left on device" in full.stderr, full.stderr
    assert count(index) == 200


# ------------------------------------------------------------------ SIGSTOP


def test_a_stopped_writer_makes_wait_give_up_naming_its_pid(tmp_path):
    data = tmp_path / "a.jsonl"
    write_data(data, 3_000, seed=6)
    index = tmp_path / "ix"
    assert run("index", "--index", str(index), str(data)).returncode == 0
    more = tmp_path / "b.jsonl"
    write_data(more, 3_000, seed=7)
    writer = cli("index", "--index", str(index), str(more))
    lock = index / "lock"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the writer has written its pid into the lock
            try:
                if json.loads(lock.read_text() or "{}").get("pid") == writer.pid:
                    break
            except ValueError:
                pass
            time.sleep(0.01)
        else:
            pytest.fail("the writer never took the lock")
        writer.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        other = run("index", "--index", str(index), str(data), "--wait", "1")
        waited = time.monotonic() - t0
        assert other.returncode == 75, other.stderr
        assert f"pid {writer.pid}" in other.stderr
        assert len(other.stderr.strip().splitlines()) == 1
        assert waited < 30
        # readers are never blocked by a writer, stopped or not
        assert count(index) == 3_000
    finally:
        writer.send_signal(signal.SIGCONT)
        writer.communicate(timeout=300)
    assert writer.returncode == 0
    assert count(index) == 6_000


# ------------------------------------------------------------------ SIGKILL x 20


def test_twenty_sigkills_with_readers_searching(tmp_path):
    """Each round appends a batch to the one source and runs index, update or rebuild over
    it, killed at a random moment of its measured duration (seeded; the seed is printed)."""
    seed = int(os.environ.get("NEWSSEARCH_FAULT_SEED", "20261203"))
    rng = random.Random(seed)
    print(f"fault seed {seed}")
    root = tmp_path
    (root / "data").mkdir()
    source = root / "data" / "current.jsonl"
    cfg = root / "newssearch.toml"
    cfg.write_text('index = "ix"\nkeep_generations = 2\n\n[[sources]]\npath = "data/current.jsonl"\n', encoding="utf-8")
    index = root / "ix"
    batch = 100

    def grow(to: int) -> None:
        write_data(source, to, seed=9)  # the same articles, plus `batch` more, every round

    ops = {
        "index": ("index", "--index", str(index), str(source)),
        "update": ("update", "--config", str(cfg)),
        "rebuild": ("rebuild", "--config", str(cfg), "--force"),
    }
    size = 600
    grow(size)
    durations = {}
    for name, args in ops.items():  # each op once to the end: how long a kill window is
        t0 = time.monotonic()
        done = run(*args)
        assert done.returncode == 0, (name, done.stderr)
        durations[name] = time.monotonic() - t0
    assert count(index) == size

    stop = root / "stop"
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(index), str(root / f"reader{i}.json"), str(stop)])
               for i in range(2)]
    outcomes = []
    try:
        for _round in range(20):
            before = count(index)
            size += batch
            grow(size)
            name = rng.choice(sorted(ops))
            delay = durations[name] * rng.uniform(0.05, 1.8)
            proc = cli(*ops[name])
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=300)
            after = count(index)
            outcomes.append((name, round(delay, 2), proc.returncode, before, after))
            # all of the run or none of it; never fewer articles than before it
            assert after in (before, size), outcomes[-1]
    finally:
        stop.write_text("stop")
        for r in readers:
            r.wait(timeout=120)
    print(outcomes)
    killed = [o for o in outcomes if o[2] == -signal.SIGKILL]
    assert len(killed) >= 10, f"most runs should have been killed mid-way: {outcomes}"
    valid = set(range(600, size + 1, batch))
    for i in range(2):
        result = json.loads((root / f"reader{i}.json").read_text())
        assert result["errors"] == [], result["errors"][:3]
        assert result["seen"]
        assert {total for _gen, total in result["seen"]} <= valid
    # the next run completes and clears what the killed ones left
    done = run(*ops["rebuild"])
    assert done.returncode == 0, done.stderr
    assert count(index) == size
    assert no_debris(index)
