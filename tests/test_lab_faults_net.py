"""The network faults of issue 10 as data: their rules, and what the API says under them.

The live break/heal of each fault (its symptom seen with ping/nc/curl/bridge
before, during and after) is in tests/test_lab.py (``SYMPTOMS``); here the
pure parts: the iptables specs, and the API snapshot under ``node-unreachable``
agreeing with node-a's kube-proxy rules.
"""

from __future__ import annotations

import pytest

from k8srun import frames
from k8srun.lab import cluster, faults, topology
from k8srun.lab.faults import FAULTS, firewall_rules, kube_proxy_tables
from k8srun.lab.topology import LAB


def named(items: list[dict], namespace: str | None, name: str) -> dict:
    return next(i for i in items if i["metadata"]["name"] == name
                and i["metadata"].get("namespace") == namespace)


def ready_ips(endpoints: dict) -> tuple[set[str], set[str]]:
    subsets = endpoints.get("subsets") or []
    ready = {a["ip"] for s in subsets for a in s.get("addresses", [])}
    not_ready = {a["ip"] for s in subsets for a in s.get("notReadyAddresses", [])}
    return ready, not_ready


def test_new_faults_are_listed_with_their_codes():
    assert {name: FAULTS[name].finding for name in ("firewall-host-unreachable", "firewall-l7", "node-unreachable",
                                                     "vxlan-fdb-missing")} == {
        "firewall-host-unreachable": "FW-003", "firewall-l7": "FW-002", "node-unreachable": "NET-001",
        "vxlan-fdb-missing": "NET-003"}


def test_firewall_rules_of_the_new_faults():
    ((netns, chain, spec),) = firewall_rules("firewall-host-unreachable")
    assert (netns, chain) == (LAB.node_a.netns, "FORWARD")
    assert spec[-4:] == ["-j", "REJECT", "--reject-with", "icmp-host-unreachable"]
    ((netns, chain, spec),) = firewall_rules("firewall-l7")
    assert (netns, chain) == (LAB.node_b.netns, "FORWARD")
    assert "--string" in spec and spec[spec.index("--string") + 1] == f"GET {LAB.l7_blocked_path}"
    assert spec[-2:] == ["--reject-with", "tcp-reset"]
    both = firewall_rules("node-unreachable")
    assert [(n, c) for n, c, _ in both] == [(LAB.router, "FORWARD")] * 2
    assert {(s[s.index("-i") + 1], s[s.index("-o") + 1]) for _, _, s in both} == {
        (LAB.node_a.router_link, LAB.node_b.router_link), (LAB.node_b.router_link, LAB.node_a.router_link)}
    assert all(s[-2:] == ["-j", "DROP"] for _, _, s in both)


def test_vtep_fdb_entry_is_flannels():
    assert topology.vtep_fdb(LAB.node_a) == [LAB.node_b.vxlan_mac, "dev", LAB.node_a.vxlan, "dst", LAB.node_b.ip]


@pytest.mark.parametrize("fault", ["firewall-host-unreachable", "firewall-l7", "vxlan-fdb-missing"])
def test_faults_of_the_data_path_leave_the_api_unchanged(fault):
    assert cluster.cluster_objects(LAB, [fault]) == cluster.cluster_objects(LAB)
    assert fault not in cluster.API_FAULTS


def test_node_unreachable_in_the_api():
    healthy, lost = cluster.cluster_objects(LAB), cluster.cluster_objects(LAB, ["node-unreachable"])
    nodes = frames.nodes_frame(lost["nodes"]).set_index("name")
    assert nodes.loc[LAB.node_a.name, "ready"] == "True" and nodes.loc[LAB.node_b.name, "ready"] == "Unknown"
    node_b = named(lost["nodes"], None, LAB.node_b.name)
    ready = next(c for c in node_b["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["reason"], ready["message"]) == cluster.NODE_UNKNOWN
    assert {(t["key"], t["effect"]) for t in node_b["spec"]["taints"]} == {
        (cluster.UNREACHABLE_TAINT, "NoSchedule"), (cluster.UNREACHABLE_TAINT, "NoExecute")}
    # node-b's pods: Ready False, the kubelet's last container statuses unchanged
    on_b = [p for p in lost["pods"] if p["spec"]["nodeName"] == LAB.node_b.name]
    assert on_b and all(not cluster._pod_ready(p) for p in on_b)
    assert all(s["ready"] for p in on_b for s in p["status"]["containerStatuses"])
    assert all(cluster._pod_ready(p) for p in lost["pods"] if p["spec"]["nodeName"] == LAB.node_a.name)
    flannel = named(lost["daemonsets"], "kube-flannel", "kube-flannel-ds")
    assert flannel["status"]["numberReady"] == 1
    assert ready_ips(named(healthy["endpoints"], "default", "web")) == ({LAB.pod_a.ip, LAB.pod_b.ip}, set())
    assert ready_ips(named(lost["endpoints"], "default", "web")) == ({LAB.pod_a.ip}, {LAB.pod_b.ip})
    assert ready_ips(named(lost["endpoints"], "kube-system", "kube-dns")) == (set(), {LAB.dns_pod.ip})
    events = frames.events_frame(lost["events"])
    assert events[["reason", "name"]].values.tolist() == [["NodeNotReady", LAB.node_b.name]]


def test_node_unreachable_kube_proxy_follows_the_api_on_node_a_only():
    nat_a, filter_a = kube_proxy_tables(LAB, ["node-unreachable"], LAB.node_a)
    assert f"--to-destination {LAB.pod_b.ip}:" not in nat_a and f"--to-destination {LAB.pod_a.ip}:8080" in nat_a
    assert "default/web:https has no endpoints" in filter_a and "kube-dns:dns has no endpoints" in filter_a
    assert "default/web:http has no endpoints" not in filter_a
    # node-b's kube-proxy cannot reach the API server on node-a: its rules stay as they were
    assert kube_proxy_tables(LAB, ["node-unreachable"], LAB.node_b) == kube_proxy_tables(LAB, [], LAB.node_b)
    # with dns-down too, kube-dns stays without endpoints (no duplicate REJECT)
    _, both = kube_proxy_tables(LAB, ["node-unreachable", "dns-down"], LAB.node_a)
    assert both.count("kube-dns:dns has no endpoints") == 1


def test_unreachable_node_ips():
    assert faults.unreachable_node_ips(LAB, []) == frozenset()
    assert faults.unreachable_node_ips(LAB, ["node-unreachable"]) == {LAB.pod_b.ip, LAB.dns_pod.ip}
