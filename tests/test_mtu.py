"""The mtu runbook (MTU-001, MTU-002).

- the probe classification and the checks on real output captured from the
  fault lab (tests/fixtures/cmd/*--lab-*.out, capture.capture_lab_mtu);
- the DF search (pure, driven by a model of a path) — bounded, exact,
  robust to one lost ping;
- offline: the recorded scenario (`k8srun run mtu` with no parameters), a
  bad replay and a missing ping read NOT CHECKED, never OK;
- live: its own three-namespace topology (client, router, server; prefix
  ``k8m-``) and the fault lab through the CLI — ``mtu`` gives MTU-001 naming
  1400 and the router, ``pod-mtu`` gives MTU-002, healthy gives neither, and
  a live report folder replays to the same findings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k8srun import parsers
from k8srun.checks import mtu
from k8srun.errors import ParameterError
from k8srun.lab.topology import LAB
from k8srun.parsers import ip_route_get
from k8srun.session import diagnose_runbook
from k8srun.sources import scenarios_dir
from netns_kit import routed_triangle, sh

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
SCENARIO = scenarios_dir() / "mtu"


def fixture(name: str) -> str:
    return (FIXTURES / f"{name}.out").read_text()


def ping(name: str) -> dict:
    (row,) = parsers.parse("ping", fixture(name))
    return row


def links(name: str) -> pd.DataFrame:
    return parsers.frame("ip-json-link", fixture(name))


def route(name: str) -> pd.DataFrame:
    return ip_route_get.frame(fixture(name))


def probes(*steps: tuple[int, str]) -> pd.DataFrame:
    """Probe rows from (size, fixture) steps, classified as the runbook does."""
    rows = [mtu.classify_probe(n, size, ping(name)) for n, (size, name) in enumerate(steps, 1)]
    return pd.DataFrame(rows, columns=mtu.PROBE_COLUMNS)


def codes(findings) -> list[str]:
    return sorted(f.code for f in findings)


def status(session) -> dict[str, str]:
    table = session.checks_table()
    return dict(zip(table["code"], table["status"]))


# ------------------------------------------------------------- classification

@pytest.mark.parametrize("name, outcome, reported, hop", [
    ("ping--lab-df-passed", "passed", None, None),
    ("ping--lab-df-frag-needed", "frag-needed", 1400, "192.168.10.1"),      # the router, fault mtu
    ("ping--lab-df-learned", "local-too-big", 1400, None),                  # the same ping again: cached
    ("ping--lab-df-black-hole", "lost", None, None),                        # pod-a -> pod-b, fault mtu
    ("ping--lab-df-net-unreachable", "unreachable", None, None),            # fault no-route
    ("ping--lab-df-pod-mtu", "frag-needed", 1450, "10.244.1.1"),            # node-a's bridge, fault pod-mtu
    ("ping--df-frag-needed", "frag-needed", 1400, "10.200.0.1"),            # 2 packets: ICMP, then cached
    ("ping--df-message-too-long", "local-too-big", 1400, None),
    ("ping--ok", "passed", None, None),
])
def test_probe_outcome_from_real_ping_output(name, outcome, reported, hop):
    row = mtu.classify_probe(1, 1500, ping(name))
    assert (row["outcome"], row["reported_mtu"], row["hop"]) == (outcome, reported, hop)
    assert row["payload"] == 1472 and row["outcome"] in mtu.OUTCOMES


def test_probe_argv_is_validated_and_sized_per_address_family():
    assert mtu.PING_DF.build({"dest": "192.168.20.2", "size": 1500}) == (
        "ping-df-1500", ("ping", "-n", "-M", "do", "-s", "1472", "-c", "1", "-W", "1", "192.168.20.2"))
    assert mtu.PING_DF_CONFIRM.build({"dest": "fd00::2", "size": 1280})[1][5:10] == ("1232", "-c", "3", "-i", "0.2")
    for size in (67, 65536, "1500; reboot", True):
        with pytest.raises(ParameterError):
            mtu.PING_DF.build({"dest": "192.168.20.2", "size": size})
    assert mtu.size_limits("fd00::2") == (1280, 1280) and mtu.header_bytes("fd00::2") == 48


# ------------------------------------------------------------------ the search

def path_model(path_mtu: int, *, icmp: bool, hop: str = "10.0.0.1", lose=()):
    """A path that carries ``path_mtu`` bytes; above it a hop answers frag-needed (icmp) or drops silently.

    ``lose``: probe numbers whose single ping is lost anyway (random loss). Answers are parsed-ping rows.
    """
    def answer(number: int, size: int, kind: str) -> dict:
        if size <= path_mtu and (number not in lose or kind == "confirm"):
            return {"received": 1 if kind == "search" else 3, "errors": 0}
        if size > path_mtu and icmp:
            return {"received": 0, "errors": 1, "frag_needed_from": hop, "frag_needed_mtu": path_mtu}
        return {"received": 0, "errors": 0}
    return answer


def search(ceiling: int, answer, **limits) -> pd.DataFrame:
    rows: list[dict] = []
    while (step := mtu.next_probe(rows, ceiling, **limits)) is not None:
        size, kind = step
        rows.append(mtu.classify_probe(len(rows) + 1, size, answer(len(rows) + 1, size, kind), kind=kind))
    return pd.DataFrame(rows, columns=mtu.PROBE_COLUMNS)


def measured(found: pd.DataFrame) -> dict:
    summary = mtu.path_summary(pd.DataFrame(), pd.DataFrame(), found)
    return {k: summary[k] for k in ("path_mtu", "upper", "exact", "how", "hop")}


def test_a_path_that_carries_the_interface_mtu_takes_one_probe():
    found = search(1500, path_model(1500, icmp=True))
    assert found["size"].tolist() == [1500]
    assert measured(found) == {"path_mtu": 1500, "upper": None, "exact": True, "how": "fits", "hop": None}


def test_a_hop_that_says_frag_needed_takes_two_probes():
    found = search(1500, path_model(1400, icmp=True, hop="192.168.10.1"))
    assert found["size"].tolist() == [1500, 1400]
    assert measured(found) == {"path_mtu": 1400, "upper": 1400, "exact": True, "how": "frag-needed",
                               "hop": "192.168.10.1"}


@settings(max_examples=300, deadline=None)
@given(path_mtu=st.integers(min_value=68, max_value=1499))
def test_a_black_hole_is_found_exactly_within_the_probe_budget(path_mtu):
    found = search(1500, path_model(path_mtu, icmp=False))
    assert len(found) <= mtu.MAX_PROBES
    assert measured(found) == {"path_mtu": path_mtu, "upper": path_mtu, "exact": True, "how": "black-hole",
                               "hop": None}
    last = found.iloc[-1]
    assert (last["kind"], last["size"], last["outcome"]) == ("confirm", path_mtu + 1, "lost")


@settings(max_examples=100, deadline=None)
@given(path_mtu=st.integers(min_value=1280, max_value=1500), lost=st.integers(min_value=1, max_value=12))
def test_one_lost_ping_never_makes_a_wrong_exact_answer(path_mtu, lost):
    found = search(1500, path_model(path_mtu, icmp=False, lose={lost}))
    result = measured(found)
    assert len(found) <= mtu.MAX_PROBES
    # either the right answer, or an honest range that contains it (the budget went on the lost ping)
    assert result["path_mtu"] <= path_mtu <= (result["upper"] if result["upper"] is not None else 1500)
    if result["exact"]:
        assert result["path_mtu"] == path_mtu


def test_a_ping_lost_at_full_size_on_a_healthy_path_is_confirmed_away():
    found = search(1500, path_model(1500, icmp=False, lose={1}))
    assert found.iloc[-1][["kind", "size", "outcome"]].tolist() == ["confirm", 1500, "passed"]
    assert measured(found)["how"] == "fits"
    assert mtu.path_mtu_below_interface(links("ip-json-link--lab-node-a"), route("ip-json-route--lab-route-get"),
                                        found, "192.168.20.2") == []


def test_a_dest_that_never_answers_is_not_measured():
    found = search(1500, lambda *_: {"received": 0, "errors": 0})
    assert found["size"].tolist() == [1500, 576, 68]
    assert measured(found)["path_mtu"] is None


def test_a_jumbo_path_with_a_black_hole_ends_in_an_honest_range():
    found = search(9000, path_model(1500, icmp=False))
    result = measured(found)
    assert len(found) == mtu.MAX_PROBES and not result["exact"]
    assert result["path_mtu"] <= 1500 <= result["upper"] < 9000


def test_ipv6_search_never_goes_below_1280():
    found = search(1500, path_model(1400, icmp=False), fallback=1280, minimum=1280)
    assert found["size"].min() >= 1280 and measured(found)["path_mtu"] == 1400


# ------------------------------------------------------ checks on lab captures

def test_mtu_001_names_the_path_mtu_and_the_router_from_real_output():
    found = mtu.diagnose(links=links("ip-json-link--lab-node-a"), route=route("ip-json-route--lab-route-get"),
                         probes=probes((1500, "ping--lab-df-frag-needed"), (1400, "ping--lab-df-passed")),
                         dest="192.168.20.2", route_after=route("ip-json-route--lab-route-get-learned"))
    assert codes(found) == ["MTU-001"]
    (f,) = found
    assert "path MTU to 192.168.20.2 is 1400 bytes" in f.detail
    assert "192.168.10.1 answered 'Frag needed and DF set (mtu = 1400)'" in f.detail
    assert "below the 1500 bytes k8l-na-eth0 sends" in f.detail
    # node-a's overlay (1450 + 50) no longer fits this path: the detail says how far to lower it
    assert "overlay MTU of at most 1350" in f.detail
    assert f.evidence["hop"] == "192.168.10.1" and f.evidence["route_after_probes"][0]["mtu"] == 1400


def test_mtu_001_from_the_kernels_route_cache_says_the_hop_is_unknown():
    found = mtu.path_mtu_below_interface(
        links("ip-json-link--lab-node-a"), route("ip-json-route--lab-route-get-learned"),
        probes((1500, "ping--lab-df-learned"), (1400, "ping--lab-df-passed")), "192.168.20.2")
    (f,) = found
    assert f.evidence["how"] == "route-cache" and f.evidence["hop"] is None
    assert "already learned path MTU 1400" in f.detail and "expires in 599 s" in f.detail


def test_mtu_001_black_hole_from_real_silence():
    pod_links = links("ip-json-link--lab-pod-a")
    pod_route = ip_route_get.frame('[{"dst":"10.244.2.10","gateway":"10.244.1.1","dev":"k8l-pa-eth0",'
                                   '"prefsrc":"10.244.1.10","flags":[],"uid":0,"cache":[]}]')
    lost = probes((1450, "ping--lab-df-black-hole"), (1350, "ping--lab-df-passed"), (1400, "ping--lab-df-black-hole"))
    (f,) = mtu.path_mtu_below_interface(pod_links, pod_route, lost, "10.244.2.10")
    assert "at least 1350 and at most 1399 bytes" in f.detail and "black hole" in f.detail


def test_healthy_lab_output_gives_no_finding():
    healthy = mtu.diagnose(links=links("ip-json-link--lab-node-a"), route=route("ip-json-route--lab-route-get"),
                           probes=probes((1500, "ping--lab-df-passed")), dest="192.168.20.2")
    assert healthy == []


def test_a_configured_route_mtu_is_what_the_host_sends():
    configured = ip_route_get.frame('[{"dst":"192.168.20.2","gateway":"192.168.10.1","dev":"k8l-na-eth0",'
                                    '"flags":[],"cache":[],"metrics":[{"mtu":1300}]}]')
    sending = mtu.sending_interface(links("ip-json-link--lab-node-a"), configured)
    assert (sending["interface_mtu"], sending["route_mtu"], sending["sending_mtu"]) == (1500, 1300, 1300)
    learned = mtu.sending_interface(links("ip-json-link--lab-node-a"), route("ip-json-route--lab-route-get-learned"))
    assert (learned["sending_mtu"], learned["cached_mtu"]) == (1500, 1400)


def test_mtu_002_pod_veth_and_bridge_above_the_overlay_from_real_output():
    (f,) = mtu.overlay_exceeds_node_mtu(links("ip-json-link--lab-node-a-pod-mtu"))
    assert f.code == "MTU-002"
    assert "k8l-na-pod-a (veth, port of bridge k8l-na-cni0) MTU 1500 + 50 = 1550 > node MTU 1500 of k8l-na-eth0" \
        in f.detail
    assert "k8l-na-cni0 (bridge) MTU 1500" in f.detail  # the bridge followed its port
    assert "pod packets of at most 1450 bytes" in f.detail
    assert {r["interface"] for r in f.evidence["too_big"]} == {"k8l-na-pod-a", "k8l-na-cni0"}


def test_healthy_node_overlay_budget_fits_and_a_pod_has_none():
    budget = mtu.overlay_budget(links("ip-json-link--lab-node-a"))
    assert budget.set_index("interface")[["role", "needs", "node_mtu", "fits"]].to_dict("index") == {
        "k8l-na-vxlan": {"role": "overlay", "needs": 1500, "node_mtu": 1500, "fits": True},
        "k8l-na-cni0": {"role": "pod-facing", "needs": 1500, "node_mtu": 1500, "fits": True},
        "k8l-na-pod-a": {"role": "pod-facing", "needs": 1500, "node_mtu": 1500, "fits": True}}
    assert mtu.overlay_exceeds_node_mtu(links("ip-json-link--lab-node-a")) == []
    assert mtu.overlay_budget(links("ip-json-link--lab-pod-a")).empty
    # a larger overhead (VXLAN over IPv6: 70) does not fit the same node
    assert codes(mtu.overlay_exceeds_node_mtu(links("ip-json-link--lab-node-a"), 70)) == ["MTU-002"]


def test_encap_overhead_is_validated():
    book = mtu.RUNBOOK
    assert book.validate({"encap_overhead": "70", "dest": " 10.0.0.1"}) == {"encap_overhead": 70, "dest": "10.0.0.1"}
    for bad in ("-1", "fifty", "2000", True):
        with pytest.raises(ParameterError, match="encap_overhead"):
            book.validate({"encap_overhead": bad})
    with pytest.raises(ParameterError, match="dest"):
        book.validate({"dest": "10.0.0.1; reboot"})


# ------------------------------------------------- offline: recorded scenario

def test_the_recorded_scenario_finds_the_router_and_1400():
    rb = diagnose_runbook("mtu")
    assert status(rb) == {"MTU-001": "FOUND", "MTU-002": "OK"}
    (f,) = rb.findings
    assert "is 1400 bytes" in f.detail and "192.168.10.1 answered" in f.detail
    assert rb.unavailable == []


@pytest.fixture
def scenario_copy(tmp_path):
    copy = tmp_path / "mtu"
    shutil.copytree(SCENARIO, copy)
    return copy


def test_a_replay_without_a_probe_reads_not_checked(scenario_copy):
    host = scenario_copy / "hosts" / "netns_k8l-node-a"
    for path in host.glob("ping-df-1400.*"):
        path.unlink()
    rb = diagnose_runbook("mtu", source=str(scenario_copy))
    assert status(rb) == {"MTU-001": "NOT CHECKED", "MTU-002": "OK"}
    assert rb.findings == []
    assert any("ping-df-1400 not captured" in u.reason for u in rb.unavailable)


def test_garbled_probe_output_reads_not_checked(scenario_copy):
    (scenario_copy / "hosts" / "netns_k8l-node-a" / "ping-df-1500.txt").write_text("no such output\n")
    rb = diagnose_runbook("mtu", source=str(scenario_copy))
    assert status(rb)["MTU-001"] == "NOT CHECKED"
    assert any("is this iputils ping?" in u.reason for u in rb.unavailable)


def test_missing_ping_reads_not_checked(tmp_path, monkeypatch):
    if shutil.which("ip") is None:
        pytest.skip("iproute2 `ip` not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ip").symlink_to(shutil.which("ip"))
    monkeypatch.setenv("PATH", str(bin_dir))
    rb = diagnose_runbook("mtu", source="none", target="local", dest="127.0.0.1")
    assert status(rb)["MTU-001"] == "NOT CHECKED"
    assert any(u.reason == "ping not found on local" for u in rb.unavailable)


def test_no_dest_reads_not_checked_and_says_why():
    rb = diagnose_runbook("mtu", source="none", target="local")
    assert status(rb)["MTU-001"] == "NOT CHECKED"
    assert any("no dest given" in u.reason for u in rb.unavailable)


NO_ROUTE = ("RTNETLINK answers: Network is unreachable\n", 2)  # what ip printed in the lab's no-route fault


def test_no_route_to_dest_is_an_answer_and_no_finding():
    unrouted = ip_route_get.frame("", *NO_ROUTE)
    assert mtu.no_route(unrouted)["type"] == "none" and mtu.no_route(route("ip-json-route--lab-route-get")) is None
    assert mtu.sending_interface(links("ip-json-link--lab-node-a"), unrouted) is None
    assert mtu.diagnose(links=links("ip-json-link--lab-node-a"), route=unrouted,
                        probes=pd.DataFrame(columns=mtu.PROBE_COLUMNS), dest="192.168.20.2") == []


def test_a_replay_where_the_kernel_has_no_route_reads_not_checked_with_a_no_route_row(scenario_copy):
    """The recorded scenario with the route lookup answered as in the lab's no-route fault (exit 2)."""
    recorded = json.loads((scenario_copy / "k8srun.json").read_text())["recorded"]
    dest = recorded["parameters"]["dest"]
    host = scenario_copy / "hosts" / "netns_k8l-node-a"
    meta_path = host / f"ip-route-get-{dest}.json"
    meta = json.loads(meta_path.read_text())
    meta.update(stderr=NO_ROUTE[0], exit_code=NO_ROUTE[1],
                error=f"ip exited with code 2 on {meta['target']}: {NO_ROUTE[0].strip()}")
    meta_path.write_text(json.dumps(meta))
    (host / f"ip-route-get-{dest}.txt").write_text("")
    rb = diagnose_runbook("mtu", source=str(scenario_copy))
    assert status(rb) == {"MTU-001": "NOT CHECKED", "MTU-002": "OK"}  # not OK, not a crash
    assert rb.findings == []
    [row] = rb.unavailable
    assert row.what == f"route to {dest}"
    assert row.reason.startswith(f"no route to {dest}: RTNETLINK answers: Network is unreachable — no route matches")
    assert row.where == "netns:k8l-node-a"
    assert [r.command_id for r in rb.target.results] == ["ip-link", f"ip-route-get-{dest}"]  # no probe sent


