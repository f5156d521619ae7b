#!/usr/bin/env python3
"""Generate the built-in recorded scenarios (snapshot bundles) of k8srun.

Usage::

    python tools/build_scenarios.py [--out DIR]      # default: k8srun/scenarios

Writes one directory per scenario, deterministically (fixed capture time
2026-11-20T14:05:00Z, uids/names/resourceVersions derived from stable hashes
and counters), so the committed output is reproducible byte for byte.

Each scenario directory is a ``kubectl cluster-info dump --output-directory``
tree in JSON plus k8srun's additions (SPEC.md "Snapshot bundle")::

    k8srun.json            {"format": 1, "captured_at", "cluster_version", "gathered", "errors"}
    scenario.yaml          {description, runbook, namespace, expected_codes, absent_codes}
    nodes.json namespaces.json persistentvolumes.json storageclasses.json
    <ns>/events.json replication-controllers.json services.json daemonsets.json
    <ns>/deployments.json replicasets.json pods.json
    <ns>/endpoints.json endpointslices.json persistentvolumeclaims.json
    <ns>/statefulsets.json jobs.json configmaps.json (keys only: values are "")
    <ns>/<pod>/logs.txt            one START/END block per container, init first
    <ns>/<pod>/logs-previous.txt   blocks only for containers with a previous run

Objects follow Kubernetes v1.30 shapes and the messages the scheduler,
kubelet (containerd 1.7 runtime) and controllers emit. Scheduler events are
events.k8s.io events seen through core/v1 (``eventTime``/``series``, null
``firstTimestamp``/``lastTimestamp``, empty ``source``), as on a real cluster.
Events of deleted objects are left out so every involvedObject resolves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from k8srun.resources import CATALOGUE

CAPTURED_AT = dt.datetime(2026, 11, 20, 14, 5, 0, tzinfo=dt.timezone.utc)
MIN, HOUR, DAY = 60, 3600, 86400
K8S_VERSION = "v1.30.4"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "k8srun" / "scenarios"

CLUSTER_VERSION = {
    "major": "1", "minor": "30", "gitVersion": K8S_VERSION,
    "gitCommit": "a51b3b711150f57ffc1f526a640ec058514ed596", "gitTreeState": "clean",
    "buildDate": "2024-08-14T19:29:35Z", "goVersion": "go1.22.5", "compiler": "gc",
    "platform": "linux/amd64",
}

# kubectl's List kinds per dump file stem: (kind, apiVersion)
LIST_KINDS = {r.file_stem: (r.list_kind, r.group_version) for r in CATALOGUE.values()}
CLUSTER_FILES = ("nodes", "namespaces", "persistentvolumes", "storageclasses")
NAMESPACE_FILES = ("events", "replication-controllers", "services", "daemonsets", "deployments",
                   "replicasets", "pods", "endpoints", "endpointslices", "persistentvolumeclaims",
                   "statefulsets", "jobs", "configmaps")

# Go struct field order, so the JSON reads like kubectl's output
POD_SPEC_ORDER = (
    "volumes", "initContainers", "containers", "restartPolicy", "terminationGracePeriodSeconds",
    "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount",
    "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "securityContext",
    "imagePullSecrets", "hostname", "subdomain", "affinity", "schedulerName", "tolerations",
    "priorityClassName", "priority", "dnsConfig", "enableServiceLinks", "preemptionPolicy")
CONTAINER_ORDER = (
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources",
    "volumeMounts", "livenessProbe", "readinessProbe", "startupProbe", "terminationMessagePath",
    "terminationMessagePolicy", "imagePullPolicy", "securityContext")

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery rand.String alphabet


# ---------------------------------------------------------------- stable values

def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()


def stable_hex(*parts: object, length: int = 64) -> str:
    """Hex string derived from ``parts`` (container ids, image digests)."""
    out = ""
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(_digest(counter, *parts)).hexdigest()
        counter += 1
    return out[:length]


def stable_uid(*parts: object) -> str:
    """A version-4-shaped UUID derived from ``parts``."""
    h = stable_hex("uid", *parts, length=32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:]}"


def name_suffix(*parts: object, length: int = 5) -> str:
    """A generated-name suffix (``-x2k4q``) in the API server's alphabet."""
    return "".join(SUFFIX_ALPHABET[b % len(SUFFIX_ALPHABET)] for b in _digest("suffix", *parts)[:length])


