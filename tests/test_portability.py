"""Without POSIX file locks (Windows), ``import newssearch`` works and opening an index
says plainly that newssearch is POSIX-only; it never writes without its lock."""
from __future__ import annotations

import subprocess
import sys
import textwrap

NO_FCNTL = "import sys; sys.modules['fcntl'] = None  # what Windows looks like to an import\n"


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", NO_FCNTL + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_import_works_without_fcntl():
    done = run("import newssearch; from newssearch import cli; print(newssearch.parse_query('a b').describe())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(a AND b)"


def test_opening_an_index_is_a_clear_posix_only_error(tmp_path):
    done = run(f"""
        import newssearch
        try:
            newssearch.open_index({str(tmp_path / 'ix')!r}, create=True)
        except newssearch.NewsSearchError as exc:
            print(exc)
        """)
    assert done.returncode == 0, done.stderr
    assert "needs POSIX file locks" in done.stdout and "WSL" in done.stdout
    assert not (tmp_path / "ix").exists()  # nothing written without the lock


def test_the_cli_says_it_in_one_line(tmp_path):
    done = run(f"""
        from newssearch.cli import main
        main(["stats", "--index", {str(tmp_path / 'ix')!r}])
        """)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: newssearch needs POSIX file locks")
