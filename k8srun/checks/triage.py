"""triage: cheap cluster-wide checks that rank suspects and name the runbook to open next (TRIAGE-001).

Suspects, each one TRIAGE-001 finding (severity overridden per suspect).
Each suspect has a *kind* (:data:`SUSPECT_KINDS`); the runbook to open next is
the registered runbook that declares that kind in its ``triage`` (see
:func:`k8srun.registry.route`), with the candidate parameters it declares.
When no registered runbook takes a kind, the suspect names none and says
which ``kubectl describe`` to run instead.

==========================  ========  ==========================================
suspect                     severity  kind (candidate parameters)
==========================  ========  ==========================================
node not Ready (6 or more  critical  node-not-ready (node)
of a reason: one suspect)
Service, no ready endpoint  critical  service-without-endpoints (namespace, service, port);
                                      cluster-dns-down for kube-dns (dns_service)
pods not Running, grouped   error     pods-pending / pods-crashing (namespace, pod); kube-system
by (namespace, status)      critical  components: dns-pods, kube-proxy-pods, cni-pods,
                            if a      control-plane-pods. A Service without ready endpoints
                            Service   whose pods are all unhealthy is folded into its pods'
                            is down   suspect (one suspect per cause)
Warning events by reason    warning   by reason (FailedScheduling -> pods-pending, BackOff ->
on objects not already                pods-crashing, FailedCreatePodSandBox -> pod-sandbox-failed,
suspected (nor pods on a              Node events -> node-not-ready)
NotReady node), seen in
the last hour
==========================  ========  ==========================================

``suspects(...)`` returns the ranked DataFrame: rank, severity, what, object,
reason, count, runbook, parameters (dict) — highest severity first, then
kube-system before other namespaces, then by count.

``warnings_over_time(events)`` returns: bucket (10-minute start, UTC), reason,
events (sum of event counts), objects (distinct involved objects).

``timeline_events(events)`` returns Warning events for a chart, grouped by
(reason, 10 minutes) when there are more than 500; ``newest_warnings`` the
newest 200 (a report of a 300,000-event cluster stays small).

Joins are by index, never by scanning: endpoints are grouped by (namespace,
service) once; a Service's selector finds its pods through a label index of
its namespace (:class:`LabelIndex`, built for a namespace when first asked);
suspected objects are a set the events are checked against.

``services_without_endpoints(services, endpoints)`` returns: namespace, name,
type, cluster_ip, ports, selector, ready_endpoints (0), not_ready_endpoints,
not_ready_pods.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from .. import params, registry
from ..model import Finding, Severity, finding
from ..registry import CLUSTER, TIMEOUT, Parameter, Runbook
from . import event_rows

RUNBOOK = Runbook(
    name="triage",
    description="Where to start: not-Running pods, NotReady nodes, Warning events, Services without endpoints; "
                "names the runbook to open next",
    scenario="triage",
    parameters=(*CLUSTER,
                Parameter("namespace", "", "empty means all namespaces",
                          lambda n, v: params.dns1123_label(n, v, allow_empty=True)),
                TIMEOUT),
    namespace_default="all",
)

#: triage ranks what it has: each kind of suspect needs only its own evidence (a plain
#: ``kubectl cluster-info dump`` has no Endpoints: Service suspects are then not looked for)
REQUIRES: dict[str, list[str]] = {"TRIAGE-001": []}
PARTIAL: dict[str, list[str]] = {"TRIAGE-001": ["pods", "nodes", "events", "services", "endpoints"]}

#: every kind of suspect triage raises; runbooks route them with ``Runbook(triage=(kind, ...))``
SUSPECT_KINDS = ("node-not-ready", "service-without-endpoints", "cluster-dns-down", "pods-pending",
                 "pods-crashing", "dns-pods", "kube-proxy-pods", "cni-pods", "control-plane-pods",
                 "pod-sandbox-failed")

#: Warning events older than this (relative to ``now``) are history, not suspects
RECENT = dt.timedelta(hours=1)
SERVICE_GAP_COLUMNS = ["namespace", "name", "type", "cluster_ip", "ports", "selector", "ready_endpoints",
                       "not_ready_endpoints", "not_ready_pods"]
SUSPECT_COLUMNS = ["rank", "severity", "what", "object", "reason", "count", "runbook", "parameters"]
HEALTHY_STATUSES = {"Running", "Completed", "Succeeded"}
PENDING_STATUSES = {"Pending", "ContainerCreating", "ErrImagePull", "ImagePullBackOff",
                    "InvalidImageName", "ErrImageNeverPull", "PodInitializing"}
#: kube-system pod name prefix -> the suspect kind of that component
SYSTEM_COMPONENTS = {
    "coredns": "dns-pods", "kube-dns": "dns-pods", "kube-proxy": "kube-proxy-pods",
    "cilium": "cni-pods", "flannel": "cni-pods", "kube-flannel": "cni-pods",
    "calico": "cni-pods", "weave": "cni-pods",
    "etcd": "control-plane-pods", "kube-apiserver": "control-plane-pods",
}
#: Warning event reason -> suspect kind, for events on Pods
EVENT_KINDS = {
    "FailedScheduling": "pods-pending", "FailedMount": "pods-pending", "FailedAttachVolume": "pods-pending",
    "ErrImagePull": "pods-pending", "BackOff": "pods-crashing", "Unhealthy": "pods-crashing",
    "Failed": "pods-crashing", "FailedCreatePodSandBox": "pod-sandbox-failed", "NodeNotReady": "node-not-ready",
}
_CATEGORY_ORDER = {"node": 0, "service": 1, "system-pods": 2, "pods": 3, "events": 4}


def next_step(kind: str, candidates: dict, instead: str) -> tuple[str, dict, str]:
    """(runbook, parameters, advice) for a suspect of ``kind``: the registered runbook that takes it.

    ``instead`` is the command to run when no registered runbook takes the kind.
    """
    runbook = registry.route(kind)
    if runbook is None:
        return "", {}, f"no runbook covers it yet: {instead}"
    parameters = registry.routed_parameters(runbook, candidates)
    return runbook.name, parameters, f"open {runbook.name}" + "".join(f" {k}={v}" for k, v in parameters.items() if v)


def _suspect(category: str, severity: str, what: str, obj: str, reason: str, count: int,
             runbook: str, parameters: dict, detail: str, evidence: dict) -> dict:
    return {"category": category, "severity": severity, "what": what, "object": obj, "reason": reason,
            "count": int(count), "runbook": runbook, "parameters": parameters, "detail": detail,
            "evidence": evidence}


# ---------------------------------------------------------------- nodes

#: NotReady nodes of one (status, reason) beyond this are one suspect naming the first few and the count
NODE_GROUP_MIN = 6
#: what a node suspect's evidence shows of each node
NODE_EVIDENCE = ["name", "ready", "ready_reason", "ready_message", "ready_since", "unschedulable", "taints"]


def node_suspects(nodes: pd.DataFrame) -> list[dict]:
    """Nodes whose Ready condition is not True; many with the same (status, reason) are one suspect."""
    out = []
    bad = nodes[nodes["ready"] != "True"]
    groups = bad.groupby([bad["ready"], bad["ready_reason"].fillna("")], sort=False) if not bad.empty else []
    for (ready, reason), group in groups:
        if len(group) >= NODE_GROUP_MIN:
            names = group["name"].tolist()
            runbook, parameters, advice = next_step("node-not-ready", {"node": names[0]},
                                                    f"kubectl describe node {names[0]}")
            detail = (f"{len(names)} nodes are NotReady (Ready={ready}, {reason or 'no reason'}): "
                      f"{', '.join(names[:3])} and {len(names) - 3} more: {advice}")
            rows = group[NODE_EVIDENCE]
            out.append(_suspect("node", "critical", "nodes NotReady", f"nodes/({len(names)} nodes)",
                                reason or f"Ready={ready}", len(names), runbook, parameters, detail,
                                {"nodes": rows.head(5), "node_count": len(names)}))
            continue
        for _, node in group.iterrows():
            since = "" if pd.isna(node["ready_since"]) else f" since {node['ready_since'].isoformat()}"
            runbook, parameters, advice = next_step("node-not-ready", {"node": node["name"]},
                                                    f"kubectl describe node {node['name']}")
            detail = (f"node {node['name']} is NotReady (Ready={node['ready']}, "
                      f"{node['ready_reason'] or 'no reason'}{since}): {advice}")
            rows = node[NODE_EVIDENCE]
            out.append(_suspect("node", "critical", "node NotReady", f"node/{node['name']}",
                                node["ready_reason"] or f"Ready={node['ready']}", 1, runbook,
                                parameters, detail, {"node": rows}))
    return out


# ------------------------------------------------------------- services

def services_without_endpoints(services: pd.DataFrame, endpoints: pd.DataFrame) -> pd.DataFrame:
    """Services with a selector (not ExternalName) and no ready endpoint address.

    Endpoints are joined by (namespace, service) once (a group-by), never
    filtered per Service.
    """
    has_selector = pd.Series([bool(sel) for sel in services["selector"]], index=services.index, dtype=bool)
    wanted = services[has_selector & (services["type"] != "ExternalName")]
    if wanted.empty:
        return pd.DataFrame(columns=SERVICE_GAP_COLUMNS)
    ready_ips: dict[tuple[str, str], int] = {}
    all_ips: dict[tuple[str, str], int] = {}
    targets: dict[tuple[str, str], list[str]] = {}
    if not endpoints.empty:
        by_service = endpoints.groupby(["namespace", "service"], sort=False)
        all_ips = by_service["ip"].nunique().to_dict()
        ready = endpoints[endpoints["ready"].astype(bool)]
        ready_ips = ready.groupby(["namespace", "service"], sort=False)["ip"].nunique().to_dict() if not ready.empty else {}
    rows = []
    for ns, name, type_, ip, ports, selector in zip(wanted["namespace"], wanted["name"], wanted["type"],
                                                    wanted["cluster_ip"], wanted["ports"], wanted["selector"]):
        if ready_ips.get((ns, name)):
            continue
        rows.append({"namespace": ns, "name": name, "type": type_, "cluster_ip": ip, "ports": ports,
                     "selector": selector, "ready_endpoints": 0, "not_ready_endpoints": int(all_ips.get((ns, name), 0)),
                     "not_ready_pods": None})
    gaps = pd.DataFrame(rows, columns=SERVICE_GAP_COLUMNS)
    if not gaps.empty:  # only the Services without a ready address: their endpoints' pods
        keys = set(zip(gaps["namespace"], gaps["name"]))
        mine = endpoints[pd.Series([k in keys for k in zip(endpoints["namespace"], endpoints["service"])],
                                   index=endpoints.index, dtype=bool)]
        for (ns, name), names in mine.groupby(["namespace", "service"], sort=False)["target_name"]:
            targets[(ns, name)] = sorted(set(names) - {""})
        gaps["not_ready_pods"] = [targets.get(k, []) for k in zip(gaps["namespace"], gaps["name"])]
    return gaps


class LabelIndex:
    """Pods by (label, value), one namespace at a time, built when first asked: selector -> pods by index."""

    def __init__(self, pods: pd.DataFrame | None):
        self.pods = pods
        self._by_namespace: dict[str, dict[tuple[str, str], list[int]]] = {}
        self._positions: dict[str, list[int]] | None = None

    def _namespace(self, namespace: str) -> dict[tuple[str, str], list[int]]:
        if namespace not in self._by_namespace:
            if self._positions is None:
                self._positions = {}
                for position, ns in enumerate(self.pods["namespace"]):
                    self._positions.setdefault(ns, []).append(position)
            labels = self.pods["labels"].to_numpy()
            index: dict[tuple[str, str], list[int]] = {}
            for position in self._positions.get(namespace, []):
                for item in (labels[position] or {}).items():
                    index.setdefault(item, []).append(position)
            self._by_namespace[namespace] = index
        return self._by_namespace[namespace]

    def select(self, namespace: str, selector: dict) -> pd.DataFrame:
        """Pods of ``namespace`` whose labels match every ``selector`` entry (in frame order)."""
        if self.pods is None or self.pods.empty or not selector:
            return pd.DataFrame(columns=["name", "status"]) if self.pods is None else self.pods.iloc[0:0]
        index = self._namespace(namespace)
        chosen: set[int] | None = None
        for item in selector.items():
            found = set(index.get(item, ()))
            chosen = found if chosen is None else chosen & found
            if not chosen:
                return self.pods.iloc[0:0]
        return self.pods.iloc[sorted(chosen or ())]


def _selected_pods(pods: pd.DataFrame | None, namespace: str, selector: dict,
                   index: LabelIndex | None = None) -> pd.DataFrame:
    if pods is None or pods.empty:
        return pd.DataFrame(columns=["name", "status"])
    return (index or LabelIndex(pods)).select(namespace, selector)


def services_down_because_of_pods(services: pd.DataFrame, endpoints: pd.DataFrame,
                                  pods: pd.DataFrame | None, *, gaps: pd.DataFrame | None = None,
                                  index: LabelIndex | None = None) -> dict[tuple[str, str], list[str]]:
    """(namespace, pod) -> Services without ready endpoints whose selected pods are all unhealthy."""
    down: dict[tuple[str, str], list[str]] = {}
    if pods is None:
        return down
    gaps = services_without_endpoints(services, endpoints) if gaps is None else gaps
    if gaps.empty:
        return down
    index = index or LabelIndex(pods)
    unhealthy = unhealthy_pods(pods)
    bad = set(zip(unhealthy["namespace"], unhealthy["name"]))
    for ns, name, selector in zip(gaps["namespace"], gaps["name"], gaps["selector"]):
        selected = index.select(ns, selector)
        keys = [(ns, n) for n in selected["name"]]
        if keys and all(k in bad for k in keys):
            for k in keys:
                down.setdefault(k, []).append(f"{ns}/{name}")
    return down


def service_suspects(services: pd.DataFrame, endpoints: pd.DataFrame, pods: pd.DataFrame | None = None, *,
                     gaps: pd.DataFrame | None = None, index: LabelIndex | None = None,
                     down: dict[tuple[str, str], list[str]] | None = None) -> list[dict]:
    """Services with a selector whose Endpoints have no ready address, unless their pods are the suspects.

    A Service whose selected pods are all unhealthy is reported with those pods
    (:func:`pod_suspects` raises them to critical); the rest point to
    service-routing (or dns for kube-dns).
    """
    gaps = services_without_endpoints(services, endpoints) if gaps is None else gaps
    index = index or (LabelIndex(pods) if pods is not None else None)
    if down is None:
        down = services_down_because_of_pods(services, endpoints, pods, gaps=gaps, index=index)
    covered = {svc for names in down.values() for svc in names}
    out = []
    for _, svc in gaps.iterrows():
        selector = ",".join(f"{k}={v}" for k, v in svc["selector"].items())
        key = f"{svc['namespace']}/{svc['name']}"
        if key in covered:
            continue
        selected = _selected_pods(pods, svc["namespace"], svc["selector"], index)
        instead = f"kubectl describe service -n {svc['namespace']} {svc['name']}"
        if key in ("kube-system/kube-dns", "kube-system/coredns"):
            runbook, parameters, advice = next_step("cluster-dns-down", {"dns_service": key}, instead)
        else:
            ports = svc["ports"] or []
            # one port: name it; several: leave it empty (the runbook then looks at every port)
            port = ports[0].get("name") or ports[0].get("port") if len(ports) == 1 else None
            runbook, parameters, advice = next_step(
                "service-without-endpoints", {"namespace": svc["namespace"], "service": svc["name"], "port": port},
                instead)
        behind = (", ".join(f"{n} {st}" for n, st in zip(selected["name"][:3], selected["status"][:3]))
                  if not selected.empty else "no pod matches")
        detail = (f"Service {key} has no ready endpoint (selector {selector}: {behind}; "
                  f"{svc['not_ready_endpoints']} not-ready address(es)): {advice}")
        evidence = {"service": svc[["namespace", "name", "type", "cluster_ip", "selector", "ready_endpoints",
                                    "not_ready_endpoints", "not_ready_pods"]]}
        out.append(_suspect("service", "critical", "Service without ready endpoints", f"service/{key}",
                            "no ready endpoints", max(svc["not_ready_endpoints"], 1), runbook, parameters,
                            detail, evidence))
    return out


# ----------------------------------------------------------------- pods

def _pod_kind(namespace: str, name: str, status: str) -> str:
    if namespace == "kube-system":
        for prefix, kind in SYSTEM_COMPONENTS.items():
            if name.startswith(prefix):
                return kind
    waiting_for = status.removeprefix("Init:")  # Init:ErrImagePull is a pull problem too
    return "pods-pending" if waiting_for in PENDING_STATUSES else "pods-crashing"


def _pod_candidates(kind: str, namespace: str, pods: list[str]) -> dict:
    """What triage knows that a runbook for these pods may take as parameters."""
    if kind == "dns-pods":
        return {"dns_service": "kube-system/kube-dns"}
    if kind in ("kube-proxy-pods", "cni-pods"):
        return {}  # every Service / the node network is affected, not the component's own namespace
    return {"namespace": namespace, "pod": pods[0] if len(pods) == 1 else ""}


def unhealthy_pods(pods: pd.DataFrame) -> pd.DataFrame:
    """Pods not Running (Completed/Succeeded excluded), or Running but not Ready."""
    not_running = ~pods["status"].isin(HEALTHY_STATUSES) & (pods["phase"] != "Succeeded")
    not_ready = (pods["status"] == "Running") & (pods["ready_count"] < pods["container_count"])
    return pods[not_running | not_ready]


def pod_suspects(pods: pd.DataFrame, services_down: dict[tuple[str, str], list[str]] | None = None, *,
                 bad: pd.DataFrame | None = None) -> list[dict]:
    """Unhealthy pods grouped by (namespace, status, runbook); critical when a Service is down because of them."""
    bad = (unhealthy_pods(pods) if bad is None else bad).copy()
    if bad.empty:
        return []
    bad["group_status"] = [("Running (not Ready)" if s == "Running" else s) for s in bad["status"]]
    bad["kind"] = [_pod_kind(ns, n, s) for ns, n, s in zip(bad["namespace"], bad["name"], bad["status"])]
    out = []
    for (namespace, status, kind), group in bad.groupby(["namespace", "group_status", "kind"], sort=False):
        names = group["name"].tolist()
        system = namespace == "kube-system"
        runbook, parameters, advice = next_step(kind, _pod_candidates(kind, namespace, names),
                                                f"kubectl describe pod -n {namespace} {names[0]}")
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        restarts = int(group["restarts"].sum())
        detail = (f"{len(names)} pod(s) in {namespace} are {status}: {shown}"
                  f"{f' ({restarts} restarts)' if restarts else ''}: {advice}")
        evidence = {"pods": group[["namespace", "name", "status", "ready", "restarts", "node"]].head(5)}
        services = sorted({svc for n in names for svc in (services_down or {}).get((namespace, n), [])})
        if services:
            detail += f"; Service {', '.join(services)} has no ready endpoint because of them"
            evidence["services_without_endpoints"] = services
        out.append(_suspect("system-pods" if system else "pods", "critical" if services else "error",
                            "kube-system pods unhealthy" if system else "pods not Running",
                            f"{namespace}/{names[0]}" if len(names) == 1 else f"{namespace}/({len(names)} pods)",
                            status, len(names), runbook, parameters, detail, evidence))
    return out


# --------------------------------------------------------------- events

def warnings_over_time(events: pd.DataFrame, bucket: str = "10min") -> pd.DataFrame:
    """Warning events per reason and time bucket (by last_seen): bucket, reason, events, objects."""
    columns = ["bucket", "reason", "events", "objects"]
    warnings = events[(events["type"] == "Warning") & events["last_seen"].notna()]
    if warnings.empty:
        return pd.DataFrame(columns=columns)
    table = (warnings.assign(bucket=warnings["last_seen"].dt.floor(bucket))
             .groupby(["bucket", "reason"]).agg(events=("count", "sum"), objects=("name", "nunique"))
             .reset_index())
    return table.sort_values(["bucket", "events"], ascending=[True, False])[columns].reset_index(drop=True)


def timeline_events(events: pd.DataFrame, limit: int = 500, bucket: str = "10min") -> pd.DataFrame:
    """Warning events for a timeline chart: as they are when at most ``limit``, else one row per
    (reason, ``bucket``) with the counts summed (first/last seen of the bucket, objects counted in
    ``name``), so a chart of 300,000 events stays a few hundred marks with the same totals."""
    warnings = events[events["type"] == "Warning"] if not events.empty else events
    if len(warnings) <= limit:
        return warnings
    dated = warnings[warnings["last_seen"].notna()]
    grouped = (dated.assign(bucket=dated["last_seen"].dt.floor(bucket))
               .groupby(["reason", "bucket"], sort=False)
               .agg(first_seen=("first_seen", "min"), last_seen=("last_seen", "max"), count=("count", "sum"),
                    objects=("name", "nunique"), message=("message", "last"), namespace=("namespace", "first"))
               .reset_index())
    grouped["type"] = "Warning"
    grouped["kind"] = ""
    grouped["name"] = [f"{n} object(s)" for n in grouped["objects"]]
    grouped["source"] = ""
    undated = warnings[warnings["last_seen"].isna()]
    return pd.concat([grouped[list(events.columns)], undated], ignore_index=True)


def newest_warnings(events: pd.DataFrame, limit: int = 200) -> pd.DataFrame:
    """The newest ``limit`` Warning events (oldest first, like the events frame)."""
    warnings = events[events["type"] == "Warning"] if not events.empty else events
    return warnings.tail(limit)


def event_suspects(events: pd.DataFrame, now: dt.datetime | None, known_objects: set[tuple[str, str, str]]) -> list[dict]:
    """Recent Warning events on objects no other suspect already covers, grouped by (namespace, reason, kind)."""
    warnings = events[events["type"] == "Warning"]
    if now is not None:
        since = pd.Timestamp(now) - RECENT
        since = since.tz_localize("UTC") if since.tzinfo is None else since  # a naive now is UTC
        # an event without any timestamp cannot be dated: kept (and said), never dropped as old
        warnings = warnings[(warnings["last_seen"] >= since) | warnings["last_seen"].isna()]
    keys = list(zip(warnings["namespace"], warnings["kind"], warnings["name"]))
    warnings = warnings[pd.Series([key not in known_objects for key in keys], index=warnings.index, dtype=bool)]
    out = []
    for (namespace, reason, kind), group in warnings.groupby(["namespace", "reason", "kind"], sort=False):
        names = sorted(set(group["name"]))
        instead = f"kubectl describe {kind.lower()} {names[0]}" + ("" if kind == "Node" else f" -n {namespace}")
        if kind == "Node":
            runbook, parameters, advice = next_step("node-not-ready", {"node": names[0]}, instead)
        elif kind == "Pod":
            suspect_kind = EVENT_KINDS.get(reason, "pods-crashing")
            if reason == "Failed" and group["message"].str.contains("pull", case=False).any():
                suspect_kind = "pods-pending"
            runbook, parameters, advice = next_step(suspect_kind, _pod_candidates(suspect_kind, namespace, names),
                                                    instead)
        else:
            runbook, parameters, advice = "", {}, f"no runbook covers it: {instead}"
        total = int(group["count"].sum())
        where = f"{kind} {namespace + '/' if namespace and kind != 'Node' else ''}{', '.join(names[:3])}"
        undated = int(group["last_seen"].isna().sum())
        when = f" ({undated} without a timestamp)" if undated else ""
        detail = (f"{total} Warning {reason} event(s){when} on {where}: \"{group.iloc[-1]['message'][:160]}\": "
                  f"{advice}")
        out.append(_suspect("events", "warning", f"Warning events {reason}", where, reason, total,
                            runbook, parameters, detail, {"events": event_rows(group, 3)}))
    return out


# ----------------------------------------------------------- ranking

def _all_suspects(pods, nodes, events, services, endpoints, now) -> list[dict]:
    found: list[dict] = []
    if nodes is not None:
        found += node_suspects(nodes)
    services_down = {}
    if services is not None and endpoints is not None:
        gaps = services_without_endpoints(services, endpoints)
        index = LabelIndex(pods) if pods is not None else None
        services_down = services_down_because_of_pods(services, endpoints, pods, gaps=gaps, index=index)
        found += service_suspects(services, endpoints, pods, gaps=gaps, index=index, down=services_down)
    known: set[tuple[str, str, str]] = set()
    if pods is not None:
        bad = unhealthy_pods(pods)
        found += pod_suspects(pods, services_down, bad=bad)
        known |= {(ns, "Pod", n) for ns, n in zip(bad["namespace"], bad["name"])}
    if nodes is not None:
        bad_nodes = set(nodes[nodes["ready"] != "True"]["name"])
        known |= {(ns, "Node", n) for n in bad_nodes for ns in ("", "default")}
        if pods is not None:  # events of pods on a NotReady node are symptoms of that node
            stranded = pods[pods["node"].isin(bad_nodes)]
            known |= {(ns, "Pod", n) for ns, n in zip(stranded["namespace"], stranded["name"])}
    if events is not None:
        found += event_suspects(events, now, known)
    found.sort(key=lambda s: (-int(Severity.parse(s["severity"])), _CATEGORY_ORDER[s["category"]], -s["count"]))
    return found


def suspects(*, pods: pd.DataFrame | None, nodes: pd.DataFrame | None, events: pd.DataFrame | None,
             services: pd.DataFrame | None, endpoints: pd.DataFrame | None,
             now: dt.datetime | None = None) -> pd.DataFrame:
    """The ranked suspects table (schema in the module docstring); None frames are skipped."""
    rows = [{"rank": i, **{k: s[k] for k in SUSPECT_COLUMNS[1:]}}
            for i, s in enumerate(_all_suspects(pods, nodes, events, services, endpoints, now), 1)]
    return pd.DataFrame(rows, columns=SUSPECT_COLUMNS)


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb``; namespace "" = all."""
    scope = rb.namespace or None
    gathered = {"pods": rb.pods(scope), "nodes": rb.nodes(), "events": rb.events(scope),
                "services": rb.services(scope), "endpoints": rb.endpoints(scope)}
    # evidence that could not be had is None: its suspects are not looked for (never "none found")
    return {**{name: None if name in rb.missing_evidence else frame for name, frame in gathered.items()},
            "now": rb.source.now()}


def diagnose(*, pods: pd.DataFrame | None, nodes: pd.DataFrame | None, events: pd.DataFrame | None,
             services: pd.DataFrame | None, endpoints: pd.DataFrame | None,
             now: dt.datetime | None = None) -> list[Finding]:
    """One TRIAGE-001 finding per suspect, in rank order; a healthy cluster gives none."""
    findings = []
    for rank, suspect in enumerate(_all_suspects(pods, nodes, events, services, endpoints, now), 1):
        evidence = {"rank": rank, "runbook": suspect["runbook"], "parameters": suspect["parameters"],
                    **suspect["evidence"]}
        findings.append(finding("TRIAGE-001", suspect["detail"], evidence, severity=suspect["severity"]))
    return findings
