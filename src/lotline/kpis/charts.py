"""SVG charts of KPI values, written by hand (no plotting dependency): pure functions to text.

- ``line_chart``: one KPI across runs (a time series); NULL values leave a gap and are marked with
  a hollow circle whose tooltip gives the reason.
- ``bar_chart``: one KPI across a dimension of one run (horizontal bars, NULLs labelled).
Both return a complete standalone SVG document (UTF-8 text).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

FONT = "font-family='system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif'"
AXIS = "#555"
GRID = "#e3e3e3"
INK = "#1f77b4"


@dataclass(frozen=True)
class Point:
    label: str
    value: Decimal | float | None
    note: str | None = None  # e.g. the reason a value is NULL


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e6 or abs(v) < 1e-3:
        return f"{v:.3g}"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}".rstrip("0").rstrip(".")


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (lo <= 0 <= hi not required)."""
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    span = hi - lo
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t < hi + step * 0.999:
        ticks.append(round(t, 12))
        t += step
    return ticks


def _doc(width: int, height: int, title: str, body: list[str]) -> str:
    return "\n".join(
        [
            "<?xml version='1.0' encoding='UTF-8'?>",
            f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title, {chr(39): '&apos;'})}'>",
            f"<title>{escape(title)}</title>",
            f"<rect width='{width}' height='{height}' fill='white'/>",
            f"<text x='{width / 2}' y='24' text-anchor='middle' font-size='16' font-weight='600' {FONT}>"
            f"{escape(title)}</text>",
            *body,
            "</svg>",
            "",
        ]
    )


