"""Small plots drawn as inline SVG markup on the server: histograms and a scatter with thresholds.

The web pages must work without internet and without a script library, and a plot must scale
with the page: hand-built SVG does both, costs no matplotlib figure per request, and every label
goes through :func:`html.escape`, so a file name in a tooltip can never become markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 10, 22, 30


@dataclass(frozen=True)
class Point:
    """One dot of a scatter: its coordinates, a tooltip and a link (both escaped when drawn)."""

    x: float
    y: float
    label: str = ""
    href: str = ""


def _fmt(value: float) -> str:
    return f"{value:.2f}"


def _frame(title: str, body: list[str], *, width: int = WIDTH, height: int = HEIGHT) -> str:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="plot" '
        f'role="img" aria-label="{escape(title)}">'
    )
    return "".join([head, f"<title>{escape(title)}</title>", *body, "</svg>"])


def histogram(
    title: str,
    values: Sequence[float],
    *,
    bins: int = 10,
    low: float = 0.0,
    high: float = 1.0,
    threshold: float | None = None,
    threshold_label: str = "",
) -> str:
    """Counts of ``values`` in ``bins`` equal bins over [low, high], with an optional threshold line."""
    counts = [0] * bins
    span = (high - low) or 1.0
    for value in values:
        index = int((float(value) - low) / span * bins)
        counts[min(max(index, 0), bins - 1)] += 1
    top = max(counts) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bar_w = plot_w / bins
    body = [
        f'<text x="{LEFT}" y="14" class="plot-title">{escape(title)} (n={len(values)})</text>',
        _axes(plot_w, plot_h),
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" class="tick">{top}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x = LEFT + i * bar_w
        lo, hi = low + span * i / bins, low + span * (i + 1) / bins
        body.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w - 2:.1f}" '
            f'height="{h:.1f}"><title>{count} in [{_fmt(lo)}, {_fmt(hi)})</title></rect>'
        )
    body += _x_ticks(low, high, plot_w, plot_h)
    if threshold is not None and low <= threshold <= high:
        x = LEFT + plot_w * (threshold - low) / span
        body.append(
            f'<line class="threshold" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}">'
            f"<title>{escape(threshold_label)} = {_fmt(threshold)}</title></line>"
        )
    return _frame(title, body)


def scatter(
    title: str,
    points: Sequence[Point],
    *,
    x_label: str,
    y_label: str,
    x_threshold: float | None = None,
    y_threshold: float | None = None,
) -> str:
    """Points over [0, max] on both axes, dashed lines at the thresholds; each dot links to its page."""
    x_high = max([p.x for p in points] + [x_threshold or 0.0, 0.1]) * 1.1
    y_high = max([p.y for p in points] + [y_threshold or 0.0, 0.1]) * 1.1
    width, height = 420, 260
    plot_w, plot_h = width - LEFT - RIGHT - 10, height - TOP - BOTTOM - 10

    def sx(v: float) -> float:
        return LEFT + plot_w * v / x_high

    def sy(v: float) -> float:
        return TOP + plot_h - plot_h * v / y_high

    body = [
        f'<text x="{LEFT}" y="14" class="plot-title">{escape(title)} (n={len(points)})</text>',
        _axes(plot_w, plot_h),
        *_x_ticks(0.0, x_high, plot_w, plot_h),
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle" class="axis-label">'
        f"{escape(x_label)}</text>",
        f'<text x="10" y="{TOP + plot_h / 2:.0f}" text-anchor="middle" class="axis-label" '
        f'transform="rotate(-90 10 {TOP + plot_h / 2:.0f})">{escape(y_label)}</text>',
        f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" class="tick">{_fmt(y_high)}</text>',
    ]
    if x_threshold is not None:
        body.append(
            f'<line class="threshold" x1="{sx(x_threshold):.1f}" y1="{TOP}" x2="{sx(x_threshold):.1f}" '
            f'y2="{TOP + plot_h}"><title>threshold {escape(x_label)} = {_fmt(x_threshold)}</title></line>'
        )
    if y_threshold is not None:
        body.append(
            f'<line class="threshold" x1="{LEFT}" y1="{sy(y_threshold):.1f}" x2="{LEFT + plot_w}" '
            f'y2="{sy(y_threshold):.1f}"><title>threshold {escape(y_label)} = {_fmt(y_threshold)}</title></line>'
        )
    for p in points:
        dot = (
            f'<circle class="dot" cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="4">'
            f"<title>{escape(p.label)} ({_fmt(p.x)}, {_fmt(p.y)})</title></circle>"
        )
        body.append(f'<a href="{escape(p.href)}">{dot}</a>' if p.href else dot)
    return _frame(title, body, width=width, height=height)


def _axes(plot_w: float, plot_h: float) -> str:
    return f'<path class="axis" d="M{LEFT},{TOP} V{TOP + plot_h:.1f} H{LEFT + plot_w:.1f}" fill="none"/>'


def _x_ticks(low: float, high: float, plot_w: float, plot_h: float) -> list[str]:
    ticks = []
    for i in range(5):
        value = low + (high - low) * i / 4
        x = LEFT + plot_w * i / 4
        ticks.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 12:.1f}" text-anchor="middle" class="tick">{_fmt(value)}</text>'
        )
    return ticks
