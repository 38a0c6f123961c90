"""Horizontal bar charts as inline SVG, drawn on the server: no script, nothing fetched."""

from __future__ import annotations

from markupsafe import Markup, escape

ROW = 26  # px per bar
LABEL_WIDTH = 230
BAR_WIDTH = 360


def bar_chart(title: str, items: list[tuple[str, int]], chart_id: str) -> Markup:
    """A titled chart (role=img, with the numbers as text too, for screen readers)."""
    top = max((value for _, value in items), default=0) or 1
    height = ROW * len(items) + 10
    width = LABEL_WIDTH + BAR_WIDTH + 60
    summary = "、".join(f"{name} {value}件" for name, value in items)
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-t" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}：{escape(summary)}</title>',
    ]
    for i, (name, value) in enumerate(items):
        y = 5 + i * ROW
        length = round(BAR_WIDTH * value / top)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="#1f2933">{escape(name)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" '
            f'fill="#1c5d99"></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 17}" font-size="13" '
            f'fill="#1f2933">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
