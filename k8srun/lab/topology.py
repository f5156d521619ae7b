"""The lab's topology as data (``LAB``), and building / removing it with ``ip``.

Picture (every name below is a network namespace)::

    k8l-pod-a 10.244.1.10 ─ k8l-na-cni0 ┐                       ┌ k8l-nb-cni0 ─ k8l-pod-b 10.244.2.10
                                k8l-node-a ── k8l-router ── k8l-node-b
                           192.168.10.2/24   .10.1 | .20.1   192.168.20.2/24 └─ k8l-dns 10.244.2.53
              k8l-na-vxlan 10.244.1.0 ══ VXLAN id 1, UDP 8472 ══ k8l-nb-vxlan 10.244.2.0

Nodes reach each other through the router (the "underlay", MTU 1500); pod
traffic between nodes is carried flannel-style over a VXLAN device (MTU
1450, DF set on the outer header so a smaller hop becomes a real MTU black
hole), with static neighbour/FDB entries and a route per peer pod CIDR.
Each node has a kube-proxy iptables nat table (see :func:`kube_proxy_rules`)
and kube-proxy's filter chains (:func:`kube_proxy_filter_rules`) for the
Services in ``LAB.services``; pods use ``/etc/netns/<pod>/resolv.conf``.
What the API would say about the same lab is :mod:`k8srun.lab.cluster`.

Other code (runbook tests) should take names and addresses from ``LAB``::

    from k8srun.lab.topology import LAB
    LAB.pod_a.netns            # 'k8l-pod-a'  -> target 'netns:k8l-pod-a'
    LAB.pod_b.ip               # '10.244.2.10'
    LAB.web_http.cluster_ip    # '10.96.0.50'
    LAB.node_b.ip              # '192.168.20.2'
"""

from __future__ import annotations

import base64
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

from .system import in_netns, netns_names, run

#: every namespace and link of the lab starts with this
PREFIX = "k8l-"
ETC_NETNS = Path("/etc/netns")


@dataclass(frozen=True)
class Node:
    """A "node": a namespace with an uplink to the router, a cni bridge and a VXLAN device."""

    name: str            # Kubernetes-style node name
    netns: str
    ip: str              # node address on its transit subnet
    uplink: str          # node side of the link to the router
    router_link: str     # router side of that link
    router_ip: str       # the node's gateway
    transit_prefix: int
    pod_cidr: str
    bridge: str
    bridge_ip: str       # pods' gateway (first address of the pod CIDR)
    vxlan: str
    vxlan_ip: str        # network address of the pod CIDR, /32, like flannel.1
    vxlan_mac: str


@dataclass(frozen=True)
class Pod:
    """A "pod": a namespace with one veth into its node's bridge."""

    name: str            # Kubernetes-style pod name
    netns: str
    ip: str
    node: Node
    ifname: str          # interface inside the pod
    host_link: str       # peer end on the node, a bridge port


