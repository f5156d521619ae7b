"""service-routing: a Service is unreachable — endpoints, kube-proxy, iptables/IPVS, conntrack (SVC-001..007).

Two views of every service port in scope (``namespace``; ``service`` empty
means every Service there; ``port`` a port name or number, empty means every
port), joined:

- **the API's** (the source): the Service, its selector → pods (ready or not),
  ``targetPort`` resolved against each selected pod's containers (named ports
  per pod, as the endpoints controller does), the endpoint addresses — from
  the EndpointSlices labelled ``kubernetes.io/service-name`` when the source
  has any for the Service (what kube-proxy reads), else from core/v1
  Endpoints — and the kube-proxy pods of ``kube-system``;
- **the node's** (the ``target``, which must be a node): ``iptables-save -c``
  (the shared :data:`k8srun.evidence.IPTABLES_SAVE`) read as kube-proxy wrote
  it (:mod:`k8srun.parsers.kube_proxy`: KUBE-SERVICES → KUBE-SVC/KUBE-SVL →
  KUBE-SEP with probabilities → DNAT backend, KUBE-NODEPORTS, the filter
  table's REJECT "has no endpoints"), ``ipvsadm -Ln`` when the node runs IPVS,
  and ``conntrack -L -d CLUSTER_IP`` per ClusterIP. :data:`KUBE_PROXY_RULES`
  is IPTABLES_SAVE's command id and argv with the kube-proxy view as parser,
  so the iptables-save a ``k8srun capture --nodes`` bundle holds replays here.

The proxy mode is read from the rules themselves (the kube-proxy ConfigMap's
values are not captured, and a live one may lie about a node that was
started differently): ipset ``KUBE-CLUSTER-IP`` / chains ``KUBE-NODE-PORT``,
``KUBE-LOAD-BALANCER`` → IPVS; ``KUBE-SERVICES`` / ``KUBE-SVC-*`` → iptables;
neither → ``ipvsadm -Ln`` is asked, and when it lists no virtual server the
target has no kube-proxy rules at all (not a node, kube-proxy never synced,
nftables mode or a kube-proxy replacement such as Cilium, which this
runbook does not read): SVC-003/004/006 are then NOT CHECKED with that
reason, never OK. The other mode's code does not apply and reads OK with a
"skipped" row saying why: SVC-006 on an iptables-mode node (the mode was
read, so no IPVS server can be missing), SVC-003/004 on an IPVS node (the
virtual servers are the rules there, SVC-006 checks them).

The node's NodePort for each port (``KUBE-NODEPORTS`` → ``KUBE-EXT``) is
shown in the paths table (``node_port``), not judged: its traffic takes the
same KUBE-SVC chain, so the ClusterIP's verdict covers it.

How each code decides (one finding per service port, ``subject`` =
``service NS/NAME:PORT`` — the port's name, or its number when unnamed):

- **SVC-001** (critical): the Service has a selector and it matches no pod of
  its namespace, or the port has no *ready* endpoint address. A Service
  without selector is fine when its (manual) Endpoints have a ready address
  for the port. ExternalName Services are not looked at.
- **SVC-002**: ``targetPort`` against the selected pods' containers. A
  *named* targetPort that none of the selected pods' containers define is
  an **error** (certain: the endpoints controller leaves every pod out of
  the port). When only some pods define it, those are the port's backends —
  a named port is how one Service spans pods whose ports differ (the lab's
  web-a serves no https) — so that is shown in the table, not reported. A
  *numeric* targetPort that no selected container declares, while
  they declare other ports, is reported at **warning** severity:
  ``containerPort`` is informational — the app may listen anyway — but a
  Service pointing at a port nobody declares next to ports they do is most
  often a typo. Containers that declare no ports at all: nothing to compare,
  no finding (the table says so).
- **SVC-003** (critical; iptables mode): no nat ``KUBE-SERVICES`` rule for
  ClusterIP:port/protocol and no filter REJECT "has no endpoints" for it —
  nothing on the node handles the ClusterIP. When the KUBE-SVC chain still
  exists without the portal rule jumping to it (a half-applied sync), the
  detail says so. Headless Services (clusterIP None) have no rules by design.
  Without a cluster source the ports looked at are those the node's rules
  name, so only the orphaned-chain case can be seen (PARTIAL).
- **SVC-004** (error; iptables mode; needs the endpoints): the DNAT backends
  of the port's KUBE-SEP chains differ from the ready endpoint addresses
  (ip:port): a *stale* backend (no endpoint at all), a *not-ready* backend
  (kube-proxy keeps only ready ones, or serving-terminating ones when none
  is ready — that exception is not modelled), a KUBE-SEP without DNAT, a
  *missing* backend (a ready endpoint with no KUBE-SEP), or a REJECT "has no
  endpoints" while the API lists ready ones. A KUBE-SVL (Local traffic
  policy) chain only holds this node's endpoints, so missing ones are not
  counted there. A KUBE-SVC chain without any KUBE-SEP jump while no
  endpoint is ready is consistent (path ``no-backends``; SVC-001 says why).
- **SVC-005** (error): a kube-proxy pod (``kube-system``, label
  ``k8s-app=kube-proxy`` or owned by DaemonSet ``kube-proxy``) is not Running
  or not Ready — one finding per pod, with the first klog error (``E…``) of
  its previous run's log when it restarted; and with ``target`` ``node:NAME``, no
  kube-proxy pod on that node while other nodes have one. No kube-proxy pod
  at all (kube-proxy as a system service, or replaced) is NOT CHECKED.
- **SVC-006** (error; IPVS mode; needs the endpoints): no virtual server for
  ClusterIP:port/protocol in ``ipvsadm -Ln``, or its real servers of weight
  > 0 (weight 0 = being drained) differ from the ready endpoint addresses.
  This sandbox's kernel has no IPVS: the test uses recorded ``ipvsadm`` text.
- **SVC-007** (warning; needs the endpoints): ``conntrack -L -d CLUSTER_IP``
  entries for the port whose reply source (the backend the connection was
  DNATed to) is no endpoint address of the Service any more — flows kept
  alive on a deleted backend. Entries not translated at all (reply source =
  ClusterIP: no DNAT happened) are shown but are not SVC-007. At most
  :data:`MAX_CONNTRACK_IPS` ClusterIPs are read per run.

A ``service`` or ``port`` that names nothing the API lists (or, without a
cluster source, nothing the node's rules name) is shown as such and makes
the per-port codes NOT CHECKED: nothing looked at is not "healthy".

With ``-p source none`` the API sections say "skipped: no cluster source",
the node sections still run on the ports the node's rules name, and the
codes that need the API read NOT CHECKED (SVC-003 PARTIAL).

Scale: the joins group each table once by key (``_Index``), so 10,000
Services × 10 endpoints (a 430k-line dump) read and joined in about 3 s.

Tables (pure functions of frames): :func:`service_ports`,
:func:`selected_pods`, :func:`endpoint_addresses`, :func:`proxy_pods`,
:func:`service_paths` (one row per backend of each port, with its status),
:func:`conntrack_entries`; the picture: :func:`path_diagram`.
"""

