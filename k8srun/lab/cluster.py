"""The lab as the Kubernetes API would describe it, and its snapshot bundle.

The fault lab is a network without an API server; this module says what a
cluster running that network would answer to ``kubectl get -o json``, so
runbooks can join the cluster's view (``-p source lab``) with the node's
view (``-p target netns:k8l-...``) on a live, broken network.

:func:`cluster_objects` ``(lab, faults)`` is a pure function: the API
objects (camelCase dicts, ``{"pods": [...], "services": [...], ...}``, each
namespaced object with ``metadata.namespace``), rendered from
:data:`~k8srun.lab.topology.LAB` and the applied faults — the same way
``k8srun.lab.faults.render_kube_proxy`` renders node-a's iptables rules, so
the two views cannot drift apart:

================  ===============================================================
namespace         objects
================  ===============================================================
(cluster)         Nodes node-a (control plane, serves the API on :6443) and node-b:
                  Ready, InternalIP, podCIDR, flannel annotations; Namespaces
``default``       Pods web-a, web-b (``app=web``, container ``web``); Service
                  ``web`` (http 80 -> targetPort ``http``, https 443 -> targetPort
                  ``https``, both *named*); Service ``kubernetes`` (443 -> node-a:6443,
                  no selector, endpoints kept by the API server)
``kube-system``   Deployment/ReplicaSet/Pod ``coredns-…`` (``k8s-app=kube-dns``, on
                  node-b at the DNS pod's IP); Service ``kube-dns`` (dns 53/UDP,
                  dns-tcp 53/TCP); DaemonSet ``kube-proxy`` and a pod per node
                  (hostNetwork)
``kube-flannel``  DaemonSet ``kube-flannel-ds`` and a pod per node (hostNetwork)
================  ===============================================================

Endpoints and EndpointSlices are *derived* as the controllers derive them:
the pods a Service's selector picks, each Service port's ``targetPort``
resolved on the pod's containers (a named port the pod does not declare
leaves the pod out of that port), ready pods under ``addresses``, the others
under ``notReadyAddresses``; addresses with the same port set share one
Endpoints subset and one EndpointSlice. web-a runs no TLS server, so its
container declares only ``http`` and the ``https`` port's only backend is
web-b — exactly the backends ``LAB.services`` gives kube-proxy (a test pins
that agreement). kube-dns's ``metrics`` port (9153) is declared on the
CoreDNS container but the Service does not expose it, as kube-proxy's rules
do not carry it either.

How faults show in the API (the rest leave it unchanged — a fault in a
node's rules, routes, links or resolv.conf is invisible to the API server,
and that disagreement is what the runbooks find):

* ``dns-down`` (dnsmasq stopped): the CoreDNS container is not ready
  (``Ready``/``ContainersReady`` False), kube-dns's Endpoints list it under
  ``notReadyAddresses`` and its EndpointSlice endpoint has
  ``conditions.ready: false``; a Warning event ``Unhealthy`` "Readiness probe
  failed: HTTP probe failed with statuscode: 503" on the pod, and its log ends
  with the ready plugin's ``Still waiting on`` lines. Each node's kube-proxy
  then writes the REJECT rules for a service port without endpoints (see
  :func:`k8srun.lab.topology.kube_proxy_filter_rules`).
* ``node-unreachable`` (the router drops everything between the node
  subnets; the API server runs on node-a): node-b's kubelet cannot post its
  status, so the node lifecycle controller sets node-b's conditions
  ``Unknown`` (``NodeStatusUnknown``, "Kubelet stopped posting node
  status."), adds the ``node.kubernetes.io/unreachable`` NoSchedule/NoExecute
  taints, records a ``NodeNotReady`` event and marks node-b's pods' ``Ready``
  condition False (their container statuses stay as the kubelet last
  reported them): web-b and CoreDNS become not-ready endpoints, the agents'
  DaemonSets count one ready pod. The snapshot is the state within the pods'
  300 s ``unreachable`` toleration (no evictions yet); node-a's kube-proxy
  follows the Endpoints, node-b's keeps its rules
  (``k8srun.lab.faults.kube_proxy_tables``).
* ``svc-stale-endpoint`` / ``svc-no-dnat``: unchanged — the Endpoints list the
  live pods; node-a's rules are the stale / missing part.

:func:`write_snapshot` writes the objects as a ``kubectl cluster-info dump
--output-directory`` bundle (the layout :mod:`k8srun.sources.snapshot`
reads) with ``k8srun.json`` (``captured_at``, ``cluster_version`` and a
``lab`` section listing the applied faults), every namespace's list files
(empty lists included, so nothing reads as "not gathered") and a
``logs.txt`` per pod. ``lab up`` writes it to ``<lab state dir>/cluster``,
``break``/``fix`` rewrite it; ``cluster`` is a symlink swapped atomically to
a freshly written ``cluster.<n>`` folder, so a reader never sees half a
snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Callable, Iterable

from ..resources import NAMESPACE_FILE_STEMS
from .topology import LAB, Lab, Pod

#: the time objects are created at when no lab time is given (keeps the pure function deterministic)
LAB_EPOCH = dt.datetime(2026, 11, 1, 9, 0, 0, tzinfo=dt.timezone.utc)
K8S_VERSION = "v1.30.4"
CLUSTER_VERSION = {
    "major": "1", "minor": "30", "gitVersion": K8S_VERSION,
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596", "gitTreeState": "clean",
    "buildDate": "2024-08-14T19:29:35Z", "goVersion": "go1.22.5", "compiler": "gc",
    "platform": "linux/amd64",
}
COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.1"
WEB_IMAGE = "docker.io/library/python:3.12-slim"
FLANNEL_IMAGE = "docker.io/flannel/flannel:v0.25.6"
#: the faults that change what the API says (see the module doc)
API_FAULTS = ("dns-down", "node-unreachable")
#: what the node lifecycle controller writes on a node whose kubelet stopped posting status
NODE_UNKNOWN = ("NodeStatusUnknown", "Kubelet stopped posting node status.")
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
READINESS_503 = "Readiness probe failed: HTTP probe failed with statuscode: 503"
#: files of a namespace folder, and of the bundle root, written even when empty
NAMESPACE_FILES = NAMESPACE_FILE_STEMS
CLUSTER_FILES = ("nodes", "namespaces", "persistentvolumes", "storageclasses")
SNAPSHOT_LINK = "cluster"

_NAMESPACED = {"pods", "services", "endpoints", "endpointslices", "events", "deployments", "replicasets",
               "daemonsets", "configmaps", "leases"}
_KINDS = {"nodes": ("v1", "Node"), "namespaces": ("v1", "Namespace"), "pods": ("v1", "Pod"),
          "services": ("v1", "Service"), "endpoints": ("v1", "Endpoints"), "events": ("v1", "Event"),
          "configmaps": ("v1", "ConfigMap"), "endpointslices": ("discovery.k8s.io/v1", "EndpointSlice"),
          "leases": ("coordination.k8s.io/v1", "Lease"),
          "deployments": ("apps/v1", "Deployment"), "replicasets": ("apps/v1", "ReplicaSet"),
          "daemonsets": ("apps/v1", "DaemonSet"), "persistentvolumes": ("v1", "PersistentVolume"),
          "storageclasses": ("storage.k8s.io/v1", "StorageClass"), "persistentvolumeclaims":
          ("v1", "PersistentVolumeClaim"), "statefulsets": ("apps/v1", "StatefulSet"), "jobs": ("batch/v1", "Job"),
          "replication-controllers": ("v1", "ReplicationController")}
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# ---------------------------------------------------------------- stable values

def _hex(*parts: object, length: int = 64) -> str:
    out, counter = "", 0
    while len(out) < length:
        out += hashlib.sha256("\x1f".join(map(str, (counter, *parts))).encode()).hexdigest()
        counter += 1
    return out[:length]


def _uid(*parts: object) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "k8srun-lab/" + "/".join(map(str, parts))))


def _suffix(*parts: object, length: int = 5) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:length])


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def coredns_pod_name(lab: Lab = LAB) -> str:
    """``coredns-<replicaset hash>-<suffix>``: the API name of the lab's DNS pod."""
    return f"{lab.dns_pod.name}-{_suffix('rs', lab.dns_pod.name, length=10)}-{_suffix('pod', lab.dns_pod.name)}"


