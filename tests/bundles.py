"""A small snapshot bundle written from scratch, shared by the serve, live-source and capture tests.

``write_bundle(root, extra_pods=0)`` writes a k8srun bundle with every resource of
:data:`k8srun.resources.CATALOGUE`: 3 namespaces (default, kube-system, shop), a
crash-looping pod with previous logs, an unscheduled pod, events and logs.
``started_containers(source)`` names the containers that have logs.
"""

from __future__ import annotations

import json
from pathlib import Path

CAPTURED_AT = "2024-05-01T12:00:00Z"


def _meta(name, namespace=None, uid=None, created="2024-05-01T10:00:00Z", labels=None):
    meta = {"name": name, "uid": uid or f"uid-{namespace or 'cluster'}-{name}", "creationTimestamp": created,
            "resourceVersion": "100"}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    return meta


def _pod(namespace, name, *, node="node-a", phase="Running", containers=("app",), restarts=0, ready=True,
         init=(), labels=None, waiting=None):
    statuses = []
    for c in containers:
        state = {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2024-05-01T11:00:00Z"}}
        status = {"name": c, "image": f"example/{c}:1", "imageID": "", "ready": ready and not waiting,
                  "restartCount": restarts, "started": not waiting, "state": state, "lastState": {}}
        if restarts:
            status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error",
                                                  "startedAt": "2024-05-01T11:50:00Z",
                                                  "finishedAt": "2024-05-01T11:55:00Z"}}
        statuses.append(status)
    init_statuses = [{"name": c, "image": f"example/{c}:1", "imageID": "", "ready": True, "restartCount": 0,
                      "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}, "lastState": {}}
                     for c in init]
    pod = {
        "metadata": _meta(name, namespace, labels=labels or {"app": name.rsplit("-", 1)[0]}),
        "spec": {"containers": [{"name": c, "image": f"example/{c}:1"} for c in containers],
                 "initContainers": [{"name": c, "image": f"example/{c}:1"} for c in init],
                 "restartPolicy": "Always"},
        "status": {"phase": phase, "podIP": "10.244.0.%d" % (len(name) % 250 + 2),
                   "containerStatuses": statuses if phase == "Running" else [],
                   "initContainerStatuses": init_statuses,
                   "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }
    if not init:
        del pod["spec"]["initContainers"]
        del pod["status"]["initContainerStatuses"]
    if node:
        pod["spec"]["nodeName"] = node
    return pod


def _event(namespace, obj_kind, obj_name, reason, message, last, *, type_="Normal", count=1, uid=None):
    return {
        "metadata": _meta(f"{obj_name}.{reason.lower()}{last[-3:-1]}", namespace),
        "involvedObject": {"kind": obj_kind, "namespace": namespace, "name": obj_name,
                           "uid": uid or f"uid-{namespace}-{obj_name}", "apiVersion": "v1"},
        "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": "2024-05-01T10:00:00Z", "lastTimestamp": last,
        "source": {"component": "kubelet", "host": "node-a"},
    }


def _node(name, ready="True"):
    return {
        "metadata": _meta(name, labels={"kubernetes.io/hostname": name, "node-role.kubernetes.io/worker": ""}),
        "spec": {"podCIDR": "10.244.0.0/24"},
        "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletReady",
                                   "lastHeartbeatTime": "2024-05-01T11:59:00Z",
                                   "lastTransitionTime": "2024-05-01T10:00:00Z", "message": "kubelet is ready"}],
                   "addresses": [{"type": "InternalIP", "address": "192.168.0.10"},
                                 {"type": "Hostname", "address": name}],
                   "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                   "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
                   "nodeInfo": {"kubeletVersion": "v1.30.2", "osImage": "Debian GNU/Linux 12",
                                "kernelVersion": "6.1.0", "containerRuntimeVersion": "containerd://1.7.0",
                                "architecture": "amd64", "operatingSystem": "linux"}},
    }


def _list(kind, items, api_version="v1"):
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "100"}, "items": items}


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def _logs_block(namespace, pod, container, text):
    return (f"==== START logs for container {container} of pod {namespace}/{pod} ====\n{text}"
            f"==== END logs for container {container} of pod {namespace}/{pod} ====\n")


