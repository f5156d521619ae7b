"""The faults the lab can inject, each named for the finding a runbook should produce.

``FAULTS`` maps a fault name to a :class:`Fault`:

======================  ========  ============  ==============================================
name                    finding   where         what is broken
======================  ========  ============  ==============================================
``mtu``                 MTU-001   k8l-router    router → node-b link MTU 1400 (others 1500)
``ip-forward``          SYS-001   k8l-router    ``net.ipv4.ip_forward=0`` on the router
``no-route``            NET-005   k8l-node-a    route to node-b's pod CIDR deleted
``firewall-reject``     FW-001    k8l-node-a    filter FORWARD: REJECT tcp dport 8080
``firewall-drop``       FW-001    k8l-node-a    filter FORWARD: DROP tcp dport 8080
``dns-down``            DNS-005   k8l-dns       dnsmasq stopped; kube-dns not ready, so each
                                                node's kube-proxy REJECTs its ClusterIP
``dns-search``          DNS-002   k8l-pod-a     resolv.conf search path of another namespace
``dns-nameserver``      DNS-001   k8l-pod-a     resolv.conf nameserver = pod-b (no DNS there)
``svc-no-dnat``         SVC-003   k8l-node-a    KUBE-SERVICES rule of default/web:http removed
``svc-stale-endpoint``  SVC-004   k8l-node-a    pod-b's KUBE-SEP DNATs to a dead pod IP
``vxlan-blocked``       NET-002   k8l-node-b    filter INPUT: DROP udp dport 8472
``tls-expired``         TLS-001   k8l-pod-b     server certificate expired yesterday
``tls-wrong-san``       TLS-004   k8l-pod-b     certificate only for wrong.default.svc...
``tls-unknown-ca``      TLS-003   k8l-pod-b     certificate signed by a CA nobody trusts
``tls-not-yet-valid``   TLS-002   k8l-pod-b     certificate's notBefore two days ahead
``tls-expiring-soon``   TLS-005   k8l-pod-b     certificate valid, expires in ten days
``tls-incomplete-       TLS-003   k8l-pod-b     certificate signed by an intermediate the
chain``                                         server does not send (clients trust the root)
``tls-client-cert-      TLS-006   k8l-pod-b     s_server ``-Verify 1``: a client certificate
required``                                      is required
``pod-mtu``             MTU-002   k8l-node-a    pod-a's veth pair MTU 1500 (the overlay carries 1450)
``firewall-host-        FW-003    k8l-node-a    filter FORWARD: REJECT tcp dport 8080 with
unreachable``                                   icmp-host-unreachable ("No route to host")
``firewall-l7``         FW-002    k8l-node-b    filter FORWARD: string match "GET /admin" on tcp
                                                dport 8080 -> REJECT tcp-reset (``/`` works)
``node-unreachable``    NET-001   k8l-router    filter FORWARD: DROP node-a subnet <-> node-b
                                                subnet (both ways); node-b NotReady (Unknown)
``vxlan-fdb-missing``   NET-003   k8l-node-a    FDB entry for node-b's VTEP MAC removed from
                                                k8l-na-vxlan: encapsulated frames never leave
======================  ========  ============  ==============================================

The four last faults, in detail:

* ``firewall-host-unreachable``: ``-A FORWARD -p tcp -m tcp --dport 8080 -j
  REJECT --reject-with icmp-host-unreachable`` on node-a, so a connect from
  pod-a to web (or a backend) fails with ``EHOSTUNREACH`` ("No route to
  host") although ``ip route get`` on pod-a and node-a has a route.
* ``firewall-l7``: a real layer-7 filter with xt_string: ``-p tcp --dport
  8080 -m string --string "GET /admin" --algo bm -j REJECT --reject-with
  tcp-reset`` in node-b's FORWARD, on the way to web-b. The TCP handshake
  passes (no payload), ``GET /`` passes; the segment carrying ``GET /admin``
  is dropped and the client gets a RST after it sent the request
  ("Connection reset by peer"). Every web pod serves ``/admin``
  (``LAB.l7_blocked_path``) with 200 when the fault is not applied. Probe
  web-b directly (``http://10.244.2.10:8080/admin``) for a deterministic
  symptom: through the ClusterIP only the requests kube-proxy sends to web-b
  cross the filter (web-a is on node-a). The rule is on node-b, not on
  node-a's FORWARD, because there the flow is already DNATed and the kernel
  sends the RST from the backend's address (10.244.2.10:8080), not un-DNATed
  to the ClusterIP, so a client of the ClusterIP would ignore it and time
  out; node-b's RST is a plain reply that node-a's conntrack un-NATs.
* ``node-unreachable``: the underlay drops everything between the node
  subnets, as a network ACL / security group or a dead link does: two DROP
  rules in the router's FORWARD (``-i k8l-rt-a -o k8l-rt-b`` and back), so
  every probe between the nodes (ping, TCP, the VXLAN UDP) times out, in
  both directions. It is the one fault of these visible in the API: node-b's
  kubelet cannot post status to the API server on node-a, so node-b is
  ``Ready=Unknown`` (``NodeStatusUnknown``) with the ``unreachable`` taints,
  its pods are marked not ready (kube-dns and web-b become not-ready
  endpoints) and node-a's kube-proxy drops them from its rules (node-b's
  kube-proxy cannot hear the API and keeps its old ones) — the state within
  the 300 s toleration, before evictions.
* ``vxlan-fdb-missing``: node-a's ``bridge fdb`` entry ``<node-b VTEP MAC>
  dst 192.168.20.2`` on ``k8l-na-vxlan`` is deleted (as when flanneld fails to
  program a new peer). The route to 10.244.2.0/24 via the VXLAN device and
  the neighbour entry stay, node-to-node traffic and UDP 8472 are fine, but
  the device has no underlay destination for node-b's VTEP and drops every
  frame: no encapsulated packet leaves node-a.

Faults that rewrite the same artefact are rendered from the set of applied
faults (resolv.conf, the nodes' kube-proxy rules, the API snapshot of
:mod:`k8srun.lab.cluster`), so they combine; the TLS faults each replace the
one server certificate, so only one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from . import certs, services, topology
from .state import LabState
from .system import LabError, in_netns, run
from .topology import LAB, Lab

FAULT_MTU = 1400
FIREWALL_COMMENT = "k8srun-lab {fault}"


@dataclass
class FaultContext:
    """What a fault needs to apply or revert itself; ``state.faults`` already reflects the change."""

    lab: Lab
    state_dir: Path
    state: LabState


@dataclass(frozen=True)
class Fault:
    """A fault: where it lives, what it breaks, the finding it should produce, how to apply/revert."""

    name: str
    finding: str
    where: str
    description: str
    symptom: str
    apply: Callable[[FaultContext], None]
    revert: Callable[[FaultContext], None]
    exclusive_group: str = ""


def _router_link_mtu(mtu: int) -> Callable[[FaultContext], None]:
    def set_mtu(ctx: FaultContext) -> None:
        run(["ip", "-n", ctx.lab.router, "link", "set", ctx.lab.node_b.router_link, "mtu", str(mtu)])
        # learned path MTUs must not outlive the fault (nor a fix)
        for netns in ctx.lab.namespaces:
            run(["ip", "-n", netns, "route", "flush", "cache"])
    return set_mtu


def _pod_veth_mtu(mtu: int | None) -> Callable[[FaultContext], None]:
    """Set both ends of pod-a's veth pair to ``mtu`` (None: the lab's pod MTU); node-a's bridge follows its port."""
    def set_mtu(ctx: FaultContext) -> None:
        pod = ctx.lab.pod_a
        value = str(mtu or ctx.lab.pod_mtu)
        run(["ip", "-n", pod.node.netns, "link", "set", pod.host_link, "mtu", value])
        run(["ip", "-n", pod.netns, "link", "set", pod.ifname, "mtu", value])
        for netns in (pod.netns, pod.node.netns):
            run(["ip", "-n", netns, "route", "flush", "cache"])
    return set_mtu


