"""pod-network: cross-node pod traffic fails — node reachability, the VXLAN port and device, pod CIDR routes, the CNI data path, CNI agents (NET-001..005).

A pod on one node cannot reach a pod on another. The on-call order is the
packet's: can the *nodes* reach each other at all (NET-001)? Does the
overlay's UDP port get through, and is there a device listening on both
ends (NET-002)? Does the node route the peer's pod CIDR into the overlay
(NET-005)? If all that is fine and pods still cannot talk, the CNI's data
path is broken (NET-003: tunnels, forwarding entries). And from the API:
are the CNI agent pods Ready (NET-004)?

Where things run
================

``target`` is the *source node* (``netns:k8l-node-a``, ``node:worker-1``,
``ssh:...``); ``peer`` is the other node's address (its InternalIP).
``peer_target`` (optional) is where the other node's commands run; without
it the peer's device, listener, rules and capture are not read (NET-002
and NET-003 are then PARTIAL, told in the checks table). The cross-node pod
probe runs from the pod's own network namespace:

- ``pod_target`` = ``netns:NAME`` (the lab, a host with named namespaces),
  or any target spec that *is* the pod's network;
- ``pod_target`` = ``pid:PID``, a process of the pod on the target node: the
  probe runs on the target as ``nsenter -t PID -n ping ...`` — the guide's method
  (``crictl inspect -o go-template --template '{{.info.pid}}' <container>``
  gives the PID; with ``node:`` targets ``kubectl debug`` runs it in the
  host's PID namespace with ``chroot /host``);
- neither: from the target node itself to ``peer_pod_ip``. Node-to-remote-pod
  traffic takes the same overlay (flannel/Calico/Cilium route it through
  the VXLAN device with the node's VTEP address as source), so it still
  tests the data path, but not the pod's veth/bridge.

Evidence
========

==================================  ===============================================  ==========  ======================
command id                          argv                                             where       evidence name
==================================  ===============================================  ==========  ======================
``ip-link``                         ``ip -j -d link show`` (shared NODE_FACT)        both        ``ip-link`` /
                                                                                                 ``peer-ip-link``
``ss-tuln``                         ``ss -tuln`` (UDP listeners: the VXLAN socket)   both        ``listeners`` /
                                                                                                 ``peer-listeners``
``ip-route-get-{dest}``             ``ip -j route get PEER_POD_IP`` (shared          target      ``ip-route-get``
                                    ROUTE_GET); ``... PEER`` (the underlay);         (peer: the  (``route-to-peer``,
                                    on the peer ``... POD_IP`` (the way back)        way back)   ``peer-route-back``)
``bridge-fdb-{dev}``                ``bridge -j fdb show dev VXLAN``                 target      ``fdb``
``iptables-save``                   ``iptables-save -c`` (shared NODE_FACT), before  both        ``iptables-save`` /
                                    the probes                                                   ``peer-iptables-save``
``tcpdump-overlay-{port}-{other}``  ``timeout C tcpdump -l -nn -c 40 -i any          both        ``capture`` /
                                    host OTHER and (udp port P or icmp)`` (OTHER:                ``peer-capture``
                                    the other node; ``any``: unknown, no host filter)
``connect-tcp-{peer}-10250``        ``python -m k8srun.probes.connect --protocol     target      ``node-l4``
                                    tcp`` (the firewall runbook's probe)
``connect-udp-{peer}-{vxlan_port}`` the same, ``--protocol udp`` (an empty           target      ``node-l4``
                                    datagram to the VXLAN port)
``ping-pod-{peer_pod_ip}``          ``ping -n -c 3 -i 0.2 -W 1 PEER_POD_IP``         pod         ``pod-probe``
                                    (``nsenter -t PID -n`` first with ``pid:PID``:
                                    id ``...-pid-{pod_pid}``)
``iptables-save-after-probes``      ``iptables-save -c`` again, after the probes     both        ``iptables-save-after``
==================================  ===============================================  ==========  ======================

Cluster: every pod of the CNI agents, picked by label (``app=flannel`` /
``k8s-app=flannel``, ``k8s-app=calico-node``, ``k8s-app=cilium``), their
containers and logs (``pods``), and the nodes (which node is ``peer``;
whether the API sees it Ready). With ``-p source none`` the cluster part is
skipped (NET-004 NOT CHECKED), the node checks run.

*The probes, bounded and in order*: rules are read on both nodes; the two
captures are started (threads, each ``timeout C`` with ``C = 2 s + the
connect probe's step``); the three probes run *at the same time* (TCP to
``peer:10250``, UDP to ``peer:vxlan_port``, three pings to
``peer_pod_ip``, each bounded by the connect probe's step, clamp(timeout_s
/ 5, 0.5, 3) s, and ping's ``-W 1``); rules are read again. The captures
end last, so a run takes about C whatever is dropped (≈ 4 s at the default
``timeout_s``: 4.3 s measured on the lab under ``node-unreachable``; with
the notebook through ``k8srun run`` ≈ 12 s); no fixed sleep. tcpdump needs
a moment to start and is started with the probes, not waited for, so the
first ping may be missing from a capture: three pings 0.2 s apart are sent
so that the later ones are seen.

How each code decides
=====================

Node-to-node L4 (:func:`classify_l4`): TCP to 10250 (:data:`NODE_PORT`,
the kubelet, open on every node): ``open`` or ``refused`` (a RST or ICMP
port unreachable: *the host answered*) → **reachable**; ``timeout`` →
**filtered** (dropped on the way, silently); ``unreachable`` (an ICMP
host/net/admin-prohibited from a router) or ``no-route`` (this node has
no route, or ARP for the next hop failed) → **unreachable**. The UDP
datagram to ``vxlan_port``: ``refused`` (ICMP port unreachable) → **no
listener**: nothing is bound to that port on the peer; ``unreachable`` →
**unreachable**; ``no-reply`` → **no answer**, which a VXLAN socket
never gives (it drops a datagram that is not VXLAN): *open or filtered*;
the peer's capture (did it arrive?) and the filter counters (which rule
took it?) decide.

- **NET-001** (critical): the TCP probe is filtered or unreachable, and
  the UDP probe got nothing from the peer either (no reply, no port
  unreachable): nothing the peer sends comes back. The detail names what
  came back (an ICMP from which router, or silence), the route to the peer
  (``ip route get PEER``), what the peer's capture saw (the probes arriving
  or not), and the API's view of the peer node (Ready Unknown: its kubelet
  cannot reach the API server either). A refused TCP port is *reachable*:
  the host answered. When NET-001 is found, the codes below are not
  judged from the probes (everything across is broken; they cannot be told
  apart), only from static evidence.
- **NET-002** (error), any of:
  a DROP/REJECT rule on either node (``iptables-save -c``: the filter, raw,
  mangle and security tables, any chain but POSTROUTING) that can match UDP
  to ``vxlan_port`` (protocol udp or any, no ``--dport`` or one that holds
  the port, no ``-s``/``-d`` that excludes the two nodes) **and whose packet
  counter moved during the probes** — the proof, with the rule and its delta
  (a matching rule that did not move is listed as "not hit"; when the
  counters could not be read after the probes a matching rule alone is
  reported, said so); or the UDP probe was answered with port unreachable
  (no listener on the peer); or the overlay device is missing/down on a node,
  or its ``dstport`` is not ``vxlan_port``, or no UDP socket listens on
  ``vxlan_port`` (``ss -tuln``) on a node that was read.
- **NET-005** (error): ``ip route get PEER_POD_IP`` on the target says no
  route (``Network is unreachable``, a blackhole/unreachable route), or the
  route does not go into the overlay: its device is not a tunnel (vxlan,
  ipip, geneve, wireguard, cilium_*/flannel.*), and its gateway is not the
  peer node (host-gw / BGP routing uses the peer as gateway) — then the
  packet leaves by the default route into an underlay that does not know
  pod addresses. ``peer_pod_ip`` defaults to the first address of the peer
  node's ``podCIDR`` (API). The way back (``ip route get POD_IP`` on the
  peer) is checked the same way when the peer is read and ``pod_ip`` given.
- **NET-003** (error): the nodes reach each other (TCP reachable), NET-002
  and NET-005 are not found, and the cross-node ping got no reply. The
  detail tells where the packets stopped, from the two captures: *never
  left* the target (encapsulated packets to the peer: none — with the
  overlay device's FDB: no entry for the peer's underlay address, so the
  device has nowhere to send them), *left but never arrived* (the underlay
  drops the encapsulated packets but not the TCP probe), *arrived but no
  reply* (the peer's overlay did not take them: a VNI mismatch — named
  when the two devices' VXLAN ids differ —, a missing route back, the pod
  itself), or *replies sent but not received*.
- **NET-004** (error): one finding per CNI agent pod that is not Ready or
  not Running — phase, the waiting/terminated reason (CrashLoopBackOff,
  Error ...), restarts, and the last error line of its log (current, else
  previous run: flannel's ``E1129 ...`` klog errors, ``Failed to ...``,
  Calico's ``[ERROR]``/``[FATAL]``, Cilium's ``level=fatal``/``error``). The
  node the pod runs on is named: pods there lose their routes first.

Every node pair and pod pair probed, and every CNI agent pod, gets a
verdict (:func:`subjects`; of the agent pods, those not Ready): NET-001 is about the node pair; NET-002 about
the pod pair when the pods were probed (their traffic is what the blocked
port kills; the node pair's own TCP answered), else the node pair; NET-003
and NET-005 about the pod pair; NET-004 about the agent pod.

Decisions and limits
====================

- One pair per run (target → peer); run it again the other way round to
  judge the return path from its own side. Nodes with several overlays: the
  device the route to ``peer_pod_ip`` uses is judged, else every VXLAN
  device.
- The TCP port is the kubelet's (10250), not a parameter (the notebook's
  parameters stay few): a node whose firewall drops 10250 from other nodes
  reads *filtered* here — the detail names the port, and the UDP probe, the
  capture and the counters still tell the overlay's own story.
- ``cni`` (RUNBOOKS.md) is not a parameter: the agent pods of all three CNIs
  are found by their labels, whichever runs (there is one per cluster).
- iptables only (``iptables-save``, the nf_tables backend included);
  nftables-native tables and eBPF datapaths (Cilium) are not read as rules:
  the counters and the capture still show where packets stop.
- Rules jumped to from user chains are matched as if they were in the
  built-in chain (kube-proxy/CNI chains are judged by their own match).
- IPv4 underlays (the probes work on IPv6 too; the rule matching compares
  addresses of the same family only).
"""

