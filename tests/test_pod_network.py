"""pod-network (NET-001..005): the decisions on real captured input, the recorded scenarios, our own VXLAN pair,
and the fault lab through the CLI.

- pure: the L4 classification, which rules can drop the overlay (on the lab's real iptables-save), routes into
  the overlay (real ``ip route get`` answers), what a capture says (real tcpdump output), flannel log lines;
- recorded: the default scenario (vxlan-blocked, from the lab) replays offline to NET-002 with its rule and
  counter delta; the flannel-down scenario gives NET-004 with the log line; source none skips the cluster;
- our own topology (``k8p-*`` namespaces, VXLAN port 4789, VNI 42, one L2 segment): healthy → no NET code,
  a DROP of 4789 → NET-002, a VNI mismatch → NET-003 (arrived at the peer, no reply);
- the fault lab (one lab for the module): healthy → none of NET-001..005; vxlan-blocked → NET-002,
  no-route → NET-005, node-unreachable → NET-001 (through the CLI, under 20 s with everything dropped),
  vxlan-fdb-missing → NET-003 (nothing left node-a, no FDB entry for node-b).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from k8srun.checks import podnet
from k8srun.errors import ParameterError
from k8srun.parsers import bridge_fdb, frame, iptables_save, tcpdump
from k8srun.sources import scenarios_dir
from k8srun.session import diagnose_runbook

sys.path.insert(0, str(Path(__file__).parent))
import podnet_topology as topo  # noqa: E402

CMD = Path(__file__).parent / "fixtures" / "cmd"
DEFAULT = scenarios_dir() / "pod-network" / "hosts"
NET_CODES = {"NET-001", "NET-002", "NET-003", "NET-004", "NET-005"}
#: the whole runbook against a network that drops everything must end within this (issue 10)
BUDGET_S = 20.0


def codes(rb) -> set[str]:
    return {f.code for f in rb.findings}


def status(rb) -> dict[str, str]:
    return dict(zip(rb.checks_table()["code"], rb.checks_table()["status"]))


def recorded(host: str, command_id: str) -> str:
    return (DEFAULT / host / f"{command_id}.txt").read_text()


def route_frame(text: str, exit_code: int = 0, stderr: str = "") -> pd.DataFrame:
    from k8srun.parsers import ip_route_get
    from k8srun.targets import CommandResult

    result = CommandResult("local", "ip-route-get-x", ("ip", "-j", "route", "get", "x"), text, stderr, exit_code,
                           0.0, "2026-01-01T00:00:00+00:00", None if exit_code in (0, 2) else "failed")
    return ip_route_get.frame_result(result)


# -- pure: the decisions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol, outcome, verdict", [
    ("tcp", "open", "reachable"), ("tcp", "refused", "reachable"), ("tcp", "timeout", "filtered"),
    ("tcp", "unreachable", "unreachable"), ("tcp", "no-route", "unreachable"),
    ("udp", "refused", "no-listener"), ("udp", "no-reply", "no-answer"), ("udp", "unreachable", "unreachable"),
    ("udp", "open", "answered")])
def test_l4_classification(protocol, outcome, verdict):
    assert podnet.classify_l4({"protocol": protocol, "outcome": outcome}) == verdict


def test_node_to_node_broken_only_when_nothing_comes_back():
    def l4(tcp, udp):
        return podnet.l4_table({"protocol": "tcp", "outcome": tcp, "dest": "10.0.0.2", "port": 10250},
                               {"protocol": "udp", "outcome": udp, "dest": "10.0.0.2", "port": 8472})
    assert podnet.nodes_unreachable(l4("timeout", "no-reply"))["verdict"] == "filtered"
    assert podnet.nodes_unreachable(l4("unreachable", "unreachable"))["verdict"] == "unreachable"
    assert podnet.nodes_unreachable(l4("refused", "no-reply")) is None        # a RST: the host answered
    assert podnet.nodes_unreachable(l4("timeout", "refused")) is None         # the peer answered on UDP


def test_the_lab_rule_that_drops_vxlan_is_found_and_its_counter_moved():
    before = iptables_save.frame(recorded("netns_k8l-node-b", "iptables-save"))
    after = iptables_save.frame(recorded("netns_k8l-node-b", "iptables-save-after-probes"))
    table = podnet.rule_table("node-b", before, after, 8472, ["192.168.20.2", "192.168.10.2"])
    assert table[["chain", "target", "moved"]].values.tolist() == [["INPUT", "DROP", 4]]
    assert "--dport 8472" in table.iloc[0]["rule"]
    # the same rules do not drop another overlay port, and node-a has none
    assert podnet.rule_table("node-b", before, after, 4789, ["192.168.20.2"]).empty
    assert podnet.rule_table("node-a", iptables_save.frame(recorded("netns_k8l-node-a", "iptables-save")), None,
                             8472, ["192.168.20.2"]).empty


@pytest.mark.parametrize("rule, blocks", [
    ("-A INPUT -p udp -m udp --dport 8472 -j DROP", True),
    ("-A INPUT -p udp -m multiport --dports 4789,8472 -j REJECT --reject-with icmp-port-unreachable", True),
    ("-A INPUT -p udp -m udp --dport 8000:9000 -j DROP", True),
    ("-A INPUT -s 192.168.20.0/24 -j DROP", True),                      # everything from the peer's subnet
    ("-A INPUT -p tcp -m tcp --dport 8472 -j DROP", False),
    ("-A INPUT -p udp -m udp --dport 53 -j DROP", False),
    ("-A INPUT -p udp -m udp ! --dport 8472 -j DROP", False),
    ("-A INPUT -s 10.9.0.0/16 -p udp -j DROP", False),                   # another source
    ("-A INPUT -p udp -m udp --dport 8472 -j ACCEPT", False),
])
def test_which_rules_can_drop_the_overlay(rule, blocks):
    rows = iptables_save.parse(f"*filter\n:INPUT ACCEPT [0:0]\n{rule}\nCOMMIT\n")
    assert podnet.rule_blocks_overlay(rows[-1], 8472, ["192.168.20.2", "192.168.10.2"]) is blocks


def test_routes_into_the_overlay_or_past_it():
    links = frame("ip-json-link", recorded("netns_k8l-node-a", "ip-link"))
    ok, said = podnet.route_verdict(route_frame(recorded("netns_k8l-node-a", "ip-route-get-10.244.2.10")), links,
                                    "192.168.20.2")
    assert ok is True and "k8l-na-vxlan (overlay)" in said
    underlay = route_frame('[{"dst":"10.244.2.10","gateway":"192.168.10.1","dev":"k8l-na-eth0",'
                           '"prefsrc":"192.168.10.2","flags":[],"uid":0,"cache":[]}]')
    ok, said = podnet.route_verdict(underlay, links, "192.168.20.2")
    assert ok is False and "not into the overlay" in said
    host_gw = route_frame('[{"dst":"10.244.2.10","gateway":"192.168.20.2","dev":"k8l-na-eth0",'
                          '"prefsrc":"192.168.10.2","flags":[],"uid":0,"cache":[]}]')
    assert podnet.route_verdict(host_gw, links, "192.168.20.2")[0] is True
    none = route_frame("", 2, "RTNETLINK answers: Network is unreachable\n")
    ok, said = podnet.route_verdict(none, links, "192.168.20.2")
    assert ok is False and "Network is unreachable" in said


def test_what_the_captures_say():
    lab = tcpdump.frame((CMD / "tcpdump--otv-8472-lab.out").read_text())
    row = podnet.capture_row("node-a", lab, None, 8472, "192.168.10.2")
    assert (row["sent"], row["received"], row["probe_datagrams"]) == (2, 2, 0)
    k8p = tcpdump.frame((CMD / "tcpdump--vxlan-4789-k8p.out").read_text())
    row = podnet.capture_row("node1", k8p, None, 4789, "172.31.7.1")
    assert (row["sent"], row["received"], row["probe_datagrams"]) == (2, 2, 1)
    nothing = podnet.capture_row("node-a", tcpdump.frame(""), {"listening": True}, 8472, "192.168.10.2")
    assert "no encapsulated packet left node-a" in podnet.where_packets_stopped(nothing, None, 0)
    arrived = {"node": "node-b", "sent": 0, "received": 2, "probe_datagrams": 0, "packets": 2}
    left = {"node": "node-a", "sent": 2, "received": 0, "probe_datagrams": 0, "packets": 2}
    assert "arrived at node-b, no reply left it" in podnet.where_packets_stopped(left, arrived, 0)
    lost = {"node": "node-b", "sent": 0, "received": 0, "probe_datagrams": 0, "packets": 0}
    assert "none arrived at node-b" in podnet.where_packets_stopped(left, lost, 0)


def test_tcpdump_parser_joins_outer_and_inner_and_reads_its_summary():
    rows = tcpdump.parse((CMD / "tcpdump--otv-8472-lab.out").read_text())
    first = rows[0]
    assert (first["interface"], first["direction"], first["src"], first["sport"], first["dport"], first["vni"]) == (
        "k8l-na-eth0", "Out", "192.168.10.2", 50831, 8472, 1)
    assert (first["inner_src"], first["inner_dst"]) == ("10.244.1.10", "10.244.2.10")
    probe = tcpdump.parse((CMD / "tcpdump--vxlan-4789-k8p.out").read_text())[-1]
    assert probe["summary"] == "VXLAN (invalid)" and probe["inner"] is None and probe["protocol"] == "udp"
    summary = tcpdump.capture_summary("listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length "
                                      "262144 bytes\n0 packets captured\n0 packets received by filter\n")
    assert summary == {"listening": True, "captured": 0, "received": 0, "dropped": None}
    with pytest.raises(Exception, match="not a tcpdump packet line"):
        tcpdump.parse("hello world\n")


def test_fdb_parser_on_the_captured_entry():
    (entry,) = bridge_fdb.parse((CMD / "bridge-fdb--vxlan-peer.out").read_text())
    assert (entry["mac"], entry["dst"], entry["state"]) == ("02:6b:70:00:00:02", "172.31.7.2", "permanent")
    assert bridge_fdb.parse("") == []


def test_flannel_log_errors():
    from k8srun.lab.cluster import pod_logs
    from k8srun.lab.topology import LAB

    healthy = [text for (ns, _), containers in pod_logs(LAB).items() if ns == "kube-flannel"
               for text in containers.values()]
    assert healthy and all(podnet.log_error(text) is None for text in healthy)
    line = ('E1129 20:11:03.132342       1 main.go:335] Error registering network: failed to acquire lease: '
            'node "node-b" pod cidr not assigned')
    assert podnet.log_error("I1129 20:11:03.132086       1 main.go:232] Created subnet manager\n" + line) == line
    assert podnet.log_error('level=fatal msg="failed to start" subsys=daemon') is not None
    assert podnet.log_error("2024-01-01 [ERROR][9] felix/int_dataplane.go 1: failed") is not None


@pytest.mark.parametrize("name, value", [("peer", "node-b"), ("pod_target", "pid:abc"), ("pod_target", "pid:0"),
                                         ("pod_target", "nope:x"), ("vxlan_port", 70000), ("peer_pod_ip", "10.0.0")])
def test_parameters_are_validated(name, value):
    with pytest.raises(ParameterError):
        diagnose_runbook("pod-network", **{name: value})


def test_pod_target_pid_runs_the_ping_through_nsenter():
    assert podnet.pod_pid("pid:4242") == 4242 and podnet.pod_pid("netns:x") == 0
    _, argv = podnet.PING_POD_NSENTER.build({"peer_pod_ip": "10.244.2.10", "pod_pid": 4242})
    assert argv[:4] == ("nsenter", "-t", "4242", "-n") and argv[4] == "ping"
    _, plain = podnet.PING_POD.build({"peer_pod_ip": "10.244.2.10", "pod_pid": 4242})
    assert plain[0] == "ping"


# -- recorded scenarios ------------------------------------------------------------------------------------

def test_default_scenario_replays_offline_to_net_002_with_the_rule_and_its_counter():
    started = time.monotonic()
    rb = diagnose_runbook("pod-network")
    assert time.monotonic() - started < 10
    assert codes(rb) == {"NET-002"}
    (found,) = rb.findings
    assert found.subject == "pods 10.244.1.10 -> 10.244.2.10"
    (rule,) = found.evidence["rules"]
    assert (rule["node"], rule["chain"], rule["target"], rule["moved"]) == ("node-b", "INPUT", "DROP", 4)
    assert "took 4 packet(s) during the probes (counter 0 -> 4)" in found.detail
    assert "arriving" in found.detail  # node-b's capture saw them before its filter
    assert set(status(rb).values()) == {"OK", "FOUND"}
    verdicts = rb.verdicts().set_index("subject")["verdict"].to_dict()
    assert verdicts == {"nodes node-a -> node-b": "NO CAUSE FOUND", "pods 10.244.1.10 -> 10.244.2.10": "FOUND"}
    chart = str(podnet.path_chart(rb._evidence))
    assert "data-hop='overlay' data-state='broken'" in chart and "data-hop='underlay' data-state='ok'" in chart
    assert "data-hop='arrived' data-state='ok'" in chart and "data-hop='reply' data-state='broken'" in chart


def test_flannel_down_scenario_is_net_004_with_its_log_line():
    rb = diagnose_runbook("pod-network", source="scenario:pod-network-flannel-down")
    assert codes(rb) == {"NET-004"}
    (found,) = rb.findings
    assert found.subject.startswith("pod kube-flannel/kube-flannel-ds-") and "on node-b" in found.detail
    assert "CrashLoopBackOff, 14 restart(s)" in found.detail
    assert 'failed to acquire lease: node "node-b" pod cidr not assigned' in found.detail
    checks = status(rb)
    assert checks["NET-004"] == "FOUND" and {checks[c] for c in NET_CODES - {"NET-004"}} == {"NOT CHECKED"}
    # the healthy lab: both agents Ready, no finding
    healthy = diagnose_runbook("pod-network")
    assert list(healthy._evidence["cni_pods"]["ready"]) == [True, True]


def test_source_none_skips_the_cluster_and_says_what_is_missing():
    rb = diagnose_runbook("pod-network", source="none", target="local")
    checks = status(rb)
    assert checks["NET-004"] == "NOT CHECKED" and checks["NET-001"] == "NOT CHECKED"
    assert any("no peer given" in u.reason for u in rb.unavailable)
    assert rb.findings == []


# -- our own topology: two nodes the lab did not build -----------------------------------------------------

def own(**extra):
    values = dict(source="none", target=f"netns:{topo.ONE.netns}", peer=topo.TWO.ip,
                  peer_target=f"netns:{topo.TWO.netns}", pod_target=f"netns:{topo.ONE.pod_netns}",
                  pod_ip=topo.ONE.pod_ip, peer_pod_ip=topo.TWO.pod_ip, vxlan_port=topo.PORT)
    values.update(extra)
    return diagnose_runbook("pod-network", **values)


@pytest.mark.netns
def test_own_topology_healthy_then_blocked_then_vni_mismatch():
    with topo.topology():
        healthy = own()
        assert codes(healthy) == set()
        assert {s for c, s in status(healthy).items() if c != "NET-004"} == {"OK"}
        captures = healthy._evidence["captures"]
        assert all(row["sent"] >= 1 and row["received"] >= 1 for row in captures.values())
        spec = topo.drop_vxlan(topo.TWO)
        blocked = own()
        assert codes(blocked) == {"NET-002"}
        (rule,) = blocked.findings[0].evidence["rules"]
        assert rule["moved"] >= 1 and "--dport 4789" in rule["rule"] and spec[-1] == rule["target"]
    with topo.topology(vni_two=43):
        mismatch = own()
        assert codes(mismatch) == {"NET-003"}
        detail = mismatch.findings[0].detail
        assert "arrived at" in detail and "no reply left it" in detail
        assert "the VXLAN ids differ" in detail and "VNI 42" in detail and "VNI 43" in detail
    assert not set(topo.NAMESPACES) & set(subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                                         timeout=10).stdout.split())


# -- the fault lab -----------------------------------------------------------------------------------------

LAB_PARAMS = {"source": "lab", "target": "netns:k8l-node-a", "peer": "192.168.20.2",
              "peer_target": "netns:k8l-node-b", "pod_target": "netns:k8l-pod-a", "pod_ip": "10.244.1.10",
              "peer_pod_ip": "10.244.2.10"}


def k8srun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=300)


def network_state() -> dict[str, str]:
    """What the four faults touch, without counters: every table of the router and both nodes, node-a's FDB."""
    from k8srun.lab.topology import LAB

    def ns(netns: str, *argv: str) -> str:
        return subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=10,
                              check=True).stdout

    def rules(netns: str) -> str:
        """The tables with rules or own chains; policy counters dropped (printed even without -c), and a table
        that holds nothing but ACCEPT policies left out (nf_tables keeps it once a rule was added and removed)."""
        text = re.sub(r" \[\d+:\d+\]$", "", ns(netns, "iptables-save"), flags=re.MULTILINE)
        tables = re.findall(r"^\*\w+\n.*?^COMMIT$", text, flags=re.MULTILINE | re.DOTALL)
        return "\n".join(t for t in tables if any(not re.fullmatch(r"(\*\w+|:[A-Z]+ ACCEPT|COMMIT)", line)
                                                  for line in t.splitlines()))

    state = {netns: rules(netns) for netns in (LAB.router, LAB.node_a.netns, LAB.node_b.netns)}
    state["fdb"] = ns(LAB.node_a.netns, "bridge", "fdb", "show", "dev", LAB.node_a.vxlan)
    state["routes"] = ns(LAB.node_a.netns, "ip", "route", "show")
    return state