def when(ago_s: float) -> str:
    """RFC 3339 time ``ago_s`` seconds before capture (metav1.Time, seconds)."""
    return (CAPTURED_AT - dt.timedelta(seconds=ago_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def when_micro(ago_s: float, *parts: object) -> str:
    """metav1.MicroTime ``ago_s`` before capture, with stable microseconds."""
    micros = int.from_bytes(_digest("micro", ago_s, *parts)[:4], "big") % 1_000_000
    moment = CAPTURED_AT - dt.timedelta(seconds=ago_s) + dt.timedelta(microseconds=micros)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: fields whose Go type is a map: encoding/json writes their keys sorted
MAP_FIELDS = frozenset({"labels", "annotations", "nodeSelector", "limits", "requests", "capacity",
                        "allocatable", "data", "matchLabels", "selector"})


def _sorted_maps(value: object, key: str = "") -> object:
    if isinstance(value, dict):
        items = sorted(value.items()) if key in MAP_FIELDS else value.items()
        return {k: _sorted_maps(v, k) for k, v in items}
    if isinstance(value, list):
        return [_sorted_maps(v) for v in value]
    return value


def go_json(obj: object) -> str:
    """JSON as Go's encoding/json + kubectl print it: 4-space indent, sorted maps, HTML-escaped."""
    text = json.dumps(_sorted_maps(obj), indent=4, ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")) + "\n"


def ordered(mapping: dict, order: tuple[str, ...]) -> dict:
    """``mapping`` with keys in ``order`` (unknown keys last, in insertion order)."""
    out = {k: mapping[k] for k in order if k in mapping}
    out.update((k, v) for k, v in mapping.items() if k not in out)
    return out






def normalized_image(image: str) -> str:
    """``busybox:1.36`` -> ``docker.io/library/busybox:1.36`` (what containerd reports)."""
    first = image.split("/", 1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image


def image_id(image: str) -> str:
    """``repo@sha256:...`` as containerd reports imageID."""
    repo = normalized_image(image).rsplit(":", 1)[0]
    return f"{repo}@sha256:{stable_hex('image', image)}"


# ---------------------------------------------------------------- spec helpers

def http_probe(path: str, port: int | str, *, initial: int = 0, period: int = 10, timeout: int = 1,
               failure: int = 3, host: str | None = None, scheme: str = "HTTP") -> dict:
    """A Probe with httpGet, defaults filled in as the API server does."""
    get = {"path": path, "port": port}
    if host:
        get["host"] = host
    get["scheme"] = scheme
    probe = {"httpGet": get}
    if initial:
        probe["initialDelaySeconds"] = initial
    probe.update(timeoutSeconds=timeout, periodSeconds=period, successThreshold=1,
                 failureThreshold=failure)
    return probe


def container(name: str, image: str, *, ports: tuple = (), requests: dict | None = None,
              limits: dict | None = None, command: list | None = None, args: list | None = None,
              env: list | None = None, env_from: list | None = None, liveness: dict | None = None,
              readiness: dict | None = None, startup: dict | None = None, mounts: list | None = None,
              security: dict | None = None, pull_policy: str | None = None) -> dict:
    """A defaulted core/v1 Container; ``ports`` are (name, port[, protocol]) tuples."""
    spec: dict = {"name": name, "image": image}
    if command:
        spec["command"] = command
    if args:
        spec["args"] = args
    if ports:
        spec["ports"] = [{"name": p[0], "containerPort": p[1],
                          "protocol": p[2] if len(p) > 2 else "TCP"} for p in ports]
    if env_from:
        spec["envFrom"] = env_from
    if env:
        spec["env"] = env
    resources = {}
    if limits:
        resources["limits"] = limits
    if requests:
        resources["requests"] = requests
    spec["resources"] = resources
    if mounts:
        spec["volumeMounts"] = mounts
    for key, probe in (("livenessProbe", liveness), ("readinessProbe", readiness),
                       ("startupProbe", startup)):
        if probe:
            spec[key] = probe
    spec["terminationMessagePath"] = "/dev/termination-log"
    spec["terminationMessagePolicy"] = "File"
    spec["imagePullPolicy"] = pull_policy or ("Always" if image.endswith(":latest") else "IfNotPresent")
    if security:
        spec["securityContext"] = security
    return spec


def env_value(name: str, value: str) -> dict:
    return {"name": name, "value": value}


def env_secret(name: str, secret: str, key: str) -> dict:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def env_field(name: str, path: str) -> dict:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


DEFAULT_TOLERATIONS = [
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
     "tolerationSeconds": 300},
]
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


# ---------------------------------------------------------------- container runs

@dataclass
class Run:
    """The observed status of one container: state, previous state, readiness."""

    state: dict
    last: dict | None = None
    ready: bool = False
    restarts: int = 0
    log: str | None = None           # current log text (None: derived from the state)
    previous_log: str = ""           # ``kubectl logs --previous`` text when ``last`` is set


def up(started_ago: float, *, ready: bool = True, restarts: int = 0, last: dict | None = None,
       log: str | None = None, previous_log: str = "") -> Run:
    """A running container."""
    return Run({"running": {"startedAt": when(started_ago)}}, last, ready, restarts, log, previous_log)


def stuck(reason: str, message: str | None = None, *, restarts: int = 0, last: dict | None = None,
          previous_log: str = "") -> Run:
    """A waiting container (``message`` None for CrashLoopBackOff: filled in per pod)."""
    waiting = {"reason": reason}
    if message:
        waiting["message"] = message
    return Run({"waiting": waiting}, last, False, restarts, None, previous_log)


def exited(code: int, reason: str, started_ago: float | None, finished_ago: float,
           message: str | None = None) -> dict:
    """A terminated state (used as ``lastState``); ``started_ago`` None: never started (epoch)."""
    term = {"exitCode": code, "reason": reason}
    if message:
        term["message"] = message
    term.update(startedAt=when(started_ago) if started_ago is not None else "1970-01-01T00:00:00Z",
                finishedAt=when(finished_ago))
    return {"terminated": term}


def log_lines(start_ago: float, *lines: tuple[float, str], fmt: str = "iso") -> str:
    """Log text: (seconds after ``start_ago``, message) pairs with timestamps."""
    out = []
    for offset, text in lines:
        moment = CAPTURED_AT - dt.timedelta(seconds=start_ago - offset)
        stamp = {"iso": moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(offset * 1000) % 1000:03d}Z",
                 "py": moment.strftime("%Y-%m-%d %H:%M:%S") + f",{int(offset * 1000) % 1000:03d}",
                 "none": ""}[fmt]
        out.append(f"{stamp} {text}" if stamp else text)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- the cluster model

@dataclass
class Workload:
    """A Deployment/StatefulSet/Job/DaemonSet and the pod template its pods come from."""

    kind: str
    obj: dict
    template: dict
    pod_owner: dict
    replica_set: dict | None = None
    pods: list = field(default_factory=list)


class Cluster:
    """Builds the objects of one scenario and writes them as a bundle."""

    def __init__(self, name: str):
        self.name = name
        self._rv = 1000 + int.from_bytes(_digest("rv", name)[:2], "big")
        self.nodes: list[dict] = []
        self.namespaces: dict[str, float] = {}
        self.cluster_objects: dict[str, list] = {k: [] for k in CLUSTER_FILES if k != "nodes"}
        self.objects: dict[tuple[str, str], list] = {}
        self.workloads: list[Workload] = []
        self.services: list[tuple[dict, dict | None]] = []
        self.runs: dict[tuple[str, str], tuple[list, list]] = {}
        self.node_ips: dict[str, str] = {}
        self._next_ip: dict[str, int] = {}
        self.scenario: dict = {}

    # -- bookkeeping
    def rv(self) -> str:
        self._rv += 1 + int.from_bytes(_digest("rv", self.name, self._rv)[:1], "big") % 7
        return str(self._rv)

    def meta(self, name: str, namespace: str | None, created_ago: float, *, labels: dict | None = None,
             annotations: dict | None = None, owners: list | None = None, generate_name: str | None = None,
             generation: int | None = None, finalizers: list | None = None) -> dict:
        meta: dict = {"name": name}
        if generate_name:
            meta["generateName"] = generate_name
        if namespace:
            meta["namespace"] = namespace
        meta["uid"] = stable_uid(self.name, namespace, name)
        meta["resourceVersion"] = self.rv()
        if generation:
            meta["generation"] = generation
        meta["creationTimestamp"] = when(created_ago)
        if labels:
            meta["labels"] = labels
        if annotations:
            meta["annotations"] = annotations
        if owners:
            meta["ownerReferences"] = owners
        if finalizers:
            meta["finalizers"] = finalizers
        return meta

    def add(self, namespace: str, stem: str, obj: dict) -> dict:
        self.objects.setdefault((namespace, stem), []).append(obj)
        return obj

    @staticmethod
    def owner_ref(kind: str, api_version: str, obj: dict, *, block: bool = True) -> dict:
        ref = {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
               "uid": obj["metadata"]["uid"], "controller": True}
        if block:
            ref["blockOwnerDeletion"] = True
        return ref

    def namespace(self, name: str, created_ago: float) -> None:
        self.namespaces[name] = created_ago

    # -- nodes
    def node(self, name: str, ip: str, index: int, *, control_plane: bool = False,
             labels: dict | None = None, taints: list | None = None, ready: bool = True,
             lost_ago: float | None = None, cordoned_ago: float | None = None, created_ago: float = 40 * DAY,
             extended: dict | None = None, zone: str = "zone-a") -> dict:
        """A kubeadm node with 4 cpu / 16 GiB; ``lost_ago``: kubelet stopped posting status."""
        node_labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                       "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                       "kubernetes.io/os": "linux"}
        if control_plane:
            node_labels["node-role.kubernetes.io/control-plane"] = ""
            node_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        node_labels.update({"topology.kubernetes.io/region": "eu-west",
                            "topology.kubernetes.io/zone": zone})
        node_labels.update(labels or {})
        node_taints = [dict(t) for t in (taints or [])]
        if control_plane:
            node_taints.insert(0, dict(CONTROL_PLANE_TAINT))
        spec: dict = {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]}
        if cordoned_ago is not None:
            spec["unschedulable"] = True
            node_taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule",
                                "timeAdded": when(cordoned_ago)})
        if lost_ago is not None:
            node_taints += [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                             "timeAdded": when(lost_ago - 40)},
                            {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                             "timeAdded": when(lost_ago - 45)}]
        if node_taints:
            spec["taints"] = node_taints
        capacity = {"cpu": "4", "ephemeral-storage": "101430960Ki", "hugepages-1Gi": "0",
                    "hugepages-2Mi": "0", "memory": "16331456Ki", "pods": "110"}
        allocatable = {"cpu": "4", "ephemeral-storage": "93478772582", "hugepages-1Gi": "0",
                       "hugepages-2Mi": "0", "memory": "16229056Ki", "pods": "110"}
        for key, value in (extended or {}).items():
            capacity[key] = allocatable[key] = value
        capacity = dict(sorted(capacity.items()))
        allocatable = dict(sorted(allocatable.items()))
        heartbeat = lost_ago if lost_ago is not None else 35 + index * 7
        booted = created_ago - 600 if index else created_ago
        if lost_ago is None:
            kinds = (("MemoryPressure", "False", "KubeletHasSufficientMemory",
                      "kubelet has sufficient memory available"),
                     ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                     ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                     ("Ready", "True", "KubeletReady", "kubelet is posting ready status"))
            conditions = [{"type": t, "status": s, "lastHeartbeatTime": when(heartbeat),
                           "lastTransitionTime": when(booted - 60 if t == "Ready" else booted),
                           "reason": r, "message": m} for t, s, r, m in kinds]
        else:
            conditions = [{"type": t, "status": "Unknown", "lastHeartbeatTime": when(heartbeat),
                           "lastTransitionTime": when(lost_ago - 40), "reason": "NodeStatusUnknown",
                           "message": "Kubelet stopped posting node status."}
                          for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        status = {
            "capacity": capacity, "allocatable": allocatable, "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": stable_hex("machine", name, length=32),
                         "systemUUID": stable_uid("system", name),
                         "bootID": stable_uid("boot", name),
                         "kernelVersion": "6.1.0-26-amd64",
                         "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.22",
                         "kubeletVersion": K8S_VERSION, "kubeProxyVersion": K8S_VERSION,
                         "operatingSystem": "linux", "architecture": "amd64"},
        }
        annotations = {"kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                       "node.alpha.kubernetes.io/ttl": "0",
                       "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        obj = {"metadata": self.meta(name, None, created_ago, labels=node_labels, annotations=annotations),
               "spec": spec, "status": status}
        self.nodes.append(obj)
        self.node_ips[name] = ip
        self._next_ip[name] = 10
        return obj

    def node_named(self, name: str) -> dict:
        return next(n for n in self.nodes if n["metadata"]["name"] == name)

    def pod_ip(self, node: str) -> str:
        index = self.nodes.index(self.node_named(node))
        ip = f"10.244.{self.node_named(node)['spec']['podCIDR'].split('.')[2]}.{self._next_ip[node]}"
        self._next_ip[node] += 3 + index
        return ip

    # -- workloads
    def deployment(self, namespace: str, name: str, containers: list, *, replicas: int = 1,
                   created_ago: float = 20 * DAY, labels: dict | None = None, revision: int = 1,
                   rs_created_ago: float | None = None, **pod_spec) -> Workload:
        """A Deployment and its current ReplicaSet; add pods with :meth:`replica`."""
        labels = labels or {"app": name}
        template = self.template(labels, containers, **pod_spec)
        deploy = {"metadata": self.meta(name, namespace, created_ago, labels=dict(labels), generation=revision,
                                        annotations={"deployment.kubernetes.io/revision": str(revision)}),
                  "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                           "template": template,
                           "strategy": {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                           "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}}
        pod_hash = name_suffix("pod-template-hash", self.name, namespace, name, revision, length=10)
        rs_name = f"{name}-{pod_hash}"
        rs_labels = {**labels, "pod-template-hash": pod_hash}
        rs_template = json.loads(json.dumps(template))
        rs_template["metadata"]["labels"] = dict(rs_labels)
        rs = {"metadata": self.meta(rs_name, namespace, rs_created_ago or created_ago, labels=dict(rs_labels),
                                    annotations={"deployment.kubernetes.io/desired-replicas": str(replicas),
                                                 "deployment.kubernetes.io/max-replicas": str(replicas + 1),
                                                 "deployment.kubernetes.io/revision": str(revision)},
                                    owners=[self.owner_ref("Deployment", "apps/v1", deploy)], generation=1),
              "spec": {"replicas": replicas,
                       "selector": {"matchLabels": {**labels, "pod-template-hash": pod_hash}},
                       "template": rs_template}}
        self.add(namespace, "deployments", deploy)
        self.add(namespace, "replicasets", rs)
        work = Workload("Deployment", deploy, rs_template,
                        self.owner_ref("ReplicaSet", "apps/v1", rs), replica_set=rs)
        self.workloads.append(work)
        return work

    def template(self, labels: dict, containers: list, *, init_containers: list | None = None,
                 volumes: list | None = None, node_selector: dict | None = None, affinity: dict | None = None,
                 tolerations: list | None = None, service_account: str | None = None,
                 restart_policy: str = "Always", grace: int = 30, dns_policy: str = "ClusterFirst",
                 priority_class: str | None = None, host_network: bool = False,
                 security: dict | None = None, image_pull_secrets: list | None = None,
                 annotations: dict | None = None) -> dict:
        """A defaulted PodTemplateSpec (what the API server stores in a workload)."""
        spec: dict = {}
        if volumes:
            spec["volumes"] = volumes
        if init_containers:
            spec["initContainers"] = init_containers
        spec["containers"] = containers
        spec["restartPolicy"] = restart_policy
        spec["terminationGracePeriodSeconds"] = grace
        spec["dnsPolicy"] = dns_policy
        if node_selector:
            spec["nodeSelector"] = node_selector
        if service_account:
            spec["serviceAccountName"] = service_account
            spec["serviceAccount"] = service_account
        if host_network:
            spec["hostNetwork"] = True
        spec["securityContext"] = security or {}
        if image_pull_secrets:
            spec["imagePullSecrets"] = [{"name": s} for s in image_pull_secrets]
        if affinity:
            spec["affinity"] = affinity
        spec["schedulerName"] = "default-scheduler"
        if tolerations:
            spec["tolerations"] = tolerations
        if priority_class:
            spec["priorityClassName"] = priority_class
        meta: dict = {"creationTimestamp": None, "labels": dict(labels)}
        if annotations:
            meta["annotations"] = annotations
        return {"metadata": meta, "spec": ordered(spec, POD_SPEC_ORDER)}

    def replica(self, work: Workload, *, node: str | None, runs: dict, created_ago: float,
                init_runs: dict | None = None, name: str | None = None, extra_labels: dict | None = None,
                unschedulable: str | None = None, node_lost_ago: float | None = None) -> dict:
        """One pod of ``work`` (see :meth:`pod`)."""
        if name is None:
            base = work.replica_set["metadata"]["name"] if work.replica_set else work.obj["metadata"]["name"]
            name = f"{base}-{name_suffix('pod', self.name, base, len(work.pods))}"
            generate = f"{base}-"
        else:
            generate = work.obj["metadata"]["name"] + "-" if work.kind == "StatefulSet" else None
        labels = {**work.template["metadata"]["labels"], **(extra_labels or {})}
        pod = self.pod(work.obj["metadata"]["namespace"], name, work.template["spec"], labels=labels,
                       node=node, runs=runs, init_runs=init_runs, created_ago=created_ago,
                       owner=work.pod_owner, generate_name=generate, unschedulable=unschedulable,
                       annotations=work.template["metadata"].get("annotations"),
                       node_lost_ago=node_lost_ago)
        work.pods.append(pod)
        return pod

    def pod(self, namespace: str, name: str, template_spec: dict, *, labels: dict, node: str | None,
            runs: dict, created_ago: float, init_runs: dict | None = None, owner: dict | None = None,
            generate_name: str | None = None, unschedulable: str | None = None,
            annotations: dict | None = None, static: bool = False,
            node_lost_ago: float | None = None) -> dict:
        """A Pod as admitted (defaults, SA token volume, tolerations) with its observed status.

        ``runs``/``init_runs`` map container name -> :class:`Run`; an unscheduled
        pod (``node`` None) carries ``unschedulable`` as its PodScheduled message.
        """
        spec = json.loads(json.dumps(template_spec))
        if not static:
            token_volume = f"kube-api-access-{name_suffix('sa', self.name, namespace, name)}"
            spec.setdefault("volumes", []).append({"name": token_volume, "projected": {
                "sources": [{"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                                "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                "defaultMode": 420}})
            for c in spec.get("initContainers", []) + spec["containers"]:
                mounts = c.get("volumeMounts", []) + [{"name": token_volume, "readOnly": True,
                                                       "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]
                c.update(volumeMounts=mounts)
                c_ordered = ordered(c, CONTAINER_ORDER)
                c.clear()
                c.update(c_ordered)
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("serviceAccount", "default")
            spec["tolerations"] = spec.get("tolerations", []) + [
                t for t in DEFAULT_TOLERATIONS if not _tolerates_no_execute(spec.get("tolerations", []), t["key"])]
        if node:
            spec["nodeName"] = node
        spec["priority"] = {"system-node-critical": 2000001000,
                                        "system-cluster-critical": 2000000000}.get(spec.get("priorityClassName"), 0)
        spec["enableServiceLinks"] = True
        spec["preemptionPolicy"] = "PreemptLowerPriority"
        spec = ordered(spec, POD_SPEC_ORDER)
        meta = self.meta(name, namespace, created_ago, labels=labels, annotations=annotations,
                         owners=[owner] if owner else None, generate_name=generate_name)
        pod = {"metadata": meta, "spec": spec,
               "status": self.pod_status(meta, spec, node, runs, init_runs or {}, created_ago,
                                         unschedulable, node_lost_ago)}
        self.add(namespace, "pods", pod)
        self.runs[(namespace, name)] = ([(c["name"], (init_runs or {}).get(c["name"]))
                                         for c in spec.get("initContainers", [])],
                                        [(c["name"], runs.get(c["name"])) for c in spec["containers"]])
        return pod

    def pod_status(self, meta: dict, spec: dict, node: str | None, runs: dict, init_runs: dict,
                   created_ago: float, unschedulable: str | None, node_lost_ago: float | None) -> dict:
        containers = spec["containers"]
        qos = qos_class(spec.get("initContainers", []) + containers)
        if node is None:
            return {"phase": "Pending",
                    "conditions": [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                    "lastTransitionTime": when(created_ago - 1),
                                    "reason": "Unschedulable", "message": unschedulable}],
                    "qosClass": qos}
        started = created_ago - 1
        pod_ref = f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        init_statuses = [self.container_status(meta, c, init_runs[c["name"]], pod_ref)
                         for c in spec.get("initContainers", [])]
        statuses = [self.container_status(meta, c, runs[c["name"]], pod_ref) for c in containers]
        init_done = all("terminated" in s["state"] and s["state"]["terminated"]["exitCode"] == 0
                        for s in init_statuses)
        incomplete = [s["name"] for s in init_statuses
                      if not ("terminated" in s["state"] and s["state"]["terminated"]["exitCode"] == 0)]
        unready = [s["name"] for s in statuses if not s["ready"]]
        has_run = any("running" in s["state"] or s.get("lastState", {}).get("terminated") for s in statuses)
        phase = "Running" if init_done and has_run else "Pending"
        # when containers became (un)ready: latest running start or latest failure
        ready_since = min((created_ago - 1,) + tuple(
            (CAPTURED_AT - dt.datetime.fromisoformat(s["state"]["running"]["startedAt"].replace("Z", "+00:00"))
             ).total_seconds() for s in statuses if "running" in s["state"]))
        last_change = ready_since if not unready else min(
            [ready_since] + [(CAPTURED_AT - dt.datetime.fromisoformat(
                s["lastState"]["terminated"]["finishedAt"].replace("Z", "+00:00"))).total_seconds()
                for s in statuses if s.get("lastState", {}).get("terminated")])

        def cond(kind: str, ok: bool, ago: float, reason: str = "", message: str = "") -> dict:
            c = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": when(ago)}
            if not ok and reason:
                c.update(reason=reason, message=message)
            return c

        init_msg = f"containers with incomplete status: [{' '.join(incomplete)}]"
        unready_msg = f"containers with unready status: [{' '.join(unready)}]"
        ready_cond = cond("Ready", not unready, last_change, "ContainersNotReady", unready_msg)
        if node_lost_ago is not None:  # node lifecycle controller marks pods NotReady
            ready_cond = {"type": "Ready", "status": "False", "lastProbeTime": None,
                          "lastTransitionTime": when(node_lost_ago - 45)}
        conditions = [
            cond("PodReadyToStartContainers", True, started - 2),
            cond("Initialized", init_done, started - 4 if init_done else started - 1,
                 "ContainersNotInitialized", init_msg),
            ready_cond,
            cond("ContainersReady", not unready, last_change, "ContainersNotReady", unready_msg),
            cond("PodScheduled", True, created_ago - 1),
        ]
        host_ip = self.node_ips[node]
        pod_ip = host_ip if spec.get("hostNetwork") else self.pod_ip(node)
        status: dict = {"phase": phase, "conditions": conditions, "hostIP": host_ip,
                        "hostIPs": [{"ip": host_ip}], "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                        "startTime": when(started)}
        if init_statuses:
            status["initContainerStatuses"] = init_statuses
        status["containerStatuses"] = statuses
        status["qosClass"] = qos
        return status

    def container_status(self, meta: dict, spec: dict, run: Run, pod_ref: str) -> dict:
        """A ContainerStatus; fills containerIDs, imageIDs and the CrashLoopBackOff message."""
        key = (self.name, meta["namespace"], meta["name"], spec["name"])
        state = json.loads(json.dumps(run.state))
        waiting = state.get("waiting")
        if waiting and waiting["reason"] == "CrashLoopBackOff" and "message" not in waiting:
            backoff = min(10 * 2 ** max(run.restarts - 1, 0), 300)
            text = f"{backoff // 60}m{backoff % 60}s" if backoff >= 60 else f"{backoff}s"
            waiting["message"] = f"back-off {text} restarting failed container={spec['name']} pod={pod_ref}"
        status: dict = {"name": spec["name"], "state": state}
        last = json.loads(json.dumps(run.last)) if run.last else {}
        if last:
            last["terminated"]["containerID"] = f"containerd://{stable_hex('ctr', *key, run.restarts - 1)}"
            last["terminated"] = ordered(last["terminated"], ("exitCode", "signal", "reason", "message",
                                                               "startedAt", "finishedAt", "containerID"))
        status["lastState"] = last
        status["ready"] = run.ready
        status["restartCount"] = run.restarts
        created = bool(last) or "running" in state or "terminated" in state
        pulled = created or (waiting and waiting["reason"] not in ("ErrImagePull", "ImagePullBackOff"))
        status["image"] = normalized_image(spec["image"]) if pulled else spec["image"]
        status["imageID"] = image_id(spec["image"]) if pulled else ""
        if "running" in state or "terminated" in state:
            cid = f"containerd://{stable_hex('ctr', *key, run.restarts)}"
            if "terminated" in state:
                state["terminated"]["containerID"] = cid
            status["containerID"] = cid
        elif last:
            status["containerID"] = last["terminated"]["containerID"]
        status["started"] = "running" in state
        return status

    # -- services
    def service(self, namespace: str, name: str, selector: dict | None, ports: list, *,
                created_ago: float = 20 * DAY, labels: dict | None = None, cluster_ip: str | None = None,
                headless: bool = False, manual_endpoints: list | None = None) -> dict:
        """A ClusterIP Service; ports are (name, port, targetPort[, protocol]).

        Endpoints/EndpointSlices are derived from the selected pods at write time
        (``manual_endpoints``: (ip, node) pairs for selector-less Services).
        """
        if cluster_ip is None:
            h = _digest("clusterip", self.name, namespace, name)
            cluster_ip = f"10.96.{h[0] % 250 + 2}.{h[1] % 250 + 2}"
        if headless:
            cluster_ip = "None"
        spec: dict = {"ports": [{"name": p[0], "protocol": p[3] if len(p) > 3 else "TCP",
                                 "port": p[1], "targetPort": p[2]} for p in ports]}
        if selector:
            spec["selector"] = selector
        spec.update(clusterIP=cluster_ip, clusterIPs=[cluster_ip], type="ClusterIP",
                    sessionAffinity="None", ipFamilies=["IPv4"],
                    ipFamilyPolicy="SingleStack", internalTrafficPolicy="Cluster")
        svc = {"metadata": self.meta(name, namespace, created_ago, labels=labels or dict(selector or {})),
               "spec": spec, "status": {"loadBalancer": {}}}
        self.add(namespace, "services", svc)
        self.services.append((svc, {"manual": manual_endpoints} if manual_endpoints else None))
        return svc

    # -- events
    def event(self, kind: str, obj: dict, reason: str, message: str, *, component: str,
              host: str | None = None, type_: str = "Normal", first_ago: float, last_ago: float | None = None,
              count: int = 1, field_path: str | None = None, api_version: str = "v1") -> dict:
        """A core/v1 Event from a legacy recorder (kubelet, controllers)."""
        last_ago = first_ago if last_ago is None else last_ago
        namespace = obj["metadata"].get("namespace") or "default"
        involved = self._involved(kind, obj, api_version, field_path)
        if kind == "Node" and component == "kubelet":  # kubelet's node reference uses the name as uid
            involved["uid"] = obj["metadata"]["name"]
        source = {"component": component}
        if host:
            source["host"] = host
        event = {"metadata": self._event_meta(obj, namespace, first_ago, reason, message),
                 "involvedObject": involved, "reason": reason, "message": message, "source": source,
                 "firstTimestamp": when(first_ago), "lastTimestamp": when(last_ago), "count": count,
                 "type": type_, "eventTime": None, "reportingComponent": component,
                 "reportingInstance": host or ""}
        return self.add(namespace, "events", event)

    def scheduler_event(self, pod: dict, reason: str, message: str, *, first_ago: float,
                        last_ago: float | None = None, count: int = 1) -> dict:
        """An events.k8s.io/v1 event of the scheduler, as core/v1 shows it."""
        namespace = pod["metadata"]["namespace"]
        event = {"metadata": self._event_meta(pod, namespace, first_ago, reason, message),
                 "involvedObject": self._involved("Pod", pod, "v1", None),
                 "reason": reason, "message": message, "source": {},
                 "firstTimestamp": None, "lastTimestamp": None,
                 "type": "Warning" if reason == "FailedScheduling" else "Normal",
                 "eventTime": when_micro(first_ago, pod["metadata"]["name"], reason)}
        if count > 1:
            event["series"] = {"count": count,
                               "lastObservedTime": when_micro(last_ago or first_ago, pod["metadata"]["name"])}
        event.update(action="Scheduling" if reason == "FailedScheduling" else "Binding",
                     reportingComponent="default-scheduler", reportingInstance="default-scheduler-cp-1")
        return self.add(namespace, "events", event)

    @staticmethod
    def _involved(kind: str, obj: dict, api_version: str, field_path: str | None) -> dict:
        meta = obj["metadata"]
        ref = {"kind": kind}
        if meta.get("namespace"):
            ref["namespace"] = meta["namespace"]
        ref.update(name=meta["name"], uid=meta["uid"], apiVersion=api_version,
                   resourceVersion=meta["resourceVersion"])
        if field_path:
            ref["fieldPath"] = field_path
        return ref

    def _event_meta(self, obj: dict, namespace: str, first_ago: float, reason: str, message: str) -> dict:
        nanos = int((CAPTURED_AT - dt.timedelta(seconds=first_ago)).timestamp()) * 10**9
        nanos += int.from_bytes(_digest("ev", obj["metadata"]["name"], reason, message)[:4], "big") % 10**9
        name = f"{obj['metadata']['name']}.{nanos:x}"
        return {"name": name, "namespace": namespace, "uid": stable_uid(self.name, "event", name),
                "resourceVersion": self.rv(), "creationTimestamp": when(first_ago)}

    def started_events(self, pod: dict, *, ago: float, pulled: str | None = None, init: bool = False) -> None:
        """Scheduled, Pulled, Created, Started for each container of a pod started ``ago``."""
        node = pod["spec"]["nodeName"]
        self.scheduler_event(pod, "Scheduled",
                             f"Successfully assigned {pod['metadata']['namespace']}/{pod['metadata']['name']} "
                             f"to {node}", first_ago=ago + 1)
        groups = [("initContainers", c) for c in pod["spec"].get("initContainers", [])] if init else []
        groups += [("containers", c) for c in pod["spec"]["containers"]]
        for offset, (group, c) in enumerate(groups):
            path = f"spec.{group}{{{c['name']}}}"
            at = ago - offset * 0.4
            message = pulled or f'Container image "{c["image"]}" already present on machine'
            self.event("Pod", pod, "Pulled", message, component="kubelet", host=node,
                       first_ago=at, field_path=path)
            self.event("Pod", pod, "Created", f"Created container {c['name']}", component="kubelet",
                       host=node, first_ago=at, field_path=path)
            self.event("Pod", pod, "Started", f"Started container {c['name']}", component="kubelet",
                       host=node, first_ago=at, field_path=path)

    # -- cluster-scoped and config objects
    def configmap(self, namespace: str, name: str, keys: list, *, created_ago: float = 20 * DAY,
                  labels: dict | None = None) -> None:
        """A ConfigMap as captured: keys only, every value replaced by ""."""
        self.add(namespace, "configmaps", {"metadata": self.meta(name, namespace, created_ago, labels=labels),
                                           "data": {k: "" for k in sorted(keys)}})

    def storage_class(self, name: str, provisioner: str, *, default: bool = False,
                      binding: str = "WaitForFirstConsumer") -> None:
        annotations = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
        self.cluster_objects["storageclasses"].append({
            "metadata": self.meta(name, None, 40 * DAY, annotations=annotations),
            "provisioner": provisioner, "reclaimPolicy": "Delete", "volumeBindingMode": binding})

    # -- derived objects and writing
    def finish(self) -> None:
        """Derive workload statuses, Endpoints/EndpointSlices and namespace objects."""
        for work in self.workloads:
            self._workload_status(work)
        for svc, extra in self.services:
            self._endpoints(svc, (extra or {}).get("manual"))
        for ns, age in self.namespaces.items():
            self.configmap(ns, "kube-root-ca.crt", ["ca.crt"], created_ago=age)

    def _workload_status(self, work: Workload) -> None:
        pods = work.pods
        ready = sum(1 for p in pods if _pod_ready(p))
        total = len(pods)
        obj = work.obj
        if work.kind == "Deployment":
            rs = work.replica_set
            rs["status"] = {"replicas": total, "fullyLabeledReplicas": total}
            if ready:
                rs["status"].update(readyReplicas=ready, availableReplicas=ready)
            rs["status"]["observedGeneration"] = 1
            rs_name = rs["metadata"]["name"]
            available = ready >= obj["spec"]["replicas"] - int(obj["spec"]["replicas"] * 0.25)
            created = obj["metadata"]["creationTimestamp"]
            progressing_since = rs["metadata"]["creationTimestamp"]
            status = {"observedGeneration": obj["metadata"]["generation"], "replicas": total,
                      "updatedReplicas": total}
            if ready:
                status.update(readyReplicas=ready, availableReplicas=ready)
            if total - ready:
                status["unavailableReplicas"] = total - ready
            if available:
                avail = {"type": "Available", "status": "True", "lastUpdateTime": created,
                         "lastTransitionTime": created, "reason": "MinimumReplicasAvailable",
                         "message": "Deployment has minimum availability."}
            else:
                avail = {"type": "Available", "status": "False", "lastUpdateTime": progressing_since,
                         "lastTransitionTime": progressing_since, "reason": "MinimumReplicasUnavailable",
                         "message": "Deployment does not have minimum availability."}
            rs_age = (CAPTURED_AT - dt.datetime.fromisoformat(progressing_since.replace("Z", "+00:00"))
                      ).total_seconds()
            if ready == total:
                prog = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
            elif rs_age > obj["spec"]["progressDeadlineSeconds"]:
                prog = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.')
            else:
                prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
            status["conditions"] = [avail, {"type": "Progressing", "status": prog[0],
                                            "lastUpdateTime": progressing_since,
                                            "lastTransitionTime": progressing_since,
                                            "reason": prog[1], "message": prog[2]}]
            obj["status"] = status
        elif work.kind == "StatefulSet":
            revision = work.template["metadata"]["labels"]["controller-revision-hash"]
            status = {"observedGeneration": 1, "replicas": total}
            if ready:
                status["readyReplicas"] = ready
            status.update(currentReplicas=total, updatedReplicas=total, currentRevision=revision,
                          updateRevision=revision, collisionCount=0, availableReplicas=ready)
            obj["status"] = status
        elif work.kind == "DaemonSet":
            obj["status"] = {"currentNumberScheduled": total, "numberMisscheduled": 0,
                             "desiredNumberScheduled": total, "numberReady": ready, "observedGeneration": 1,
                             "updatedNumberScheduled": total, "numberAvailable": ready}
            if total - ready:
                obj["status"]["numberUnavailable"] = total - ready
        elif work.kind == "Job":
            status = {"startTime": obj["metadata"]["creationTimestamp"], "active": total,
                      "uncountedTerminatedPods": {}, "ready": ready}
            obj["status"] = status

    def _endpoints(self, svc: dict, manual: list | None) -> None:
        meta = svc["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        selector = svc["spec"].get("selector")
        targets = []  # (ip, node, pod or None, ready)
        if manual:
            targets = [(ip, node, None, True) for ip, node in manual]
        elif selector:
            for pod in self.objects.get((namespace, "pods"), []):
                labels = pod["metadata"].get("labels", {})
                if all(labels.get(k) == v for k, v in selector.items()) and pod["status"].get("podIP"):
                    targets.append((pod["status"]["podIP"], pod["spec"]["nodeName"], pod, _pod_ready(pod)))
        else:
            return
        targets.sort(key=lambda t: tuple(int(x) for x in t[0].split(".")))
        ports = []
        for port in svc["spec"]["ports"]:
            target = port["targetPort"]
            if isinstance(target, str):
                resolved = [p["containerPort"] for _, _, pod, _ in targets if pod
                            for c in pod["spec"]["containers"] for p in c.get("ports", [])
                            if p["name"] == target]
                target = resolved[0] if resolved else None
            if target is not None:
                ports.append({"name": port["name"], "port": target, "protocol": port["protocol"]})
        trigger = {"endpoints.kubernetes.io/last-change-trigger-time": meta["creationTimestamp"]}
        if targets:
            trigger = {"endpoints.kubernetes.io/last-change-trigger-time": max(
                (_condition(t[2], "Ready") or {}).get("lastTransitionTime", meta["creationTimestamp"])
                if t[2] else meta["creationTimestamp"] for t in targets)}

        def address(ip, node, pod):
            item = {"ip": ip}
            if node:
                item["nodeName"] = node
            if pod:
                item["targetRef"] = {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"]}
            return item

        endpoint_labels = dict(meta.get("labels") or {})
        if manual:  # the apiserver's own endpoints are not mirrored into slices
            endpoint_labels["endpointslice.kubernetes.io/skip-mirror"] = "true"
        endpoints: dict = {"metadata": self.meta(name, namespace, _age(meta["creationTimestamp"]),
                                                 labels=endpoint_labels or None,
                                                 annotations=None if manual else trigger)}
        endpoints["metadata"]["uid"] = stable_uid(self.name, namespace, "endpoints", name)
        if targets and ports:
            subset: dict = {}
            ready_addrs = [address(ip, n, p) for ip, n, p, ok in targets if ok]
            unready = [address(ip, n, p) for ip, n, p, ok in targets if not ok]
            if ready_addrs:
                subset["addresses"] = ready_addrs
            if unready:
                subset["notReadyAddresses"] = unready
            subset["ports"] = ports
            endpoints["subsets"] = [subset]
        self.add(namespace, "endpoints", endpoints)

        slice_labels = {**(meta.get("labels") or {})}
        if manual:
            slice_name = name
            slice_labels["kubernetes.io/service-name"] = name
            owners, generate, annotations = None, None, None
        else:
            slice_name = f"{name}-{name_suffix('slice', self.name, namespace, name)}"
            slice_labels.update({"endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                                 "kubernetes.io/service-name": name})
            owners = [self.owner_ref("Service", "v1", svc)]
            generate, annotations = f"{name}-", trigger
        slice_meta = self.meta(slice_name, namespace, _age(meta["creationTimestamp"]),
                               labels=dict(sorted(slice_labels.items())), annotations=annotations,
                               owners=owners, generate_name=generate, generation=1)
        items = []
        for ip, node, pod, ok in targets:
            item: dict = {"addresses": [ip], "conditions": {"ready": ok, "serving": ok, "terminating": False}}
            if pod:
                item["targetRef"] = {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"],
                                     "uid": pod["metadata"]["uid"]}
                item["nodeName"] = node
                item["zone"] = self.node_named(node)["metadata"]["labels"]["topology.kubernetes.io/zone"]
            items.append(item)
        self.add(namespace, "endpointslices", {
            "metadata": slice_meta, "addressType": "IPv4", "endpoints": items or None,
            "ports": [{"name": p["name"], "protocol": p["protocol"], "port": p["port"]} for p in ports] or None})

    def write(self, root: Path) -> None:
        """Write the bundle directory ``root`` (replacing it)."""
        self.finish()
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        gathered: list[str] = []

        def dump(rel: str, stem: str, items: list) -> None:
            kind, api_version = LIST_KINDS[stem]
            items = sorted(items, key=lambda o: o["metadata"]["name"])
            list_rv = str(self._rv + 1 + len(rel))
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(go_json({"kind": kind, "apiVersion": api_version,
                                             "metadata": {"resourceVersion": list_rv}, "items": items}),
                                    encoding="utf-8")
            gathered.append(rel)

        dump("nodes.json", "nodes", self.nodes)
        namespaces = [{"metadata": self.meta(ns, None, age, labels={"kubernetes.io/metadata.name": ns}),
                       "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
                      for ns, age in self.namespaces.items()]
        dump("namespaces.json", "namespaces", namespaces)
        for stem in ("persistentvolumes", "storageclasses"):
            dump(f"{stem}.json", stem, self.cluster_objects[stem])
        for ns in sorted(self.namespaces):
            for stem in NAMESPACE_FILES:
                dump(f"{ns}/{stem}.json", stem, self.objects.get((ns, stem), []))
            for pod in sorted(self.objects.get((ns, "pods"), []), key=lambda p: p["metadata"]["name"]):
                gathered += self._write_logs(root, pod)
        info = {"format": 1, "captured_at": CAPTURED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "cluster_version": CLUSTER_VERSION, "gathered": sorted(gathered), "errors": []}
        (root / "k8srun.json").write_text(go_json(info), encoding="utf-8")
        (root / "scenario.yaml").write_text(yaml.safe_dump(self.scenario, sort_keys=False, width=100,
                                                           default_flow_style=None), encoding="utf-8")

    def _write_logs(self, root: Path, pod: dict) -> list[str]:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        init, main = self.runs[(ns, name)]
        statuses = {s["name"]: s for s in pod["status"].get("initContainerStatuses", [])
                    + pod["status"].get("containerStatuses", [])}
        current, previous = [], []
        for cname, run in init + main:
            current.append((cname, current_log(pod, cname, run, statuses.get(cname))))
            if run is not None and run.last:
                previous.append((cname, run.previous_log))
        written = []
        for filename, blocks in (("logs.txt", current), ("logs-previous.txt", previous)):
            if not blocks:
                continue
            text = "".join(f"==== START logs for container {c} of pod {ns}/{name} ====\n{log}"
                           f"==== END logs for container {c} of pod {ns}/{name} ====\n" for c, log in blocks)
            path = root / ns / name / filename
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(f"{ns}/{name}/{filename}")
        return written


def current_log(pod: dict, cname: str, run: Run | None, status: dict | None) -> str:
    """What ``kubectl logs`` (no --previous) returns for a container, as cluster-info dump writes it."""
    if run is None or status is None:  # not scheduled: the API server streams nothing
        return ""
    waiting = status["state"].get("waiting")
    if waiting and status.get("lastState", {}).get("terminated"):
        return run.previous_log  # kubelet serves the last terminated container's log
    if waiting:
        phrase = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}.get(waiting["reason"], waiting["reason"])
        return (f'Request log error: container "{cname}" in pod "{pod["metadata"]["name"]}" '
                f"is waiting to start: {phrase}\n")
    if run.log is not None:
        return run.log
    return ""


def _tolerates_no_execute(tolerations: list, key: str) -> bool:
    """Whether DefaultTolerationSeconds admission sees ``key``:NoExecute as already tolerated."""
    return any((t.get("key") == key or (not t.get("key") and t.get("operator") == "Exists"))
               and t.get("effect", "") in ("NoExecute", "") for t in tolerations)


def qos_class(containers: list) -> str:
    resources = [c.get("resources", {}) for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        all(r.get("limits", {}).get(k) and r.get("limits", {}).get(k) == r.get("requests", r.get("limits", {})).get(k)
            for k in ("cpu", "memory")) for r in resources)
    return "Guaranteed" if guaranteed else "Burstable"


def _condition(pod: dict, kind: str) -> dict | None:
    return next((c for c in pod["status"].get("conditions", []) if c["type"] == kind), None)


def _pod_ready(pod: dict) -> bool:
    cond = _condition(pod, "Ready")
    return bool(cond and cond["status"] == "True")


def _age(timestamp: str) -> float:
    return (CAPTURED_AT - dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))).total_seconds()


# ---------------------------------------------------------------- more workload kinds

def statefulset(cluster: Cluster, namespace: str, name: str, containers: list, *, service: str,
                claims: list, created_ago: float, **pod_spec) -> Workload:
    """A StatefulSet with volumeClaimTemplates ``claims`` = (name, storageClass, size)."""
    labels = {"app": name}
    revision = f"{name}-{name_suffix('sts', cluster.name, namespace, name, length=10)}"
    template = cluster.template(labels, containers, **pod_spec)
    claim_templates = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": claim, "creationTimestamp": None},
                        "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": sc,
                                 "resources": {"requests": {"storage": size}}, "volumeMode": "Filesystem"},
                        "status": {"phase": "Pending"}} for claim, sc, size in claims]
    obj = {"metadata": cluster.meta(name, namespace, created_ago, labels=dict(labels), generation=1),
           "spec": {"replicas": 1, "selector": {"matchLabels": dict(labels)}, "template": template,
                    "volumeClaimTemplates": claim_templates, "serviceName": service,
                    "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                    "revisionHistoryLimit": 10,
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}}}
    cluster.add(namespace, "statefulsets", obj)
    pod_template = json.loads(json.dumps(template))
    pod_template["metadata"]["labels"]["controller-revision-hash"] = revision
    work = Workload("StatefulSet", obj, pod_template, cluster.owner_ref("StatefulSet", "apps/v1", obj))
    cluster.workloads.append(work)
    return work


def job(cluster: Cluster, namespace: str, name: str, containers: list, *, created_ago: float,
        **pod_spec) -> Workload:
    """A batch/v1 Job (restartPolicy Never) whose pods carry the controller-uid labels."""
    uid = stable_uid(cluster.name, namespace, name)
    labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
              "controller-uid": uid, "job-name": name}
    template = cluster.template(labels, containers, restart_policy="Never", **pod_spec)
    obj = {"metadata": cluster.meta(name, namespace, created_ago, generation=1,
                                    labels={"batch.kubernetes.io/controller-uid": uid,
                                            "batch.kubernetes.io/job-name": name,
                                            "controller-uid": uid, "job-name": name}),
           "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6,
                    "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                    "manualSelector": False, "template": template, "completionMode": "NonIndexed",
                    "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"}}
    cluster.add(namespace, "jobs", obj)
    work = Workload("Job", obj, template, cluster.owner_ref("Job", "batch/v1", obj))
    cluster.workloads.append(work)
    return work


def daemonset(cluster: Cluster, namespace: str, name: str, containers: list, *, labels: dict,
              created_ago: float, **pod_spec) -> Workload:
    """A DaemonSet; its pods get the DaemonSet controller's node affinity and tolerations."""
    template = cluster.template(labels, containers, **pod_spec)
    obj = {"metadata": cluster.meta(name, namespace, created_ago, labels=dict(labels), generation=1,
                                    annotations={"deprecated.daemonset.template.generation": "1"}),
           "spec": {"selector": {"matchLabels": dict(labels)}, "template": template,
                    "updateStrategy": {"type": "RollingUpdate",
                                       "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                    "revisionHistoryLimit": 10}}
    cluster.add(namespace, "daemonsets", obj)
    pod_template = json.loads(json.dumps(template))
    pod_template["metadata"]["labels"].update(
        {"controller-revision-hash": name_suffix("ds", cluster.name, name, length=10),
         "pod-template-generation": "1"})
    added = [{"key": f"node.kubernetes.io/{key}", "operator": "Exists", "effect": effect}
             for key, effect in (("not-ready", "NoExecute"), ("unreachable", "NoExecute"),
                                 ("disk-pressure", "NoSchedule"), ("memory-pressure", "NoSchedule"),
                                 ("pid-pressure", "NoSchedule"), ("unschedulable", "NoSchedule"))]
    if pod_spec.get("host_network"):
        added.append({"key": "node.kubernetes.io/network-unavailable", "operator": "Exists",
                      "effect": "NoSchedule"})
    pod_template["spec"]["tolerations"] = pod_template["spec"].get("tolerations", []) + added
    work = Workload("DaemonSet", obj, pod_template, cluster.owner_ref("DaemonSet", "apps/v1", obj))
    cluster.workloads.append(work)
    return work


def daemon_pod(cluster: Cluster, work: Workload, node: str, run: Run, created_ago: float,
               node_lost_ago: float | None = None) -> dict:
    """A DaemonSet pod pinned to ``node`` by required node affinity on metadata.name."""
    saved = json.loads(json.dumps(work.template))
    work.template["spec"]["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
    work.template["spec"] = ordered(work.template["spec"], POD_SPEC_ORDER)
    base = work.obj["metadata"]["name"]
    name = f"{base}-{name_suffix('dspod', cluster.name, base, node)}"
    pod = cluster.replica(work, node=node, runs={work.template["spec"]["containers"][0]["name"]: run},
                          created_ago=created_ago, name=name, node_lost_ago=node_lost_ago)
    pod["metadata"]["generateName"] = f"{base}-"
    pod["metadata"] = ordered(pod["metadata"], ("name", "generateName"))
    work.template = saved
    return pod


# ---------------------------------------------------------------- kube-system

CP_IMAGES = {"etcd": "registry.k8s.io/etcd:3.5.15-0",
             "kube-apiserver": f"registry.k8s.io/kube-apiserver:{K8S_VERSION}",
             "kube-controller-manager": f"registry.k8s.io/kube-controller-manager:{K8S_VERSION}",
             "kube-scheduler": f"registry.k8s.io/kube-scheduler:{K8S_VERSION}"}


def kube_system(cluster: Cluster, *, lost: dict | None = None, booted_ago: float = 40 * DAY) -> None:
    """Healthy control plane on cp-1, coredns x2, kube-proxy per node (``lost``: node -> lost_ago)."""
    lost = lost or {}
    ns = "kube-system"
    cluster.namespace(ns, booted_ago)
    cp_ip = cluster.node_ips["cp-1"]
    cp_node = cluster.node_named("cp-1")
    started = 6 * DAY + 3 * HOUR
    static = {
        "etcd": (["etcd", f"--advertise-client-urls=https://{cp_ip}:2379", "--cert-file=/etc/kubernetes/pki/etcd/server.crt",
                  "--client-cert-auth=true", "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true",
                  f"--initial-advertise-peer-urls=https://{cp_ip}:2380", f"--initial-cluster=cp-1=https://{cp_ip}:2380",
                  "--key-file=/etc/kubernetes/pki/etcd/server.key",
                  f"--listen-client-urls=https://127.0.0.1:2379,https://{cp_ip}:2379",
                  "--listen-metrics-urls=http://127.0.0.1:2381", f"--listen-peer-urls=https://{cp_ip}:2380",
                  "--name=cp-1", "--snapshot-count=10000", "--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt"],
                 {"cpu": "100m", "memory": "100Mi"}, ("/health?exclude=NOSPACE&serializable=true", 2381, "127.0.0.1", "HTTP"),
                 {"kubeadm.kubernetes.io/etcd.advertise-client-urls": f"https://{cp_ip}:2379"}),
        "kube-apiserver": (["kube-apiserver", f"--advertise-address={cp_ip}", "--allow-privileged=true",
                            "--authorization-mode=Node,RBAC", "--client-ca-file=/etc/kubernetes/pki/ca.crt",
                            "--enable-admission-plugins=NodeRestriction", "--etcd-servers=https://127.0.0.1:2379",
                            "--secure-port=6443", "--service-cluster-ip-range=10.96.0.0/12",
                            "--tls-cert-file=/etc/kubernetes/pki/apiserver.crt",
                            "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key"],
                           {"cpu": "250m"}, ("/livez", 6443, cp_ip, "HTTPS"),
                           {"kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint": f"{cp_ip}:6443"}),
        "kube-controller-manager": (["kube-controller-manager", "--allocate-node-cidrs=true",
                                     "--bind-address=127.0.0.1", "--cluster-cidr=10.244.0.0/16",
                                     "--cluster-name=kubernetes", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
                                     "--leader-elect=true", "--service-cluster-ip-range=10.96.0.0/12",
                                     "--use-service-account-credentials=true"],
                                    {"cpu": "200m"}, ("/healthz", 10257, "127.0.0.1", "HTTPS"), {}),
        "kube-scheduler": (["kube-scheduler", "--authentication-kubeconfig=/etc/kubernetes/scheduler.conf",
                            "--authorization-kubeconfig=/etc/kubernetes/scheduler.conf", "--bind-address=127.0.0.1",
                            "--kubeconfig=/etc/kubernetes/scheduler.conf", "--leader-elect=true"],
                           {"cpu": "100m"}, ("/healthz", 10259, "127.0.0.1", "HTTPS"), {}),
    }
    static_logs = {
        "etcd": '{"level":"info","ts":"%s","caller":"etcdserver/server.go:2068","msg":"published local member to cluster through raft","local-member-id":"8e9e05c52164694d","cluster-id":"cdf818194e3a8c32"}\n'
                '{"level":"info","ts":"%s","caller":"etcdserver/server.go:2616","msg":"cluster version is updated","cluster-version":"3.5"}\n'
                '{"level":"info","ts":"%s","caller":"mvcc/kvstore_compaction.go:68","msg":"finished scheduled compaction","compact-revision":1183021,"took":"9.871234ms"}\n',
        "kube-apiserver": 'I1114 11:02:04.512387       1 options.go:221] external host was not specified, using %s\n'
                          'I1114 11:02:06.118903       1 secure_serving.go:213] Serving securely on [::]:6443\n'
                          'I1114 11:02:07.004411       1 controller.go:615] quota admission added evaluator for: endpoints\n',
        "kube-controller-manager": 'I1114 11:02:08.302118       1 serving.go:380] Generated self-signed cert in-memory\n'
                                   'I1114 11:02:26.771402       1 leaderelection.go:260] successfully acquired lease kube-system/kube-controller-manager\n',
        "kube-scheduler": 'I1114 11:02:08.918273       1 serving.go:380] Generated self-signed cert in-memory\n'
                          'I1114 11:02:27.114052       1 leaderelection.go:260] successfully acquired lease kube-system/kube-scheduler\n',
    }
    for component, (command, requests, (path, port, host, scheme), extra) in static.items():
        name = f"{component}-cp-1"
        probe = http_probe(path, port, host=host, scheme=scheme, initial=10, timeout=15, failure=8)
        spec_container = container(component, CP_IMAGES[component], command=command, requests=requests,
                                   liveness=probe, startup=http_probe(path, port, host=host, scheme=scheme,
                                                                      initial=10, timeout=15, failure=24),
                                   readiness=(http_probe("/readyz", port, host=host, scheme=scheme, timeout=15,
                                                         period=1, failure=3)
                                              if component == "kube-apiserver" else None),
                                   mounts=[{"name": "k8s-certs", "readOnly": True, "mountPath": "/etc/kubernetes/pki"}])
        spec = cluster.template({}, [spec_container], volumes=[{"name": "k8s-certs", "hostPath": {
            "path": "/etc/kubernetes/pki", "type": "DirectoryOrCreate"}}], host_network=True,
            priority_class="system-node-critical",
            security={"seccompProfile": {"type": "RuntimeDefault"}},
            tolerations=[{"operator": "Exists", "effect": "NoExecute"}])["spec"]
        config_hash = stable_hex("config", component, length=32)
        annotations = {**extra, "kubernetes.io/config.hash": config_hash, "kubernetes.io/config.mirror": config_hash,
                       "kubernetes.io/config.seen": when(started + 5).replace("Z", ".000000000Z"),
                       "kubernetes.io/config.source": "file"}
        text = static_logs[component]
        text = text % ((when_micro(started - 2, component),) * 3) if component == "etcd" else (
            text % cp_ip if "%s" in text else text)
        cluster.pod(ns, name, spec, labels={"component": component, "tier": "control-plane"}, node="cp-1",
                    runs={component: up(started, log=text)}, created_ago=booted_ago,
                    owner=Cluster.owner_ref("Node", "v1", cp_node, block=False), annotations=annotations,
                    static=True)
    # coredns
    coredns = cluster.deployment(
        ns, "coredns",
        [container("coredns", "registry.k8s.io/coredns/coredns:v1.11.1", args=["-conf", "/etc/coredns/Corefile"],
                   ports=(("dns", 53, "UDP"), ("dns-tcp", 53), ("metrics", 9153)),
                   limits={"memory": "170Mi"}, requests={"cpu": "100m", "memory": "70Mi"},
                   liveness=http_probe("/health", 8080, initial=60, timeout=5, failure=5),
                   readiness=http_probe("/ready", 8181),
                   mounts=[{"name": "config-volume", "readOnly": True, "mountPath": "/etc/coredns"}],
                   security={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                             "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False})],
        replicas=2, labels={"k8s-app": "kube-dns"}, created_ago=booted_ago,
        volumes=[{"name": "config-volume", "configMap": {"name": "coredns", "items": [
            {"key": "Corefile", "path": "Corefile"}], "defaultMode": 420}}],
        node_selector={"kubernetes.io/os": "linux"}, service_account="coredns", dns_policy="Default",
        priority_class="system-cluster-critical",
        affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100,
            "podAffinityTerm": {"labelSelector": {"matchExpressions": [{"key": "k8s-app", "operator": "In",
                                                                          "values": ["kube-dns"]}]},
                                "topologyKey": "kubernetes.io/hostname"}}]}},
        tolerations=[{"key": "CriticalAddonsOnly", "operator": "Exists"},
                     {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])
    coredns_log = (".:53\n[INFO] plugin/reload: Running configuration SHA512 = "
                   f"{stable_hex('corefile', length=128)}\nCoreDNS-1.11.1\nlinux/amd64, go1.20.7, ae2bbc2\n")
    for _ in range(2):
        cluster.replica(coredns, node="cp-1", runs={"coredns": up(started - 20, log=coredns_log)},
                        created_ago=started + 10)
    cluster.service(ns, "kube-dns", {"k8s-app": "kube-dns"},
                    [("dns", 53, 53, "UDP"), ("dns-tcp", 53, 53), ("metrics", 9153, 9153)],
                    cluster_ip="10.96.0.10", created_ago=booted_ago,
                    labels={"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                            "kubernetes.io/name": "CoreDNS"})
    # kube-proxy
    proxy = daemonset(
        cluster, ns, "kube-proxy",
        [container("kube-proxy", f"registry.k8s.io/kube-proxy:{K8S_VERSION}",
                   command=["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
                            "--hostname-override=$(NODE_NAME)"],
                   env=[env_field("NODE_NAME", "spec.nodeName")],
                   mounts=[{"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                           {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                           {"name": "lib-modules", "readOnly": True, "mountPath": "/lib/modules"}],
                   security={"privileged": True})],
        labels={"k8s-app": "kube-proxy"}, created_ago=booted_ago,
        volumes=[{"name": "kube-proxy", "configMap": {"name": "kube-proxy", "defaultMode": 420}},
                 {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                 {"name": "lib-modules", "hostPath": {"path": "/lib/modules", "type": ""}}],
        node_selector={"kubernetes.io/os": "linux"}, service_account="kube-proxy", host_network=True,
        priority_class="system-node-critical", tolerations=[{"operator": "Exists"}])
    for node in cluster.nodes:
        node_name = node["metadata"]["name"]
        ip = cluster.node_ips[node_name]
        log = (f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.402118       1 server_linux.go:69] "Using iptables proxy"\n'
               f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.431902       1 server.go:1062] "Successfully retrieved node IP(s)" IPs=["{ip}"]\n'
               f'I1114 11:03:{10 + cluster.nodes.index(node):02d}.502114       1 server_linux.go:165] "Using iptables Proxier"\n'
               f'I1114 11:03:{11 + cluster.nodes.index(node):02d}.118042       1 shared_informer.go:320] Caches are synced for service config\n')
        daemon_pod(cluster, proxy, node_name, up(started - 30, log=log), started + 5,
                   node_lost_ago=lost.get(node_name))
    cluster.configmap(ns, "coredns", ["Corefile"], created_ago=booted_ago)
    cluster.configmap(ns, "kube-proxy", ["config.conf", "kubeconfig.conf"], created_ago=booted_ago,
                      labels={"app": "kube-proxy"})
    cluster.configmap(ns, "kubeadm-config", ["ClusterConfiguration"], created_ago=booted_ago)
    cluster.configmap(ns, "kubelet-config", ["kubelet"], created_ago=booted_ago)
    cluster.configmap(ns, "extension-apiserver-authentication",
                      ["client-ca-file", "requestheader-allowed-names", "requestheader-client-ca-file",
                       "requestheader-extra-headers-prefix", "requestheader-group-headers",
                       "requestheader-username-headers"], created_ago=booted_ago)
    for extra_ns in ("kube-public", "kube-node-lease"):
        cluster.namespace(extra_ns, booted_ago)
    cluster.configmap("kube-public", "cluster-info", ["jws-kubeconfig-abcdef", "kubeconfig"], created_ago=booted_ago)


def default_namespace(cluster: Cluster) -> None:
    """Namespace default with the ``kubernetes`` Service (endpoints: the apiserver)."""
    cluster.namespace("default", 40 * DAY)
    cluster.service("default", "kubernetes", None, [("https", 443, 6443)], cluster_ip="10.96.0.1",
                    created_ago=40 * DAY, labels={"component": "apiserver", "provider": "kubernetes"},
                    manual_endpoints=[(cluster.node_ips["cp-1"], None)])


def three_nodes(cluster: Cluster, *, worker_1: dict | None = None, worker_2: dict | None = None) -> None:
    """cp-1 (control plane, tainted), worker-1 and worker-2; kwargs change a worker."""
    cluster.node("cp-1", "10.0.0.10", 0, control_plane=True)
    cluster.node("worker-1", "10.0.0.11", 1, zone="zone-a", **(worker_1 or {}))
    cluster.node("worker-2", "10.0.0.12", 2, zone="zone-b", **(worker_2 or {}))


def app_log(start_ago: float, name: str, version: str, port: int, *extra: tuple[float, str]) -> str:
    """A few JSON-ish startup lines of a healthy service."""
    return log_lines(start_ago, (0.0, f"INFO  starting {name} version={version}"),
                     (0.4, "INFO  config loaded from environment"),
                     (0.9, f"INFO  listening on :{port}"), *extra)


# ---------------------------------------------------------------- scheduler and kubelet messages

def taint_reason(key: str, value: str = "") -> str:
    """The TaintToleration filter's reason for one node."""
    return f"node(s) had untolerated taint {{{key}: {value}}}"


NODE_AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector"
UNSCHEDULABLE_REASON = "node(s) were unschedulable"
UNBOUND_PVC = "pod has unbound immediate PersistentVolumeClaims"


def _histogram(reasons: list[str]) -> str:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return ", ".join(sorted(f"{n} {r}" for r, n in counts.items()))


def fit_error(per_node: list[str], prefilter: str | None = None) -> str:
    """The scheduler's FitError text: sorted reason histogram, then the preemption verdict.

    ``per_node`` holds the first failing filter's reason of each node.
    """
    total = len(per_node)
    if prefilter:
        text = f"0/{total} nodes are available: {prefilter}."
        verdicts = ["Preemption is not helpful for scheduling"] * total
    else:
        text = f"0/{total} nodes are available: {_histogram(per_node)}."
        verdicts = ["No preemption victims found for incoming pod" if r.startswith("Insufficient ")
                    else "Preemption is not helpful for scheduling" for r in per_node]
    return f"{text} preemption: 0/{total} nodes are available: {_histogram(verdicts)}."


def rollout_events(c: Cluster, work: Workload, pod: dict, ago: float) -> None:
    """ScalingReplicaSet on the Deployment and SuccessfulCreate on its ReplicaSet."""
    rs = work.replica_set
    c.event("Deployment", work.obj, "ScalingReplicaSet",
            f"Scaled up replica set {rs['metadata']['name']} to {work.obj['spec']['replicas']}",
            component="deployment-controller", first_ago=ago, api_version="apps/v1")
    c.event("ReplicaSet", rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
            component="replicaset-controller", first_ago=ago - 0.1, api_version="apps/v1")


def pending_events(c: Cluster, pod: dict, message: str, *, first_ago: float, last_ago: float, count: int) -> None:
    c.scheduler_event(pod, "FailedScheduling", message, first_ago=first_ago, last_ago=last_ago, count=count)


def image_pull_events(c: Cluster, pod: dict, cname: str, error: str, *, first_ago: float, last_ago: float,
                      pulls: int, backoffs: int, last_backoff_ago: float) -> None:
    """kubelet's events for an image that cannot be pulled (ErrImagePull, then ImagePullBackOff)."""
    node = pod["spec"]["nodeName"]
    image = next(x["image"] for x in pod["spec"]["containers"] if x["name"] == cname)
    path = f"spec.containers{{{cname}}}"
    common = {"component": "kubelet", "host": node, "field_path": path}
    c.scheduler_event(pod, "Scheduled", f"Successfully assigned {pod['metadata']['namespace']}/"
                      f"{pod['metadata']['name']} to {node}", first_ago=first_ago + 1)
    c.event("Pod", pod, "Pulling", f'Pulling image "{image}"', first_ago=first_ago, last_ago=last_ago,
            count=pulls, **common)
    c.event("Pod", pod, "Failed", f'Failed to pull image "{image}": {error}', type_="Warning",
            first_ago=first_ago - 0.6, last_ago=last_ago - 0.6, count=pulls, **common)
    c.event("Pod", pod, "Failed", "Error: ErrImagePull", type_="Warning", first_ago=first_ago - 0.6,
            last_ago=last_ago - 0.6, count=pulls, **common)
    if backoffs:
        c.event("Pod", pod, "BackOff", f'Back-off pulling image "{image}"', first_ago=first_ago - 1.5,
                last_ago=last_backoff_ago, count=backoffs, **common)
        c.event("Pod", pod, "Failed", "Error: ImagePullBackOff", type_="Warning", first_ago=first_ago - 1.5,
                last_ago=last_backoff_ago, count=backoffs, **common)


def restart_events(c: Cluster, pod: dict, cname: str, *, first_ago: float, starts: int, last_start_ago: float,
                   backoffs: int = 0, backoff_last_ago: float = 0, init: bool = False,
                   start_failure: str | None = None) -> None:
    """Scheduled, then Pulled/Created/Started per (re)start and BackOff restarting (CrashLoopBackOff)."""
    node = pod["spec"]["nodeName"]
    meta = pod["metadata"]
    path = f"spec.{'initContainers' if init else 'containers'}{{{cname}}}"
    image = next(x["image"] for x in pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
                 if x["name"] == cname)
    common = {"component": "kubelet", "host": node, "field_path": path}
    c.scheduler_event(pod, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
                      first_ago=first_ago + 1)
    c.event("Pod", pod, "Pulled", f'Container image "{image}" already present on machine',
            first_ago=first_ago, last_ago=last_start_ago, count=starts, **common)
    c.event("Pod", pod, "Created", f"Created container {cname}", first_ago=first_ago - 0.1,
            last_ago=last_start_ago - 0.1, count=starts, **common)
    if start_failure:
        c.event("Pod", pod, "Failed", f"Error: {start_failure}", type_="Warning", first_ago=first_ago - 0.2,
                last_ago=last_start_ago - 0.2, count=starts, **common)
    else:
        c.event("Pod", pod, "Started", f"Started container {cname}", first_ago=first_ago - 0.2,
                last_ago=last_start_ago - 0.2, count=starts, **common)
    if backoffs:
        c.event("Pod", pod, "BackOff",
                f"Back-off restarting failed container {cname} in pod {meta['name']}_{meta['namespace']}({meta['uid']})",
                type_="Warning", first_ago=first_ago - 30, last_ago=backoff_last_ago, count=backoffs, **common)


def web_container(name: str, image: str, *, port: int = 8080, cpu: str = "100m", memory: str = "128Mi",
                  memory_limit: str | None = None, **extra) -> dict:
    """A typical HTTP service container with readiness and liveness probes."""
    extra.setdefault("readiness", http_probe("/ready", "http", period=5))
    extra.setdefault("liveness", http_probe("/healthz", "http", initial=15))
    return container(name, image, ports=(("http", port),), requests={"cpu": cpu, "memory": memory},
                     limits={"memory": memory_limit or memory}, **extra)


def healthy_deployment(c: Cluster, namespace: str, name: str, image: str, version: str, nodes: list[str], *,
                       started_ago: float, cpu: str = "100m", memory: str = "128Mi", port: int = 8080,
                       service: bool = True, with_events: bool = False, **extra) -> Workload:
    """A Deployment whose pods all run and are Ready (+ its Service)."""
    work = c.deployment(namespace, name, [web_container(name, image, cpu=cpu, memory=memory, port=port, **extra)],
                        replicas=len(nodes), created_ago=max(started_ago + 60, 20 * DAY),
                        rs_created_ago=started_ago + 5)
    for node in nodes:
        pod = c.replica(work, node=node, runs={name: up(started_ago, log=app_log(started_ago, name, version, port))},
                        created_ago=started_ago + 3)
        if with_events:
            c.started_events(pod, ago=started_ago)
    if service:
        c.service(namespace, name, {"app": name}, [("http", 80, "http")], created_ago=20 * DAY)
    return work


GPU_TAINT = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
NOT_FOUND = ('rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
             'failed to resolve reference "{image}": {image}: not found')
UNAUTHORIZED = ('rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
                'failed to resolve reference "{image}": unexpected status from HEAD request to '
                'https://{registry}/v2/{repo}/manifests/{tag}: 401 Unauthorized')


def pull_error(template: str, image: str) -> str:
    registry, rest = image.split("/", 1)
    repo, tag = rest.rsplit(":", 1)
    return template.format(image=image, registry=registry, repo=repo, tag=tag)


# ---------------------------------------------------------------- scenarios

def scenario_pod_pending() -> Cluster:
    """PEND-001..005 in namespace shop on a 3-node cluster whose cpu is mostly requested."""
    c = Cluster("pod-pending")
    three_nodes(c, worker_2={"labels": {"accelerator": "nvidia-t4", "nvidia.com/gpu.present": "true"},
                             "taints": [GPU_TAINT], "extended": {"nvidia.com/gpu": "2"}})
    default_namespace(c)
    kube_system(c)
    c.namespace("shop", 30 * DAY)
    c.namespace("ml", 25 * DAY)
    c.storage_class("standard", "rancher.io/local-path", default=True)

    # healthy shop services, all on worker-1 (worker-2 is the dedicated GPU node)
    healthy_deployment(c, "shop", "web", "registry.example.com/shop/web:1.8.2", "1.8.2", ["worker-1", "worker-1"],
                       started_ago=3 * DAY, cpu="500m", memory="256Mi", memory_limit="512Mi")
    healthy_deployment(c, "shop", "catalog", "registry.example.com/shop/catalog:4.2.0", "4.2.0", ["worker-1"],
                       started_ago=3 * DAY, cpu="1", memory="1Gi")
    healthy_deployment(c, "shop", "search", "registry.example.com/shop/search:2.0.7", "2.0.7", ["worker-1"],
                       started_ago=3 * DAY, cpu="1", memory="2Gi", memory_limit="3Gi")
    c.configmap("shop", "web-config", ["FEATURE_FLAGS", "LOG_LEVEL"])

    # the GPU node runs an inference server that tolerates its taint
    inference = c.deployment(
        "ml", "llm-inference",
        [container("server", "registry.example.com/ml/llm-inference:0.6.1", ports=(("http", 8000),),
                   requests={"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "1"},
                   limits={"memory": "14Gi", "nvidia.com/gpu": "1"},
                   readiness=http_probe("/health", "http", period=10))],
        created_ago=25 * DAY, rs_created_ago=9 * DAY, node_selector={"accelerator": "nvidia-t4"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}])
    c.replica(inference, node="worker-2", created_ago=9 * DAY,
              runs={"server": up(9 * DAY - 40, log=log_lines(9 * DAY - 40, (0, "INFO: loading weights (4 shards)"),
                                                            (52, "INFO: Uvicorn running on http://0.0.0.0:8000")))})
    c.service("ml", "llm-inference", {"app": "llm-inference"}, [("http", 80, "http")], created_ago=25 * DAY)

    cp_taint = taint_reason("node-role.kubernetes.io/control-plane")
    gpu_taint = taint_reason("dedicated", "gpu")

    # PEND-001: a Job asking for 3500m cpu; no node has that much free
    reindex = job(c, "shop", "nightly-reindex",
                  [container("reindex", "registry.example.com/shop/search-indexer:2.0.7",
                             args=["--full", "--parallel=8"], requests={"cpu": "3500m", "memory": "4Gi"},
                             limits={"cpu": "3500m", "memory": "4Gi"})], created_ago=25 * MIN)
    pod = c.replica(reindex, node=None, runs={}, created_ago=25 * MIN,
                    unschedulable=fit_error([cp_taint, "Insufficient cpu", gpu_taint]))
    pod["metadata"]["finalizers"] = ["batch.kubernetes.io/job-tracking"]
    c.event("Job", reindex.obj, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
            component="job-controller", first_ago=25 * MIN, api_version="batch/v1")
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=25 * MIN - 1,
                   last_ago=2 * MIN + 13, count=9)

    # PEND-002: wants the GPU node (nodeSelector) but does not tolerate dedicated=gpu:NoSchedule
    tagger = c.deployment("shop", "image-tagger",
                          [container("tagger", "registry.example.com/shop/image-tagger:1.1.0",
                                     requests={"cpu": "500m", "memory": "2Gi", "nvidia.com/gpu": "1"},
                                     limits={"memory": "2Gi", "nvidia.com/gpu": "1"})],
                          created_ago=40 * MIN, node_selector={"accelerator": "nvidia-t4"})
    pod = c.replica(tagger, node=None, runs={}, created_ago=40 * MIN,
                    unschedulable=fit_error([cp_taint, NODE_AFFINITY_REASON, gpu_taint]))
    rollout_events(c, tagger, pod, 40 * MIN)
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=40 * MIN - 1,
                   last_ago=4 * MIN + 2, count=11)

    # PEND-003: nodeSelector disktype=ssd, a label no node has
    cache = c.deployment("shop", "inventory-cache",
                         [container("redis", "redis:7.2.5", ports=(("redis", 6379),),
                                    requests={"cpu": "200m", "memory": "512Mi"}, limits={"memory": "512Mi"})],
                         created_ago=18 * MIN, node_selector={"disktype": "ssd"})
    pod = c.replica(cache, node=None, runs={}, created_ago=18 * MIN,
                    unschedulable=fit_error([cp_taint, NODE_AFFINITY_REASON, gpu_taint]))
    rollout_events(c, cache, pod, 18 * MIN)
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=18 * MIN - 1,
                   last_ago=3 * MIN + 40, count=7)
    c.service("shop", "inventory-cache", {"app": "inventory-cache"}, [("redis", 6379, "redis")],
              created_ago=18 * MIN)

    # PEND-004: StatefulSet whose claim asks for a StorageClass that does not exist
    db = statefulset(c, "shop", "orders-db",
                     [container("postgres", "postgres:16.4", ports=(("postgres", 5432),),
                                env=[env_value("PGDATA", "/var/lib/postgresql/data/pgdata"),
                                     env_secret("POSTGRES_PASSWORD", "orders-db", "password")],
                                requests={"cpu": "250m", "memory": "512Mi"}, limits={"memory": "1Gi"},
                                mounts=[{"name": "data", "mountPath": "/var/lib/postgresql/data"}])],
                     service="orders-db", claims=[("data", "fast-ssd", "20Gi")], created_ago=16 * MIN)
    pod = c.replica(db, node=None, runs={}, created_ago=16 * MIN, name="orders-db-0",
                    extra_labels={"apps.kubernetes.io/pod-index": "0",
                                  "statefulset.kubernetes.io/pod-name": "orders-db-0"},
                    unschedulable=fit_error(["-"] * 3, prefilter=UNBOUND_PVC))
    pod["spec"]["volumes"].insert(0, {"name": "data", "persistentVolumeClaim": {"claimName": "data-orders-db-0"}})
    pod["spec"].update(hostname="orders-db-0", subdomain="orders-db")
    pod["spec"] = ordered(pod["spec"], POD_SPEC_ORDER)
    pvc = c.add("shop", "persistentvolumeclaims", {
        "metadata": c.meta("data-orders-db-0", "shop", 16 * MIN, labels={"app": "orders-db"},
                           finalizers=["kubernetes.io/pvc-protection"]),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}},
                 "storageClassName": "fast-ssd", "volumeMode": "Filesystem"},
        "status": {"phase": "Pending"}})
    c.event("StatefulSet", db.obj, "SuccessfulCreate", "create Claim data-orders-db-0 Pod orders-db-0 in "
            "StatefulSet orders-db success", component="statefulset-controller", first_ago=16 * MIN,
            api_version="apps/v1")
    c.event("StatefulSet", db.obj, "SuccessfulCreate", "create Pod orders-db-0 in StatefulSet orders-db successful",
            component="statefulset-controller", first_ago=16 * MIN - 0.1, api_version="apps/v1")
    c.event("PersistentVolumeClaim", pvc, "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found',
            component="persistentvolume-controller", type_="Warning", first_ago=16 * MIN, last_ago=11, count=64)
    pending_events(c, pod, pod["status"]["conditions"][0]["message"], first_ago=16 * MIN - 1,
                   last_ago=1 * MIN + 51, count=8)
    c.service("shop", "orders-db", {"app": "orders-db"}, [("postgres", 5432, "postgres")], headless=True,
              created_ago=16 * MIN)

    # PEND-005: scheduled, but the image cannot be pulled (tag not found / registry says 401)
    cart_image = "registry.example.com/shop/cart:v2.3.1"
    cart = c.deployment("shop", "cart", [web_container("cart", cart_image, cpu="250m", memory="256Mi")],
                        created_ago=20 * DAY, rs_created_ago=14 * MIN, revision=7)
    pod = c.replica(cart, node="worker-1", created_ago=14 * MIN,
                    runs={"cart": stuck("ImagePullBackOff", f'Back-off pulling image "{cart_image}"')})
    rollout_events(c, cart, pod, 14 * MIN)
    image_pull_events(c, pod, "cart", pull_error(NOT_FOUND, cart_image), first_ago=14 * MIN - 2,
                      last_ago=2 * MIN + 30, pulls=7, backoffs=58, last_backoff_ago=9)
    c.service("shop", "cart", {"app": "cart"}, [("http", 80, "http")])

    billing_image = "registry.example.com/private/billing:1.4.0"
    billing = c.deployment("shop", "billing", [web_container("billing", billing_image, cpu="250m", memory="256Mi")],
                           created_ago=9 * MIN)
    error = pull_error(UNAUTHORIZED, billing_image)
    pod = c.replica(billing, node="worker-1", created_ago=9 * MIN, runs={"billing": stuck("ErrImagePull", error)})
    rollout_events(c, billing, pod, 9 * MIN)
    image_pull_events(c, pod, "billing", error, first_ago=9 * MIN - 2, last_ago=6, pulls=6, backoffs=33,
                      last_backoff_ago=21)
    c.service("shop", "billing", {"app": "billing"}, [("http", 80, "http")], created_ago=9 * MIN)

    c.scenario = {
        "description": "Five Pending pods in shop, one per cause: no cpu, untolerated GPU taint, "
                       "nodeSelector disktype=ssd, PVC on a missing StorageClass, image pull failures",
        "runbook": "pod-pending", "namespace": "shop",
        "expected_codes": ["PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005"],
        "absent_codes": ["PEND-006"]}
    return c


def scenario_pending_no_nodes() -> Cluster:
    """PEND-006: worker-1 stopped reporting, worker-2 is cordoned, cp-1 is tainted."""
    c = Cluster("pending-no-nodes")
    lost = 4 * MIN + 10
    three_nodes(c, worker_1={"lost_ago": lost}, worker_2={"cordoned_ago": 35 * MIN})
    default_namespace(c)
    kube_system(c, lost={"worker-1": lost})
    c.storage_class("standard", "rancher.io/local-path", default=True)

    # web was evicted from worker-2 by the drain and now runs on worker-1, which went silent
    web = c.deployment("default", "web", [web_container("web", "registry.example.com/shop/web:1.8.2",
                                                        cpu="250m", memory="256Mi")],
                       replicas=2, created_ago=20 * DAY, rs_created_ago=6 * DAY)
    for _ in range(2):
        pod = c.replica(web, node="worker-1", created_ago=35 * MIN - 2, node_lost_ago=lost,
                        runs={"web": up(35 * MIN - 6, log=app_log(35 * MIN - 6, "web", "1.8.2", 8080))})
        c.started_events(pod, ago=35 * MIN - 6)
        c.event("Pod", pod, "NodeNotReady", "Node is not ready", component="node-controller", type_="Warning",
                first_ago=lost - 45)
    c.service("default", "web", {"app": "web"}, [("http", 80, "http")])

    api = c.deployment("default", "api", [web_container("api", "registry.example.com/shop/api:2.4.0",
                                                        cpu="250m", memory="256Mi")],
                       created_ago=3 * MIN)
    message = fit_error([taint_reason("node-role.kubernetes.io/control-plane"),
                         taint_reason("node.kubernetes.io/unreachable"), UNSCHEDULABLE_REASON])
    pod = c.replica(api, node=None, runs={}, created_ago=3 * MIN, unschedulable=message)
    rollout_events(c, api, pod, 3 * MIN)
    pending_events(c, pod, message, first_ago=3 * MIN - 1, last_ago=38, count=3)
    c.service("default", "api", {"app": "api"}, [("http", 80, "http")], created_ago=3 * MIN)

    c.event("Node", c.node_named("worker-2"), "NodeNotSchedulable", "Node worker-2 status is now: NodeNotSchedulable",
            component="kubelet", host="worker-2", first_ago=35 * MIN)
    c.event("Node", c.node_named("worker-1"), "NodeNotReady", "Node worker-1 status is now: NodeNotReady",
            component="node-controller", first_ago=lost - 40)
    c.scenario = {
        "description": "A new pod cannot schedule: worker-1 NotReady (unreachable), worker-2 cordoned, "
                       "cp-1 keeps its control-plane taint",
        "runbook": "pod-pending", "namespace": "default",
        "expected_codes": ["PEND-006"],
        "absent_codes": ["PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005"]}
    return c


def oom_previous_log(start_ago: float) -> str:
    return log_lines(start_ago, (0.0, "INFO  starting payments-api version=3.4.2 commit=9f1c2ab"),
                     (0.3, "INFO  connected to postgres host=postgres.payments.svc.cluster.local:5432 pool=20"),
                     (0.5, "INFO  loading exchange-rate cache entries=1200000"),
                     (4.8, "INFO  listening on :8080"),
                     (9.1, "WARN  heap usage high used=231MiB limit=256MiB"),
                     (11.6, "INFO  settlement batch started batch=88412 items=54000"),
                     (13.9, "WARN  heap usage high used=252MiB limit=256MiB"))


def scenario_pod_crashloop() -> Cluster:
    """CRASH-001..007 in namespace payments, with current and previous logs."""
    c = Cluster("pod-crashloop")
    three_nodes(c)
    default_namespace(c)
    kube_system(c)
    c.namespace("payments", 60 * DAY)
    c.storage_class("standard", "rancher.io/local-path", default=True)
    ns = "payments"
    healthy_deployment(c, ns, "gateway", "registry.example.com/payments/gateway:2.2.0", "2.2.0",
                       ["worker-1", "worker-2"], started_ago=2 * DAY, cpu="200m", memory="256Mi")
    c.configmap(ns, "gateway-routes", ["routes.yaml"])
    c.configmap(ns, "ledger-config", ["LEDGER_CURRENCY", "LEDGER_WORKERS"])

    # CRASH-001: OOMKilled, CrashLoopBackOff
    api = c.deployment(ns, "api", [web_container("api", "registry.example.com/payments/api:3.4.2", cpu="250m",
                                                 memory="128Mi", memory_limit="256Mi")],
                       created_ago=60 * DAY, rs_created_ago=52 * MIN, revision=12)
    run_start, run_end = 3 * MIN + 20, 3 * MIN + 6
    pod = c.replica(api, node="worker-1", created_ago=52 * MIN, runs={"api": stuck(
        "CrashLoopBackOff", restarts=9, last=exited(137, "OOMKilled", run_start, run_end),
        previous_log=oom_previous_log(run_start))})
    rollout_events(c, api, pod, 52 * MIN)
    restart_events(c, pod, "api", first_ago=52 * MIN - 2, starts=10, last_start_ago=run_start,
                   backoffs=212, backoff_last_ago=41)
    c.event("Node", c.node_named("worker-1"), "SystemOOM", "System OOM encountered, victim process: payments-api, "
            "pid: 48213", component="kubelet", host="worker-1", type_="Warning", first_ago=51 * MIN,
            last_ago=run_end, count=10)
    c.service(ns, "api", {"app": "api"}, [("http", 80, "http")], created_ago=60 * DAY)

    # CRASH-002: exits 1 with a stack trace
    ledger = c.deployment(ns, "ledger", [container(
        "ledger", "registry.example.com/payments/ledger:5.0.1", command=["python", "-m", "ledger.main"],
        ports=(("http", 8000),),
        env_from=[{"configMapRef": {"name": "ledger-config"}}],
        requests={"cpu": "100m", "memory": "128Mi"}, limits={"memory": "256Mi"})],
        created_ago=30 * DAY, rs_created_ago=41 * MIN, revision=4)
    run_start = 2 * MIN + 2
    previous = log_lines(run_start, (0.0, "INFO ledger.main: starting ledger 5.0.1"),
                         (0.2, "INFO ledger.settings: reading settings from environment"), fmt="py") + (
        "Traceback (most recent call last):\n"
        '  File "<frozen runpy>", line 198, in _run_module_as_main\n'
        '  File "<frozen runpy>", line 88, in _run_code\n'
        '  File "/app/ledger/main.py", line 42, in <module>\n'
        "    main()\n"
        '  File "/app/ledger/main.py", line 31, in main\n'
        "    settings = load_settings(os.environ)\n"
        "               ^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "/app/ledger/settings.py", line 18, in load_settings\n'
        '    workers = int(env["LEDGER_WORKERS"])\n'
        "              ^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        "ValueError: invalid literal for int() with base 10: 'eight'\n")
    pod = c.replica(ledger, node="worker-2", created_ago=41 * MIN, runs={"ledger": stuck(
        "CrashLoopBackOff", restarts=8, last=exited(1, "Error", run_start, run_start - 1), previous_log=previous)})
    rollout_events(c, ledger, pod, 41 * MIN)
    restart_events(c, pod, "ledger", first_ago=41 * MIN - 2, starts=9, last_start_ago=run_start,
                   backoffs=180, backoff_last_ago=17)
    c.service(ns, "ledger", {"app": "ledger"}, [("http", 80, "http")], created_ago=30 * DAY)

    # CRASH-002: the entrypoint does not exist in the image (containerd StartError, exit 128)
    start_error = ('failed to create containerd task: failed to create shim task: OCI runtime create failed: '
                   'runc create failed: unable to start container process: exec: "/app/start.sh": '
                   'stat /app/start.sh: no such file or directory: unknown')
    notifier = c.deployment(ns, "notifier", [container(
        "notifier", "registry.example.com/payments/notifier:1.0.0", command=["/app/start.sh"],
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"})],
        created_ago=27 * MIN)
    pod = c.replica(notifier, node="worker-1", created_ago=27 * MIN, runs={"notifier": stuck(
        "CrashLoopBackOff", restarts=7, last=exited(128, "StartError", None, 4 * MIN + 12, start_error))})
    rollout_events(c, notifier, pod, 27 * MIN)
    restart_events(c, pod, "notifier", first_ago=27 * MIN - 2, starts=8, last_start_ago=4 * MIN + 12,
                   backoffs=117, backoff_last_ago=26, start_failure=start_error)

    # CRASH-002: a shell wrapper runs a script that is not there (exit 127)
    fx = c.deployment(ns, "fx-sync", [container(
        "fx-sync", "registry.example.com/payments/fx-sync:0.9.0",
        command=["/bin/sh", "-c", "/app/sync.sh --interval 60"],
        requests={"cpu": "50m", "memory": "64Mi"}, limits={"memory": "128Mi"})],
        created_ago=33 * MIN)
    pod = c.replica(fx, node="worker-2", created_ago=33 * MIN, runs={"fx-sync": stuck(
        "CrashLoopBackOff", restarts=8, last=exited(127, "Error", 1 * MIN + 40, 1 * MIN + 40),
        previous_log="/bin/sh: 1: /app/sync.sh: not found\n")})
    rollout_events(c, fx, pod, 33 * MIN)
    restart_events(c, pod, "fx-sync", first_ago=33 * MIN - 2, starts=9, last_start_ago=1 * MIN + 40,
                   backoffs=140, backoff_last_ago=52)

    # CRASH-003: runs for minutes, then /healthz answers 500 and the kubelet restarts it
    fraud = c.deployment(ns, "fraud-check", [container(
        "fraud-check", "registry.example.com/payments/fraud-check:1.12.3", ports=(("http", 8080),),
        env=[env_value("REDIS_ADDR", "redis.payments.svc.cluster.local:6379")],
        requests={"cpu": "200m", "memory": "256Mi"}, limits={"memory": "512Mi"},
        liveness=http_probe("/healthz", "http", initial=15, period=10))],
        created_ago=45 * DAY, rs_created_ago=3 * DAY)
    current_start = 1 * MIN + 35
    redis_down = "redis ping: dial tcp 10.96.41.87:6379: i/o timeout"
    current = log_lines(current_start, (0.0, 'level=info msg="starting fraud-check" version=1.12.3'),
                        (0.6, 'level=info msg="listening" addr=:8080'),
                        (25.1, f'level=error msg="health check failed" err="{redis_down}"'),
                        (35.1, f'level=error msg="health check failed" err="{redis_down}"'),
                        (45.1, f'level=error msg="health check failed" err="{redis_down}"'), fmt="none")
    previous = log_lines(15 * MIN, (0.0, 'level=info msg="starting fraud-check" version=1.12.3'),
                         (0.6, 'level=info msg="listening" addr=:8080'),
                         (300.4, 'level=info msg="scored" requests=18231 p99_ms=41'),
                         (700.2, f'level=error msg="health check failed" err="{redis_down}"'),
                         (710.2, f'level=error msg="health check failed" err="{redis_down}"'),
                         (720.2, f'level=error msg="health check failed" err="{redis_down}"'), fmt="none")
    pod = c.replica(fraud, node="worker-2", created_ago=3 * DAY, runs={"fraud-check": up(
        current_start, restarts=4, last=exited(143, "Error", 15 * MIN, current_start + 8), log=current,
        previous_log=previous)})
    node = pod["spec"]["nodeName"]
    common = {"component": "kubelet", "host": node, "field_path": "spec.containers{fraud-check}"}
    c.event("Pod", pod, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500",
            type_="Warning", first_ago=58 * MIN, last_ago=50, count=14, **common)
    c.event("Pod", pod, "Killing", "Container fraud-check failed liveness probe, will be restarted",
            first_ago=57 * MIN + 40, last_ago=current_start + 38, count=4, **common)
    c.event("Pod", pod, "Pulled", 'Container image "registry.example.com/payments/fraud-check:1.12.3" already '
            "present on machine", first_ago=57 * MIN + 9, last_ago=current_start, count=4, **common)
    c.event("Pod", pod, "Created", "Created container fraud-check", first_ago=57 * MIN + 9,
            last_ago=current_start, count=4, **common)
    c.event("Pod", pod, "Started", "Started container fraud-check", first_ago=57 * MIN + 9,
            last_ago=current_start, count=4, **common)
    c.service(ns, "fraud-check", {"app": "fraud-check"}, [("http", 80, "http")], created_ago=45 * DAY)

    # CRASH-004: running, never Ready: the app listens on 9090, readiness probes 8080
    statements = c.deployment(ns, "statements", [web_container(
        "statements", "registry.example.com/payments/statements:2.8.0", cpu="100m", memory="128Mi",
        env=[env_value("PORT", "9090")], liveness=None)], created_ago=38 * MIN)
    started = 38 * MIN - 4
    pod = c.replica(statements, node="worker-2", created_ago=38 * MIN, runs={"statements": up(
        started, ready=False, log=log_lines(started, (0.0, "INFO  starting statements version=2.8.0"),
                                            (0.7, "INFO  renderer pool ready workers=4"),
                                            (0.9, "INFO  http server listening addr=:9090")))})
    rollout_events(c, statements, pod, 38 * MIN)
    c.started_events(pod, ago=started)
    ip = pod["status"]["podIP"]
    c.event("Pod", pod, "Unhealthy", f'Readiness probe failed: Get "http://{ip}:8080/ready": dial tcp {ip}:8080: '
            "connect: connection refused", component="kubelet", host="worker-2", type_="Warning",
            first_ago=started - 1, last_ago=3, count=455, field_path="spec.containers{statements}")
    c.service(ns, "statements", {"app": "statements"}, [("http", 80, "http")], created_ago=38 * MIN)

    # CRASH-005: CreateContainerConfigError (missing ConfigMap; missing key in a Secret)
    for name, image, spec_extra, message in (
            ("payouts", "registry.example.com/payments/payouts:4.1.0",
             {"env_from": [{"configMapRef": {"name": "payments-config"}}]},
             'configmap "payments-config" not found'),
            ("reconciler", "registry.example.com/payments/reconciler:2.3.3",
             {"env": [env_value("DB_HOST", "postgres.payments.svc.cluster.local"),
                      env_secret("DB_PASSWORD", "db-credentials", "DB_PASSWORD")]},
             "couldn't find key DB_PASSWORD in Secret payments/db-credentials")):
        work = c.deployment(ns, name, [web_container(name, image, **spec_extra)], created_ago=21 * MIN)
        pod = c.replica(work, node="worker-1", created_ago=21 * MIN,
                        runs={name: stuck("CreateContainerConfigError", message)})
        rollout_events(c, work, pod, 21 * MIN)
        node_name = pod["spec"]["nodeName"]
        c.scheduler_event(pod, "Scheduled", f"Successfully assigned {ns}/{pod['metadata']['name']} to {node_name}",
                          first_ago=21 * MIN - 1)
        common = {"component": "kubelet", "host": node_name, "field_path": f"spec.containers{{{name}}}"}
        c.event("Pod", pod, "Pulled", f'Container image "{image}" already present on machine',
                first_ago=21 * MIN - 2, last_ago=14, count=97, **common)
        c.event("Pod", pod, "Failed", f"Error: {message}", type_="Warning", first_ago=21 * MIN - 2,
                last_ago=14, count=97, **common)
        c.service(ns, name, {"app": name}, [("http", 80, "http")], created_ago=21 * MIN)

    # CRASH-006: the init container cannot reach postgres, the app never starts
    wait_script = ("timeout 60 sh -c 'until nc -z -w 2 postgres.payments.svc.cluster.local 5432; do "
                   "echo waiting for postgres.payments.svc.cluster.local:5432 ...; sleep 5; done' "
                   "|| { echo 'waiting for postgres.payments.svc.cluster.local:5432 ... timed out after 60s'; exit 1; }")
    settlement = c.deployment(
        ns, "settlement", [web_container("settlement", "registry.example.com/payments/settlement:7.0.2")],
        init_containers=[container("wait-for-db", "busybox:1.36", command=["sh", "-c", wait_script],
                                   requests={"cpu": "10m", "memory": "16Mi"})],
        created_ago=44 * MIN)
    run_start = 5 * MIN + 30
    previous = "".join("waiting for postgres.payments.svc.cluster.local:5432 ...\n"
                       "nc: bad address 'postgres.payments.svc.cluster.local'\n" for _ in range(12))
    previous += "waiting for postgres.payments.svc.cluster.local:5432 ... timed out after 60s\n"
    pod = c.replica(settlement, node="worker-1", created_ago=44 * MIN,
                    init_runs={"wait-for-db": stuck("CrashLoopBackOff", restarts=6, previous_log=previous,
                                                    last=exited(1, "Error", run_start, run_start - 60))},
                    runs={"settlement": stuck("PodInitializing")})
    rollout_events(c, settlement, pod, 44 * MIN)
    restart_events(c, pod, "wait-for-db", first_ago=44 * MIN - 2, starts=7, last_start_ago=run_start,
                   backoffs=38, backoff_last_ago=12, init=True)
    c.service(ns, "settlement", {"app": "settlement"}, [("http", 80, "http")], created_ago=44 * MIN)

    # CRASH-007: a 2.1 GB model takes longer to load than liveness allows (no startupProbe)
    model = c.deployment(ns, "risk-model", [container(
        "risk-model", "registry.example.com/payments/risk-model:2.7.0", ports=(("http", 8080),),
        requests={"cpu": "500m", "memory": "3Gi"}, limits={"memory": "4Gi"},
        liveness=http_probe("/healthz", "http", initial=5, period=5),
        mounts=[{"name": "models", "readOnly": True, "mountPath": "/models"}])],
        volumes=[{"name": "models", "persistentVolumeClaim": {"claimName": "risk-models", "readOnly": True}}],
        grace=5, created_ago=6 * MIN + 30)

    def model_log(start_ago: float, upto: int) -> str:
        lines = [(0.0, "INFO risk_model.server: risk-model 2.7.0 starting"),
                 (0.4, "INFO risk_model.loader: loading 2.1 GB model from /models/risk-v7.onnx")]
        lines += [(float(s), f"INFO risk_model.loader: still loading after {s}s ({s * 37 // 10}%)")
                  for s in range(10, upto + 1, 10)]
        return log_lines(start_ago, *lines, fmt="py")

    current_start, last_start, last_end = 8, 62, 36
    pod = c.replica(model, node="worker-1", created_ago=6 * MIN + 30, runs={"risk-model": up(
        current_start, restarts=3, last=exited(137, "Error", last_start, last_end),
        log=model_log(current_start, 0), previous_log=model_log(last_start, 20))})
    rollout_events(c, model, pod, 6 * MIN + 30)
    ip = pod["status"]["podIP"]
    common = {"component": "kubelet", "host": "worker-1", "field_path": "spec.containers{risk-model}"}
    restart_events(c, pod, "risk-model", first_ago=6 * MIN + 28, starts=4, last_start_ago=current_start,
                   backoffs=3, backoff_last_ago=last_end - 2)
    c.event("Pod", pod, "Unhealthy", f'Liveness probe failed: Get "http://{ip}:8080/healthz": dial tcp {ip}:8080: '
            "connect: connection refused", type_="Warning", first_ago=6 * MIN + 18, last_ago=3, count=10, **common)
    c.event("Pod", pod, "Killing", "Container risk-model failed liveness probe, will be restarted",
            first_ago=6 * MIN + 8, last_ago=last_end + 5, count=3, **common)
    pvc = c.add(ns, "persistentvolumeclaims", {
        "metadata": c.meta("risk-models", ns, 60 * DAY, finalizers=["kubernetes.io/pvc-protection"],
                           annotations={"pv.kubernetes.io/bind-completed": "yes",
                                        "pv.kubernetes.io/bound-by-controller": "yes",
                                        "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
                                        "volume.kubernetes.io/selected-node": "worker-1",
                                        "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path"}),
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                 "volumeName": "pvc-" + stable_uid(c.name, "pv", "risk-models"), "storageClassName": "standard",
                 "volumeMode": "Filesystem"},
        "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "10Gi"}}})
    c.cluster_objects["persistentvolumes"].append({
        "metadata": c.meta(pvc["spec"]["volumeName"], None, 60 * DAY,
                           annotations={"local.path.provisioner/selected-node": "worker-1",
                                        "pv.kubernetes.io/provisioned-by": "rancher.io/local-path"},
                           finalizers=["kubernetes.io/pv-protection"]),
        "spec": {"capacity": {"storage": "10Gi"},
                 "hostPath": {"path": f"/opt/local-path-provisioner/{pvc['spec']['volumeName']}_payments_risk-models",
                              "type": "DirectoryOrCreate"},
                 "accessModes": ["ReadWriteOnce"],
                 "claimRef": {"kind": "PersistentVolumeClaim", "namespace": ns, "name": "risk-models",
                              "uid": pvc["metadata"]["uid"], "apiVersion": "v1",
                              "resourceVersion": pvc["metadata"]["resourceVersion"]},
                 "persistentVolumeReclaimPolicy": "Delete", "storageClassName": "standard",
                 "volumeMode": "Filesystem",
                 "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                     {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-1"]}]}]}}},
        "status": {"phase": "Bound", "lastPhaseTransitionTime": when(60 * DAY)}})
    c.service(ns, "risk-model", {"app": "risk-model"}, [("http", 80, "http")], created_ago=6 * MIN + 30)

    c.scenario = {
        "description": "One pod per crash cause in payments: OOMKilled, exit 1 / StartError / exit 127, "
                       "liveness 500s, readiness refused, missing ConfigMap / Secret key, failing init "
                       "container, slow start killed by liveness",
        "runbook": "pod-crashloop", "namespace": "payments",
        "expected_codes": ["CRASH-001", "CRASH-002", "CRASH-003", "CRASH-004", "CRASH-005", "CRASH-006",
                           "CRASH-007"],
        "absent_codes": []}
    return c


