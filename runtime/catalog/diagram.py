"""A workflow as an SVG diagram, drawn on the server: states in columns, transitions as arrows.

States are placed in columns by their distance from the first state
(breadth-first over the transitions), one row per state in a column. Every
text is escaped; the SVG has no script and no external reference.
"""

from __future__ import annotations

from html import escape
from typing import Any

from runtime.model import text as label_text

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 120, 36, 70, 26, 16


def _ids(value: Any, states: list[str]) -> list[str]:
    if value == "*":
        return list(states)
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def workflow_svg(flow: dict[str, Any], locale: str = "zh") -> str:
    states_spec = flow.get("states") or {}
    states = [s for s in states_spec if isinstance(s, str)]
    if not states:
        return ""
    finals = {s for s, v in states_spec.items() if isinstance(v, dict) and v.get("final")}
    edges: list[tuple[str, str, str]] = []
    for tid, spec in (flow.get("transitions") or {}).items():
        if not isinstance(spec, dict) or spec.get("to") not in states_spec:
            continue
        label = label_text(spec.get("label"), locale) or tid
        sources = _ids(spec.get("from"), [s for s in states if s not in finals])
        for source in sources:
            if source in states_spec:
                edges.append((source, str(spec["to"]), label))
    depth = {states[0]: 0}
    queue = [states[0]]
    while queue:
        here = queue.pop(0)
        for a, b, _ in edges:
            if a == here and b not in depth:
                depth[b] = depth[here] + 1
                queue.append(b)
    for s in states:
        depth.setdefault(s, max(depth.values()) + 1)
    columns: dict[int, list[str]] = {}
    for s in states:
        columns.setdefault(depth[s], []).append(s)
    pos: dict[str, tuple[float, float]] = {}
    for col, members in columns.items():
        for row, s in enumerate(members):
            pos[s] = (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max(len(m) for m in columns.values()) * (BOX_H + GAP_Y) - GAP_Y + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="workflow">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>',
    ]
    seen: dict[tuple[str, str], int] = {}
    for a, b, label in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        n = seen.get((a, b), 0)
        seen[(a, b)] = n + 1
        if a == b:
            cx, cy = x1 + BOX_W / 2, y1
            path = f"M{cx - 12},{cy} C{cx - 30},{cy - 30} {cx + 30},{cy - 30} {cx + 12},{cy}"
            tx, ty = cx, cy - 26
        else:
            forward = x2 > x1
            sx = x1 + (BOX_W if forward else 0) if x1 != x2 else x1 + BOX_W / 2
            ex = x2 + (0 if forward else BOX_W) if x1 != x2 else x2 + BOX_W / 2
            sy = y1 + BOX_H / 2 if x1 != x2 else (y1 + BOX_H if y2 > y1 else y1)
            ey = y2 + BOX_H / 2 if x1 != x2 else (y2 if y2 > y1 else y2 + BOX_H)
            bend = (18 + 14 * n) * (1 if forward or x1 == x2 else -1)
            mx, my = (sx + ex) / 2, (sy + ey) / 2 - bend
            path = f"M{sx},{sy} Q{mx},{my} {ex},{ey}"
            tx, ty = mx, my + bend / 2 - 3
        parts.append(f'<path d="{path}" fill="none" stroke="#889" marker-end="url(#arrow)"/>')
        parts.append(
            f'<text x="{tx:.0f}" y="{ty:.0f}" font-size="10" text-anchor="middle" fill="#445">{escape(label)}</text>'
        )
    for s in states:
        x, y = pos[s]
        spec = states_spec.get(s)
        label = label_text(spec.get("label") if isinstance(spec, dict) else spec, locale) or s
        stroke = 'stroke-width="3"' if s in finals else 'stroke-width="1.5"'
        parts.append(
            f'<g class="state" data-state="{escape(s)}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" '
            f'fill="#f4f6fb" stroke="#36c" {stroke}/>'
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 5:.0f}" font-size="13" text-anchor="middle">{escape(label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