def _router_forwarding(enabled: bool) -> Callable[[FaultContext], None]:
    def set_forwarding(ctx: FaultContext) -> None:
        run(in_netns(ctx.lab.router, ["sysctl", "-q", "-w", f"net.ipv4.ip_forward={int(enabled)}"]))
    return set_forwarding


def _remove_pod_route(ctx: FaultContext) -> None:
    topology.delete_pod_route(ctx.lab.node_a, ctx.lab)


def _restore_pod_route(ctx: FaultContext) -> None:
    topology.add_pod_route(ctx.lab.node_a, ctx.lab)


def firewall_rule(fault: str, lab: Lab = LAB) -> tuple[str, str, list[str]]:
    """(namespace, chain, rule spec) of a firewall fault's iptables rule."""
    comment = ["-m", "comment", "--comment", FIREWALL_COMMENT.format(fault=fault)]
    if fault == "firewall-reject":
        return lab.node_a.netns, "FORWARD", ["-p", "tcp", "-m", "tcp", "--dport", str(lab.http_port), *comment,
                                             "-j", "REJECT", "--reject-with", "icmp-port-unreachable"]
    if fault == "firewall-drop":
        return lab.node_a.netns, "FORWARD", ["-p", "tcp", "-m", "tcp", "--dport", str(lab.http_port), *comment,
                                             "-j", "DROP"]
    if fault == "vxlan-blocked":
        return lab.node_b.netns, "INPUT", ["-p", "udp", "-m", "udp", "--dport", str(lab.vxlan_port), *comment,
                                           "-j", "DROP"]
    if fault == "firewall-host-unreachable":
        return lab.node_a.netns, "FORWARD", ["-p", "tcp", "-m", "tcp", "--dport", str(lab.http_port), *comment,
                                             "-j", "REJECT", "--reject-with", "icmp-host-unreachable"]
    if fault == "firewall-l7":  # on node-b: see the module doc for why not node-a
        return lab.node_b.netns, "FORWARD", ["-p", "tcp", "-m", "tcp", "--dport", str(lab.http_port),
                                             "-m", "string", "--string", l7_request(lab), "--algo", "bm", *comment,
                                             "-j", "REJECT", "--reject-with", "tcp-reset"]
    raise LabError(f"{fault} is not a firewall fault")