@dataclass(frozen=True)
class Service:
    """One ClusterIP service port, as kube-proxy sees it."""

    namespace: str
    name: str
    port_name: str
    protocol: str        # "tcp" or "udp"
    cluster_ip: str
    port: int
    target_port: int
    endpoint_ips: tuple[str, ...]

    @property
    def service_port_name(self) -> str:
        """``namespace/name:port`` as kube-proxy prints it in comments."""
        return f"{self.namespace}/{self.name}:{self.port_name}"

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Backends as ``ip:port``."""
        return tuple(f"{ip}:{self.target_port}" for ip in self.endpoint_ips)


@dataclass(frozen=True)
class Lab:
    """Every name and address of the lab."""

    router: str
    nodes: tuple[Node, Node]
    pods: tuple[Pod, Pod, Pod]
    services: tuple[Service, ...]
    cluster_domain: str
    cluster_cidr: str
    underlay_cidr: str   # the nodes' network, routed by the router
    node_mtu: int
    pod_mtu: int
    vxlan_id: int
    vxlan_port: int
    http_port: int
    tls_port: int
    dead_pod_ip: str     # in node-b's pod CIDR, never assigned (stale endpoint fault)
    service_cidr: str = "10.96.0.0/12"   # ClusterIPs; routed to the router like a node's default route
    l7_blocked_path: str = "/admin"      # served by every web pod; fault firewall-l7 resets requests for it

    @property
    def node_a(self) -> Node:
        return self.nodes[0]

    @property
    def node_b(self) -> Node:
        return self.nodes[1]

    @property
    def pod_a(self) -> Pod:
        return self.pods[0]

    @property
    def pod_b(self) -> Pod:
        return self.pods[1]

    @property
    def dns_pod(self) -> Pod:
        return self.pods[2]

    @property
    def web_pods(self) -> tuple[Pod, Pod]:
        """The two HTTP backends of the ``web`` service."""
        return self.pods[0], self.pods[1]

    def service(self, name: str, port_name: str) -> Service:
        """The service port ``name:port_name`` (e.g. ``web``, ``http``)."""
        for service in self.services:
            if (service.name, service.port_name) == (name, port_name):
                return service
        raise KeyError(f"{name}:{port_name}")

    @property
    def web_http(self) -> Service:
        return self.service("web", "http")

    @property
    def web_https(self) -> Service:
        return self.service("web", "https")

    @property
    def kube_dns(self) -> Service:
        return self.service("kube-dns", "dns")

    @property
    def web_fqdn(self) -> str:
        """``web.default.svc.cluster.local``: the name DNS answers and the TLS cert carries."""
        return f"web.default.svc.{self.cluster_domain}"

    @property
    def search_path(self) -> tuple[str, ...]:
        """The search path Kubernetes writes for a pod in ``default``."""
        domain = self.cluster_domain
        return (f"default.svc.{domain}", f"svc.{domain}", domain)

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every network namespace of the lab, router first."""
        return (self.router, *(node.netns for node in self.nodes), *(pod.netns for pod in self.pods))

    def peer(self, node: Node) -> Node:
        """The other node."""
        return self.nodes[1] if node == self.nodes[0] else self.nodes[0]


def _lab() -> Lab:
    node_a = Node(name="node-a", netns="k8l-node-a", ip="192.168.10.2", uplink="k8l-na-eth0",
                  router_link="k8l-rt-a", router_ip="192.168.10.1", transit_prefix=24,
                  pod_cidr="10.244.1.0/24", bridge="k8l-na-cni0", bridge_ip="10.244.1.1",
                  vxlan="k8l-na-vxlan", vxlan_ip="10.244.1.0", vxlan_mac="02:6b:38:6c:00:01")
    node_b = Node(name="node-b", netns="k8l-node-b", ip="192.168.20.2", uplink="k8l-nb-eth0",
                  router_link="k8l-rt-b", router_ip="192.168.20.1", transit_prefix=24,
                  pod_cidr="10.244.2.0/24", bridge="k8l-nb-cni0", bridge_ip="10.244.2.1",
                  vxlan="k8l-nb-vxlan", vxlan_ip="10.244.2.0", vxlan_mac="02:6b:38:6c:00:02")
    pod_a = Pod(name="web-a", netns="k8l-pod-a", ip="10.244.1.10", node=node_a,
                ifname="k8l-pa-eth0", host_link="k8l-na-pod-a")
    pod_b = Pod(name="web-b", netns="k8l-pod-b", ip="10.244.2.10", node=node_b,
                ifname="k8l-pb-eth0", host_link="k8l-nb-pod-b")
    dns_pod = Pod(name="coredns", netns="k8l-dns", ip="10.244.2.53", node=node_b,
                  ifname="k8l-dns-eth0", host_link="k8l-nb-dns")
    web_ips = (pod_a.ip, pod_b.ip)
    services = (
        Service("default", "web", "http", "tcp", "10.96.0.50", 80, 8080, web_ips),
        Service("default", "web", "https", "tcp", "10.96.0.50", 443, 8443, (pod_b.ip,)),
        Service("kube-system", "kube-dns", "dns", "udp", "10.96.0.10", 53, 53, (dns_pod.ip,)),
        Service("kube-system", "kube-dns", "dns-tcp", "tcp", "10.96.0.10", 53, 53, (dns_pod.ip,)),
        # the API server on node-a, as kubeadm sets it up (the lab runs no server there)
        Service("default", "kubernetes", "https", "tcp", "10.96.0.1", 443, 6443, (node_a.ip,)),
    )
    return Lab(router="k8l-router", nodes=(node_a, node_b), pods=(pod_a, pod_b, dns_pod),
               services=services, cluster_domain="cluster.local", cluster_cidr="10.244.0.0/16",
               underlay_cidr="192.168.0.0/16",
               node_mtu=1500, pod_mtu=1450, vxlan_id=1, vxlan_port=8472, http_port=8080,
               tls_port=8443, dead_pod_ip="10.244.2.99")


