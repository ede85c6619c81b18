"""Charts as inline SVG, drawn on the server: no script, readable on a phone.

Every label is escaped; long labels are shortened on the chart and given in
full in a ``<title>`` (a tooltip) and in the card's table and CSV. Charts
scale to their container's width (``viewBox`` and ``width: 100%`` in CSS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

COLOURS = ("#1f6fb2", "#e07b39", "#3a9d5d", "#c94c4c", "#8a63b8", "#c9a227", "#4aa3a2", "#7f7f7f")
WIDTH = 320


def colour(n: int) -> str:
    return COLOURS[n % len(COLOURS)]


def short(text: str, size: int = 8) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _svg(height: int, body: list[str], label: str) -> Markup:
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def bar(rows: Sequence[tuple[str, float | None]], label: str) -> Markup:
    """Horizontal bars: a label, a bar, the value."""
    top = max([v or 0 for _, v in rows] + [0])
    line = 24
    body = []
    for n, (name, value) in enumerate(rows):
        y = n * line + 4
        length = 0 if not top else (value or 0) / top * 170
        body.append(
            f"<g><title>{escape(name)}: {escape(number(value))}</title>"
            f'<text x="0" y="{y + 14}" font-size="12">{escape(short(name))}</text>'
            f'<rect x="96" y="{y + 3}" width="{length:.1f}" height="14" rx="2" fill="{colour(0)}"/>'
            f'<text x="{100 + length:.1f}" y="{y + 14}" font-size="11">{escape(number(value))}</text></g>'
        )
    return _svg(max(len(rows), 1) * line + 8, body, label)


def line(points: Sequence[tuple[str, float | None]], label: str) -> Markup:
    """A trend: a polyline over the periods, with dots and the first and last labels."""
    height, left, right, top_pad, bottom = 170, 36, 8, 10, 28
    values = [v or 0 for _, v in points]
    top = max([*values, 0]) or 1
    span = max(len(points) - 1, 1)
    xy = [
        (
            left + i * (WIDTH - left - right) / span,
            top_pad + (1 - v / top) * (height - top_pad - bottom),
        )
        for i, v in enumerate(values)
    ]
    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{WIDTH - right}" y2="{height - bottom}" stroke="#999"/>',
        f'<text x="0" y="{top_pad + 4}" font-size="10">{escape(number(top))}</text>',
        f'<text x="0" y="{height - bottom}" font-size="10">0</text>',
    ]
    if xy:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{colour(0)}" stroke-width="2"/>'
        )
    step = max(1, math.ceil(len(points) / 6))
    for i, ((name, value), (x, y)) in enumerate(zip(points, xy, strict=True)):
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour(0)}">'
            f"<title>{escape(name)}: {escape(number(value))}</title></circle>"
        )
        if i % step == 0 or i == len(points) - 1:
            anchor = "end" if i == len(points) - 1 else "start" if i == 0 else "middle"
            body.append(
                f'<text x="{x:.1f}" y="{height - 10}" font-size="9" text-anchor="{anchor}">'
                f"{escape(name[2:] if len(name) > 6 else name)}</text>"
            )
    return _svg(height, body, label)


def pie(rows: Sequence[tuple[str, float | None]], label: str) -> Markup:
    """Slices with their share; the legend is the card's table (HTML, below the chart)."""
    values = [max(v or 0, 0) for _, v in rows]
    whole = sum(values)
    cx, cy, r = WIDTH / 2, 80, 70
    body = []
    if not whole:
        body.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="#eee"/>')
        return _svg(170, body, label)
    angle = -math.pi / 2
    for n, ((name, value), v) in enumerate(zip(rows, values, strict=True)):
        if v <= 0:
            continue
        share = v / whole
        tip = f"<title>{escape(name)}: {escape(number(value))} ({share:.0%})</title>"
        if share >= 0.9999:
            body.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{colour(n)}">{tip}</circle>')
            continue
        end = angle + share * 2 * math.pi
        x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
        x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
        large = 1 if share > 0.5 else 0
        body.append(
            f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r},{r} 0 {large} 1 {x2:.1f},{y2:.1f} Z" '
            f'fill="{colour(n)}" stroke="#fff">{tip}</path>'
        )
        angle = end
    return _svg(170, body, label)