from __future__ import annotations

import re
import shlex
from types import SimpleNamespace
from typing import Any

import pandas as pd

from .. import params
from ..charts import Svg, document, text
from ..errors import K8srunError, ParameterError
from ..evidence import IPTABLES_SAVE, NodeCommand, manual_command
from ..model import Finding, about, finding
from ..parsers import conntrack as conntrack_parser
from ..parsers import ipvsadm as ipvsadm_parser
from ..parsers import kube_proxy
from ..registry import CLUSTER, NAMESPACE, TARGET, TIMEOUT, Parameter, Runbook


def port_choice(name: str, value: Any) -> str:
    """A Service port name (IANA_SVC_NAME: a-z, 0-9, '-', at most 15) or number 1..65535, as text."""
    if isinstance(value, bool):
        raise ParameterError(name, value, "must be a port name or number")
    text_value = str(value).strip()
    if text_value.isascii() and text_value.isdigit():
        return str(params.port(name, text_value))
    if len(text_value) > 15 or not any(c.isalpha() for c in text_value):
        raise ParameterError(name, value, "must be a port number (1..65535) or a port name (at most 15 characters)")
    return params.dns1123_label(name, text_value)


RUNBOOK = Runbook(
    name="service-routing",
    description="Service unreachable: selector, endpoints, targetPort, kube-proxy rules (iptables/IPVS), conntrack",
    scenario="service-routing",
    parameters=(*CLUSTER, TARGET, NAMESPACE,
                Parameter("service", "", "Service name; empty means every Service in the namespace",
                          lambda n, v: params.dns1123_label(n, v, allow_empty=True)),
                Parameter("port", "", "Service port name or number; empty means every port", port_choice),
                TIMEOUT),
    triage=("service-without-endpoints", "kube-proxy-pods"),
    namespace_default="all-but-scenario",
)

#: the node's kube-proxy rules, parsed straight into the kube-proxy view (same id and argv as IPTABLES_SAVE)
KUBE_PROXY_RULES = NodeCommand(IPTABLES_SAVE.command_id, IPTABLES_SAVE.argv, kube_proxy.view,
                               "iptables rules with packet counters (kube-proxy view)",
                               columns=tuple(kube_proxy.VIEW_COLUMNS))
IPVSADM = NodeCommand("ipvsadm-ln", lambda p: ("ipvsadm", "-Ln"), "ipvsadm", "IPVS virtual and real servers",
                      columns=tuple(ipvsadm_parser.COLUMNS))
CONNTRACK_DEST = NodeCommand("conntrack-d-{dest}", lambda p: ("conntrack", "-L", "-d", p["dest"]), "conntrack",
                             "connection tracking entries to a ClusterIP", columns=tuple(conntrack_parser.COLUMNS))

#: evidence names beyond the API resources and node commands: the mode the node's rules are in
IPTABLES_MODE = "kube-proxy-iptables"
PROXY_PODS = "kube-proxy-pods"
#: missing when -p service / -p port name nothing the API lists (nothing looked at is not "healthy")
IN_SCOPE = "service-in-scope"

REQUIRES: dict[str, list[str]] = {
    "SVC-001": ["services", IN_SCOPE, "endpoints", "pods"],
    "SVC-002": ["services", IN_SCOPE, "pods"],
    "SVC-003": [KUBE_PROXY_RULES.name, IPTABLES_MODE, IN_SCOPE],
    "SVC-004": [KUBE_PROXY_RULES.name, IPTABLES_MODE, "services", IN_SCOPE, "endpoints"],
    "SVC-005": ["pods", PROXY_PODS],
    "SVC-006": [IPVSADM.name, "services", IN_SCOPE, "endpoints"],
    "SVC-007": [CONNTRACK_DEST.name, "services", IN_SCOPE, "endpoints"],
}
#: without the API, SVC-003 sees only the ports the node's rules name (orphaned chains)
PARTIAL: dict[str, list[str]] = {"SVC-003": ["services"]}

#: at most this many ClusterIPs get a conntrack read per run
MAX_CONNTRACK_IPS = 20
PORT_COLUMNS = ["subject", "namespace", "service", "type", "cluster_ip", "port_name", "port", "protocol",
                "target_port", "selector", "known_from"]
POD_PORT_COLUMNS = ["subject", "pod", "pod_ip", "node", "ready", "target_port", "resolves_to", "declared_by", "note"]
ADDRESS_COLUMNS = ["namespace", "service", "port_name", "ip", "port", "protocol", "ready", "pod", "node", "from"]
PROXY_POD_COLUMNS = ["namespace", "name", "node", "status", "ready", "restarts", "healthy"]
PATH_COLUMNS = ["subject", "cluster_ip", "port", "protocol", "node_port", "svc_chain", "sep_chain", "share", "backend",
                "status", "why"]
CONNTRACK_COLUMNS = ["subject", "protocol", "state", "src", "sport", "dst", "dport", "reply_src", "reply_sport",
                     "verdict"]
#: path status -> (colour, meaning) for the table and the diagram
PATH_STATUS: dict[str, tuple[str, str]] = {
    "ok": ("#2b8a3e", "DNATs to a ready endpoint"),
    "stale": ("#d9480f", "DNATs to an address that is no endpoint"),
    "not-ready": ("#b08900", "DNATs to an endpoint that is not ready"),
    "missing": ("#b00020", "ready endpoint without a KUBE-SEP on this node"),
    "no-dnat": ("#862e9c", "KUBE-SEP chain without a DNAT rule"),
    "rejected": ("#868e96", "REJECT: kube-proxy saw no endpoints"),
    "no-rule": ("#b00020", "no KUBE-SERVICES rule for the ClusterIP:port"),
    "unverified": ("#1c7ed6", "DNAT backend (no endpoints to compare with)"),
    "no-backends": ("#868e96", "KUBE-SVC chain without KUBE-SEP jumps: not DNATed"),
}


