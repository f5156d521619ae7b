"""Objects -> DataFrames: kubectl's STATUS column, quantities, requests, events order."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from factories import container, container_status, endpoints, event, node, pod, running, terminated, waiting
from k8srun import frames


@pytest.mark.parametrize("obj, expected", [
    (pod(), "Running"),
    (pod(phase="Pending", node_name=None), "Pending"),
    (pod(phase="Pending"), "ContainerCreating"),
    (pod(phase="Pending", state=waiting("ImagePullBackOff")), "ImagePullBackOff"),
    (pod(state=waiting("CrashLoopBackOff")), "CrashLoopBackOff"),
    (pod(phase="Failed", state=terminated(137, "OOMKilled")), "OOMKilled"),
    (pod(phase="Failed", state=terminated(2, reason="")), "ExitCode:2"),
    (pod(phase="Succeeded"), "Completed"),
    (pod(phase="Pending", init_containers=("wait",),
         init_statuses=[container_status("wait", waiting("CrashLoopBackOff"))]), "Init:CrashLoopBackOff"),
    (pod(phase="Pending", init_containers=("a", "b"),
         init_statuses=[container_status("a", terminated(0)), container_status("b")]), "Init:1/2"),
    (pod(phase="Pending", init_containers=("a",), init_statuses=[container_status("a", terminated(1))]),
     "Init:Error"),
    (pod(deleting=True), "Terminating"),
    (pod(phase="Succeeded", deleting=True), "Completed"),
])
def test_pod_status_is_what_kubectl_prints(obj, expected):
    assert frames.pod_status(obj) == expected


@pytest.mark.parametrize("text, value", [
    ("100m", 0.1), ("2", 2.0), ("1.5", 1.5), ("128Mi", 128 * 2**20), ("16331456Ki", 16331456 * 1024),
    ("1G", 1e9), ("2e3", 2000.0), ("500u", 0.0005), (3, 3.0),
])
def test_quantities(text, value):
    assert frames.parse_quantity(text) == pytest.approx(value)


def test_absent_quantity_is_nan_and_garbage_is_an_error():
    assert math.isnan(frames.parse_quantity(None))
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        frames.parse_quantity("12 apples")


@given(st.text(max_size=12))
def test_quantity_parser_never_crashes_other_than_valueerror(text):
    try:
        frames.parse_quantity(text)
    except ValueError:
        pass


def sidecar_pod(sidecar_state, *, sidecar_ready=True, app_state=None, initialized=True):
    """A pod with a native sidecar (init container with restartPolicy Always), as the API returns it."""
    return pod(init_containers=[container("proxy", restart_policy="Always")], state=app_state,
               init_statuses=[container_status("proxy", sidecar_state, ready=sidecar_ready, started=True, restarts=2)],
               conditions=[{"type": "Initialized", "status": str(initialized)}])


def test_native_sidecar_counts_like_kubectl():
    row = frames.pods_frame([sidecar_pod(running())]).iloc[0]
    assert (row["status"], row["ready"], row["restarts"]) == ("Running", "2/2", 2)
    row = frames.pods_frame([sidecar_pod(running(), sidecar_ready=False)]).iloc[0]
    assert (row["status"], row["ready"]) == ("Running", "1/2")
    crashing = sidecar_pod(running(), app_state=waiting("CrashLoopBackOff"))
    assert frames.pod_status(crashing) == "CrashLoopBackOff"


def test_unready_container_beside_a_completed_one_is_not_ready():
    obj = pod(containers=("app", "job"), statuses=[container_status("app"), container_status("job", terminated(0))])
    obj["status"]["conditions"] = [{"type": "Ready", "status": "False"}]
    assert frames.pod_status(obj) == "NotReady"
    obj["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    assert frames.pod_status(obj) == "Running"


def test_init_restarts_count_while_initializing():
    obj = pod(phase="Pending", init_containers=("migrate",),
              init_statuses=[container_status("migrate", waiting("CrashLoopBackOff"), restarts=4)])
    row = frames.pods_frame([obj]).iloc[0]
    assert (row["status"], row["restarts"]) == ("Init:CrashLoopBackOff", 4)


def test_pod_request_counts_sidecars_beside_app_and_later_init_containers():
    obj = pod(requests={"cpu": "500m"}, init_containers=[container("proxy", restart_policy="Always",
                                                                   requests={"cpu": "250m"}),
                                                         container("migrate", requests={"cpu": "1"})])
    assert frames.pod_requests(obj, "cpu") == 1.25  # migrate runs beside the already started proxy
    obj["spec"]["initContainers"][1]["resources"]["requests"]["cpu"] = "100m"
    assert frames.pod_requests(obj, "cpu") == 0.75  # app + proxy


def test_pod_request_is_max_of_init_and_sum_of_app_containers():
    obj = pod(containers=("a", "b"), requests={"cpu": "250m", "memory": "64Mi"},
              init_containers=[container("i", requests={"cpu": "2"})])
    assert frames.pod_requests(obj, "cpu") == 2.0
    assert frames.pod_requests(obj, "memory") == 128 * 2**20


def test_node_usage_counts_only_non_terminated_pods_on_each_node():
    nodes = [node("worker-1", cpu="4", memory="8Gi", pods="110")]
    pods = [pod("a", requests={"cpu": "1"}), pod("b", requests={"cpu": "500m"}),
            pod("done", phase="Succeeded", requests={"cpu": "3"}), pod("elsewhere", node_name="worker-2")]
    usage = frames.node_usage_frame(pods, nodes).iloc[0]
    assert (usage["pods"], usage["cpu_requested"], usage["cpu_free"], usage["pods_free"]) == (2, 1.5, 2.5, 108)


def test_events_are_sorted_by_last_seen_with_fallbacks():
    events = [
        event("a", "late", last="2026-11-20T14:00:00Z", count=3),
        event("b", "new-style", api_version="events.k8s.io/v1", event_time="2026-11-20T13:00:00.000000Z",
              series={"count": 2}),
        event("n", "oldest", kind="Node", last=None, count=None, created="2026-11-20T12:00:00Z"),
    ]
    frame = frames.events_frame(events)
    assert list(frame["reason"]) == ["oldest", "new-style", "late"]
    assert list(frame["count"]) == [1, 2, 3]
    assert str(frame["last_seen"].dt.tz) == "UTC"


def test_empty_inputs_give_empty_frames_with_the_columns():
    for build, columns in [(frames.pods_frame, frames.POD_COLUMNS), (frames.events_frame, frames.EVENT_COLUMNS),
                           (frames.containers_frame, frames.CONTAINER_COLUMNS),
                           (frames.nodes_frame, frames.NODE_COLUMNS), (frames.pvcs_frame, frames.PVC_COLUMNS),
                           (frames.services_frame, frames.SERVICE_COLUMNS),
                           (frames.endpoints_frame, frames.ENDPOINT_COLUMNS)]:
        frame = build([])
        assert isinstance(frame, pd.DataFrame) and list(frame.columns) == columns and frame.empty


def test_containers_frame_joins_spec_and_status_and_config_refs():
    app = container(env=[{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                    env_from=[{"configMapRef": {"name": "cfg"}}], requests=None, limits={"memory": "128Mi"})
    obj = pod(phase="Pending", containers=[app],
              state=waiting("CreateContainerConfigError", 'configmap "cfg" not found'))
    row = frames.containers_frame([obj]).iloc[0]
    assert (row["state"], row["reason"], row["memory_limit"]) == ("waiting", "CreateContainerConfigError", 128 * 2**20)
    assert [(r["kind"], r["name"], r["key"]) for r in row["config_refs"]] == [("Secret", "db", "password"),
                                                                           ("ConfigMap", "cfg", "")]


def test_endpoints_frame_separates_ready_and_not_ready():
    ep = endpoints("web", ready=[("10.244.1.5", "web-a")], not_ready=[("10.244.2.7", None)], port_name="http")
    frame = frames.endpoints_frame([ep])
    assert list(zip(frame["ip"], frame["ready"])) == [("10.244.1.5", True), ("10.244.2.7", False)]
