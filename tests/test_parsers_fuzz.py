"""Fuzzing every parser: arbitrary text and mutated real fixtures give rows or ParseError."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun.errors import ParseError
from k8srun.parsers import PARSERS, iptables_save

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
CASES = {name: [p.read_text() for p in sorted(FIXTURES.glob(f"{name}--*.out"))] for name in PARSERS}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parses_or_refuses(name: str, text: str) -> None:
    """The parser returns rows (and a frame) or raises ParseError — nothing else."""
    try:
        rows = PARSERS[name].parse(text)
    except ParseError:
        return
    assert isinstance(rows, list) and all(isinstance(row, dict) for row in rows)
    PARSERS[name].frame(text)


@st.composite
def mutated_fixture(draw, name: str) -> str:
    """A real fixture with lines dropped, truncated, duplicated or garbled."""
    lines = draw(st.sampled_from(CASES[name])).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "truncate", "duplicate", "garble", "insert"]))
        if action == "drop":
            del lines[at]
        elif action == "truncate":
            lines[at] = lines[at][:draw(st.integers(0, max(0, len(lines[at]) - 1)))]
        elif action == "duplicate":
            lines.insert(at, lines[at])
        elif action == "garble":
            line = lines[at]
            pos = draw(st.integers(0, len(line)))
            lines[at] = line[:pos] + draw(st.text(min_size=1, max_size=8)) + line[pos + 1:]
        else:
            lines.insert(at, draw(st.text(max_size=40)))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(text=st.text(max_size=300))
def test_arbitrary_text(name, text):
    parses_or_refuses(name, text)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_mutated_fixture(name, data):
    parses_or_refuses(name, data.draw(mutated_fixture(name)))


@FUZZ
@given(data=st.data())
def test_kube_proxy_services_on_mutated_dumps(data):
    text = data.draw(mutated_fixture("iptables-save"))
    try:
        rows = iptables_save.parse(text)
    except ParseError:
        rows = None
    try:
        services = iptables_save.kube_proxy_services(text)
    except ParseError:  # only for a garbled --probability, which the rows keep as well
        if rows is not None:
            with pytest.raises(ParseError):
                iptables_save.kube_proxy_services(rows)
        return
    assert list(services.columns) == iptables_save.SERVICE_COLUMNS
    if rows is not None:
        assert iptables_save.kube_proxy_services(rows).equals(services)


@FUZZ
@given(data=st.data())
def test_kube_proxy_view_on_mutated_dumps(data):
    """The kube-proxy view (orphaned service chains included) and the proxy mode: rows or ParseError."""
    from k8srun.parsers import kube_proxy

    text = data.draw(mutated_fixture("iptables-save"))
    assert kube_proxy.proxy_mode(text) in kube_proxy.MODES
    try:
        view = kube_proxy.view(text)
    except ParseError:
        return
    assert list(view.columns) == kube_proxy.VIEW_COLUMNS
    assert view["service_rule"].dtype == bool
    portals = set(iptables_save.kube_proxy_services(text)["svc_chain"].dropna())
    assert not set(view.loc[~view["service_rule"], "svc_chain"]) & portals


_PROBE_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=True),
                          st.text(max_size=20), st.lists(st.integers(), max_size=2))


@FUZZ
@given(data=st.fixed_dictionaries(
    {"outcome": st.sampled_from(["open", "refused", "timeout", "unreachable", "no-route", "no-reply", "x"]),
     "dest": st.one_of(st.text(max_size=10), st.integers()), "port": _PROBE_VALUES,
     "protocol": st.sampled_from(["tcp", "udp", None, "sctp"])},
    optional={k: _PROBE_VALUES for k in ("address", "errno", "icmp", "icmp_type", "icmp_code", "icmp_from", "l7",
                                         "http_status", "connect_ms", "elapsed_ms", "request", "detail")}))
def test_connect_probe_on_arbitrary_json_objects(data):
    """The connect probe's parser on JSON objects with every field of any type: a typed row or ParseError."""
    import json

    from k8srun.parsers import connect_probe

    text = json.dumps(data)
    parses_or_refuses("connect-probe", text)
    try:
        (row,) = connect_probe.parse(text)
    except ParseError:
        return
    assert row["outcome"] in connect_probe.OUTCOMES and 1 <= row["port"] <= 65535
    assert row["icmp_type"] is None or isinstance(row["icmp_type"], int)
    assert all(row[k] is None or isinstance(row[k], str) for k in ("errno", "icmp", "icmp_from", "request"))


@FUZZ
@given(data=st.data())
def test_tcpdump_capture_summary_on_mutated_stderr(data):
    from k8srun.parsers import tcpdump

    text = data.draw(st.sampled_from([
        "tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n"
        "listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n"
        "4 packets captured\n4 packets received by filter\n0 packets dropped by kernel\n"]))
    cut = data.draw(st.integers(0, len(text)))
    garble = data.draw(st.text(max_size=20))
    summary = tcpdump.capture_summary(text[:cut] + garble + text[cut:])
    assert set(summary) == {"listening", "captured", "received", "dropped"}
    assert all(v is None or isinstance(v, int) for k, v in summary.items() if k != "listening")
