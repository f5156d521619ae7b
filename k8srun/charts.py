"""Charts as inline SVG, without matplotlib: small pure functions that return an :class:`Svg`.

An :class:`Svg` shows itself in JupyterLab and in the HTML report
(``_repr_svg_``: the notebook output is ``image/svg+xml``) and is plain text
for tests and files (``str(svg)``). Charts take DataFrames and numbers and
return markup; they never read or display anything themselves::

    from k8srun import charts
    charts.probe_chart(probes, interface_mtu=1500, path_mtu=1400)   # last line of a cell: drawn

Every element a reader or a test may look for carries a ``class`` (and
``data-*`` values), so tests assert on the structure, not on pixels.

Building blocks for more charts: :class:`Scale` (data -> pixels),
:func:`nice_ticks` (round axis labels), :func:`text` (escaped label),
:func:`document` (the ``<svg>`` with title and description), :func:`legend`.

Charts:

- :func:`probe_chart` — the mtu runbook's DF probes: x = probe number (the
  order they were sent), y = packet size in bytes; one marker per probe,
  shaped and coloured by outcome (``PROBE_STYLES``), its size written next
  to it; a dashed line at the interface (sending) MTU and a solid line at
  the measured path MTU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Iterable

import pandas as pd

FONT = "font-family='sans-serif'"

#: outcome -> (marker shape, colour, legend label) of probe_chart
PROBE_STYLES: dict[str, tuple[str, str, str]] = {
    "passed": ("circle", "#2b8a3e", "passed"),
    "frag-needed": ("triangle", "#d9480f", "frag needed (ICMP)"),
    "local-too-big": ("diamond", "#b08900", "too big (kernel PMTU)"),
    "unreachable": ("square", "#862e9c", "other ICMP error"),
    "lost": ("cross", "#868e96", "lost (silence)"),
}


@dataclass(frozen=True)
class Svg:
    """SVG markup that Jupyter draws (``_repr_svg_``) and ``str()`` returns."""

    markup: str

    def _repr_svg_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup


@dataclass(frozen=True)
class Scale:
    """A linear map from the data interval ``[low, high]`` to the pixel interval ``[start, end]``."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.high - self.low
        fraction = 0.5 if span == 0 else (value - self.low) / span
        return round(self.start + fraction * (self.end - self.start), 1)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values (1, 2, 2.5, 5 × 10^n steps) covering ``[low, high]``."""
    if high < low:
        low, high = high, low
    if high == low:
        return [low]
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        if value >= low - step * 1e-9:
            ticks.append(int(value) if float(value).is_integer() else round(value, 10))
        value += step
    return ticks


def text(x: float, y: float, label: object, *, anchor: str = "start", css: str = "", extra: str = "",
         font_size: int = 11) -> str:
    """An escaped ``<text>`` element."""
    klass = f" class='{escape(css, quote=True)}'" if css else ""
    return (f"<text x='{x}' y='{y}' text-anchor='{anchor}' {FONT} font-size='{font_size}'{klass}{extra}>"
            f"{escape(str(label), quote=False)}</text>")


def document(width: int, height: int, title: str, description: str, body: Iterable[str]) -> Svg:
    """The ``<svg>`` element around ``body`` with an accessible title and description."""
    return Svg(f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
               f"viewBox='0 0 {width} {height}' role='img' class='k8srun-chart'>"
               f"<title>{escape(title, quote=False)}</title><desc>{escape(description, quote=False)}</desc>"
               + "".join(body) + "</svg>")


def marker(shape: str, x: float, y: float, colour: str, size: float = 5) -> str:
    """A marker shape (circle, triangle, diamond, square, cross) centred on (x, y)."""
    if shape == "circle":
        return f"<circle cx='{x}' cy='{y}' r='{size}' fill='{colour}'/>"
    if shape == "square":
        return f"<rect x='{x - size}' y='{y - size}' width='{2 * size}' height='{2 * size}' fill='{colour}'/>"
    if shape == "triangle":
        points = f"{x},{y - size - 1} {x - size - 1},{y + size} {x + size + 1},{y + size}"
        return f"<polygon points='{points}' fill='{colour}'/>"
    if shape == "diamond":
        points = f"{x},{y - size - 1} {x + size + 1},{y} {x},{y + size + 1} {x - size - 1},{y}"
        return f"<polygon points='{points}' fill='{colour}'/>"
    return (f"<path d='M{x - size},{y - size} L{x + size},{y + size} M{x - size},{y + size} L{x + size},{y - size}' "
            f"stroke='{colour}' stroke-width='2.5'/>")


def legend(items: Iterable[tuple[str, str, str]], x: float, y: float, *, char_width: float = 6.2) -> str:
    """A one-row legend of (shape, colour, label) items starting at (x, y)."""
    parts = []
    for shape, colour, label in items:
        parts.append(marker(shape, x + 5, y - 4, colour, 4) + text(x + 13, y, label))
        x += 13 + len(label) * char_width + 14
    return f"<g class='legend'>{''.join(parts)}</g>"


def _mtu_line(css: str, label: str, value: int, y: float, left: float, right: float, dashed: bool,
              label_dy: float = 0) -> str:
    dash = " stroke-dasharray='6 4'" if dashed else ""
    return (f"<g class='{css}' data-mtu='{value}'>"
            f"<line x1='{left}' y1='{y}' x2='{right}' y2='{y}' stroke='#1c7ed6' stroke-width='1.5'{dash}/>"
            + text(right + 6, y + 4 + label_dy, f"{label} {value}", extra=" fill='#1c7ed6'") + "</g>")


def probe_chart(probes: pd.DataFrame, *, interface_mtu: int | None = None, path_mtu: int | None = None,
                title: str = "DF probes: packet size by probe") -> Svg:
    """The DF probes of an MTU search as a chart (see module doc); ``probes`` has probe, size, outcome."""
    width, height = 600, 330
    left, right, top, bottom = 56, 440, 26, 250
    rows = [] if probes is None or probes.empty else probes[["probe", "size", "outcome"]].to_dict("records")
    description = "; ".join(f"probe {r['probe']}: {r['size']} bytes {r['outcome']}" for r in rows) or "no probes"
    body = [text(left, 14, title, extra=" font-weight='bold'")]
    if not rows:
        body.append(text((left + right) / 2, (top + bottom) / 2, "no probes were sent", anchor="middle",
                         css="empty"))
        return document(width, height, title, description, body)
    values = [int(r["size"]) for r in rows] + [v for v in (interface_mtu, path_mtu) if v is not None]
    padding = max(10, (max(values) - min(values)) * 0.08)
    ticks = nice_ticks(min(values) - padding, max(values) + padding)
    y = Scale(min(ticks[0], min(values) - padding), max(ticks[-1], max(values) + padding), bottom, top)
    x = Scale(0.5, len(rows) + 0.5, left, right)
    body.append(f"<g class='axes' stroke='#adb5bd'><line x1='{left}' y1='{top}' x2='{left}' y2='{bottom}'/>"
                f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}'/></g>")
    for tick in ticks:
        body.append(f"<line x1='{left - 4}' y1='{y(tick)}' x2='{left}' y2='{y(tick)}' stroke='#adb5bd'/>"
                    + text(left - 6, y(tick) + 4, tick, anchor="end", css="tick"))
    body.append(text(14, (top + bottom) / 2, "packet size (bytes)", anchor="middle",
                     extra=f" transform='rotate(-90 14 {(top + bottom) / 2})'"))
    body.append(text(left - 6, bottom + 15, "probe", anchor="end") + text(left - 6, bottom + 29, "bytes", anchor="end"))
    if interface_mtu is not None:
        body.append(_mtu_line("interface-mtu", "interface MTU", int(interface_mtu), y(interface_mtu), left, right, True))
    if path_mtu is not None:
        crowded = interface_mtu is not None and abs(y(interface_mtu) - y(path_mtu)) < 13
        body.append(_mtu_line("path-mtu", "path MTU", int(path_mtu), y(path_mtu), left, right, False,
                              label_dy=13 if crowded else 0))
    for row in rows:
        shape, colour, _ = PROBE_STYLES.get(row["outcome"], PROBE_STYLES["lost"])
        px, py = x(row["probe"]), y(row["size"])
        body.append(f"<g class='probe' data-outcome='{escape(str(row['outcome']), quote=True)}' "
                    f"data-size='{int(row['size'])}'>" + marker(shape, px, py, colour)
                    + text(px, bottom + 15, row["probe"], anchor="middle")
                    + text(px, bottom + 29, int(row["size"]), anchor="middle", css="size", font_size=10) + "</g>")
    seen = [o for o in PROBE_STYLES if any(r["outcome"] == o for r in rows)]
    body.append(legend([PROBE_STYLES[o] for o in seen], left, height - 12))
    return document(width, height, title, description, body)


__all__ = ["Svg", "Scale", "nice_ticks", "text", "document", "marker", "legend", "probe_chart", "PROBE_STYLES"]


#: at most this many Warning reasons get a lane in events_timeline (the busiest; the rest are counted)
TIMELINE_MAX_LANES = 10


def _time_ticks(low: pd.Timestamp, high: pd.Timestamp) -> list[pd.Timestamp]:
    """At most about seven ticks on a round step: a minute up to a week, then whole weeks (any span)."""
    span = max((high - low).total_seconds(), 60.0)
    week = 7 * 86400
    step = next((s for s in (60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86400, week) if span / s <= 6),
                week * math.ceil(span / 6 / week))
    first = low.floor(f"{step}s")
    ticks = [first + pd.Timedelta(seconds=step * i) for i in range(int(span // step) + 2)]
    return [t for t in ticks if low <= t <= high] or [low]


def events_timeline(events: pd.DataFrame, restarts: pd.DataFrame | None = None, *,
                    title: str = "Warning events over time (what started first?)") -> Svg:
    """Warning events by reason over time, and container terminations as marks.

    ``events`` has the columns of :func:`k8srun.frames.events_frame`; one lane per
    Warning reason (the :data:`TIMELINE_MAX_LANES` busiest, ordered by when they
    first appeared), a bar from first to last seen and a circle at last seen whose
    area grows with the count. ``restarts`` (optional) has ``pod``, ``container``
    and ``last_finished_at``: each container's last termination drawn on a
    "restarts" lane. Events without a timestamp are counted in the description.
    """
    width, left, right, top, lane_h = 760, 190, 730, 30, 22
    warnings = pd.DataFrame() if events is None or events.empty else events[events["type"] == "Warning"]
    undated = 0 if warnings.empty else int(warnings["last_seen"].isna().sum())
    warnings = warnings[warnings["last_seen"].notna()] if not warnings.empty else warnings
    ends = []
    if restarts is not None and not restarts.empty and "last_finished_at" in restarts:
        restarts = restarts[restarts["last_finished_at"].notna()]
        ends = [pd.Timestamp(t) for t in restarts["last_finished_at"]]
    else:
        restarts = None
    if warnings.empty and not ends:
        body = [text(left, 16, title, extra=" font-weight='bold'"),
                text(width / 2, 50, "no dated Warning events", anchor="middle", css="empty")]
        return document(width, 80, title, f"no dated Warning events; {undated} without a timestamp", body)
    first = warnings["first_seen"].fillna(warnings["last_seen"]) if not warnings.empty else pd.Series(dtype=object)
    stamps = [*first, *warnings.get("last_seen", []), *ends]
    low, high = min(stamps), max(stamps)
    if high == low:
        low, high = low - pd.Timedelta(minutes=5), high + pd.Timedelta(minutes=5)
    x = Scale(low.value, high.value, left, right)
    order = (warnings.assign(first=first).groupby("reason").agg(start=("first", "min"), total=("count", "sum"))
             .sort_values("total", ascending=False) if not warnings.empty else pd.DataFrame(columns=["start", "total"]))
    lanes = list(order.head(TIMELINE_MAX_LANES).sort_values("start").index)
    hidden = len(order) - len(lanes)
    height = top + lane_h * (len(lanes) + (1 if ends else 0)) + 42
    body = [text(8, 16, title, extra=" font-weight='bold'")]
    bottom = height - 34
    body.append(f"<line x1='{left}' y1='{bottom}' x2='{right}' y2='{bottom}' stroke='#adb5bd'/>")
    for tick in _time_ticks(low, high):
        body.append(f"<line x1='{x(tick.value)}' y1='{top - 4}' x2='{x(tick.value)}' y2='{bottom + 4}' "
                    f"stroke='#e9ecef'/>" + text(x(tick.value), bottom + 16, tick.strftime("%m-%d %H:%M"),
                                                  anchor="middle", css="tick"))
    biggest = max(float(warnings["count"].max()) if not warnings.empty else 1.0, 1.0)
    for lane, reason in enumerate(lanes):
        y = top + lane_h * lane + lane_h / 2
        rows = warnings[warnings["reason"] == reason]
        total = int(rows["count"].sum())
        marks = [text(left - 8, y + 4, f"{reason} ({total})", anchor="end")]
        for _, row in rows.iterrows():
            start = row["first_seen"] if pd.notna(row["first_seen"]) else row["last_seen"]
            radius = 3 + 5 * math.sqrt(max(float(row["count"]), 1.0) / biggest)
            marks.append(f"<line x1='{x(start.value)}' y1='{y}' x2='{x(row['last_seen'].value)}' y2='{y}' "
                         f"stroke='#f08c00' stroke-width='3' stroke-opacity='0.5'/>"
                         f"<circle cx='{x(row['last_seen'].value)}' cy='{y}' r='{radius:.1f}' fill='#d9480f' "
                         f"fill-opacity='0.75'><title>{escape(str(row['kind']))}/{escape(str(row['name']))}: "
                         f"{escape(str(row['count']))}x {escape(str(row['message'])[:200])}</title></circle>")
        body.append(f"<g class='lane' data-reason='{escape(str(reason), quote=True)}' data-count='{total}'>"
                    + "".join(marks) + "</g>")
    if ends:
        y = top + lane_h * len(lanes) + lane_h / 2
        marks = [text(left - 8, y + 4, f"container exits ({len(ends)})", anchor="end")]
        for (_, row), end in zip(restarts.iterrows(), ends):
            marks.append(marker("cross", x(end.value), y, "#b00020", 4)
                         .replace("/>", f"><title>{escape(str(row['pod']))}/{escape(str(row['container']))} "
                                        f"exited {escape(end.isoformat())}</title></path>", 1))
        body.append(f"<g class='lane restarts' data-count='{len(ends)}'>" + "".join(marks) + "</g>")
    note = f"{hidden} quieter reason(s) not drawn; " if hidden else ""
    note += f"{undated} event(s) without a timestamp" if undated else ""
    if note:
        body.append(text(left, height - 4, note.rstrip("; "), css="note"))
    description = "; ".join(f"{r}: {int(order.loc[r, 'total'])} events" for r in lanes) + (f"; {note}" if note else "")
    return document(width, height, title, description, body)