# ------------------------------------------------------------------ the API's view

def _subject(namespace: str, service: str, port_name: str, port: Any) -> str:
    return f"service {namespace}/{service}:{port_name or port}"


def service_ports(services: pd.DataFrame, service: str = "", port: str = "") -> pd.DataFrame:
    """One row per port of the Services in scope (``PORT_COLUMNS``); ExternalName Services left out."""
    rows = []
    for svc in services.itertuples(index=False):
        if (service and svc.name != service) or svc.type == "ExternalName":
            continue
        for spec in svc.ports or []:
            name, number = spec.get("name", "") or "", spec.get("port")
            if port and port not in (name, str(number)):
                continue
            rows.append({"subject": _subject(svc.namespace, svc.name, name, number), "namespace": svc.namespace,
                         "service": svc.name, "type": svc.type, "cluster_ip": svc.cluster_ip, "port_name": name,
                         "port": number, "protocol": (spec.get("protocol") or "TCP").upper(),
                         "target_port": spec.get("targetPort", number), "selector": dict(svc.selector or {}),
                         "known_from": "API"})
    return pd.DataFrame(rows, columns=PORT_COLUMNS)


def ports_from_rules(view: pd.DataFrame, namespace: str | None = None, service: str = "",
                     port: str = "") -> pd.DataFrame:
    """The service ports the node's rules name (``ns/name:port`` comments), for a run without the API."""
    rows, seen = [], set()
    for row in view.itertuples(index=False):
        spn = str(row.service)
        ns, _, rest = spn.partition("/")
        name, _, port_name = rest.partition(":")
        key = (spn, row.cluster_ip, row.port, row.protocol)
        if key in seen or (namespace and ns != namespace) or (service and name != service) \
                or (port and port not in (port_name, str(row.port))):
            continue
        seen.add(key)
        rows.append({"subject": _subject(ns, name, port_name, row.port), "namespace": ns, "service": name,
                     "type": "ClusterIP", "cluster_ip": row.cluster_ip, "port_name": port_name, "port": row.port,
                     "protocol": str(row.protocol).upper(), "target_port": None, "selector": None,
                     "known_from": "node rules"})
    return pd.DataFrame(rows, columns=PORT_COLUMNS)


def endpointslices_frame(slices: list[dict]) -> pd.DataFrame:
    """discovery.k8s.io/v1 EndpointSlices → ``ADDRESS_COLUMNS`` (a missing ready condition means ready)."""
    rows = []
    for item in slices:
        meta = item.get("metadata") or {}
        service = (meta.get("labels") or {}).get("kubernetes.io/service-name", "")
        if not service or item.get("addressType", "IPv4") == "FQDN":
            continue
        for endpoint in item.get("endpoints") or []:
            ready = (endpoint.get("conditions") or {}).get("ready") is not False
            pod = (endpoint.get("targetRef") or {}).get("name", "")
            for ip in endpoint.get("addresses") or []:
                for port in item.get("ports") or [{}]:
                    rows.append({"namespace": meta.get("namespace", ""), "service": service,
                                 "port_name": port.get("name") or "", "ip": ip, "port": port.get("port"),
                                 "protocol": (port.get("protocol") or "TCP").upper(), "ready": ready, "pod": pod,
                                 "node": endpoint.get("nodeName", ""), "from": "EndpointSlice"})
    return pd.DataFrame(rows, columns=ADDRESS_COLUMNS).astype({"port": "Int64"})


def endpoint_addresses(endpoints: pd.DataFrame, slices: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every endpoint address (``ADDRESS_COLUMNS``): a Service's EndpointSlices when it has any, else its Endpoints."""
    from_endpoints = pd.DataFrame({
        "namespace": endpoints["namespace"], "service": endpoints["service"],
        "port_name": endpoints["port_name"].fillna(""), "ip": endpoints["ip"], "port": endpoints["port"],
        "protocol": endpoints["protocol"].fillna("TCP").str.upper(), "ready": endpoints["ready"],
        "pod": endpoints["target_name"], "node": endpoints["node"], "from": "Endpoints"}, columns=ADDRESS_COLUMNS)
    if slices is None or slices.empty:
        return from_endpoints.reset_index(drop=True)
    sliced = set(zip(slices["namespace"], slices["service"]))
    keep = [(ns, svc) not in sliced for ns, svc in zip(from_endpoints["namespace"], from_endpoints["service"])]
    frames = [f for f in (from_endpoints[keep], slices) if len(f)]
    return pd.concat(frames, ignore_index=True).reindex(columns=ADDRESS_COLUMNS) if frames \
        else pd.DataFrame(columns=ADDRESS_COLUMNS)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, (str, dict, list)) and bool(pd.isna(value)))


class _Index:
    """A frame's rows as plain dicts, grouped once by key columns: lookups in loops over service ports
    stay linear (10,000 Services × 10 endpoints in seconds, not minutes)."""

    def __init__(self, frame: pd.DataFrame, keys: dict[str, Any]):
        self.groups: dict[tuple, list[dict]] = {}
        for row in frame.to_dict("records"):
            key = tuple(fill if _missing(row[name]) else row[name] for name, fill in keys.items())
            self.groups.setdefault(key, []).append(row)

    def get(self, *key: Any) -> list[dict]:
        return self.groups.get(tuple(key), [])


def _address_index(addresses: pd.DataFrame):
    """``port -> its endpoint addresses`` (matched by the port's name, as the API does)."""
    index = _Index(addresses, {"namespace": None, "service": None, "port_name": ""})
    return lambda port: index.get(port.namespace, port.service, port.port_name or "")


def addresses_of(addresses: pd.DataFrame, port: pd.Series | Any) -> pd.DataFrame:
    """The endpoint addresses of one service port (matched by the port's name, as the API does)."""
    return pd.DataFrame(_address_index(addresses)(port), columns=ADDRESS_COLUMNS)


def _selects(selector: dict | None, labels: dict | None) -> bool:
    return bool(selector) and all((labels or {}).get(k) == v for k, v in selector.items())


def _pod_ready(pod: Any) -> bool:
    return pod.phase == "Running" and pod.container_count > 0 and pod.ready_count == pod.container_count


def _container_ports(containers: pd.DataFrame) -> dict[tuple[str, str], list[tuple[str, dict]]]:
    """(namespace, pod) -> [(container, port spec)] of the app containers (init containers serve no Service)."""
    out: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    for c in containers[~containers["init"].astype(bool)].itertuples(index=False):
        out.setdefault((c.namespace, c.pod), []).extend((c.container, p) for p in (c.ports or []))
    return out


