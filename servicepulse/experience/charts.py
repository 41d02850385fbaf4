"""Hand-rolled SVG charts for the report. Plain shapes and text only (no script, no CSS classes), so the same
markup renders in a browser, inline in WeasyPrint's PDF, and as a file.

Colours are fixed so a PDF can be checked for the chart: `SCORE_BAR_POS`, `SCORE_BAR_NEG`, `CI_COLOUR`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from django.utils.safestring import SafeString, mark_safe

SCORE_BAR_POS = "#2e7d4f"
SCORE_BAR_NEG = "#b3261e"
CI_COLOUR = "#1f4e8c"
TARGET_COLOUR = "#6a1b9a"
GRID = "#c8ccd2"
TEXT = "#1d2330"
MUTED = "#5b6472"
FONT = "font-family='DejaVu Sans, Arial, Helvetica, sans-serif'"


@dataclass(frozen=True)
class ScoreBar:
    label: str
    value: float | None  # None: too few posts
    low: float | None = None
    high: float | None = None
    target: int | None = None
    n: int = 0


def _f(x: float) -> str:
    return f"{x:.1f}"


def signed(value: float) -> str:
    """A score as the report's tables and charts both print it: "+12", "-7", and "0" (never "+0" or "-0")."""
    whole = round(value)
    return f"{whole:+d}" if whole else "0"


# The score chart's label column holds this many characters at its font size (DejaVu Sans 11px, about 6.5px a
# character in 182px): a longer name was drawn past the chart's left edge and cut ("th e-bost y Brifysgol").
LABEL_CHARS = 27


