"""k8srun.charts: inline SVG charts, asserted on their structure (well-formed XML, classes, data values)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from k8srun import charts

NS = {"svg": "http://www.w3.org/2000/svg"}
# the DF probes of a real search on the fault lab (pod-a -> pod-b with fault mtu: a black hole above 1350)
BLACK_HOLE = pd.DataFrame(
    [(1, 1450, "lost"), (2, 576, "passed"), (3, 1013, "passed"), (4, 1231, "passed"), (5, 1340, "passed"),
     (6, 1395, "lost"), (7, 1367, "lost"), (8, 1353, "lost"), (9, 1346, "passed"), (10, 1349, "passed"),
     (11, 1351, "lost"), (12, 1350, "passed"), (13, 1351, "lost")], columns=["probe", "size", "outcome"])
FRAG_NEEDED = pd.DataFrame([(1, 1500, "frag-needed"), (2, 1400, "passed")], columns=["probe", "size", "outcome"])


def parse(svg: charts.Svg) -> ET.Element:
    root = ET.fromstring(str(svg))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def groups(root: ET.Element, css: str) -> list[ET.Element]:
    return [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == css]


def line_y(root: ET.Element, css: str) -> float:
    (group,) = groups(root, css)
    return float(group.find("svg:line", NS).get("y1"))


def test_probe_chart_has_one_marker_per_probe_with_its_outcome_and_size():
    root = parse(charts.probe_chart(BLACK_HOLE, interface_mtu=1450, path_mtu=1350))
    probes = groups(root, "probe")
    assert [(int(g.get("data-size")), g.get("data-outcome")) for g in probes] == \
        list(zip(BLACK_HOLE["size"], BLACK_HOLE["outcome"]))
    # the outcome decides the marker: passed are circles, lost are crosses (paths)
    shapes = {g.get("data-outcome"): {child.tag.split("}")[1] for child in g} - {"text"} for g in probes}
    assert shapes == {"passed": {"circle"}, "lost": {"path"}}
    assert "probe 13: 1351 bytes lost" in root.find("svg:desc", NS).text


def test_probe_chart_marks_interface_and_path_mtu_where_they_are():
    root = parse(charts.probe_chart(FRAG_NEEDED, interface_mtu=1500, path_mtu=1400))
    assert [g.get("data-mtu") for g in groups(root, "interface-mtu")] == ["1500"]
    assert [g.get("data-mtu") for g in groups(root, "path-mtu")] == ["1400"]
    # smaller sizes sit lower (larger y); the passed 1400-byte probe sits on the path MTU line
    assert line_y(root, "path-mtu") > line_y(root, "interface-mtu")
    passed = next(g for g in groups(root, "probe") if g.get("data-outcome") == "passed")
    assert float(passed.find("svg:circle", NS).get("cy")) == line_y(root, "path-mtu")
    frag = next(g for g in groups(root, "probe") if g.get("data-outcome") == "frag-needed")
    assert frag.find("svg:polygon", NS) is not None  # a triangle
    assert float(frag.find("svg:polygon", NS).get("points").split(",")[1].split()[0]) < line_y(root, "path-mtu")


def test_probe_chart_legend_lists_only_the_outcomes_seen():
    root = parse(charts.probe_chart(FRAG_NEEDED, interface_mtu=1500, path_mtu=1400))
    (legend,) = groups(root, "legend")
    labels = [t.text for t in legend.iter("{http://www.w3.org/2000/svg}text")]
    assert labels == [charts.PROBE_STYLES["passed"][2], charts.PROBE_STYLES["frag-needed"][2]]


def test_probe_chart_without_lines_and_with_equal_mtus():
    root = parse(charts.probe_chart(FRAG_NEEDED))
    assert not groups(root, "interface-mtu") and not groups(root, "path-mtu")
    healthy = pd.DataFrame([(1, 1500, "passed")], columns=["probe", "size", "outcome"])
    root = parse(charts.probe_chart(healthy, interface_mtu=1500, path_mtu=1500))
    texts = [float(t.get("y")) for css in ("interface-mtu", "path-mtu") for t in groups(root, css)[0].iter(
        "{http://www.w3.org/2000/svg}text")]
    assert abs(texts[0] - texts[1]) >= 12, "equal MTUs: the two labels must not be drawn on top of each other"


def test_probe_chart_escapes_text_and_draws_an_empty_chart():
    empty = charts.probe_chart(pd.DataFrame(columns=["probe", "size", "outcome"]), title="probes <to> a & b")
    root = parse(empty)
    assert root.find("svg:title", NS).text == "probes <to> a & b"
    assert [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "empty"] == \
        ["no probes were sent"]
    assert not groups(root, "probe")


def test_svg_displays_itself_in_jupyter():
    svg = charts.probe_chart(FRAG_NEEDED, interface_mtu=1500, path_mtu=1400)
    assert svg._repr_svg_() == str(svg) and str(svg).startswith("<svg ")


@pytest.mark.parametrize("low, high, expected", [
    (0, 100, [0, 25, 50, 75, 100]),
    (1390, 1510, [1400, 1450, 1500]),       # step 30 rounds up to 50
    (500, 1530, [500, 1000, 1500]),
    (1300, 1500, [1300, 1350, 1400, 1450, 1500]),
    (1500, 1500, [1500]),
    (10, 0, [0, 2.5, 5, 7.5, 10]),
])
def test_nice_ticks_are_round_and_inside(low, high, expected):
    assert charts.nice_ticks(low, high) == expected


def test_scale_maps_data_to_pixels_linearly_and_inverted_for_y():
    y = charts.Scale(1000, 1500, 250, 20)
    assert (y(1000), y(1500), y(1250)) == (250, 20, 135)
    assert charts.Scale(5, 5, 0, 100)(5) == 50  # a zero-width domain lands in the middle


# ------------------------------------------------------------------ events timeline

def _events(*rows):
    from k8srun import frames
    from factories import event

    return frames.events_frame([event(name, reason, message, count=count, first=first, last=last)
                                for name, reason, message, count, first, last in rows])


def test_events_timeline_draws_one_lane_per_warning_reason_with_its_total():
    from k8srun import charts

    events = _events(("web-0", "BackOff", "Back-off restarting", 12, "2024-05-14T09:00:00Z", "2024-05-14T09:50:00Z"),
                     ("web-1", "BackOff", "Back-off restarting", 3, "2024-05-14T09:10:00Z", "2024-05-14T09:40:00Z"),
                     ("web-0", "Unhealthy", "Liveness probe failed", 40, "2024-05-14T08:55:00Z",
                      "2024-05-14T09:49:00Z"))
    svg = str(charts.events_timeline(events))
    lanes = re.findall(r"class='lane' data-reason='([^']+)' data-count='(\d+)'", svg)
    assert lanes == [("Unhealthy", "40"), ("BackOff", "15")]  # ordered by what started first
    assert svg.count("<circle") == 3 and "restarts" not in svg


def test_events_timeline_marks_container_exits_and_counts_undated_events():
    from k8srun import charts

    events = _events(("web-0", "BackOff", "Back-off", 2, None, None))
    exits = pd.DataFrame([{"pod": "web-0", "container": "app", "last_finished_at": pd.Timestamp("2024-05-14T09:30Z")},
                          {"pod": "web-1", "container": "app", "last_finished_at": pd.NaT}])
    svg = str(charts.events_timeline(events, exits))
    assert "class='lane restarts' data-count='1'" in svg and "web-0/app exited" in svg


def test_events_timeline_without_dated_warnings_says_so():
    from k8srun import charts

    assert "no dated Warning events" in str(charts.events_timeline(_events()))


@pytest.mark.parametrize("days", [0, 1, 30, 43, 400, 3650])
def test_time_ticks_cover_any_span_with_a_handful_of_round_steps(days):
    """A timeline from a node created years ago to now still gets ticks (no step list runs out)."""
    from k8srun.charts import _time_ticks

    low = pd.Timestamp("2020-01-01T00:00:00Z")
    ticks = _time_ticks(low, low + pd.Timedelta(days=days, minutes=5))
    assert 1 <= len(ticks) <= 8 and all(low <= t <= low + pd.Timedelta(days=days, minutes=5) for t in ticks)