class _Builder:
    """Object metadata with stable uids and increasing resourceVersions."""

    def __init__(self, created_at: dt.datetime):
        self.created = _time(created_at)
        self._rv = 4100

    def meta(self, kind: str, name: str, namespace: str | None = None, **extra) -> dict:
        self._rv += 7
        meta = {"name": name}
        if extra.get("generateName"):
            meta["generateName"] = extra.pop("generateName")
        if namespace:
            meta["namespace"] = namespace
        meta.update(uid=_uid(kind, namespace or "", name), resourceVersion=str(self._rv),
                    creationTimestamp=extra.pop("creationTimestamp", self.created))
        meta.update({key: value for key, value in extra.items() if value})
        return meta


def _condition(kind: str, ok: bool, at: str, reason: str | None = None, message: str | None = None) -> dict:
    cond = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None, "lastTransitionTime": at}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _owner(kind: str, obj: dict, api_version: str = "apps/v1") -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"], "uid": obj["metadata"]["uid"],
            "controller": True, "blockOwnerDeletion": True}


def _port(name: str, port: int, protocol: str = "TCP") -> dict:
    return {"name": name, "containerPort": port, "protocol": protocol}


def _container(name: str, image: str, ports: list[dict], *, command: list[str] | None = None,
               args: list[str] | None = None, readiness: dict | None = None, liveness: dict | None = None) -> dict:
    container: dict = {"name": name, "image": image}
    if command:
        container["command"] = command
    if args:
        container["args"] = args
    if ports:
        container["ports"] = ports
    container["resources"] = {}
    if liveness:
        container["livenessProbe"] = liveness
    if readiness:
        container["readinessProbe"] = readiness
    container.update(terminationMessagePath="/dev/termination-log", terminationMessagePolicy="File",
                     imagePullPolicy="IfNotPresent")
    return container