LAB = _lab()


def _ip(netns: str, *args: str) -> None:
    run(["ip", "-n", netns, *args])


def _sysctl(netns: str, *assignments: str) -> None:
    run(in_netns(netns, ["sysctl", "-q", "-w", *assignments]))


def create_namespaces(lab: Lab = LAB) -> None:
    """Create every namespace with loopback up; nodes and router forward, send no redirects.

    ICMP errors are not rate-limited in the lab, so every probe of a fault
    gets its "unreachable" / "frag needed" answer, not a timeout.
    """
    for netns in lab.namespaces:
        run(["ip", "netns", "add", netns])
        _ip(netns, "link", "set", "lo", "up")
    for netns in (lab.router, *(node.netns for node in lab.nodes)):
        _sysctl(netns, "net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0",
                "net.ipv4.conf.default.send_redirects=0", "net.ipv4.icmp_ratelimit=0")


def create_links(lab: Lab = LAB) -> None:
    """Wire the namespaces: router links, bridges, pod veths, VXLAN, addresses and routes."""
    for node in lab.nodes:
        _ip(lab.router, "link", "add", node.router_link, "mtu", str(lab.node_mtu), "type", "veth",
            "peer", "name", node.uplink, "mtu", str(lab.node_mtu), "netns", node.netns)
        _ip(lab.router, "addr", "add", f"{node.router_ip}/{node.transit_prefix}", "dev", node.router_link)
        _ip(lab.router, "link", "set", node.router_link, "up")
        _ip(node.netns, "addr", "add", f"{node.ip}/{node.transit_prefix}", "dev", node.uplink)
        _ip(node.netns, "link", "set", node.uplink, "up")
        # no default route: what is not in the underlay or a pod CIDR is unreachable, at once
        _ip(node.netns, "route", "add", lab.underlay_cidr, "via", node.router_ip)
        # ClusterIPs leave by the gateway, as on a real node (its default route): a packet kube-proxy did
        # not DNAT meets the filter FORWARD chain (its REJECT rules), then the router, which has no route
        # for it and answers "net unreachable" at once (it knows the pod CIDRs, so the answer gets back)
        _ip(node.netns, "route", "add", lab.service_cidr, "via", node.router_ip)
        _ip(lab.router, "route", "add", node.pod_cidr, "via", node.ip)
        bridge_prefix = node.pod_cidr.split("/")[1]
        _ip(node.netns, "link", "add", node.bridge, "mtu", str(lab.pod_mtu), "type", "bridge")
        _ip(node.netns, "addr", "add", f"{node.bridge_ip}/{bridge_prefix}", "dev", node.bridge)
        _ip(node.netns, "link", "set", node.bridge, "up")
        _ip(node.netns, "link", "add", node.vxlan, "address", node.vxlan_mac, "mtu", str(lab.pod_mtu),
            "type", "vxlan", "id", str(lab.vxlan_id), "local", node.ip, "dev", node.uplink,
            "dstport", str(lab.vxlan_port), "nolearning", "df", "set")
        _ip(node.netns, "addr", "add", f"{node.vxlan_ip}/32", "dev", node.vxlan)
        _ip(node.netns, "link", "set", node.vxlan, "up")
    for pod in lab.pods:
        node = pod.node
        _ip(node.netns, "link", "add", pod.host_link, "mtu", str(lab.pod_mtu), "type", "veth",
            "peer", "name", pod.ifname, "mtu", str(lab.pod_mtu), "netns", pod.netns)
        _ip(node.netns, "link", "set", pod.host_link, "master", node.bridge, "up")
        # like kubelet's hairpin-veth mode: a pod reaching itself through its ClusterIP
        run(in_netns(node.netns, ["bridge", "link", "set", "dev", pod.host_link, "hairpin", "on"]))
        _ip(pod.netns, "addr", "add", f"{pod.ip}/{node.pod_cidr.split('/')[1]}", "dev", pod.ifname)
        _ip(pod.netns, "link", "set", pod.ifname, "up")
        _ip(pod.netns, "route", "add", "default", "via", node.bridge_ip)
    for node in lab.nodes:
        peer = lab.peer(node)
        add_pod_route(node, lab)
        _ip(node.netns, "neigh", "replace", peer.vxlan_ip, "lladdr", peer.vxlan_mac, "dev", node.vxlan,
            "nud", "permanent")
        add_vtep_fdb(node, lab)


