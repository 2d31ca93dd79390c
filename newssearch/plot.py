"""``timeline --png``: a bar chart of a :class:`~newssearch.model.Timeline` with matplotlib.

matplotlib is the optional extra ``newssearch[plot]``; it is imported only here, with
the non-interactive Agg backend (no display needed, safe under cron).
"""
from __future__ import annotations

import os
from pathlib import Path

from .errors import NewsSearchError
from .model import Timeline

__all__ = ["plot_timeline"]


def plot_timeline(tl: Timeline, path: Path, *, title: str = "") -> Path:
    """Draw *tl* as a bar chart into the PNG file *path* (written whole or not at all)."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt
    except ImportError:
        raise NewsSearchError("--png needs matplotlib: pip install 'newssearch[plot]'") from None
    path = Path(path)
    widths = {"day": 0.9, "week": 6.0, "month": 27.0}
    fig, ax = plt.subplots(figsize=(10, 3.6), dpi=100)
    try:
        starts = [p.start for p in tl.periods]
        counts = [p.count for p in tl.periods]
        ax.bar(starts, counts, width=widths.get(tl.by, 0.9), align="edge", color="#2f6f9f")
        ax.set_ylabel(f"articles per {tl.by}")
        heading = title or f"{tl.query!r}: {tl.total} match{'' if tl.total == 1 else 'es'}"
        ax.set_title(heading, loc="left", fontsize=11)
        ax.xaxis.set_major_locator(mdates.AutoDateLocator())
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        if not starts:
            ax.text(0.5, 0.5, "no dated match", transform=ax.transAxes, ha="center", va="center")
        fig.tight_layout()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fig.savefig(tmp, format="png")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        plt.close(fig)
    return path