def _http_probe(path: str, port: int | str, *, period: int = 10, failure: int = 3, initial: int = 0) -> dict:
    probe: dict = {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}}
    if initial:
        probe["initialDelaySeconds"] = initial
    probe.update(timeoutSeconds=1, periodSeconds=period, successThreshold=1, failureThreshold=failure)
    return probe


# ---------------------------------------------------------------- nodes and pods

def _unreachable_nodes(lab: Lab, faults: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the nodes the API server has lost (``node-unreachable``: node-b, cut off from node-a's API)."""
    return (lab.node_b.name,) if "node-unreachable" in faults else ()


def _nodes(b: _Builder, lab: Lab, faults: tuple[str, ...] = ()) -> list[dict]:
    nodes = []
    lost = _unreachable_nodes(lab, faults)
    for node in lab.nodes:
        labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                  "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux"}
        if node == lab.node_a:
            labels["node-role.kubernetes.io/control-plane"] = ""
        annotations = {
            "flannel.alpha.coreos.com/backend-data": json.dumps({"VNI": lab.vxlan_id, "VtepMAC": node.vxlan_mac},
                                                                separators=(",", ":")),
            "flannel.alpha.coreos.com/backend-type": "vxlan",
            "flannel.alpha.coreos.com/kube-subnet-manager": "true",
            "flannel.alpha.coreos.com/public-ip": node.ip,
            "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        capacity = {"cpu": "2", "ephemeral-storage": "20466256Ki", "hugepages-2Mi": "0", "memory": "4010284Ki",
                    "pods": "110"}
        allocatable = {**capacity, "ephemeral-storage": "18861321528", "memory": "3907884Ki"}
        at = b.created
        nodes.append({
            "apiVersion": "v1", "kind": "Node",
            "metadata": b.meta("Node", node.name, labels=labels, annotations=annotations),
            "spec": {"podCIDR": node.pod_cidr, "podCIDRs": [node.pod_cidr]},
            "status": {
                "capacity": capacity, "allocatable": allocatable,
                "conditions": [
                    {"type": "NetworkUnavailable", "status": "False", "lastHeartbeatTime": at,
                     "lastTransitionTime": at, "reason": "FlannelIsUp", "message": "Flannel is running on this node"},
                    *({"type": kind, "status": "False", "lastHeartbeatTime": at, "lastTransitionTime": at,
                       "reason": reason, "message": message} for kind, reason, message in (
                        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"))),
                    {"type": "Ready", "status": "True", "lastHeartbeatTime": at, "lastTransitionTime": at,
                     "reason": "KubeletReady", "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": node.ip}, {"type": "Hostname", "address": node.name}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"machineID": _hex("machine", node.name, length=32),
                             "systemUUID": _uid("system", node.name), "bootID": _uid("boot", node.name),
                             "kernelVersion": "6.1.0-27-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                             "containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": K8S_VERSION,
                             "kubeProxyVersion": K8S_VERSION, "operatingSystem": "linux", "architecture": "amd64"},
            }})
        if node.name in lost:
            _lose_node(nodes[-1], b.created)
    return nodes


def _node_leases(b: _Builder, lab: Lab, faults: tuple[str, ...], nodes: list[dict], now: dt.datetime) -> list[dict]:
    """Each kubelet's Lease in kube-node-lease: renewed every 10 s, a lost node's not since the lab came up."""
    lost = _unreachable_nodes(lab, faults)
    renewed = (now - dt.timedelta(seconds=4)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return [{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": b.meta("Lease", obj["metadata"]["name"], "kube-node-lease", ownerReferences=[
                 {"apiVersion": "v1", "kind": "Node", "name": obj["metadata"]["name"],
                  "uid": obj["metadata"]["uid"]}]),
             "spec": {"holderIdentity": obj["metadata"]["name"], "leaseDurationSeconds": 40,
                      "renewTime": b.created.replace("Z", ".000000Z") if obj["metadata"]["name"] in lost
                      else renewed}} for obj in nodes]


def _lose_node(obj: dict, at: str) -> None:
    """What the node lifecycle controller does when a kubelet stops posting status: Unknown, unreachable taints."""
    reason, message = NODE_UNKNOWN
    for cond in obj["status"]["conditions"]:
        if cond["type"] != "NetworkUnavailable":
            cond.update(status="Unknown", reason=reason, message=message, lastTransitionTime=at)
    obj["spec"]["taints"] = [{"key": UNREACHABLE_TAINT, "effect": "NoSchedule", "timeAdded": at},
                             {"key": UNREACHABLE_TAINT, "effect": "NoExecute", "timeAdded": at}]


def _mark_not_ready(pod: dict, at: str) -> None:
    """The controller's MarkPodsNotReady: the pod's Ready condition False (the kubelet's last statuses stay)."""
    for cond in pod["status"]["conditions"]:
        if cond["type"] == "Ready":
            cond.update(status="False", lastTransitionTime=at)
            cond.pop("reason", None)
            cond.pop("message", None)


def _pod(b: _Builder, name: str, namespace: str, labels: dict, containers: list[dict], *, node: str, host_ip: str,
         pod_ip: str, ready: dict[str, bool] | None = None, owner: dict | None = None, generate_name: str = "",
         host_network: bool = False, dns_policy: str = "ClusterFirst", priority_class: str = "",
         service_account: str = "default") -> dict:
    """A Running pod scheduled on ``node``; ``ready``: container name -> ready (default all ready)."""
    ready = ready or {}
    at = b.created
    statuses = []
    for container in containers:
        cname = container["name"]
        statuses.append({"name": cname, "state": {"running": {"startedAt": at}}, "lastState": {},
                         "ready": ready.get(cname, True), "restartCount": 0, "image": container["image"],
                         "imageID": container["image"].split(":")[0] + "@sha256:" + _hex("image", container["image"]),
                         "containerID": "containerd://" + _hex("container", namespace, name, cname),
                         "started": True})
    all_ready = all(s["ready"] for s in statuses)
    unready = [s["name"] for s in statuses if not s["ready"]]
    message = f"containers with unready status: [{' '.join(unready)}]" if unready else None
    spec: dict = {"containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                  "dnsPolicy": dns_policy, "serviceAccountName": service_account, "serviceAccount": service_account,
                  "nodeName": node}
    if host_network:
        spec["hostNetwork"] = True
    spec.update(securityContext={}, schedulerName="default-scheduler",
                tolerations=[{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 300},
                             {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 300}])
    if priority_class:
        spec.update(priorityClassName=priority_class,
                    priority=2000001000 if priority_class == "system-node-critical" else 2000000000)
    else:
        spec["priority"] = 0
    spec.update(enableServiceLinks=True, preemptionPolicy="PreemptLowerPriority")
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": b.meta("Pod", name, namespace, generateName=generate_name, labels=labels,
                           ownerReferences=[owner] if owner else None),
        "spec": spec,
        "status": {
            "phase": "Running",
            "conditions": [_condition("PodReadyToStartContainers", True, at), _condition("Initialized", True, at),
                           _condition("Ready", all_ready, at, "ContainersNotReady" if unready else None, message),
                           _condition("ContainersReady", all_ready, at, "ContainersNotReady" if unready else None,
                                      message),
                           _condition("PodScheduled", True, at)],
            "hostIP": host_ip, "hostIPs": [{"ip": host_ip}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
            "startTime": at, "containerStatuses": statuses, "qosClass": "BestEffort"}}


def _web_container(lab: Lab, pod: Pod) -> dict:
    """The ``web`` container: http on every web pod, https only where the lab runs the TLS server."""
    ports = [_port("http", lab.http_port)]
    if pod.ip in lab.web_https.endpoint_ips:
        ports.append(_port("https", lab.tls_port))
    return _container("web", WEB_IMAGE, ports,
                      command=["python3", "-m", "http.server", str(lab.http_port)],
                      readiness=_http_probe("/", "http"))


def _daemonset(b: _Builder, name: str, namespace: str, labels: dict, container: dict, nodes: int,
               ready: int) -> dict:
    template_labels = dict(labels)
    return {
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": b.meta("DaemonSet", name, namespace, labels=dict(labels), generation=1,
                           annotations={"deprecated.daemonset.template.generation": "1"}),
        "spec": {"selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": template_labels},
                              "spec": {"containers": [container], "hostNetwork": True,
                                       "priorityClassName": "system-node-critical",
                                       "tolerations": [{"operator": "Exists"}]}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                 "revisionHistoryLimit": 10},
        "status": {"currentNumberScheduled": nodes, "numberMisscheduled": 0, "desiredNumberScheduled": nodes,
                   "numberReady": ready, "observedGeneration": 1, "updatedNumberScheduled": nodes,
                   "numberAvailable": ready}}