def l7_request(lab: Lab = LAB) -> str:
    """The request line prefix fault ``firewall-l7`` matches: ``GET /admin``."""
    return f"GET {lab.l7_blocked_path}"


def firewall_rules(fault: str, lab: Lab = LAB) -> list[tuple[str, str, list[str]]]:
    """Every (namespace, chain, rule spec) of an iptables fault (``node-unreachable`` has two)."""
    if fault == "node-unreachable":
        comment = ["-m", "comment", "--comment", FIREWALL_COMMENT.format(fault=fault)]
        a, b = lab.node_a.router_link, lab.node_b.router_link
        return [(lab.router, "FORWARD", ["-i", inbound, "-o", outbound, *comment, "-j", "DROP"])
                for inbound, outbound in ((a, b), (b, a))]
    return [firewall_rule(fault, lab)]


def _insert_rule(fault: str) -> Callable[[FaultContext], None]:
    def insert(ctx: FaultContext) -> None:
        for netns, chain, spec in firewall_rules(fault, ctx.lab):
            if run(in_netns(netns, ["iptables", "-w", "2", "-C", chain, *spec]), check=False).returncode != 0:
                run(in_netns(netns, ["iptables", "-w", "2", "-I", chain, "1", *spec]))
    return insert


def _delete_rule(fault: str) -> Callable[[FaultContext], None]:
    def delete(ctx: FaultContext) -> None:
        for netns, chain, spec in firewall_rules(fault, ctx.lab):
            while run(in_netns(netns, ["iptables", "-w", "2", "-C", chain, *spec]), check=False).returncode == 0:
                run(in_netns(netns, ["iptables", "-w", "2", "-D", chain, *spec]))
    return delete


def _node_outage(cut: bool) -> Callable[[FaultContext], None]:
    """node-unreachable: the router's DROP rules, then each node's kube-proxy from what it can see."""
    def apply(ctx: FaultContext) -> None:
        (_insert_rule if cut else _delete_rule)("node-unreachable")(ctx)
        render_kube_proxy(ctx)
    return apply


def _vtep_fdb(present: bool) -> Callable[[FaultContext], None]:
    def set_fdb(ctx: FaultContext) -> None:
        (topology.add_vtep_fdb if present else topology.delete_vtep_fdb)(ctx.lab.node_a, ctx.lab)
    return set_fdb


def _stop_dns(ctx: FaultContext) -> None:
    # the entry stays, so `lab status` lists dns as not running
    process = ctx.state.processes.get("dns")
    if process is not None:
        services.stop_server(process)
    render_kube_proxy(ctx)  # kube-dns has no ready endpoint now: kube-proxy REJECTs its ClusterIP


def _start_dns(ctx: FaultContext) -> None:
    process = ctx.state.processes.get("dns")
    if process is None or not services.server_running(process):
        ctx.state.processes["dns"] = services.start_server("dns", ctx.state_dir, ctx.lab)
    render_kube_proxy(ctx)


