"""A small snapshot bundle written from scratch, shared by the serve, live-source and capture tests.

``write_bundle(root, extra_pods=0)`` writes a k8srun bundle with every resource of
:data:`k8srun.resources.CATALOGUE`: 3 namespaces (default, kube-system, shop), a
crash-looping pod with previous logs, an unscheduled pod, events and logs.
``started_containers(source)`` names the containers that have logs.
"""

from __future__ import annotations

import json
from pathlib import Path

from factories import backoff, endpoints, event, k8s_list, meta, node, pod, pvc, service, unscheduled

CAPTURED_AT = "2024-05-14T12:00:00Z"  # after the factories' default times


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
    _write(root / "nodes.json", k8s_list("NodeList", [
        node(name, ready=ready, roles=("worker",), kubelet_version="v1.30.2", internal_ip=f"192.168.0.{10 + i}",
             pod_cidr=f"10.244.{i}.0/24")
        for i, (name, ready) in enumerate([("node-a", "True"), ("node-b", "False")])]))
    _write(root / "namespaces.json", k8s_list("NamespaceList", [
        {"metadata": meta(n), "status": {"phase": "Active"}} for n in ("default", "kube-system", "shop")]))
    pods = {
        "default": [pod("web-0", "default", node_name="node-a", containers=("app", "sidecar"),
                        init_containers=("setup",), pod_ip="10.244.0.7"),
                    pod("api-7f9c", "default", node_name="node-a", state=backoff("app", "api-7f9c", "default"),
                        restarts=4),
                    unscheduled("pending-1", "default")],
        "kube-system": [pod("coredns-abc", "kube-system", node_name="node-a", labels={"k8s-app": "kube-dns"})],
        "shop": [pod(f"cart-{i}", "shop", node_name="node-b") for i in range(extra_pods)],
    }
    events = {
        "default": [
            event("api-7f9c", "BackOff", "Back-off restarting failed container app", namespace="default", count=12,
                  first="2024-05-14T10:00:00Z", last="2024-05-14T11:58:00Z", host="node-a"),
            event("api-7f9c", "Pulled", 'Container image "registry.example.com/app:1.4.2" already present',
                  namespace="default", type_="Normal", last="2024-05-14T11:40:00Z", host="node-a"),
            event("pending-1", "FailedScheduling", "0/2 nodes are available: 2 Insufficient cpu.",
                  namespace="default", last="2024-05-14T11:59:30Z", component="default-scheduler"),
            event("web-0", "Started", "Started container app", namespace="default", type_="Normal",
                  last="2024-05-14T10:01:00Z", host="node-a"),
        ],
        "kube-system": [], "shop": [],
    }
    for ns, ns_pods in pods.items():
        _write(root / ns / "pods.json", k8s_list("PodList", ns_pods))
        _write(root / ns / "events.json", k8s_list("EventList", events[ns]))
        for name, kind, api in (("replication-controllers", "ReplicationControllerList", "v1"),
                                ("daemonsets", "DaemonSetList", "apps/v1"),
                                ("statefulsets", "StatefulSetList", "apps/v1")):
            _write(root / ns / f"{name}.json", k8s_list(kind, [], api))
        for obj in ns_pods:
            if not obj["status"].get("containerStatuses"):
                continue  # never started: no logs
            name = obj["metadata"]["name"]
            containers = [c["name"] for c in obj["spec"].get("initContainers", []) + obj["spec"]["containers"]]
            _write_text(root / ns / name / "logs.txt", "".join(
                _logs_block(ns, name, c, f"{c} of {name}: line 1\n{c} of {name}: line 2\n") for c in containers))
            if any(s["restartCount"] for s in obj["status"]["containerStatuses"]):
                _write_text(root / ns / name / "logs-previous.txt", _logs_block(
                    ns, name, "app", "starting\npanic: cannot connect to db:5432\n"))
    _write(root / "default" / "services.json", k8s_list("ServiceList", [service("web", "default",
                                                                                cluster_ip="10.96.0.20")]))
    _write(root / "default" / "endpoints.json", k8s_list("EndpointsList", [
        endpoints("web", "default", ready=[("10.244.0.7", "web-0")], node_name="node-a")]))
    _write(root / "default" / "deployments.json", k8s_list("DeploymentList", [
        {"metadata": meta("api", "default"), "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}},
                                                       "template": {"spec": {"containers": [
                                                           {"name": "app", "image": "example/app:1"}]}}},
         "status": {"replicas": 1, "updatedReplicas": 1, "readyReplicas": 0, "availableReplicas": 0}}], "apps/v1"))
    _write(root / "default" / "replicasets.json", k8s_list("ReplicaSetList", [
        {"metadata": meta("api-7f9", "default", labels={"app": "api"}),
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "api"}}},
         "status": {"replicas": 1, "readyReplicas": 0}}], "apps/v1"))
    _write(root / "default" / "configmaps.json", k8s_list("ConfigMapList", [
        {"metadata": meta("app-config", "default"), "data": {"DB_HOST": "", "LOG_LEVEL": ""}}]))
    _write(root / "default" / "persistentvolumeclaims.json", k8s_list("PersistentVolumeClaimList", [
        pvc("data-web-0", "default", phase="Pending", size="1Gi")]))
    _write(root / "default" / "jobs.json", k8s_list("JobList", [
        {"metadata": meta("migrate", "default"), "spec": {"completions": 1},
         "status": {"failed": 2}}], "batch/v1"))
    _write(root / "default" / "endpointslices.json", k8s_list("EndpointSliceList", [
        {"metadata": meta("web-x1", "default", labels={"kubernetes.io/service-name": "web"}),
         "addressType": "IPv4", "endpoints": [{"addresses": ["10.244.0.7"], "conditions": {"ready": True}}],
         "ports": [{"port": 8080, "protocol": "TCP"}]}], "discovery.k8s.io/v1"))
    _write(root / "kube-system" / "leases.json", k8s_list("LeaseList", [
        {"metadata": meta("kube-scheduler", "kube-system"),
         "spec": {"holderIdentity": "node-a_0b8e", "leaseDurationSeconds": 15,
                  "renewTime": "2024-05-14T11:59:58.120000Z"}}], "coordination.k8s.io/v1"))
    for ns in ("default", "shop"):
        _write(root / ns / "leases.json", k8s_list("LeaseList", [], "coordination.k8s.io/v1"))
    _write(root / "persistentvolumes.json", k8s_list("PersistentVolumeList", []))
    _write(root / "storageclasses.json", k8s_list("StorageClassList", [
        {"metadata": meta("standard"), "provisioner": "rancher.io/local-path",
         "volumeBindingMode": "WaitForFirstConsumer"}], "storage.k8s.io/v1"))
    for ns in ("kube-system", "shop"):
        for name, kind, api in (("services", "ServiceList", "v1"), ("endpoints", "EndpointsList", "v1"),
                                ("deployments", "DeploymentList", "apps/v1"),
                                ("replicasets", "ReplicaSetList", "apps/v1")):
            _write(root / ns / f"{name}.json", k8s_list(kind, [], api))
    return root


def started_containers(source) -> list[tuple[str, str, str]]:
    """(namespace, pod, container) of every container with a status: those that have logs."""
    out = []
    for obj in source.list("pods"):
        status = obj.get("status") or {}
        for cs in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
            out.append((obj["metadata"]["namespace"], obj["metadata"]["name"], cs["name"]))
    return out


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