def _pods_and_workloads(b: _Builder, lab: Lab, faults: tuple[str, ...]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"pods": [], "deployments": [], "replicasets": [], "daemonsets": []}
    for pod in lab.web_pods:
        out["pods"].append(_pod(b, pod.name, "default", {"app": "web"}, [_web_container(lab, pod)],
                                node=pod.node.name, host_ip=pod.node.ip, pod_ip=pod.ip))
    # CoreDNS: Deployment -> ReplicaSet -> the one pod, on the DNS pod's node and address
    dns = lab.dns_pod
    dns_ready = "dns-down" not in faults
    lost = _unreachable_nodes(lab, faults)
    dns_available = dns_ready and dns.node.name not in lost
    labels = {"k8s-app": "kube-dns"}
    coredns = _container("coredns", COREDNS_IMAGE,
                         [_port("dns", 53, "UDP"), _port("dns-tcp", 53), _port("metrics", 9153)],
                         args=["-conf", "/etc/coredns/Corefile"],
                         liveness=_http_probe("/health", 8080, initial=60, failure=5),
                         readiness=_http_probe("/ready", 8181))
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": b.meta("Deployment", dns.name, "kube-system", labels=dict(labels), generation=1,
                           annotations={"deployment.kubernetes.io/revision": "1"}),
        "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [coredns], "dnsPolicy": "Default",
                                       "priorityClassName": "system-cluster-critical",
                                       "serviceAccountName": "coredns"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1,
                   **({"readyReplicas": 1, "availableReplicas": 1} if dns_available else {"unavailableReplicas": 1}),
                   "conditions": [
                       {"type": "Available", "status": "True" if dns_available else "False",
                        "lastUpdateTime": b.created, "lastTransitionTime": b.created,
                        "reason": "MinimumReplicasAvailable" if dns_available else "MinimumReplicasUnavailable",
                        "message": "Deployment has minimum availability." if dns_available
                        else "Deployment does not have minimum availability."},
                       {"type": "Progressing", "status": "True", "lastUpdateTime": b.created,
                        "lastTransitionTime": b.created, "reason": "NewReplicaSetAvailable",
                        "message": f'ReplicaSet "{dns.name}-{_suffix("rs", dns.name, length=10)}" has '
                                   "successfully progressed."}]}}
    rs_hash = _suffix("rs", dns.name, length=10)
    replicaset = {
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": b.meta("ReplicaSet", f"{dns.name}-{rs_hash}", "kube-system",
                           labels={**labels, "pod-template-hash": rs_hash}, generation=1,
                           annotations={"deployment.kubernetes.io/desired-replicas": "1",
                                        "deployment.kubernetes.io/max-replicas": "2",
                                        "deployment.kubernetes.io/revision": "1"},
                           ownerReferences=[_owner("Deployment", deployment)]),
        "spec": {"replicas": 1, "selector": {"matchLabels": {**labels, "pod-template-hash": rs_hash}},
                 "template": deployment["spec"]["template"]},
        "status": {"replicas": 1, "fullyLabeledReplicas": 1,
                   **({"readyReplicas": 1, "availableReplicas": 1} if dns_available else {}), "observedGeneration": 1}}
    out["deployments"].append(deployment)
    out["replicasets"].append(replicaset)
    out["pods"].append(_pod(b, coredns_pod_name(lab), "kube-system", {**labels, "pod-template-hash": rs_hash},
                            [coredns], node=dns.node.name, host_ip=dns.node.ip, pod_ip=dns.ip,
                            ready={"coredns": dns_ready}, owner=_owner("ReplicaSet", replicaset),
                            generate_name=f"{replicaset['metadata']['name']}-", dns_policy="Default",
                            priority_class="system-cluster-critical", service_account="coredns"))
    # node agents: kube-proxy and flannel, one hostNetwork pod per node
    agents = (
        ("kube-system", "kube-proxy", {"k8s-app": "kube-proxy"},
         _container("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}", [],
                    command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                             "--hostname-override=$(NODE_NAME)"])),
        ("kube-flannel", "kube-flannel-ds", {"app": "flannel", "k8s-app": "flannel", "tier": "node"},
         _container("kube-flannel", FLANNEL_IMAGE, [], command=["/opt/bin/flanneld"],
                    args=["--ip-masq", "--kube-subnet-mgr"])),
    )
    for namespace, name, agent_labels, container in agents:
        ds = _daemonset(b, name, namespace, agent_labels, container, len(lab.nodes), len(lab.nodes) - len(lost))
        out["daemonsets"].append(ds)
        revision = _suffix("ds", name, length=10)
        for node in lab.nodes:
            out["pods"].append(_pod(b, f"{name}-{_suffix('dspod', name, node.name)}", namespace,
                                    {**agent_labels, "controller-revision-hash": revision,
                                     "pod-template-generation": "1"},
                                    [container], node=node.name, host_ip=node.ip, pod_ip=node.ip,
                                    owner=_owner("DaemonSet", ds), generate_name=f"{name}-", host_network=True,
                                    priority_class="system-node-critical",
                                    service_account="flannel" if namespace == "kube-flannel" else name))
    for pod in out["pods"]:
        if pod["spec"]["nodeName"] in lost:
            _mark_not_ready(pod, b.created)
    return out


