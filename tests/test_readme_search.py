"""The README's searching example (its second python block) runs as written."""
from __future__ import annotations

import re

from .conftest import EXAMPLES, REPO


def test_readme_search_example_runs(tmp_path, monkeypatch, capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    code = next(b for b in blocks if "facets=" in b)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(EXAMPLES)
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "<mark>" in out
    assert "harbour strike" in out.splitlines()  # the did-you-mean line
    assert "Prefix 'elect'" in out
