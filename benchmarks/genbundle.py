"""A synthetic snapshot bundle at Kubernetes' published scalability limits, with a scale factor.

At ``scale=1.0``: 5,000 nodes, 150,000 pods in 50 namespaces (kube-system,
default and 48 application namespaces), 10,000 Services (one per
Deployment) with their Endpoints, Deployments and ReplicaSets, 300,000
events, logs of the crash-looping pods and of a sample of the others. Sizes
scale linearly with ``scale`` (at least 20 nodes and 2 namespaces).

Objects are what ``kubectl get -o json`` prints, pretty-printed (4 spaces,
like ``kubectl cluster-info dump``): statuses, conditions, owner
references, managedFields, requests/limits, probes, env, volumes, taints,
node images. Among them, deterministically (``seed``):

- ~1 % of nodes NotReady (with the node-lifecycle taints), ~0.5 % cordoned,
  3 control-plane nodes (NoSchedule), ~2 % ``dedicated=gpu:NoSchedule``;
- ~1 % of pods CrashLoopBackOff (exit 1 or OOMKilled; BackOff events,
  previous logs), ~0.5 % Pending with a FailedScheduling event whose message
  is what the scheduler would say about *these* nodes, a few ImagePullBackOff,
  ~0.5 % Running but not Ready;
- one Deployment per application namespace whose pods all crash: its Service
  has no ready endpoint;
- :data:`PINNED_POD` in the first application namespace: requests 1.02 CPU
  and more memory than any node has; a share of the schedulable nodes have
  less than 1.02 CPU free (so a "largest free" taken over only the nodes
  short of CPU is wrong).

``python benchmarks/genbundle.py OUT --scale 0.1`` writes one; ``generate(out,
scale)`` is the function (returns a dict of counts).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import string
import sys
import time
from pathlib import Path

import msgspec

CAPTURED_AT = dt.datetime(2026, 11, 20, 14, 0, tzinfo=dt.timezone.utc)
PINNED_NAMESPACE_INDEX = 2  # the first application namespace
PINNED_POD = "memory-hog-0"
PINNED_CPU = "1020m"
PINNED_MEMORY = "64Gi"
NODE_CPU = (8, 16)  # cores allocatable (minus system reserved)
NODE_MEMORY_GI = (31, 62)
_ENCODER = msgspec.json.Encoder()


def _ts(delta_s: float) -> str:
    return (CAPTURED_AT - dt.timedelta(seconds=delta_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=n))


def _write(path: Path, kind: str, items: list[dict]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = msgspec.json.format(_ENCODER.encode({"kind": kind, "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
                                                "items": items}), indent=4)
    path.write_bytes(body)
    return len(body)


def _managed_fields(manager: str, when: str, fields: dict) -> list[dict]:
    return [{"manager": manager, "operation": "Update", "apiVersion": "v1", "time": when,
             "fieldsType": "FieldsV1", "fieldsV1": fields}]


_POD_FIELDS = {"f:metadata": {"f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
                              "f:ownerReferences": {".": {}, 'k:{"uid":"x"}': {}}},
               "f:spec": {"f:containers": {'k:{"name":"app"}': {
                   ".": {}, "f:env": {".": {}, 'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}}},
                   "f:image": {}, "f:imagePullPolicy": {}, "f:livenessProbe": {}, "f:name": {}, "f:ports": {},
                   "f:readinessProbe": {}, "f:resources": {"f:limits": {}, "f:requests": {}},
                   "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {}}},
                   "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {},
                   "f:schedulerName": {}, "f:securityContext": {}, "f:terminationGracePeriodSeconds": {}}}
_STATUS_FIELDS = {"f:status": {"f:conditions": {'k:{"type":"ContainersReady"}': {".": {}, "f:status": {}},
                                                'k:{"type":"Ready"}': {".": {}, "f:status": {}}},
                               "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {},
                               "f:podIPs": {}, "f:startTime": {}}}


def _node(i: int, rng: random.Random, nodes_total: int) -> dict:
    name = f"node-{i:05d}"
    cpu = rng.choice(NODE_CPU)
    mem_gi = NODE_MEMORY_GI[0] if cpu == NODE_CPU[0] else NODE_MEMORY_GI[1]
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
              "topology.kubernetes.io/zone": f"zone-{'abc'[i % 3]}", "topology.kubernetes.io/region": "region-1",
              "node.kubernetes.io/instance-type": f"m5.{'2x' if cpu == 8 else '4x'}large"}
    taints, unschedulable, ready = [], False, True
    if i < 3:
        labels["node-role.kubernetes.io/control-plane"] = ""
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    elif i % 100 == 7:
        ready = False
        taints += [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                    "timeAdded": _ts(1800)},
                   {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": _ts(1790)}]
    elif i % 200 == 11:
        unschedulable = True
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule", "timeAdded": _ts(7200)})
    elif i % 50 == 13:
        labels["dedicated"] = "gpu"
        taints.append({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
    beat = _ts(2400 if not ready else rng.randint(1, 40))
    def cond(kind, status, reason, message):
        return {"type": kind, "status": status, "lastHeartbeatTime": beat, "lastTransitionTime": _ts(86400 * 3),
                "reason": reason, "message": message}
    if ready:
        conditions = [cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                      cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                      cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                      cond("Ready", "True", "KubeletReady", "kubelet is posting ready status")]
    else:
        conditions = [cond(k, "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status.")
                      for k in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")]
        conditions[-1]["lastTransitionTime"] = _ts(1800)
    images = [{"names": [f"registry.example.com/team-{k}/service-{k}@sha256:{_suffix(rng, 64)}",
                         f"registry.example.com/team-{k}/service-{k}:v1.{k}.0"], "sizeBytes": rng.randint(10**7, 10**9)}
              for k in range(12)]
    spec = {"podCIDR": f"10.{64 + i // 256}.{i % 256}.0/24", "podCIDRs": [f"10.{64 + i // 256}.{i % 256}.0/24"],
            "providerID": f"aws:///zone/i-{_suffix(rng, 17)}"}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    return {
        "metadata": {"name": name, "uid": f"{_suffix(rng, 8)}-{_suffix(rng, 4)}-{_suffix(rng, 4)}-{_suffix(rng, 12)}",
                     "resourceVersion": str(rng.randint(10**6, 10**8)), "creationTimestamp": _ts(86400 * 30),
                     "labels": labels, "annotations": {
                         "node.alpha.kubernetes.io/ttl": "0",
                         "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": spec,
        "status": {
            "capacity": {"cpu": str(cpu), "memory": f"{mem_gi + 1}Gi", "pods": "110", "ephemeral-storage": "104845292Ki"},
            "allocatable": {"cpu": f"{cpu * 1000 - 90}m", "memory": f"{mem_gi}Gi", "pods": "110",
                            "ephemeral-storage": "96625420948"},
            "conditions": conditions,
            "addresses": [{"type": "InternalIP", "address": f"192.168.{i // 250}.{i % 250 + 2}"},
                          {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": _suffix(rng, 32), "systemUUID": _suffix(rng, 32), "bootID": _suffix(rng, 32),
                         "kernelVersion": "6.1.0-27-cloud-amd64", "osImage": "Debian GNU/Linux 12 (bookworm)",
                         "containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": "v1.30.4",
                         "kubeProxyVersion": "v1.30.4", "operatingSystem": "linux", "architecture": "amd64"},
            "images": images,
        },
    }


def _probe(path: str, port: int, delay: int) -> dict:
    return {"httpGet": {"path": path, "port": port, "scheme": "HTTP"}, "initialDelaySeconds": delay,
            "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}


def _pod(ns: str, deploy: str, rs_hash: str, index: int, rng: random.Random, node: str, state: str,
         cpu_m: int, mem_mi: int, pod_ip: str) -> dict:
    name = f"{deploy}-{rs_hash}-{_suffix(rng, 5)}" if state != "pinned" else PINNED_POD
    created = _ts(rng.randint(3600, 86400 * 7))
    image = f"registry.example.com/{ns}/{deploy}:v1.{index % 7}.{index % 3}"
    if state == "image":
        image = f"registry.example.com/{ns}/{deploy}:does-not-exist"
    container = {
        "name": "app", "image": image, "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "SERVICE_NAME", "value": deploy},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "DB_HOST", "valueFrom": {"configMapKeyRef": {"name": f"{deploy}-config", "key": "db_host"}}}],
        "resources": {"requests": {"cpu": f"{cpu_m}m", "memory": f"{mem_mi}Mi"},
                      "limits": {"cpu": f"{cpu_m * 2}m", "memory": f"{mem_mi * 2}Mi"}},
        "livenessProbe": _probe("/healthz", 8080, 10), "readinessProbe": _probe("/ready", 8080, 5),
        "volumeMounts": [{"name": "kube-api-access", "readOnly": True,
                          "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
                         {"name": "config", "mountPath": "/etc/app"}],
        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
    }
    containers = [container]
    if index % 4 == 0:  # a sidecar
        containers.append({"name": "proxy", "image": "registry.example.com/mesh/proxy:v1.22.1",
                           "imagePullPolicy": "IfNotPresent",
                           "resources": {"requests": {"cpu": "50m", "memory": "64Mi"},
                                         "limits": {"cpu": "200m", "memory": "128Mi"}},
                           "ports": [{"name": "proxy", "containerPort": 15001, "protocol": "TCP"}],
                           "terminationMessagePath": "/dev/termination-log",
                           "terminationMessagePolicy": "File"})
    if state == "pinned":
        container["resources"] = {"requests": {"cpu": PINNED_CPU, "memory": PINNED_MEMORY},
                                  "limits": {"cpu": PINNED_CPU, "memory": PINNED_MEMORY}}
        containers = [container]
    spec = {
        "containers": containers,
        "volumes": [{"name": "kube-api-access", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
            {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
            {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1",
                                                                          "fieldPath": "metadata.namespace"}}]}}]}},
            {"name": "config", "configMap": {"name": f"{deploy}-config", "defaultMode": 420}}],
        "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
        "serviceAccountName": "default", "serviceAccount": "default", "securityContext": {},
        "schedulerName": "default-scheduler", "enableServiceLinks": True, "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 300}],
    }
    if index % 10 == 3:
        spec["affinity"] = {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": deploy}},
                                                "topologyKey": "kubernetes.io/hostname"}}]}}
    started = _ts(rng.randint(600, 3600 * 6))

    def cond(kind, status, reason=None, message=None):
        c = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": started}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    statuses, phase, conditions = [], "Running", []
    for c in containers:
        cs = {"name": c["name"], "ready": True, "restartCount": 0, "image": c["image"],
              "imageID": f"{c['image'].split(':')[0]}@sha256:{_suffix(rng, 64)}",
              "containerID": f"containerd://{_suffix(rng, 64)}", "started": True,
              "state": {"running": {"startedAt": started}}, "lastState": {}}
        statuses.append(cs)
    ready = "True"
    if state in ("crash", "crash-all", "oom"):
        cs = statuses[0]
        restarts = rng.randint(5, 60)
        code, reason = (137, "OOMKilled") if state == "oom" else (1, "Error")
        cs.update(ready=False, started=False, restartCount=restarts,
                  state={"waiting": {"reason": "CrashLoopBackOff",
                                     "message": f"back-off 5m0s restarting failed container=app pod={name}_{ns}({_suffix(rng, 8)})"}},
                  lastState={"terminated": {"exitCode": code, "reason": reason, "startedAt": _ts(400),
                                            "finishedAt": _ts(395), "containerID": f"containerd://{_suffix(rng, 64)}"}})
        ready = "False"
    elif state == "notready":
        statuses[0].update(ready=False)
        ready = "False"
    elif state == "image":
        statuses[0].update(ready=False, started=False, state={"waiting": {
            "reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}, imageID="", containerID="")
        ready, phase = "False", "Pending"
    if state in ("pending", "pinned"):
        phase = "Pending"
        conditions = [cond("PodScheduled", "False", "Unschedulable", "__SCHEDULER__")]
        statuses = []
    else:
        conditions = [cond("PodReadyToStartContainers", "True"), cond("Initialized", "True"),
                      cond("Ready", ready, None if ready == "True" else "ContainersNotReady",
                           None if ready == "True" else "containers with unready status: [app]"),
                      cond("ContainersReady", ready, None if ready == "True" else "ContainersNotReady",
                           None if ready == "True" else "containers with unready status: [app]"),
                      cond("PodScheduled", "True")]
        spec["nodeName"] = node
    status = {"phase": phase, "conditions": conditions, "qosClass": "Burstable"}
    if phase != "Pending" or state == "image":
        status.update(hostIP=f"192.168.{int(node[5:]) // 250}.{int(node[5:]) % 250 + 2}",
                      podIP=pod_ip, podIPs=[{"ip": pod_ip}], startTime=started, containerStatuses=statuses)
    return {
        "metadata": {
            "name": name, "generateName": f"{deploy}-{rs_hash}-", "namespace": ns,
            "uid": f"{_suffix(rng, 8)}-{_suffix(rng, 4)}-{_suffix(rng, 4)}-{_suffix(rng, 12)}",
            "resourceVersion": str(rng.randint(10**6, 10**8)), "creationTimestamp": created,
            "labels": {"app": deploy, "pod-template-hash": rs_hash, "tier": "backend" if index % 2 else "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": _ts(86400 * 10),
                            "prometheus.io/scrape": "true", "prometheus.io/port": "9090"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{deploy}-{rs_hash}",
                                 "uid": f"{_suffix(rng, 8)}-0000-0000-{_suffix(rng, 12)}", "controller": True,
                                 "blockOwnerDeletion": True}],
            "managedFields": _managed_fields("kube-controller-manager", created, _POD_FIELDS)
            + _managed_fields("kubelet", started, _STATUS_FIELDS),
        },
        "spec": spec,
        "status": status,
    }


def _event(ns: str, kind: str, name: str, reason: str, etype: str, message: str, age_s: float, count: int,
           component: str, rng: random.Random, host: str = "") -> dict:
    first, last = _ts(age_s + 60 * count), _ts(age_s)
    source = {"component": component}
    if host:
        source["host"] = host
    return {"metadata": {"name": f"{name}.{_suffix(rng, 16)}", "namespace": ns,
                         "uid": f"{_suffix(rng, 8)}-{_suffix(rng, 4)}-{_suffix(rng, 4)}-{_suffix(rng, 12)}",
                         "resourceVersion": str(rng.randint(10**6, 10**8)), "creationTimestamp": first},
            "involvedObject": {"kind": kind, "namespace": ns, "name": name, "apiVersion": "v1",
                               "uid": f"{_suffix(rng, 8)}-0000-0000-{_suffix(rng, 12)}",
                               "resourceVersion": str(rng.randint(10**6, 10**8)),
                               **({"fieldPath": "spec.containers{app}"} if kind == "Pod" else {})},
            "reason": reason, "message": message, "source": source, "firstTimestamp": first,
            "lastTimestamp": last, "count": count, "type": etype, "eventTime": None,
            "reportingComponent": component, "reportingInstance": host}


def _logs(ns: str, pod: str, container: str, lines: list[str]) -> str:
    body = "".join(line + "\n" for line in lines)
    return (f"==== START logs for container {container} of pod {ns}/{pod} ====\n{body}"
            f"==== END logs for container {container} of pod {ns}/{pod} ====\n")


def _scheduler_message(nodes: list[dict], usage: dict[str, list[float]], cpu: float, mem: float) -> str:
    """What kube-scheduler says for a pod of (cpu, mem) requests on these nodes (first failing filter)."""
    counts: dict[str, int] = {}
    for node in nodes:
        name = node["metadata"]["name"]
        spec = node["spec"]
        reasons = []
        if spec.get("unschedulable"):
            reasons = ["node(s) were unschedulable"]
        else:
            taint = next((t for t in spec.get("taints", []) if t["effect"] == "NoSchedule"), None)
            if taint:
                value = taint.get("value", "")
                reasons = [f"node(s) had untolerated taint {{{taint['key']}: {value}}}"]
            else:
                alloc_cpu, alloc_mem, used_cpu, used_mem = usage[name]
                if cpu > alloc_cpu - used_cpu:
                    reasons.append("Insufficient cpu")
                if mem > alloc_mem - used_mem:
                    reasons.append("Insufficient memory")
        for r in reasons:
            counts[r] = counts.get(r, 0) + 1
    parts = ", ".join(f"{n} {r}" for r, n in sorted(counts.items()))
    return (f"0/{len(nodes)} nodes are available: {parts}. preemption: 0/{len(nodes)} nodes are available: "
            f"{len(nodes)} Preemption is not helpful for scheduling.")


def generate(out: str | Path, scale: float = 1.0, seed: int = 13) -> dict:
    """Write the bundle into ``out`` (created); returns counts and bytes written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_nodes = max(20, round(5000 * scale))
    n_pods = max(60, round(150_000 * scale))
    n_ns = max(3, min(50, n_pods // 60))
    n_services = max(n_ns, round(10_000 * scale))
    n_events = round(300_000 * scale)
    written = 0
    nodes = [_node(i, rng, n_nodes) for i in range(n_nodes)]
    schedulable = [n for n in nodes if not n["spec"].get("unschedulable") and not n["spec"].get("taints")]
    # usage: name -> [alloc cpu, alloc mem, used cpu, used mem]
    usage = {n["metadata"]["name"]: [int(n["status"]["allocatable"]["cpu"][:-1]) / 1000,
                                     int(n["status"]["allocatable"]["memory"][:-2]) * 2**30, 0.0, 0.0]
             for n in nodes}
    namespaces = ["kube-system", "default"] + [f"team-{k:02d}" for k in range(n_ns - 2)]
    pods_per_ns = n_pods // n_ns
    services_per_ns = max(1, n_services // n_ns)
    events_per_ns = n_events // n_ns
    counts = {"nodes": n_nodes, "namespaces": n_ns, "pods": 0, "services": 0, "endpoints": 0, "events": 0,
              "pending": 0, "crashing": 0}
    # a share of the schedulable nodes nearly full of CPU (less than the pinned pod's 1.02 free)
    hot = {n["metadata"]["name"] for n in schedulable[: max(2, len(schedulable) // 100)]}
    spread = [n for n in schedulable if n["metadata"]["name"] not in hot]
    pending_pods: list[tuple[str, dict]] = []
    ip_counter = 0
    gathered = []
    for ns_index, ns in enumerate(namespaces):
        ns_rng = random.Random(f"{seed}-{ns}")
        pods, services, endpoints, deployments, replicasets, events = [], [], [], [], [], []
        logs: dict[str, str] = {}
        previous: dict[str, str] = {}
        per_deploy = max(1, pods_per_ns // services_per_ns)
        for d in range(services_per_ns):
            deploy = f"svc-{ns_index:02d}-{d:04d}" if ns != "kube-system" else (
                ["coredns", "kube-proxy", "metrics-server"][d % 3] + (f"-{d}" if d >= 3 else ""))
            rs_hash = _suffix(ns_rng, 10)
            crash_all = d == 1 and ns_index >= 2
            addresses, not_ready = [], []
            ready_count = 0
            for k in range(per_deploy):
                roll = ns_rng.random()
                state = ("crash-all" if crash_all else "oom" if roll < 0.002 else "crash" if roll < 0.01
                         else "pending" if roll < 0.015 else "image" if roll < 0.0165
                         else "notready" if roll < 0.0215 else "ok")
                node = ns_rng.choice(spread)["metadata"]["name"]
                cpu_m, mem_mi = ns_rng.choice((50, 100, 250)), ns_rng.choice((64, 128, 256))
                ip_counter += 1
                pod_ip = f"10.{64 + (ip_counter >> 16) % 64}.{(ip_counter >> 8) & 255}.{ip_counter & 255}"
                pod = _pod(ns, deploy, rs_hash, k, ns_rng, node, state, cpu_m, mem_mi, pod_ip)
                pods.append(pod)
                name = pod["metadata"]["name"]
                if state not in ("pending",):
                    cpu = cpu_m / 1000 + (0.05 if k % 4 == 0 else 0)
                    usage[node][2] += cpu
                    usage[node][3] += mem_mi * 2**20 + (64 * 2**20 if k % 4 == 0 else 0)
                target = {"kind": "Pod", "name": name, "namespace": ns, "uid": pod["metadata"]["uid"]}
                if state in ("ok",):
                    addresses.append({"ip": pod_ip, "nodeName": node, "targetRef": target})
                    ready_count += 1
                elif state in ("crash", "crash-all", "oom", "notready"):
                    not_ready.append({"ip": pod_ip, "nodeName": node, "targetRef": target})
                if state in ("crash", "crash-all", "oom"):
                    counts["crashing"] += 1
                    events.append(_event(ns, "Pod", name, "BackOff", "Warning",
                                         "Back-off restarting failed container app in pod "
                                         f"{name}_{ns}({pod['metadata']['uid']})", ns_rng.randint(5, 3000),
                                         ns_rng.randint(5, 200), "kubelet", ns_rng, node))
                    lines = [f"2026-11-20T13:5{i % 10}:00Z INFO starting {deploy} v1.{k % 7}" for i in range(20)]
                    lines.append("2026-11-20T13:59:58Z ERROR cannot connect to database: connection refused"
                                 if state != "oom" else "2026-11-20T13:59:58Z INFO loading cache (4.2 GB)")
                    previous[name] = _logs(ns, name, "app", lines)
                    logs[name] = _logs(ns, name, "app", lines[:5])
                elif state == "pending":
                    counts["pending"] += 1
                    pending_pods.append((ns, pod))
                elif state == "image":
                    events.append(_event(ns, "Pod", name, "Failed", "Warning",
                                         f'Failed to pull image "{pod["spec"]["containers"][0]["image"]}": '
                                         "rpc error: code = NotFound desc = failed to pull and unpack image: "
                                         "not found", ns_rng.randint(5, 3000), ns_rng.randint(2, 50), "kubelet",
                                         ns_rng, node))
                elif state == "notready":
                    events.append(_event(ns, "Pod", name, "Unhealthy", "Warning",
                                         "Readiness probe failed: HTTP probe failed with statuscode: 503",
                                         ns_rng.randint(5, 3000), ns_rng.randint(2, 500), "kubelet", ns_rng, node))
                elif ns_rng.random() < 0.01:
                    logs[name] = _logs(ns, name, "app", [f"2026-11-20T13:00:{i:02d}Z INFO request handled in {i}ms"
                                                         for i in range(30)])
            if ns == "kube-system" and d == 0:  # batch pods filling the hot nodes' CPU
                for node in sorted(hot):
                    cpu_m = int(usage[node][0] * 1000) - 500
                    pod = _pod(ns, "batch-filler", "fill000000", 1, ns_rng, node, "ok", cpu_m, 512, "10.63.0.1")
                    pods.append(pod)
                    usage[node][2] += cpu_m / 1000
                    usage[node][3] += 512 * 2**20
            if ns_index == PINNED_NAMESPACE_INDEX and d == 0:
                pod = _pod(ns, deploy, rs_hash, 0, ns_rng, "", "pinned", 0, 0, "")
                pods.append(pod)
                pending_pods.append((ns, pod))
                counts["pending"] += 1
            labels = {"app": deploy}
            deployments.append({"metadata": {"name": deploy, "namespace": ns, "uid": _suffix(ns_rng, 36),
                                             "creationTimestamp": _ts(86400 * 20), "labels": labels,
                                             "generation": 3},
                                "spec": {"replicas": per_deploy, "selector": {"matchLabels": labels},
                                         "template": {"metadata": {"labels": labels}, "spec": {"containers": [
                                             {"name": "app", "image": f"registry.example.com/{ns}/{deploy}:v1"}]}}},
                                "status": {"replicas": per_deploy, "readyReplicas": ready_count,
                                           "updatedReplicas": per_deploy, "availableReplicas": ready_count}})
            replicasets.append({"metadata": {"name": f"{deploy}-{rs_hash}", "namespace": ns,
                                             "uid": _suffix(ns_rng, 36), "creationTimestamp": _ts(86400 * 20),
                                             "labels": {**labels, "pod-template-hash": rs_hash},
                                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                                                  "name": deploy, "controller": True}]},
                                "spec": {"replicas": per_deploy,
                                         "selector": {"matchLabels": {**labels, "pod-template-hash": rs_hash}}},
                                "status": {"replicas": per_deploy, "readyReplicas": ready_count}})
            services.append({"metadata": {"name": deploy, "namespace": ns, "uid": _suffix(ns_rng, 36),
                                          "creationTimestamp": _ts(86400 * 20), "labels": labels},
                             "spec": {"type": "ClusterIP", "selector": labels,
                                      "clusterIP": f"10.96.{len(services) // 250}.{len(services) % 250 + 1}",
                                      "clusterIPs": [f"10.96.{len(services) // 250}.{len(services) % 250 + 1}"],
                                      "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}],
                                      "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                                      "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
                             "status": {"loadBalancer": {}}})
            subset = {"ports": [{"name": "http", "port": 8080, "protocol": "TCP"}]}
            if addresses:
                subset["addresses"] = addresses
            if not_ready:
                subset["notReadyAddresses"] = not_ready
            endpoints.append({"metadata": {"name": deploy, "namespace": ns, "uid": _suffix(ns_rng, 36),
                                           "creationTimestamp": _ts(86400 * 20), "labels": labels},
                              "subsets": [subset] if (addresses or not_ready) else []})
        # routine events up to the namespace's share: Scheduled/Pulled/Created/Started and some Warnings
        routine = [p for p in pods if p["spec"].get("nodeName")]
        while len(events) < events_per_ns and routine:
            pod = routine[ns_rng.randrange(len(routine))]
            name, node = pod["metadata"]["name"], pod["spec"]["nodeName"]
            reason, etype, message, component = ns_rng.choice((
                ("Scheduled", "Normal", f"Successfully assigned {ns}/{name} to {node}", "default-scheduler"),
                ("Pulled", "Normal", f'Container image "{pod["spec"]["containers"][0]["image"]}" already present '
                                     "on machine", "kubelet"),
                ("Created", "Normal", "Created container app", "kubelet"),
                ("Started", "Normal", "Started container app", "kubelet"),
                ("Killing", "Normal", "Stopping container app", "kubelet")))
            events.append(_event(ns, "Pod", name, reason, etype, message, ns_rng.randint(30, 6 * 3600), 1,
                                 component, ns_rng, node if component == "kubelet" else ""))
        counts["pods"] += len(pods)
        counts["services"] += len(services)
        counts["endpoints"] += len(endpoints)
        folder = out / ns
        # pending pods' scheduler messages and FailedScheduling events need every namespace's usage: later
        written += _write(folder / "services.json", "ServiceList", services)
        written += _write(folder / "endpoints.json", "EndpointsList", endpoints)
        written += _write(folder / "deployments.json", "DeploymentList", deployments)
        written += _write(folder / "replicasets.json", "ReplicaSetList", replicasets)
        for stem, kind in (("daemonsets", "DaemonSetList"), ("replication-controllers", "ReplicationControllerList"),
                           ("statefulsets", "StatefulSetList"), ("jobs", "JobList"),
                           ("persistentvolumeclaims", "PersistentVolumeClaimList")):
            written += _write(folder / f"{stem}.json", kind, [])
        for name, text in logs.items():
            (folder / name).mkdir(parents=True, exist_ok=True)
            (folder / name / "logs.txt").write_text(text)
            written += len(text)
        for name, text in previous.items():
            (folder / name / "logs-previous.txt").write_text(text)
            written += len(text)
        # pods and events are written once the scheduler messages are known (below)
        (folder / ".pods.tmp").write_bytes(_ENCODER.encode(pods))
        (folder / ".events.tmp").write_bytes(_ENCODER.encode(events))
        gathered.append(ns)
        counts["events"] += len(events)
    cpu_pinned, mem_pinned = 1.02, 64 * 2**30
    by_ns: dict[str, list[dict]] = {}
    for ns, pod in pending_pods:
        requests = pod["spec"]["containers"][0]["resources"]["requests"]
        cpu = int(requests["cpu"][:-1]) / 1000
        mem = (int(requests["memory"][:-2]) * (2**30 if requests["memory"].endswith("Gi") else 2**20))
        if pod["metadata"]["name"] != PINNED_POD:  # an ordinary pending pod: far bigger than it asks for
            cpu, mem = cpu, mem_pinned * 2
            pod["spec"]["containers"][0]["resources"]["requests"]["memory"] = "128Gi"
            pod["spec"]["containers"][0]["resources"]["limits"]["memory"] = "128Gi"
        message = _scheduler_message(nodes, usage, cpu, mem)
        pod["status"]["conditions"][0]["message"] = message
        by_ns.setdefault(ns, []).append(_event(ns, "Pod", pod["metadata"]["name"], "FailedScheduling", "Warning",
                                               message, rng.randint(5, 600), rng.randint(1, 40), "default-scheduler",
                                               rng))
    pinned_pods = {id(p) for _, p in pending_pods}
    for ns in namespaces:
        folder = out / ns
        pods = msgspec.json.decode((folder / ".pods.tmp").read_bytes())
        events = msgspec.json.decode((folder / ".events.tmp").read_bytes())
        # the decoded copies lack the messages set above: put them back by name
        fixed = {p["metadata"]["name"]: p for n, p in pending_pods if n == ns}
        pods = [fixed.get(p["metadata"]["name"], p) for p in pods]
        events += by_ns.get(ns, [])
        events = events[:events_per_ns] if len(events) > events_per_ns + len(by_ns.get(ns, [])) else events
        written += _write(folder / "pods.json", "PodList", pods)
        written += _write(folder / "events.json", "EventList", events)
        (folder / ".pods.tmp").unlink()
        (folder / ".events.tmp").unlink()
    del pinned_pods
    written += _write(out / "nodes.json", "NodeList", nodes)
    written += _write(out / "namespaces.json", "NamespaceList", [
        {"metadata": {"name": ns, "creationTimestamp": _ts(86400 * 60),
                      "labels": {"kubernetes.io/metadata.name": ns}},
         "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}} for ns in namespaces])
    for stem, kind in (("persistentvolumes", "PersistentVolumeList"), ("storageclasses", "StorageClassList")):
        written += _write(out / f"{stem}.json", kind, [])
    info = {"format": 1, "captured_at": CAPTURED_AT.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "cluster_version": {"major": "1", "minor": "30", "gitVersion": "v1.30.4"},
            "gathered": ["nodes", "namespaces", "pods", "events", "services", "endpoints"], "errors": [],
            "generator": {"scale": scale, "seed": seed}}
    (out / "k8srun.json").write_text(json.dumps(info, indent=2) + "\n")
    counts["bytes"] = written
    counts["pinned"] = f"{namespaces[min(PINNED_NAMESPACE_INDEX, len(namespaces) - 1)]}/{PINNED_POD}"
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="folder to write the bundle into")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    counts = generate(args.out, args.scale, args.seed)
    print(json.dumps(counts), f"({time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
