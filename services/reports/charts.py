"""Report charts: one small model (stacked bars, a target line, highlighted categories) drawn as inline SVG for
HTML reports and with fpdf2 primitives for PDF (services/reports/pdf.py), so reports need no plotting library."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

PALETTE = ("#1f5fa8", "#e07b39", "#3a9e5c", "#c8414b", "#8a63b8", "#7f7f7f", "#c9a227", "#2aa1b3")
SENTIMENT_COLOURS = {"positive": "#3a9e5c", "neutral": "#9aa5b1", "negative": "#c8414b", "unknown": "#d9d9d9"}
HIGHLIGHT = "#fbe3e4"


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """Stacked vertical bars: one value per category and series; optional target line and highlighted bars."""

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str = ""
    target: float | None = None
    target_label: str = ""
    highlight: tuple[int, ...] = ()
    colours: tuple[str, ...] = PALETTE

    def totals(self) -> list[float]:
        """Height of each stacked bar."""
        return [sum(values[i] for _, values in self.series) for i in range(len(self.categories))]

    def scale_max(self) -> float:
        """A round upper bound for the value axis."""
        top = max([*self.totals(), self.target or 0.0, 1e-9])
        magnitude = 10 ** math.floor(math.log10(top))
        for step in (1, 2, 2.5, 5, 10):
            if top <= step * magnitude:
                return step * magnitude
        return 10 * magnitude

    def label_every(self, max_labels: int = 12) -> int:
        """Show one category label in ``n`` so they do not overlap."""
        return max(1, math.ceil(len(self.categories) / max_labels))


def number(value: float) -> str:
    """French-style short number: 1 234 ; 2,5."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:.1f}".replace(".", ",")


def svg(chart: Chart, width: int = 680, height: int = 240) -> str:
    """The chart as a standalone ``<svg>`` element with a text alternative."""
    left, right, top, bottom = 48, 12, 28, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(chart.categories))
    slot = plot_w / n
    vmax = chart.scale_max()
    y = lambda v: top + plot_h - plot_h * v / vmax  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(chart.title)}" font-family="sans-serif" font-size="10">',
             f'<title>{escape(chart.title)}</title>',
             f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(chart.title)}</text>']
    for i in chart.highlight:
        parts.append(f'<rect x="{left + i * slot:.1f}" y="{top}" width="{slot:.1f}" height="{plot_h}" '
                     f'fill="{HIGHLIGHT}"/>')
    for k in range(5):
        v = vmax * k / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#e5e5e5"/>')
        parts.append(f'<text x="{left - 4}" y="{y(v) + 3:.1f}" text-anchor="end">{number(v)}</text>')
    for i in range(len(chart.categories)):
        base = 0.0
        for s, (_name, values) in enumerate(chart.series):
            v = values[i]
            if v > 0:
                parts.append(f'<rect class="bar" x="{left + i * slot + slot * 0.12:.1f}" y="{y(base + v):.1f}" '
                             f'width="{slot * 0.76:.1f}" height="{y(base) - y(base + v):.1f}" '
                             f'fill="{chart.colours[s % len(chart.colours)]}"/>')
            base += v
    every = chart.label_every()
    for i, cat in enumerate(chart.categories):
        if i % every == 0:
            parts.append(f'<text x="{left + (i + 0.5) * slot:.1f}" y="{top + plot_h + 12}" '
                         f'text-anchor="middle">{escape(cat)}</text>')
    if chart.target is not None:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(chart.target):.1f}" y2="{y(chart.target):.1f}" '
                     f'stroke="#c8414b" stroke-dasharray="5,3"/>')
        parts.append(f'<text x="{width - right}" y="{y(chart.target) - 3:.1f}" text-anchor="end" fill="#c8414b">'
                     f'{escape(chart.target_label)}</text>')
    x = left
    for s, (name, _values) in enumerate(chart.series):
        parts.append(f'<rect x="{x}" y="{height - 18}" width="10" height="10" '
                     f'fill="{chart.colours[s % len(chart.colours)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 9}">{escape(name)}</text>')
        x += 24 + 6 * len(name)
    parts.append("</svg>")
    return "".join(parts)