def render_resolv_conf(ctx: FaultContext) -> None:
    """Write pod-a's resolv.conf from the applied DNS faults."""
    lab = ctx.lab
    search = ("prod.svc." + lab.cluster_domain, "svc." + lab.cluster_domain) if "dns-search" in ctx.state.faults else None
    nameserver = lab.pod_b.ip if "dns-nameserver" in ctx.state.faults else None
    topology.write_resolv_conf(lab.pod_a, topology.resolv_conf(lab, nameserver=nameserver, search=search))


def no_ready_endpoints(lab: Lab, faults: list[str] | tuple[str, ...]) -> tuple[topology.Service, ...]:
    """Service ports whose every endpoint is not ready under ``faults`` (``dns-down``: kube-dns)."""
    if "dns-down" in faults:
        return tuple(s for s in lab.services if s.name == lab.kube_dns.name and s.namespace == lab.kube_dns.namespace)
    return ()


def unreachable_node_ips(lab: Lab, faults: list[str] | tuple[str, ...]) -> frozenset[str]:
    """Pod IPs the API marks not ready because their node is unreachable (``node-unreachable``: node-b's pods)."""
    if "node-unreachable" in faults:
        return frozenset(pod.ip for pod in lab.pods if pod.node == lab.node_b)
    return frozenset()


def _without_endpoints(lab: Lab, gone: frozenset[str]) -> Lab:
    """``lab`` with the endpoint IPs in ``gone`` removed from every service port."""
    return replace(lab, services=tuple(replace(s, endpoint_ips=tuple(ip for ip in s.endpoint_ips if ip not in gone))
                                       for s in lab.services))


def kube_proxy_tables(lab: Lab, faults: list[str] | tuple[str, ...], node: topology.Node) -> tuple[str, str]:
    """(nat, filter) iptables-restore input for ``node``'s kube-proxy under ``faults``.

    Every node's kube-proxy sees the same Endpoints (a service port with no
    ready endpoint gets REJECT rules on both nodes); the service faults live
    in node-a's rules only. Under ``node-unreachable`` node-a's kube-proxy
    drops node-b's pods (not ready now) and node-b's, cut off from the API
    server on node-a, keeps the rules it had.
    """
    no_endpoints = no_ready_endpoints(lab, faults)
    on_a = node == lab.node_a
    gone = unreachable_node_ips(lab, faults) if on_a else frozenset()
    if gone:
        lab = _without_endpoints(lab, gone)
        no_endpoints = tuple(s for s in lab.services if not s.endpoint_ips
                             or any((s.namespace, s.name, s.port_name) == (n.namespace, n.name, n.port_name)
                                    for n in no_endpoints))
    without = lab.web_http if on_a and "svc-no-dnat" in faults else None
    stale = (lab.web_http, lab.pod_b.ip, lab.dead_pod_ip) if on_a and "svc-stale-endpoint" in faults else None
    return (topology.kube_proxy_rules(lab, without_service=without, stale_endpoint=stale, no_endpoints=no_endpoints),
            topology.kube_proxy_filter_rules(lab, no_endpoints=no_endpoints))


def render_kube_proxy(ctx: FaultContext) -> None:
    """Load each node's kube-proxy rules (nat table, filter chains) from the applied faults."""
    for node in ctx.lab.nodes:
        topology.load_kube_proxy_rules(node, *kube_proxy_tables(ctx.lab, ctx.state.faults, node))


def _server_cert(variant: str, *, require_client_cert: bool = False) -> Callable[[FaultContext], None]:
    def reissue(ctx: FaultContext) -> None:
        certs.issue_server_cert(ctx.state_dir, variant, ctx.lab)
        process = ctx.state.processes.pop("tls", None)
        if process is not None:
            services.stop_server(process)
        ctx.state.processes["tls"] = services.start_server("tls", ctx.state_dir, ctx.lab,
                                                            require_client_cert=require_client_cert)
    return reissue


