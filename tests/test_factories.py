"""tests/factories.py builds what the API returns: k8srun's frame builders and the official client read it back."""

from __future__ import annotations

import json

import pytest
from kubernetes.client import ApiClient

from factories import (backoff, container, container_status, endpoints, event, k8s_list, node, pod, pvc, service,
                       terminated, unscheduled, waiting)
from k8srun import frames


def one_row(frame):
    assert len(frame) == 1
    return frame.iloc[0]


@pytest.mark.parametrize("obj, status, ready, restarts", [
    (pod(), "Running", "1/1", 0),
    (pod(containers=("app", "sidecar"), init_containers=("migrate",)), "Running", "2/2", 0),
    (pod(state=backoff(), restarts=4), "CrashLoopBackOff", "0/1", 4),
    (pod(ready=False), "Running", "0/1", 0),
    (pod(phase="Pending", state=waiting("ImagePullBackOff", 'Back-off pulling image "x"')), "ImagePullBackOff",
     "0/1", 0),
    (pod(phase="Pending"), "ContainerCreating", "0/1", 0),
    (unscheduled(scheduled_message="0/3 nodes are available: 3 Insufficient cpu."), "Pending", "0/1", 0),
    (pod(phase="Pending", init_containers=("migrate",),
         init_statuses=[container_status("migrate", backoff("migrate"), restarts=3, last=terminated(2))]),
     "Init:CrashLoopBackOff", "0/1", 3),
    (pod(init_containers=[container("proxy", restart_policy="Always")]), "Running", "2/2", 0),
    (pod(phase="Succeeded"), "Completed", "0/1", 0),
    (pod(phase="Failed", state=terminated(137, "OOMKilled")), "OOMKilled", "0/1", 0),
    (pod(deleting=True), "Terminating", "1/1", 0),
], ids=["running", "init-done", "crashloop", "not-ready", "image-pull", "creating", "unscheduled", "init-crash",
        "sidecar", "completed", "oom", "terminating"])
def test_pods_frame_reads_pods_as_kubectl_prints_them(obj, status, ready, restarts):
    row = one_row(frames.pods_frame([obj]))
    assert (row["status"], row["ready"], row["restarts"]) == (status, ready, restarts)
    assert (row["namespace"], row["name"], row["labels"]) == ("shop", "web-0", {"app": "web"})


def test_pod_fields_reach_the_pod_and_container_frames():
    obj = unscheduled(scheduled_message="0/1 nodes are available: 1 Insufficient cpu.", claims=["data-web-0"],
                      node_selector={"disktype": "ssd"}, pull_secrets=["regcred"], requests={"cpu": "2"},
                      containers=[container(limits={"memory": "1Gi"}, liveness={"httpGet": {"port": 8080}})])
    row = one_row(frames.pods_frame([obj]))
    assert (row["node"], row["scheduled"], row["scheduled_reason"]) == ("", "False", "Unschedulable")
    assert (row["pvc_claims"], row["node_selector"], row["image_pull_secrets"]) == (
        ["data-web-0"], {"disktype": "ssd"}, ["regcred"])
    assert (row["cpu_request"], row["qos"]) == (0.1, "Burstable")  # the given container keeps its own requests
    assert len(row["tolerations"]) == 2  # not-ready and unreachable, as admission adds them
    crashed = pod(statuses=[container_status(state=backoff(), restarts=2, last=terminated(137, "OOMKilled"))])
    spec = one_row(frames.containers_frame([obj]))
    status = one_row(frames.containers_frame([crashed]))
    assert (spec["memory_limit"], spec["liveness"], spec["ports"]) == (
        2**30, {"httpGet": {"port": 8080}}, [{"containerPort": 8080, "protocol": "TCP"}])
    assert (status["state"], status["reason"], status["last_reason"], status["last_exit_code"], status["restarts"]) \
        == ("waiting", "CrashLoopBackOff", "OOMKilled", 137, 2)


@pytest.mark.parametrize("obj, ready, reason, extra", [
    (node(), "True", "KubeletReady", {"memory_pressure": "False", "roles": "<none>"}),
    (node(ready="Unknown"), "Unknown", "NodeStatusUnknown", {"memory_pressure": "Unknown"}),
    (node(ready="False"), "False", "KubeletNotReady", {"disk_pressure": "False"}),
    (node(pressure=("DiskPressure",)), "True", "KubeletReady", {"disk_pressure": "True"}),
    (node(unschedulable=True, roles=("control-plane",),
          taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]), "True", "KubeletReady",
     {"unschedulable": True, "roles": "control-plane", "taints": ["node-role.kubernetes.io/control-plane:NoSchedule"]}),
], ids=["ready", "unknown", "not-ready", "disk-pressure", "cordoned"])
def test_nodes_frame_reads_nodes(obj, ready, reason, extra):
    row = one_row(frames.nodes_frame([obj]))
    assert (row["name"], row["ready"], row["ready_reason"]) == ("worker-1", ready, reason)
    assert (row["cpu_allocatable"], row["kubelet_version"], row["internal_ip"]) == (4.0, "v1.29.2", "172.18.0.3")
    assert {key: row[key] for key in extra} == extra


