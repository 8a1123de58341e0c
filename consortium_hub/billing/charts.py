"""Server-rendered SVG charts: no JavaScript, no CDN, nothing fetched by the browser.

Each chart is an `<svg role="img">` with a title and a text description; pages always show a table
with the same numbers next to it (the chart is a picture of the table, never the only copy). Bars carry
their value as text too, and colour is never the only cue (each bar is labelled).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import count

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# Dark enough for white text and for 3:1 contrast against the white background (WCAG 1.4.11).
BAR_COLOURS = ["#1f5f8b", "#2e7d32", "#b26a00", "#b3261e", "#6a1b9a"]
_ids = count(1)


def bar_chart(*, title: str, bars: Sequence[tuple[str, Decimal, str]], description: str = "",
              width: int = 560, bar_height: int = 26, label_width: int = 130) -> SafeString:
    """A horizontal bar chart. `bars` are (label, value, formatted value); negative values count as 0."""
    chart_id = f"chart-{next(_ids)}"
    gap = 10
    top = 8
    value_width = 130
    plot_width = width - label_width - value_width
    largest = max((value for _l, value, _f in bars if value > 0), default=Decimal(0))
    height = top * 2 + len(bars) * (bar_height + gap)
    summary = description or "; ".join(f"{label}: {shown}" for label, _v, shown in bars)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    for index, (label, value, shown) in enumerate(bars):
        y = top + index * (bar_height + gap)
        length = 0 if largest <= 0 or value <= 0 else max(2, int(plot_width * value / largest))
        colour = BAR_COLOURS[index % len(BAR_COLOURS)]
        text_y = y + bar_height * 0.68
        parts.append(
            f'<g><text x="{label_width - 8}" y="{text_y:.1f}" text-anchor="end" font-size="13" fill="#222">'
            f'{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="{colour}" rx="2">'
            f'<title>{escape(label)}: {escape(shown)}</title></rect>'
            f'<text x="{label_width + length + 6}" y="{text_y:.1f}" font-size="13" fill="#222">{escape(shown)}</text>'
            f'</g>')
    parts.append(f'<line x1="{label_width}" y1="{top - 2}" x2="{label_width}" y2="{height - top + 2}" '
                 f'stroke="#555" stroke-width="1"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text in it is escaped above


def ageing_chart(*, currency: str, cells: Sequence[tuple[str, Decimal, str]], labels: dict[str, str]) -> SafeString:
    """Receivables of one currency by age bucket (cells: (bucket key, amount, formatted))."""
    bars = [(str(labels[key]), amount, shown) for key, amount, shown in cells]
    return bar_chart(title=f"Receivables in {currency} by age", bars=bars)
