"""routing-sysctl: ROUTE-001, ROUTE-002, SYS-001, SYS-002, SYS-003 on real routes and sysctls.

Where each code is produced from real input, and where healthy input is shown not to produce it:

=========  ===========================================================  ==========================================
code       produced by                                                  healthy counterpart
=========  ===========================================================  ==========================================
ROUTE-001  lab fault ``no-route`` through ``k8srun run`` (node-a ->       the healthy lab (node-a, router, pod-a);
           pod-b); our own topology: the peer without its default       our own topology, every namespace
           route, and an ``unreachable`` route; captured reject-route
           answers (fixtures)
ROUTE-002  the lab's node-a (no default route by design); our own        pod-a in the lab; our own topology
           topology's peer without its default route
SYS-001    lab fault ``ip-forward`` through ``k8srun run`` (router);      the healthy lab router and node-a; a pod
           our own node namespace with ``ip_forward = 0``               (ip_forward 0, one interface)
SYS-002    real per-namespace sysctl: bridge-nf-call-iptables = 0 in     our node (1); a namespace without a pod
           our node namespace. br_netfilter *not loaded* cannot happen  bridge with 0; the lab's nodes
           on this kernel (built in): recorded ``sysctl -a`` with
           /proc/sys/net/bridge hidden (fixture, see its capture.py)
SYS-003    real sysctls: conf.all.rp_filter = 1, and one interface's    loose (2) and off (0); strict on a
           own rp_filter = 1, in our node namespace                     single-homed pod
=========  ===========================================================  ==========================================

Our own topology (prefix ``rts-``, built and deleted per test)::

    rts-peer 10.81.1.2 ──veth── 10.81.1.1 rts-node [bridge rts-br0 10.81.2.1] ──veth── 10.81.2.10 rts-pod

rts-node routes between the two (ip_forward 1) and has a default route via
the peer; peer and pod have default routes via rts-node.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from k8srun.checks import routing
from k8srun.errors import ParameterError
from k8srun.lab import control
from k8srun.lab.topology import LAB
from k8srun.parsers import frame as parser_frame
from k8srun.parsers import ip_route_get
from k8srun.session import diagnose_runbook
from k8srun.sources import scenarios_dir
from k8srun.targets.replay import load_result

CODES = ("ROUTE-001", "ROUTE-002", "SYS-001", "SYS-002", "SYS-003")
FIXTURES = Path(__file__).parent / "fixtures" / "cmd" / "routing-sysctl"
CAPTURED = FIXTURES / "hosts" / "netns_rtc-a"
SCENARIO = scenarios_dir() / "routing-sysctl"
RECORDED = SCENARIO / "hosts" / "netns_k8l-node-a"
K8SRUN = [sys.executable, "-m", "k8srun.cli"]


def codes(session) -> set[str]:
    return {f.code for f in session.findings}


def statuses(session) -> dict[str, str]:
    table = session.checks_table()
    return dict(zip(table["code"], table["status"]))


def k8srun_run(out: Path, *params: str) -> set[str]:
    """``k8srun run routing-sysctl -p NAME VALUE ...`` (pairs) -> the codes of its findings.json."""
    pairs = [arg for i in range(0, len(params), 2) for arg in ("-p", params[i], params[i + 1])]
    done = subprocess.run([*K8SRUN, "run", "routing-sysctl", *pairs, "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return {f["code"] for f in findings_of(out)}


def findings_of(out: Path) -> list[dict]:
    data = json.loads((out / "routing-sysctl.findings.json").read_text())
    return data["findings"] if isinstance(data, dict) else data


def recorded_frame(command_id: str, parser: str) -> pd.DataFrame:
    return parser_frame(parser, load_result(RECORDED, command_id).stdout)


# -- checks on recorded output --------------------------------------------------------------------------

def test_recorded_lab_node_no_route_is_route_001_and_002_only():
    found = routing.diagnose(routes=recorded_frame("ip-route", "ip-json-route"),
                             route_get=ip_route_get.frame(**_answer("ip-route-get-10.244.2.10")),
                             sysctls=recorded_frame("sysctl-a", "sysctl"),
                             links=recorded_frame("ip-link", "ip-json-link"), dest=LAB.pod_b.ip)
    assert [f.code for f in found] == ["ROUTE-001", "ROUTE-002"]
    assert f"ip route get {LAB.pod_b.ip}: RTNETLINK answers: Network is unreachable" in found[0].detail
    assert found[0].evidence["dest"] == LAB.pod_b.ip and found[0].evidence["ip_route_get"]["routed"] is False


def _answer(command_id: str, folder: Path = RECORDED) -> dict:
    result = load_result(folder, command_id)
    return {"stdout": result.stdout, "stderr": result.stderr, "exit_code": result.exit_code}


def test_reject_route_answers_are_route_001_with_their_own_remedy():
    empty_routes = pd.DataFrame(columns=routing.ROUTE_COLUMNS)
    for dest, kind in (("10.90.1.1", "unreachable"), ("10.90.2.1", "prohibit"), ("10.90.3.1", "blackhole")):
        [found] = routing.no_route_to_dest(ip_route_get.frame(**_answer(f"ip-route-get-{dest}", CAPTURED)),
                                           empty_routes, dest)
        assert found.code == "ROUTE-001" and kind in found.detail and f"'{kind}' route" in found.remedy
    routed = ip_route_get.frame(**_answer("ip-route-get-10.99.0.1", CAPTURED))
    assert routing.no_route_to_dest(routed, empty_routes, "10.99.0.1") == []


def test_br_netfilter_not_loaded_is_sys_002_on_recorded_sysctl_output():
    """Recorded output: this kernel has br_netfilter built in (see the fixture's capture.py)."""
    links = recorded_frame("ip-link", "ip-json-link")  # node-a: bridge k8l-na-cni0 with pod-a's veth
    without = parser_frame("sysctl", (FIXTURES / "sysctl-a--no-br-netfilter.out").read_text())
    assert not routing.br_netfilter_loaded(without)
    [found] = routing.bridge_netfilter_off(without, links)
    assert found.code == "SYS-002" and "br_netfilter is not loaded" in found.detail
    assert LAB.node_a.bridge in found.detail and found.evidence["br_netfilter_loaded"] is False
    assert routing.kernel_parameters(without).set_index("key").loc[routing.BRIDGE_NF_CALL_IPTABLES, "value"] == "absent"
    # healthy counterpart: the same node with br_netfilter loaded and bridge-nf-call-iptables = 1
    assert routing.bridge_netfilter_off(recorded_frame("sysctl-a", "sysctl"), links) == []
    # and no pod bridge: nothing to check
    assert routing.bridge_netfilter_off(without, pd.DataFrame(columns=links.columns)) == []


def test_effective_rp_filter_is_the_max_of_all_and_the_interface():
    routes = recorded_frame("ip-route", "ip-json-route")
    sysctls = recorded_frame("sysctl-a", "sysctl")
    table = routing.rp_filter_table(sysctls, routes).set_index("interface")
    assert set(table.index) >= {LAB.node_a.uplink, LAB.node_a.bridge, "lo"}
    assert (table["effective"] == 0).all() and (table["mode"] == "off").all()
    assert table.loc[LAB.node_a.uplink, "matters"] and not table.loc[LAB.pod_a.host_link, "matters"]


@pytest.mark.parametrize("value, cleaned", [("auto", "auto"), ("yes", "yes"), (True, "yes"), (False, "no"),
                                            ("NO", "no")])
def test_forwarding_parameter(value, cleaned):
    assert routing.forwarding_choice("forwarding", value) == cleaned


@pytest.mark.parametrize("name, value", [("forwarding", "maybe"), ("dest", "fd00::1"), ("dest", "10.0.0.1; id")])
def test_bad_parameters_are_one_clear_error(name, value):
    with pytest.raises(ParameterError, match=name):
        routing.RUNBOOK.validate({name: value})


# -- evidence unavailable is NOT CHECKED, never OK ------------------------------------------------------

def test_a_target_without_ip_reads_not_checked(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sysctl").symlink_to(shutil.which("sysctl"))
    monkeypatch.setenv("PATH", str(bin_dir))
    rb = diagnose_runbook("routing-sysctl", source="none", target="local", dest="10.0.0.1")
    assert statuses(rb) == dict.fromkeys(CODES, "NOT CHECKED") and not rb.findings
    assert any("ip not found on local" in u.reason for u in rb.unavailable)


def test_no_dest_leaves_route_001_not_checked():
    rb = diagnose_runbook("routing-sysctl", source="none", target="local")
    assert statuses(rb)["ROUTE-001"] == "NOT CHECKED"
    assert any("no dest given" in u.reason for u in rb.unavailable)
    routing.route_to_dest(rb)  # asking again adds no second row
    assert sum("no dest given" in u.reason for u in rb.unavailable) == 1


def _copy_of_the_scenario(tmp_path: Path) -> tuple[Path, Path]:
    bundle = tmp_path / "bundle"
    shutil.copytree(SCENARIO, bundle)
    return bundle, bundle / "hosts" / "netns_k8l-node-a"


def test_bad_replay_reads_not_checked(tmp_path):
    bundle, host = _copy_of_the_scenario(tmp_path)
    for suffix in (".txt", ".json"):
        (host / f"sysctl-a{suffix}").unlink()                   # never recorded
    (host / "ip-route.txt").write_text("garbage, not ip -j output\n")   # unparsable
    rb = diagnose_runbook("routing-sysctl", source=str(bundle))
    assert statuses(rb) == {"ROUTE-001": "FOUND", "ROUTE-002": "NOT CHECKED", "SYS-001": "NOT CHECKED",
                            "SYS-002": "NOT CHECKED", "SYS-003": "NOT CHECKED"}
    reasons = " | ".join(u.reason for u in rb.unavailable)
    assert "cannot parse" in reasons and "sysctl-a" in reasons


def test_an_unknown_route_get_error_in_a_replay_is_not_checked(tmp_path):
    bundle, host = _copy_of_the_scenario(tmp_path)
    meta_path = host / "ip-route-get-10.244.2.10.json"
    meta = json.loads(meta_path.read_text())
    meta["stderr"] = "RTNETLINK answers: Operation not supported\n"
    meta_path.write_text(json.dumps(meta))
    rb = diagnose_runbook("routing-sysctl", source=str(bundle))
    assert statuses(rb)["ROUTE-001"] == "NOT CHECKED" and statuses(rb)["ROUTE-002"] == "FOUND"


def test_a_needed_sysctl_key_missing_from_the_output_reads_not_checked(tmp_path):
    bundle, host = _copy_of_the_scenario(tmp_path)
    text = (host / "sysctl-a.txt").read_text()
    (host / "sysctl-a.txt").write_text("".join(line for line in text.splitlines(keepends=True)
                                               if not line.startswith(routing.IP_FORWARD + " ")))
    rb = diagnose_runbook("routing-sysctl", source=str(bundle))
    assert statuses(rb)["SYS-001"] == "NOT CHECKED" and statuses(rb)["SYS-003"] == "OK"
    assert any(u.what == f"sysctl {routing.IP_FORWARD}" for u in rb.unavailable)


# -- the default scenario, offline -----------------------------------------------------------------------

@pytest.mark.slow
def test_no_parameters_runs_offline_on_the_recorded_lab_scenario(tmp_path):
    found = k8srun_run(tmp_path / "report")
    assert found == {"ROUTE-001", "ROUTE-002"}
    detail = next(f["detail"] for f in findings_of(tmp_path / "report") if f["code"] == "ROUTE-001")
    assert LAB.pod_b.ip in detail and "Network is unreachable" in detail


# -- our own topology: two namespaces and a router ------------------------------------------------------

PEER, NODE, POD = "rts-peer", "rts-node", "rts-pod"
PEER_IP, NODE_UP_IP, BRIDGE_IP, POD_IP = "10.81.1.2", "10.81.1.1", "10.81.2.1", "10.81.2.10"
UPLINK, BRIDGE, POD_PORT = "rts-nd-up", "rts-br0", "rts-nd-pod"


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True, text=True)


def sysctl(ns: str, *assignments: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *assignments], check=True,
                   capture_output=True, text=True)


