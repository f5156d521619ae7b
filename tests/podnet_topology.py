"""Two "nodes" with a VXLAN overlay the fault lab did not build: ``k8p-*`` namespaces, created and removed here.

Unlike the lab (two subnets behind a router, flannel's port 8472, VNI 1),
the nodes share one L2 segment, the overlay is the IANA VXLAN port 4789
with VNI 42 (Calico's VXLAN mode / Linux's default), and the names are
the test's own::

    k8p-pod1 10.250.1.5 ─ k8p-br1 ┐                           ┌ k8p-br2 ─ k8p-pod2 10.250.2.5
                           k8p-node1 172.31.7.1 ══ veth ══ 172.31.7.2 k8p-node2
              k8p-vx1 10.250.1.0 ═══ VXLAN id 42, UDP 4789 ═══ k8p-vx2 10.250.2.0

Used by tests/test_pod_network.py (healthy and broken variants) and by
tests/fixtures/podnet/capture.py (the parser fixtures).
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from typing import Iterator

VNI = 42
PORT = 4789


@dataclass(frozen=True)
class End:
    netns: str
    ip: str
    uplink: str
    bridge: str
    vxlan: str
    vtep: str
    mac: str
    pod_netns: str
    pod_ip: str
    pod_cidr: str


ONE = End("k8p-node1", "172.31.7.1", "k8p-e1", "k8p-br1", "k8p-vx1", "10.250.1.0", "02:6b:70:00:00:01",
          "k8p-pod1", "10.250.1.5", "10.250.1.0/24")
TWO = End("k8p-node2", "172.31.7.2", "k8p-e2", "k8p-br2", "k8p-vx2", "10.250.2.0", "02:6b:70:00:00:02",
          "k8p-pod2", "10.250.2.5", "10.250.2.0/24")
NAMESPACES = (ONE.netns, TWO.netns, ONE.pod_netns, TWO.pod_netns)


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=check)


def ns(netns: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return run("ip", "netns", "exec", netns, *argv, check=check)


def remove() -> None:
    present = run("ip", "netns", "list").stdout
    for netns in NAMESPACES:
        if netns in present.split():
            run("ip", "netns", "del", netns, check=False)


def build(vni_two: int = VNI) -> None:
    """Create the namespaces and links; ``vni_two`` != VNI gives node2 a mismatched VXLAN id."""
    remove()
    for netns in NAMESPACES:
        run("ip", "netns", "add", netns)
        run("ip", "-n", netns, "link", "set", "lo", "up")
    run("ip", "-n", ONE.netns, "link", "add", ONE.uplink, "type", "veth", "peer", "name", TWO.uplink, "netns",
        TWO.netns)
    for end, peer, vni in ((ONE, TWO, VNI), (TWO, ONE, vni_two)):
        ns(end.netns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        run("ip", "-n", end.netns, "addr", "add", f"{end.ip}/24", "dev", end.uplink)
        run("ip", "-n", end.netns, "link", "set", end.uplink, "up")
        run("ip", "-n", end.netns, "link", "add", end.bridge, "mtu", "1450", "type", "bridge")
        run("ip", "-n", end.netns, "addr", "add", f"{end.pod_cidr.split('/')[0][:-1]}1/24", "dev", end.bridge)
        run("ip", "-n", end.netns, "link", "set", end.bridge, "up")
        run("ip", "-n", end.netns, "link", "add", f"{end.bridge}p", "mtu", "1450", "type", "veth", "peer", "name",
            "eth0", "netns", end.pod_netns)
        run("ip", "-n", end.netns, "link", "set", f"{end.bridge}p", "master", end.bridge, "up")
        run("ip", "-n", end.pod_netns, "addr", "add", f"{end.pod_ip}/24", "dev", "eth0")
        run("ip", "-n", end.pod_netns, "link", "set", "eth0", "up")
        run("ip", "-n", end.pod_netns, "route", "add", "default", "via", f"{end.pod_cidr.split('/')[0][:-1]}1")
        run("ip", "-n", end.netns, "link", "add", end.vxlan, "address", end.mac, "mtu", "1450", "type", "vxlan",
            "id", str(vni), "local", end.ip, "dev", end.uplink, "dstport", str(PORT), "nolearning")
        run("ip", "-n", end.netns, "addr", "add", f"{end.vtep}/32", "dev", end.vxlan)
        run("ip", "-n", end.netns, "link", "set", end.vxlan, "up")
    for end, peer in ((ONE, TWO), (TWO, ONE)):
        run("ip", "-n", end.netns, "route", "add", peer.pod_cidr, "via", peer.vtep, "dev", end.vxlan, "onlink")
        run("ip", "-n", end.netns, "neigh", "replace", peer.vtep, "lladdr", peer.mac, "dev", end.vxlan,
            "nud", "permanent")
        ns(end.netns, "bridge", "fdb", "append", peer.mac, "dev", end.vxlan, "dst", peer.ip)


def drop_vxlan(end: End = TWO) -> list[str]:
    """An INPUT DROP of the VXLAN port on ``end``; returns the rule spec."""
    spec = ["-p", "udp", "-m", "udp", "--dport", str(PORT), "-m", "comment", "--comment", "k8p overlay blocked",
            "-j", "DROP"]
    ns(end.netns, "iptables", "-w", "2", "-I", "INPUT", "1", *spec)
    return spec


@contextlib.contextmanager
def topology(vni_two: int = VNI) -> Iterator[tuple[End, End]]:
    """The two nodes, built and always removed."""
    try:
        build(vni_two)
        yield ONE, TWO
    finally:
        remove()
