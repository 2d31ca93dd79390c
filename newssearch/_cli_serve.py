"""The ``serve`` command: the local search page (see :mod:`newssearch.serve`).

:func:`register` adds it to the ``newssearch`` group; it imports :mod:`newssearch.cli`
only when called, and :mod:`newssearch.serve` (Starlette, uvicorn, Jinja2: the
``newssearch[serve]`` extra) only when the command runs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import click

SERVE_EXTRA = ("starlette", "uvicorn", "jinja2", "markupsafe", "anyio", "h11")
INSTALL_HINT = "newssearch serve needs the serve extra: pip install 'newssearch[serve]'"


def _load_serve() -> Callable[..., Any]:
    """:func:`newssearch.serve.serve`, or a one-line error naming the extra when it is missing."""
    from . import cli

    try:
        import uvicorn  # noqa: F401 - only the command needs it, make_app does not

        from .serve import serve
    except ImportError as exc:
        if (exc.name or "").split(".")[0] in SERVE_EXTRA:
            raise cli._fail(INSTALL_HINT) from None
        raise
    return serve


def exposure_warning(host: str) -> Optional[str]:
    """The warning for a *host* that is not loopback, else None."""
    from .serve.params import is_loopback  # framework-free

    if is_loopback(host):
        return None
    return (f"warning: serving on {host}: the search page is readable by anyone who can reach this address "
            f"(no login); put it behind a reverse proxy with authentication on an untrusted network")


def register(main: click.Group) -> None:
    """Add ``serve`` to *main*."""
    from . import cli

    @main.command("serve")
    @cli.index_option
    @cli.config_option
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on; anything but loopback makes the page readable by others.")
    @click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
    @cli._errors_to_exit
    def serve_cmd(index_path: Path, config_path: Optional[Path], host: str, port: int) -> None:
        """A local, read-only search page for the index, at http://HOST:PORT/ (Ctrl-C stops it).

        Search box (the full query language), filters, facets, highlighted snippets,
        related and similar articles, whole articles, a timeline chart and CSV/JSON Lines
        downloads of every match. Follows rebuilds and updates without a restart.
        Needs the serve extra: pip install 'newssearch[serve]'.
        """
        serve = _load_serve()
        warning = exposure_warning(host)
        if warning:
            click.echo(warning, err=True)
        serve(cli._index_from(config_path, index_path), host=host, port=port, now=cli._now)

    _ = serve_cmd  # registered by its decorator
