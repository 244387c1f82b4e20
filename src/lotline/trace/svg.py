"""The genealogy as an SVG picture, laid out by our own code (no graphviz, no network).

Layout: one column per signed depth — upstream components to the left of the targets (column
-depth), downstream lots to the right (column +depth) — lots sorted by SKU and code inside a
column. Edges are curves from parent to child labelled with the consumed -> produced quantities;
blocked / quarantined / expired lots are drawn in warning colours with their status spelled out,
so the picture stays readable in black and white. Very large traces are cut to ``max_nodes``
lots (the nearest first) and the picture says how many were left out.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from xml.sax.saxutils import escape

from lotline.trace.service import TraceResult, format_quantity

NODE_W, NODE_H = 190, 58
COL_GAP, ROW_GAP = 110, 22
MARGIN = 30
HEADER = 56

# status -> (fill, stroke)
STATUS_STYLE = {
    "active": ("#eef6ee", "#3b7a3b"),
    "consumed": ("#f0f0f0", "#8a8a8a"),
    "quarantine": ("#fff1d6", "#c77c00"),
    "blocked": ("#fde0de", "#b3261e"),
    "expired": ("#efe4da", "#7a4b28"),
}
FLAGGED = {"quarantine", "blocked", "expired"}


def _t(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 11,
    weight: str = "normal",
    anchor: str = "start",
    fill: str = "#222",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(text)}</text>'
    )


def render_svg(result: TraceResult, *, max_nodes: int = 400, title: str | None = None) -> str:  # noqa: C901 — layout then drawing, one linear sequence of SVG parts
    """An SVG document (text) of the traced lots and edges."""
    column: dict[uuid.UUID, int] = {}
    info = {}
    for lot in sorted(result.lots, key=lambda x: (x.depth, x.role != "target")):
        if lot.lot_id in column:
            continue  # a lot on a cycle is drawn once, where it was first met
        info[lot.lot_id] = lot
        if lot.role == "target":
            column[lot.lot_id] = 0
        elif lot.role == "upstream_component":
            column[lot.lot_id] = -lot.depth
        else:
            column[lot.lot_id] = lot.depth
    ordered = sorted(column, key=lambda x: (abs(column[x]), info[x].sku, info[x].lot_code))
    drawn = set(ordered[:max_nodes])
    left_out = len(ordered) - len(drawn)

    shipments: defaultdict[uuid.UUID, int] = defaultdict(int)
    customers: defaultdict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for s in result.shipments:
        shipments[s.lot_id] += 1
        customers[s.lot_id].add(s.customer_id)
    held: defaultdict[uuid.UUID, Decimal] = defaultdict(Decimal)
    for h in result.on_hand:
        held[h.lot_id] += h.quantity

    cols = sorted({column[x] for x in drawn})
    by_col: dict[int, list[uuid.UUID]] = defaultdict(list)
    for x in drawn:
        by_col[column[x]].append(x)
    for c in by_col:
        by_col[c].sort(key=lambda x: (info[x].sku, info[x].lot_code))
    col_x = {c: MARGIN + i * (NODE_W + COL_GAP) for i, c in enumerate(cols)}
    pos: dict[uuid.UUID, tuple[float, float]] = {}
    for c, members in by_col.items():
        for r, x in enumerate(members):
            pos[x] = (col_x[c], HEADER + MARGIN + r * (NODE_H + ROW_GAP))
    rows = max((len(v) for v in by_col.values()), default=1)
    width = MARGIN * 2 + len(cols) * NODE_W + max(0, len(cols) - 1) * COL_GAP
    height = HEADER + MARGIN * 2 + rows * (NODE_H + ROW_GAP) + 30
    width = max(width, 520)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
    ]
    heading = title or f"Lot genealogy — {result.direction} trace as of {result.as_of:%Y-%m-%d %H:%M} UTC"
    out.append(_t(MARGIN, 26, heading, size=15, weight="bold"))
    sub = (
        f"{len(column)} lots · {len(result.edges)} edges · {len(result.shipments)} shipments to "
        f"{len(result.customers)} customers"
    )
    if result.cycles:
        sub += f" · {len(result.cycles)} cycle(s)"
    if left_out:
        sub += f" · {left_out} farther lots not drawn"
    out.append(_t(MARGIN, 44, sub, size=11, fill="#555"))
    for c in cols:
        label = "targets" if c == 0 else (f"upstream {-c}" if c < 0 else f"downstream {c}")
        out.append(
            _t(col_x[c] + NODE_W / 2, HEADER + MARGIN - 8, label, size=10, anchor="middle", fill="#777")
        )

    cycle_of = {x: n for n, c in enumerate(result.cycles) for x in c.lot_ids}
    for e in result.edges:
        if e.parent_lot_id not in pos or e.child_lot_id not in pos:
            continue
        (px, py), (cx, cy) = pos[e.parent_lot_id], pos[e.child_lot_id]
        x1, y1 = px + NODE_W, py + NODE_H / 2
        x2, y2 = cx, cy + NODE_H / 2
        on_cycle = cycle_of.get(e.parent_lot_id, -1) == cycle_of.get(e.child_lot_id, -2)
        if x2 <= x1:  # same column (a shortcut) or backwards: loop around below the boxes
            x2, y2 = cx + NODE_W / 2, cy + NODE_H
            x1, y1 = px + NODE_W / 2, py + NODE_H
            d = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {y1 + 60:.1f}, {x2:.1f} {y2 + 60:.1f}, {x2:.1f} {y2:.1f}"
            mx, my = (x1 + x2) / 2, max(y1, y2) + 48
            colour = "#b3261e" if on_cycle else "#888"
        else:
            bend = (x2 - x1) / 2
            d = f"M {x1:.1f} {y1:.1f} C {x1 + bend:.1f} {y1:.1f}, {x2 - bend:.1f} {y2:.1f}, {x2:.1f} {y2:.1f}"
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2 - 4
            colour = "#b3261e" if on_cycle else "#555"
        out.append(
            f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.2" marker-end="url(#arrow)"/>'
        )
        label = f"{format_quantity(e.consumed_quantity)} → {format_quantity(e.produced_quantity)}"
        out.append(_t(mx, my, label, size=9, anchor="middle", fill="#444"))

    for x, (nx, ny) in pos.items():
        lot = info[x]
        fill, stroke = STATUS_STYLE.get(lot.status, ("#ffffff", "#333"))
        width_px = 3 if lot.role == "target" else (2 if lot.status in FLAGGED else 1)
        dash = ' stroke-dasharray="5,3"' if lot.status in FLAGGED else ""
        out.append(
            f"<g><title>{escape(f'{lot.sku} {lot.lot_code} ({lot.status}) {lot.role} depth {lot.depth} id {lot.lot_id}')}</title>"
            f'<rect x="{nx:.1f}" y="{ny:.1f}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" '
            f'stroke="{stroke}" stroke-width="{width_px}"{dash}/>'
        )
        out.append(_t(nx + 8, ny + 17, lot.lot_code, size=12, weight="bold"))
        status = lot.status.upper() if lot.status in FLAGGED else lot.status
        out.append(_t(nx + NODE_W - 8, ny + 17, status, size=9, anchor="end", fill=stroke))
        out.append(_t(nx + 8, ny + 33, f"{lot.sku} · {lot.item_name}"[:34], size=10, fill="#333"))
        bits = [f"on hand {format_quantity(held[x])} {lot.uom}"]
        if shipments[x]:
            bits.append(f"{shipments[x]} shipments / {len(customers[x])} customers")
        out.append(_t(nx + 8, ny + 49, " · ".join(bits)[:40], size=9, fill="#555"))
        out.append("</g>")
    legend_y = height - 14
    lx = MARGIN
    for status, (fill, stroke) in STATUS_STYLE.items():
        out.append(
            f'<rect x="{lx}" y="{legend_y - 10}" width="12" height="12" fill="{fill}" stroke="{stroke}"/>'
        )
        out.append(_t(lx + 16, legend_y, status, size=10, fill="#444"))
        lx += 95
    out.append("</svg>")
    return "\n".join(out) + "\n"