def test_the_routing_sysctl_recording_replays_here_and_says_there_is_no_route():
    """One declaration of ip route get: the lab's no-route answer recorded by routing-sysctl answers mtu too."""
    rb = diagnose_runbook("mtu", source="scenario:routing-sysctl", dest=LAB.pod_b.ip)
    assert status(rb) == {"MTU-001": "NOT CHECKED", "MTU-002": "OK"} and rb.findings == []
    assert [u.what for u in rb.unavailable] == [f"route to {LAB.pod_b.ip}"]


@pytest.mark.slow
def test_k8srun_run_mtu_with_no_parameters_works_offline(tmp_path):
    done = k8srun("run", "mtu", "--out", str(tmp_path), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert codes_of(tmp_path) == ["MTU-001"]
    assert "k8srun-chart" in json.dumps(json.loads((tmp_path / "mtu.ipynb").read_text()))


# --------------------------------------------------------------- live helpers

def k8srun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=300)


def report_of(report: Path) -> dict:
    """The findings.json object of a run (findings, not_checked, unavailable ...)."""
    return json.loads((report / "mtu.findings.json").read_text())


def findings_of(report: Path) -> list[dict]:
    return report_of(report)["findings"]


def codes_of(report: Path) -> list[str]:
    return sorted(f["code"] for f in findings_of(report))


