"""Events: the recorder every :class:`~scenariokit.cluster.Cluster` has, and the
messages and event sequences the scheduler, kubelet and controllers emit.

- :class:`EventRecorder` (a base of ``Cluster``): :meth:`~EventRecorder.event`
  adds a core/v1 Event of a legacy recorder (kubelet, controllers: first/last
  timestamp, count, source), :meth:`~EventRecorder.scheduler_event` an
  events.k8s.io event of the scheduler as core/v1 shows it (``eventTime``,
  ``series``, null timestamps, empty source), :meth:`~EventRecorder.started_events`
  the Scheduled/Pulled/Created/Started run of a pod that started fine;
  each returns the event dict (``None`` for the sequence) and files it in
  the involved object's namespace.
- scheduler messages: :func:`fit_error` builds the "0/N nodes are available:
  ..." FitError text from per-node reasons (:func:`taint_reason`,
  :data:`NODE_AFFINITY_REASON`, :data:`UNSCHEDULABLE_REASON`, ``"Insufficient cpu"``)
  or a PreFilter reason (:data:`UNBOUND_PVC`).
- image pull errors: :func:`pull_error` fills :data:`NOT_FOUND` /
  :data:`UNAUTHORIZED` (containerd's texts) for an image.
- sequences for one pod: :func:`rollout_events` (Deployment scaled, pod
  created), :func:`pending_events` (FailedScheduling), :func:`image_pull_events`
  (ErrImagePull / ImagePullBackOff), :func:`restart_events` (every restart and
  the CrashLoopBackOff back-off).

Event names are ``<object>.<hex nanoseconds>`` as client-go makes them, the
nanoseconds stable per (object, reason, message).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .objects import CAPTURED_AT, Workload, digest, stable_uid, when, when_micro

if TYPE_CHECKING:
    from .cluster import Cluster


class EventRecorder:
    """Adds events to a cluster; needs ``name``, ``rv()`` and ``add()`` of :class:`~scenariokit.cluster.Cluster`."""

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
        nanos += int.from_bytes(digest("ev", obj["metadata"]["name"], reason, message)[:4], "big") % 10**9
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

NOT_FOUND = ('rpc error: code = NotFound desc = failed to pull and unpack image "{image}": '
             'failed to resolve reference "{image}": {image}: not found')
UNAUTHORIZED = ('rpc error: code = Unknown desc = failed to pull and unpack image "{image}": '
                'failed to resolve reference "{image}": unexpected status from HEAD request to '
                'https://{registry}/v2/{repo}/manifests/{tag}: 401 Unauthorized')


def pull_error(template: str, image: str) -> str:
    """``template`` (:data:`NOT_FOUND`, :data:`UNAUTHORIZED`) filled in for ``registry/repo:tag``."""
    registry, rest = image.split("/", 1)
    repo, tag = rest.rsplit(":", 1)
    return template.format(image=image, registry=registry, repo=repo, tag=tag)


# ---------------------------------------------------------------- event sequences of one pod

def rollout_events(c: Cluster, work: Workload, pod: dict, ago: float) -> None:
    """ScalingReplicaSet on the Deployment and SuccessfulCreate on its ReplicaSet."""
    rs = work.replica_set
    c.event("Deployment", work.obj, "ScalingReplicaSet",
            f"Scaled up replica set {rs['metadata']['name']} to {work.obj['spec']['replicas']}",
            component="deployment-controller", first_ago=ago, api_version="apps/v1")
    c.event("ReplicaSet", rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}",
            component="replicaset-controller", first_ago=ago - 0.1, api_version="apps/v1")


def pending_events(c: Cluster, pod: dict, message: str, *, first_ago: float, last_ago: float, count: int) -> None:
    """The scheduler's FailedScheduling series (``count`` attempts) with the FitError ``message``."""
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
