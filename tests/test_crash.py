"""Crash and concurrency tests with real processes: SIGKILL a rebuild or an update at
many moments, and search from several processes while rebuilds run.

After every kill the index must answer from one complete generation (the old one or
the new one, never a mix or nothing), and the next rebuild must succeed and clear the
debris. Kills at exact moments use NEWSSEARCH_TEST_KILL_AT (newssearch/_testhooks.py);
the rest are timed kills of a running process.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import newssearch

N_OLD, N_NEW = 1200, 1500
WORDS = (
    "river bridge council harbour budget school rail storm market festival union court "
    "election water museum library forest road clinic station mayor ferry tunnel"
).split()


def write_data(path: Path, n: int, seed: int) -> None:
    """n invented articles; every one contains the word 'bulletin' (so a search counts them)."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            body = " ".join(rnd.choice(WORDS) for _ in range(60))
            fh.write(
                json.dumps(
                    {
                        "id": str(i),
                        "title": f"Town bulletin {i}: {rnd.choice(WORDS)} {rnd.choice(WORDS)}",
                        "body": body,
                        "source": "Town Bulletin",
                        "date": "2025-05-01T08:00:00+00:00",
                        "url": f"https://example.com/bulletin/{seed}/{i}",
                    }
                )
                + "\n"
            )


def cli(*args: str, env_extra: dict | None = None, **kw) -> subprocess.Popen:
    env = dict(os.environ, **(env_extra or {}))
    return subprocess.Popen(
        [sys.executable, "-m", "newssearch", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def count(index: Path) -> int:
    with newssearch.open_index(index) as ix:
        total = ix.search("bulletin", limit=1).total
        assert total == len(ix)
        return total


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    write_data(root / "old.jsonl", N_OLD, seed=1)
    write_data(root / "new.jsonl", N_NEW, seed=2)
    (root / "data").mkdir()
    cfg = root / "newssearch.toml"
    cfg.write_text('index = "ix"\nkeep_generations = 2\n\n[[sources]]\npath = "data/current.jsonl"\n', encoding="utf-8")
    return root, cfg


def use(root: Path, name: str) -> None:
    (root / "data" / "current.jsonl").write_bytes((root / name).read_bytes())


def rebuild_ok(cfg: Path) -> None:
    proc = cli("rebuild", "--config", str(cfg), "--force")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err


def no_debris(index: Path) -> bool:
    return not [p for p in index.iterdir() if p.name.startswith("building-") or ".tmp" in p.name]


KILL_POINTS = ["reading", "writing", "committing", "verifying", "before-switch", "after-switch"]


def test_rebuild_killed_at_ten_moments(workspace):
    root, cfg = workspace
    index = root / "ix"
    use(root, "old.jsonl")
    rebuild_ok(cfg)
    assert count(index) == N_OLD
    # a full rebuild's duration, to place the timed kills inside it
    use(root, "new.jsonl")
    start = time.monotonic()
    rebuild_ok(cfg)
    duration = time.monotonic() - start
    use(root, "old.jsonl")
    rebuild_ok(cfg)

    outcomes = []
    use(root, "new.jsonl")
    for point in KILL_POINTS:
        proc = cli("rebuild", "--config", str(cfg), env_extra={"NEWSSEARCH_TEST_KILL_AT": point})
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, point
        expected = N_NEW if point == "after-switch" else N_OLD
        assert count(index) == expected, point
        outcomes.append((point, expected))
        if point == "after-switch":
            use(root, "old.jsonl")  # go back so the next kill has something to lose
            rebuild_ok(cfg)
            use(root, "new.jsonl")
    for fraction in (0.15, 0.35, 0.55, 0.8):
        proc = cli("rebuild", "--config", str(cfg))
        time.sleep(duration * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        got = count(index)  # whichever generation is live, it is complete
        assert got in (N_OLD, N_NEW), fraction
        outcomes.append((fraction, got))
        if got == N_NEW:
            use(root, "old.jsonl")
            rebuild_ok(cfg)
            use(root, "new.jsonl")
    assert len(outcomes) == 10
    # the next rebuild succeeds and removes what the killed ones left
    rebuild_ok(cfg)
    assert count(index) == N_NEW
    assert no_debris(index)
    assert len(newssearch.open_index(index).generations()) <= 3


def test_update_killed_at_five_moments(workspace):
    root, cfg = workspace
    index = root / "ix"
    use(root, "old.jsonl")
    rebuild_ok(cfg)
    # the update adds the new file's articles on top of the old ones
    both = (root / "old.jsonl").read_text() + (root / "new.jsonl").read_text()
    (root / "data" / "current.jsonl").write_text(both, encoding="utf-8")
    for point in ("reading", "writing", "committing", "verifying", "before-switch"):
        proc = cli("update", "--config", str(cfg), env_extra={"NEWSSEARCH_TEST_KILL_AT": point})
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, point
        assert count(index) == N_OLD, point  # all of the update or none of it: here none
    proc = cli("update", "--config", str(cfg))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert count(index) == N_OLD + N_NEW
    assert no_debris(index)


READER = textwrap.dedent(
    """
    import json, sys, time
    import newssearch
    index, out, stop = sys.argv[1], sys.argv[2], sys.argv[3]
    seen, errors = [], []
    ix = newssearch.open_index(index)
    import os
    while not os.path.exists(stop):
        try:
            ix.refresh()
            seen.append([ix.generation, ix.search("bulletin", limit=3).total])
        except Exception as exc:  # any failure is what this test looks for
            errors.append(f"{type(exc).__name__}: {exc}")
    ix.close()
    json.dump({"seen": seen, "errors": errors}, open(out, "w"))
    """
)


def test_readers_never_see_a_broken_index_during_rebuilds(workspace):
    root, cfg = workspace
    index = root / "ix"
    use(root, "old.jsonl")
    rebuild_ok(cfg)
    stop = root / "stop"
    stop.unlink(missing_ok=True)
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(index), str(root / f"reader{i}.json"), str(stop)])
        for i in range(3)
    ]
    try:
        use(root, "new.jsonl")
        rebuild_ok(cfg)  # -> N_NEW
        use(root, "old.jsonl")
        rebuild_ok(cfg)  # -> N_OLD
        both = (root / "old.jsonl").read_text() + (root / "new.jsonl").read_text()
        (root / "data" / "current.jsonl").write_text(both, encoding="utf-8")
        proc = cli("update", "--config", str(cfg))
        assert proc.wait(timeout=300) == 0  # -> N_OLD + N_NEW
        time.sleep(0.5)
    finally:
        stop.write_text("stop")
        for r in readers:
            r.wait(timeout=120)
    valid = {N_OLD, N_NEW, N_OLD + N_NEW}
    totals = set()
    for i in range(3):
        result = json.loads((root / f"reader{i}.json").read_text())
        assert result["errors"] == []
        assert result["seen"], "a reader never got to search"
        for _gen, total in result["seen"]:
            assert total in valid
            totals.add(total)
    assert len(totals) >= 2, "the readers should have seen the index change under them"