# ---------------------------------------------------------------- services and endpoints

def _service_specs(lab: Lab) -> list[dict]:
    """One Service per (namespace, name) of ``lab.services``, ports in their order."""
    selectors = {("default", "web"): {"app": "web"}, ("kube-system", "kube-dns"): {"k8s-app": "kube-dns"}}
    labels = {("kube-system", "kube-dns"): {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                            "kubernetes.io/name": "CoreDNS"},
              ("default", "kubernetes"): {"component": "apiserver", "provider": "kubernetes"},
              ("default", "web"): {"app": "web"}}
    grouped: dict[tuple[str, str], list] = {}
    for service in lab.services:
        grouped.setdefault((service.namespace, service.name), []).append(service)
    specs = []
    for (namespace, name), ports in grouped.items():
        specs.append({
            "namespace": namespace, "name": name, "cluster_ip": ports[0].cluster_ip,
            "selector": selectors.get((namespace, name)), "labels": labels.get((namespace, name)),
            # the web Service names its pods' ports; the others use numbers, as kubeadm writes them
            "ports": [{"name": p.port_name, "protocol": p.protocol.upper(), "port": p.port,
                       "targetPort": p.port_name if name == "web" else p.target_port} for p in ports],
            "manual": [(ip, p.target_port) for p in ports for ip in p.endpoint_ips] if (namespace, name) not in
            selectors else None})
    return specs