def _faults() -> dict[str, Fault]:
    lab = LAB
    web = lab.web_http
    listed = [
        Fault("mtu", "MTU-001", lab.router,
              f"link {lab.node_b.router_link} (router → node-b) has MTU {FAULT_MTU}, the rest of the path {lab.node_mtu}",
              f"ping -M do -s {lab.node_mtu - 28} {lab.node_b.ip} from node-a gets 'Frag needed (mtu = {FAULT_MTU})';"
              f" from pod-a, DF packets to {lab.pod_b.ip} above {FAULT_MTU - 50} bytes vanish without an ICMP"
              " (a black hole: small pings work, full-size ones hang)",
              _router_link_mtu(FAULT_MTU), _router_link_mtu(lab.node_mtu)),
        Fault("ip-forward", "SYS-001", lab.router, "net.ipv4.ip_forward=0 on the router",
              f"node-a cannot reach {lab.node_b.ip}; pod-a cannot reach {lab.pod_b.ip}",
              _router_forwarding(False), _router_forwarding(True)),
        Fault("no-route", "NET-005", lab.node_a.netns,
              f"node-a has no route to node-b's pod CIDR {lab.node_b.pod_cidr}",
              f"ping {lab.pod_b.ip} from pod-a: 'Destination Net Unreachable' from node-a",
              _remove_pod_route, _restore_pod_route),
        Fault("firewall-reject", "FW-001", lab.node_a.netns,
              f"iptables filter FORWARD on node-a REJECTs tcp dport {lab.http_port}",
              f"curl http://{web.cluster_ip}/ from pod-a: 'Connection refused'",
              _insert_rule("firewall-reject"), _delete_rule("firewall-reject")),
        Fault("firewall-drop", "FW-001", lab.node_a.netns,
              f"iptables filter FORWARD on node-a DROPs tcp dport {lab.http_port}",
              f"curl http://{web.cluster_ip}/ from pod-a times out",
              _insert_rule("firewall-drop"), _delete_rule("firewall-drop")),
        Fault("dns-down", "DNS-005", lab.dns_pod.netns,
              "the DNS server (dnsmasq) is stopped: CoreDNS is not ready, kube-proxy REJECTs the kube-dns ClusterIP",
              f"dig @{lab.kube_dns.cluster_ip} {lab.web_fqdn}: connection refused (kube-proxy's REJECT), "
              "no servers could be reached",
              _stop_dns, _start_dns),
        Fault("dns-search", "DNS-002", lab.pod_a.netns,
              "pod-a's resolv.conf search path lacks default.svc.cluster.local",
              "dig +search web / getent hosts web from pod-a find nothing; the FQDN still resolves",
              render_resolv_conf, render_resolv_conf),
        Fault("dns-nameserver", "DNS-001", lab.pod_a.netns,
              f"pod-a's resolv.conf nameserver is {lab.pod_b.ip} (a web pod), not kube-dns {lab.kube_dns.cluster_ip}",
              "every lookup from pod-a fails: connection refused on port 53",
              render_resolv_conf, render_resolv_conf),
        Fault("svc-no-dnat", "SVC-003", lab.node_a.netns,
              f"node-a's nat KUBE-SERVICES has no rule for {web.service_port_name} ({web.cluster_ip}:{web.port})",
              f"curl http://{web.cluster_ip}/ from pod-a fails at once (no DNAT: the packet goes to the "
              "gateway, which answers 'net unreachable')",
              render_kube_proxy, render_kube_proxy),
        Fault("svc-stale-endpoint", "SVC-004", lab.node_a.netns,
              f"node-a's KUBE-SEP for {lab.pod_b.ip} DNATs to {lab.dead_pod_ip}:{lab.http_port} (no such pod)",
              f"about half the requests to http://{web.cluster_ip}/ from pod-a time out",
              render_kube_proxy, render_kube_proxy),
        Fault("vxlan-blocked", "NET-002", lab.node_b.netns,
              f"iptables filter INPUT on node-b DROPs udp dport {lab.vxlan_port} (VXLAN)",
              f"node-a reaches {lab.node_b.ip}, but pod-a cannot reach {lab.pod_b.ip}",
              _insert_rule("vxlan-blocked"), _delete_rule("vxlan-blocked")),
        Fault("tls-expired", "TLS-001", lab.pod_b.netns, "the web server certificate expired yesterday",
              "TLS verification fails: certificate has expired",
              _server_cert("expired"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-wrong-san", "TLS-004", lab.pod_b.netns,
              f"the web server certificate is for wrong.default.svc.{lab.cluster_domain} only",
              f"TLS verification of {lab.web_fqdn} fails: hostname mismatch",
              _server_cert("wrong-san"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-unknown-ca", "TLS-003", lab.pod_b.netns,
              "the web server certificate is signed by a CA the clients do not trust",
              "TLS verification fails: unable to get local issuer certificate",
              _server_cert("unknown-ca"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-not-yet-valid", "TLS-002", lab.pod_b.netns,
              "the web server certificate's notBefore is two days ahead (issued by a clock that runs fast)",
              "TLS verification fails: certificate is not yet valid",
              _server_cert("not-yet-valid"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-expiring-soon", "TLS-005", lab.pod_b.netns,
              "the web server certificate is valid but expires in ten days",
              "TLS verification succeeds; notAfter is ten days away",
              _server_cert("expiring-soon"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-incomplete-chain", "TLS-003", lab.pod_b.netns,
              "the web server certificate is signed by an intermediate CA the server does not send "
              "(clients trust the lab CA, the root)",
              "TLS verification fails: unable to get local issuer certificate (the intermediate is missing)",
              _server_cert("incomplete-chain"), _server_cert("valid"), exclusive_group="tls"),
        Fault("tls-client-cert-required", "TLS-006", lab.pod_b.netns,
              "the TLS server requires a client certificate (openssl s_server -Verify 1)",
              "TLS handshake fails: tlsv13 alert certificate required",
              _server_cert("valid", require_client_cert=True), _server_cert("valid"), exclusive_group="tls"),
        Fault("pod-mtu", "MTU-002", lab.node_a.netns,
              f"pod-a's veth pair ({lab.pod_a.ifname} / {lab.pod_a.host_link}) has MTU {lab.node_mtu}, "
              f"but the overlay carries {lab.pod_mtu} ({lab.node_mtu} - 50 bytes of VXLAN)",
              f"ping -M do -s {lab.node_mtu - 28} {lab.pod_b.ip} from pod-a: 'Frag needed and DF set "
              f"(mtu = {lab.pod_mtu})' from node-a {lab.node_a.bridge_ip}; node-a's bridge {lab.node_a.bridge} "
              f"follows its port to {lab.node_mtu}",
              _pod_veth_mtu(lab.node_mtu), _pod_veth_mtu(None)),
        Fault("firewall-host-unreachable", "FW-003", lab.node_a.netns,
              f"iptables filter FORWARD on node-a REJECTs tcp dport {lab.http_port} with icmp-host-unreachable",
              f"curl http://{web.cluster_ip}/ from pod-a: 'No route to host', yet `ip route get {lab.pod_b.ip}` "
              "has a route",
              _insert_rule("firewall-host-unreachable"), _delete_rule("firewall-host-unreachable")),
        Fault("firewall-l7", "FW-002", lab.node_a.netns,
              f"iptables filter FORWARD on node-b matches the string '{l7_request(lab)}' on tcp dport "
              f"{lab.http_port} and REJECTs it with a TCP reset (a layer-7 filter in front of web-b)",
              f"curl http://{lab.pod_b.ip}:{lab.http_port}/ from pod-a works; curl "
              f"http://{lab.pod_b.ip}:{lab.http_port}{lab.l7_blocked_path}: 'Connection reset by peer' after the "
              "request was sent (through the ClusterIP: the requests that go to web-b)",
              _insert_rule("firewall-l7"), _delete_rule("firewall-l7")),
        Fault("node-unreachable", "NET-001", lab.router,
              f"the router DROPs everything between node-a's and node-b's subnets ({lab.node_a.router_link} <-> "
              f"{lab.node_b.router_link}), as a network ACL or a dead link does; the API marks node-b NotReady "
              "(Unknown) and its pods not ready",
              f"from node-a, ping {lab.node_b.ip} and TCP to it time out; pod-a cannot reach {lab.pod_b.ip}",
              _node_outage(True), _node_outage(False)),
        Fault("vxlan-fdb-missing", "NET-003", lab.node_a.netns,
              f"node-a's VXLAN device {lab.node_a.vxlan} has no FDB entry for node-b's VTEP "
              f"({lab.node_b.vxlan_mac} dst {lab.node_b.ip}): flanneld did not program the peer",
              f"node-a reaches {lab.node_b.ip} (and udp/{lab.vxlan_port}), the route to {lab.node_b.pod_cidr} is "
              f"there, but pod-a cannot reach {lab.pod_b.ip}: no encapsulated packet leaves node-a",
              _vtep_fdb(False), _vtep_fdb(True)),
    ]
    return {fault.name: fault for fault in listed}


FAULTS: dict[str, Fault] = _faults()


def conflicting(name: str, applied: list[str]) -> str | None:
    """An applied fault that ``name`` cannot be combined with, if any."""
    group = FAULTS[name].exclusive_group
    for other in applied:
        if group and other != name and FAULTS[other].exclusive_group == group:
            return other
    return None