def write_bundle(root: Path, *, extra_pods: int = 0) -> Path:
    """A small k8srun bundle with every resource: 3 namespaces, a crash-looping pod, events, logs.

    ``extra_pods`` adds ``cart-N`` pods in namespace ``shop`` on node-b (for pagination).
    """
    _write(root / "k8srun.json", {"captured_at": CAPTURED_AT, "cluster_version": "v1.30.2",
                                  "gathered": ["nodes", "pods", "events"], "errors": []})
    _write(root / "nodes.json", _list("NodeList", [_node("node-a"), _node("node-b", ready="False")]))
    _write(root / "namespaces.json", _list("NamespaceList", [
        {"metadata": _meta(n), "status": {"phase": "Active"}} for n in ("default", "kube-system", "shop")]))
    pods = {
        "default": [_pod("default", "web-0", containers=("app", "sidecar"), init=("setup",)),
                    _pod("default", "api-7f9c", restarts=4, ready=False, waiting="CrashLoopBackOff"),
                    _pod("default", "pending-1", node=None, phase="Pending")],
        "kube-system": [_pod("kube-system", "coredns-abc", labels={"k8s-app": "kube-dns"})],
        "shop": [_pod("shop", f"cart-{i}", node="node-b") for i in range(extra_pods)],
    }
    events = {
        "default": [
            _event("default", "Pod", "api-7f9c", "BackOff", "Back-off restarting failed container app",
                   "2024-05-01T11:58:00Z", type_="Warning", count=12),
            _event("default", "Pod", "api-7f9c", "Pulled", "Container image \"example/app:1\" already present",
                   "2024-05-01T11:40:00Z"),
            _event("default", "Pod", "pending-1", "FailedScheduling",
                   "0/2 nodes are available: 2 Insufficient cpu.", "2024-05-01T11:59:30Z", type_="Warning"),
            _event("default", "Pod", "web-0", "Started", "Started container app", "2024-05-01T10:01:00Z"),
        ],
        "kube-system": [], "shop": [],
    }
    for ns, ns_pods in pods.items():
        _write(root / ns / "pods.json", _list("PodList", ns_pods))
        _write(root / ns / "events.json", _list("EventList", events[ns]))
        for name, kind, api in (("replication-controllers", "ReplicationControllerList", "v1"),
                                ("daemonsets", "DaemonSetList", "apps/v1"),
                                ("statefulsets", "StatefulSetList", "apps/v1")):
            _write(root / ns / f"{name}.json", _list(kind, [], api))
        for pod in ns_pods:
            if not pod["status"]["containerStatuses"]:
                continue  # never started: no logs
            name = pod["metadata"]["name"]
            containers = [c["name"] for c in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]]
            _write_text(root / ns / name / "logs.txt", "".join(
                _logs_block(ns, name, c, f"{c} of {name}: line 1\n{c} of {name}: line 2\n") for c in containers))
            if any(s["restartCount"] for s in pod["status"]["containerStatuses"]):
                _write_text(root / ns / name / "logs-previous.txt", _logs_block(
                    ns, name, "app", "starting\npanic: cannot connect to db:5432\n"))
    _write(root / "default" / "services.json", _list("ServiceList", [
        {"metadata": _meta("web", "default"), "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.20",
                                                       "selector": {"app": "web"},
                                                       "ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}}]))
    _write(root / "default" / "endpoints.json", _list("EndpointsList", [
        {"metadata": _meta("web", "default"), "subsets": [
            {"addresses": [{"ip": "10.244.0.7", "targetRef": {"kind": "Pod", "name": "web-0"}}],
             "ports": [{"port": 8080, "protocol": "TCP"}]}]}]))
    _write(root / "default" / "deployments.json", _list("DeploymentList", [
        {"metadata": _meta("api", "default"), "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                                                       "template": {"spec": {"containers": [
                                                           {"name": "app", "image": "example/app:1"}]}}},
         "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 0, "availableReplicas": 0}}], "apps/v1"))
    _write(root / "default" / "replicasets.json", _list("ReplicaSetList", [
        {"metadata": _meta("api-7f9", "default", labels={"app": "api"}),
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}},
         "status": {"replicas": 1, "readyReplicas": 0}}], "apps/v1"))
    _write(root / "default" / "configmaps.json", _list("ConfigMapList", [
        {"metadata": _meta("app-config", "default"), "data": {"DB_HOST": "", "LOG_LEVEL": ""}}]))
    _write(root / "default" / "persistentvolumeclaims.json", _list("PersistentVolumeClaimList", [
        {"metadata": _meta("data-web-0", "default"),
         "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                  "resources": {"requests": {"storage": "1Gi"}}},
         "status": {"phase": "Pending"}}]))
    _write(root / "default" / "jobs.json", _list("JobList", [
        {"metadata": _meta("migrate", "default"), "spec": {"completions": 1},
         "status": {"failed": 2}}], "batch/v1"))
    _write(root / "default" / "endpointslices.json", _list("EndpointSliceList", [
        {"metadata": _meta("web-x1", "default", labels={"kubernetes.io/service-name": "web"}),
         "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.0.7"], "conditions": {"ready": True}}],
         "ports": [{"port": 8080, "protocol": "TCP"}]}], "discovery.k8s.io/v1"))
    _write(root / "persistentvolumes.json", _list("PersistentVolumeList", []))
    _write(root / "storageclasses.json", _list("StorageClassList", [
        {"metadata": _meta("standard"), "provisioner": "rancher.io/local-path",
         "volumeBindingMode": "WaitForFirstConsumer"}], "storage.k8s.io/v1"))
    for ns in ("kube-system", "shop"):
        for name, kind, api in (("services", "ServiceList", "v1"), ("endpoints", "EndpointsList", "v1"),
                                ("deployments", "DeploymentList", "apps/v1"),
                                ("replicasets", "ReplicaSetList", "apps/v1")):
            _write(root / ns / f"{name}.json", _list(kind, [], api))
    return root


def started_containers(source) -> list[tuple[str, str, str]]:
    """(namespace, pod, container) of every container with a status: those that have logs."""
    out = []
    for pod in source.list("pods"):
        status = pod.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            out.append((pod["metadata"]["namespace"], pod["metadata"]["name"], cs["name"]))
    return out


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