def _resolve(target: int | str, protocol: str, pod: dict) -> int | None:
    """``targetPort`` on ``pod``: a number as is, a name looked up in its containers' ports (None: absent)."""
    if isinstance(target, int):
        return target
    for container in pod["spec"]["containers"]:
        for port in container.get("ports", []):
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return port["containerPort"]
    return None


def _pod_ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def _services(b: _Builder, lab: Lab, pods: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"services": [], "endpoints": [], "endpointslices": []}
    for spec in _service_specs(lab):
        namespace, name = spec["namespace"], spec["name"]
        svc_spec: dict = {"ports": spec["ports"]}
        if spec["selector"]:
            svc_spec["selector"] = spec["selector"]
        svc_spec.update(clusterIP=spec["cluster_ip"], clusterIPs=[spec["cluster_ip"]], type="ClusterIP",
                        sessionAffinity="None", ipFamilies=["IPv4"], ipFamilyPolicy="SingleStack",
                        internalTrafficPolicy="Cluster")
        service = {"apiVersion": "v1", "kind": "Service",
                   "metadata": b.meta("Service", name, namespace, labels=spec["labels"]),
                   "spec": svc_spec, "status": {"loadBalancer": {}}}
        out["services"].append(service)
        # (address dict, ready, node, pod) per backend, and its port set
        backends: list[tuple[dict, bool, str | None, dict | None, tuple]] = []
        if spec["manual"] is not None:  # the API server keeps the kubernetes Service's endpoints itself
            ports = tuple((p["name"], p["targetPort"], p["protocol"]) for p in spec["ports"])
            for ip in dict.fromkeys(ip for ip, _ in spec["manual"]):
                backends.append(({"ip": ip}, True, None, None, ports))
        else:
            for pod in pods:
                meta = pod["metadata"]
                if meta["namespace"] != namespace or not all(
                        meta.get("labels", {}).get(k) == v for k, v in spec["selector"].items()):
                    continue
                ports = tuple((p["name"], resolved, p["protocol"]) for p in spec["ports"]
                              if (resolved := _resolve(p["targetPort"], p["protocol"], pod)) is not None)
                if not ports:
                    continue
                address = {"ip": pod["status"]["podIP"], "nodeName": pod["spec"]["nodeName"],
                           "targetRef": {"kind": "Pod", "namespace": namespace, "name": meta["name"],
                                         "uid": meta["uid"]}}
                backends.append((address, _pod_ready(pod), pod["spec"]["nodeName"], pod, ports))
        by_ports: dict[tuple, list] = {}
        for backend in backends:
            by_ports.setdefault(backend[4], []).append(backend)
        groups = sorted(by_ports.items(), key=lambda item: (-len(item[0]), item[0]))
        subsets = []
        for ports, members in groups:
            subset: dict = {}
            ready = [m[0] for m in members if m[1]]
            unready = [m[0] for m in members if not m[1]]
            if ready:
                subset["addresses"] = ready
            if unready:
                subset["notReadyAddresses"] = unready
            subset["ports"] = [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports]
            subsets.append(subset)
        manual = spec["manual"] is not None
        ep_labels = dict(spec["labels"] or {})
        if manual:
            ep_labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                     "metadata": b.meta("Endpoints", name, namespace, labels=ep_labels,
                                        annotations=None if manual else {
                                            "endpoints.kubernetes.io/last-change-trigger-time": b.created})}
        if subsets:
            endpoints["subsets"] = subsets
        out["endpoints"].append(endpoints)
        for index, (ports, members) in enumerate(groups or [((), [])]):
            slice_labels = {**(spec["labels"] or {}), "kubernetes.io/service-name": name}
            if manual:  # the API server writes its own slice: only the service-name label, only "ready"
                slice_labels = {"kubernetes.io/service-name": name}
                slice_name, owners, generate = name, None, ""
            else:
                slice_labels["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io"
                slice_name, generate = f"{name}-{_suffix('slice', namespace, name, index)}", f"{name}-"
                owners = [_owner("Service", service, "v1")]
            items = []
            for address, ready, node, pod, _ in members:
                item: dict = {"addresses": [address["ip"]],
                              "conditions": {"ready": ready} if manual else
                              {"ready": ready, "serving": ready, "terminating": False}}
                if pod is not None:
                    item["targetRef"] = dict(address["targetRef"])
                    item["nodeName"] = node
                items.append(item)
            out["endpointslices"].append({
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": b.meta("EndpointSlice", slice_name, namespace, generateName=generate,
                                   labels=dict(sorted(slice_labels.items())), ownerReferences=owners,
                                   generation=1),
                "addressType": "IPv4", "endpoints": items or None,
                "ports": [{"name": n, "protocol": proto, "port": p} for n, p, proto in ports] or None})
    return out


