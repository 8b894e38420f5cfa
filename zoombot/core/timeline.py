"""Pure: a session's attendance as an inline SVG picture (no Flask, no database).

One bar per participant shows when they were present; the session's live windows (one per Zoom instance,
so a restart shows as a gap) lie behind all bars, elective-training segments are shaded, intervals known
only from Zoom's Report API are hatched in a different colour, and the time axis is labelled in the
community's local time. Every shape carries a
`<title>` (a tooltip and an accessible name), and the picture as a whole has a title and a description.
All text is escaped here, so the result can be placed in a page as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from zoombot.core.intervals import Span

TICK_STEPS_MINUTES = (5, 10, 15, 30, 60, 120, 240, 480)
MAX_TICKS = 8
LABEL_CHARS = 28


@dataclass(frozen=True)
class Row:
    """One participant: a label and their presence intervals (start, end, source)."""

    label: str
    intervals: Sequence[tuple[datetime, datetime, str]] = ()


@dataclass(frozen=True)
class Layout:
    """Where things go: time runs from `start` to `end` across `plot_width` pixels after the labels."""

    start: datetime
    end: datetime
    width: int = 960
    label_width: int = 190
    row_height: int = 18
    bar_height: int = 12
    axis_height: int = 24
    right_pad: int = 24

    @property
    def plot_width(self) -> int:
        return self.width - self.label_width - self.right_pad

    def x(self, when: datetime) -> float:
        """The horizontal position of an instant, clamped to the plot."""
        total = (self.end - self.start).total_seconds()
        share = (when - self.start).total_seconds() / total if total > 0 else 0.0
        return round(self.label_width + min(max(share, 0.0), 1.0) * self.plot_width, 2)

    def row_y(self, index: int) -> float:
        return self.axis_height + index * self.row_height

    def height(self, rows: int) -> int:
        return self.axis_height + max(rows, 1) * self.row_height + 4


def domain(rows: Sequence[Row], live: Sequence[Span]) -> Span | None:
    """The time the picture covers: the live window and every interval; None when there is nothing."""
    instants = [t for a, b in live for t in (a, b)]
    instants += [t for row in rows for a, b, _ in row.intervals for t in (a, b)]
    if not instants:
        return None
    start, end = min(instants), max(instants)
    return (start, end) if end > start else (start, start + timedelta(minutes=1))


def ticks(start: datetime, end: datetime, tz: str) -> list[tuple[datetime, str]]:
    """Axis ticks at round local wall-clock minutes (every 5, 10, 15, 30 min, ...), at most MAX_TICKS."""
    minutes = (end - start).total_seconds() / 60
    step = next((s for s in TICK_STEPS_MINUTES if minutes / s <= MAX_TICKS), TICK_STEPS_MINUTES[-1])
    zone = ZoneInfo(tz)
    local = start.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (local - midnight).total_seconds() / 60
    first = midnight + timedelta(minutes=-(-elapsed // step) * step)
    out = []
    when = first.astimezone(start.tzinfo)
    while when <= end:
        out.append((when, when.astimezone(zone).strftime("%H:%M")))
        when += timedelta(minutes=step)
    return out


def _clock(when: datetime, tz: str) -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def _short(label: str) -> str:
    label = " ".join(label.split()) or "(no name)"
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _rect(x1: float, y: float, x2: float, height: float, css: str, title: str, **extra: str) -> str:
    attrs = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in extra.items())
    return (
        f'<rect class="{css}" x="{x1}" y="{y}" width="{round(max(x2 - x1, 1.0), 2)}" height="{height}"{attrs}>'
        f"<title>{escape(title)}</title></rect>"
    )


def render(
    rows: Sequence[Row],
    *,
    live: Sequence[Span],
    tz: str,
    training: Sequence[Span] = (),
    width: int = 960,
    title: str = "Attendance timeline",
) -> str:
    """The SVG markup, or "" when there is nothing to draw."""
    span = domain(rows, live)
    if span is None:
        return ""
    layout = Layout(start=span[0], end=span[1], width=width)
    height = layout.height(len(rows))
    body_top, body_bottom = layout.axis_height - 4, height - 2
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="tl-title tl-desc">',
        f'<title id="tl-title">{escape(title)}</title>',
        f'<desc id="tl-desc">{escape(_description(rows, live, training, tz))}</desc>',
        '<defs><pattern id="tl-report" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="5" height="5" fill="#ffffff"/>'
        '<rect width="3" height="5" fill="#b85c00"/></pattern></defs>',
        '<g class="tl-live">',
    ]
    for a, b in live:
        parts.append(
            _rect(
                layout.x(a),
                body_top,
                layout.x(b),
                body_bottom - body_top,
                "live",
                f"Meeting live {_clock(a, tz)}–{_clock(b, tz)}",
                fill="#e9eef5",
            )
        )
    parts.append("</g>")
    if training:
        parts.append(
            '<g class="tl-training">'
            + "".join(
                _rect(
                    layout.x(a),
                    body_top,
                    layout.x(b),
                    body_bottom - body_top,
                    "training",
                    f"Elective training {_clock(a, tz)}–{_clock(b, tz)}",
                    fill="#7d4cc4",
                    fill_opacity="0.16",
                    stroke="#7d4cc4",
                    stroke_dasharray="4 3",
                )
                for a, b in training
            )
            + "</g>"
        )
    parts.append('<g class="tl-axis">')
    for when, text in ticks(layout.start, layout.end, tz):
        x = layout.x(when)
        parts.append(
            f'<line x1="{x}" y1="{layout.axis_height - 6}" x2="{x}" y2="{body_bottom}" '
            f'stroke="#c3cad3" stroke-width="1"/>'
            f'<text x="{x}" y="{layout.axis_height - 10}" text-anchor="middle" fill="#454d57">{text}</text>'
        )
    parts.append("</g>")
    parts.append('<g class="tl-rows">')
    for index, row in enumerate(rows):
        y = layout.row_y(index)
        bar_y = y + (layout.row_height - layout.bar_height) / 2
        spans = (
            "; ".join(
                f"{_clock(a, tz)}–{_clock(b, tz)}{' (report only)' if src == 'report' else ''}"
                for a, b, src in row.intervals
            )
            or "no presence recorded"
        )
        parts.append(f'<g class="tl-row" aria-label={quoteattr(f"{row.label}: {spans}")}>')
        parts.append(
            f'<text x="{layout.label_width - 8}" y="{y + layout.row_height - 5}" text-anchor="end" '
            f'fill="#1b1f24">{escape(_short(row.label))}<title>{escape(row.label)}</title></text>'
        )
        for a, b, src in row.intervals:
            report = src == "report"
            tip = f"{row.label}: {_clock(a, tz)}–{_clock(b, tz)}" + (" (from Zoom's report only)" if report else "")
            extra = {"fill": "url(#tl-report)", "stroke": "#b85c00"} if report else {"fill": "#1f5fa8"}
            parts.append(
                _rect(
                    layout.x(a),
                    bar_y,
                    layout.x(b),
                    layout.bar_height,
                    "report" if report else "webhook",
                    tip,
                    rx="2",
                    **extra,
                )
            )
        parts.append("</g>")
    parts.append("</g></svg>")
    return "".join(parts)


def _description(rows: Sequence[Row], live: Sequence[Span], training: Sequence[Span], tz: str) -> str:
    text = f"{len(rows)} participants"
    if live:
        text += "; meeting live " + ", ".join(f"{_clock(a, tz)}–{_clock(b, tz)}" for a, b in live)
    if training:
        text += "; elective training " + ", ".join(f"{_clock(a, tz)}–{_clock(b, tz)}" for a, b in training)
    return text + f" (times in {tz})."