def _resolve(target: Any, protocol: str, ports: list[tuple[str, dict]]) -> tuple[Any, str, str]:
    """(port it resolves to or None, declared by, note) for one pod."""
    same = [(c, p) for c, p in ports if (p.get("protocol") or "TCP").upper() == protocol]
    if isinstance(target, str) and not target.isdigit():
        named = [(c, p) for c, p in same if p.get("name") == target]
        if named:
            return named[0][1].get("containerPort"), named[0][0], f"named port {target}"
        return None, "", f"no container defines a {protocol} port named {target!r}"
    number = int(target)
    declared = [c for c, p in same if p.get("containerPort") == number]
    if declared:
        return number, ", ".join(declared), "declared"
    if same:
        others = ", ".join(str(p.get("containerPort")) for _, p in same)
        return number, "", f"not declared (containers declare {others})"
    return number, "", "no ports declared (containerPort is informational)"


def selected_pods(ports: pd.DataFrame, pods: pd.DataFrame, containers: pd.DataFrame) -> pd.DataFrame:
    """One row per (service port, pod its selector matches): readiness and what targetPort resolves to."""
    rows = []
    declared_ports = _container_ports(containers)
    by_namespace: dict[str, list] = {}
    for pod in pods.itertuples(index=False):
        by_namespace.setdefault(pod.namespace, []).append(pod)
    for port in ports.itertuples(index=False):
        if not port.selector:
            continue
        for pod in by_namespace.get(port.namespace, []):
            if not _selects(port.selector, pod.labels):
                continue
            resolves, declared, note = _resolve(port.target_port, port.protocol,
                                                declared_ports.get((pod.namespace, pod.name), []))
            rows.append({"subject": port.subject, "pod": pod.name, "pod_ip": pod.pod_ip, "node": pod.node,
                         "ready": _pod_ready(pod), "target_port": port.target_port, "resolves_to": resolves,
                         "declared_by": declared, "note": note})
    return pd.DataFrame(rows, columns=POD_PORT_COLUMNS)


def no_ready_endpoint(ports: pd.DataFrame, selected: pd.DataFrame, addresses: pd.DataFrame) -> list[Finding]:
    """SVC-001 per service port: a selector that matches no pod, or no ready endpoint address."""
    findings = []
    addresses_for = _address_index(addresses)
    pods_of = _Index(selected, {"subject": None})
    for port in ports.itertuples(index=False):
        mine = addresses_for(port)
        pods = pods_of.get(port.subject)
        if any(a["ready"] for a in mine):
            continue
        if port.selector and not pods:
            selector = ",".join(f"{k}={v}" for k, v in port.selector.items())
            detail = (f"the selector {selector} matches no pod in namespace {port.namespace}: "
                      f"`kubectl -n {port.namespace} get pods -l {selector}` is empty")
        elif port.selector:
            not_ready = [p for p in pods if not p["ready"]]
            unresolved = [p for p in pods if _missing(p["resolves_to"])]
            detail = (f"{len(pods)} pod(s) selected, {len(not_ready)} not ready, and the port has no ready endpoint "
                      f"({len(mine)} not-ready address(es))")
            if len(unresolved):
                detail += f"; {len(unresolved)} pod(s) do not define targetPort {port.target_port!r} (SVC-002)"
        else:
            detail = (f"the Service has no selector and its Endpoints list no ready address for port "
                      f"{port.port_name or port.port} (manual Endpoints missing or empty)")
        findings += about(port.subject, [finding("SVC-001", detail, {
            "selector": port.selector, "pods": pods, "addresses": mine})])
    return findings


def target_port_not_exposed(ports: pd.DataFrame, selected: pd.DataFrame) -> list[Finding]:
    """SVC-002 per service port: named targetPort undefined (error), numeric one undeclared next to others (warning)."""
    findings = []
    pods_of = _Index(selected, {"subject": None})
    for port in ports.itertuples(index=False):
        pods = pods_of.get(port.subject)
        if not pods:
            continue
        named = isinstance(port.target_port, str) and not str(port.target_port).isdigit()
        if named:
            lacking = [p for p in pods if _missing(p["resolves_to"])]
            if len(lacking) < len(pods):
                continue  # some pods define it: a named port may span pods whose ports differ
            detail = (f"targetPort {port.target_port!r} ({port.protocol}) is not a port name of any of the "
                      f"{len(pods)} selected pod(s) ({', '.join(p['pod'] for p in lacking)}): the port gets no "
                      "endpoint")
            findings += about(port.subject, [finding("SVC-002", detail, {"pods": lacking})])
            continue
        undeclared = [p for p in pods if str(p["note"]).startswith("not declared")]
        if len(undeclared) == len(pods):
            detail = (f"targetPort {port.target_port} ({port.protocol}) is declared by no selected container, which "
                      f"declare other ports ({undeclared[0]['note'][len('not declared '):].strip('()')}): "
                      "containerPort is informational, so this is a doubt, not a certainty — check what the app "
                      "listens on (`ss -ltn` in the pod)")
            findings += about(port.subject, [finding("SVC-002", detail, {"pods": undeclared}, severity="warning")])
    return findings


def proxy_pods(system_pods: pd.DataFrame) -> pd.DataFrame:
    """The kube-proxy pods of kube-system (``PROXY_POD_COLUMNS``)."""
    if system_pods.empty:
        return pd.DataFrame(columns=PROXY_POD_COLUMNS)
    mask = [((labels or {}).get("k8s-app") == "kube-proxy") or (kind == "DaemonSet" and owner == "kube-proxy")
            for labels, kind, owner in zip(system_pods["labels"], system_pods["owner_kind"], system_pods["owner_name"])]
    rows = [{"namespace": p.namespace, "name": p.name, "node": p.node, "status": p.status, "ready": p.ready,
             "restarts": p.restarts, "healthy": p.status == "Running" and _pod_ready(p)}
            for p in system_pods[mask].itertuples(index=False)]
    return pd.DataFrame(rows, columns=PROXY_POD_COLUMNS)


_KLOG_ERROR = re.compile(r"^[EF]\d{4} ")


