"""The engine interface seen from NewsIndex: one record pipeline, registry, legacy roots."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

import newssearch
from newssearch import Article
from newssearch.cli import main
from newssearch.engine import FORMAT_RECORD, engine_names
from newssearch.errors import NewsSearchError, RebuildNeeded

GERMAN = {
    "id": "de1",
    "title": "Der Hafen bleibt wegen des Streiks geschlossen",
    "body": "Die Arbeiter im Hafen haben ihren Streik am Montag fortgesetzt, und die Fähren fahren nicht. "
            "Die Stadtverwaltung sagte, dass die Gespräche mit der Gewerkschaft am Donnerstag weitergehen.",
    "source": "Nordblatt",
}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def stored_lang(index: Path) -> str:
    with newssearch.open_index(index) as ix:
        (hit,) = ix.search("Hafen").hits
        return hit.lang


def test_index_and_rebuild_store_the_same_language_for_an_article_without_lang(tmp_path):
    data = tmp_path / "data" / "news.jsonl"
    data.parent.mkdir()
    data.write_text(json.dumps(GERMAN, ensure_ascii=False) + "\n", encoding="utf-8")
    by_index = run("index", data, "--index", tmp_path / "a")
    assert by_index.exit_code == 0, by_index.output
    cfg = tmp_path / "newssearch.toml"
    cfg.write_text(f'index = "{tmp_path / "b"}"\n[[sources]]\npath = "{data}"\n', encoding="utf-8")
    by_rebuild = run("rebuild", "--config", cfg)
    assert by_rebuild.exit_code == 0, by_rebuild.output
    assert stored_lang(tmp_path / "a") == stored_lang(tmp_path / "b") == "de"
    # and the same content hash: an update of the rebuilt index finds nothing changed
    again = run("update", "--config", cfg)
    assert again.exit_code == 0 and "unchanged 1" in again.output, again.output


def test_a_root_holding_an_index_from_before_generations_says_rebuild(tmp_path):
    root = tmp_path / "old"
    root.mkdir()
    (root / FORMAT_RECORD).write_text('{"engine": "whoosh", "format": 4}\n', encoding="utf-8")
    for create in (False, True):
        with pytest.raises(RebuildNeeded, match="before generations"):
            newssearch.open_index(root, create=create)
    result = run("query", "x", "--index", root)
    assert result.exit_code != 0 and "rebuild needed" in result.output and "Traceback" not in result.output


def test_an_unknown_engine_is_a_clear_error(tmp_path):
    with pytest.raises(NewsSearchError, match="unknown engine 'nosuch'.*whoosh"):
        newssearch.open_index(tmp_path / "ix", create=True, engine="nosuch")
    assert "whoosh" in engine_names()


def test_the_lock_records_the_injected_clock(tmp_path):
    fixed = datetime(2031, 5, 4, 3, 2, 1, tzinfo=timezone.utc)
    with newssearch.open_index(tmp_path / "ix", create=True, now=lambda: fixed) as ix:
        with ix.writing("index") as writer:
            holder = json.loads((tmp_path / "ix" / "lock").read_text())
            assert holder["since"] == "2031-05-04T03:02:01+00:00"
            writer.upsert([])
        assert ix.generations()[-1].created == fixed


def test_a_failed_write_block_publishes_nothing(tmp_path):
    with newssearch.open_index(tmp_path / "ix", create=True) as ix:
        ix.add([Article(id="k", title="Kept", body="Kept article about ferries", source="S")])
        gen = ix.generation
        with pytest.raises(RuntimeError):
            with ix.writing("index") as writer:
                writer.delete(ids=["k"])
                raise RuntimeError("boom")
        assert ix.generation == gen and len(ix) == 1
        assert not [p for p in (tmp_path / "ix").iterdir() if p.name.startswith("building-")]


def test_render_and_model_import_no_engine_or_index_module():
    import ast

    root = Path(newssearch.__file__).parent
    for name in ("render.py", "model.py"):
        tree = ast.parse((root / name).read_text(encoding="utf-8"))
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"index", "rebuild", "generations", "engine", "engine.whoosh"}, (name, imported)


def test_only_the_whoosh_package_imports_whoosh():
    root = Path(newssearch.__file__).parent
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if "import whoosh" in text or "from whoosh" in text:
            assert path.parent.name == "whoosh" and path.parent.parent.name == "engine", path


def test_the_length_steps_are_the_whoosh_formats():
    from whoosh.util.numeric import byte_to_length, length_to_byte

    from newssearch.engine.lengths import LENGTH_STEPS, rounded_length

    assert list(LENGTH_STEPS) == [byte_to_length(b) for b in range(256)]
    for n in [1, 2, 11, 12, 13, 24, 99, 101, 150, 999, 5000, 106374, 10**6]:
        assert rounded_length(n) == byte_to_length(length_to_byte(n))
