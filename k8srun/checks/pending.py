"""pod-pending: why a pod stays Pending / ContainerCreating (PEND-001..006).

Two sources of truth are combined, like an SRE reading ``kubectl describe``:
the scheduler's own words (the FailedScheduling event / PodScheduled
condition message, parsed by :func:`scheduler_reasons`) and the state
computed from the objects (requests vs. free allocatable, taints vs.
tolerations, nodeSelector/affinity vs. labels, PVC phase, image pull state).

Candidate nodes for PEND-001..003 are the Ready, schedulable (not cordoned)
nodes. When none of them takes workloads — all NotReady, cordoned, or
control-plane nodes with their NoSchedule taint — PEND-006 is the finding
(adding a control-plane toleration is not the fix for lost workers), the
other scheduling checks are skipped, and the node-lifecycle taints
(``node.kubernetes.io/not-ready``, ``unreachable``, ``unschedulable``) are
never reported as PEND-002.

``node_fit(pod, nodes, node_usage)`` returns one row per candidate node:
node, fits_resources, short (list of "cpu"/"memory"/"pods"), untolerated
(list of taint texts), matches_selector (bool), unmatched (list of
requirement texts), fits (bool: all three pass).

``scheduler_reasons(message)`` returns a DataFrame: count, nodes, reason (one
row per "N reason" of "0/N nodes are available: ..."; nodes is N).

PEND-001 compares the pod's requests with the free allocatable of every node
it could use (Ready, schedulable, passing its selector and taints): a resource
is named when the scheduler's message says "Insufficient <resource>" (or, with
no message, when some of those nodes lack it), with how many of them lack it
and the largest free amount over *all* of them — never a maximum over only
the nodes already short of it. Findings stay small at any cluster size: the
details and evidence name at most :data:`EVIDENCE_ROWS` nodes (the most free
first) or taint sets, and count the rest. ``node_fit`` prepares the nodes once
per (nodes, node usage) pair and fits each pod once.

A check (selector, taints, resources) is reported from the computed view
only when it is what keeps the pod off (:func:`blocking_nodes`): no node
fits, and it fails on every node that passes the checks before it (or on
every node). So the control-plane taint is not a finding when the pod is
simply too big for the workers, and a selector that picks exactly one
tainted node is PEND-002, not PEND-003. From the scheduler's message, "Insufficient …" is
always reported (other namespaces' pods may be missing from the usage
view); taint and selector reasons only when they name every node.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..frames import format_bytes, format_cpu
from ..model import Finding, about, finding
from ..registry import CLUSTER, NAMESPACE, POD, TIMEOUT, Runbook
from . import event_rows, events_about, read_events

RUNBOOK = Runbook(
    name="pod-pending",
    description="Pod stuck in Pending / ContainerCreating: resources, taints, selectors, PVCs, image pulls",
    scenario="pod-pending",
    parameters=(*CLUSTER, NAMESPACE, POD, TIMEOUT),
    triage=("pods-pending",),
    namespace_default="all-but-scenario",
)

REQUIRES: dict[str, list[str]] = {
    "PEND-001": ["pods", "nodes"],
    "PEND-002": ["pods", "nodes"],
    "PEND-003": ["pods", "nodes"],
    "PEND-004": ["pods"],
    "PEND-005": ["pods"],
    "PEND-006": ["nodes"],
}
#: without PVC objects (a plain ``kubectl cluster-info dump``) PEND-004 still reads the
#: scheduler's message and the claims' events: checked, in part
PARTIAL: dict[str, list[str]] = {"PEND-004": ["pvcs"]}

#: taints the node lifecycle controller sets; they mean PEND-006, not PEND-002
#: a node with one of these NoSchedule taints runs the control plane, not workloads
CONTROL_PLANE_TAINTS = {"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"}
LIFECYCLE_TAINTS = {"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
                    "node.kubernetes.io/unschedulable"}
PULL_WAITING_REASONS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
#: rows (nodes, taint sets) a finding's detail and evidence name at most; the rest are counted
EVIDENCE_ROWS = 5
_AVAILABLE = re.compile(r"\d+/(?P<nodes>\d+) nodes are available: (?P<reasons>.*)", re.S)
_REASON = re.compile(r"^(?P<count>\d+) (?P<reason>.+)$")


# ------------------------------------------------------------ which pods

def pods_of_interest(pods: pd.DataFrame, pod: str = "") -> pd.DataFrame:
    """The pod named ``pod``, or every pod in phase Pending when ``pod`` is empty."""
    if pod:
        return pods[pods["name"] == pod]
    return pods[pods["phase"] == "Pending"]


def _unscheduled(row: pd.Series) -> bool:
    return not row["node"] and row["scheduled"] != "True"


# ------------------------------------------------------ scheduler message

def scheduler_reasons(message: str) -> pd.DataFrame:
    """The "N reason" parts of a scheduler message, preemption summary left out."""
    rows = []
    match = _AVAILABLE.search(message or "")
    if match:
        text = match.group("reasons").split(" preemption:")[0].strip().rstrip(".")
        depth, part, parts = 0, "", []
        for char in text:  # split on commas outside {taint: value} braces
            depth += char == "{"
            depth -= char == "}"
            if char == "," and depth == 0:
                parts.append(part)
                part = ""
            else:
                part += char
        parts.append(part)
        for piece in parts:
            piece = piece.strip()
            found = _REASON.match(piece)
            if found:
                rows.append({"count": int(found["count"]), "nodes": int(match["nodes"]),
                             "reason": found["reason"]})
            elif rows and piece:  # "had taint {...}, that the pod didn't tolerate" (old format)
                rows[-1]["reason"] += ", " + piece
    return pd.DataFrame(rows, columns=["count", "nodes", "reason"])


def _said(message: str, test, *, everywhere: bool) -> list[str]:
    reasons = scheduler_reasons(message)
    return [r["reason"] for _, r in reasons.iterrows()
            if test(r["reason"]) and (not everywhere or r["count"] == r["nodes"])]


def _scheduling_messages(pod: pd.Series, events: pd.DataFrame | None) -> tuple[str, pd.DataFrame]:
    """The newest scheduler message for a pod (event, else PodScheduled condition) and its events."""
    failed = events_about(events, pod["namespace"], "Pod", pod["name"])
    if not failed.empty:
        failed = failed[failed["reason"] == "FailedScheduling"]
    if not failed.empty:
        return failed.iloc[-1]["message"], failed
    return pod["scheduled_message"] or "", failed


# ------------------------------------------------------------ matching

def tolerates(toleration: dict, taint: dict) -> bool:
    """Whether one toleration tolerates one taint (Kubernetes rules)."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    operator = toleration.get("operator") or "Equal"
    if not key:
        return operator == "Exists"
    if key != taint.get("key"):
        return False
    if operator == "Exists":
        return True
    return (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated_taints_of(tolerations: list[dict], taints: list[dict]) -> list[dict]:
    """The NoSchedule/NoExecute taints that no toleration tolerates."""
    return [t for t in taints if t.get("effect") in ("NoSchedule", "NoExecute")
            and not any(tolerates(tol, t) for tol in tolerations)]


def _requirement_matches(requirement: dict, labels: dict) -> bool:
    key, operator = requirement.get("key", ""), requirement.get("operator", "")
    values = requirement.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if operator in ("Gt", "Lt"):
        try:
            have, want = int(labels[key]), int(values[0])
        except (KeyError, IndexError, ValueError):
            return False
        return have > want if operator == "Gt" else have < want
    return False


def _requirement_text(requirement: dict) -> str:
    values = ",".join(requirement.get("values") or [])
    return f"{requirement.get('key', '')} {requirement.get('operator', '')} {values}".strip()


def _term_matches(term: dict, labels: dict, node_name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches no node
    return (all(_requirement_matches(r, labels) for r in expressions)
            and all(_requirement_matches(r, {"metadata.name": node_name}) for r in fields))


def unmatched_requirements(node_selector: dict, affinity: dict, labels: dict, node_name: str = "") -> list[str]:
    """nodeSelector entries and required node-affinity terms that a node's labels fail ([] = matches)."""
    unmatched = [f"{k}={v}" for k, v in (node_selector or {}).items() if labels.get(k) != v]
    required = (((affinity or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is not None:
        terms = required.get("nodeSelectorTerms") or []
        if not any(_term_matches(t, labels, node_name) for t in terms):
            texts = [" and ".join(_requirement_text(r) for r in (t.get("matchExpressions") or [])
                                  + (t.get("matchFields") or [])) for t in terms]
            unmatched.append("affinity " + (" or ".join(f"({t})" for t in texts) or "(no terms)"))
    return unmatched


# --------------------------------------------------------------- nodes

def candidate_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Nodes that can take new pods: Ready and not cordoned."""
    return nodes[(nodes["ready"] == "True") & ~nodes["unschedulable"].astype(bool)]


_FIT_COLUMNS_ORDER = ["node", "fits_resources", "short", "tolerated", "untolerated", "matches_selector",
                      "unmatched", "fits"]


class _NodeView:
    """The candidate nodes of one (nodes, node_usage) pair, prepared once for every pod's fit."""

    def __init__(self, nodes: pd.DataFrame, node_usage: pd.DataFrame | None):
        self.nodes, self.node_usage = nodes, node_usage
        self.fits: dict[tuple, pd.DataFrame] = {}
        candidates = candidate_nodes(nodes)
        self.names = candidates["name"].tolist()
        self.labels = candidates["labels"].tolist()
        # nodes share few distinct taint sets: a pod's tolerations are judged once per set
        self.taint_keys: list[tuple] = []
        self.taint_sets: dict[tuple, list[dict]] = {}
        for taints in candidates["taint_objects"]:
            kept = [t for t in taints or [] if t.get("key") not in LIFECYCLE_TAINTS]
            key = tuple(_taint_text(t) for t in kept)
            self.taint_sets.setdefault(key, kept)
            self.taint_keys.append(key)
        n = len(self.names)
        self.cpu_free = np.full(n, np.nan)
        self.memory_free = np.full(n, np.nan)
        self.pods_free = np.full(n, np.nan)
        self.has_usage = np.zeros(n, dtype=bool)
        if node_usage is not None and not node_usage.empty:
            usage = node_usage.drop_duplicates("node").set_index("node")
            positions = usage.index.get_indexer(self.names)
            self.has_usage = positions >= 0
            for column, target in (("cpu_free", self.cpu_free), ("memory_free", self.memory_free),
                                   ("pods_free", self.pods_free)):
                values = usage[column].to_numpy(dtype=float)
                target[self.has_usage] = values[positions[self.has_usage]]


_VIEWS: list[_NodeView] = []


def _view(nodes: pd.DataFrame, node_usage: pd.DataFrame | None) -> _NodeView:
    for view in _VIEWS:
        if view.nodes is nodes and view.node_usage is node_usage:
            return view
    view = _NodeView(nodes, node_usage)
    _VIEWS[:] = [view, *_VIEWS[:3]]  # the frames of the last few runs (they hold the frames alive: ids stay true)
    return view


def node_fit(pod: pd.Series, nodes: pd.DataFrame, node_usage: pd.DataFrame | None) -> pd.DataFrame:
    """Per candidate node: do the pod's requests, tolerations and selector/affinity fit.

    The nodes are prepared once per (nodes, node_usage) pair: resources are
    compared as arrays, tolerations once per distinct taint set, and a pod
    without a nodeSelector or required node affinity matches every node
    without looking.
    """
    view = _view(nodes, node_usage)
    key = (pod["namespace"], pod["name"], pod["cpu_request"], pod["memory_request"], repr(pod["tolerations"]),
           repr(pod["node_selector"]), repr(pod["affinity"]))
    if key not in view.fits:  # PEND-001..003 each ask: computed once per pod
        view.fits[key] = _node_fit(pod, view)
    return view.fits[key].copy()


def _node_fit(pod: pd.Series, view: _NodeView) -> pd.DataFrame:
    n = len(view.names)
    cpu, memory = pod["cpu_request"], pod["memory_request"]
    with np.errstate(invalid="ignore"):
        short_cpu = view.has_usage & (cpu > 0) & (cpu > view.cpu_free) if cpu == cpu else np.zeros(n, bool)
        short_memory = (view.has_usage & (memory > 0) & (memory > view.memory_free)
                        if memory == memory else np.zeros(n, bool))
        short_pods = view.has_usage & (view.pods_free < 1)
    untolerated_by_set = {key: [_taint_text(t) for t in untolerated_taints_of(pod["tolerations"], taints)]
                          for key, taints in view.taint_sets.items()}
    selector, affinity = pod["node_selector"], pod["affinity"]
    required = (((affinity or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
                is not None)
    if selector or required:
        unmatched = [unmatched_requirements(selector, affinity, labels, name)
                     for labels, name in zip(view.labels, view.names)]
    else:
        unmatched = [[] for _ in range(n)]
    rows = {"node": view.names, "fits_resources": [], "short": [], "tolerated": [], "untolerated": [],
            "matches_selector": [], "unmatched": unmatched, "fits": []}
    for i in range(n):
        short = [name for name, flag in (("cpu", short_cpu[i]), ("memory", short_memory[i]), ("pods", short_pods[i]))
                 if flag]
        untolerated = untolerated_by_set[view.taint_keys[i]]
        rows["fits_resources"].append(not short)
        rows["short"].append(short)
        rows["tolerated"].append(not untolerated)
        rows["untolerated"].append(list(untolerated))
        rows["matches_selector"].append(not unmatched[i])
        rows["fits"].append(not short and not untolerated and not unmatched[i])
    return pd.DataFrame(rows, columns=_FIT_COLUMNS_ORDER)


#: checks in the order they narrow the nodes: what the pod asks for, what it tolerates, what fits
_FIT_COLUMNS = {"selector": "matches_selector", "taints": "tolerated", "resources": "fits_resources"}


def blocking_nodes(fit: pd.DataFrame, check: str) -> pd.DataFrame:
    """Rows of :func:`node_fit` where ``check`` keeps the pod off (empty when it is not a cause).

    ``check`` is a cause when no node fits and it fails on every node that
    passes the checks before it (selector, then taints, then resources), or
    on every node at all.
    """
    if fit.empty or fit["fits"].astype(bool).any():
        return fit.iloc[0:0]
    order = list(_FIT_COLUMNS)
    earlier = pd.Series(True, index=fit.index)
    for name in order[:order.index(check)]:
        earlier &= fit[_FIT_COLUMNS[name]].astype(bool)
    failing = ~fit[_FIT_COLUMNS[check]].astype(bool)
    if earlier.any() and failing[earlier].all():
        return fit[earlier & failing]
    return fit if failing.all() else fit.iloc[0:0]


def _by_taints(tainted: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """(untolerated taints text, nodes) groups of node_fit rows, the most nodes first."""
    groups: dict[str, list[str]] = {}
    for node, untolerated in zip(tainted["node"], tainted["untolerated"]):
        groups.setdefault(", ".join(untolerated), []).append(node)
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def _contains(lists: pd.Series, item: str | None = None) -> pd.Series:
    """Boolean mask: the list in each cell is non-empty (``item=None``) or holds ``item``."""
    return pd.Series([bool(v) if item is None else item in v for v in lists], index=lists.index, dtype=bool)


def _taint_text(taint: dict) -> str:
    value = taint.get("value")
    return f"{taint.get('key', '')}{'=' + value if value else ''}:{taint.get('effect', '')}"


def _pod_name(pod: pd.Series) -> str:
    return f"{pod['namespace']}/{pod['name']}"


def _scheduler_evidence(message: str, failed: pd.DataFrame) -> dict:
    if not failed.empty:
        return {"events": event_rows(failed, 1)}
    return {"pod_scheduled_condition": message} if message else {}


# ------------------------------------------------------------ PEND-001..003

def insufficient_resources(pod: pd.Series, nodes: pd.DataFrame, node_usage: pd.DataFrame | None,
                           events: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-001: the scheduler says Insufficient …/Too many pods, or requests exceed free allocatable."""
    if not _unscheduled(pod):
        return []
    message, failed = _scheduling_messages(pod, events)
    said = _said(message, lambda r: r.startswith("Insufficient ") or r == "Too many pods", everywhere=False)
    fit = node_fit(pod, nodes, node_usage)
    small = blocking_nodes(fit, "resources")
    computed = not small.empty
    if not said and not computed:
        return []
    # what the pod could use but for its size: the nodes passing the selector and taints (else every candidate)
    passing = fit[fit["matches_selector"].astype(bool) & fit["tolerated"].astype(bool)]
    eligible = passing if not passing.empty else fit
    usage = (node_usage.drop_duplicates("node").set_index("node").reindex(eligible["node"]).dropna(how="all")
             if node_usage is not None and not node_usage.empty else pd.DataFrame())
    named = {r.removeprefix("Insufficient ") for r in said if r.startswith("Insufficient ")}
    parts = []
    shortages: dict[str, int] = {}
    for resource, request, fmt in (("cpu", pod["cpu_request"], format_cpu),
                                   ("memory", pod["memory_request"], format_bytes)):
        if usage.empty or not request > 0:
            continue
        free = usage[f"{resource}_free"]
        lacking = int((request > free).sum())
        shortages[resource] = lacking
        # the scheduler's words decide which resources are short; without them, the computed view
        if not lacking or (said and resource not in named):
            continue
        best_node = free.idxmax()
        best = max(float(free.max()), 0)
        if lacking == len(free):
            parts.append(f"requests {resource} {fmt(request)} but the largest free allocatable "
                         f"is {fmt(best)} ({best_node})")
        else:
            parts.append(f"requests {resource} {fmt(request)}: {lacking} of the {len(free)} nodes it could use "
                         f"have less free (the largest free allocatable is {fmt(best)}, {best_node})")
    full = small[_contains(small["short"], "pods")]["node"].tolist()
    if full:
        parts.append(f"no pod slots free on {len(full)} node(s): " + ", ".join(full[:EVIDENCE_ROWS])
                     + (" ..." if len(full) > EVIDENCE_ROWS else ""))
    if said:
        parts.append("scheduler: " + ", ".join(said))
    detail = f"pod {_pod_name(pod)} " + "; ".join(parts)
    if not small.empty:
        detail += f" ({len(small)} of {len(fit)} Ready schedulable nodes too small)"
    evidence = _scheduler_evidence(message, failed)
    if not usage.empty:
        order = [f"{r}_free" for r in (sorted(named & {"cpu", "memory"}) or ["memory", "cpu"])]
        top = usage.sort_values(order, ascending=False).head(EVIDENCE_ROWS).reset_index()
        evidence["node_usage"] = top[["node", "cpu_requested", "cpu_allocatable", "cpu_free",
                                      "memory_requested", "memory_allocatable", "memory_free", "pods_free"]]
        evidence["nodes_considered"] = len(usage)
        evidence["nodes_short_of"] = shortages
    evidence["requests"] = {"cpu": pod["cpu_request"], "memory": pod["memory_request"]}
    return [finding("PEND-001", detail, evidence)]


def untolerated_taints(pod: pd.Series, nodes: pd.DataFrame, node_usage: pd.DataFrame | None = None,
                       events: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-002: candidate nodes carry NoSchedule/NoExecute taints the pod does not tolerate."""
    if not _unscheduled(pod):
        return []
    message, failed = _scheduling_messages(pod, events)
    said = _said(message, lambda r: "taint" in r and not any(k in r for k in LIFECYCLE_TAINTS), everywhere=True)
    fit = node_fit(pod, nodes, node_usage)
    tainted = blocking_nodes(fit, "taints")
    computed = not tainted.empty
    if not said and not computed:
        return []
    groups = _by_taints(tainted)
    if not tainted.empty:
        listed = "; ".join(f"{', '.join(nodes[:EVIDENCE_ROWS])}{f' and {len(nodes) - EVIDENCE_ROWS} more' if len(nodes) > EVIDENCE_ROWS else ''}"
                           f" {'has' if len(nodes) == 1 else 'have'} {taints}" for taints, nodes in groups[:EVIDENCE_ROWS])
        if len(groups) > EVIDENCE_ROWS:
            listed += f"; and {len(groups) - EVIDENCE_ROWS} more taint set(s)"
        detail = (f"pod {_pod_name(pod)} does not tolerate the taints of the nodes it could otherwise use "
                  f"({len(tainted)} of {len(fit)} Ready schedulable): {listed}")
    else:
        detail = f"pod {_pod_name(pod)}: scheduler says {'; '.join(said)}"
    evidence = _scheduler_evidence(message, failed)
    evidence["node_taints"] = [{"node": nodes[0], "untolerated": taints.split(", "), "nodes": len(nodes),
                                "examples": nodes[:EVIDENCE_ROWS]} for taints, nodes in groups[:EVIDENCE_ROWS]]
    evidence["tolerations"] = list(pod["tolerations"])
    return [finding("PEND-002", detail, evidence)]


def selector_mismatch(pod: pd.Series, nodes: pd.DataFrame, node_usage: pd.DataFrame | None = None,
                      events: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-003: nodeSelector / required node affinity matches no Ready schedulable node."""
    if not _unscheduled(pod):
        return []
    message, failed = _scheduling_messages(pod, events)
    said = _said(message, lambda r: "affinity/selector" in r, everywhere=True)
    fit = node_fit(pod, nodes, node_usage)
    mismatched = blocking_nodes(fit, "selector")
    computed = not mismatched.empty
    if not said and not computed:
        return []
    wanted = [f"{k}={v}" for k, v in pod["node_selector"].items()]
    if (pod["affinity"] or {}).get("nodeAffinity", {}).get("requiredDuringSchedulingIgnoredDuringExecution"):
        wanted.append("required node affinity")
    if not mismatched.empty:
        unmatched = sorted({u for us in mismatched["unmatched"] for u in us})
        names = mismatched["node"].tolist()
        shown = ", ".join(names[:EVIDENCE_ROWS]) + (f" and {len(names) - EVIDENCE_ROWS} more"
                                                    if len(names) > EVIDENCE_ROWS else "")
        detail = (f"pod {_pod_name(pod)} needs {', '.join(unmatched)} but none of the {len(fit)} Ready "
                  f"schedulable nodes matches ({shown})")
    else:
        detail = f"pod {_pod_name(pod)} ({', '.join(wanted) or 'selector'}): scheduler says {'; '.join(said)}"
    evidence = _scheduler_evidence(message, failed)
    evidence["node_selector"] = dict(pod["node_selector"])
    if pod["affinity"]:
        evidence["node_affinity"] = (pod["affinity"] or {}).get("nodeAffinity", {})
    labels = nodes.set_index("name")["labels"] if not nodes.empty else {}
    evidence["node_labels"] = [{"node": n, "labels": labels[n]} for n in mismatched["node"][:EVIDENCE_ROWS]]
    return [finding("PEND-003", detail, evidence)]


# ---------------------------------------------------------------- PEND-004

def unbound_claims(pod: pd.Series, pvcs: pd.DataFrame, events: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-004: a PersistentVolumeClaim the pod mounts is missing or not Bound."""
    findings = []
    for claim in pod["pvc_claims"]:
        rows = pvcs[(pvcs["namespace"] == pod["namespace"]) & (pvcs["name"] == claim)]
        claim_events = events_about(events, pod["namespace"], "PersistentVolumeClaim", claim)
        if rows.empty:
            detail = f"pod {_pod_name(pod)} mounts PersistentVolumeClaim {claim}, which does not exist"
            findings.append(finding("PEND-004", detail, {"claim": claim}))
            continue
        row = rows.iloc[0]
        if row["phase"] == "Bound":
            continue
        why = ""
        severity = None
        if not claim_events.empty:
            newest = claim_events.iloc[-1]
            why = f": {newest['reason']} \"{newest['message']}\""
            if set(claim_events["reason"]) == {"WaitForFirstConsumer"} and _unscheduled(pod):
                why += " (binds once the pod is scheduled: fix the scheduling cause first)"
                severity = "warning"
        detail = (f"pod {_pod_name(pod)} mounts PersistentVolumeClaim {claim} in phase "
                  f"{row['phase'] or 'unknown'} (storageClass {row['storage_class'] or '<none>'}, "
                  f"requests {format_bytes(row['requested'])}){why}")
        evidence = {"pvc": rows[["namespace", "name", "phase", "storage_class", "volume_name",
                                 "access_modes", "requested"]]}
        if not claim_events.empty:
            evidence["events"] = event_rows(claim_events, 2)
        findings.append(finding("PEND-004", detail, evidence, severity=severity))
    return findings


UNBOUND_CLAIMS = "unbound immediate PersistentVolumeClaims"


def unbound_claims_from_events(pod: pd.Series, events: pd.DataFrame | None) -> list[Finding]:
    """PEND-004 without PVC objects: the scheduler said the pod's claims are unbound, or a claim's
    events say provisioning failed (the evidence a plain dump has)."""
    message, failed = _scheduling_messages(pod, events)
    scheduler_says = UNBOUND_CLAIMS in message
    findings = []
    for claim in pod["pvc_claims"]:
        claim_events = events_about(events, pod["namespace"], "PersistentVolumeClaim", claim)
        trouble = claim_events[claim_events["type"] == "Warning"] if not claim_events.empty else claim_events
        if not scheduler_says and trouble.empty:
            continue
        why = f"; {trouble.iloc[-1]['reason']} \"{trouble.iloc[-1]['message']}\"" if not trouble.empty else ""
        detail = (f"pod {_pod_name(pod)} mounts PersistentVolumeClaim {claim}, which is not Bound"
                  f"{' (scheduler: ' + UNBOUND_CLAIMS + ')' if scheduler_says else ''}{why} — "
                  "PVC objects are not in this source: read from the scheduler's message and the claim's events")
        evidence = {"claim": claim, "scheduler": message}
        if not trouble.empty:
            evidence["events"] = event_rows(trouble, 2)
        findings.append(finding("PEND-004", detail, evidence))
    return findings


# ---------------------------------------------------------------- PEND-005

def classify_pull_error(message: str) -> str:
    """Why an image pull failed: not-found, unauthorized, never-pull, invalid-name, network or unknown."""
    text = (message or "").lower()
    if "pull policy of never" in text or "errimageneverpull" in text:
        return "never-pull"
    if "invalid reference format" in text or "couldn't parse image reference" in text:
        return "invalid-name"
    if any(s in text for s in ("unauthorized", "authorization failed", "403 forbidden",
                               "denied: ", "may require authorization", "authentication required")):
        return "unauthorized"
    if any(s in text for s in ("not found", "manifest unknown", "notfound")):
        return "not-found"
    if any(s in text for s in ("i/o timeout", "no such host", "connection refused", "tls handshake timeout",
                               "network is unreachable", "context deadline exceeded")):
        return "network"
    return "unknown"


_PULL_EXPLANATION = {
    "not-found": "the image or tag does not exist in the registry",
    "unauthorized": "the registry refused the pull (unauthorized)",
    "never-pull": "imagePullPolicy is Never and the image is not on the node",
    "invalid-name": "the image reference is not a valid name",
    "network": "the node could not reach the registry",
    "unknown": "the pull failed",
}


def image_pull_failures(pod: pd.Series, containers: pd.DataFrame, events: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-005: a container waits in ErrImagePull/ImagePullBackOff/InvalidImageName/ErrImageNeverPull."""
    mine = containers[(containers["namespace"] == pod["namespace"]) & (containers["pod"] == pod["name"])
                      & (containers["state"] == "waiting") & containers["reason"].isin(PULL_WAITING_REASONS)]
    pod_events = events_about(events, pod["namespace"], "Pod", pod["name"])
    findings = []
    for _, container in mine.iterrows():
        pulls = pod_events[pod_events["message"].str.contains(container["image"], regex=False)
                           & (pod_events["type"] == "Warning")] if not pod_events.empty else pod_events
        failed = pulls[pulls["reason"] == "Failed"] if not pulls.empty else pulls
        message = failed.iloc[-1]["message"] if not failed.empty else container["message"]
        kind = classify_pull_error(message if container["reason"] != "ErrImageNeverPull"
                                   else "pull policy of Never")
        if kind == "unknown" and container["reason"] == "InvalidImageName":
            kind = "invalid-name"
        explanation = _PULL_EXPLANATION[kind]
        if kind == "unauthorized" and not pod["image_pull_secrets"]:
            explanation += " and the pod has no imagePullSecrets"
        elif kind == "unauthorized":
            explanation += f" with imagePullSecrets {', '.join(pod['image_pull_secrets'])}"
        which = "init container" if container["init"] else "container"
        detail = (f"{which} {container['container']} of pod {_pod_name(pod)} cannot pull image "
                  f"{container['image']} ({container['reason']}): {explanation}")
        evidence = {"container": {k: container[k] for k in ("container", "image", "image_pull_policy",
                                                             "state", "reason", "message")},
                    "image_pull_secrets": list(pod["image_pull_secrets"]), "pull_error": kind}
        if not pulls.empty:
            evidence["events"] = event_rows(pulls, 2)
        findings.append(finding("PEND-005", detail, evidence))
    return findings


# ---------------------------------------------------------------- PEND-006

def _control_plane_only(node: pd.Series) -> bool:
    return any(t.get("key") in CONTROL_PLANE_TAINTS and t.get("effect") == "NoSchedule"
               for t in node["taint_objects"])


def workload_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """Ready, uncordoned nodes that take ordinary workloads (no control-plane NoSchedule taint)."""
    ready = candidate_nodes(nodes)
    if ready.empty:
        return ready
    keep = [not any(t.get("key") in CONTROL_PLANE_TAINTS and t.get("effect") == "NoSchedule" for t in taints or [])
            for taints in ready["taint_objects"]]
    return ready[pd.Series(keep, index=ready.index, dtype=bool)]


def no_schedulable_node(nodes: pd.DataFrame, pending: pd.DataFrame | None = None) -> list[Finding]:
    """PEND-006: no node is Ready and schedulable for workloads (all NotReady, cordoned or control-plane)."""
    if not workload_nodes(nodes).empty:
        return []
    waiting = "" if pending is None or pending.empty else \
        f"; {len(pending)} pending pod(s) cannot be scheduled: {', '.join(pending['name'][:5])}"
    if nodes.empty:
        detail = "the cluster has no nodes" + waiting
    else:
        states = ", ".join(f"{r['name']} {'Ready' if r['ready'] == 'True' else 'NotReady'}"
                           f"{' (' + r['ready_reason'] + ')' if r['ready'] != 'True' and r['ready_reason'] else ''}"
                           f"{' cordoned' if r['unschedulable'] else ''}"
                           f"{' control-plane (tainted NoSchedule)' if _control_plane_only(r) else ''}"
                           for _, r in nodes.head(EVIDENCE_ROWS).iterrows())
        if len(nodes) > EVIDENCE_ROWS:
            states += f" and {len(nodes) - EVIDENCE_ROWS} more"
        detail = f"none of the {len(nodes)} nodes is Ready and schedulable for workloads: {states}{waiting}"
    evidence = {"nodes": nodes[["name", "ready", "ready_reason", "ready_since", "unschedulable", "taints"]]
                .head(EVIDENCE_ROWS), "node_count": len(nodes)}
    return [finding("PEND-006", detail, evidence)]


# -------------------------------------------------------------- diagnose

def events_of_interest(rb, waiting: pd.DataFrame, pod: str = "") -> pd.DataFrame:
    """The named pod's events and its claims' (field-selected on a live cluster), else the namespace's."""
    if not pod:
        return read_events(rb)
    claims = sorted({claim for claims in waiting["pvc_claims"] for claim in claims or []})
    return read_events(rb, [("Pod", pod)] + [("PersistentVolumeClaim", claim) for claim in claims])


def gather(rb) -> dict:
    """Every frame :func:`diagnose` takes, read through the session ``rb`` (cached there)."""
    pod = rb.parameters.get("pod", "")
    waiting = pods_of_interest(rb.pods(), pod)
    containers = rb.containers()
    return {"pods": waiting, "containers": containers[containers["pod"].isin(waiting["name"])],
            "events": events_of_interest(rb, waiting, pod), "nodes": rb.nodes(), "node_usage": rb.node_usage(),
            "pvcs": rb.pvcs(), "pod": pod}


def diagnose(*, pods: pd.DataFrame, containers: pd.DataFrame, events: pd.DataFrame | None,
             nodes: pd.DataFrame | None, node_usage: pd.DataFrame | None,
             pvcs: pd.DataFrame | None, pod: str = "") -> list[Finding]:
    """Every PEND finding for ``pod`` (or every Pending pod); None frames are skipped as unavailable."""
    pending = pods_of_interest(pods, pod)
    findings: list[Finding] = []
    if nodes is not None:
        findings += no_schedulable_node(nodes, pending[pending.apply(_unscheduled, axis=1)]
                                        if not pending.empty else pending)
    can_schedule = nodes is not None and not workload_nodes(nodes).empty
    for _, row in pending.iterrows():
        found: list[Finding] = []
        if can_schedule:
            found += insufficient_resources(row, nodes, node_usage, events)
            found += untolerated_taints(row, nodes, node_usage, events)
            found += selector_mismatch(row, nodes, node_usage, events)
        if pvcs is not None:
            found += unbound_claims(row, pvcs, events)
        else:
            found += unbound_claims_from_events(row, events)
        if containers is not None:
            found += image_pull_failures(row, containers, events)
        findings += about(f"pod {_pod_name(row)}", found)
    return findings


def subjects(*, pods: pd.DataFrame, pod: str = "", **_: object) -> list[str]:
    """Every pod this runbook looks at (each gets a verdict in the summary)."""
    looked_at = pods_of_interest(pods, pod)
    return [f"pod {ns}/{name}" for ns, name in zip(looked_at["namespace"], looked_at["name"])]