def first_error(log: str | None) -> str | None:
    """The first klog error line (``E1120 14:01:58...``) of a run's log — the cause, later ones are its
    consequences — with its continuation lines, at most 300 characters."""
    lines = (log or "").splitlines()
    for at in range(len(lines)):
        if _KLOG_ERROR.match(lines[at]):
            end = at + 1
            while end < len(lines) and end < at + 4 and lines[end][:1] in (" ", "\t", ">"):
                end += 1
            return " ".join(line.strip() for line in lines[at:end])[:300]
    return None


def kube_proxy_not_ready(proxies: pd.DataFrame, target_node: str = "", logs: dict | None = None) -> list[Finding]:
    """SVC-005: each kube-proxy pod not Running/Ready (with its last run's first error); none on the target's node."""
    findings = []
    for pod in proxies[~proxies["healthy"].astype(bool)].itertuples(index=False):
        error = first_error((logs or {}).get(pod.name))
        findings += about(f"pod {pod.namespace}/{pod.name}", [finding(
            "SVC-005", f"kube-proxy pod {pod.name} on node {pod.node or '(unscheduled)'} is {pod.status} with "
            f"{pod.ready} containers ready ({pod.restarts} restarts): that node's Service rules are not kept in sync"
            + (f"; its last run logged: {error}" if error else ""), {"pod": pod._asdict(), "first_error": error})])
    if target_node and len(proxies) and not (proxies["node"] == target_node).any():
        findings += about(f"node {target_node}", [finding(
            "SVC-005", f"no kube-proxy pod runs on node {target_node} (they run on {', '.join(sorted(set(proxies['node'])))}):"
            " nothing programs its Service rules", {"pods": proxies})])
    return findings


# ------------------------------------------------------------------ the node's view

def _rule_index(view: pd.DataFrame):
    """``port -> the view's rows for its ClusterIP:port/protocol``."""
    index = _Index(view, {"cluster_ip": None, "port": None, "protocol": None})
    return lambda port: index.get(port.cluster_ip, port.port, str(port.protocol).lower())


def _backend(ip: Any, port: Any) -> str:
    """``ip:port`` with the port as a whole number (frames with gaps hold ports as floats)."""
    try:
        port = int(port)
    except (TypeError, ValueError):
        pass
    return f"{ip}:{port}"


def service_paths(ports: pd.DataFrame, view: pd.DataFrame, addresses: pd.DataFrame | None) -> pd.DataFrame:
    """One row per backend of each service port on the node, with its status (``PATH_COLUMNS``, ``PATH_STATUS``)."""
    rows = []

    def add(port, status, why, svc_chain=None, sep_chain=None, share=None, backend=""):
        rows.append({"subject": port.subject, "cluster_ip": port.cluster_ip, "port": port.port,
                     "protocol": port.protocol, "node_port": node_port, "svc_chain": svc_chain,
                     "sep_chain": sep_chain, "share": share, "backend": backend, "status": status, "why": why})

    rules_of = _rule_index(view)
    addresses_for = _address_index(addresses) if addresses is not None else None
    for port in ports.itertuples(index=False):
        if not port.cluster_ip or port.cluster_ip == "None":
            continue
        rules = rules_of(port)
        node_port = next((int(r["node_port"]) for r in rules if not _missing(r["node_port"])), None)
        mine = addresses_for(port) if addresses_for is not None else None
        ready = {_backend(a["ip"], a["port"]) for a in mine if a["ready"]} if mine is not None else set()
        known = {_backend(a["ip"], a["port"]) for a in mine} if mine is not None else set()
        portal = [r for r in rules if r["service_rule"]]
        if not portal:
            chain = next((r["svc_chain"] for r in rules if isinstance(r["svc_chain"], str)), None)
            add(port, "no-rule", "no KUBE-SERVICES rule" + (f" (chain {chain} exists, nothing jumps to it)"
                                                             if chain else ""), svc_chain=chain)
            continue
        if all(r["status"] == "no-endpoints" for r in portal):
            add(port, "rejected", "filter KUBE-SERVICES REJECT: has no endpoints"
                + (f" — but the API lists {len(ready)} ready" if ready else ""))
            continue
        chain = next(r["svc_chain"] for r in portal if isinstance(r["svc_chain"], str))
        seen = set()
        for rule in portal:
            if rule["status"] in ("no-backends", "no-endpoints"):
                continue
            backend = _backend(rule["backend_ip"], rule["backend_port"]) if rule["status"] == "ok" else ""
            seen.add(backend)
            if rule["status"] == "no-dnat":
                status, why = "no-dnat", f"{rule['sep_chain']} has no DNAT rule"
            elif mine is None:
                status, why = "unverified", "endpoints unknown"
            elif backend in ready:
                status, why = "ok", "ready endpoint"
            elif backend in known:
                status, why = "not-ready", "endpoint is not ready"
            else:
                status, why = "stale", "no endpoint has this address"
            add(port, status, why, chain, rule["sep_chain"], rule["share"], backend)
        local = chain.startswith("KUBE-SVL-")
        for backend in sorted(ready - seen):
            if not local:
                add(port, "missing", "ready endpoint, no KUBE-SEP", chain, backend=backend)
        if not seen and not (ready and not local):
            add(port, "no-backends", "KUBE-SVC chain without KUBE-SEP jumps", chain)
    return pd.DataFrame(rows, columns=PATH_COLUMNS)


def no_service_rule(ports: pd.DataFrame, paths: pd.DataFrame, target: str = "the node") -> list[Finding]:
    """SVC-003 per service port whose path is ``no-rule``."""
    findings = []
    for row in paths[paths["status"] == "no-rule"].itertuples(index=False):
        detail = (f"no KUBE-SERVICES rule for {row.cluster_ip}:{row.port}/{row.protocol.lower()} on {target}: "
                  f"traffic to the ClusterIP is not DNATed ({row.why})")
        findings += about(row.subject, [finding("SVC-003", detail, {"path": row._asdict()})])
    return findings


def stale_backends(paths: pd.DataFrame, target: str = "the node") -> list[Finding]:
    """SVC-004 per service port with a stale / not-ready / no-dnat / missing backend, or a REJECT despite ready endpoints."""
    findings = []
    bad = paths[paths["status"].isin(["stale", "not-ready", "no-dnat", "missing"])
                | ((paths["status"] == "rejected") & paths["why"].str.contains("but the API lists"))]
    for subject, rows in bad.groupby("subject", sort=False):
        parts = [f"{r.status} {r.backend or r.sep_chain or ''}".strip() + f" ({r.why})" for r in rows.itertuples()]
        detail = f"{target}'s DNAT backends differ from the endpoints: " + "; ".join(parts)
        findings += about(subject, [finding("SVC-004", detail, {"paths": paths[paths["subject"] == subject]})])
    return findings


