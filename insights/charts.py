"""Charts as SVG drawn on the server: they print, work without JavaScript and go into PDFs.

Each chart has a <title> and a <desc> for screen readers, and the page puts a table with the
same numbers under it. Colours are SVG presentation attributes (not inline CSS, which the
Content-Security-Policy forbids), so the same markup renders in browsers and in WeasyPrint.
A bar marked hidden (a count published as 0 that may stand for 1 to 4) is not lost: it is drawn
as a dashed box, the width of the range it may stand for, with its text ("0–4") beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from markupsafe import Markup, escape

INK = "#1d2733"
MUTED = "#55606e"
GRID = "#d5dad3"
ACCENT = "#1f6f5c"
SECOND = "#9aa5b1"
FONT = 'font-family="DejaVu Sans, Noto Sans, sans-serif"'
WIDTH = 640


HIDDEN_UP_TO = 4  # a hidden count (published 0) may stand for up to this many
PLACEHOLDER = f'fill="none" stroke="{MUTED}" stroke-width="1" stroke-dasharray="3 2"'


@dataclass(frozen=True)
class Bar:
    label: str
    value: float  # what the bar's length shows (0 when hidden)
    text: str  # what is written at its end ("12", "23%", "0–4")
    hidden: bool = False
    axis: tuple[str, str] | None = None  # a column's label in two lines (month, year)


def nice_top(value: float) -> int:
    """The top of a count axis: at least the largest value, round, and even, so that its half
    is a whole number too (an axis reads 0 / 1 / 2, never 0 / 0 / 1)."""
    if value <= 2:
        return 2
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 4, 5, 10):
        top = factor * magnitude
        if top >= value and top % 2 == 0:
            return int(top)
    return int(20 * magnitude)  # pragma: no cover - 10 x magnitude is even and large enough


def _svg(
    ident: str, title: str, desc: str, height: int, body: list[str], width: int = WIDTH
) -> Markup:
    ident = escape(ident)
    # Every text that goes into the markup has passed through escape(); numbers are our own.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="100%" role="img" aria-labelledby="{ident}-t {ident}-d" {FONT} font-size="12">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def bar_chart(ident: str, title: str, desc: str, bars: list[Bar], width: int = WIDTH) -> Markup:
    """Horizontal bars, the label above each bar (labels may be long, in three languages)."""
    row, top, left, span = 34, 8, 4, width - 70
    top_value = max((b.value for b in bars if not b.hidden), default=0) or HIDDEN_UP_TO * 10
    body = []
    for i, bar in enumerate(bars):
        y = top + i * row
        body.append(f'<text x="{left}" y="{y + 11}" fill="{INK}">{escape(bar.label)}</text>')
        if bar.hidden:
            length = max(6.0, round(span * HIDDEN_UP_TO / top_value, 1))
            body.append(
                f'<rect class="hidden-count" x="{left}" y="{y + 15}" width="{length}"'
                f' height="12" rx="2" {PLACEHOLDER}/>'
            )
        else:
            length = round(span * bar.value / top_value, 1)
        if length and not bar.hidden:
            body.append(
                f'<rect x="{left}" y="{y + 15}" width="{length}" height="12" rx="2"'
                f' fill="{ACCENT}"/>'
            )
        body.append(
            f'<text x="{left + length + 6}" y="{y + 25}" fill="{MUTED}">{escape(bar.text)}</text>'
        )
    return _svg(ident, title, desc, top + row * len(bars) + 4, body, width)


def column_chart(ident: str, title: str, desc: str, bars: list[Bar]) -> Markup:
    """Vertical columns in time order (months), with a light grid. The axis is whole numbers
    (``nice_top``); the labels of the columns never overlap: a column's label is written in two
    lines (month, then the year where it changes), and only every n-th one when they are
    narrow."""
    top, bottom, left, right = 16, 44, 40, 8
    height = 224
    area_h = height - top - bottom
    area_w = WIDTH - left - right
    top_value = nice_top(max((b.value for b in bars if not b.hidden), default=0))
    slot = area_w / max(len(bars), 1)
    every = max(1, math.ceil(LABEL_WIDTH / slot))
    last_year = None
    body = []
    for fraction in (0, 0.5, 1):
        y = round(top + area_h * (1 - fraction), 1)
        body.append(
            f'<line x1="{left}" x2="{WIDTH - right}" y1="{y}" y2="{y}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="{MUTED}">'
            f"{escape(_tick(top_value * fraction))}</text>"
        )
    for i, bar in enumerate(bars):
        x = left + i * slot
        h = 0 if bar.hidden else round(area_h * bar.value / top_value, 1)
        if h:
            body.append(
                f'<rect x="{round(x + slot * 0.15, 1)}" y="{round(top + area_h - h, 1)}"'
                f' width="{round(slot * 0.7, 1)}" height="{h}" fill="{ACCENT}">'
                f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            )
        elif bar.hidden:
            box = max(3.0, round(area_h * HIDDEN_UP_TO / top_value, 1))
            body.append(
                f'<rect class="hidden-count" x="{round(x + slot * 0.15, 1)}"'
                f' y="{round(top + area_h - box, 1)}" width="{round(slot * 0.7, 1)}"'
                f' height="{box}" {PLACEHOLDER}>'
                f"<title>{escape(bar.label)}: {escape(bar.text)}</title></rect>"
            )
            if slot >= 22:
                body.append(
                    f'<text x="{round(x + slot / 2, 1)}" y="{round(top + area_h - box - 3, 1)}"'
                    f' text-anchor="middle" font-size="9" fill="{MUTED}">{escape(bar.text)}</text>'
                )
        if i % every == 0:
            month, year = bar.axis or (bar.label, "")
            centre = round(x + slot / 2, 1)
            body.append(
                f'<text x="{centre}" y="{height - bottom + 16}" text-anchor="middle"'
                f' font-size="10" fill="{MUTED}">{escape(month)}</text>'
            )
            if year and year != last_year:
                body.append(
                    f'<text x="{centre}" y="{height - bottom + 30}" text-anchor="middle"'
                    f' font-size="10" fill="{MUTED}">{escape(year)}</text>'
                )
                last_year = year
    return _svg(ident, title, desc, height, body)


LABEL_WIDTH = 40  # room for a month's short name at font size 10 («сент.», «қыр.»)


def _tick(value: float) -> str:
    return str(int(round(value)))


@dataclass(frozen=True)
class Interval:
    label: str  # e.g. "Baseline"
    value: float | None  # share 0..1, None when not shown
    low: float | None
    high: float | None
    text: str


def interval_chart(
    ident: str, title: str, desc: str, rows: list[tuple[str, list[Interval]]]
) -> Markup:
    """Shares with their 95% intervals (whiskers), one bar per wave under each measure."""
    left, right, top = 4, 250, 8
    span = WIDTH - left - right
    highs = [i.high for _label, items in rows for i in items if i.high is not None]
    top_value = min(1.0, max(0.1, (int(max(highs, default=0.1) * 10) + 1) / 10))
    colours = (SECOND, ACCENT)
    body = []
    y = top
    for label, items in rows:
        body.append(f'<text x="{left}" y="{y + 11}" fill="{INK}">{escape(label)}</text>')
        y += 16
        for index, item in enumerate(items):
            colour = colours[index % 2]
            if item.value is not None:
                width = round(span * item.value / top_value, 1)
                body.append(
                    f'<rect x="{left}" y="{y}" width="{width}" height="10" fill="{colour}"/>'
                )
                low = round(left + span * item.low / top_value, 1)
                high = round(left + span * item.high / top_value, 1)
                body.append(
                    f'<line x1="{low}" x2="{high}" y1="{y + 5}" y2="{y + 5}" stroke="{INK}"/>'
                    f'<line x1="{low}" x2="{low}" y1="{y + 1}" y2="{y + 9}" stroke="{INK}"/>'
                    f'<line x1="{high}" x2="{high}" y1="{y + 1}" y2="{y + 9}" stroke="{INK}"/>'
                )
            body.append(
                f'<text x="{WIDTH - right + 8}" y="{y + 9}" font-size="11" fill="{MUTED}">'
                f"{escape(item.label)}: {escape(item.text)}</text>"
            )
            y += 14
        y += 8
    return _svg(ident, title, desc, y + 4, body)
