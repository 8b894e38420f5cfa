"""zoombot.core.timeline: coordinates, ticks and accessible text of the attendance picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from zoombot.core.timeline import Layout, Row, domain, render, ticks

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 10, 13, 22, 30, tzinfo=UTC)  # 18:30 in New York
NY = "America/New_York"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == css]


def test_layout_maps_time_linearly_onto_the_plot():
    layout = Layout(start=at(0), end=at(120), width=960, label_width=190, right_pad=10)
    assert layout.plot_width == 760
    assert layout.x(at(0)) == 190
    assert layout.x(at(60)) == 570
    assert layout.x(at(120)) == 950
    assert layout.x(at(-30)) == 190 and layout.x(at(500)) == 950  # clamped


def test_bars_sit_where_their_intervals_are():
    rows = [
        Row("Alice", [(at(0), at(60), "webhook"), (at(90), at(120), "webhook")]),
        Row("Bob", [(at(30), at(120), "report")]),
    ]
    root = parse(render(rows, live=[(at(0), at(120))], tz=NY, width=960))
    layout = Layout(start=at(0), end=at(120), width=960)
    plot = layout.plot_width  # 746 with the default paddings
    webhook = rects(root, "webhook")
    assert [(float(r.get("x")), float(r.get("width"))) for r in webhook] == [
        (190.0, round(plot / 2, 2)),
        (round(190 + plot * 0.75, 2), round(plot / 4, 2)),
    ]
    assert {float(r.get("y")) for r in webhook} == {layout.row_y(0) + 3}
    report = rects(root, "report")
    assert len(report) == 1 and float(report[0].get("y")) == layout.row_y(1) + 3
    assert report[0].get("fill") == "url(#tl-report)"  # visibly different from webhook bars
    live = rects(root, "live")
    assert (float(live[0].get("x")), float(live[0].get("width"))) == (190.0, float(plot))


def test_the_domain_covers_presence_outside_the_live_window():
    rows = [Row("Early", [(at(-10), at(20), "report")])]
    assert domain(rows, [(at(0), at(120))]) == (at(-10), at(120))
    assert domain([], []) is None
    assert render([], live=[], tz=NY) == ""


def test_training_window_is_shaded_with_a_title():
    root = parse(
        render(
            [Row("Alice", [(at(0), at(120), "webhook")])], live=[(at(0), at(120))], tz=NY, training=[(at(30), at(60))]
        )
    )
    (shade,) = rects(root, "training")
    layout = Layout(start=at(0), end=at(120))
    assert float(shade.get("x")) == layout.x(at(30))
    assert float(shade.get("width")) == round(layout.x(at(60)) - layout.x(at(30)), 2)
    assert shade.find(f"{SVG}title").text == "Elective training 19:00–19:30"


def test_ticks_are_round_local_times():
    assert [label for _, label in ticks(at(0), at(120), NY)] == [
        "18:30",
        "18:45",
        "19:00",
        "19:15",
        "19:30",
        "19:45",
        "20:00",
        "20:15",
        "20:30",
    ]
    assert [label for _, label in ticks(at(7), at(50), NY)] == ["18:40", "18:50", "19:00", "19:10", "19:20"]
    # a zone with a half-hour offset gets its own round times
    assert [label for _, label in ticks(at(0), at(60), "Asia/Kolkata")] == [
        "04:00",
        "04:10",
        "04:20",
        "04:30",
        "04:40",
        "04:50",
        "05:00",
    ]
    assert len(ticks(at(0), at(60 * 9), NY)) <= 9


def test_text_is_escaped_and_accessible():
    svg = render(
        [Row('<script>alert("x")</script> & co', [(at(0), at(45), "webhook")])],
        live=[(at(0), at(60))],
        tz=NY,
        title="Timeline of <b>",
    )
    assert "<script>" not in svg and "<b>" not in svg
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "tl-title tl-desc"
    assert root.find(f"{SVG}title").text == "Timeline of <b>"
    assert root.find(f"{SVG}desc").text == "1 participants; meeting live 18:30–19:30 (times in America/New_York)."
    (row,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == "tl-row"]
    assert row.get("aria-label") == '<script>alert("x")</script> & co: 18:30–19:15'


@pytest.mark.parametrize("label,shown", [("Ann", "Ann"), ("x" * 40, "x" * 27 + "…"), ("  ", "(no name)")])
def test_long_labels_are_shortened_but_the_full_name_is_the_title(label, shown):
    root = parse(render([Row(label, [(at(0), at(10), "webhook")])], live=[(at(0), at(60))], tz=NY))
    text = next(t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end")
    assert text.text == shown and text.find(f"{SVG}title").text == label
