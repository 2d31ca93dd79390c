"""Run a benchmark worker against two versions of newssearch in one run: "before" and "now".

"before" is another git revision of this repository (by default the point where this
branch left main, i.e. the code before the change), exported with ``git archive`` into a
temporary directory and put first on PYTHONPATH of a child process; "now" is the
working tree. Each worker prints one JSON object on stdout.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List

REPO = Path(__file__).resolve().parents[1]
CORPORA = REPO.parent / "shared" / "corpora"


def default_baseline() -> str:
    """The merge base of HEAD and main: the code this branch started from."""
    out = subprocess.run(
        ["git", "-C", str(REPO), "merge-base", "HEAD", "main"], capture_output=True, text=True
    )
    return out.stdout.strip() or "HEAD"


def export(rev: str, into: Path) -> Path:
    """Extract the ``newssearch`` package at *rev* into *into*; returns the directory to import from."""
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "newssearch"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_worker(script: Path, tree: Path, args: List[str]) -> Dict[str, object]:
    """Run ``script --worker ARGS`` with *tree* first on the import path; its JSON result."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, str(script), "--worker", *args], capture_output=True, text=True, env=env
    )
    if out.returncode != 0:
        raise SystemExit(f"worker failed ({tree}):\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def both(script: Path, baseline: str, args: List[str]) -> Dict[str, Dict[str, object]]:
    """The worker's result on *baseline* ("before") and on the working tree ("now")."""
    with tempfile.TemporaryDirectory() as tmp:
        before = run_worker(script, export(baseline, Path(tmp)), args)
    now = run_worker(script, REPO, args)
    return {"before": before, "now": now}