def pod_route(node: Node, lab: Lab = LAB) -> list[str]:
    """The flannel-style route on ``node`` to the peer's pod CIDR, as ``ip route`` arguments."""
    peer = lab.peer(node)
    return [peer.pod_cidr, "via", peer.vxlan_ip, "dev", node.vxlan, "onlink"]


def add_pod_route(node: Node, lab: Lab = LAB) -> None:
    """Install (or restore) the route on ``node`` to the peer's pod CIDR."""
    _ip(node.netns, "route", "replace", *pod_route(node, lab))


def delete_pod_route(node: Node, lab: Lab = LAB) -> None:
    """Remove the route on ``node`` to the peer's pod CIDR, if present."""
    run(["ip", "-n", node.netns, "route", "del", *pod_route(node, lab)], check=False)


def vtep_fdb(node: Node, lab: Lab = LAB) -> list[str]:
    """The FDB entry on ``node``'s VXLAN device for the peer's VTEP, as ``bridge fdb`` arguments.

    flanneld writes exactly this per remote node (MAC of the peer's flannel.1,
    ``dst`` its public IP); without it the device has nowhere to send the
    encapsulated frame and drops it (``nolearning``, no all-zero default entry).
    """
    peer = lab.peer(node)
    return [peer.vxlan_mac, "dev", node.vxlan, "dst", peer.ip]


def has_vtep_fdb(node: Node, lab: Lab = LAB) -> bool:
    """Whether ``node``'s VXLAN device has the FDB entry for the peer's VTEP."""
    peer = lab.peer(node)
    shown = run(in_netns(node.netns, ["bridge", "fdb", "show", "dev", node.vxlan])).stdout
    return any(line.split()[:1] == [peer.vxlan_mac] and f"dst {peer.ip}" in line for line in shown.splitlines())


def add_vtep_fdb(node: Node, lab: Lab = LAB) -> None:
    """Install (or restore) the FDB entry for the peer's VTEP, if missing."""
    if not has_vtep_fdb(node, lab):
        run(in_netns(node.netns, ["bridge", "fdb", "append", *vtep_fdb(node, lab)]))


def delete_vtep_fdb(node: Node, lab: Lab = LAB) -> None:
    """Remove the FDB entry for the peer's VTEP, if present."""
    if has_vtep_fdb(node, lab):
        run(in_netns(node.netns, ["bridge", "fdb", "del", *vtep_fdb(node, lab)]))


def delete_namespaces(lab: Lab = LAB) -> None:
    """Delete every lab namespace that exists (their links go with them)."""
    existing = netns_names()
    for netns in lab.namespaces:
        if netns in existing:
            run(["ip", "netns", "del", netns])


def chain_hash(*parts: str) -> str:
    """kube-proxy's chain suffix: base32(sha256(parts...)) cut to 16 characters."""
    digest = hashlib.sha256("".join(parts).encode()).digest()
    return base64.b32encode(digest).decode()[:16]


def svc_chain(service: Service) -> str:
    """``KUBE-SVC-…`` chain name of a service port."""
    return "KUBE-SVC-" + chain_hash(service.service_port_name, service.protocol)


def sep_chain(service: Service, endpoint: str) -> str:
    """``KUBE-SEP-…`` chain name of one endpoint (``ip:port``) of a service port."""
    return "KUBE-SEP-" + chain_hash(service.service_port_name, service.protocol, endpoint)


