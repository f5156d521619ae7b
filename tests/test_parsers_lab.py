"""Parsers on real outputs of the fault lab: what an SRE reads off node-a's rules, healthy and broken.

Fixtures (``capture.py`` ``capture_lab()``; their golden rows are checked by
``test_parsers.py``): ``iptables-save -t nat`` of k8l-node-a in the healthy
lab (also with ``-c`` after traffic), with ``svc-no-dnat`` and
``svc-stale-endpoint``; ``iptables-save -t filter`` with ``firewall-reject``
and ``firewall-drop``; ``conntrack -L`` after curl from pod-a to the web
ClusterIP until both backends answered. Expected names and addresses come
from :data:`k8srun.lab.topology.LAB`, not from the fixtures.

What the kube-proxy view makes of the two service faults (the outcomes
runbook checks build on):

* ``svc-no-dnat`` (SVC-003): the service port has **no row at all** — the
  view starts from ``KUBE-SERVICES`` rules, and there is none for
  10.96.0.50:80. Its ``KUBE-SVC`` chain and the ``KUBE-SEP`` jumps are still
  in the dump (kube-proxy's chains, orphaned), visible in ``parse`` rows.
* ``svc-stale-endpoint`` (SVC-004): the row is there with status ``ok`` and
  the dead pod IP as a backend — the rules alone look healthy; only
  comparing ``backend_ip`` with the Endpoints shows the stale one.

The live test brings the lab up, reads node-a through ``netns:`` and sees
the backend change after the fault is applied.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from k8srun.lab import control, topology
from k8srun.lab.faults import FIREWALL_COMMENT, firewall_rule
from k8srun.lab.topology import LAB
from k8srun.parsers import conntrack, iptables_save
from k8srun.targets import open_target

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
WEB = LAB.web_http
#: the service ports of the lab when the fixtures were captured (default/kubernetes came later)
CAPTURED_SERVICES = [service for service in LAB.services if service.name != "kubernetes"]


def dump(case: str) -> str:
    return (FIXTURES / f"iptables-save--lab-{case}.out").read_text()


def services(case: str) -> pd.DataFrame:
    return iptables_save.kube_proxy_services(dump(case))


def backends(view: pd.DataFrame, service: topology.Service) -> list[str]:
    rows = view[(view.service == service.service_port_name) & (view.cluster_ip == service.cluster_ip)
                & (view.port == service.port)]
    return [f"{ip}:{port}" for ip, port in zip(rows.backend_ip, rows.backend_port)]


# --- healthy ---------------------------------------------------------------

def test_healthy_web_has_both_backends_at_even_shares():
    view = services("healthy")
    web = view[view.service == WEB.service_port_name]
    assert backends(view, WEB) == list(WEB.endpoints) == ["10.244.1.10:8080", "10.244.2.10:8080"]
    assert web.share.tolist() == [0.5, 0.5] and (web.status == "ok").all() and web.masquerade.all()
    assert web.svc_chain.unique().tolist() == [topology.svc_chain(WEB)]
    assert web.sep_chain.tolist() == [topology.sep_chain(WEB, endpoint) for endpoint in WEB.endpoints]


def test_healthy_every_lab_service_port_has_its_endpoints():
    view = services("healthy")
    assert set(view.service) == {service.service_port_name for service in CAPTURED_SERVICES}
    for service in CAPTURED_SERVICES:
        assert backends(view, service) == list(service.endpoints), service.service_port_name
    dns = view[view.service.str.startswith("kube-system/kube-dns:")]
    assert set(dns.backend_ip) == {LAB.dns_pod.ip} and set(dns.protocol) == {"udp", "tcp"}


def test_healthy_counters_show_traffic_through_both_backends():
    text = dump("healthy-counters")
    pd.testing.assert_frame_equal(iptables_save.kube_proxy_services(text), services("healthy"))
    dnat = [row for row in iptables_save.parse(text) if row["kind"] == "rule" and row["target"] == "DNAT"
            and row["target_options"]["to-destination"] in WEB.endpoints]
    assert len(dnat) == 2 and all(row["packets"] >= 1 for row in dnat)
    assert all(row["packets"] is None for row in iptables_save.parse(dump("healthy")) if row["kind"] == "rule")


def test_conntrack_after_traffic_shows_the_dnat_to_both_backends():
    entries = conntrack.parse((FIXTURES / "conntrack--lab-clusterip.out").read_text())
    to_service = [e for e in entries if (e["dst"], e["dport"]) == (WEB.cluster_ip, WEB.port)]
    assert to_service and all(e["dnat"] and e["src"] == LAB.pod_a.ip for e in to_service)
    assert {e["reply_src"] for e in to_service} == set(WEB.endpoint_ips)
    assert {e["reply_sport"] for e in to_service} == {WEB.target_port}


def test_healthy_nat_table_has_no_reject_or_drop():
    assert not [row for row in iptables_save.parse(dump("healthy")) if row["target"] in ("REJECT", "DROP")]


# --- service faults --------------------------------------------------------

def test_svc_no_dnat_leaves_no_row_for_the_service_port():
    view = services("svc-no-dnat")
    assert backends(view, WEB) == []
    assert WEB.service_port_name not in set(view.service)
    healthy = services("healthy")
    others = healthy[healthy.service != WEB.service_port_name].reset_index(drop=True)
    pd.testing.assert_frame_equal(view, others)


def test_svc_no_dnat_keeps_the_orphaned_service_chain():
    rows = [row for row in iptables_save.parse(dump("svc-no-dnat")) if row["kind"] == "rule"]
    jumps_to_web = [row for row in rows if row["chain"] == "KUBE-SERVICES" and row["target"] == topology.svc_chain(WEB)]
    assert jumps_to_web == []
    web_chain = [row["target"] for row in rows if row["chain"] == topology.svc_chain(WEB)]
    assert [target for target in web_chain if target.startswith("KUBE-SEP-")] == [
        topology.sep_chain(WEB, endpoint) for endpoint in WEB.endpoints]


def test_svc_stale_endpoint_backend_is_the_dead_pod_ip():
    view = services("svc-stale-endpoint")
    assert backends(view, WEB) == [f"{LAB.pod_a.ip}:{WEB.target_port}", f"{LAB.dead_pod_ip}:{WEB.target_port}"]
    web = view[view.service == WEB.service_port_name]
    assert (web.status == "ok").all()   # the rules look healthy: only the Endpoints comparison shows it
    assert set(web.backend_ip) - set(WEB.endpoint_ips) == {LAB.dead_pod_ip}
    assert set(services("healthy").backend_ip) - {ip for s in LAB.services for ip in s.endpoint_ips} == set()


# --- firewall faults -------------------------------------------------------

@pytest.mark.parametrize("fault, target", [("firewall-reject", "REJECT"), ("firewall-drop", "DROP")])
def test_firewall_rule_row_matches_the_backend_port(fault, target):
    rows = [row for row in iptables_save.parse(dump(fault)) if row["kind"] == "rule"]
    _, chain, _ = firewall_rule(fault)
    assert len(rows) == 1
    rule = rows[0]
    assert (rule["table"], rule["chain"], rule["position"], rule["target"]) == ("filter", chain, 1, target)
    assert rule["protocol"] == "tcp" and rule["comment"] == FIREWALL_COMMENT.format(fault=fault)
    assert {"module": "tcp", "option": "dport", "value": str(LAB.http_port), "negated": False} in rule["matches"]
    expected_options = {"reject-with": "icmp-port-unreachable"} if target == "REJECT" else {}
    assert rule["target_options"] == expected_options
    assert iptables_save.kube_proxy_services(dump(fault)).empty


# --- live ------------------------------------------------------------------

@pytest.mark.netns
@pytest.mark.slow
def test_live_stale_endpoint_shows_up_in_node_a_rules():
    with control.lab_session() as lab:
        node_a = open_target(f"netns:{lab.node_a.netns}", timeout_s=5)

        def web_backends() -> list[str]:
            result = node_a.run("iptables-save-nat", ["iptables-save", "-t", "nat"])
            assert result.ok, result.error
            return backends(iptables_save.kube_proxy_services(result.stdout), lab.web_http)

        assert web_backends() == list(lab.web_http.endpoints)
        assert control.break_fault("svc-stale-endpoint", lab)
        assert web_backends() == [f"{lab.pod_a.ip}:{lab.http_port}", f"{lab.dead_pod_ip}:{lab.http_port}"]
