"""Index generations on disk: the live pointer, atomic switches, the writer lock.

An index root holds complete, immutable generations side by side and one pointer
file naming the live one::

    ROOT/CURRENT          "gen-000007\\n" — replaced atomically with os.replace
    ROOT/gen-000006/      the previous generation (kept for rollback)
    ROOT/gen-000007/      the live generation: an engine index + generation.json
    ROOT/building-000008/ a generation being written (debris if its writer died)
    ROOT/lock             the writer lock (fcntl.flock; released by the kernel when
                          its holder dies, so a dead writer never blocks the next)

Every write builds a new generation in a ``building-`` directory, verifies it,
renames it to ``gen-`` and then switches ``CURRENT``; a published generation is
never written again. Readers therefore always see one complete generation, and a
writer killed at any moment leaves the live generation as it was. Engine-free: the
engine only ever sees one generation directory.
"""
from __future__ import annotations

import errno
try:
    import fcntl
except ImportError:  # Windows: no flock; open_index says so (see require_posix)
    fcntl = None  # type: ignore[assignment]
import json
import os
import re
import shutil
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, List, Optional

from ._testhooks import checkpoint
from .model import Generation
from .errors import IndexLocked, IndexNotFound, NewsSearchError

__all__ = ["Generation", "IndexRoot", "DEFAULT_KEEP_GENERATIONS", "LOCK_POLL_SECONDS"]

DEFAULT_KEEP_GENERATIONS = 3
"""Old generations kept besides the live one (for rollback and for slow readers)."""

LOCK_POLL_SECONDS = 0.1