def kube_proxy_rules(lab: Lab = LAB, *, without_service: Service | None = None,
                     stale_endpoint: tuple[Service, str, str] | None = None,
                     no_endpoints: tuple[Service, ...] = ()) -> str:
    """The nat table kube-proxy (iptables mode) writes for ``lab.services``, as iptables-restore input.

    ``without_service`` leaves that service port's KUBE-SERVICES rule out (fault
    ``svc-no-dnat``); ``stale_endpoint`` = (service port, live IP, dead IP) makes
    that service's KUBE-SEP chain DNAT to the dead IP instead (fault
    ``svc-stale-endpoint``). Service ports in ``no_endpoints`` have no ready
    endpoint (fault ``dns-down``): kube-proxy writes no nat chains for them,
    only the filter table's REJECT (:func:`kube_proxy_filter_rules`).
    """
    chains = ["KUBE-MARK-MASQ", "KUBE-NODEPORTS", "KUBE-POSTROUTING", "KUBE-SERVICES"]
    rules = [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
        "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
        '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" '
        "-j MASQUERADE --random-fully",
    ]
    for service in lab.services:
        if service in no_endpoints:
            continue
        spn, proto = service.service_port_name, service.protocol
        svc = svc_chain(service)
        chains.append(svc)
        match = (f'-d {service.cluster_ip}/32 -p {proto} -m comment --comment "{spn} cluster IP" '
                 f"-m {proto} --dport {service.port}")
        if service != without_service:
            rules.append(f"-A KUBE-SERVICES {match} -j {svc}")
        rules.append(f"-A {svc} ! -s {lab.cluster_cidr} {match} -j KUBE-MARK-MASQ")
        endpoint_ips = list(service.endpoint_ips)
        if stale_endpoint and stale_endpoint[0] == service:
            endpoint_ips = [stale_endpoint[2] if ip == stale_endpoint[1] else ip for ip in endpoint_ips]
        for index, ip in enumerate(endpoint_ips):
            endpoint = f"{ip}:{service.target_port}"
            sep = sep_chain(service, endpoint)
            chains.append(sep)
            remaining = len(endpoint_ips) - index
            pick = (f"-m statistic --mode random --probability {1 / remaining:.11f} " if remaining > 1 else "")
            rules.append(f'-A {svc} -m comment --comment "{spn} -> {endpoint}" {pick}-j {sep}')
            rules.append(f'-A {sep} -s {ip}/32 -m comment --comment "{spn}" -j KUBE-MARK-MASQ')
            rules.append(f'-A {sep} -p {proto} -m comment --comment "{spn}" -m {proto} '
                         f"-j DNAT --to-destination {endpoint}")
    rules.append('-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be '
                 'the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS')
    header = ["*nat", *(f":{builtin} ACCEPT [0:0]" for builtin in ("PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"))]
    return "\n".join([*header, *(f":{chain} - [0:0]" for chain in chains), *rules, "COMMIT", ""])