from __future__ import annotations

import dataclasses
from html import escape
import ipaddress
import re
import threading
from typing import Any, Iterable

import pandas as pd

from .. import charts, params
from ..errors import ParameterError
from ..evidence import IP_LINK, IPTABLES_SAVE, ROUTE_GET, NodeCommand
from ..model import Finding, about, finding
from ..parsers import ip_route_get, tcpdump
from ..parsers import frame as parse_frame
from ..places import adopt, other_place
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook
from . import firewall
from .dns import interpreter

#: the TCP port probed on the peer node: the kubelet's, open on every node (a RST proves reachability too)
NODE_PORT = 10250
#: cni -> the labels (key, value) that mark its agent pods
CNI_LABELS = {"flannel": (("app", "flannel"), ("k8s-app", "flannel")),
              "calico": (("k8s-app", "calico-node"),),
              "cilium": (("k8s-app", "cilium"),)}
TUNNEL_KINDS = ("vxlan", "ipip", "geneve", "wireguard", "gre", "ip6tnl", "sit")
TUNNEL_NAMES = re.compile(r"^(flannel\.\d+|cilium_\w+|vxlan[.\w-]*|tunl\d+|wg\d+|cni-\w+|calico\.\w+)$")
CAPTURE_COUNT = 40
#: tables whose DROP/REJECT rules can stop the overlay's packets (nat does not filter)
FILTERING_TABLES = ("filter", "raw", "mangle", "security")
PING_COUNT = 3


def _optional_ip(name: str, value: Any) -> str:
    return "" if str(value).strip() == "" else params.ip_address(name, value)


def _optional_target(name: str, value: Any) -> str:
    return "" if str(value).strip() == "" else TARGET.validate(name, value)


def _pod_target(name: str, value: Any) -> str:
    """A target spec, or ``pid:N`` (a process of the pod on the target node: nsenter -t N -n)."""
    text = str(value).strip()
    if text.startswith("pid:"):
        number = text[4:]
        if not (number.isascii() and number.isdigit() and 1 <= int(number) <= 4194304):
            raise ParameterError(name, value, "pid:N needs a process id between 1 and 4194304")
        return f"pid:{int(number)}"
    return _optional_target(name, value)


def pod_pid(value: str) -> int:
    """The PID of ``pod_target`` = ``pid:N``, else 0."""
    return int(value[4:]) if str(value).startswith("pid:") else 0


RUNBOOK = Runbook(
    name="pod-network",
    description="Cross-node pod traffic fails: node reachability, VXLAN port and device, pod CIDR routes, CNI agents",
    scenario="pod-network",
    parameters=(*CLUSTER, TARGET,
                Parameter("peer", "", "the other node's address (its InternalIP)", _optional_ip),
                Parameter("peer_target", "", "where the other node's commands run (netns:NAME, node:NODE ...); "
                          "empty: the peer side is not read", _optional_target),
                Parameter("pod_ip", "", "a pod on the target node (the way back is checked to it)", _optional_ip),
                Parameter("peer_pod_ip", "", "a pod on the peer node; empty: first address of its podCIDR",
                          _optional_ip),
                Parameter("pod_target", "", "where the pod's network is: netns:NAME, or pid:PID on the target "
                          "(nsenter -t PID -n); empty: the target node itself", _pod_target),
                Parameter("vxlan_port", 8472, "the overlay's UDP port (flannel/Cilium 8472, Calico 4789)", params.port),
                TIMEOUT),
    triage=("cni-pods", "pod-sandbox-failed"),  # a sandbox that cannot be created: CNI, mostly
    namespace_default="all",
)

REQUIRES: dict[str, list[str]] = {
    "NET-001": ["node-l4"],
    "NET-002": ["node-l4", "ip-link", "iptables-save", "listeners"],
    "NET-003": ["node-l4", "pod-probe", "ip-route-get"],
    "NET-004": ["pods"],
    "NET-005": ["ip-route-get"],
}
PARTIAL: dict[str, list[str]] = {
    "NET-001": ["peer-capture"],
    "NET-002": ["peer-ip-link", "peer-listeners", "peer-iptables-save", "iptables-save-after"],
    "NET-003": ["capture", "peer-capture", "fdb"],
    "NET-004": ["logs"],
    "NET-005": ["peer-route-back"],
}

OVERLAY_COLUMNS = ["node", "ifname", "kind", "vxlan_id", "vxlan_port", "local", "dev", "mtu", "up"]
L4_COLUMNS = ["probe", "dest", "port", "outcome", "verdict", "icmp", "icmp_from", "detail", "connect_ms"]
RULE_COLUMNS = ["node", "table", "chain", "position", "rule", "target", "packets_before", "packets_after", "moved"]
CAPTURE_COLUMNS = ["node", "listening", "sent", "received", "probe_datagrams", "icmp", "packets"]
CNI_COLUMNS = ["namespace", "pod", "node", "cni", "phase", "ready", "restarts", "reason", "log_error"]


