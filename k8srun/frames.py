"""Kubernetes objects (API JSON dicts) -> pandas DataFrames. Pure functions.

Every function takes a list of objects as any :class:`k8srun.sources.Source`
returns them and gives a DataFrame with fixed columns (an empty list gives an
empty frame with the same columns). Quantities are numbers: CPU in cores
(float), memory and storage in bytes (int), timestamps ``datetime64[ns, UTC]``.

Schemas
-------
``pods_frame``: namespace, name, status (what ``kubectl get pods`` prints:
Running, Pending, ContainerCreating, CrashLoopBackOff, Init:0/1, ...), phase,
ready ("1/2"), ready_count, container_count, restarts (READY and RESTARTS as
kubectl counts them: native sidecars included), node, pod_ip, host_network (the pod
uses its node's network: pod_ip is the node's address), qos,
created, owner_kind, owner_name, scheduled ("True"/"False"/""),
scheduled_reason, scheduled_message, node_selector (dict), affinity (dict),
tolerations (list), cpu_request, memory_request, pvc_claims (list of claim
names), image_pull_secrets (list), labels (dict).

``containers_frame``: namespace, pod, container, init (bool), image,
image_pull_policy, state (waiting/running/terminated/""), reason, message,
exit_code, started_at, finished_at, last_state, last_reason, last_exit_code,
last_message, last_started_at, last_finished_at, restarts, ready, started,
cpu_request, memory_request, cpu_limit, memory_limit, liveness, readiness,
startup (probe dicts or None), ports (list of dicts), config_refs (list of
dicts: kind ConfigMap/Secret, name, key, optional, via env/envFrom/volume).

``events_frame``: namespace, last_seen, first_seen, type, reason, kind, name,
message, count, source — sorted by last_seen, oldest first, like
``kubectl get events --sort-by .lastTimestamp``.

``nodes_frame``: name, ready ("True"/"False"/"Unknown"), ready_reason,
ready_message, ready_since, unschedulable, taints (list of "key=value:Effect"),
taint_objects (list of dicts), labels (dict), roles, cpu_allocatable,
memory_allocatable, pods_allocatable, memory_pressure, disk_pressure,
pid_pressure, kubelet_version, internal_ip, pod_cidr.

``node_conditions_frame``: node, type, status, reason, message,
last_heartbeat, last_transition.

``node_usage_frame(pods, nodes)``: node, pods, cpu_requested, memory_requested,
cpu_allocatable, memory_allocatable, pods_allocatable, cpu_free, memory_free,
pods_free — requests of non-terminated pods bound to each node.

``pod_usage_frame``: namespace, name, node, phase, cpu_request, memory_request —
the few fields of a pod node usage needs (a bundle reads only those for it);
``node_usage_from(pod_usage, nodes)`` is ``node_usage_frame`` from that and
``nodes_frame`` (vectorised).

``combine(builder, parts)``: the frames ``builder`` made of parts of a list
(one per bundle file) as ``builder`` would have made of the whole list.

``pvcs_frame``: namespace, name, phase, storage_class, volume_name,
access_modes, requested, volume_mode, created.

``services_frame``: namespace, name, type, cluster_ip, ports (list of dicts),
selector (dict).

``endpoints_frame``: namespace, service, ip, port, port_name, protocol, ready,
target_kind, target_name, node.
"""

from __future__ import annotations

import functools
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable, NamedTuple

import pandas as pd

from .errors import ParseError

POD_COLUMNS = [
    "namespace", "name", "status", "phase", "ready", "ready_count", "container_count",
    "restarts", "node", "pod_ip", "host_network", "qos", "created", "owner_kind", "owner_name", "scheduled",
    "scheduled_reason", "scheduled_message", "node_selector", "affinity", "tolerations",
    "cpu_request", "memory_request", "pvc_claims", "image_pull_secrets", "labels",
]
CONTAINER_COLUMNS = [
    "namespace", "pod", "container", "init", "image", "image_pull_policy", "state", "reason",
    "message", "exit_code", "started_at", "finished_at", "last_state", "last_reason",
    "last_exit_code", "last_message", "last_started_at", "last_finished_at", "restarts",
    "ready", "started", "cpu_request", "memory_request", "cpu_limit", "memory_limit",
    "liveness", "readiness", "startup", "ports", "config_refs",
]
EVENT_COLUMNS = ["namespace", "last_seen", "first_seen", "type", "reason", "kind", "name",
                 "message", "count", "source"]
