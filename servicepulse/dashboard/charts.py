"""Server-rendered inline SVG charts: no JavaScript, print in PDFs, readable by screen readers.

Each function returns markup safe to drop into a template. Every chart is an `<svg role="img">` with a
`<title>` and an `aria-label` that says in words what the picture shows, so nobody needs the picture.
Numbers are escaped through `format_html`; nothing user-supplied reaches an attribute unescaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

COMPLAINTS = "#b3261e"
BASELINE = "#58616e"
SCORE = "#1f5fbf"
BAND = "#c9dafc"
TARGET = "#1e7b45"
GRID = "#e3e7ec"
# The charts' widths in SVG units: the page scales them to their box, and their 11-unit text with them. A
# 640-unit chart in a phone's 290px box wrote its dates and counts 5px high; the narrow one keeps them 10px.
WIDE = 640
NARROW = 300
LABEL_GAP = 48  # SVG units between the centres of two date labels ("04 Nov" is about 36 wide)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _grid_row(x1: float, x2: float, y: float, label: object) -> str:
    """A horizontal grid line at `y` with its value written left of the plot."""
    return format_html(
        '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#58616e">{}</text>',
        x1,
        x2,
        _fmt(y),
        _fmt(y),
        GRID,
        x1 - 4,
        _fmt(y + 4),
        label,
    )


def _scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    if hi == lo:
        return (out_lo + out_hi) / 2
    return out_lo + (value - lo) * (out_hi - out_lo) / (hi - lo)


def _or(value: float | None, fallback: float | None) -> float:
    return value if value is not None else (fallback or 0.0)


def _polyline(points: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in points)


def sparkline(
    values: Sequence[float],
    *,
    baseline: Sequence[float] | None = None,
    label: str,
    width: int = 160,
    height: int = 36,
) -> SafeString:
    """Bars for `values` (e.g. complaints per day) with the baseline as a dashed line over them."""
    n = len(values)
    if n == 0:
        return SafeString('<span class="muted">no data</span>')
    top = max([*values, *(baseline or []), 1.0])
    step = width / n
    bars = []
    for i, value in enumerate(values):
        h = _scale(value, 0, top, 0, height - 2)
        above = baseline is not None and value > baseline[i] * 1.5 + 1
        bars.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                _fmt(i * step + 0.5),
                _fmt(height - h),
                _fmt(max(step - 1, 1)),
                _fmt(max(h, 0.5 if value else 0)),
                COMPLAINTS if above else "#d9797a",
            )
        )
    line = ""
    if baseline:
        points = [
            (i * step + step / 2, height - _scale(b, 0, top, 0, height - 2)) for i, b in enumerate(baseline)
        ]
        line = format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5" stroke-dasharray="3 2"/>',
            _polyline(points),
            BASELINE,
        )
    return format_html(
        '<svg class="chart spark" role="img" aria-label="{}" viewBox="0 0 {} {}" width="{}" height="{}" '
        'preserveAspectRatio="none"><title>{}</title>{}{}</svg>',
        label,
        width,
        height,
        width,
        height,
        label,
        mark_safe("".join(bars)),
        line,
    )


@dataclass(frozen=True)
class ScorePoint:
    """One period of an experience score: value and its confidence interval (None when too few posts)."""

    start: datetime
    value: float | None
    low: float | None = None
    high: float | None = None


def score_chart(
    points: Sequence[ScorePoint],
    *,
    target: float | None = None,
    label: str,
    width: int = WIDE,
    height: int = 220,
) -> SafeString:
    """Experience score (-100..100) over time: line, confidence band, target line, labelled axes."""
    left, right, top, bottom = 40, 10, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return top + _scale(v, 100, -100, 0, plot_h)

    parts: list[str] = []
    for tick in (-100, -50, 0, 50, 100):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#58616e">{}</text>',
                left,
                width - right,
                _fmt(y(tick)),
                _fmt(y(tick)),
                "#b9c1cc" if tick == 0 else GRID,
                left - 4,
                _fmt(y(tick) + 4),
                tick,
            )
        )
    # The band and the line break where a period has too few posts, rather than inventing a value.
    runs: list[list[int]] = []
    for i, p in enumerate(points):
        if p.value is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        lows = [(x(i), y(_or(points[i].low, points[i].value))) for i in run]
        highs = [(x(i), y(_or(points[i].high, points[i].value))) for i in run]
        if len(run) == 1:
            cx = x(run[0])
            lows = [(cx - 4, lows[0][1]), (cx + 4, lows[0][1])]
            highs = [(cx - 4, highs[0][1]), (cx + 4, highs[0][1])]
        parts.append(
            format_html('<polygon points="{}" fill="{}" opacity="0.8"/>', _polyline(highs + lows[::-1]), BAND)
        )
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"/>',
                _polyline([(x(i), y(points[i].value or 0)) for i in run]),
                SCORE,
            )
        )
        for i in run:
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {}</title></circle>',
                    _fmt(x(i)),
                    _fmt(y(points[i].value or 0)),
                    SCORE,
                    points[i].start.strftime("%d %b"),
                    _fmt(points[i].value or 0),
                )
            )
    if target is not None:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="2" stroke-dasharray="6 4"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">target {}</text>',
                left,
                width - right,
                _fmt(y(target)),
                _fmt(y(target)),
                TARGET,
                width - right - 2,
                _fmt(y(target) - 4),
                TARGET,
                _fmt(target),
            )
        )
    every = max(1, n // 8, math.ceil(n * LABEL_GAP / plot_w))
    for i, p in enumerate(points):
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#58616e">{}</text>',
                    _fmt(x(i)),
                    height - 8,
                    p.start.strftime("%d %b"),
                )
            )
    return _svg(label, width, height, parts)


def volume_chart(
    labels: Sequence[str],
    counts: Sequence[float],
    baseline: Sequence[float],
    *,
    label: str,
    width: int = WIDE,
    height: int = 180,
) -> SafeString:
    """Complaints per period as bars against the typical volume (the baseline) as a dashed line."""
    left, right, top, bottom = 34, 10, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(counts)
    if n == 0:
        return SafeString('<p class="muted">No complaints recorded yet.</p>')
    ticks = _ticks(max([*counts, *baseline, 1.0]))
    # The axis runs to the top tick, so every labelled line is inside the plot (scaled to the highest bar,
    # a tick above it was drawn past the top edge and its label cut in half).
    peak = ticks[-1]
    step = plot_w / n

    def y(v: float) -> float:
        return top + plot_h - _scale(v, 0, peak, 0, plot_h)

    parts: list[str] = [_grid_row(left, width - right, y(tick), round(tick)) for tick in ticks]
    for i, count in enumerate(counts):
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                "<title>{}: {} (typical {})</title></rect>",
                _fmt(left + i * step + 1),
                _fmt(y(count)),
                _fmt(max(step - 2, 1)),
                _fmt(top + plot_h - y(count)),
                COMPLAINTS if count > baseline[i] * 1.5 + 1 else "#d9797a",
                labels[i],
                _fmt(count),
                _fmt(baseline[i]),
            )
        )
    parts.append(
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2" stroke-dasharray="5 3"/>',
            _polyline([(left + i * step + step / 2, y(b)) for i, b in enumerate(baseline)]),
            BASELINE,
        )
    )
    every = max(1, n // 7, math.ceil(n * LABEL_GAP / plot_w))
    for i, text in enumerate(labels):
        if i % every == 0:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#58616e">{}</text>',
                    _fmt(left + i * step + step / 2),
                    height - 8,
                    text,
                )
            )
    return _svg(label, width, height, parts)


@dataclass(frozen=True)
class ChartMarker:
    """A moment marked on a chart with a vertical line and a short label ("confirmed")."""

    position: float  # in bars from the plot's left edge: 2.5 is half way through the third bar
    text: str


MARKER = "#3d4550"
CHAR_WIDTH = 6.2  # SVG units an average character of 11-unit text takes, to keep labels apart


def growth_chart(
    times: Sequence[str],
    days: Sequence[str],
    complaints: Sequence[int],
    people: Sequence[int],
    *,
    markers: Sequence[ChartMarker] = (),
    first_label: int = 0,
    label_steps: Sequence[int] = (1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 96),
    label: str,
    width: int = WIDE,
    height: int = 240,
) -> SafeString:
    """How an incident grew: complaints per bucket as bars (left scale), the people affected so far as a line
    (right scale, in the line's colour) and state changes as labelled vertical lines. `times` label each bar's
    start ("21:15"), `days` its day ("04 Nov", written under the first labelled time of each day); labels start
    at bar `first_label` (a round hour), every so many bars, the fewest of `label_steps` that keeps them apart
    (steps that make round times: every 4 bars of 15 minutes is every hour)."""
    n = len(complaints)
    if n == 0:
        return SafeString('<p class="muted">No complaints attached yet.</p>')
    # Marker labels take rows above the plot: a label that would touch the one before it goes a row down.
    left, right, bottom = 30, 30, 34
    plot_w = width - left - right
    step = plot_w / n
    placed: list[tuple[float, str, str, int]] = []  # x, text, anchor, row
    row_ends: list[float] = []
    for marker in sorted(markers, key=lambda m: m.position):
        mx = left + marker.position * step
        text_w = len(marker.text) * CHAR_WIDTH
        anchor, start = ("end", mx - text_w - 2) if mx + text_w + 2 > width else ("start", mx + 2)
        row = next((r for r, end in enumerate(row_ends) if start > end + 4), len(row_ends))
        if row == len(row_ends):
            row_ends.append(0.0)
        row_ends[row] = start + text_w
        placed.append((mx, marker.text, anchor, row))
    top = 10 + 13 * len(row_ends)
    plot_h = height - top - bottom
    left_ticks = _ticks(max([*complaints, 1]))
    right_ticks = _ticks(max([*people, 1]))

    def y(value: float, peak: float) -> float:
        return top + plot_h - _scale(value, 0, peak, 0, plot_h)

    parts: list[str] = [
        _grid_row(left, width - right, y(tick, left_ticks[-1]), round(tick)) for tick in left_ticks
    ]
    for tick in right_ticks:
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="11" fill="{}">{}</text>',
                width - right + 4,
                _fmt(y(tick, right_ticks[-1]) + 4),
                SCORE,
                round(tick),
            )
        )
    for i, count in enumerate(complaints):
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {} complaint{}; {} '
                "people so far</title></rect>",
                _fmt(left + i * step + min(1, step / 6)),
                _fmt(y(count, left_ticks[-1])),
                _fmt(max(step - 2 * min(1, step / 6), 0.5)),
                _fmt(top + plot_h - y(count, left_ticks[-1])),
                COMPLAINTS,
                days[i],
                times[i],
                count,
                "" if count == 1 else "s",
                people[i],
            )
        )
    # The people who had complained by the end of each bar, from none at the left edge.
    line = [(float(left), y(0, right_ticks[-1]))]
    line += [(left + (i + 1) * step, y(p, right_ticks[-1])) for i, p in enumerate(people)]
    parts.append(
        format_html(
            '<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round"/>',
            _polyline(line),
            SCORE,
        )
    )
    for mx, text, anchor, row in placed:
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}" stroke-width="1.5" stroke-dasharray="4 3"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="{}" fill="{}">{}</text>',
                _fmt(mx),
                _fmt(mx),
                _fmt(10 + 13 * row),
                _fmt(top + plot_h),
                MARKER,
                _fmt(mx + (2 if anchor == "start" else -2)),
                _fmt(19 + 13 * row),
                anchor,
                MARKER,
                text,
            )
        )
    widest = max(len(t) for t in times) * CHAR_WIDTH
    every = max(1, math.ceil(n * max(LABEL_GAP, widest + 12) / plot_w))
    every = next((k for k in sorted(label_steps) if k >= every), every)
    shown_day = ""
    for i in range(first_label % every, n, every):
        x = left + i * step
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#b9c1cc"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#58616e">{}</text>',
                _fmt(x),
                _fmt(x),
                _fmt(top + plot_h),
                _fmt(top + plot_h + 4),
                _fmt(x),
                height - 20,
                times[i],
            )
        )
        if days[i] != shown_day:
            shown_day = days[i]
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#58616e">{}</text>',
                    _fmt(x),
                    height - 6,
                    days[i],
                )
            )
    return _svg(label, width, height, parts)


def _ticks(peak: float) -> list[float]:
    """Up to four round, distinct tick values from 0 to at least `peak`."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if peak / step <= 4:
            break
    top = step * max(1, -(-peak // step))
    return [float(v) for v in range(0, int(top) + 1, int(step))]


def score_spark(
    values: Sequence[float | None], *, label: str, width: int = 90, height: int = 30
) -> SafeString:
    """A few periods of experience score (-100..100) as a small line with the zero line; gaps stay gaps."""
    n = len(values)
    if n == 0 or all(v is None for v in values):
        return SafeString('<span class="muted small">no trend yet</span>')
    step = width / max(n - 1, 1)

    def y(v: float) -> float:
        return 2 + _scale(v, 100, -100, 0, height - 4)

    parts = [
        format_html(
            '<line x1="0" x2="{}" y1="{}" y2="{}" stroke="#b9c1cc" stroke-dasharray="2 2"/>',
            width,
            y(0),
            y(0),
        )
    ]
    points = [(i * step, y(v)) for i, v in enumerate(values) if v is not None]
    if len(points) > 1:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', _polyline(points), SCORE
            )
        )
    for px, py in points:
        parts.append(format_html('<circle cx="{}" cy="{}" r="2.5" fill="{}"/>', _fmt(px), _fmt(py), SCORE))
    return format_html(
        '<svg class="chart score-spark" role="img" aria-label="{}" viewBox="-3 0 {} {}" '
        'width="{}" height="{}"><title>{}</title>{}</svg>',
        label,
        width + 6,
        height,
        width + 6,
        height,
        label,
        mark_safe("".join(parts)),
    )


def fitted(draw: Callable[[int], SafeString]) -> SafeString:
    """A chart drawn at both widths, `draw(width)`; the page shows the one that suits its box (dashboard.css,
    a container query: a phone, or a card of two side by side, gets the narrow one), so its labels stay
    readable. What is not a chart (a "no data yet" line) is given once."""
    wide = draw(WIDE)
    if not str(wide).startswith("<svg"):
        return wide
    return format_html(
        '<div class="chart-box"><div class="chart-wide">{}</div><div class="chart-narrow">{}</div></div>',
        wide,
        draw(NARROW),
    )


def _svg(label: str, width: int, height: int, parts: Sequence[str]) -> SafeString:
    return format_html(
        '<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMidYMid meet"><title>{}</title>{}</svg>',
        label,
        width,
        height,
        escape(label),
        mark_safe("".join(parts)),
    )