# ---------------------------------------------------------------- commands

SS = NodeCommand("ss-tuln", lambda p: ("ss", "-tuln"), "ss", "listening sockets (the overlay's UDP port)",
                 evidence="listeners")
FDB = NodeCommand("bridge-fdb-{dev}", lambda p: ("bridge", "-j", "fdb", "show", "dev", p["dev"]), "bridge-fdb",
                  "forwarding entries of the overlay device (where each peer VTEP is)", evidence="fdb")
ROUTE_TO_PEER = dataclasses.replace(ROUTE_GET, evidence="route-to-peer")
IPTABLES_AFTER = dataclasses.replace(IPTABLES_SAVE, command_id="iptables-save-after-probes",
                                     title="iptables rules with packet counters, after the probes",
                                     evidence="iptables-save-after")
PEER = {"ip-link": dataclasses.replace(IP_LINK, evidence="peer-ip-link"),
        "listeners": dataclasses.replace(SS, evidence="peer-listeners"),
        "iptables-save": dataclasses.replace(IPTABLES_SAVE, evidence="peer-iptables-save"),
        "iptables-save-after": IPTABLES_AFTER,
        "route-back": dataclasses.replace(ROUTE_GET, evidence="peer-route-back")}


def capture_seconds(timeout_s: float) -> float:
    """How long each capture runs: the connect probe's step plus 2 s (pings, the probes' start)."""
    return round(firewall.step_timeout(timeout_s) + 2.0, 2)


def _capture_argv(values) -> tuple[str, ...]:
    other = values.get("other") or "any"
    port = int(values["vxlan_port"])
    expression = f"host {other} and (udp port {port} or icmp)" if other != "any" else f"udp port {port} or icmp"
    return ("timeout", f"{capture_seconds(values.get('timeout_s', 10)):g}", "tcpdump", "-l", "-nn",
            "-c", str(CAPTURE_COUNT), "-i", "any", expression)


def _capture_frame(result) -> pd.DataFrame:
    return tcpdump.frame(result.stdout)


CAPTURE = NodeCommand("tcpdump-overlay-{vxlan_port}-{other}", _capture_argv, None,
                      "capture of the overlay's packets during the probes", evidence="capture", accept_exit=(0, 124),
                      columns=tuple(tcpdump.COLUMNS), result_parser=_capture_frame)
PEER_CAPTURE = dataclasses.replace(CAPTURE, evidence="peer-capture")


def _ping_argv(values) -> tuple[str, ...]:
    return ("ping", "-n", "-c", str(PING_COUNT), "-i", "0.2", "-W", "1", values["peer_pod_ip"])


def _ping_frame(result) -> pd.DataFrame:
    return parse_frame("ping", result.stdout + "\n" + result.stderr)


PING_POD = NodeCommand("ping-pod-{peer_pod_ip}", _ping_argv, None, "cross-node ping from the pod's network",
                       evidence="pod-probe", accept_exit=(0, 1), result_parser=_ping_frame)
PING_POD_NSENTER = dataclasses.replace(PING_POD, command_id="ping-pod-{peer_pod_ip}-pid-{pod_pid}",
                                       argv=lambda v: ("nsenter", "-t", str(int(v["pod_pid"])), "-n",
                                                       *_ping_argv(v)))


# ------------------------------------------------------------------ helpers

def _value(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, tuple, dict, str)) and pd.isna(value)):
        return None
    return value