NODE_COLUMNS = [
    "name", "ready", "ready_reason", "ready_message", "ready_since", "unschedulable", "taints",
    "taint_objects", "labels", "roles", "cpu_allocatable", "memory_allocatable",
    "pods_allocatable", "memory_pressure", "disk_pressure", "pid_pressure", "kubelet_version",
    "internal_ip", "pod_cidr",
]
NODE_CONDITION_COLUMNS = ["node", "type", "status", "reason", "message", "last_heartbeat",
                          "last_transition"]
NODE_USAGE_COLUMNS = [
    "node", "pods", "cpu_requested", "memory_requested", "cpu_allocatable", "memory_allocatable",
    "pods_allocatable", "cpu_free", "memory_free", "pods_free",
]
POD_USAGE_COLUMNS = ["namespace", "name", "node", "phase", "cpu_request", "memory_request"]
PVC_COLUMNS = ["namespace", "name", "phase", "storage_class", "volume_name", "access_modes",
               "requested", "volume_mode", "created"]
SERVICE_COLUMNS = ["namespace", "name", "type", "cluster_ip", "ports", "selector"]
ENDPOINT_COLUMNS = ["namespace", "service", "ip", "port", "port_name", "protocol", "ready",
                    "target_kind", "target_name", "node"]

_TIME_COLUMNS = {"created", "last_seen", "first_seen", "started_at", "finished_at",
                 "last_started_at", "last_finished_at", "ready_since", "last_heartbeat",
                 "last_transition"}

# ---------------------------------------------------------------- quantities