def run_live(report: Path, target: str, dest: str) -> list[dict]:
    done = k8srun("run", "mtu", "-p", "source", "none", "-p", "target", target, "-p", "dest", dest,
                  "--out", str(report), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    return findings_of(report)


# ------------------------------------------------- live: our own topology

@pytest.fixture
def routed_pair():
    """client ── router ── server in three namespaces of our own (prefix k8m-); removed afterwards."""
    with routed_triangle("k8m", "10.77", "net.ipv4.icmp_ratelimit=0") as net:
        yield net


def flush(*namespaces: str) -> None:
    for ns in namespaces:
        sh("ip", "-n", ns, "route", "flush", "cache")


@pytest.mark.netns
def test_own_topology_router_with_a_lowered_far_link(routed_pair):
    client, router = routed_pair["client"], routed_pair["router"]
    healthy = diagnose_runbook("mtu", source="none", target=f"netns:{client}", dest="10.77.2.2")
    assert healthy.findings == [] and status(healthy)["MTU-001"] == "OK"
    assert status(healthy)["MTU-002"] == "NOT CHECKED"  # no overlay here: not decided, not OK

    sh("ip", "-n", router, "link", "set", "k8m-rs", "mtu", "1300")
    flush(client, router)
    lowered = diagnose_runbook("mtu", source="none", target=f"netns:{client}", dest="10.77.2.2")
    (f,) = lowered.findings
    assert f.code == "MTU-001"
    assert "path MTU to 10.77.2.2 is 1300 bytes, below the 1500 bytes k8m-c0 sends via 10.77.1.1" in f.detail
    assert "10.77.1.1 answered 'Frag needed and DF set (mtu = 1300)'" in f.detail

    # the router's frag-needed filtered: the same path becomes a black hole, found without any ICMP
    sh("ip", "netns", "exec", router, "iptables", "-w", "2", "-A", "OUTPUT", "-p", "icmp", "--icmp-type",
       "fragmentation-needed", "-j", "DROP")
    flush(client, router)
    silent = diagnose_runbook("mtu", source="none", target=f"netns:{client}", dest="10.77.2.2")
    (f,) = silent.findings
    assert "is 1300 bytes" in f.detail and "black hole" in f.detail and f.evidence["hop"] is None

    # the client sends 1300 on its route (configured MTU): nothing to find
    sh("ip", "-n", client, "route", "replace", "default", "via", "10.77.1.1", "mtu", "1300")
    flush(client)
    configured = diagnose_runbook("mtu", source="none", target=f"netns:{client}", dest="10.77.2.2")
    assert configured.findings == [] and status(configured)["MTU-001"] == "OK"


@pytest.mark.netns
def test_own_topology_client_without_a_route_reads_not_checked(routed_pair):
    client = routed_pair["client"]
    sh("ip", "-n", client, "route", "del", "default")
    rb = diagnose_runbook("mtu", source="none", target=f"netns:{client}", dest="10.77.2.2")
    assert status(rb)["MTU-001"] == "NOT CHECKED" and rb.findings == []
    assert any(u.reason.startswith("no route to 10.77.2.2: RTNETLINK answers: Network is unreachable")
               for u in rb.unavailable)
    assert rb.node(mtu.ROUTE_GET).iloc[0]["routed"] == False  # noqa: E712  (the answer, kept as it is)


# ------------------------------------------------------- live: the fault lab

@pytest.fixture(scope="module")
def lab(fault_lab):
    return fault_lab  # tests/conftest.py: one fresh lab for this module, under the machine-wide lock


@pytest.fixture
def fault(lab):
    """Apply faults by name for one test; always fixed afterwards."""
    from k8srun.lab import control

    applied = []

    def apply(name: str) -> None:
        control.break_fault(name, lab)
        applied.append(name)
    yield apply
    for name in reversed(applied):
        control.fix_fault(name, lab)


@pytest.mark.netns
def test_lab_healthy_gives_neither_code(lab, tmp_path):
    assert run_live(tmp_path, f"netns:{lab.node_a.netns}", lab.node_b.ip) == []
    assert report_of(tmp_path)["not_checked"] == []  # both checks ran: healthy, not unlooked
    rb = diagnose_runbook("mtu", source="none", target=f"netns:{lab.node_a.netns}", dest=lab.pod_b.ip)
    assert status(rb) == {"MTU-001": "OK", "MTU-002": "OK"}


@pytest.mark.netns
def test_lab_mtu_fault_through_the_cli_and_its_replay(lab, fault, tmp_path):
    fault("mtu")
    live = run_live(tmp_path / "live", f"netns:{lab.node_a.netns}", lab.node_b.ip)
    assert [f["code"] for f in live] == ["MTU-001"]
    assert "is 1400 bytes" in live[0]["detail"] and f"{lab.node_a.router_ip} answered" in live[0]["detail"]
    replay = k8srun("run", "mtu", "-p", "source", str(tmp_path / "live"), "--out", str(tmp_path / "replay"),
                    "--no-progress")
    assert replay.returncode == 0, replay.stderr
    assert findings_of(tmp_path / "replay") == live


@pytest.mark.netns
def test_lab_mtu_fault_between_pods_is_a_black_hole(lab, fault):
    fault("mtu")
    rb = diagnose_runbook("mtu", source="none", target=f"netns:{lab.pod_a.netns}", dest=lab.pod_b.ip)
    (f,) = rb.findings
    assert f.code == "MTU-001" and f.evidence["how"] == "black-hole"
    assert f"is {1400 - 50} bytes, below the {lab.pod_mtu} bytes {lab.pod_a.ifname} sends" in f.detail
    assert status(rb)["MTU-002"] == "NOT CHECKED"  # a pod's namespace has no overlay device


@pytest.mark.netns
def test_lab_pod_mtu_fault_is_mtu_002_and_heals(lab, fault, tmp_path):
    from k8srun.lab import control

    fault("pod-mtu")
    found = run_live(tmp_path, f"netns:{lab.node_a.netns}", lab.node_b.ip)
    assert [f["code"] for f in found] == ["MTU-002"]
    assert f"{lab.pod_a.host_link} (veth, port of bridge {lab.node_a.bridge}) MTU 1500 + 50 = 1550" in found[0]["detail"]
    from_pod = diagnose_runbook("mtu", source="none", target=f"netns:{lab.pod_a.netns}", dest=lab.pod_b.ip)
    (f,) = from_pod.findings
    assert f.code == "MTU-001" and f"{lab.node_a.bridge_ip} answered 'Frag needed and DF set (mtu = 1450)'" in f.detail
    control.fix_fault("pod-mtu", lab)
    healed = diagnose_runbook("mtu", source="none", target=f"netns:{lab.node_a.netns}", dest=lab.pod_b.ip)
    assert healed.findings == [] and status(healed)["MTU-002"] == "OK"  # the bridge followed back to 1450