def line_chart(  # noqa: C901 — drawing code: one linear sequence of SVG parts
    title: str, points: Sequence[Point], *, units: str = "", width: int = 760, height: int = 380
) -> str:
    """A line chart of values in order (x = category labels, e.g. run windows)."""
    left, right, top, bottom = 70, 20, 44, 70
    pw, ph = width - left - right, height - top - bottom
    vals = [float(p.value) for p in points if p.value is not None]
    lo, hi = (min(vals + [0.0]), max(vals + [0.0])) if vals else (0.0, 1.0)
    ticks = _nice_ticks(lo, hi)
    y0, y1 = ticks[0], ticks[-1]

    def y(v: float) -> float:
        return top + ph - (v - y0) / (y1 - y0) * ph

    n = len(points)

    def x(i: int) -> float:
        return left + (pw / 2 if n == 1 else i * pw / (n - 1))

    body = []
    for t in ticks:
        body.append(f"<line x1='{left}' x2='{left + pw}' y1='{y(t):.1f}' y2='{y(t):.1f}' stroke='{GRID}'/>")
        body.append(
            f"<text x='{left - 6}' y='{y(t) + 4:.1f}' text-anchor='end' font-size='11' fill='{AXIS}' {FONT}>{_fmt(t)}</text>"
        )
    body.append(f"<line x1='{left}' x2='{left}' y1='{top}' y2='{top + ph}' stroke='{AXIS}'/>")
    body.append(f"<line x1='{left}' x2='{left + pw}' y1='{top + ph}' y2='{top + ph}' stroke='{AXIS}'/>")
    if units:
        body.append(
            f"<text x='14' y='{top + ph / 2:.1f}' font-size='11' fill='{AXIS}' text-anchor='middle' "
            f"transform='rotate(-90 14 {top + ph / 2:.1f})' {FONT}>{escape(units)}</text>"
        )
    # segments between consecutive non-NULL points; a NULL breaks the line
    run: list[str] = []
    segments: list[list[str]] = []
    for i, p in enumerate(points):
        if p.value is None:
            if run:
                segments.append(run)
            run = []
        else:
            run.append(f"{x(i):.1f},{y(float(p.value)):.1f}")
    if run:
        segments.append(run)
    for seg in segments:
        if len(seg) > 1:
            body.append(f"<polyline fill='none' stroke='{INK}' stroke-width='2' points='{' '.join(seg)}'/>")
    step = max(1, n // 10)
    for i, p in enumerate(points):
        if p.value is None:
            tip = escape(f"{p.label}: no value ({p.note or 'undefined'})")
            body.append(
                f"<circle cx='{x(i):.1f}' cy='{top + ph - 6:.1f}' r='4' fill='white' stroke='#d62728' "
                f"stroke-width='1.5'><title>{tip}</title></circle>"
            )
        else:
            tip = escape(f"{p.label}: {_fmt(float(p.value))} {units}".strip())
            body.append(
                f"<circle cx='{x(i):.1f}' cy='{y(float(p.value)):.1f}' r='3.5' fill='{INK}'><title>{tip}</title></circle>"
            )
        if i % step == 0 or i == n - 1:
            body.append(
                f"<text x='{x(i):.1f}' y='{top + ph + 16}' font-size='10' fill='{AXIS}' text-anchor='end' "
                f"transform='rotate(-30 {x(i):.1f} {top + ph + 16})' {FONT}>{escape(p.label)}</text>"
            )
    if not points:
        body.append(
            f"<text x='{left + pw / 2}' y='{top + ph / 2}' text-anchor='middle' font-size='13' fill='{AXIS}' {FONT}>"
            "no published runs</text>"
        )
    return _doc(width, height, title, body)


def bar_chart(title: str, points: Sequence[Point], *, units: str = "", width: int = 760) -> str:
    """Horizontal bars, one per label, in the order given."""
    left, right, top, bar_h, gap = 180, 80, 44, 18, 6
    height = top + max(len(points), 1) * (bar_h + gap) + 40
    pw = width - left - right
    vals = [float(p.value) for p in points if p.value is not None]
    lo, hi = min(vals + [0.0]), max(vals + [0.0])
    ticks = _nice_ticks(lo, hi)
    x0, x1 = ticks[0], ticks[-1]

    def x(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    body = []
    base = top + len(points) * (bar_h + gap)
    for t in ticks:
        body.append(f"<line x1='{x(t):.1f}' x2='{x(t):.1f}' y1='{top}' y2='{base}' stroke='{GRID}'/>")
        body.append(
            f"<text x='{x(t):.1f}' y='{base + 14}' text-anchor='middle' font-size='11' fill='{AXIS}' {FONT}>{_fmt(t)}</text>"
        )
    for i, p in enumerate(points):
        yy = top + i * (bar_h + gap)
        label = p.label if len(p.label) <= 28 else p.label[:27] + "…"
        body.append(
            f"<text x='{left - 6}' y='{yy + bar_h - 5}' text-anchor='end' font-size='11' {FONT}>{escape(label)}</text>"
        )
        if p.value is None:
            body.append(
                f"<text x='{x(0) + 4:.1f}' y='{yy + bar_h - 5}' font-size='11' fill='#d62728' {FONT}>"
                f"null: {escape(p.note or 'undefined')}</text>"
            )
            continue
        v = float(p.value)
        bx, bw = (x(0), x(v) - x(0)) if v >= 0 else (x(v), x(0) - x(v))
        tip = escape(f"{p.label}: {_fmt(v)} {units}".strip())
        body.append(
            f"<rect x='{bx:.1f}' y='{yy}' width='{max(bw, 0.5):.1f}' height='{bar_h}' fill='{INK}'><title>{tip}</title></rect>"
        )
        body.append(
            f"<text x='{max(bx + bw, x(0)) + 4:.1f}' y='{yy + bar_h - 5}' font-size='11' fill='{AXIS}' {FONT}>{_fmt(v)}</text>"
        )
    body.append(f"<line x1='{x(0):.1f}' x2='{x(0):.1f}' y1='{top}' y2='{base}' stroke='{AXIS}'/>")
    if units:
        body.append(
            f"<text x='{left + pw / 2}' y='{base + 32}' text-anchor='middle' font-size='11' fill='{AXIS}' {FONT}>{escape(units)}</text>"
        )
    if not points:
        body.append(f"<text x='{left}' y='{top + 14}' font-size='13' fill='{AXIS}' {FONT}>no values</text>")
    return _doc(width, height, title, body)
