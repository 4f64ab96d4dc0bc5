"""Maps and charts drawn on the server as SVG.

Why by hand: the portal must work with no internet and on slow connections. A tiled web map
needs a tile server and a JavaScript library of several hundred kilobytes; an SVG drawn here
needs neither, shows without JavaScript, prints, and every municipality is a link a keyboard
can reach, with its value in a <title> that screen readers announce. Matplotlib's SVG has no
links or titles per shape. Class breaks come from mapclassify (PySAL).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from typing import Any

import numpy as np

# ColorBrewer YlOrRd, 5 classes (colour-blind safe, print friendly); text on the two darkest is white
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA = "#d9d9d9"
WIDTH = 640


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    d: str  # SVG path data in the map's pixel space


@lru_cache(maxsize=16)
def shapes(geojson: bytes, width: int = WIDTH) -> tuple[tuple[Shape, ...], int]:
    """Project a FeatureCollection (WGS 84) to SVG paths: equirectangular, scaled by the cosine of
    the middle latitude, which keeps shapes true at a state's or a country's extent."""
    doc = json.loads(geojson)
    rings: list[tuple[str, str, list[list[list[float]]]]] = []
    for f in doc["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"] if g["type"] == "MultiPolygon" else []
        rings.append((f["properties"]["code"], f["properties"]["name"], [r for p in polys for r in p]))
    xs = [pt[0] for _, _, rs in rings for r in rs for pt in r]
    ys = [pt[1] for _, _, rs in rings for r in rs for pt in r]
    if not xs:
        return (), 0
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    x0, x1, y0, y1 = min(xs) * k, max(xs) * k, min(ys), max(ys)
    scale = (width - 4) / max(x1 - x0, 1e-9)
    height = int((y1 - y0) * scale) + 4
    out = []
    for code, name, rs in rings:
        parts = []
        for r in rs:
            pts = " ".join(f"{(x * k - x0) * scale + 2:.1f},{(y1 - y) * scale + 2:.1f}" for x, y in r)
            parts.append(f"M{pts}Z")
        out.append(Shape(code, name, "".join(parts)))
    return tuple(out), height


SAMPLE = 250


def breaks(values: Sequence[float], k: int = 5) -> list[float]:
    """Upper bounds of up to `k` classes (Fisher-Jenks natural breaks, mapclassify).

    Fisher-Jenks is quadratic (5.5 s for Mexico's 2,457 municipalities without numba), so above
    SAMPLE values it runs on SAMPLE evenly spaced quantiles of them: deterministic, unlike
    mapclassify's random FisherJenksSampled, and the same breaks on every request."""
    v = np.asarray([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return []
    return list(_breaks(tuple(np.sort(v).tolist()), k))


@lru_cache(maxsize=1024)
def _breaks(v: tuple[float, ...], k: int) -> tuple[float, ...]:
    import mapclassify

    arr = np.asarray(v)
    distinct = np.unique(arr)
    if len(distinct) <= k:
        return tuple(float(x) for x in distinct)
    sample = np.quantile(arr, np.linspace(0, 1, SAMPLE)) if len(arr) > SAMPLE else arr
    with warnings.catch_warnings():  # without numba mapclassify says it runs its pure Python version: fine here
        warnings.filterwarnings("ignore", message="Numba not installed")
        bins = [float(b) for b in mapclassify.FisherJenks(sample, k=k).bins]
    bins[-1] = float(arr.max())
    return tuple(bins)


def class_of(value: float | None, bins: list[float]) -> int | None:
    if value is None or math.isnan(value) or not bins:
        return None
    for i, b in enumerate(bins):
        if value <= b:
            return i
    return len(bins) - 1


def choropleth(
    geojson: bytes,
    values: dict[str, dict[str, Any]],
    *,
    href: Callable[[str], str],
    fmt: Callable[[float | None], str],
    labels: dict[str, str],
    title: str,
) -> tuple[str, list[tuple[str, str]]]:
    """An SVG map: each territory a link with its value in a title, coloured by class; suppressed
    cells hatched, missing grey. `values[code]` holds value and conf_status."""
    bins = breaks([float(v["value"]) for v in values.values() if v.get("value") is not None
                   and v.get("conf_status") != "C"])
    colours = PALETTE[-len(bins):] if bins and len(bins) < len(PALETTE) else PALETTE

    def paint(code: str) -> tuple[str, str]:
        v = values.get(code, {})
        value = v.get("value")
        if v.get("conf_status") == "C":
            return "url(#hatch)", labels["suppressed"]
        if value is None or math.isnan(float(value)):
            return NO_DATA, labels["no_data"]
        c = class_of(float(value), bins)
        return (colours[c] if c is not None else NO_DATA), fmt(float(value))

    out = [_areas(geojson, paint, href, title)]
    legend = []
    present = [float(v["value"]) for v in values.values() if v.get("value") is not None]
    lo = min((x for x in present if not math.isnan(x)), default=None)
    for i, b in enumerate(bins):
        start = lo if i == 0 else bins[i - 1]
        legend.append((colours[i], f"{fmt(start)} – {fmt(b)}"))
    return "".join(out), legend


def _areas(geojson: bytes, paint: Callable[[str], tuple[str, str]], href: Callable[[str], str], title: str) -> str:
    """The map's SVG: each territory a keyboard-reachable link with its text in a title."""
    polys, height = shapes(geojson)
    out = [f'<svg class="map" viewBox="0 0 {WIDTH} {height}" role="group" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg">',
           '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f2f2f2"/>'
           '<line x1="0" y1="0" x2="0" y2="6" stroke="#737373" stroke-width="2"/></pattern></defs>']
    for s in polys:
        fill, text = paint(s.code)
        out.append(f'<a href="{escape(href(s.code))}" class="area" data-code="{escape(s.code)}" '
                   f'data-value="{escape(text)}" aria-label="{escape(s.name)}: {escape(text)}">'
                   f'<path d="{s.d}" fill="{fill}" stroke="#ffffff" stroke-width="0.6">'
                   f'<title>{escape(s.name)}: {escape(text)}</title></path></a>')
    out.append("</svg>")
    return "".join(out)


# Categorical layers (clusters, priority classes): red for high/hot, blue for low/cold (ColorBrewer RdBu)
CATEGORY_COLOURS = {
    "High-High": "#b2182b", "Hot spot": "#b2182b", "High-Low": "#ef8a62", "Low-High": "#67a9cf",
    "Low-Low": "#2166ac", "Cold spot": "#2166ac", "Not significant": "#f0f0f0",
    **{f"{p}_hot_spot": c for p, c in (("new", "#67000d"), ("consecutive", "#a50f15"), ("intensifying", "#cb181d"),
                                        ("persistent", "#ef3b2c"), ("diminishing", "#fb6a4a"), ("sporadic", "#fc9272"),
                                        ("oscillating", "#fcbba1"), ("historical", "#fee0d2"))},
    **{f"{p}_cold_spot": c for p, c in (("new", "#08306b"), ("consecutive", "#08519c"), ("intensifying", "#2171b5"),
                                         ("persistent", "#4292c6"), ("diminishing", "#6baed6"), ("sporadic", "#9ecae1"),
                                         ("oscillating", "#c6dbef"), ("historical", "#deebf7"))},
    "no_pattern": "#f0f0f0",
    "much_better": "#1a9850", "as_expected": "#f0f0f0", "much_worse": "#d73027",
    "alert_high": "#a50f15", "alert_medium": "#fb6a4a", "alert_low": "#fcbba1",  # alerts' severity (Reds)
    "very_high": "#b2182b", "high": "#ef8a62", "medium": "#f7f7f7", "low": "#67a9cf", "very_low": "#2166ac",
}


def category_map(geojson: bytes, classes: dict[str, str], *, href: Callable[[str], str],
                 label: Callable[[str], str], title: str, no_data: str) -> tuple[str, list[tuple[str, str]]]:
    """A map of one class per territory (cluster label, priority class) and its legend."""
    def paint(code: str) -> tuple[str, str]:
        c = classes.get(code)
        return (CATEGORY_COLOURS.get(c, NO_DATA), label(c)) if c else (NO_DATA, no_data)

    present = [c for c in CATEGORY_COLOURS if c in set(classes.values())]
    return _areas(geojson, paint, href, title), [(CATEGORY_COLOURS[c], label(c)) for c in present]


def line_chart(
    series: list[tuple[str, list[tuple[str, float | None, float | None, float | None]]]],
    *,
    fmt: Callable[[float | None], str],
    title: str,
    width: int = 640,
    height: int = 260,
) -> str:
    """A line chart of one or more series of (period, value, low, high); the first series gets a
    band for its interval. Points carry their values in titles; gaps (suppressed) break the line."""
    colours = ("#08519c", "#d94801", "#238b45", "#6a51a3", "#525252", "#b10026")
    periods = sorted({p for _, pts in series for p, *_ in pts})
    if not periods:
        return ""
    vals = [x for _, pts in series for _, v, lo, hi in pts for x in (v, lo, hi) if x is not None]
    top = nice_top(max(vals) if vals else 1.0)
    left, right, bottom, up = 56, 30, 34, 12
    pw, ph = width - left - right, height - bottom - up

    def x(p: str) -> float:
        i = periods.index(p)
        return left + (pw * i / max(len(periods) - 1, 1) if len(periods) > 1 else pw / 2)

    def y(v: float) -> float:
        return up + ph - ph * v / top

    out = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
           f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i in range(5):
        tick = top * i / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e0e0e0"/>'
                   f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="tick">{escape(fmt(tick))}</text>')
    step = max(1, len(periods) // 8)
    for i, p in enumerate(periods):
        if i % step == 0 or i == len(periods) - 1:
            anchor = "end" if i == len(periods) - 1 and len(periods) > 1 else "middle"
            out.append(f'<text x="{x(p) + (6 if anchor == "end" else 0):.1f}" y="{height - 12}" text-anchor="{anchor}" '
                       f'class="tick">{escape(p)}</text>')
    for si, (name, pts) in enumerate(series):
        colour = colours[si % len(colours)]
        if si == 0:
            band = [(p, lo_, hi_) for p, _, lo_, hi_ in pts if lo_ is not None and hi_ is not None]
            if len(band) > 1:
                upper = " ".join(f"{x(p):.1f},{y(float(b)):.1f}" for p, _, b in band)
                lower = " ".join(f"{x(p):.1f},{y(float(a)):.1f}" for p, a, _ in reversed(band))
                out.append(f'<polygon points="{upper} {lower}" fill="{colour}" fill-opacity="0.15"/>')
        segment: list[str] = []
        segments = []
        for p, v, _, _ in pts:
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
            else:
                segment.append(f"{x(p):.1f},{y(v):.1f}")
        if segment:
            segments.append(segment)
        for seg in segments:
            out.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for p, v, low, high in pts:
            if v is not None:
                ci = f" ({fmt(low)} – {fmt(high)})" if low is not None and high is not None else ""
                out.append(f'<circle cx="{x(p):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                           f'<title>{escape(name)} {escape(p)}: {escape(fmt(v))}{escape(ci)}</title></circle>')
    out.append("</svg>")
    if len(series) > 1:
        keys = "".join(f'<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" '
                       f'fill="{colours[i % len(colours)]}"/></svg> {escape(n)}</li>'
                       for i, (n, _) in enumerate(series))
        out.append(f'<ul class="series-key">{keys}</ul>')
    return "".join(out)


def nice_top(v: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^k at or above `v` (axis ticks at quarters read easily)."""
    if v <= 0:
        return 1.0
    k = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= v:
            return m * k
    return 10 * k


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    pts = [(i, v) for i, v in enumerate(values) if v is not None]
    if len(pts) < 2:
        return ""
    top = max(v for _, v in pts) or 1.0
    n = max(len(values) - 1, 1)
    coords = " ".join(f"{2 + (width - 4) * i / n:.1f},{height - 2 - (height - 4) * v / top:.1f}" for i, v in pts)
    return (f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-hidden="true" '
            f'xmlns="http://www.w3.org/2000/svg"><polyline points="{coords}" fill="none" stroke="#08519c" '
            f'stroke-width="1.5"/></svg>')


def _open(width: int, height: int, title: str, desc: str, ident: str, *, links: bool, cls: str = "chart") -> str:
    """An SVG's opening with its title and description (named by aria-labelledby/-describedby);
    a group when it holds links a keyboard reaches, else an image."""
    role = "group" if links else "img"
    return (f'<svg class="{cls}" viewBox="0 0 {width} {height}" role="{role}" aria-labelledby="{ident}-title" '
            f'aria-describedby="{ident}-desc" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>')


def bar_chart(rows: Sequence[tuple[str, float, str | None]], *, fmt: Callable[[float | None], str], title: str,
              desc: str, ident: str, width: int = 640, colour: str = "#08519c") -> str:
    """Horizontal bars of (label, value, link or None), in the order given; each bar carries its
    label and value in a title, and is a link when it has one."""
    if not rows:
        return ""
    longest = max(len(label) for label, _, _ in rows)
    left = min(8 + 7 * min(longest, 32), 240)
    right, bar, gap = 48, 16, 6
    height = 8 + len(rows) * (bar + gap)
    top = max(v for _, v, _ in rows) or 1.0
    out = [_open(width, height, title, desc, ident, links=any(h for _, _, h in rows))]
    for i, (label, value, href) in enumerate(rows):
        y = 4 + i * (bar + gap)
        w = (width - left - right) * value / top
        shown = label if len(label) <= 32 else label[:31] + "…"
        item = (f'<text x="{left - 6}" y="{y + bar - 4}" text-anchor="end" class="tick">{escape(shown)}</text>'
                f'<rect x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" fill="{colour}">'
                f'<title>{escape(label)}: {escape(fmt(value))}</title></rect>'
                f'<text x="{left + w + 4:.1f}" y="{y + bar - 4}" class="tick">{escape(fmt(value))}</text>')
        out.append(f'<a href="{escape(href)}" aria-label="{escape(label)}: {escape(fmt(value))}">{item}</a>'
                   if href else item)
    out.append("</svg>")
    return "".join(out)


def month_columns(counts: dict[str, float], *, fmt: Callable[[float | None], str], title: str, desc: str,
                  ident: str, width: int = 640, height: int = 220, colour: str = "#08519c") -> str:
    """Columns on a continuous month axis ("YYYY-MM" -> value) from the first month to the last;
    months absent from `counts` are zero. Ticks name years (or months on a short axis)."""
    months = sorted(m for m in counts if len(m) == 7)
    if not months:
        return ""
    y0, m0 = int(months[0][:4]), int(months[0][5:])
    y1, m1 = int(months[-1][:4]), int(months[-1][5:])
    n = (y1 - y0) * 12 + m1 - m0 + 1
    peak = max(counts.values())
    top = nice_top(peak)
    if all(float(v).is_integer() for v in counts.values()) and top % 4:
        top = 4 * math.ceil(peak / 4)  # whole counts: ticks at quarters are whole numbers too
    left, right, bottom, up = 44, 16, 30, 10
    pw, ph = width - left - right, height - bottom - up
    step = pw / n
    out = [_open(width, height, title, desc, ident, links=False)]
    for i in range(5):
        tick = top * i / 4
        y = up + ph - ph * tick / top
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(fmt(tick))}</text>')
    years = y1 - y0 + 1
    every = next(s for s in (1, 2, 5, 10, 20, 50, 100) if years / s <= 8)
    for k in range(n):
        year, month = y0 + (m0 - 1 + k) // 12, (m0 - 1 + k) % 12 + 1
        x = left + k * step
        if n > 24 and month == 1 and year % every == 0:
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{up + ph}" y2="{up + ph + 4}" stroke="#737373"/>'
                       f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" class="tick">{year}</text>')
        elif n <= 24 and (n <= 12 or month % 3 == 1):
            out.append(f'<text x="{x + step / 2:.1f}" y="{height - 10}" text-anchor="middle" class="tick">'
                       f'{year}-{month:02d}</text>')
        value = counts.get(f"{year}-{month:02d}", 0)
        if value:
            h = ph * value / top
            out.append(f'<rect x="{x:.1f}" y="{up + ph - h:.1f}" width="{max(step - 0.4, 1.2):.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{year}-{month:02d}: {escape(fmt(value))}</title></rect>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{up + ph}" y2="{up + ph}" stroke="#737373"/></svg>')
    return "".join(out)


@dataclass(frozen=True)
class Mark:
    """One event on a timeline: its day, lane, text (a title), whether it is drawn as forceful
    (a red diamond), its size (deaths, or 0) and the link to its row."""

    day: dt.date
    lane: str
    text: str
    forceful: bool = False
    size: float = 0.0
    href: str | None = None


def date_ticks(start: dt.date, end: dt.date, most: int = 7) -> list[tuple[dt.date, str]]:
    """Ticks between two dates: years, months or days, at most about `most` of them."""
    days = (end - start).days
    if days > 3 * 365:
        every = next(s for s in (1, 2, 5, 10, 20, 50) if (end.year - start.year) / s <= most)
        first = start.year + 1 + (-(start.year + 1) % every)
        return [(dt.date(y, 1, 1), str(y)) for y in range(first, end.year + 1, every)]
    if days > 62:
        span = (end.year - start.year) * 12 + end.month - start.month
        every = next(s for s in (1, 2, 3, 6, 12) if span / s <= most)
        out: list[tuple[dt.date, str]] = []
        k = start.year * 12 + start.month  # the month after start's (its first day is > start)
        while True:
            year, month = divmod(k, 12)
            day = dt.date(year, month + 1, 1)
            if day > end:
                return out
            if month % every == 0:
                out.append((day, f"{day:%Y-%m}"))
            k += 1
    every = next(s for s in (1, 2, 7, 14, 28) if days / s <= min(most, 6))
    return [(start + dt.timedelta(days=d), f"{start + dt.timedelta(days=d):%Y-%m-%d}")
            for d in range(every, days, every)]


def timeline(lanes: Sequence[tuple[str, str]], marks: Sequence[Mark], *, title: str, desc: str, ident: str,
             key: tuple[str, str, str], rules: Sequence[tuple[dt.date, str]] = (), width: int = 640) -> str:
    """Events on a time axis, one lane per (code, label) of `lanes`: circles, or red diamonds when
    forceful, larger with `size`; `rules` are dated vertical lines (agreements). `key` labels the
    circle, the diamond and the rule in the legend. Each mark links to its row when it has `href`."""
    if not marks:
        return ""
    days = [m.day for m in marks] + [d for d, _ in rules]
    first, last = min(days), max(days)
    pad = max((last - first).days * 0.04, 10)
    start, end = first - dt.timedelta(days=pad), last + dt.timedelta(days=pad)
    longest = max(len(label) for _, label in lanes)
    left, right, lane_h, up = min(12 + 7 * longest, 170), 16, 30, 8
    axis = up + lane_h * len(lanes)
    height = axis + 26
    span = max((end - start).days, 1)

    def x(day: dt.date) -> float:
        return left + (width - left - right) * (day - start).days / span

    out = [_open(width, height, title, desc, ident, links=any(m.href for m in marks), cls="chart timeline")]
    row = {code: i for i, (code, _) in enumerate(lanes)}
    for i, (_, label) in enumerate(lanes):
        y = up + lane_h * i + lane_h / 2
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e0e0e0"/>'
                   f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" class="tick">{escape(label)}</text>')
    for day, label in date_ticks(start, end):
        out.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{up}" y2="{axis + 4}" stroke="#f0f0f0"/>'
                   f'<text x="{x(day):.1f}" y="{axis + 16}" text-anchor="middle" class="tick">{label}</text>')
    out.append(f'<line x1="{left}" x2="{width - right}" y1="{axis}" y2="{axis}" stroke="#737373"/>')
    for day, text in rules:
        out.append(f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{up}" y2="{axis}" stroke="#1a9850" '
                   f'stroke-width="2" stroke-dasharray="4 3"><title>{escape(text)}</title></line>')
    for m in sorted(marks, key=lambda m: -m.size):  # small marks drawn last, on top
        cx, cy = x(m.day), up + lane_h * row[m.lane] + lane_h / 2
        r = 4 + min(7.0, 2.2 * math.log2(1 + m.size))
        if m.forceful:
            shape = (f'<path d="M{cx:.1f},{cy - r - 1:.1f}L{cx + r + 1:.1f},{cy:.1f}L{cx:.1f},{cy + r + 1:.1f}'
                     f'L{cx - r - 1:.1f},{cy:.1f}Z" fill="#b2182b" fill-opacity="0.85" stroke="#67000d">')
            end_tag = "</path>"
        else:
            shape = (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="#08519c" fill-opacity="0.75" '
                     f'stroke="#08306b">')
            end_tag = "</circle>"
        item = f"{shape}<title>{escape(m.text)}</title>{end_tag}"
        out.append(f'<a href="{escape(m.href)}" aria-label="{escape(m.text)}">{item}</a>' if m.href else item)
    out.append("</svg>")
    swatches = [('<circle cx="7" cy="7" r="5" fill="#08519c" fill-opacity="0.75" stroke="#08306b"/>', key[0]),
                ('<path d="M7,1L13,7L7,13L1,7Z" fill="#b2182b" stroke="#67000d"/>', key[1])]
    if rules:
        swatches.append(('<line x1="7" x2="7" y1="0" y2="14" stroke="#1a9850" stroke-width="2" '
                         'stroke-dasharray="4 3"/>', key[2]))
    items = "".join(f'<li><svg width="14" height="14" aria-hidden="true">{shape}</svg> {escape(text)}</li>'
                    for shape, text in swatches)
    out.append(f'<ul class="series-key">{items}</ul>')
    return "".join(out)
