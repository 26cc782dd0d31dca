"""Inline SVG for the pages: an account's score as a sparkline and as a chart with its band day by day.

Pure functions of history points (`GET /accounts/{id}/history`'s `points`: day, score, band), one point
per event-time day, oldest first, a day without a score being a gap. Scores run 0-100, so the y scale is
fixed and two sparklines side by side compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any, NamedTuple

__all__ = ["BAND_COLOURS", "Dot", "band_colour", "score_chart", "segments", "sparkline"]

#: fill colours of the bands (and of a day without a band)
BAND_COLOURS = {"green": "#2f9e44", "yellow": "#e0a800", "red": "#d64545", None: "#b0b0b0"}
_LINE = "#1f4e79"


class Dot(NamedTuple):
    """A point of a drawn line, in SVG user units."""

    x: float
    y: float


def band_colour(band: str | None) -> str:
    """Return the colour of a band (grey for an unknown one)."""
    return BAND_COLOURS.get(band, BAND_COLOURS[None])


def _x(index: int, count: int, left: float, width: float) -> float:
    return left + (width / 2 if count <= 1 else index * width / (count - 1))


def _y(score: float, top: float, height: float) -> float:
    return top + height - max(0.0, min(100.0, score)) * height / 100.0


def segments(scores: Sequence[float | None], width: float, height: float, *, left: float = 0.0,
             top: float = 0.0) -> list[list[Dot]]:
    """Return the polylines of `scores` in a `width` x `height` box: one per run of days with a score.

    Day i sits at x = left + i * width / (days - 1); a score s at y = top + height * (1 - s / 100), SVG's
    y growing downwards. A day without a score breaks the line rather than joining its neighbours.
    """
    runs: list[list[Dot]] = []
    current: list[Dot] = []
    for i, score in enumerate(scores):
        if score is None:
            if current:
                runs.append(current)
            current = []
            continue
        current.append(Dot(round(_x(i, len(scores), left, width), 2), round(_y(score, top, height), 2)))
    if current:
        runs.append(current)
    return runs


def _polyline(run: list[Dot], stroke: str, stroke_width: float) -> str:
    if len(run) == 1:  # a lone day is a dot, not an invisible zero-length line
        return f'<circle cx="{run[0].x}" cy="{run[0].y}" r="{stroke_width}" fill="{stroke}"/>'
    points = " ".join(f"{d.x},{d.y}" for d in run)
    return (f'<polyline points="{points}" fill="none" stroke="{stroke}" stroke-width="{stroke_width}" '
            f'stroke-linejoin="round"/>')


def sparkline(points: Sequence[dict[str, Any]], width: int = 120, height: int = 28) -> str:
    """Return an inline SVG sparkline of the points' scores, its last point coloured by its band."""
    label = f"score over {len(points)} days" if points else "no score history yet"
    parts = [f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{label}"><title>{label}</title>']
    pad = 3.0
    runs = segments([p.get("score") for p in points], width - 2 * pad, height - 2 * pad, left=pad, top=pad)
    parts += [_polyline(run, _LINE, 1.5) for run in runs]
    if runs:
        last = runs[-1][-1]
        band = next((p.get("band") for p in reversed(points) if p.get("score") is not None), None)
        parts.append(f'<circle cx="{last.x}" cy="{last.y}" r="2.5" fill="{band_colour(band)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def score_chart(points: Sequence[dict[str, Any]], width: int = 720, height: int = 260) -> str:
    """Return an inline SVG chart: the score line over a 0-100 grid, and the band of each day as a strip."""
    left, right, top, strip, bottom = 34.0, 10.0, 10.0, 10.0, 22.0
    plot_w, plot_h = width - left - right, height - top - bottom - strip - 6
    n = len(points)
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="score and band over {n} days"><title>score and band over {n} days</title>']
    for tick in (0, 25, 50, 75, 100):
        y = round(_y(tick, top, plot_h), 2)
        out.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" stroke="#e3e3e3"/>'
                   f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" font-size="11" fill="#666">{tick}</text>')
    if not n:
        out.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#666">'
                   f'no score history yet</text></svg>')
        return "".join(out)
    # The band strip: one rectangle per day, so a day's colour is its band at the end of that day.
    strip_y, day_w = top + plot_h + 6, plot_w / n
    for i, p in enumerate(points):
        tip = escape(f"{p.get('day')}: {_fmt(p.get('score'))} ({p.get('band') or 'no band'})")
        out.append(f'<rect class="band-day" x="{round(left + i * day_w, 2)}" y="{strip_y}" '
                   f'width="{round(day_w + 0.3, 2)}" height="{strip}" fill="{band_colour(p.get("band"))}">'
                   f'<title>{tip}</title></rect>')
    runs = segments([p.get("score") for p in points], plot_w - day_w, plot_h, left=left + day_w / 2, top=top)
    out += [_polyline(run, _LINE, 2.0) for run in runs]
    for i, p in enumerate(points):
        if p.get("score") is None:
            continue
        dot = Dot(round(_x(i, n, left + day_w / 2, plot_w - day_w), 2), round(_y(p["score"], top, plot_h), 2))
        tip = escape(f"{p.get('day')}: score {_fmt(p['score'])}, {p.get('band') or 'no band'}")
        out.append(f'<circle class="day" cx="{dot.x}" cy="{dot.y}" r="2.6" fill="{band_colour(p.get("band"))}">'
                   f'<title>{tip}</title></circle>')
    label_y = strip_y + strip + 12
    out.append(f'<text x="{left}" y="{label_y}" font-size="11" fill="#666">{escape(str(points[0].get("day")))}</text>'
               f'<text x="{width - right}" y="{label_y}" text-anchor="end" font-size="11" fill="#666">'
               f'{escape(str(points[-1].get("day")))}</text></svg>')
    return "".join(out)


def _fmt(score: Any) -> str:
    return "no score" if score is None else f"{score:g}"