def _records(frame: pd.DataFrame | None) -> list[dict]:
    if frame is None or len(frame) == 0:
        return []
    return [{k: _value(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _ip(text: Any) -> ipaddress._BaseAddress | None:
    try:
        return ipaddress.ip_address(str(text).split("/")[0])
    except ValueError:
        return None


# ------------------------------------------------------------ node-to-node L4

def classify_l4(probe: dict | None) -> str | None:
    """reachable / filtered / unreachable (TCP); no-listener / unreachable / no-answer / answered (UDP)."""
    if not probe:
        return None
    outcome, proto = probe.get("outcome"), probe.get("protocol")
    if proto == "udp":
        return {"open": "answered", "refused": "no-listener", "unreachable": "unreachable", "no-route": "unreachable",
                "no-reply": "no-answer"}.get(outcome, "error")
    return {"open": "reachable", "refused": "reachable", "timeout": "filtered", "unreachable": "unreachable",
            "no-route": "unreachable"}.get(outcome, "error")


def l4_table(tcp: dict | None, udp: dict | None) -> pd.DataFrame:
    """The two node probes as rows (``L4_COLUMNS``)."""
    rows = []
    for name, probe in (("tcp", tcp), ("udp vxlan", udp)):
        if probe:
            rows.append({"probe": name, "dest": probe.get("address") or probe.get("dest"), "port": probe.get("port"),
                         "outcome": probe.get("outcome"), "verdict": classify_l4(probe), "icmp": probe.get("icmp"),
                         "icmp_from": probe.get("icmp_from"), "detail": probe.get("detail"),
                         "connect_ms": probe.get("connect_ms")})
    return pd.DataFrame(rows, columns=L4_COLUMNS)


def nodes_unreachable(l4: pd.DataFrame) -> dict | None:
    """The TCP row when node-to-node is broken (NET-001's condition), else None."""
    rows = {r["probe"]: r for r in _records(l4)}
    tcp, udp = rows.get("tcp"), rows.get("udp vxlan")
    if tcp is None or tcp["verdict"] not in ("filtered", "unreachable"):
        return None
    if udp is not None and udp["verdict"] in ("no-listener", "answered"):
        return None
    return tcp


def nodes_reachable(l4: pd.DataFrame) -> bool:
    return any(r["probe"] == "tcp" and r["verdict"] == "reachable" for r in _records(l4))


# ----------------------------------------------------------------- overlay

def overlay_devices(links: pd.DataFrame, node: str) -> pd.DataFrame:
    """The tunnel devices of one node's ``ip -j -d link`` (``OVERLAY_COLUMNS``)."""
    rows = []
    for row in _records(links):
        kind = row.get("kind")
        if kind in TUNNEL_KINDS or (kind is None and TUNNEL_NAMES.match(str(row.get("ifname")))):
            rows.append({"node": node, "ifname": row["ifname"], "kind": kind, "vxlan_id": row.get("vxlan_id"),
                         "vxlan_port": row.get("vxlan_port"), "local": row.get("vxlan_local"),
                         "dev": row.get("vxlan_dev"), "mtu": row.get("mtu"),
                         "up": bool(row.get("up")) and row.get("operstate") != "DOWN"})
    return pd.DataFrame(rows, columns=OVERLAY_COLUMNS).astype({"vxlan_id": "Int64", "vxlan_port": "Int64",
                                                               "mtu": "Int64"})


def udp_listening(sockets: pd.DataFrame, port: int) -> bool:
    """Whether a UDP socket is bound to ``port`` (``ss -tuln`` rows)."""
    for row in _records(sockets):
        if str(row.get("netid")) == "udp" and str(row.get("local_port")) == str(port):
            return True
    return False


def overlay_problems(overlay: pd.DataFrame, listeners: dict[str, pd.DataFrame | None], vxlan_port: int,
                     nodes_read: Iterable[str]) -> list[str]:
    """Why the overlay cannot carry traffic on each node that was read: no device, down, wrong port, no socket."""
    problems = []
    for node in nodes_read:
        devices = [r for r in _records(overlay) if r["node"] == node]
        vxlans = [r for r in devices if r["kind"] == "vxlan"]
        if not devices:
            problems.append(f"{node} has no overlay device (no vxlan/tunnel interface in `ip -d link`)")
            continue
        for row in vxlans:
            if not row["up"]:
                problems.append(f"{node}'s {row['ifname']} is down")
        if vxlans and not any(r["vxlan_port"] == vxlan_port for r in vxlans):
            ports = ", ".join(str(r["vxlan_port"]) for r in vxlans)
            problems.append(f"{node}'s VXLAN device sends to UDP {ports}, not {vxlan_port}")
        sockets = listeners.get(node)
        if vxlans and sockets is not None and not udp_listening(sockets, vxlan_port):
            problems.append(f"nothing listens on UDP {vxlan_port} on {node} (`ss -tuln`)")
    return problems


# -------------------------------------------------------------------- rules

def _ports_hold(value: str, port: int) -> bool:
    for part in value.replace(",", " ").split():
        low, _, high = part.partition(":")
        try:
            if int(low or 0) <= port <= int(high or low or 65535):
                return True
        except ValueError:
            return True  # a named service port: cannot tell, keep the rule
    return False


def _address_allows(value: str | None, addresses: list[str]) -> bool:
    if not value:
        return True
    negated = value.startswith("!")
    text = value.lstrip("!").strip()
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return True
    inside = [a for a in addresses if (ip := _ip(a)) is not None and ip.version == network.version]
    if not inside:
        return True
    hit = any(_ip(a) in network for a in inside)
    return not hit if negated else hit


def rule_blocks_overlay(rule: dict, vxlan_port: int, addresses: list[str]) -> bool:
    """Whether a DROP/REJECT rule can match the overlay's UDP packets between ``addresses`` (module doc)."""
    if rule.get("kind") != "rule" or rule.get("target") not in ("DROP", "REJECT"):
        return False
    if rule.get("table") not in FILTERING_TABLES or rule.get("chain") == "POSTROUTING":
        return False
    proto = str(rule.get("protocol") or "").lower()
    if proto and proto not in ("udp", "all", "17"):
        return False
    if proto.startswith("!"):
        return False
    for match in rule.get("matches") or []:
        option, value = match.get("option"), str(match.get("value") or "")
        if option in ("dport", "dports", "destination-port", "destination-ports"):
            hold = _ports_hold(value, vxlan_port)
            if hold == bool(match.get("negated")):
                return False
    return _address_allows(rule.get("source"), addresses) and _address_allows(rule.get("destination"), addresses)


def _rule_key(row: dict) -> tuple:
    return row.get("table"), row.get("chain"), row.get("rule")


def rule_table(node: str, before: pd.DataFrame | None, after: pd.DataFrame | None, vxlan_port: int,
               addresses: list[str]) -> pd.DataFrame:
    """The rules of one node that can drop the overlay, with counters before/after the probes (``RULE_COLUMNS``)."""
    later = {_rule_key(r): r for r in _records(after)}
    rows = []
    for rule in _records(before):
        if not rule_blocks_overlay(rule, vxlan_port, addresses):
            continue
        then = later.get(_rule_key(rule))
        first = rule.get("packets")
        last = then.get("packets") if then else None
        moved = None if first is None or last is None else int(last) - int(first)
        position = rule.get("position")
        rows.append({"node": node, "table": rule["table"], "chain": rule["chain"],
                     "position": None if position is None else int(position),
                     "rule": rule.get("rule"), "target": rule["target"], "packets_before": first,
                     "packets_after": last, "moved": moved})
    return pd.DataFrame(rows, columns=RULE_COLUMNS).astype({"packets_before": "Int64", "packets_after": "Int64",
                                                            "moved": "Int64"})


# ------------------------------------------------------------------ routes

def route_verdict(route: pd.DataFrame, links: pd.DataFrame, peer: str) -> tuple[bool | None, str]:
    """(True: into the overlay or via the peer / False: no route or past it / None: unknown, why)."""
    rows = _records(route)
    if not rows:
        return None, "no answer from `ip route get`"
    row = rows[0]
    if row.get("routed") is False:
        return False, f"no route: {row.get('error')} — {row.get('meaning')}"
    dev, gateway = row.get("dev"), row.get("gateway")
    kinds = {r["ifname"]: r.get("kind") for r in _records(links)}
    if kinds.get(dev) in TUNNEL_KINDS or (dev and TUNNEL_NAMES.match(dev)):
        return True, f"via {gateway + ' ' if gateway else ''}dev {dev} (overlay)"
    if gateway and peer and gateway == peer:
        return True, f"via the peer node {gateway} dev {dev} (direct routing)"
    return False, (f"the route goes via {gateway or 'no gateway'} dev {dev}, not into the overlay nor to the peer "
                   "node: the underlay does not know pod addresses")


# ----------------------------------------------------------------- capture

def capture_row(node: str, packets: pd.DataFrame | None, summary: dict | None, vxlan_port: int,
                self_ip: str | None) -> dict:
    """What one node's capture saw: encapsulated packets sent and received, our empty probe datagrams, ICMP."""
    rows = _records(packets)
    encapsulated = [r for r in rows if r["protocol"] == "udp" and r.get("dport") == vxlan_port and r.get("inner")]
    probes = [r for r in rows if r["protocol"] == "udp" and r.get("dport") == vxlan_port and not r.get("inner")]

    def outgoing(r: dict) -> bool:
        return r.get("direction") == "Out" or (self_ip is not None and r.get("src") == self_ip)

    return {"node": node, "listening": bool((summary or {}).get("listening")) or bool(rows),
            "sent": sum(1 for r in encapsulated if outgoing(r)),
            "received": sum(1 for r in encapsulated if not outgoing(r)),
            "probe_datagrams": len(probes), "icmp": sum(1 for r in rows if r["protocol"] == "icmp"),
            "packets": len(rows)}


def where_packets_stopped(source: dict | None, peer: dict | None, replies: int) -> str:
    """One sentence from the two captures (``capture_row`` dicts) on where the pod traffic stopped."""
    if source is None and peer is None:
        return "no capture was read"
    if source is not None and source["sent"] == 0:
        return (f"no encapsulated packet left {source['node']} (its capture saw none): the overlay device did not "
                "send them — look at its forwarding entries (`bridge fdb show dev <vxlan>`) and neighbours")
    if peer is None:
        return f"{source['sent']} encapsulated packet(s) left {source['node']}; the peer's capture was not read"
    if peer["received"] == 0 and peer["probe_datagrams"] == 0 and peer["packets"] == 0:
        left = f"{source['sent']} encapsulated packet(s) left {source['node']} but " if source else ""
        return left + f"none arrived at {peer['node']}: the underlay drops them on the way"
    if peer["received"] > 0 and peer["sent"] == 0:
        return (f"{peer['received']} encapsulated packet(s) arrived at {peer['node']}, no reply left it: its overlay did "
                "not take them (filter, VNI or device mismatch, no route back, or the pod did not answer)")
    if peer["sent"] > 0 and replies == 0:
        back = source["received"] if source else None
        return (f"{peer['node']} sent {peer['sent']} encapsulated repl(ies); {back if back is not None else '?'} "
                "arrived back: the way back is broken")
    return (f"encapsulated packets: {source['sent'] if source else '?'} left, {peer['received']} arrived, "
            f"{peer['sent']} replies sent")


# --------------------------------------------------------------- CNI pods

def cni_of(labels: Any) -> str | None:
    """flannel / calico / cilium from a pod's labels, None for other pods."""
    labels = labels if isinstance(labels, dict) else {}
    for cni, pairs in CNI_LABELS.items():
        if any(labels.get(k) == v for k, v in pairs):
            return cni
    return None


_LOG_ERROR = re.compile(r"^(?:E\d{4} |F\d{4} )|level=(?:error|fatal)|\[(?:ERROR|FATAL)\]|\bFailed to\b|\bfailed to\b"
                        r"|\bError registering network\b|panic:")


def log_error(text: str | None) -> str | None:
    """The last error line of a CNI agent's log (klog E/F lines, level=error, [ERROR], 'Failed to ...')."""
    found = None
    for line in (text or "").splitlines():
        if _LOG_ERROR.search(line.strip()):
            found = line.strip()
    return found[:300] if found else None


def cni_pod_table(pods: pd.DataFrame, containers: pd.DataFrame, logs: dict[tuple[str, str, str], str | None]
                  ) -> pd.DataFrame:
    """One row per CNI agent pod (``CNI_COLUMNS``): phase, Ready, restarts, the reason, its last log error."""
    rows = []
    for pod in _records(pods):
        kind = cni_of(pod.get("labels"))
        if kind is None:
            continue
        mine = [c for c in _records(containers) if c["pod"] == pod["name"] and c["namespace"] == pod["namespace"]
                and not c.get("init")]
        reasons = [c.get("reason") or c.get("last_reason") for c in mine if not c.get("ready")]
        error = None
        for c in mine:
            error = log_error(logs.get((pod["namespace"], pod["name"], c["container"]))) or error
        count, total = pod.get("ready_count"), pod.get("container_count")
        ready = bool(total) and count == total and pod.get("phase") == "Running" and pod.get("status") == "Running"
        rows.append({"namespace": pod["namespace"], "pod": pod["name"], "node": pod.get("node"), "cni": kind,
                     "phase": pod.get("phase"), "ready": ready, "restarts": pod.get("restarts"),
                     "reason": next((r for r in reasons if r), pod.get("status")), "log_error": error})
    return pd.DataFrame(rows, columns=CNI_COLUMNS)


# ------------------------------------------------------------------ checks

def _node_name(nodes: pd.DataFrame, address: str) -> str | None:
    for row in _records(nodes):
        if row.get("internal_ip") == address:
            return row["name"]
    return None


def node_pair(source: str, peer: str) -> str:
    return f"nodes {source} -> {peer}"


def pod_pair(pod_ip: str, peer_pod_ip: str) -> str:
    return f"pods {pod_ip or 'target'} -> {peer_pod_ip}"


def unreachable(l4: pd.DataFrame, route_peer: pd.DataFrame, peer_capture: dict | None, peer_node: dict | None,
                subject: str, node_port: int) -> list[Finding]:
    """NET-001: the peer node does not answer (module doc)."""
    tcp = nodes_unreachable(l4)
    if tcp is None:
        return []
    if tcp["verdict"] == "unreachable":
        said = (f"ICMP {tcp['icmp']} from {tcp['icmp_from']}" if tcp.get("icmp")
                else f"no route ({tcp.get('detail') or tcp['outcome']})")
    else:
        said = "silence: no SYN-ACK, no RST, no ICMP (dropped on the way)"
    udp = next((r for r in _records(l4) if r["probe"] == "udp vxlan"), None)
    detail = f"TCP to {tcp['dest']}:{node_port} got {said}"
    if udp:
        detail += f"; UDP to the overlay port: {udp['outcome']}"
    route = _records(route_peer)
    if route:
        r = route[0]
        detail += ("; `ip route get` has a route: " + f"via {r.get('gateway') or 'direct'} dev {r.get('dev')}"
                   if r.get("routed") else f"; no route to the peer: {r.get('error')}")
    if peer_capture is not None:
        arrived = peer_capture["packets"]
        detail += (f"; the peer's capture saw {arrived} packet(s) from us" if arrived
                   else "; the peer's capture saw nothing from us: the packets are lost before the peer")
    if peer_node:
        detail += f". The API: node {peer_node['name']} Ready={peer_node.get('ready')}"
        if peer_node.get("ready_reason"):
            detail += f" ({peer_node['ready_reason']}: {peer_node.get('ready_message') or ''})"
    evidence = {"l4": _records(l4), "route_to_peer": route, "peer_capture": peer_capture, "peer_node": peer_node}
    return about(subject, [finding("NET-001", detail + ".", evidence)])


def vxlan_blocked(l4: pd.DataFrame, rules: pd.DataFrame, overlay: pd.DataFrame, problems: list[str],
                  captures: dict, subject: str, vxlan_port: int, counters_read: bool) -> list[Finding]:
    """NET-002: a rule that took the overlay's packets, no listener, or no/down/mismatched device."""
    parts, evidence = [], {}
    all_rules = _records(rules)
    moved = [r for r in all_rules if (r.get("moved") or 0) > 0]
    if moved:
        for r in moved:
            parts.append(f"{r['node']}: `-A {r['chain']} {r['rule']}` ({r['table']}) took {r['moved']} packet(s) "
                         f"during the probes (counter {r['packets_before']} -> {r['packets_after']})")
        evidence["rules"] = moved
    elif all_rules and not counters_read:
        for r in all_rules:
            parts.append(f"{r['node']}: `-A {r['chain']} {r['rule']}` ({r['table']}) matches UDP {vxlan_port} "
                         "(counters after the probes could not be read: not proven by a counter)")
        evidence["rules"] = all_rules
    udp = next((r for r in _records(l4) if r["probe"] == "udp vxlan"), None)
    if udp and udp["verdict"] == "no-listener":
        parts.append(f"UDP {vxlan_port} on {udp['dest']} answered ICMP port unreachable: nothing listens there")
    parts.extend(problems)
    if not parts:
        return []
    peer_capture = captures.get("peer")
    if moved and peer_capture is not None and (peer_capture["received"] or peer_capture["probe_datagrams"]):
        parts.append(f"the peer's capture shows them arriving ({peer_capture['received'] + peer_capture['probe_datagrams']} "
                     "packet(s)) before the filter")
    evidence.update(l4=_records(l4), overlay=_records(overlay), problems=problems, captures=captures)
    return about(subject, [finding("NET-002", "; ".join(parts) + ".", evidence)])


def no_pod_route(route: pd.DataFrame, links: pd.DataFrame, peer: str, peer_pod_ip: str, route_back: pd.DataFrame,
                 peer_links: pd.DataFrame, source_ip: str, pod_ip: str, subject: str) -> list[Finding]:
    """NET-005: no route into the overlay to the peer's pod (or back)."""
    parts, evidence = [], {}
    ok, said = route_verdict(route, links, peer)
    if ok is False:
        parts.append(f"`ip route get {peer_pod_ip}` on the target: {said}")
        evidence["route"] = _records(route)
    if pod_ip and len(route_back):
        back_ok, back_said = route_verdict(route_back, peer_links, source_ip)
        if back_ok is False:
            parts.append(f"`ip route get {pod_ip}` on the peer: {back_said}")
            evidence["route_back"] = _records(route_back)
    if not parts:
        return []
    return about(subject, [finding("NET-005", "; ".join(parts) + ".", evidence)])


def vni_mismatch(overlay: pd.DataFrame) -> str | None:
    """"node-a VNI 1, node-b VNI 2" when the two nodes' VXLAN devices carry different ids, else None."""
    ids: dict[str, set[int]] = {}
    for row in _records(overlay):
        if row["kind"] == "vxlan" and row.get("vxlan_id") is not None:
            ids.setdefault(row["node"], set()).add(int(row["vxlan_id"]))
    if len(ids) == 2 and not set.intersection(*ids.values()):
        return ", ".join(f"{node} VNI {'/'.join(map(str, sorted(vnis)))}" for node, vnis in ids.items())
    return None


def data_path(l4: pd.DataFrame, pod_probe: dict | None, captures: dict, fdb: pd.DataFrame, peer: str,
              subject: str, peer_pod_ip: str, earlier: set[str], fdb_read: bool = False,
              overlay: pd.DataFrame | None = None) -> list[Finding]:
    """NET-003: nodes fine, overlay port fine, route fine — and the pods still cannot talk."""
    if not nodes_reachable(l4) or pod_probe is None or earlier & {"NET-002", "NET-005", "NET-001"}:
        return []
    replies = int(pod_probe.get("received") or 0)
    if replies > 0:
        return []
    sent = int(pod_probe.get("transmitted") or 0)
    where = where_packets_stopped(captures.get("target"), captures.get("peer"), replies)
    detail = (f"the nodes reach each other (TCP to {peer} answered) and the overlay port is not blocked, but "
              f"{sent} ping(s) to {peer_pod_ip} got no reply: {where}")
    entries = _records(fdb)
    if fdb_read:
        to_peer = [e for e in entries if e.get("dst") == peer]
        default = [e for e in entries if e.get("mac") == "00:00:00:00:00:00"]
        if not to_peer and not default:
            detail += (f"; the overlay device has no FDB entry with dst {peer} (nor a default all-zero entry): "
                       "it has nowhere to send frames for the peer's VTEP")
    mismatch = vni_mismatch(overlay) if overlay is not None else None
    if mismatch:
        detail += f"; the VXLAN ids differ ({mismatch}): the peer drops frames of a VNI it has no device for"
    return about(subject, [finding("NET-003", detail + ".", {"pod_probe": pod_probe, "captures": captures,
                                                             "fdb": entries})])


def agents_not_ready(cni_pods: pd.DataFrame) -> list[Finding]:
    """NET-004: one finding per CNI agent pod not Ready."""
    found = []
    for pod in _records(cni_pods):
        if pod["ready"]:
            continue
        detail = (f"{pod['cni']} agent {pod['namespace']}/{pod['pod']} on {pod['node']}: {pod['phase']}, "
                  f"{pod['reason'] or 'not ready'}, {pod['restarts'] or 0} restart(s)")
        if pod.get("log_error"):
            detail += f"; its log: {pod['log_error']}"
        detail += f". Pods on {pod['node']} lose their overlay routes while it is down."
        found += about(f"pod {pod['namespace']}/{pod['pod']}", [finding("NET-004", detail, {"pod": pod})])
    return found


def diagnose(*, l4: pd.DataFrame, pod_probe: dict | None, route: pd.DataFrame, route_peer: pd.DataFrame,
             route_back: pd.DataFrame, links: pd.DataFrame, peer_links: pd.DataFrame, overlay: pd.DataFrame,
             listeners: dict, rules: pd.DataFrame, captures: dict, fdb: pd.DataFrame, cni_pods: pd.DataFrame,
             peer_node: dict | None, nodes_read: list[str], counters_read: bool, peer: str = "",
             source: str = "target", source_ip: str = "", pod_ip: str = "", peer_pod_ip: str = "",
             vxlan_port: int = 8472, node_port: int = 10250, peer_name: str = "", fdb_read: bool = False,
             source_name: str = "") -> list[Finding]:
    """Every pod-network finding from the gathered evidence (see :func:`gather`)."""
    nodes = node_pair(source_name or source, peer_name or peer)
    pods = pod_pair(pod_ip, peer_pod_ip)
    found = unreachable(l4, route_peer, captures.get("peer"), peer_node, nodes, node_port)
    problems = overlay_problems(overlay, listeners, vxlan_port, nodes_read)
    # the blocked overlay port is what the pods feel: about the pod pair when they were probed
    overlay_subject = pods if peer_pod_ip and pod_probe is not None else nodes
    found += vxlan_blocked(l4 if not found else pd.DataFrame(columns=L4_COLUMNS), rules, overlay, problems, captures,
                           overlay_subject, vxlan_port, counters_read)
    if peer_pod_ip:
        found += no_pod_route(route, links, peer, peer_pod_ip, route_back, peer_links, source_ip, pod_ip, pods)
        found += data_path(l4, pod_probe, captures, fdb, peer, pods, peer_pod_ip, {f.code for f in found}, fdb_read,
                           overlay)
    found += agents_not_ready(cni_pods)
    return found


def subjects(*, l4: pd.DataFrame, cni_pods: pd.DataFrame, peer: str = "", source: str = "target", pod_ip: str = "",
             peer_pod_ip: str = "", peer_name: str = "", source_name: str = "", **_: Any) -> list[str]:
    """The node pair, the pod pair (when probed) and every CNI agent pod that is not Ready (the Ready ones are
    listed in the CNI table; a verdict "no cause found" on a healthy agent would read as a suspicion)."""
    out = [node_pair(source_name or source, peer_name or peer)] if peer else []
    if peer_pod_ip:
        out.append(pod_pair(pod_ip, peer_pod_ip))
    out += [f"pod {r['namespace']}/{r['pod']}" for r in _records(cni_pods) if not r["ready"]]
    return out


# ------------------------------------------------------------------ gather

def _missing(rb, evidence: str, what: str, reason: str, *, where: str | None = None) -> None:
    rb.missing_evidence.add(evidence)
    if not any(u.what == what and u.reason == reason for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=where or str(rb.parameters.get("target") or "target"))


def _target_spec(rb) -> str:
    spec = rb.parameters.get("target") or ""
    if not spec:
        try:
            spec = rb.target.spec
        except Exception:  # noqa: BLE001 - the target's own error shows where it is used
            spec = ""
    return spec or "local"


def _probe_row(frame: pd.DataFrame) -> dict | None:
    rows = _records(frame)
    return rows[0] if rows else None


def _python_ok(rb, spec: str) -> bool:
    """Whether the connect probe (k8srun's own Python) can answer on ``spec``: local, netns:, or a replay."""
    from ..targets.replay import ReplayTarget

    if spec.partition(":")[0] in ("local", "netns", "replay"):
        return True
    try:
        return isinstance(rb.target, ReplayTarget)
    except Exception:  # noqa: BLE001 - a target that cannot be opened: its own row says why
        return False


def cluster_part(rb) -> dict:
    """The CNI agent pods (with their containers and log errors) and the node the peer address belongs to."""
    pods = rb.pods(None)
    nodes = rb.nodes() if "pods" not in rb.missing_evidence else pd.DataFrame(columns=["name", "internal_ip"])
    agents = pods[[cni_of(labels) is not None for labels in pods["labels"]]] if len(pods) else pods
    logs: dict[tuple[str, str, str], str | None] = {}
    if len(agents):
        containers = pd.concat([rb.containers(ns) for ns in sorted(set(agents["namespace"]))], ignore_index=True)
        mine = containers[containers["pod"].isin(set(agents["name"]))]
        for row in mine.itertuples(index=False):
            if row.ready:
                continue
            for previous in (False, True):
                if previous and not (row.restarts or row.last_state == "terminated"):
                    continue
                text = rb.logs(row.pod, row.container, previous=previous, tail_lines=200, namespace=row.namespace)
                if log_error(text):
                    logs[(row.namespace, row.pod, row.container)] = text
                    break
    else:
        containers = pd.DataFrame(columns=["namespace", "pod", "container", "init", "ready", "reason", "last_reason"])
    table = cni_pod_table(agents, containers, logs)
    peer = rb.parameters.get("peer") or ""
    name = _node_name(nodes, peer) if peer else None
    peer_node = next((r for r in _records(nodes) if r["name"] == name), None) if name else None
    return {"cni_pods": table, "nodes": nodes, "peer_node": peer_node}


def default_peer_pod_ip(nodes: pd.DataFrame, peer: str) -> str:
    """The first address of the peer node's podCIDR (API), or ""."""
    for row in _records(nodes):
        if row.get("internal_ip") == peer and row.get("pod_cidr"):
            try:
                network = ipaddress.ip_network(str(row["pod_cidr"]).split(",")[0], strict=False)
            except ValueError:
                return ""
            return str(network.network_address + 1)
    return ""


def _concurrently(jobs: list) -> list:
    results: list = [None] * len(jobs)

    def work(index: int, job) -> None:
        results[index] = job()

    threads = [threading.Thread(target=work, args=(i, job), daemon=True) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def gather(rb) -> dict:
    """Static views of both nodes, rules before, captures around the three probes, rules after; the cluster."""
    p = rb.parameters
    peer, peer_spec, port = p.get("peer") or "", p.get("peer_target") or "", int(p.get("vxlan_port") or 8472)
    node_port, timeout_s = NODE_PORT, p.get("timeout_s", 10)
    spec = _target_spec(rb)
    cluster = cluster_part(rb)
    peer_pod_ip = p.get("peer_pod_ip") or default_peer_pod_ip(cluster["nodes"], peer)
    if not peer_pod_ip:
        _missing(rb, "pod-probe", "cross-node pod probe", "no peer_pod_ip given and no podCIDR for the peer node "
                 "in the source: run with -p peer_pod_ip IP")
        rb.missing_evidence.add("ip-route-get")
    links = rb.node(IP_LINK)
    sockets = rb.node(SS)
    route = rb.node(ROUTE_GET, dest=peer_pod_ip) if peer_pod_ip else pd.DataFrame(columns=ip_route_get.COLUMNS)
    route_peer = rb.node(ROUTE_TO_PEER, dest=peer) if peer else pd.DataFrame(columns=ip_route_get.COLUMNS)
    source_ip = next((r.get("prefsrc") for r in _records(route_peer) if r.get("routed")), None) or ""
    labels = (_node_name(cluster["nodes"], source_ip) or spec if source_ip else spec,
              (cluster["peer_node"] or {}).get("name") or peer or "peer")
    devices = overlay_devices(links, labels[0])
    used = next((r.get("dev") for r in _records(route) if r.get("routed")), None)
    vxlan = used if used in set(devices["ifname"]) else next(iter(devices[devices["kind"] == "vxlan"]["ifname"]), None)
    fdb = rb.node(FDB, dev=vxlan) if vxlan else pd.DataFrame(columns=["mac", "dst"])
    before = rb.node(IPTABLES_SAVE)
    peer_place = other_place(rb, peer_spec, "peer") if peer_spec else None
    peer_links = peer_place.node(PEER["ip-link"]) if peer_place else pd.DataFrame(columns=["ifname", "kind"])
    peer_sockets = peer_place.node(PEER["listeners"]) if peer_place else None
    peer_before = peer_place.node(PEER["iptables-save"]) if peer_place else None
    if not peer_spec:
        for name in ("peer-ip-link", "peer-listeners", "peer-iptables-save", "peer-capture", "peer-route-back"):
            rb.missing_evidence.add(name)
        _missing(rb, "peer-capture", "the peer node's side", "no peer_target given: the peer's overlay device, "
                 "listener, rules and capture were not read (-p peer_target netns:NAME | node:NODE)")
    l4, pod_probe, captures_raw = _probe_phase(rb, spec, peer_place, peer, peer_pod_ip, port, node_port, timeout_s,
                                               source_ip, labels)
    after = rb.node(IPTABLES_AFTER) if not before.empty else None
    peer_after = peer_place.node(PEER["iptables-save-after"]) if peer_place is not None and peer_before is not None \
        and not peer_before.empty else None
    counters_read = after is not None and not after.empty and "iptables-save-after" not in rb.missing_evidence
    addresses = [a for a in (peer, source_ip) if a]
    rules = pd.concat([rule_table(labels[0], before, after, port, addresses),
                       *([rule_table(labels[1], peer_before, peer_after, port, addresses)] if peer_place else [])],
                      ignore_index=True)
    route_back = peer_place.node(PEER["route-back"], dest=p["pod_ip"]) if peer_place and p.get("pod_ip") \
        else pd.DataFrame(columns=ip_route_get.COLUMNS)
    overlay = pd.concat([devices, *([overlay_devices(peer_links, labels[1])] if peer_place else [])],
                        ignore_index=True)
    nodes_read = [labels[0]] + ([labels[1]] if peer_place is not None and "peer-ip-link" not in rb.missing_evidence
                                else [])
    listeners = {labels[0]: None if "listeners" in rb.missing_evidence else sockets,
                 labels[1]: None if peer_sockets is None or "peer-listeners" in rb.missing_evidence else peer_sockets}
    return {"l4": l4, "pod_probe": pod_probe, "route": route, "route_peer": route_peer, "route_back": route_back,
            "links": links, "peer_links": peer_links, "overlay": overlay, "listeners": listeners, "rules": rules,
            "captures": captures_raw, "fdb": fdb, "cni_pods": cluster["cni_pods"], "peer_node": cluster["peer_node"],
            "nodes_read": nodes_read, "counters_read": counters_read, "peer": peer, "source": spec,
            "source_ip": source_ip, "pod_ip": p.get("pod_ip") or "", "peer_pod_ip": peer_pod_ip,
            "vxlan_port": port, "node_port": node_port,
            "peer_name": (cluster["peer_node"] or {}).get("name") or "",
            "source_name": labels[0],
            "fdb_read": vxlan is not None and "fdb" not in rb.missing_evidence}


def _probe_phase(rb, spec: str, peer_place, peer: str, peer_pod_ip: str, port: int, node_port: int,
                 timeout_s: float, source_ip: str, labels: tuple[str, str] = ("target", "peer")
                 ) -> tuple[pd.DataFrame, dict | None, dict]:
    """Captures on both nodes around the three probes, all at once (module doc: bounded, no sleep)."""
    if not peer:
        _missing(rb, "node-l4", "node-to-node probes", "no peer given: run with -p peer NODE_IP")
        return l4_table(None, None), None, {}
    python_here = _python_ok(rb, spec)
    if not python_here:
        _missing(rb, "node-l4", "node-to-node probes", f"the connect probe is k8srun's own Python: it runs on "
                 f"local and netns: targets, not {spec.partition(':')[0]}: (run k8srun on the node)")
    commands = {}
    for proto, number in (("tcp", node_port), ("udp", port)):
        plain = firewall.probe_command(peer, number, proto, "", timeout_s)
        commands[proto] = dataclasses.replace(firewall.probe_command(peer, number, proto, "", timeout_s,
                                                                     python=interpreter(rb, plain)), evidence="node-l4")
    pid = pod_pid(rb.parameters.get("pod_target") or "")
    pod_spec = "" if pid else rb.parameters.get("pod_target") or ""
    ping = PING_POD_NSENTER if pid else PING_POD
    jobs = {}
    here = other_place(rb, spec, "capture")
    jobs["capture"] = lambda: here.node_result(CAPTURE, other=peer)
    if peer_place is not None:
        jobs["peer-capture"] = lambda: peer_place.node_result(PEER_CAPTURE, other=source_ip or "any")
    if python_here:
        for proto, command in commands.items():
            place = other_place(rb, spec, f"probe-{proto}")
            jobs[proto] = (lambda place=place, command=command: place.node(command))
    if peer_pod_ip:
        place = other_place(rb, pod_spec, "pod") if pod_spec else other_place(rb, spec, "pod")
        jobs["ping"] = lambda: place.node(ping, peer_pod_ip=peer_pod_ip, pod_pid=pid)
    names = list(jobs)
    results = dict(zip(names, _concurrently([jobs[n] for n in names])))
    on_target = [here.node_result(CAPTURE, other=peer)] + [
        other_place(rb, spec, f"probe-{proto}").node_result(command) for proto, command in commands.items()
        if python_here]
    if peer_pod_ip and not pod_spec:
        on_target.append(other_place(rb, spec, "pod").node_result(ping, peer_pod_ip=peer_pod_ip, pod_pid=pid))
    adopt(rb, on_target)
    l4 = l4_table(_probe_row(results["tcp"]) if "tcp" in results else None,
                  _probe_row(results["udp"]) if "udp" in results else None)
    if python_here and len(l4) < 2:
        rb.missing_evidence.add("node-l4")
    pod_probe = _probe_row(results["ping"]) if "ping" in results else None
    captures: dict = {}
    for key, name, self_ip in (("capture", "target", source_ip), ("peer-capture", "peer", peer)):
        result = results.get(key)
        if result is None or result.exit_code not in CAPTURE.accept_exit:
            if result is not None:
                _missing(rb, key, f"capture on the {name} node ({result.command_id})",
                         result.error or "no output", where=result.target)
            continue
        try:
            packets = CAPTURE.parse_result(result)
        except Exception as exc:  # ParseError: not tcpdump's output
            _missing(rb, key, f"capture on the {name} node", str(exc), where=result.target)
            continue
        captures[name] = capture_row(labels[0] if name == "target" else labels[1], packets, tcpdump.capture_summary(result.stderr), port, self_ip or None)
    return l4, pod_probe, captures


# ------------------------------------------------------------------ tables

def listener_table(evidence: dict) -> pd.DataFrame:
    """Per node read: is a UDP socket bound to the overlay port."""
    port = evidence.get("vxlan_port", 8472)
    return pd.DataFrame([{"node": node, "udp_port": port, "listening": udp_listening(sockets, port)}
                         for node, sockets in (evidence.get("listeners") or {}).items() if sockets is not None],
                        columns=["node", "udp_port", "listening"])


def capture_table(evidence: dict) -> pd.DataFrame:
    """One row per node captured (``CAPTURE_COLUMNS``)."""
    return pd.DataFrame(list((evidence.get("captures") or {}).values()), columns=CAPTURE_COLUMNS)


def pod_probe_table(evidence: dict) -> pd.DataFrame:
    """The cross-node ping as one row (transmitted, received, loss), empty when not probed."""
    probe = evidence.get("pod_probe")
    columns = ["destination", "transmitted", "received", "errors", "packet_loss_percent", "rtt_avg_ms"]
    return pd.DataFrame([{k: probe.get(k) for k in columns}] if probe else [], columns=columns)


# ------------------------------------------------------------------ picture

#: what the TCP probe's outcome means for the underlay, in the picture
TCP_SAID = {"open": "answered", "refused": "answered (RST)", "timeout": "silence (dropped)",
            "unreachable": "ICMP unreachable", "no-route": "no route"}


def _short(text: str, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_hops(evidence: dict) -> list[tuple[str, str, bool | None, str, str]]:
    """(key, label, ok, said, full detail) per hop of the path: None = not known from this run."""
    l4, captures = evidence.get("l4"), evidence.get("captures") or {}
    rows = {r["probe"]: r for r in _records(l4)}
    tcp, udp = rows.get("tcp"), rows.get("udp vxlan")
    route_ok, route_said = route_verdict(evidence.get("route", pd.DataFrame()), evidence.get("links", pd.DataFrame()),
                                         evidence.get("peer", ""))
    if not len(evidence.get("route", pd.DataFrame())):
        route_ok, route_said = None, "not looked up"
    moved = [r for r in _records(evidence.get("rules")) if (r.get("moved") or 0) > 0]
    probe = evidence.get("pod_probe") or {}
    source_cap, peer_cap = captures.get("target"), captures.get("peer")
    source, peer = evidence.get("source_name") or "target", evidence.get("peer_name") or evidence.get("peer") or "peer"
    overlay_ok = None if udp is None and not moved else (not moved and (udp or {}).get("verdict") != "no-listener")
    overlay_said = (f"{moved[0]['target']} on {moved[0]['node']} +{moved[0]['moved']}" if moved
                    else (udp or {}).get("outcome", "not probed"))
    return [
        ("pod", evidence.get("pod_ip") or source, None, "source", f"the probe starts at {evidence.get('pod_ip') or source}"),
        ("route", f"route on {source}",
         route_ok, {True: "into overlay", False: "no / wrong route"}.get(route_ok, route_said), route_said),
        ("underlay", f"TCP to {peer}", None if tcp is None else tcp["verdict"] == "reachable",
         TCP_SAID.get(tcp["outcome"], tcp["outcome"]) if tcp else "not probed", str((tcp or {}).get("detail") or "")),
        ("overlay", f"UDP {evidence.get('vxlan_port')}", overlay_ok, overlay_said,
         moved[0]["rule"] if moved else str((udp or {}).get("detail") or "")),
        ("left", f"out of {source}", None if source_cap is None else source_cap["sent"] > 0,
         "not captured" if source_cap is None else f"{source_cap['sent']} encapsulated", "capture on the source node"),
        ("arrived", f"into {peer}", None if peer_cap is None else (peer_cap["received"] + peer_cap["probe_datagrams"]) > 0,
         "not captured" if peer_cap is None else f"{peer_cap['received']} encapsulated", "capture on the peer node"),
        ("reply", evidence.get("peer_pod_ip") or "peer pod", None if not probe else int(probe.get("received") or 0) > 0,
         "not probed" if not probe else f"{probe.get('received') or 0}/{probe.get('transmitted') or 0} replies",
         "ping from the pod's network"),
    ]


def path_chart(evidence: dict) -> charts.Svg:
    """The path pod → node → overlay → peer node → pod, each hop with its result (green ok, red broken, grey unknown).

    Each hop is a ``<g class='podnet-hop' data-hop=KEY data-state=ok|broken|unknown>`` with its full detail as
    the box's ``<title>`` (a tooltip in a browser).
    """
    hops = path_hops(evidence)
    box_w, gap, top, left = 128, 14, 36, 8
    width = left * 2 + len(hops) * box_w + (len(hops) - 1) * gap
    body = [charts.text(left, 20, f"{evidence.get('source_name') or evidence.get('source', 'target')} → "
                                  f"{evidence.get('peer_name') or evidence.get('peer', '?')}: each hop of the pod "
                                  "traffic and what this run saw there")]
    for index, (key, label, ok, said, detail) in enumerate(hops):
        x = left + index * (box_w + gap)
        colour = "#868e96" if ok is None else ("#2b8a3e" if ok else "#b00020")
        state = "unknown" if ok is None else ("ok" if ok else "broken")
        if index:
            body.append(f"<line x1='{x - gap}' y1='{top + 26}' x2='{x}' y2='{top + 26}' stroke='#495057' "
                        "stroke-width='2'/>")
        body.append(f"<g class='podnet-hop' data-hop='{key}' data-state='{state}'><title>{escape(detail)}</title>"
                    f"<rect x='{x}' y='{top}' width='{box_w}' height='52' rx='6' fill='white' stroke='{colour}' "
                    f"stroke-width='{3 if ok is False else 2}'/>"
                    + charts.text(x + box_w / 2, top + 20, _short(label, 20), anchor="middle", font_size=11)
                    + charts.text(x + box_w / 2, top + 39, _short(said, 20), anchor="middle",
                                  extra=f" fill='{colour}'") + "</g>")
    body.append(charts.legend([("circle", "#2b8a3e", "worked"), ("circle", "#b00020", "broken here"),
                               ("circle", "#868e96", "not known from this run")], left, top + 74))
    return charts.document(width, top + 90, "Cross-node path", "The pod-to-pod path hop by hop, each with its "
                           "result: green ok, red broken, grey not known.", body)


__all__ = ["RUNBOOK", "REQUIRES", "PARTIAL", "gather", "diagnose", "subjects", "classify_l4", "rule_blocks_overlay",
           "rule_table", "route_verdict", "capture_row", "where_packets_stopped", "cni_pod_table", "log_error",
           "path_chart", "path_hops"]