_CURRENT = "CURRENT"
_LOCK = "lock"
_INFO = "generation.json"
_GEN_RE = re.compile(r"^gen-(\d{6,})$")
_BUILD_RE = re.compile(r"^building-(\d{6,})$")


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush every file of a finished generation, then the directory entries."""
    for child in path.iterdir():
        if child.is_file():
            fd = os.open(str(child), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(path)


def require_posix() -> None:
    """NewsSearchError unless this platform has POSIX file locks (fcntl.flock).

    The writer lock, and with it every guarantee a scheduled rebuild gives (one writer,
    a lock released by the kernel when its holder dies), rests on ``flock``. Windows has
    no such call: newssearch says so when an index is opened rather than failing at
    ``import newssearch`` or, worse, writing without a lock.
    """
    if fcntl is None:
        raise NewsSearchError(
            f"newssearch needs POSIX file locks (fcntl.flock), which {sys.platform} lacks: "
            "indexes can be opened on Linux, macOS and other POSIX systems (on Windows, use WSL)"
        )


class IndexRoot:
    """The directory the user names as ``--index``: its generations, pointer and lock."""

    def __init__(self, root: Path, *, remove: Optional[Callable[[Path], None]] = None) -> None:
        self.root = Path(root)
        self.remove: Callable[[Path], None] = remove or (lambda p: shutil.rmtree(p, ignore_errors=True))
        """Deletes one generation or build directory (engines with server-side state drop it too)."""

    # ------------------------------------------------------------ reading

    def exists(self) -> bool:
        return (self.root / _CURRENT).is_file()

    def live_name(self) -> str:
        """The live generation's directory name; IndexNotFound when there is none."""
        try:
            name = (self.root / _CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise IndexNotFound(
                f"no index at {self.root}: create one with `newssearch index PATH --index {self.root}`"
            ) from None
        if not _GEN_RE.match(name):
            raise NewsSearchError(f"{self.root / _CURRENT} is damaged (names {name!r}); run `newssearch rollback`")
        return name

    def live_dir(self) -> Path:
        return self.root / self.live_name()

    def live_id(self) -> int:
        return int(_GEN_RE.match(self.live_name()).group(1))  # type: ignore[union-attr]

    def generations(self) -> List[Generation]:
        """Every published generation, oldest first."""
        live = None
        if self.exists():
            try:
                live = self.live_name()
            except NewsSearchError:
                live = None
        out: List[Generation] = []
        for child in sorted(self.root.iterdir()) if self.root.is_dir() else []:
            m = _GEN_RE.match(child.name)
            if not m or not child.is_dir():
                continue
            info = self._read_info(child)
            created = info.get("created")
            out.append(
                Generation(
                    id=int(m.group(1)),
                    created=datetime.fromisoformat(created) if created else None,
                    articles=int(info.get("articles", 0)),
                    live=child.name == live,
                    kind=str(info.get("kind", "")),
                    path=str(child),
                )
            )
        out.sort(key=lambda g: g.id)
        return out

    @staticmethod
    def _read_info(gen_dir: Path) -> dict:
        try:
            return json.loads((gen_dir / _INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    # ------------------------------------------------------------ writing (hold the lock)

    def next_build_dir(self) -> Path:
        """A fresh ``building-`` directory numbered after every generation seen so far."""
        ids = [0]
        for child in self.root.iterdir():
            m = _GEN_RE.match(child.name) or _BUILD_RE.match(child.name)
            if m:
                ids.append(int(m.group(1)))
        path = self.root / f"building-{max(ids) + 1:06d}"
        path.mkdir()
        return path

    def clean_debris(self) -> List[str]:
        """Remove what dead writers left: unfinished builds and temporary pointer files."""
        removed = []
        for child in self.root.iterdir():
            if _BUILD_RE.match(child.name) or child.name.startswith(_CURRENT + ".tmp"):
                if child.is_dir():
                    self.remove(child)
                else:
                    child.unlink(missing_ok=True)
                removed.append(child.name)
        return removed

    def publish(self, build_dir: Path, *, articles: int, kind: str, now: datetime) -> Generation:
        """Make a finished, verified build the live generation, atomically and durably."""
        m = _BUILD_RE.match(build_dir.name)
        if not m:
            raise ValueError(f"not a build directory: {build_dir}")
        gen_id = int(m.group(1))
        info = {"id": gen_id, "created": now.astimezone(timezone.utc).isoformat(), "articles": articles, "kind": kind}
        (build_dir / _INFO).write_text(json.dumps(info) + "\n", encoding="utf-8")
        _fsync_tree(build_dir)
        gen_dir = self.root / f"gen-{gen_id:06d}"
        os.replace(build_dir, gen_dir)
        _fsync_dir(self.root)
        checkpoint("before-switch")
        self.switch(gen_dir.name)
        checkpoint("after-switch")
        return Generation(gen_id, datetime.fromisoformat(info["created"]), articles, True, kind, str(gen_dir))

    def switch(self, name: str) -> None:
        """Point CURRENT at generation directory *name* (atomic: readers see old or new)."""
        if not (self.root / name).is_dir():
            raise IndexNotFound(f"no generation {name} in {self.root}")
        tmp = self.root / f"{_CURRENT}.tmp{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / _CURRENT)
        _fsync_dir(self.root)

    def prune(self, keep: int) -> List[int]:
        """Delete all but the *keep* newest non-live generations; returns the ids deleted.

        An empty generation left by creating the index goes as soon as another is live.

        The live generation is never deleted. A reader still holding a deleted
        generation open keeps reading the files it already opened (POSIX semantics);
        readers should call ``NewsIndex.refresh()`` at least once between rebuilds.
        """
        old = [g for g in self.generations() if not g.live]
        # the empty generation that creating the index made is not worth rolling back to
        doomed = [g for g in old if g.kind == "create" and g.articles == 0]
        old = [g for g in old if g not in doomed]
        doomed += old[: max(0, len(old) - max(0, keep))]
        for g in doomed:
            self.remove(Path(g.path))
        return [g.id for g in doomed]

    # ------------------------------------------------------------ the lock

    @contextmanager
    def lock(
        self, *, wait: float = 0.0, command: str = "write", now: Optional[Callable[[], datetime]] = None
    ) -> Iterator[None]:
        """Hold the root's writer lock, waiting up to *wait* seconds for another writer.

        Raises IndexLocked naming the holder's pid and start time when the wait runs out.
        The kernel releases the lock when its holder dies, so a lock file left by a
        killed process never blocks (its stale contents are simply overwritten). *now* is
        the clock of the "since" it records (the wall clock by default).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / _LOCK
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + max(0.0, wait)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                    if time.monotonic() >= deadline:
                        holder = self._holder(fd)
                        raise IndexLocked(
                            f"index {self.root} locked by pid {holder.get('pid', '?')} since {holder.get('since', '?')}"
                            + (f" ({holder['command']})" if holder.get("command") else "")
                        ) from None
                    time.sleep(LOCK_POLL_SECONDS)
            me = {"pid": os.getpid(), "since": (now() if now else datetime.now(timezone.utc)).isoformat(timespec="seconds"), "command": command}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode("utf-8"), 0)
            try:
                yield
            finally:
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @staticmethod
    def _holder(fd: int) -> dict:
        try:
            raw = os.pread(fd, 4096, 0)
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (OSError, ValueError):
            return {}
