"""The README's promises: its commands and its library example work as written."""
from __future__ import annotations

import re
import subprocess
import sys

from .conftest import EXAMPLES, REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str):
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_readme_has_exactly_two_shell_commands():
    commands = [b.strip() for b in _blocks("sh")]
    assert len(commands) == 2
    run, test = commands
    assert "newssearch index examples/" in run and "newssearch query" in run
    assert "'.[test]'" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert _blocks("sh")[1].strip() in ci


def test_readme_library_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(EXAMPLES)
    code = _blocks("python")[0]
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "found" in out
    assert "[[" in out  # snippets mark the matched words


def test_library_example_script_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "library_example.py"), str(tmp_path / "ix")],
        capture_output=True, text=True, check=True,
    ).stdout
    assert "found" in out and "0 rejected" in out