def ipvs_differs(ports: pd.DataFrame, ipvs: pd.DataFrame, addresses: pd.DataFrame) -> list[Finding]:
    """SVC-006 per service port: no IPVS virtual server, or real servers (weight > 0) != ready endpoints."""
    findings = []
    addresses_for = _address_index(addresses)
    servers = _Index(ipvs, {"vip": None, "vport": None, "protocol": None})
    for port in ports.itertuples(index=False):
        if not port.cluster_ip or port.cluster_ip == "None":
            continue
        mine_ipvs = servers.get(port.cluster_ip, port.port, port.protocol)
        virtual = [r for r in mine_ipvs if r["kind"] == "virtual"]
        real = [r for r in mine_ipvs if r["kind"] == "real"]
        ready = {_backend(a["ip"], a["port"]) for a in addresses_for(port) if a["ready"]}
        if not virtual:
            findings += about(port.subject, [finding(
                "SVC-006", f"no IPVS virtual server {port.protocol} {port.cluster_ip}:{port.port} in ipvsadm -Ln",
                {"ready_endpoints": sorted(ready)})])
            continue
        serving = {_backend(r["real_ip"], r["real_port"]) for r in real if not _missing(r["weight"]) and r["weight"] > 0}
        if serving != ready:
            stale, missing = sorted(serving - ready), sorted(ready - serving)
            detail = (f"IPVS {port.protocol} {port.cluster_ip}:{port.port} real servers differ from the ready "
                      f"endpoints: " + "; ".join(part for part in (
                          f"stale {', '.join(stale)}" if stale else "", f"missing {', '.join(missing)}" if missing else "")
                          if part))
            findings += about(port.subject, [finding("SVC-006", detail, {"real_servers": real,
                                                                         "ready_endpoints": sorted(ready)})])
    return findings


def conntrack_entries(ports: pd.DataFrame, entries: pd.DataFrame, addresses: pd.DataFrame | None) -> pd.DataFrame:
    """conntrack entries to each service port with a verdict: current / stale backend / not translated / unverified."""
    rows = []
    flows = _Index(entries, {"dst": None, "dport": None, "protocol": None})
    addresses_for = _address_index(addresses) if addresses is not None else None
    for port in ports.itertuples(index=False):
        if entries.empty:
            break
        mine = flows.get(port.cluster_ip, port.port, str(port.protocol).lower())
        known = {_backend(a["ip"], a["port"]) for a in addresses_for(port)} if addresses_for is not None else None
        for e in (SimpleNamespace(**row) for row in mine):
            backend = _backend(e.reply_src, e.reply_sport)
            if e.reply_src == e.dst:
                verdict = "not translated"
            elif known is None:
                verdict = "unverified"
            else:
                verdict = "current" if backend in known else "stale backend"
            rows.append({"subject": port.subject, "protocol": e.protocol, "state": e.state, "src": e.src,
                         "sport": e.sport, "dst": e.dst, "dport": e.dport, "reply_src": e.reply_src,
                         "reply_sport": e.reply_sport, "verdict": verdict})
    return pd.DataFrame(rows, columns=CONNTRACK_COLUMNS)


def stale_conntrack(flows: pd.DataFrame) -> list[Finding]:
    """SVC-007 per service port with conntrack entries whose backend is no endpoint any more."""
    findings = []
    stale = flows[flows["verdict"] == "stale backend"]
    for subject, rows in stale.groupby("subject", sort=False):
        backends = sorted({f"{r.reply_src}:{r.reply_sport}" for r in rows.itertuples()})
        states = ", ".join(sorted({str(s) for s in rows["state"].dropna()})) or "no state"
        one = len(rows) == 1
        detail = (f"{len(rows)} conntrack entr{'y' if one else 'ies'} to {rows['dst'].iloc[0]}:"
                  f"{rows['dport'].iloc[0]} still point{'s' if one else ''} to {', '.join(backends)}, "
                  f"no endpoint any more ({states})")
        findings += about(subject, [finding("SVC-007", detail, {"entries": rows})])
    return findings


# ------------------------------------------------------------------ diagnose

def diagnose(*, ports: pd.DataFrame, selected: pd.DataFrame | None, addresses: pd.DataFrame | None,
             proxies: pd.DataFrame | None, view: pd.DataFrame, mode: str, ipvs: pd.DataFrame,
             flows: pd.DataFrame, target: str = "the node", target_node: str = "",
             proxy_logs: dict | None = None) -> list[Finding]:
    """Every SVC finding (None = that part of the API could not be read; the platform marks it NOT CHECKED)."""
    findings: list[Finding] = []
    if selected is not None and addresses is not None:
        findings += no_ready_endpoint(ports, selected, addresses)
    if selected is not None:
        findings += target_port_not_exposed(ports, selected)
    if proxies is not None:
        findings += kube_proxy_not_ready(proxies, target_node, proxy_logs)
    if mode == "iptables":
        paths = service_paths(ports, view, addresses)
        findings += no_service_rule(ports, paths, target)
        if addresses is not None:
            findings += stale_backends(paths, target)
    if mode == "ipvs" and addresses is not None:
        findings += ipvs_differs(ports, ipvs, addresses)
    findings += stale_conntrack(flows)
    return findings


def subjects(*, ports: pd.DataFrame, proxies: pd.DataFrame | None = None, **_: object) -> list[str]:
    """Every service port looked at, and every kube-proxy pod (each gets a verdict)."""
    looked_at = list(ports["subject"])
    if proxies is not None:
        looked_at += [f"pod {ns}/{name}" for ns, name in zip(proxies["namespace"], proxies["name"])]
    return looked_at


# ------------------------------------------------------------------ the diagram

#: height of one backend row of the diagram, pixels
ROW = 40