def scenario_triage() -> Cluster:
    """A cluster-wide incident mix across default, shop, payments and kube-system."""
    c = Cluster("triage")
    lost = 4 * MIN + 10
    three_nodes(c)
    c.node("worker-3", "10.0.0.13", 3, lost_ago=lost, zone="zone-b")
    default_namespace(c)
    kube_system(c, lost={"worker-3": lost})
    c.namespace("shop", 30 * DAY)
    c.namespace("payments", 60 * DAY)
    c.storage_class("standard", "rancher.io/local-path", default=True)

    # default: web (one replica on the lost node), checkout whose Service selects nothing
    web = c.deployment("default", "web", [web_container("web", "registry.example.com/shop/web:1.8.2",
                                                        cpu="250m", memory="256Mi")],
                       replicas=2, created_ago=20 * DAY, rs_created_ago=58 * MIN, revision=9)
    for node in ("worker-1", "worker-3"):
        started = 57 * MIN
        pod = c.replica(web, node=node, created_ago=58 * MIN, node_lost_ago=lost if node == "worker-3" else None,
                        runs={"web": up(started, log=app_log(started, "web", "1.8.2", 8080))})
        if node == "worker-1":
            rollout_events(c, web, pod, 58 * MIN)
        c.started_events(pod, ago=started)
        ip = pod["status"]["podIP"]
        c.event("Pod", pod, "Unhealthy", f'Readiness probe failed: Get "http://{ip}:8080/ready": dial tcp '
                f"{ip}:8080: connect: connection refused", component="kubelet", host=node, type_="Warning",
                first_ago=started - 1, last_ago=started - 6, count=2, field_path="spec.containers{web}")
        if node == "worker-3":
            c.event("Pod", pod, "NodeNotReady", "Node is not ready", component="node-controller",
                    type_="Warning", first_ago=lost - 45)
    c.service("default", "web", {"app": "web"}, [("http", 80, "http")])
    checkout = c.deployment("default", "checkout",
                            [web_container("checkout", "registry.example.com/shop/checkout:3.0.0", cpu="250m",
                                           memory="256Mi")],
                            replicas=2, labels={"app.kubernetes.io/name": "checkout"}, created_ago=2 * DAY)
    for node in ("worker-1", "worker-2"):
        c.replica(checkout, node=node, created_ago=2 * DAY,
                  runs={"checkout": up(2 * DAY - 5, log=app_log(2 * DAY - 5, "checkout", "3.0.0", 8080))})
    c.service("default", "checkout", {"app": "checkout"}, [("http", 80, "http")], created_ago=40 * MIN,
              labels={"app.kubernetes.io/name": "checkout"})

    # shop: an image that does not exist, and a pod asking for 12Gi of memory
    for name, nodes, memory in (("catalog", ["worker-1", "worker-2"], "2Gi"), ("search", ["worker-1", "worker-2"], "4Gi")):
        healthy_deployment(c, "shop", name, f"registry.example.com/shop/{name}:2.0.7", "2.0.7", nodes,
                           started_ago=3 * DAY, cpu="250m", memory=memory)
    cart_image = "registry.example.com/shop/cart:v2.3.1"
    cart = c.deployment("shop", "cart", [web_container("cart", cart_image, cpu="250m", memory="256Mi")],
                        created_ago=20 * DAY, rs_created_ago=22 * MIN, revision=7)
    pod = c.replica(cart, node="worker-2", created_ago=22 * MIN,
                    runs={"cart": stuck("ImagePullBackOff", f'Back-off pulling image "{cart_image}"')})
    rollout_events(c, cart, pod, 22 * MIN)
    image_pull_events(c, pod, "cart", pull_error(NOT_FOUND, cart_image), first_ago=22 * MIN - 2,
                      last_ago=1 * MIN + 30, pulls=9, backoffs=94, last_backoff_ago=10)
    c.service("shop", "cart", {"app": "cart"}, [("http", 80, "http")])
    recommender = c.deployment("shop", "recommender",
                               [web_container("recommender", "registry.example.com/shop/recommender:1.3.0",
                                              cpu="500m", memory="12Gi")], created_ago=35 * MIN)
    message = fit_error([taint_reason("node-role.kubernetes.io/control-plane"), "Insufficient memory",
                         "Insufficient memory", taint_reason("node.kubernetes.io/unreachable")])
    pod = c.replica(recommender, node=None, runs={}, created_ago=35 * MIN, unschedulable=message)
    rollout_events(c, recommender, pod, 35 * MIN)
    pending_events(c, pod, message, first_ago=35 * MIN - 1, last_ago=1 * MIN + 5, count=12)
    c.service("shop", "recommender", {"app": "recommender"}, [("http", 80, "http")], created_ago=35 * MIN)

    # payments: api OOMKilled in a loop
    healthy_deployment(c, "payments", "gateway", "registry.example.com/payments/gateway:2.2.0", "2.2.0",
                       ["worker-1", "worker-2"], started_ago=2 * DAY, cpu="200m", memory="256Mi")
    api = c.deployment("payments", "api", [web_container("api", "registry.example.com/payments/api:3.4.2",
                                                         cpu="250m", memory="128Mi", memory_limit="256Mi")],
                       created_ago=60 * DAY, rs_created_ago=50 * MIN, revision=12)
    run_start = 2 * MIN + 50
    pod = c.replica(api, node="worker-2", created_ago=50 * MIN, runs={"api": stuck(
        "CrashLoopBackOff", restarts=9, last=exited(137, "OOMKilled", run_start, run_start - 14),
        previous_log=oom_previous_log(run_start))})
    rollout_events(c, api, pod, 50 * MIN)
    restart_events(c, pod, "api", first_ago=50 * MIN - 2, starts=10, last_start_ago=run_start,
                   backoffs=201, backoff_last_ago=20)
    c.event("Node", c.node_named("worker-2"), "SystemOOM", "System OOM encountered, victim process: payments-api, "
            "pid: 51877", component="kubelet", host="worker-2", type_="Warning", first_ago=49 * MIN,
            last_ago=run_start - 14, count=10)
    c.service("payments", "api", {"app": "api"}, [("http", 80, "http")], created_ago=60 * DAY)

    c.event("Node", c.node_named("worker-3"), "NodeNotReady", "Node worker-3 status is now: NodeNotReady",
            component="node-controller", first_ago=lost - 40)
    c.scenario = {
        "description": "Incident mix: worker-3 NotReady, payments/api CrashLoopBackOff (OOMKilled), "
                       "shop/cart ImagePullBackOff, shop/recommender Pending (memory), Service "
                       "default/checkout without endpoints",
        "runbook": "triage", "namespace": "default",
        "expected_codes": ["TRIAGE-001"], "absent_codes": []}
    return c


