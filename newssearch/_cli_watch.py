"""The ``watch`` and ``alerts`` commands (saved searches, see :mod:`newssearch.watches`).

:func:`register` adds them to the ``newssearch`` group; it imports :mod:`newssearch.cli`
only when called, so either module may be imported first.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Optional

import click

from . import watches
from .model import clean_text


def _line(text: Any) -> str:
    return clean_text("" if text is None else str(text), keep_lines=False)


def _alert_row(a: Dict[str, Any]) -> str:
    cells = [a.get("arrived") or "-", a["watch"], a.get("source") or "-", a.get("title") or "(untitled)", a.get("url") or ""]
    return "  ".join(_line(c) for c in cells).rstrip()


def _watch_row(w: watches.Watch) -> str:
    filters = " ".join(f"{k}={v}" for k, v in w.to_dict()["filters"].items())
    checked = w.to_dict()["last_checked"] or "never"
    return _line(f"{w.name}  {w.query!r}{'  ' + filters if filters else ''}  "
                 f"(seen {w.seen}, alerts {w.arrivals}, checked {checked})")


def register(main: click.Group) -> None:
    """Add ``watch add|list|remove`` and ``alerts`` to *main*."""
    from . import cli  # by now fully defined: cli calls this at its end
    from .index import open_index

    def ix_of(config_path: Optional[Path], index_path: Path) -> Any:
        return open_index(cli._index_from(config_path, index_path))

    @main.group("watch")
    def watch_group() -> None:
        """Saved searches: new articles matching them become alerts (see `newssearch alerts`)."""

    @watch_group.command("add")
    @click.argument("name")
    @click.argument("query")
    @cli.index_option
    @cli.filter_options
    @cli.config_option
    @cli._errors_to_exit
    def add_cmd(name: str, query: str, index_path: Path, filters: dict, config_path: Optional[Path]) -> None:
        """Save QUERY (with the filters) as watch NAME. Articles matching now are taken as
        seen: only articles indexed later become alerts. Relative --since/--until are
        fixed to a date now."""
        with ix_of(config_path, index_path) as ix:
            count = watches.add_watch(ix, name, query, filters, now=cli._now())
        click.echo(_line(f"watching {name}: {query} ({count} current matches taken as seen)"))

    @watch_group.command("list")
    @cli.index_option
    @cli.config_option
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the watches.")
    @cli._errors_to_exit
    def list_cmd(index_path: Path, config_path: Optional[Path], as_json: bool) -> None:
        """Every watch: name, query, filters, articles seen, alerts kept, last check."""
        with ix_of(config_path, index_path) as ix:
            found = watches.list_watches(ix.path)
        if as_json:
            click.echo(json.dumps([w.to_dict() for w in found], ensure_ascii=False, indent=2))
        elif found:
            click.echo("\n".join(_watch_row(w) for w in found))
        else:
            click.echo("no watches", err=True)

    @watch_group.command("remove")
    @click.argument("name")
    @cli.index_option
    @cli.config_option
    @cli._errors_to_exit
    def remove_cmd(name: str, index_path: Path, config_path: Optional[Path]) -> None:
        """Delete watch NAME and its alerts."""
        with ix_of(config_path, index_path) as ix:
            watches.remove_watch(ix.path, name)
        click.echo(_line(f"removed watch {name}"))

    @main.command("alerts")
    @click.argument("name", required=False)
    @click.option("--since-last", is_flag=True, help="Only alerts that arrived after the previous `alerts` call.")
    @click.option("--json", "as_json", is_flag=True, help='Print {"alerts": [...], "errors": [...]}.')
    @click.option("--jsonl", "as_jsonl", is_flag=True, help="Print one JSON object per alert, one per line.")
    @click.option("--rss", "rss", type=click.Path(dir_okay=False, path_type=Path),
                  help="Also write watch NAME's alerts to FILE as an Atom feed.")
    @cli.index_option
    @cli.config_option
    @cli._errors_to_exit
    def alerts_cmd(name: Optional[str], since_last: bool, as_json: bool, as_jsonl: bool, rss: Optional[Path],
                   index_path: Path, config_path: Optional[Path]) -> None:
        """Check the watches (or only NAME) for new matching articles, then list the alerts,
        newest first. Exit 1 when every watch checked failed (each failure is a line on stderr)."""
        if as_json and as_jsonl:
            raise cli._fail("--json and --jsonl cannot be used together: choose one output format")
        if rss is not None and not name:
            raise cli._fail("--rss writes one watch's feed: give the watch NAME")
        now = cli._now()
        with ix_of(config_path, index_path) as ix:
            found = watches.alerts(ix, name, since_last=since_last, now=now)
            if rss is not None and name:
                watch = next(w for w in watches.list_watches(ix.path) if w.name == name)
                watches.write_feed(watch, watches.history(ix.path, name), rss, now=now)
        for error in found.errors:
            click.echo(f"warning: {_line(error)}", err=True)
        if as_json:
            click.echo(json.dumps({"alerts": found.alerts, "errors": found.errors}, ensure_ascii=False, indent=2))
        elif as_jsonl:
            for alert in found.alerts:
                click.echo(json.dumps(alert, ensure_ascii=False))
        elif found.alerts:
            click.echo("\n".join(_alert_row(a) for a in found.alerts))
        else:
            click.echo("no alerts", err=True)
        if found.errors and not found.checked:
            raise click.exceptions.Exit(cli.EXIT_ERROR)

    _ = (add_cmd, list_cmd, remove_cmd, alerts_cmd)  # registered by their decorators