def path_diagram(paths: pd.DataFrame, *, title: str = "Service paths on the node") -> Svg:
    """ClusterIP:port → KUBE-SVC chain → each KUBE-SEP → backend, one block per service port, coloured by status."""
    blocks = [(subject, rows) for subject, rows in paths.groupby("subject", sort=False)] if len(paths) else []
    heights = [max(1, len(rows)) * ROW + 22 for _, rows in blocks]
    height = max(60, sum(heights) + 40)
    body = [text(10, 18, title, font_size=13, css="title")]
    y = 34
    for (subject, rows), h in zip(blocks, heights):
        first = rows.iloc[0]
        mid = y + (h - 22) / 2
        body.append(f"<g class='svc-path' data-subject='{_attr(subject)}'>")
        body.append(f"<rect x='10' y='{mid - 4}' width='190' height='30' rx='4' fill='#f1f3f5' stroke='#495057'/>")
        body.append(text(16, mid + 9, f"{first['cluster_ip']}:{first['port']}/{str(first['protocol']).lower()}",
                         css="clusterip"))
        body.append(text(16, mid + 21, subject.removeprefix("service "), font_size=9))
        chain = first["svc_chain"] if isinstance(first["svc_chain"], str) else None
        no_rule = (rows["status"] == "no-rule").any()
        colour = PATH_STATUS["no-rule"][0] if no_rule else "#495057"
        dash = " stroke-dasharray='4 3'" if no_rule else ""
        body.append(f"<line x1='200' y1='{mid + 11}' x2='240' y2='{mid + 11}' stroke='{colour}'{dash}/>")
        body.append(f"<rect x='240' y='{mid - 4}' width='200' height='30' rx='4' fill='#fff' stroke='{colour}'{dash} "
                    f"class='chain' data-status='{'no-rule' if no_rule else 'ok'}'/>")
        body.append(text(246, mid + 9, chain or "(no KUBE-SVC chain)", font_size=10))
        body.append(text(246, mid + 21, "no KUBE-SERVICES rule" if no_rule else "KUBE-SERVICES → chain", font_size=9))
        for index, row in enumerate(rows.itertuples(index=False)):
            by = y + index * ROW
            colour, meaning = PATH_STATUS.get(row.status, ("#333", row.status))
            if row.status == "no-rule":
                continue
            share = f" · {row.share:.0%}" if isinstance(row.share, float) and row.share == row.share else ""
            label = row.backend or row.sep_chain or row.status
            dash = " stroke-dasharray='4 3'" if row.status == "missing" else ""
            body.append(f"<line x1='440' y1='{mid + 11}' x2='480' y2='{by + 15}' stroke='{colour}'{dash}/>")
            body.append(f"<g class='backend' data-status='{_attr(row.status)}' data-backend='{_attr(label)}'>"
                        f"<rect x='480' y='{by - 2}' width='310' height='{ROW - 4}' rx='4' fill='{colour}' "
                        f"fill-opacity='0.12' stroke='{colour}'{dash}/>")
            body.append(text(486, by + 10, f"{label}{share}", font_size=10))
            body.append(text(486, by + 21, row.sep_chain if isinstance(row.sep_chain, str) else "(no KUBE-SEP chain)",
                             font_size=9, css="sep"))
            body.append(text(486, by + 32, f"{row.status}: {meaning}", font_size=9) + "</g>")
        body.append("</g>")
        y += h
    if not blocks:
        body.append(text(10, 44, "no service port to draw (see the tables above)"))
    return document(800, height, title, "each service port's ClusterIP, its KUBE-SVC chain and every backend "
                    "it DNATs to, coloured by whether the backend is a ready endpoint", body)