def _delete_namespaces() -> None:
    for ns in (PEER, NODE, POD):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def topology():
    _delete_namespaces()  # a crashed earlier run
    try:
        for ns in (PEER, NODE, POD):
            ip("netns", "add", ns)
            ip("-n", ns, "link", "set", "lo", "up")
            sysctl(ns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
        sysctl(NODE, "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1")
        ip("-n", NODE, "link", "add", UPLINK, "type", "veth", "peer", "name", "rts-peer-eth0", "netns", PEER)
        ip("-n", NODE, "link", "add", BRIDGE, "type", "bridge")
        ip("-n", NODE, "link", "add", POD_PORT, "type", "veth", "peer", "name", "rts-pod-eth0", "netns", POD)
        ip("-n", NODE, "link", "set", POD_PORT, "master", BRIDGE)
        for ns, dev, address in ((NODE, UPLINK, f"{NODE_UP_IP}/24"), (NODE, BRIDGE, f"{BRIDGE_IP}/24"),
                                 (PEER, "rts-peer-eth0", f"{PEER_IP}/24"), (POD, "rts-pod-eth0", f"{POD_IP}/24")):
            ip("-n", ns, "addr", "add", address, "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", NODE, "link", "set", POD_PORT, "up")
        for ns, gateway in ((NODE, PEER_IP), (PEER, NODE_UP_IP), (POD, BRIDGE_IP)):
            ip("-n", ns, "route", "add", "default", "via", gateway)
        yield
    finally:
        _delete_namespaces()


def run_on(ns: str, dest: str, **params):
    return diagnose_runbook("routing-sysctl", source="none", target=f"netns:{ns}", dest=dest, **params)


@pytest.mark.netns
def test_own_topology_healthy_gives_none_and_checks_everything(topology):
    for ns, dest in ((PEER, POD_IP), (NODE, PEER_IP), (NODE, POD_IP), (POD, PEER_IP)):
        rb = run_on(ns, dest)
        assert statuses(rb) == dict.fromkeys(CODES, "OK"), ns
    node = run_on(NODE, POD_IP)
    role = routing.node_role(node.node(routing.IP_ROUTE), node.node(routing.IP_LINK)).set_index("question")
    assert list(role["answer"]) == ["yes", BRIDGE, f"{BRIDGE}, {UPLINK}"]
    pod = run_on(POD, PEER_IP)
    assert routing.sysctl_value(pod.node(routing.SYSCTL_ALL), routing.IP_FORWARD) == "0"  # a pod need not forward
    assert routing.must_forward(pod.node(routing.IP_ROUTE))[0] is False


@pytest.mark.netns
def test_own_topology_peer_without_default_route_is_route_001(topology):
    ip("-n", PEER, "route", "del", "default")
    rb = run_on(PEER, POD_IP)
    assert codes(rb) == {"ROUTE-001", "ROUTE-002"}
    found = next(f for f in rb.findings if f.code == "ROUTE-001")
    assert found.detail == (f"ip route get {POD_IP}: RTNETLINK answers: Network is unreachable — "
                            "no route matches (no specific route and no default route)")
    assert codes(run_on(PEER, NODE_UP_IP)) == {"ROUTE-002"}  # the connected subnet is still reachable


@pytest.mark.netns
def test_own_topology_unreachable_route_is_route_001_with_a_default_route(topology):
    ip("-n", PEER, "route", "add", "unreachable", "10.81.2.0/24")
    rb = run_on(PEER, POD_IP)
    assert codes(rb) == {"ROUTE-001"}
    assert "No route to host" in rb.findings[0].detail and "'unreachable' route" in rb.findings[0].remedy


@pytest.mark.netns
def test_own_topology_ip_forward_off_on_the_router_is_sys_001(topology):
    sysctl(NODE, "net.ipv4.ip_forward=0")
    [found] = run_on(NODE, PEER_IP).findings
    assert found.code == "SYS-001" and f"leave through 2 interfaces ({BRIDGE}, {UPLINK})" in found.detail
    assert run_on(NODE, PEER_IP, forwarding="no").findings == []  # the user says it need not forward
    # the peer forwards nothing (one interface) until the user says it must
    assert [f.code for f in run_on(PEER, POD_IP, forwarding="yes").findings] == ["SYS-001"]


@pytest.mark.netns
def test_own_topology_bridge_nf_call_iptables_off_is_sys_002(topology):
    sysctl(NODE, "net.bridge.bridge-nf-call-iptables=0")
    [found] = run_on(NODE, PEER_IP).findings
    assert found.code == "SYS-002"
    assert found.detail.startswith(f"{routing.BRIDGE_NF_CALL_IPTABLES} = 0, so pod traffic bridged on "
                                   f"{BRIDGE} (ports {POD_PORT})")
    sysctl(PEER, "net.bridge.bridge-nf-call-iptables=0")  # no bridge there: it does not matter
    assert run_on(PEER, POD_IP).findings == []


@pytest.mark.netns
def test_own_topology_strict_rp_filter_is_sys_003(topology):
    sysctl(NODE, "net.ipv4.conf.all.rp_filter=1")
    [found] = run_on(NODE, PEER_IP).findings
    assert found.code == "SYS-003" and f"from conf.all) on {BRIDGE}, {UPLINK}:" in found.detail
    assert POD_PORT not in found.detail  # a bridge port carries no routes: strict there does not matter
    sysctl(NODE, "net.ipv4.conf.all.rp_filter=0", f"net.ipv4.conf.{UPLINK}.rp_filter=1")
    [found] = run_on(NODE, PEER_IP).findings
    assert f"from the interface's own value) on {UPLINK}:" in found.detail
    sysctl(NODE, "net.ipv4.conf.all.rp_filter=2")  # max(2, 1) = loose
    assert run_on(NODE, PEER_IP).findings == []
    sysctl(POD, "net.ipv4.conf.all.rp_filter=1")  # single-homed: replies cannot come in elsewhere
    assert run_on(POD, PEER_IP).findings == []


# -- the fault lab, through the CLI ---------------------------------------------------------------------

@contextlib.contextmanager
def broken(fault: str):
    control.break_fault(fault)
    try:
        yield
    finally:
        control.fix_fault(fault)


@pytest.mark.netns
def test_lab_healthy_gives_none_of_the_faults_codes(fault_lab):
    """ROUTE-001 and SYS-001..003 are checked and OK where the faults strike; pod-a has no finding at all.

    The lab's nodes and router have no default route by design (topology.py: what is
    not in the underlay or a pod CIDR is unreachable at once), so ROUTE-002 — a true
    warning there — stays; its healthy counterpart is pod-a and our own topology.
    """
    lab = fault_lab
    for netns, dest in ((lab.node_a.netns, lab.pod_b.ip), (lab.router, lab.node_b.ip)):
        assert statuses(run_on(netns, dest)) == {**dict.fromkeys(CODES, "OK"), "ROUTE-002": "FOUND"}, netns
    assert statuses(run_on(lab.pod_a.netns, lab.pod_b.ip)) == dict.fromkeys(CODES, "OK")


@pytest.mark.netns
@pytest.mark.slow
def test_lab_no_route_through_the_cli_and_its_report_replays(fault_lab, tmp_path):
    live, lab = tmp_path / "live", fault_lab
    with broken("no-route"):
        found = k8srun_run(live, "source", "none", "target", f"netns:{lab.node_a.netns}", "dest", lab.pod_b.ip)
    assert found == {"ROUTE-001", "ROUTE-002"}
    replay = tmp_path / "replay"
    assert k8srun_run(replay, "source", str(live)) == found  # the lab is healthy again: answers come from live/
    keep = ("code", "severity", "detail", "evidence")
    assert [{k: f[k] for k in keep} for f in findings_of(replay)] == [{k: f[k] for k in keep}
                                                                      for f in findings_of(live)]


@pytest.mark.netns
@pytest.mark.slow
def test_lab_ip_forward_on_the_router_through_the_cli(fault_lab, tmp_path):
    lab = fault_lab
    with broken("ip-forward"):
        found = k8srun_run(tmp_path / "r", "source", "none", "target", f"netns:{lab.router}", "dest", lab.node_b.ip)
    assert found == {"SYS-001", "ROUTE-002"}
    detail = next(f["detail"] for f in findings_of(tmp_path / "r") if f["code"] == "SYS-001")
    assert f"{lab.node_a.router_link}, {lab.node_b.router_link}" in detail