@pytest.fixture(scope="module")
def healthy_state(fault_lab):
    return network_state()


def run_cli(report: Path) -> tuple[list[dict], float]:
    started = time.monotonic()
    argv = [part for name, value in LAB_PARAMS.items() for part in ("-p", name, value)]
    done = k8srun("run", "pod-network", *argv, "--out", str(report), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((report / "pod-network.findings.json").read_text())["findings"], time.monotonic() - started


@pytest.mark.netns
def test_lab_healthy_has_no_net_code(fault_lab, healthy_state):
    rb = diagnose_runbook("pod-network", **LAB_PARAMS)
    assert codes(rb) == set()
    assert set(status(rb).values()) == {"OK"}
    assert rb._evidence["peer_name"] == "node-b" and rb._evidence["source_name"] == "node-a"


@pytest.mark.netns
def test_lab_node_unreachable_through_the_cli_is_net_001_within_the_budget(fault_lab, healthy_state, tmp_path):
    broke = k8srun("lab", "break", "node-unreachable")
    assert broke.returncode == 0 and "expect NET-001" in broke.stdout, broke.stdout + broke.stderr
    try:
        found, took = run_cli(tmp_path)
    finally:
        assert k8srun("lab", "fix", "node-unreachable").returncode == 0
    assert network_state() == healthy_state  # `lab fix` reverts exactly (kube-proxy's rules included)
    assert took < BUDGET_S, f"the run took {took:.1f} s with everything dropped"
    assert {f["code"] for f in found} == {"NET-001"}
    (unreachable,) = found
    assert "silence: no SYN-ACK, no RST, no ICMP" in unreachable["detail"]
    assert "the peer's capture saw nothing from us" in unreachable["detail"]
    assert "node node-b Ready=Unknown (NodeStatusUnknown" in unreachable["detail"]


@pytest.mark.netns
def test_lab_vxlan_blocked_through_the_cli_is_net_002_with_the_counter(fault_lab, healthy_state, tmp_path):
    from k8srun.lab import control

    control.break_fault("vxlan-blocked", fault_lab)
    try:
        found, _ = run_cli(tmp_path)
    finally:
        control.fix_fault("vxlan-blocked", fault_lab)
    assert {f["code"] for f in found} == {"NET-002"}
    (rule,) = found[0]["evidence"]["rules"]
    assert rule["node"] == "node-b" and rule["moved"] >= 1 and "k8srun-lab vxlan-blocked" in rule["rule"]
    assert (tmp_path / "hosts" / "netns_k8l-node-b" / "iptables-save-after-probes.txt").is_file()


@pytest.mark.netns
@pytest.mark.parametrize("fault, expected", [("no-route", "NET-005"), ("vxlan-fdb-missing", "NET-003")])
def test_lab_faults(fault_lab, healthy_state, fault, expected):
    from k8srun.lab import control

    control.break_fault(fault, fault_lab)
    try:
        rb = diagnose_runbook("pod-network", **LAB_PARAMS)
    finally:
        control.fix_fault(fault, fault_lab)
    assert network_state() == healthy_state
    assert codes(rb) == {expected}
    (found,) = rb.findings
    if fault == "no-route":
        assert "Network is unreachable" in found.detail
    else:
        assert "no encapsulated packet left node-a" in found.detail
        assert "no FDB entry with dst 192.168.20.2" in found.detail


def test_peer_pod_ip_defaults_to_the_first_address_of_the_peer_nodes_pod_cidr():
    from k8srun import frames
    from k8srun.lab.cluster import cluster_objects

    nodes = frames.nodes_frame(cluster_objects()["nodes"])
    assert podnet.default_peer_pod_ip(nodes, "192.168.20.2") == "10.244.2.1"
    assert podnet.default_peer_pod_ip(nodes, "192.0.2.1") == ""