_SUFFIX = {
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity ("100m", "128Mi", "1.5", "2e3") as a number; NaN if absent.

    Raises :class:`~k8srun.errors.ParseError` (a ValueError) for text that is not a quantity.
    """
    if value is None or value == "":
        return float("nan")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return _parse_quantity_text(value)
    return _parse_quantity_text(str(value))


@functools.lru_cache(maxsize=4096)
def _parse_quantity_text(value: str) -> float:
    """parse_quantity of a text (a cluster repeats few distinct quantities: cached)."""
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ParseError("quantity", f"not a Kubernetes quantity: {value!r}")
    try:
        number = Decimal(match.group(1)) * Decimal(_SUFFIX[match.group(2)])
    except InvalidOperation:
        raise ParseError("quantity", f"not a Kubernetes quantity: {value!r}") from None
    return float(number)


def _quantity_or_nan(value: Any) -> float:
    try:
        return parse_quantity(value)
    except ParseError:
        return float("nan")


def format_cpu(cores: float) -> str:
    """CPU cores as Kubernetes writes them: 2, 1.5, 250m."""
    if cores is None or (isinstance(cores, float) and math.isnan(cores)):
        return "?"
    if cores >= 1 and abs(cores * 1000 - round(cores * 1000)) < 1e-6 and round(cores * 1000) % 1000 == 0:
        return str(int(round(cores)))
    if cores >= 1:
        return f"{cores:g}"
    return f"{int(round(cores * 1000))}m"


def format_bytes(amount: float) -> str:
    """Bytes in the largest binary unit that keeps the number readable: 128Mi, 1.5Gi."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return "?"
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if abs(amount) >= size:
            return f"{amount / size:.4g}{unit}"
    return f"{int(amount)}"


# ------------------------------------------------------------------- helpers

def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    for col in _TIME_COLUMNS.intersection(columns):
        frame[col] = pd.to_datetime(frame[col], utc=True, errors="coerce", format="ISO8601")
    return frame


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _owner(obj: dict) -> tuple[str, str]:
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller", True):
            return ref.get("kind", ""), ref.get("name", "")
    return "", ""


def _request(container: dict, resource: str) -> float:
    value = _quantity_or_nan(((container.get("resources") or {}).get("requests") or {}).get(resource))
    return 0.0 if math.isnan(value) else value


def pod_requests(pod: dict, resource: str) -> float:
    """Effective request of a pod, as the scheduler computes it, plus overhead.

    max(app containers + sidecars, each init container + the sidecars started
    before it); a sidecar is an init container with ``restartPolicy: Always``.
    """
    spec = pod.get("spec") or {}
    running = sum(_request(c, resource) for c in spec.get("containers") or [])
    sidecars = init_peak = 0.0
    for container in spec.get("initContainers") or []:
        if container.get("restartPolicy") == "Always":
            sidecars += _request(container, resource)
            running += _request(container, resource)
            init_peak = max(init_peak, sidecars)
        else:
            init_peak = max(init_peak, _request(container, resource) + sidecars)
    overhead = _quantity_or_nan((spec.get("overhead") or {}).get(resource))
    return max(running, init_peak) + (0.0 if math.isnan(overhead) else overhead)


def _condition(conditions: list[dict] | None, kind: str) -> dict:
    for cond in conditions or []:
        if cond.get("type") == kind:
            return cond
    return {}


class KubectlPodColumns(NamedTuple):
    """READY, STATUS and RESTARTS of ``kubectl get pods`` for one pod."""

    status: str
    ready: int
    total: int
    restarts: int
    last_restart: pd.Timestamp | None


def _terminated_text(term: dict) -> str:
    return f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode')}"


@functools.lru_cache(maxsize=8192)
def _timestamp_text(value: str) -> pd.Timestamp:
    """An RFC 3339 text as a UTC Timestamp, NaT when it is not one (what pd.to_datetime(utc, coerce) gives)."""
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return pd.NaT
    if stamp is pd.NaT:
        return pd.NaT
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _timestamp(value: Any) -> pd.Timestamp:
    if value is None or value == "":
        return pd.NaT
    if isinstance(value, str):
        return _timestamp_text(value)
    return pd.to_datetime(value, utc=True, errors="coerce")


def _newer(current: pd.Timestamp | None, state: dict | None) -> pd.Timestamp | None:
    finished = _timestamp(((state or {}).get("terminated") or {}).get("finishedAt"))
    if pd.isna(finished):
        return current
    return finished if current is None or finished > current else current


def kubectl_pod_columns(pod: dict) -> KubectlPodColumns:
    """READY/STATUS/RESTARTS as kubectl's printPod computes them, native sidecars included.

    A sidecar is an init container with ``restartPolicy: Always``: once started it
    does not hold up initialization, counts in READY's total, and its restarts
    always count.
    """
    status = pod.get("status") or {}
    spec = pod.get("spec") or {}
    conditions = status.get("conditions")
    reason = status.get("reason") or status.get("phase") or "Unknown"
    if _condition(conditions, "PodScheduled").get("reason") == "SchedulingGated":
        reason = "SchedulingGated"
    init_specs = spec.get("initContainers") or []
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(spec.get("containers") or []) + len(sidecars)
    ready = restarts = sidecar_restarts = 0
    last_restart = sidecar_last_restart = None
    initializing = False
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        restarts += int(cs.get("restartCount") or 0)
        last_restart = _newer(last_restart, cs.get("lastState"))
        if cs.get("name") in sidecars:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            sidecar_last_restart = _newer(sidecar_last_restart, cs.get("lastState"))
        if term and term.get("exitCode") == 0:
            continue
        if cs.get("name") in sidecars and cs.get("started"):
            ready += bool(cs.get("ready"))
            continue
        initializing = True
        if term:
            reason = "Init:" + (term.get("reason") or _terminated_text(term))
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        break
    if not initializing or _condition(conditions, "Initialized").get("status") == "True":
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            state = cs.get("state") or {}
            restarts += int(cs.get("restartCount") or 0)
            last_restart = _newer(last_restart, cs.get("lastState"))
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif (state.get("terminated") or {}).get("reason"):
                reason = state["terminated"]["reason"]
            elif state.get("terminated"):
                reason = _terminated_text(state["terminated"])
            elif state.get("running") is not None and cs.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _condition(conditions, "Ready").get("status") == "True" else "NotReady"
        if reason == "Pending" and status.get("phase") == "Pending" and spec.get("nodeName") \
                and not status.get("containerStatuses"):
            reason = "ContainerCreating"  # kubelet has the pod but reported no container yet
    if _meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            reason = "Terminating"
    return KubectlPodColumns(reason, ready, total, restarts, last_restart)


def pod_status(pod: dict) -> str:
    """The STATUS column of ``kubectl get pods`` for one pod."""
    return kubectl_pod_columns(pod).status


# --------------------------------------------------------------------- pods

def pods_frame(pods: Iterable[dict]) -> pd.DataFrame:
    """One row per pod (schema in the module docstring)."""
    rows = []
    for pod in pods:
        meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
        scheduled = _condition(status.get("conditions"), "PodScheduled")
        owner_kind, owner_name = _owner(pod)
        kubectl = kubectl_pod_columns(pod)
        rows.append({
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "status": kubectl.status,
            "phase": status.get("phase", ""),
            "ready": f"{kubectl.ready}/{kubectl.total}",
            "ready_count": kubectl.ready,
            "container_count": kubectl.total,
            "restarts": kubectl.restarts,
            "node": spec.get("nodeName", ""),
            "pod_ip": status.get("podIP", ""),
            "host_network": bool(spec.get("hostNetwork")),
            "qos": status.get("qosClass", ""),
            "created": meta.get("creationTimestamp"),
            "owner_kind": owner_kind,
            "owner_name": owner_name,
            "scheduled": scheduled.get("status", ""),
            "scheduled_reason": scheduled.get("reason", ""),
            "scheduled_message": scheduled.get("message", ""),
            "node_selector": dict(spec.get("nodeSelector") or {}),
            "affinity": dict(spec.get("affinity") or {}),
            "tolerations": list(spec.get("tolerations") or []),
            "cpu_request": pod_requests(pod, "cpu"),
            "memory_request": pod_requests(pod, "memory"),
            "pvc_claims": [v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes") or []
                           if (v.get("persistentVolumeClaim") or {}).get("claimName")],
            "image_pull_secrets": [s.get("name", "") for s in spec.get("imagePullSecrets") or []],
            "labels": dict(meta.get("labels") or {}),
        })
    return _frame(rows, POD_COLUMNS)


def _config_refs(container: dict, volumes: list[dict]) -> list[dict]:
    refs = []
    for env in container.get("env") or []:
        source = env.get("valueFrom") or {}
        for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            if key in source:
                ref = source[key]
                refs.append({"kind": kind, "name": ref.get("name", ""), "key": ref.get("key", ""),
                             "optional": bool(ref.get("optional")), "via": f"env {env.get('name', '')}"})
    for env_from in container.get("envFrom") or []:
        for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if key in env_from:
                ref = env_from[key]
                refs.append({"kind": kind, "name": ref.get("name", ""), "key": "",
                             "optional": bool(ref.get("optional")), "via": "envFrom"})
    mounted = {m.get("name") for m in container.get("volumeMounts") or []}
    for volume in volumes:
        if volume.get("name") not in mounted:
            continue
        if "configMap" in volume:
            refs.append({"kind": "ConfigMap", "name": volume["configMap"].get("name", ""), "key": "",
                         "optional": bool(volume["configMap"].get("optional")),
                         "via": f"volume {volume['name']}"})
        if "secret" in volume:
            refs.append({"kind": "Secret", "name": volume["secret"].get("secretName", ""), "key": "",
                         "optional": bool(volume["secret"].get("optional")),
                         "via": f"volume {volume['name']}"})
    return refs


def _state(state: dict | None) -> tuple[str, dict]:
    for name in ("waiting", "running", "terminated"):
        if (state or {}).get(name) is not None:
            return name, state[name] or {}
    return "", {}


def containers_frame(pods: Iterable[dict]) -> pd.DataFrame:
    """One row per (init) container of every pod, spec joined with status."""
    rows = []
    for pod in pods:
        meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
        volumes = spec.get("volumes") or []
        for init, specs_key, status_key in ((True, "initContainers", "initContainerStatuses"),
                                            (False, "containers", "containerStatuses")):
            by_name = {cs.get("name"): cs for cs in status.get(status_key) or []}
            for container in spec.get(specs_key) or []:
                cs = by_name.get(container.get("name"), {})
                state, detail = _state(cs.get("state"))
                last_state, last = _state(cs.get("lastState"))
                resources = container.get("resources") or {}
                rows.append({
                    "namespace": meta.get("namespace", ""),
                    "pod": meta.get("name", ""),
                    "container": container.get("name", ""),
                    "init": init,
                    "image": container.get("image", ""),
                    "image_pull_policy": container.get("imagePullPolicy", ""),
                    "state": state,
                    "reason": detail.get("reason", ""),
                    "message": detail.get("message", ""),
                    "exit_code": detail.get("exitCode"),
                    "started_at": detail.get("startedAt"),
                    "finished_at": detail.get("finishedAt"),
                    "last_state": last_state,
                    "last_reason": last.get("reason", ""),
                    "last_exit_code": last.get("exitCode"),
                    "last_message": last.get("message", ""),
                    "last_started_at": last.get("startedAt"),
                    "last_finished_at": last.get("finishedAt"),
                    "restarts": int(cs.get("restartCount") or 0),
                    "ready": bool(cs.get("ready")),
                    "started": bool(cs.get("started")),
                    "cpu_request": _quantity_or_nan((resources.get("requests") or {}).get("cpu")),
                    "memory_request": _quantity_or_nan((resources.get("requests") or {}).get("memory")),
                    "cpu_limit": _quantity_or_nan((resources.get("limits") or {}).get("cpu")),
                    "memory_limit": _quantity_or_nan((resources.get("limits") or {}).get("memory")),
                    "liveness": container.get("livenessProbe"),
                    "readiness": container.get("readinessProbe"),
                    "startup": container.get("startupProbe"),
                    "ports": list(container.get("ports") or []),
                    "config_refs": _config_refs(container, volumes),
                })
    frame = _frame(rows, CONTAINER_COLUMNS)
    for col in ("exit_code", "last_exit_code"):
        frame[col] = frame[col].astype("Int64")
    return frame


# ------------------------------------------------------------------- events

def event_time(event: dict) -> str | None:
    """When an event was last seen: lastTimestamp, else series/eventTime/firstTimestamp/created."""
    return (event.get("lastTimestamp") or (event.get("series") or {}).get("lastObservedTime")
            or event.get("eventTime") or event.get("firstTimestamp")
            or _meta(event).get("creationTimestamp"))


def events_frame(events: Iterable[dict]) -> pd.DataFrame:
    """Events (core/v1 or events.k8s.io/v1) sorted by last_seen, oldest first."""
    rows = []
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        source = event.get("source") or {}
        rows.append({
            "namespace": _meta(event).get("namespace", "") or involved.get("namespace", ""),
            "last_seen": event_time(event),
            "first_seen": event.get("firstTimestamp") or event.get("eventTime") or event_time(event),
            "type": event.get("type", ""),
            "reason": event.get("reason", ""),
            "kind": involved.get("kind", ""),
            "name": involved.get("name", ""),
            "message": (event.get("message") or event.get("note") or "").strip(),
            "count": int(event.get("count") or (event.get("series") or {}).get("count") or 1),
            "source": source.get("component") or event.get("reportingComponent")
            or event.get("reportingController") or "",
        })
    frame = _frame(rows, EVENT_COLUMNS)
    return frame.sort_values("last_seen", kind="stable", na_position="first").reset_index(drop=True)


# -------------------------------------------------------------------- nodes

def _taint_text(taint: dict) -> str:
    value = taint.get("value")
    return f"{taint.get('key', '')}{'=' + value if value else ''}:{taint.get('effect', '')}"


def nodes_frame(nodes: Iterable[dict]) -> pd.DataFrame:
    """One row per node (schema in the module docstring)."""
    rows = []
    for node in nodes:
        meta, spec, status = _meta(node), node.get("spec") or {}, node.get("status") or {}
        conditions = status.get("conditions")
        ready = _condition(conditions, "Ready")
        allocatable = status.get("allocatable") or {}
        labels = dict(meta.get("labels") or {})
        roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
        addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
        taints = list(spec.get("taints") or [])
        rows.append({
            "name": meta.get("name", ""),
            "ready": ready.get("status", "Unknown"),
            "ready_reason": ready.get("reason", ""),
            "ready_message": ready.get("message", ""),
            "ready_since": ready.get("lastTransitionTime"),
            "unschedulable": bool(spec.get("unschedulable")),
            "taints": [_taint_text(t) for t in taints],
            "taint_objects": taints,
            "labels": labels,
            "roles": ",".join(roles) or "<none>",
            "cpu_allocatable": _quantity_or_nan(allocatable.get("cpu")),
            "memory_allocatable": _quantity_or_nan(allocatable.get("memory")),
            "pods_allocatable": _quantity_or_nan(allocatable.get("pods")),
            "memory_pressure": _condition(conditions, "MemoryPressure").get("status", ""),
            "disk_pressure": _condition(conditions, "DiskPressure").get("status", ""),
            "pid_pressure": _condition(conditions, "PIDPressure").get("status", ""),
            "kubelet_version": (status.get("nodeInfo") or {}).get("kubeletVersion", ""),
            "internal_ip": addresses.get("InternalIP", ""),
            "pod_cidr": spec.get("podCIDR", ""),
        })
    return _frame(rows, NODE_COLUMNS)


def node_conditions_frame(nodes: Iterable[dict]) -> pd.DataFrame:
    """One row per (node, condition)."""
    rows = [{
        "node": _meta(node).get("name", ""),
        "type": cond.get("type", ""),
        "status": cond.get("status", ""),
        "reason": cond.get("reason", ""),
        "message": cond.get("message", ""),
        "last_heartbeat": cond.get("lastHeartbeatTime"),
        "last_transition": cond.get("lastTransitionTime"),
    } for node in nodes for cond in (node.get("status") or {}).get("conditions") or []]
    return _frame(rows, NODE_CONDITION_COLUMNS)


def node_usage_frame(pods: Iterable[dict], nodes: Iterable[dict]) -> pd.DataFrame:
    """Requested vs allocatable per node, counting pods not Succeeded/Failed."""
    usage: dict[str, dict] = {}
    for pod in pods:
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            continue
        entry = usage.setdefault(node, {"pods": 0, "cpu": 0.0, "memory": 0.0})
        entry["pods"] += 1
        entry["cpu"] += pod_requests(pod, "cpu")
        entry["memory"] += pod_requests(pod, "memory")
    rows = []
    for node in nodes:
        name = _meta(node).get("name", "")
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        used = usage.get(name, {"pods": 0, "cpu": 0.0, "memory": 0.0})
        cpu, memory = _quantity_or_nan(allocatable.get("cpu")), _quantity_or_nan(allocatable.get("memory"))
        pods_allocatable = _quantity_or_nan(allocatable.get("pods"))
        rows.append({
            "node": name, "pods": used["pods"], "cpu_requested": used["cpu"],
            "memory_requested": used["memory"], "cpu_allocatable": cpu,
            "memory_allocatable": memory, "pods_allocatable": pods_allocatable,
            "cpu_free": cpu - used["cpu"], "memory_free": memory - used["memory"],
            "pods_free": pods_allocatable - used["pods"],
        })
    return _frame(rows, NODE_USAGE_COLUMNS)


def pod_usage_frame(pods: Iterable[dict]) -> pd.DataFrame:
    """One row per pod: what node usage needs (namespace, name, node, phase, effective requests)."""
    rows = [{"namespace": _meta(pod).get("namespace", ""), "name": _meta(pod).get("name", ""),
             "node": (pod.get("spec") or {}).get("nodeName") or "",
             "phase": (pod.get("status") or {}).get("phase") or "",
             "cpu_request": pod_requests(pod, "cpu"), "memory_request": pod_requests(pod, "memory")}
            for pod in pods]
    return _frame(rows, POD_USAGE_COLUMNS)


def node_usage_from(pod_usage: pd.DataFrame, nodes: pd.DataFrame) -> pd.DataFrame:
    """:func:`node_usage_frame` from a :func:`pod_usage_frame` and a :func:`nodes_frame` (one row per node)."""
    active = pod_usage[(pod_usage["node"] != "") & ~pod_usage["phase"].isin(["Succeeded", "Failed"])]
    used = active.groupby("node").agg(pods=("name", "size"), cpu=("cpu_request", "sum"),
                                      memory=("memory_request", "sum"))
    names = nodes["name"]
    pods = used["pods"].reindex(names).fillna(0).astype("int64").to_numpy()
    cpu = used["cpu"].reindex(names).fillna(0.0).to_numpy(dtype=float)
    memory = used["memory"].reindex(names).fillna(0.0).to_numpy(dtype=float)
    cpu_alloc = nodes["cpu_allocatable"].to_numpy(dtype=float)
    memory_alloc = nodes["memory_allocatable"].to_numpy(dtype=float)
    pods_alloc = nodes["pods_allocatable"].to_numpy(dtype=float)
    frame = pd.DataFrame({
        "node": names.to_numpy(), "pods": pods, "cpu_requested": cpu, "memory_requested": memory,
        "cpu_allocatable": cpu_alloc, "memory_allocatable": memory_alloc, "pods_allocatable": pods_alloc,
        "cpu_free": cpu_alloc - cpu, "memory_free": memory_alloc - memory, "pods_free": pods_alloc - pods,
    }, columns=NODE_USAGE_COLUMNS)
    return frame


#: builder name -> (another builder whose frame holds its columns, how to take them): a cache that has
#: the pods frame of a file gives its pod usage without reading the file again
DERIVED = {"pod_usage_frame": ("pods_frame", lambda pods: pods[POD_USAGE_COLUMNS].copy())}


def combine(builder, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """``builder``'s frames of consecutive parts of one list, as ``builder`` makes of the whole list."""
    kept = [p for p in parts if len(p)]
    if not kept:
        return parts[0] if parts else builder([])
    frame = kept[0] if len(kept) == 1 else pd.concat(kept, ignore_index=True)
    if builder is events_frame and len(kept) > 1:  # sorted by last_seen across the parts, ties in list order
        frame = frame.sort_values("last_seen", kind="stable", na_position="first").reset_index(drop=True)
    return frame


# ------------------------------------------------------- storage, services

def pvcs_frame(claims: Iterable[dict]) -> pd.DataFrame:
    """One row per PersistentVolumeClaim."""
    rows = []
    for claim in claims:
        meta, spec, status = _meta(claim), claim.get("spec") or {}, claim.get("status") or {}
        rows.append({
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "phase": status.get("phase", ""),
            "storage_class": spec.get("storageClassName") or "",
            "volume_name": spec.get("volumeName", ""),
            "access_modes": list(spec.get("accessModes") or []),
            "requested": _quantity_or_nan(((spec.get("resources") or {}).get("requests") or {}).get("storage")),
            "volume_mode": spec.get("volumeMode", ""),
            "created": meta.get("creationTimestamp"),
        })
    return _frame(rows, PVC_COLUMNS)


def services_frame(services: Iterable[dict]) -> pd.DataFrame:
    """One row per Service."""
    rows = []
    for svc in services:
        meta, spec = _meta(svc), svc.get("spec") or {}
        rows.append({
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "type": spec.get("type", "ClusterIP"),
            "cluster_ip": spec.get("clusterIP", ""),
            "ports": list(spec.get("ports") or []),
            "selector": dict(spec.get("selector") or {}),
        })
    return _frame(rows, SERVICE_COLUMNS)


def endpoints_frame(endpoints: Iterable[dict]) -> pd.DataFrame:
    """One row per (address, port) of core/v1 Endpoints; not-ready addresses have ready=False."""
    rows = []
    for ep in endpoints:
        meta = _meta(ep)
        for subset in ep.get("subsets") or []:
            ports = subset.get("ports") or [{}]
            for ready, key in ((True, "addresses"), (False, "notReadyAddresses")):
                for address in subset.get(key) or []:
                    target = address.get("targetRef") or {}
                    for port in ports:
                        rows.append({
                            "namespace": meta.get("namespace", ""),
                            "service": meta.get("name", ""),
                            "ip": address.get("ip", ""),
                            "port": port.get("port"),
                            "port_name": port.get("name", ""),
                            "protocol": port.get("protocol", "TCP"),
                            "ready": ready,
                            "target_kind": target.get("kind", ""),
                            "target_name": target.get("name", ""),
                            "node": address.get("nodeName", ""),
                        })
    frame = _frame(rows, ENDPOINT_COLUMNS)
    frame["port"] = frame["port"].astype("Int64")
    return frame
