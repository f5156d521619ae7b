"""Workload kinds beyond the Deployment, and ready-made healthy workloads.

Each takes the :class:`~scenariokit.cluster.Cluster` to add to and returns a
:class:`~scenariokit.objects.Workload` (add its pods with
:meth:`Cluster.replica <scenariokit.cluster.Cluster.replica>`) or, for
:func:`daemon_pod`, the pod dict:

- :func:`statefulset` with volumeClaimTemplates; :func:`job` (batch/v1,
  restartPolicy Never); :func:`daemonset` and :func:`daemon_pod` (one pod
  pinned to a node, as the DaemonSet controller makes it);
- :func:`healthy_deployment`: a web Deployment whose pods all run and are
  Ready, with its Service; :func:`pending_deployment`: a Deployment whose
  pod the scheduler cannot place, with its events.
"""

from __future__ import annotations

import json

from .cluster import Cluster
from .events import pending_events, rollout_events
from .objects import (DAY, POD_SPEC_ORDER, Run, Workload, app_log, name_suffix, ordered, stable_uid, up,
                      web_container)


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


def pending_deployment(c: Cluster, namespace: str, name: str, containers: list, *, created_ago: float,
                       message: str, last_ago: float, count: int, **pod_spec) -> dict:
    """A Deployment created ``created_ago`` whose one pod cannot be scheduled: PodScheduled False with the
    FitError ``message``, rollout events and ``count`` FailedScheduling attempts (the last ``last_ago``).

    Returns the pod; ``pod_spec`` goes to :meth:`Cluster.deployment <scenariokit.cluster.Cluster.deployment>`.
    """
    work = c.deployment(namespace, name, containers, created_ago=created_ago, **pod_spec)
    pod = c.replica(work, node=None, runs={}, created_ago=created_ago, unschedulable=message)
    rollout_events(c, work, pod, created_ago)
    pending_events(c, pod, message, first_ago=created_ago - 1, last_ago=last_ago, count=count)
    return pod