@pytest.mark.parametrize("obj, count, last_seen, message, source", [
    (event(count=12), 12, "2024-05-14T10:00:00Z", "Back-off restarting failed container", "kubelet"),
    (event(series={"count": 5, "lastObservedTime": "2024-05-14T09:59:00.000000Z"}, event_time="2024-05-14T09:00:00Z",
           component="default-scheduler"), 5, "2024-05-14T09:59:00Z", "Back-off restarting failed container",
     "default-scheduler"),
    (event(message="note text", api_version="events.k8s.io/v1", event_time="2024-05-14T09:30:00.000000Z"), 1,
     "2024-05-14T09:30:00Z", "note text", "kubelet"),
], ids=["core-v1", "series-through-core-v1", "events-k8s-io-v1"])
def test_events_frame_reads_every_event_shape(obj, count, last_seen, message, source):
    row = one_row(frames.events_frame([obj]))
    assert (row["namespace"], row["kind"], row["name"], row["reason"], row["type"]) == (
        "shop", "Pod", "web-0", "BackOff", "Warning")
    assert (row["count"], row["last_seen"].isoformat(), row["message"], row["source"]) == (
        count, last_seen.replace("Z", "+00:00"), message, source)


def test_event_first_seen_and_omitted_fields():
    assert event(count=3)["firstTimestamp"] == "2024-05-14T09:00:00Z"  # a repeated event started earlier
    assert event()["firstTimestamp"] == event()["lastTimestamp"]
    bare = event(kind="Node", name="worker-1", count=None, last=None, created="2024-05-14T08:00:00Z")
    assert not {"count", "firstTimestamp", "lastTimestamp"} & set(bare) and "namespace" not in bare["involvedObject"]
    assert one_row(frames.events_frame([bare]))["last_seen"].isoformat() == "2024-05-14T08:00:00+00:00"


def test_services_endpoints_and_pvcs_frames():
    svc = one_row(frames.services_frame([service()]))
    assert (svc["name"], svc["selector"], svc["ports"][0]["targetPort"]) == ("web", {"app": "web"}, 8080)
    assert "selector" not in service("kubernetes", selector={})["spec"]
    both = frames.endpoints_frame([endpoints(not_ready=[("10.244.2.9", "web-1")], ready=[("10.244.1.7", "web-0")])])
    assert list(zip(both["ip"], both["ready"], both["target_name"], both["port"])) == [
        ("10.244.1.7", True, "web-0", 8080), ("10.244.2.9", False, "web-1", 8080)]
    claim = one_row(frames.pvcs_frame([pvc(phase="Pending", storage_class="fast-ssd")]))
    assert (claim["phase"], claim["storage_class"], claim["requested"], claim["volume_name"]) == (
        "Pending", "fast-ssd", 10 * 2**30, "")
    assert one_row(frames.pvcs_frame([pvc()]))["volume_name"].startswith("pvc-")


def test_objects_are_fresh_and_lists_are_typed_lists():
    first = pod()
    first["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "9"
    first["spec"]["tolerations"].clear()
    assert pod()["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    assert len(pod()["spec"]["tolerations"]) == 2
    listed = k8s_list("PodList", [pod()])
    assert (listed["kind"], listed["apiVersion"]) == ("PodList", "v1")
    assert "kind" not in listed["items"][0] and listed["items"][0]["metadata"]["name"] == "web-0"


def _paths(value, prefix=""):
    """Every key path of a JSON value, list items as []; null values left out (the client drops them)."""
    if isinstance(value, dict):
        return {p for key, item in value.items() if item is not None
                for p in {f"{prefix}.{key}"} | _paths(item, f"{prefix}.{key}")}
    if isinstance(value, list):
        return {p for item in value for p in _paths(item, prefix + "[]")}
    return set()


FULL_CONTAINER = container(liveness={"httpGet": {"path": "/healthz", "port": 8080}}, limits={"memory": "1Gi"},
                           readiness={"tcpSocket": {"port": 8080}}, command=["run"],
                           env=[{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                           env_from=[{"configMapRef": {"name": "cfg"}}])


@pytest.mark.parametrize("obj, model", [
    (pod(containers=[FULL_CONTAINER], init_containers=("migrate",), claims=["data-web-0"], pull_secrets=["regcred"],
         restarts=2, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
             "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}]}}}),
     "V1Pod"),
    (pod(phase="Pending", state=backoff(), deleting=True, node_selector={"disktype": "ssd"}), "V1Pod"),
    (unscheduled(scheduled_message="0/3 nodes are available"), "V1Pod"),
    (node(taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}], unschedulable=True,
          roles=("worker",)), "V1Node"),
    (event(field_path="spec.containers{app}", host="worker-1"), "CoreV1Event"),
    (event(series={"count": 2, "lastObservedTime": "2024-05-14T10:00:00.000000Z"}), "CoreV1Event"),
    (event(api_version="events.k8s.io/v1", series={"count": 2, "lastObservedTime": "2024-05-14T10:00:00.000000Z"}),
     "EventsV1Event"),
    (service(), "V1Service"),
    (endpoints(not_ready=[("10.244.2.9", None)], port_name="http"), "V1Endpoints"),
    (pvc(), "V1PersistentVolumeClaim"),
    (k8s_list("PodList", [pod()]), "V1PodList"),
], ids=["pod", "pod-crashloop", "pod-unscheduled", "node", "event", "event-series", "events-v1", "service",
        "endpoints", "pvc", "list"])
def test_the_official_client_knows_every_field(obj, model):
    """The kubernetes client drops unknown keys and rejects missing required fields: a misspelled field fails here."""
    client = ApiClient()
    parsed = client._ApiClient__deserialize(json.loads(json.dumps(obj)), model)  # what deserialize() does
    back = _paths(client.sanitize_for_serialization(parsed))
    assert _paths(obj) - back == set()