#: kube-proxy's jumps from the built-in filter chains (proxier.go ``iptablesJumpChains``, in its order):
#: (chain, extra match, comment, target); kube-proxy *prepends* each one that is missing
FILTER_JUMPS = (
    ("INPUT", "-m conntrack --ctstate NEW", "kubernetes externally-visible service portals", "KUBE-EXTERNAL-SERVICES"),
    ("FORWARD", "-m conntrack --ctstate NEW", "kubernetes externally-visible service portals",
     "KUBE-EXTERNAL-SERVICES"),
    ("INPUT", "", "kubernetes health check service ports", "KUBE-NODEPORTS"),
    ("FORWARD", "-m conntrack --ctstate NEW", "kubernetes service portals", "KUBE-SERVICES"),
    ("OUTPUT", "-m conntrack --ctstate NEW", "kubernetes service portals", "KUBE-SERVICES"),
    ("FORWARD", "", "kubernetes forwarding rules", "KUBE-FORWARD"),
    ("INPUT", "-m conntrack --ctstate NEW", "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
    ("OUTPUT", "-m conntrack --ctstate NEW", "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
    ("FORWARD", "-m conntrack --ctstate NEW", "kubernetes load balancer firewall", "KUBE-PROXY-FIREWALL"),
)
FILTER_CHAINS = ("KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD", "KUBE-NODEPORTS", "KUBE-PROXY-FIREWALL", "KUBE-SERVICES")


def no_endpoints_comment(service: Service) -> str:
    """The comment of kube-proxy's REJECT rule for a service port without endpoints."""
    return f"{service.service_port_name} has no endpoints"


def kube_proxy_filter_rules(lab: Lab = LAB, *, no_endpoints: tuple[Service, ...] = ()) -> str:
    """kube-proxy's own filter chains, as ``iptables-restore --noflush`` input.

    Declaring a chain under ``--noflush`` flushes just that chain, so other
    rules of the filter table (the firewall faults) stay, as they do beside
    a real kube-proxy. A service port in ``no_endpoints`` gets the rule
    kube-proxy writes for a service without endpoints (proxier.go,
    ``internalTrafficFilterTarget``), e.g.::

        -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns has no endpoints"
           -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable

    KUBE-FORWARD carries the two ACCEPT rules; its ``--ctstate INVALID`` DROP
    (written unless conntrack is TCP-liberal) is left out, so the lab's other
    faults see the same forwarding as before. The built-in chains' jumps are
    :data:`FILTER_JUMPS` (see :func:`ensure_filter_jumps`).
    """
    rules = [
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
        '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" '
        "-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    ]
    for service in lab.services:
        if service in no_endpoints:
            proto = service.protocol
            rules.append(f'-A KUBE-SERVICES -d {service.cluster_ip}/32 -p {proto} -m comment --comment '
                         f'"{no_endpoints_comment(service)}" -m {proto} --dport {service.port} '
                         "-j REJECT --reject-with icmp-port-unreachable")
    return "\n".join(["*filter", *(f":{chain} - [0:0]" for chain in FILTER_CHAINS), *rules, "COMMIT", ""])


def ensure_filter_jumps(node: Node) -> None:
    """Prepend each of kube-proxy's filter jumps (:data:`FILTER_JUMPS`) that ``node`` lacks, as kube-proxy does."""
    for chain, extra, comment, target in FILTER_JUMPS:
        spec = [*extra.split(), "-m", "comment", "--comment", comment, "-j", target]
        if run(in_netns(node.netns, ["iptables", "-w", "2", "-C", chain, *spec]), check=False).returncode != 0:
            run(in_netns(node.netns, ["iptables", "-w", "2", "-I", chain, *spec]))


def load_kube_proxy_rules(node: Node, rules: str, filter_rules: str | None = None) -> None:
    """Replace the nat table of ``node`` with ``rules``; with ``filter_rules``, reload kube-proxy's filter chains."""
    run(in_netns(node.netns, ["iptables-restore", "-w", "2"]), input=rules)
    if filter_rules is not None:
        run(in_netns(node.netns, ["iptables-restore", "-w", "2", "--noflush"]), input=filter_rules)


def resolv_conf(lab: Lab = LAB, *, nameserver: str | None = None, search: tuple[str, ...] | None = None) -> str:
    """A pod's resolv.conf as the kubelet writes it (ClusterFirst DNS policy)."""
    return (f"search {' '.join(search or lab.search_path)}\n"
            f"nameserver {nameserver or lab.kube_dns.cluster_ip}\n"
            "options ndots:5\n")


def resolv_conf_path(pod: Pod) -> Path:
    """``/etc/netns/<pod netns>/resolv.conf``, which ``ip netns exec`` mounts over /etc/resolv.conf."""
    return ETC_NETNS / pod.netns / "resolv.conf"


def write_resolv_conf(pod: Pod, text: str) -> None:
    """Write ``text`` as the resolv.conf seen by processes in ``pod``."""
    path = resolv_conf_path(pod)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def remove_etc_netns(lab: Lab = LAB) -> None:
    """Remove ``/etc/netns/<lab namespace>`` directories (only ours)."""
    for netns in lab.namespaces:
        directory = ETC_NETNS / netns
        if directory.is_dir():
            shutil.rmtree(directory)