def _events(b: _Builder, lab: Lab, faults: tuple[str, ...], pods: list[dict], now: dt.datetime) -> list[dict]:
    events = []
    for name in _unreachable_nodes(lab, faults):
        events.append({
            "apiVersion": "v1", "kind": "Event",
            "metadata": b.meta("Event", f"{name}.{_hex('event', name, 'NodeNotReady', length=16)}", "default",
                               creationTimestamp=_time(now)),
            "involvedObject": {"kind": "Node", "name": name, "uid": _uid("Node", "", name), "apiVersion": "v1"},
            "reason": "NodeNotReady", "message": f"Node {name} status is now: NodeNotReady",
            "source": {"component": "node-controller"}, "firstTimestamp": _time(now), "lastTimestamp": _time(now),
            "count": 1, "type": "Normal", "eventTime": None, "reportingComponent": "node-controller",
            "reportingInstance": ""})
    if "dns-down" in faults:
        pod = next(p for p in pods if p["metadata"]["name"] == coredns_pod_name(lab))
        meta = pod["metadata"]
        events.append({
            "apiVersion": "v1", "kind": "Event",
            "metadata": b.meta("Event", f"{meta['name']}.{_hex('event', meta['name'], 'Unhealthy', length=16)}",
                               "kube-system", creationTimestamp=_time(now)),
            "involvedObject": {"kind": "Pod", "namespace": "kube-system", "name": meta["name"], "uid": meta["uid"],
                               "apiVersion": "v1", "resourceVersion": meta["resourceVersion"],
                               "fieldPath": "spec.containers{coredns}"},
            "reason": "Unhealthy", "message": READINESS_503,
            "source": {"component": "kubelet", "host": pod["spec"]["nodeName"]},
            "firstTimestamp": _time(now), "lastTimestamp": _time(now), "count": 1, "type": "Warning",
            "eventTime": None, "reportingComponent": "kubelet", "reportingInstance": pod["spec"]["nodeName"]})
    return events


def cluster_objects(lab: Lab = LAB, faults: Iterable[str] = (), *, created_at: dt.datetime = LAB_EPOCH,
                    now: dt.datetime | None = None) -> dict[str, list[dict]]:
    """The lab's API objects with ``faults`` applied: {resource plural: [objects]} (see the module doc).

    Pure: the same arguments give the same objects. ``created_at`` is when the
    lab came up (every creationTimestamp), ``now`` when events were last seen
    (default: ten minutes later).
    """
    faults = tuple(faults)
    now = now or created_at + dt.timedelta(minutes=10)
    b = _Builder(created_at)
    namespaces = ("default", "kube-system", "kube-flannel", "kube-node-lease")
    objects: dict[str, list[dict]] = {
        "nodes": _nodes(b, lab, faults),
        "namespaces": [{"apiVersion": "v1", "kind": "Namespace",
                        "metadata": b.meta("Namespace", ns, labels={"kubernetes.io/metadata.name": ns}),
                        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}} for ns in namespaces],
    }
    objects.update(_pods_and_workloads(b, lab, faults))
    objects.update(_services(b, lab, objects["pods"]))
    objects["events"] = _events(b, lab, faults, objects["pods"], now)
    objects["leases"] = _node_leases(b, lab, faults, objects["nodes"], now)
    objects["configmaps"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": b.meta("ConfigMap", "kube-root-ca.crt", ns),
                              "data": {"ca.crt": ""}} for ns in namespaces]
    return objects


# ---------------------------------------------------------------- logs

def pod_logs(lab: Lab = LAB, faults: Iterable[str] = (), *, created_at: dt.datetime = LAB_EPOCH) -> dict:
    """{(namespace, pod name): {container: log text}} of every pod (what ``kubectl logs`` shows)."""
    faults = tuple(faults)
    stamp = created_at.astimezone(dt.timezone.utc)
    klog = stamp.strftime("%m%d %H:%M:%S")
    logs: dict[tuple[str, str], dict[str, str]] = {}
    for pod in lab.web_pods:
        logs[("default", pod.name)] = {"web": f"Serving HTTP on 0.0.0.0 port {lab.http_port} "
                                              f"(http://0.0.0.0:{lab.http_port}/) ...\n"}
    coredns = (".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
               f"{_hex('corefile', lab.cluster_domain, length=128)}\nCoreDNS-1.11.1\nlinux/amd64, go1.21.11, ae2bbc2\n")
    if "dns-down" in faults:
        # the ready plugin answers 503 while a plugin is not ready, and says which
        coredns += '[INFO] plugin/ready: Still waiting on: "kubernetes"\n' * 2
    logs[("kube-system", coredns_pod_name(lab))] = {"coredns": coredns}
    for node in lab.nodes:
        logs[("kube-system", f"kube-proxy-{_suffix('dspod', 'kube-proxy', node.name)}")] = {"kube-proxy": (
            f'I{klog}.402118       1 server_linux.go:69] "Using iptables proxy"\n'
            f'I{klog}.431902       1 server.go:1062] "Successfully retrieved node IP(s)" IPs=["{node.ip}"]\n'
            f'I{klog}.502114       1 server_linux.go:165] "Using iptables Proxier"\n'
            f"I{klog}.618042       1 shared_informer.go:320] Caches are synced for service config\n"
            f"I{klog}.618107       1 shared_informer.go:320] Caches are synced for endpoint slice config\n")}
        logs[("kube-flannel", f"kube-flannel-ds-{_suffix('dspod', 'kube-flannel-ds', node.name)}")] = {
            "kube-flannel": (
                f"I{klog}.101233       1 main.go:212] CLI flags config: {{etcdEndpoints:http://127.0.0.1:4001,"
                f"http://127.0.0.1:2379 etcdPrefix:/coreos.com/network kubeSubnetMgr:true ipMasq:true}}\n"
                f"I{klog}.203114       1 kube.go:139] Waiting 10m0s for node controller to sync\n"
                f"I{klog}.304551       1 main.go:417] Current network or subnet ({lab.cluster_cidr}, "
                f"{node.pod_cidr}) is not equal to previous one (0.0.0.0/0, 0.0.0.0/0), trying to recycle "
                "old iptables rules\n"
                f"I{klog}.512870       1 vxlan.go:141] VXLAN config: VNI={lab.vxlan_id} Port={lab.vxlan_port} "
                "GBP=false Learning=false DirectRouting=false\n"
                f"I{klog}.613301       1 main.go:481] Wrote subnet file to /run/flannel/subnet.env\n")}
    return logs