def _attr(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("'", "&#39;").replace("<", "&lt;")


# ------------------------------------------------------------------ gather

def _once(rb, evidence: str | None, what: str, reason: str, *, skipped: bool = False) -> None:
    """Mark ``evidence`` missing and show why, once per run (sections and the diagnosis both gather)."""
    if evidence:
        rb.missing_evidence.add(evidence)
    if not any(u.what == what and u.reason == reason for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=str(rb.parameters.get("target") or "target"), skipped=skipped)


def _known(rb, frame: pd.DataFrame, *evidence: str) -> pd.DataFrame | None:
    return None if set(evidence) & rb.missing_evidence else frame


def api_ports(rb) -> pd.DataFrame | None:
    """The service ports the API lists in scope, or None without a cluster source."""
    services = _known(rb, rb.services(), "services")
    if services is None:
        return None
    name, port = rb.parameters.get("service", ""), str(rb.parameters.get("port", "") or "")
    ports = service_ports(services, name, port)
    if ports.empty:
        where = f"namespace {rb.namespace}" if rb.namespace else "any namespace"
        _once(rb, IN_SCOPE, f"service {name or '(any)'} port {port or '(any)'}",
              f"no such Service port in {where} (check -p namespace / -p service / -p port: "
              f"`kubectl get svc {name} -o wide`)".replace("svc  -o", "svc -o"))
    return ports


def ports_in_scope(rb) -> pd.DataFrame:
    """The API's service ports, else (no cluster source) those the node's rules name."""
    ports = api_ports(rb)
    if ports is not None:
        return ports
    name, port = rb.parameters.get("service", ""), str(rb.parameters.get("port", "") or "")
    ports = ports_from_rules(node_view(rb), rb.namespace, name, port)
    if ports.empty and KUBE_PROXY_RULES.name not in rb.missing_evidence:
        _once(rb, IN_SCOPE, "service ports", "the node's kube-proxy rules name no service port in scope, and "
              "without a cluster source nothing else says which should exist")
    return ports


def addresses(rb) -> pd.DataFrame | None:
    """Endpoint addresses (EndpointSlices, else Endpoints), or None when the endpoints cannot be read."""
    endpoints = _known(rb, rb.endpoints(), "endpoints")
    if endpoints is None:
        return None
    slices = rb.objects("endpointslices", rb.namespace, required=False)
    return endpoint_addresses(endpoints, endpointslices_frame(slices) if slices else None)


def pods_selected(rb) -> pd.DataFrame | None:
    """Each selected pod per service port, or None without services/pods."""
    ports = api_ports(rb)
    pods = _known(rb, rb.pods(), "pods")
    if ports is None or pods is None:
        return None
    return selected_pods(ports, pods, rb.containers())


def kube_proxy_pods(rb) -> pd.DataFrame | None:
    """kube-system's kube-proxy pods, or None when they cannot be read (none at all: NOT CHECKED, said once)."""
    system = rb.pods("kube-system")
    if "pods" in rb.missing_evidence:
        return None
    proxies = proxy_pods(system)
    if proxies.empty:
        _once(rb, PROXY_PODS, "kube-proxy pods", "no pod labelled k8s-app=kube-proxy in kube-system: kube-proxy runs "
              "as a system service or is replaced (Cilium...); read its state on the node", skipped=True)
        return None
    return proxies


def kube_proxy_logs(rb, proxies: pd.DataFrame | None) -> dict[str, str | None]:
    """The previous run's log (last 50 lines) of each kube-proxy pod that is not healthy and restarted."""
    if proxies is None:
        return {}
    sick = proxies[~proxies["healthy"].astype(bool) & (proxies["restarts"] > 0)]
    return {p.name: rb.logs(p.name, "kube-proxy", previous=True, tail_lines=50, namespace=p.namespace)
            for p in sick.itertuples(index=False)}


def target_node(rb) -> str:
    """The node name when the target is ``node:NAME`` (else unknown: "")."""
    kind, _, rest = str(rb.parameters.get("target") or "").partition(":")
    return rest if kind == "node" else ""


#: every node evidence this runbook reads (all missing when the target cannot be opened)
NODE_EVIDENCE = (KUBE_PROXY_RULES.name, IPTABLES_MODE, IPVSADM.name, CONNTRACK_DEST.name)


def target_open(rb) -> bool:
    """Whether node commands can run on the target; when not, every node evidence is missing (said once)."""
    try:
        rb.target
    except K8srunError as exc:
        rb.missing_evidence.update(NODE_EVIDENCE)
        _once(rb, None, "node commands", str(exc))
        return False
    return True


def node_view(rb) -> pd.DataFrame:
    """``iptables-save -c`` on the target as the kube-proxy view (cached by the session)."""
    if not target_open(rb):
        return pd.DataFrame(columns=kube_proxy.VIEW_COLUMNS)
    return rb.node(KUBE_PROXY_RULES)


def proxy_mode(rb) -> str:
    """iptables / ipvs / none / unknown (iptables-save unavailable); marks the other mode's evidence skipped."""
    node_view(rb)
    if KUBE_PROXY_RULES.name in rb.missing_evidence:
        rb.missing_evidence.update({IPTABLES_MODE, IPVSADM.name})
        return "unknown"
    mode = kube_proxy.proxy_mode(rb.node_result(KUBE_PROXY_RULES).stdout)
    if mode == "none":
        ipvs = rb.node(IPVSADM)
        if IPVSADM.name in rb.missing_evidence:
            rb.missing_evidence.add(IPTABLES_MODE)
            return "unknown"
        if (ipvs["kind"] == "virtual").any():
            mode = "ipvs"
    if mode == "none":
        _once(rb, IPTABLES_MODE, "kube-proxy rules", "no kube-proxy chain (KUBE-SERVICES) in iptables-save and no "
              "IPVS virtual server: not a node, kube-proxy never synced, or nftables mode / a kube-proxy "
              "replacement (not read here)")
        rb.missing_evidence.add(IPVSADM.name)
    elif mode == "ipvs":  # the other mode's code does not apply: looked at, not missing
        _once(rb, None, "kube-proxy iptables rules", "IPVS mode: the services are IPVS virtual servers (SVC-006), "
              "SVC-003/004 do not apply", skipped=True)
    else:
        _once(rb, None, "IPVS virtual servers", "kube-proxy runs in iptables mode here: no IPVS to read, "
              "SVC-006 does not apply", skipped=True)
    return mode


def ipvs_servers(rb) -> pd.DataFrame:
    """``ipvsadm -Ln`` on the target when it runs IPVS (else empty)."""
    if proxy_mode(rb) != "ipvs":
        return pd.DataFrame(columns=list(IPVSADM.columns))
    return rb.node(IPVSADM)


def conntrack_flows(rb) -> pd.DataFrame:
    """``conntrack -L -d CLUSTER_IP`` per ClusterIP in scope, joined with the endpoints (``CONNTRACK_COLUMNS``)."""
    ports = ports_in_scope(rb)
    ips = [ip for ip in dict.fromkeys(ports["cluster_ip"]) if ip and ip != "None"]
    if len(ips) > MAX_CONNTRACK_IPS:
        _once(rb, None, "conntrack", f"{len(ips)} ClusterIPs in scope: only the first {MAX_CONNTRACK_IPS} are read "
              "(name a service with -p service)")
    if not target_open(rb):
        return pd.DataFrame(columns=CONNTRACK_COLUMNS)
    frames = [rb.node(CONNTRACK_DEST, dest=params.ip_address("dest", ip)) for ip in ips[:MAX_CONNTRACK_IPS]]
    frames = [f for f in frames if len(f)]
    entries = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=conntrack_parser.COLUMNS)
    if not ips:
        _once(rb, CONNTRACK_DEST.name, "conntrack", "no ClusterIP in scope to look up")
    return conntrack_entries(ports, entries, addresses(rb) if api_ports(rb) is not None else None)


def paths(rb) -> pd.DataFrame:
    """The service paths on the node (``service_paths``), empty unless the node runs iptables mode."""
    if proxy_mode(rb) != "iptables":
        return pd.DataFrame(columns=PATH_COLUMNS)
    return service_paths(ports_in_scope(rb), node_view(rb), addresses(rb) if api_ports(rb) is not None else None)


class ManualCommands(str):
    """Command lines a reader can type, shown like the session shows node commands (``$ ...`` in a <pre>)."""

    def _repr_html_(self) -> str:
        import html

        return "".join(f"<pre class='k8srun-command'>$ {html.escape(line)}</pre>" for line in self.splitlines())


def manual_grep(rb, ports: pd.DataFrame, limit: int = 5) -> ManualCommands:
    """``iptables-save | grep -F NS/NAME`` per Service in scope (at most ``limit``), where the target is."""
    spec = str(rb.parameters.get("target") or "local")
    names = list(dict.fromkeys(f"{ns}/{name}" for ns, name in zip(ports["namespace"], ports["service"])))[:limit]
    return ManualCommands("\n".join(manual_command(("iptables-save",), spec) + " | grep -F -- " + shlex.quote(name)
                                    for name in names))


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    cluster = api_ports(rb) is not None
    proxies = kube_proxy_pods(rb)
    return {"ports": ports_in_scope(rb), "selected": pods_selected(rb),
            "addresses": addresses(rb) if cluster else None, "proxies": proxies,
            "proxy_logs": kube_proxy_logs(rb, proxies),
            "view": node_view(rb), "mode": proxy_mode(rb), "ipvs": ipvs_servers(rb), "flows": conntrack_flows(rb),
            "target": str(rb.parameters.get("target") or "the node"), "target_node": target_node(rb)}


__all__ = ["RUNBOOK", "REQUIRES", "PARTIAL", "gather", "diagnose", "subjects", "service_ports", "selected_pods",
           "endpoint_addresses", "proxy_pods", "service_paths", "conntrack_entries", "path_diagram"]