def scenario_healthy() -> Cluster:
    """Everything Running and Ready; only Normal events; every Service has endpoints."""
    c = Cluster("healthy")
    three_nodes(c)
    default_namespace(c)
    kube_system(c)
    c.namespace("shop", 30 * DAY)
    c.storage_class("standard", "rancher.io/local-path", default=True)
    healthy_deployment(c, "default", "web", "registry.example.com/shop/web:1.8.2", "1.8.2",
                       ["worker-1", "worker-2"], started_ago=25 * MIN, cpu="250m", memory="256Mi", with_events=True)
    healthy_deployment(c, "shop", "catalog", "registry.example.com/shop/catalog:4.2.0", "4.2.0",
                       ["worker-1", "worker-2"], started_ago=3 * DAY, cpu="500m", memory="1Gi")
    healthy_deployment(c, "shop", "cart", "registry.example.com/shop/cart:2.3.0", "2.3.0",
                       ["worker-2"], started_ago=41 * MIN, cpu="250m", memory="256Mi", with_events=True)
    healthy_deployment(c, "shop", "search", "registry.example.com/shop/search:2.0.7", "2.0.7",
                       ["worker-1"], started_ago=3 * DAY, cpu="1", memory="2Gi", memory_limit="3Gi")
    c.configmap("shop", "web-config", ["FEATURE_FLAGS", "LOG_LEVEL"])
    all_codes = ["CRASH-001", "CRASH-002", "CRASH-003", "CRASH-004", "CRASH-005", "CRASH-006", "CRASH-007",
                 "PEND-001", "PEND-002", "PEND-003", "PEND-004", "PEND-005", "PEND-006", "TRIAGE-001"]
    c.scenario = {
        "description": "A healthy 3-node cluster: every pod Running and Ready, Normal events only, "
                       "every Service with endpoints",
        "runbook": "triage", "namespace": "default", "expected_codes": [], "absent_codes": all_codes}
    return c


SCENARIOS = {
    "pod-pending": scenario_pod_pending,
    "pending-no-nodes": scenario_pending_no_nodes,
    "pod-crashloop": scenario_pod_crashloop,
    "triage": scenario_triage,
    "healthy": scenario_healthy,
}


def build(out: Path) -> list[Path]:
    """Write every scenario under ``out``; returns the scenario directories."""
    written = []
    for name, make in SCENARIOS.items():
        make().write(out / name)
        written.append(out / name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"folder to write the scenario directories into (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    for path in build(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