def fit_label(label: str, limit: int = LABEL_CHARS) -> str:
    """`label`, shortened at a word when it can with an ellipsis, to fit the score chart's label column."""
    label = " ".join(label.split())
    if len(label) <= limit:
        return label
    cut = label[: limit - 1]
    word = cut.rsplit(" ", 1)[0]
    return (word if len(word) >= limit // 2 else cut).rstrip(" ,;:(-\u2013\u2014") + "…"


def score_bars(bars: Sequence[ScoreBar], *, title: str) -> SafeString:
    """Horizontal bars from zero on a -100..+100 axis, the 95 % interval as a whisker, the target a mark."""
    label_w, plot_w, right = 190, 380, 70
    row_h, top, bottom = 24, 34, 28
    width = label_w + plot_w + right
    height = top + row_h * max(len(bars), 1) + bottom

    def x(value: float) -> float:
        return label_w + (max(-100.0, min(100.0, value)) + 100.0) / 200.0 * plot_w

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title, quote=True)}'>",
        f"<title>{escape(title)}</title>",
        f"<text x='0' y='16' {FONT} font-size='13' font-weight='bold' fill='{TEXT}'>{escape(title)}</text>",
    ]
    for tick in (-100, -50, 0, 50, 100):
        tx = x(tick)
        parts.append(
            f"<line x1='{_f(tx)}' y1='{top - 6}' x2='{_f(tx)}' y2='{height - bottom + 4}' "
            f"stroke='{TEXT if tick == 0 else GRID}' stroke-width='{1.2 if tick == 0 else 0.6}'/>"
            f"<text x='{_f(tx)}' y='{height - 8}' {FONT} font-size='10' fill='{MUTED}' "
            f"text-anchor='middle'>{signed(tick)}</text>"
        )
    for i, bar in enumerate(bars):
        cy = top + i * row_h + row_h / 2
        parts.append(
            f"<text x='{label_w - 8}' y='{_f(cy + 4)}' {FONT} font-size='11' fill='{TEXT}' "
            f"text-anchor='end'><title>{escape(bar.label)}</title>{escape(fit_label(bar.label))}</text>"
        )
        if bar.value is None:
            parts.append(
                f"<text x='{_f(x(0) + 6)}' y='{_f(cy + 4)}' {FONT} font-size='10' fill='{MUTED}' "
                f"font-style='italic'>too few posts (n={bar.n})</text>"
            )
            continue
        x0, x1 = sorted((x(0), x(bar.value)))
        colour = SCORE_BAR_POS if bar.value >= 0 else SCORE_BAR_NEG
        parts.append(
            f"<rect x='{_f(x0)}' y='{_f(cy - 7)}' width='{_f(max(x1 - x0, 1.0))}' height='14' "
            f"fill='{colour}'/>"
        )
        if bar.low is not None and bar.high is not None:
            lx, hx = x(bar.low), x(bar.high)
            parts.append(
                f"<line x1='{_f(lx)}' y1='{_f(cy)}' x2='{_f(hx)}' y2='{_f(cy)}' stroke='{CI_COLOUR}' "
                f"stroke-width='1.5'/><line x1='{_f(lx)}' y1='{_f(cy - 5)}' x2='{_f(lx)}' y2='{_f(cy + 5)}' "
                f"stroke='{CI_COLOUR}' stroke-width='1.5'/><line x1='{_f(hx)}' y1='{_f(cy - 5)}' "
                f"x2='{_f(hx)}' y2='{_f(cy + 5)}' stroke='{CI_COLOUR}' stroke-width='1.5'/>"
            )
        if bar.target is not None:
            tx = x(bar.target)
            parts.append(
                f"<path d='M{_f(tx)} {_f(cy - 9)} l4 -5 h-8 z' fill='{TARGET_COLOUR}'>"
                f"<title>target {signed(bar.target)}</title></path>"
            )
        parts.append(
            f"<text x='{label_w + plot_w + 8}' y='{_f(cy + 4)}' {FONT} font-size='11' fill='{TEXT}'>"
            f"{signed(bar.value)} <tspan fill='{MUTED}' font-size='9'>n={bar.n}</tspan></text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # built here from numbers and escaped labels


def sparkline(
    values: Sequence[float | None], *, label: str, width: int = 110, height: int = 26
) -> SafeString:
    """A small line of weekly scores on a fixed -100..+100 scale; gaps where a week had too few posts."""
    n = len(values)
    pad = 3

    def y(v: float) -> float:
        return pad + (100.0 - max(-100.0, min(100.0, v))) / 200.0 * (height - 2 * pad)

    def xpos(i: int) -> float:
        return pad + (i / max(n - 1, 1)) * (width - 2 * pad)

    segments: list[list[tuple[float, float]]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            if segments[-1]:
                segments.append([])
            continue
        segments[-1].append((xpos(i), y(v)))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' "
        f"role='img' aria-label='{escape(label, quote=True)}'><title>{escape(label)}</title>",
        f"<line x1='0' y1='{_f(y(0))}' x2='{width}' y2='{_f(y(0))}' stroke='{GRID}' stroke-width='0.8'/>",
    ]
    for seg in segments:
        if len(seg) == 1:
            px, py = seg[0]
            parts.append(f"<circle cx='{_f(px)}' cy='{_f(py)}' r='1.8' fill='{CI_COLOUR}'/>")
        elif seg:
            points = " ".join(f"{_f(px)},{_f(py)}" for px, py in seg)
            parts.append(f"<polyline points='{points}' fill='none' stroke='{CI_COLOUR}' stroke-width='1.6'/>")
    parts.append("</svg>")
    return mark_safe("".join(parts))  # numbers and an escaped label


def daily_bars(
    days: Sequence[str], complaints: Sequence[int], others: Sequence[int], *, title: str
) -> SafeString:
    """Posts per day as stacked bars, complaints (dark) under everything else (light), the total on top."""
    width, height, left, top, bottom = 640, 170, 36, 30, 26
    plot_h = height - top - bottom
    slot = (width - left - 10) / max(len(days), 1)
    peak = max([c + o for c, o in zip(complaints, others, strict=True)] + [1])
    scale = plot_h / peak
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' "
        f"role='img' aria-label='{escape(title, quote=True)}'><title>{escape(title)}</title>",
        f"<text x='0' y='16' {FONT} font-size='13' font-weight='bold' fill='{TEXT}'>{escape(title)}</text>",
        f"<line x1='{left}' y1='{top + plot_h}' x2='{width - 10}' y2='{top + plot_h}' stroke='{TEXT}'/>",
        f"<text x='{left - 4}' y='{top + 8}' {FONT} font-size='9' fill='{MUTED}' "
        f"text-anchor='end'>{peak}</text>",
    ]
    for i, (day, c, o) in enumerate(zip(days, complaints, others, strict=True)):
        bx = left + i * slot + slot * 0.15
        bw = slot * 0.7
        ch, oh = c * scale, o * scale
        base = top + plot_h
        parts.append(
            f"<rect x='{_f(bx)}' y='{_f(base - ch - oh)}' width='{_f(bw)}' height='{_f(oh)}' fill='{GRID}'/>"
            f"<rect x='{_f(bx)}' y='{_f(base - ch)}' width='{_f(bw)}' height='{_f(ch)}' "
            f"fill='{SCORE_BAR_NEG}'/>"
            f"<text x='{_f(bx + bw / 2)}' y='{height - 10}' {FONT} font-size='10' fill='{MUTED}' "
            f"text-anchor='middle'>{escape(day)}</text>"
            f"<text x='{_f(bx + bw / 2)}' y='{_f(base - ch - oh - 3)}' {FONT} font-size='9' fill='{TEXT}' "
            f"text-anchor='middle'>{c + o}</text>"
        )
    legend_y = 16
    parts.append(
        f"<rect x='{width - 220}' y='{legend_y - 9}' width='10' height='10' fill='{SCORE_BAR_NEG}'/>"
        f"<text x='{width - 206}' y='{legend_y}' {FONT} font-size='10' fill='{TEXT}'>complaints</text>"
        f"<rect x='{width - 140}' y='{legend_y - 9}' width='10' height='10' fill='{GRID}'/>"
        f"<text x='{width - 126}' y='{legend_y}' {FONT} font-size='10' fill='{TEXT}'>other posts</text>"
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # numbers and escaped labels
