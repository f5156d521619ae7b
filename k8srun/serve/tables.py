"""Server-side ``meta.k8s.io/v1`` Tables, as ``kubectl get`` asks for them.

``kubectl get`` prints whatever columns the API server's Table holds (it has no
client-side printers for built-in kinds), so the read-only server renders the
common kinds with the apiserver's own columns. ``to_table(kind, objects, now,
include_object)`` returns::

    {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {...},
     "columnDefinitions": [{"name": "Name", "type": "string", "format": "name",
                            "description": "...", "priority": 0}, ...],
     "rows": [{"cells": ["web-0", "1/1", "Running", "0", "5m"],
               "object": {"kind": "PartialObjectMetadata", ...}}]}

``priority: 1`` columns show with ``-o wide``. Ages are relative to ``now``
(a snapshot's capture time), so they read as they did when it was taken.
Kinds without a printer get ``Name`` and ``Age``, like custom resources.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from ..frames import kubectl_pod_columns

Column = tuple[str, str, int]  # name, type, priority


def parse_time(value: str | None) -> dt.datetime | None:
    """An RFC 3339 timestamp from an object, or None."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def human_duration(seconds: float) -> str:
    """A duration the way kubectl prints ages (``45s``, ``3m12s``, ``5h``, ``12d``)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        years, days = hours // 24 // 365, (hours // 24) % 365
        return f"{years}y" if days == 0 else f"{years}y{days}d"
    return f"{hours // 24 // 365}y"


def _age(value: str | None, now: dt.datetime) -> str:
    when = parse_time(value)
    return human_duration((now - when).total_seconds()) if when else "<unknown>"


def _created(obj: dict, now: dt.datetime) -> str:
    return _age(obj.get("metadata", {}).get("creationTimestamp"), now)


def _selector(match_labels: dict | None) -> str:
    return ",".join(f"{k}={v}" for k, v in (match_labels or {}).items()) or "<none>"


def _containers(obj: dict) -> tuple[str, str]:
    specs = obj.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    return ",".join(c.get("name", "") for c in specs), ",".join(c.get("image", "") for c in specs)


def _pod_row(pod: dict, now: dt.datetime) -> list:
    reason, ready, total, restarts, last_restart = kubectl_pod_columns(pod)
    restart_text = str(restarts)
    if restarts and last_restart:
        restart_text += f" ({human_duration((now - last_restart).total_seconds())} ago)"
    status = pod.get("status", {})
    gates = pod.get("spec", {}).get("readinessGates") or []
    gate_text = "<none>"
    if gates:
        true_conditions = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
        gate_text = f"{sum(g.get('conditionType') in true_conditions for g in gates)}/{len(gates)}"
    return [pod["metadata"]["name"], f"{ready}/{total}", reason, restart_text, _created(pod, now),
            status.get("podIP") or "<none>", pod.get("spec", {}).get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", gate_text]


def _node_row(node: dict, now: dt.datetime) -> list:
    status = node.get("status", {})
    ready = next((c.get("status") for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = {"True": "Ready", "False": "NotReady"}.get(ready, "Unknown")
    if node.get("spec", {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = node.get("metadata", {}).get("labels") or {}
    roles = sorted({k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/")} |
                   ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set()))
    addresses = status.get("addresses") or []
    def address(kind):
        return next((a.get("address") for a in addresses if a.get("type") == kind), "<none>")
    info = status.get("nodeInfo", {})
    return [node["metadata"]["name"], state, ",".join(roles) or "<none>", _created(node, now),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage", "<unknown>"), info.get("kernelVersion", "<unknown>"),
            info.get("containerRuntimeVersion", "<unknown>")]


def _event_row(event: dict, now: dt.datetime) -> list:
    inv = event.get("involvedObject") or event.get("regarding") or {}
    first = event.get("firstTimestamp") or event.get("eventTime")
    last = event.get("lastTimestamp") or event.get("eventTime") or first
    count = event.get("count") or event.get("series", {}).get("count") or 1
    last_seen = _age(last, now)
    if count > 1:
        last_seen = f"{last_seen} (x{count} over {_age(first, now)})"
    source = event.get("source", {})
    source_text = ", ".join(v for v in (source.get("component") or event.get("reportingComponent"),
                                        source.get("host")) if v) or "<none>"
    return [last_seen, event.get("type", ""), event.get("reason", ""),
            f"{inv.get('kind', '').lower()}/{inv.get('name', '')}", inv.get("fieldPath", ""),
            source_text, (event.get("message") or event.get("note") or "").strip(),
            _age(first, now), count, event["metadata"]["name"]]


def _service_row(svc: dict, now: dt.datetime) -> list:
    spec = svc.get("spec", {})
    external = [i.get("ip") or i.get("hostname") for i in svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []]
    external += spec.get("externalIPs") or []
    if spec.get("type") == "ExternalName":
        external = [spec.get("externalName", "")]
    ext_text = ",".join(e for e in external if e) or ("<pending>" if spec.get("type") == "LoadBalancer" else "<none>")
    ports = []
    for p in spec.get("ports") or []:
        text = str(p.get("port"))
        if p.get("nodePort"):
            text += f":{p['nodePort']}"
        ports.append(f"{text}/{p.get('protocol', 'TCP')}")
    return [svc["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP") or "<none>",
            ext_text, ",".join(ports) or "<none>", _created(svc, now), _selector(spec.get("selector"))]


def _endpoints_row(ep: dict, now: dt.datetime) -> list:
    pairs = []
    for subset in ep.get("subsets") or []:
        for address in subset.get("addresses") or []:
            for p in subset.get("ports") or [{}]:
                pairs.append(f"{address.get('ip')}:{p['port']}" if "port" in p else address.get("ip", ""))
    text = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [ep["metadata"]["name"], text or "<none>", _created(ep, now)]


def _deployment_row(d: dict, now: dt.datetime) -> list:
    status = d.get("status", {})
    names, images = _containers(d)
    return [d["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{d.get('spec', {}).get('replicas', 1)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _created(d, now),
            names, images, _selector(d.get("spec", {}).get("selector", {}).get("matchLabels"))]


def _replicaset_row(rs: dict, now: dt.datetime) -> list:
    status = rs.get("status", {})
    names, images = _containers(rs)
    return [rs["metadata"]["name"], rs.get("spec", {}).get("replicas", 1), status.get("replicas", 0),
            status.get("readyReplicas", 0), _created(rs, now), names, images,
            _selector(rs.get("spec", {}).get("selector", {}).get("matchLabels"))]


def _daemonset_row(ds: dict, now: dt.datetime) -> list:
    status = ds.get("status", {})
    names, images = _containers(ds)
    node_selector = ds.get("spec", {}).get("template", {}).get("spec", {}).get("nodeSelector")
    return [ds["metadata"]["name"], status.get("desiredNumberScheduled", 0), status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0), status.get("updatedNumberScheduled", 0),
            status.get("numberAvailable", 0), _selector(node_selector), _created(ds, now), names, images,
            _selector(ds.get("spec", {}).get("selector", {}).get("matchLabels"))]


def _statefulset_row(sts: dict, now: dt.datetime) -> list:
    names, images = _containers(sts)
    return [sts["metadata"]["name"],
            f"{sts.get('status', {}).get('readyReplicas', 0)}/{sts.get('spec', {}).get('replicas', 1)}",
            _created(sts, now), names, images]


def _pvc_row(pvc: dict, now: dt.datetime) -> list:
    spec, status = pvc.get("spec", {}), pvc.get("status", {})
    phase = "Terminating" if pvc.get("metadata", {}).get("deletionTimestamp") else status.get("phase", "")
    bound = phase == "Bound"
    modes = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
    return [pvc["metadata"]["name"], phase, spec.get("volumeName", "") if bound else "",
            status.get("capacity", {}).get("storage", "") if bound else "",
            ",".join(modes.get(m, m) for m in status.get("accessModes") or []) if bound else "",
            spec.get("storageClassName") or "<unset>", _created(pvc, now), spec.get("volumeMode", "<unset>")]


def _namespace_row(ns: dict, now: dt.datetime) -> list:
    return [ns["metadata"]["name"], ns.get("status", {}).get("phase", "Active"), _created(ns, now)]


def _configmap_row(cm: dict, now: dt.datetime) -> list:
    return [cm["metadata"]["name"], len(cm.get("data") or {}) + len(cm.get("binaryData") or {}), _created(cm, now)]


def _default_row(obj: dict, now: dt.datetime) -> list:
    return [obj["metadata"]["name"], _created(obj, now)]


_NAME: Column = ("Name", "string", 0)
_AGE: Column = ("Age", "string", 0)
_WORKLOAD_WIDE: list[Column] = [("Containers", "string", 1), ("Images", "string", 1), ("Selector", "string", 1)]

PRINTERS: dict[str, tuple[list[Column], Callable[[dict, dt.datetime], list]]] = {
    "Pod": ([_NAME, ("Ready", "string", 0), ("Status", "string", 0), ("Restarts", "string", 0), _AGE,
             ("IP", "string", 1), ("Node", "string", 1), ("Nominated Node", "string", 1),
             ("Readiness Gates", "string", 1)], _pod_row),
    "Node": ([_NAME, ("Status", "string", 0), ("Roles", "string", 0), _AGE, ("Version", "string", 0),
              ("Internal-IP", "string", 1), ("External-IP", "string", 1), ("OS-Image", "string", 1),
              ("Kernel-Version", "string", 1), ("Container-Runtime", "string", 1)], _node_row),
    "Event": ([("Last Seen", "string", 0), ("Type", "string", 0), ("Reason", "string", 0),
               ("Object", "string", 0), ("Subobject", "string", 1), ("Source", "string", 1),
               ("Message", "string", 0), ("First Seen", "string", 1), ("Count", "integer", 1),
               ("Name", "string", 1)], _event_row),
    "Service": ([_NAME, ("Type", "string", 0), ("Cluster-IP", "string", 0), ("External-IP", "string", 0),
                 ("Port(s)", "string", 0), _AGE, ("Selector", "string", 1)], _service_row),
    "Endpoints": ([_NAME, ("Endpoints", "string", 0), _AGE], _endpoints_row),
    "Deployment": ([_NAME, ("Ready", "string", 0), ("Up-to-date", "integer", 0), ("Available", "integer", 0),
                    _AGE, *_WORKLOAD_WIDE], _deployment_row),
    "ReplicaSet": ([_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
                    _AGE, *_WORKLOAD_WIDE], _replicaset_row),
    "DaemonSet": ([_NAME, ("Desired", "integer", 0), ("Current", "integer", 0), ("Ready", "integer", 0),
                   ("Up-to-date", "integer", 0), ("Available", "integer", 0), ("Node Selector", "string", 0),
                   _AGE, *_WORKLOAD_WIDE], _daemonset_row),
    "StatefulSet": ([_NAME, ("Ready", "string", 0), _AGE, ("Containers", "string", 1), ("Images", "string", 1)],
                    _statefulset_row),
    "PersistentVolumeClaim": ([_NAME, ("Status", "string", 0), ("Volume", "string", 0),
                               ("Capacity", "string", 0), ("Access Modes", "string", 0),
                               ("StorageClass", "string", 0), _AGE, ("VolumeMode", "string", 1)], _pvc_row),
    "Namespace": ([_NAME, ("Status", "string", 0), _AGE], _namespace_row),
    "ConfigMap": ([_NAME, ("Data", "integer", 0), _AGE], _configmap_row),
}


def _row_object(obj: dict, include_object: str) -> dict | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def to_table(kind: str, objects: list[dict], now: dt.datetime, include_object: str = "Metadata",
             list_metadata: dict | None = None) -> dict:
    """A ``meta.k8s.io/v1`` Table of ``objects`` (all of ``kind``) with kubectl's columns."""
    columns, row_of = PRINTERS.get(kind, ([_NAME, _AGE], _default_row))
    rows = []
    for obj in objects:
        row = {"cells": row_of(obj, now)}
        included = _row_object(obj, include_object)
        if included is not None:
            row["object"] = included
        rows.append(row)
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_metadata or {},
        "columnDefinitions": [
            {"name": name, "type": type_, "format": "name" if name == "Name" else "",
             "description": name, "priority": priority}
            for name, type_, priority in columns],
        "rows": rows,
    }