# ---------------------------------------------------------------- the bundle

def _json(obj: object) -> str:
    """JSON as kubectl prints it (4-space indent; Go HTML-escapes <, >, &)."""
    text = json.dumps(obj, indent=4, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") + "\n"


def snapshot_files(lab: Lab = LAB, faults: Iterable[str] = (), *, created_at: dt.datetime = LAB_EPOCH,
                   captured_at: dt.datetime | None = None,
                   dumps: Callable[[object], str] = _json) -> dict[str, str]:
    """The lab's bundle as {relative path: text} (layout: :mod:`k8srun.sources.snapshot`)."""
    faults = tuple(faults)
    captured_at = captured_at or created_at + dt.timedelta(minutes=10)
    objects = cluster_objects(lab, faults, created_at=created_at, now=captured_at)
    namespaces = [ns["metadata"]["name"] for ns in objects["namespaces"]]
    files: dict[str, str] = {}

    def dump(rel: str, stem: str, items: list[dict]) -> None:
        # cluster-info dump writes typed lists: the items carry no kind/apiVersion
        api_version, kind = _KINDS[stem]
        typed = [{k: v for k, v in item.items() if k not in ("kind", "apiVersion")} for item in items]
        files[rel] = dumps({"kind": f"{kind}List", "apiVersion": api_version,
                            "metadata": {"resourceVersion": str(5000 + len(files))},
                            "items": sorted(typed, key=lambda o: o["metadata"]["name"])})

    for stem in CLUSTER_FILES:
        dump(f"{stem}.json", stem, objects.get(stem, []))
    for ns in namespaces:
        for stem in NAMESPACE_FILES:
            dump(f"{ns}/{stem}.json", stem,
                 [o for o in objects.get(stem, []) if o["metadata"].get("namespace") == ns])
    for (ns, pod), containers in sorted(pod_logs(lab, faults, created_at=created_at).items()):
        files[f"{ns}/{pod}/logs.txt"] = "".join(
            f"==== START logs for container {c} of pod {ns}/{pod} ====\n{text}"
            f"==== END logs for container {c} of pod {ns}/{pod} ====\n" for c, text in containers.items())
    files["k8srun.json"] = dumps({
        "format": 1, "captured_at": _time(captured_at), "cluster_version": CLUSTER_VERSION,
        "gathered": sorted(files), "errors": [],
        "lab": {"faults": list(faults), "api_faults": [f for f in faults if f in API_FAULTS],
                "up_at": _time(created_at),
                "note": "the fault lab as the API would describe it (k8srun.lab.cluster); node state is live"}})
    return files


def snapshot_path(state_dir: Path) -> Path:
    """Where ``lab up`` keeps the snapshot: ``<state dir>/cluster`` (a symlink to the current copy)."""
    return state_dir / SNAPSHOT_LINK


def write_snapshot(folder: Path, lab: Lab = LAB, faults: Iterable[str] = (), captured_at: dt.datetime | None = None,
                   *, created_at: dt.datetime | None = None) -> Path:
    """Write the lab's bundle so that ``folder`` (a symlink) switches to it at once; returns ``folder``.

    The files go into a new sibling ``<folder>.<n>`` directory, then a
    symlink ``<folder>.<n>.link`` pointing at it is renamed over ``folder``
    (rename is atomic), then older copies are removed. ``folder`` must be a
    symlink or absent.
    """
    folder = Path(folder)
    captured_at = captured_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    created_at = created_at or captured_at
    if folder.exists() and not folder.is_symlink():
        raise FileExistsError(f"{folder} exists and is not the lab's snapshot link")
    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    taken = [int(p.name.rsplit(".", 1)[1]) for p in parent.glob(f"{folder.name}.*")
             if p.name.rsplit(".", 1)[1].isdigit()]
    target = parent / f"{folder.name}.{max(taken, default=0) + 1}"
    target.mkdir(mode=0o755)
    for rel, text in snapshot_files(lab, faults, created_at=created_at, captured_at=captured_at).items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    link = parent / f"{target.name}.link"
    link.unlink(missing_ok=True)
    os.symlink(target.name, link)
    os.replace(link, folder)
    for old in parent.glob(f"{folder.name}.*"):
        if old != target and old.name.rsplit(".", 1)[1].isdigit() and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    return folder
