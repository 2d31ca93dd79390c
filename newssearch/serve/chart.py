"""The timeline of a query as an inline SVG bar chart, drawn on the server.

No script and no inline style (the page's Content-Security-Policy allows neither):
colours come from classes in the stylesheet, and each bar carries a ``<title>``
("2025-08-13: 4 articles") that browsers show on hover. The counts are those of
:meth:`NewsIndex.timeline`, the ones ``newssearch timeline`` prints.
"""
from __future__ import annotations

from html import escape
from typing import List

from ..model import Timeline

__all__ = ["timeline_svg"]

WIDTH = 720
HEIGHT = 130
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 8, 22


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def timeline_svg(tl: Timeline, *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """*tl* as an ``<svg>`` element (text, every label escaped): one bar per period,
    the largest count on the y axis, first, middle and last period under the x axis."""
    periods = tl.periods
    top = max((p.count for p in periods), default=0)
    plot_w = width - LEFT - RIGHT
    plot_h = height - TOP - BOTTOM
    label = f"Articles per {tl.by} matching {tl.query}"
    out: List[str] = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    base = TOP + plot_h
    out.append(f'<line class="axis" x1="{LEFT}" y1="{base}" x2="{width - RIGHT}" y2="{base}"/>')
    out.append(f'<text class="tick" x="{LEFT - 4}" y="{TOP + 8}" text-anchor="end">{top}</text>')
    out.append(f'<text class="tick" x="{LEFT - 4}" y="{base}" text-anchor="end">0</text>')
    if periods:
        step = plot_w / len(periods)
        gap = 1.0 if step > 3 else 0.0
        for i, p in enumerate(periods):
            h = plot_h * p.count / top if top else 0.0
            x = LEFT + i * step
            noun = "article" if p.count == 1 else "articles"
            out.append(
                f'<rect class="bar" x="{_num(x)}" y="{_num(base - h)}" width="{_num(max(step - gap, 0.5))}" '
                f'height="{_num(h)}"><title>{escape(p.label)}: {p.count} {noun}</title></rect>'
            )
        marks = sorted({0, len(periods) // 2, len(periods) - 1}) if len(periods) > 2 else list(range(len(periods)))
        for i in marks:
            anchor = "start" if i == 0 else "end" if i == len(periods) - 1 else "middle"
            x = LEFT + i * step + (0 if anchor == "start" else step if anchor == "end" else step / 2)
            out.append(f'<text class="tick" x="{_num(x)}" y="{height - 6}" text-anchor="{anchor}">'
                       f"{escape(periods[i].label)}</text>")
    else:
        out.append(f'<text class="tick" x="{LEFT + plot_w / 2:.0f}" y="{TOP + plot_h / 2:.0f}" '
                   f'text-anchor="middle">no dated match</text>')
    out.append("</svg>")
    return "".join(out)
