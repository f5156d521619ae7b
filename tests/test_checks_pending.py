"""pod-pending checks (PEND-001..006) on real-format objects and on the built-in scenarios."""

from __future__ import annotations

import copy

import pytest
import yaml

from factories import event, node, pod, pvc, unscheduled, waiting
from k8srun import frames
from k8srun.checks import pending
from k8srun.model import Severity
from k8srun.sources import scenarios_dir
from k8srun.session import diagnose_runbook

def run(pods, nodes, events=(), pvcs=(), pod_name=""):
    return pending.diagnose(pods=frames.pods_frame(pods), containers=frames.containers_frame(pods),
                            events=frames.events_frame(events), nodes=frames.nodes_frame(nodes),
                            node_usage=frames.node_usage_frame(pods, nodes),
                            pvcs=frames.pvcs_frame(pvcs), pod=pod_name)


def codes(findings):
    return sorted({f.code for f in findings})


WORKERS = [node("worker-1"), node("worker-2", cpu="2"), node("control-plane", roles=("control-plane",), taints=[
    {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}])]
BUSY = [pod("db-0", node_name="worker-1", requests={"cpu": "3", "memory": "256Mi"}),
        pod("cache-0", node_name="worker-2", requests={"cpu": "750m", "memory": "256Mi"})]


def test_healthy_pending_pod_that_fits_gives_nothing():
    fresh = unscheduled("web-5c7d-x2x9q")  # just created, scheduler has not spoken yet
    assert run([fresh, *BUSY], WORKERS) == []


def test_running_pods_are_not_of_interest():
    assert run(BUSY, WORKERS) == []


# ---------------------------------------------------------------- PEND-001

INSUFFICIENT = ("0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
                "2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for "
                "scheduling, 2 No preemption victims found for incoming pod.")


def test_insufficient_cpu_from_message_and_computed():
    big = unscheduled("analytics-7d9c-5kq2w", requests={"cpu": "6", "memory": "128Mi"}, scheduled_message=INSUFFICIENT)
    found = run([big, *BUSY], WORKERS, [event(big["metadata"]["name"], "FailedScheduling", INSUFFICIENT, count=12,
                                              component="default-scheduler")])
    pend1 = [f for f in found if f.code == "PEND-001"]
    assert len(pend1) == 1
    detail = pend1[0].detail
    assert "shop/analytics-7d9c-5kq2w requests cpu 6" in detail
    assert "largest free allocatable is 1.25 (worker-2)" in detail
    assert "Insufficient cpu" in detail
    assert pend1[0].evidence["events"][0]["message"] == INSUFFICIENT
    assert {r["node"] for r in pend1[0].evidence["node_usage"]} == {"worker-1", "worker-2"}
    # the control-plane taint is on 1 of 3 nodes; the pod is too big for the workers: not a PEND-002
    assert codes(found) == ["PEND-001"]


def test_taint_and_selector_both_block():
    nodes = [node("gpu-1", labels={"accelerator": "a100"}, taints=[{"key": "dedicated", "value": "gpu",
                                                                  "effect": "NoSchedule"}]),
             node("worker-1"), WORKERS[2]]
    found = run([unscheduled("train-0", node_selector={"accelerator": "a100"})], nodes)
    assert codes(found) == ["PEND-002"]  # the only matching node is tainted: the taint is the blocker
    assert "gpu-1 has dedicated=gpu:NoSchedule" in found[0].detail
    found = run([unscheduled("train-0", node_selector={"accelerator": "h100"})], nodes)
    assert codes(found) == ["PEND-003"]  # no node has that label


def test_insufficient_memory_computed_without_any_event():
    big = unscheduled("ml-0", requests={"cpu": "100m", "memory": "16Gi"})
    found = [f for f in run([big], WORKERS[:2]) if f.code == "PEND-001"]
    assert found and "requests memory 16Gi but the largest free allocatable is 8Gi" in found[0].detail


def test_extended_resource_only_known_from_the_scheduler():
    message = "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: " \
              "2 No preemption victims found for incoming pod."
    gpu = unscheduled("train-0", scheduled_message=message)
    found = [f for f in run([gpu], WORKERS[:2]) if f.code == "PEND-001"]
    assert found and "Insufficient nvidia.com/gpu" in found[0].detail


def test_scheduler_reasons_parses_both_message_formats():
    new = pending.scheduler_reasons(INSUFFICIENT)
    assert new.to_dict("records") == [
        {"count": 1, "nodes": 3, "reason": "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"},
        {"count": 2, "nodes": 3, "reason": "Insufficient cpu"}]
    old = pending.scheduler_reasons("0/3 nodes are available: 1 node(s) had taint {dedicated: gpu}, "
                                    "that the pod didn't tolerate, 2 Insufficient memory.")
    assert old["reason"].tolist() == ["node(s) had taint {dedicated: gpu}, that the pod didn't tolerate",
                                      "Insufficient memory"]
    assert pending.scheduler_reasons("").empty


# ---------------------------------------------------------------- PEND-002

TAINTED = [node("gpu-1", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
           node("gpu-2", taints=[{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}])]


def test_untolerated_taint_computed_and_named():
    message = ("0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/2 nodes "
               "are available: 2 Preemption is not helpful for scheduling.")
    found = run([unscheduled("render-0", scheduled_message=message)], TAINTED)
    assert codes(found) == ["PEND-002"]
    assert "gpu-1 has dedicated=gpu:NoSchedule" in found[0].detail
    assert "2 of 2 Ready schedulable" in found[0].detail


def test_matching_toleration_gives_nothing():
    tolerated = unscheduled("render-0", tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu"}])
    assert run([tolerated], TAINTED) == []


@pytest.mark.parametrize("toleration, taint, expected", [
    ({"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"}, {"key": "k", "value": "v", "effect": "NoSchedule"}, True),
    ({"key": "k", "value": "v"}, {"key": "k", "value": "v", "effect": "NoExecute"}, True),  # default Equal, any effect
    ({"key": "k", "operator": "Equal", "value": "w"}, {"key": "k", "value": "v", "effect": "NoSchedule"}, False),
    ({"key": "k", "operator": "Exists"}, {"key": "k", "value": "v", "effect": "NoSchedule"}, True),
    ({"key": "k", "operator": "Exists", "effect": "NoExecute"}, {"key": "k", "effect": "NoSchedule"}, False),
    ({"operator": "Exists"}, {"key": "anything", "value": "v", "effect": "NoSchedule"}, True),  # empty key
    ({"operator": "Exists", "effect": "NoSchedule"}, {"key": "a", "effect": "NoExecute"}, False),
    ({"key": "", "operator": "Equal", "value": ""}, {"key": "a", "effect": "NoSchedule"}, False),
    ({"key": "k", "operator": "Equal"}, {"key": "k", "effect": "NoSchedule"}, True),  # empty values equal
])
def test_toleration_rules(toleration, taint, expected):
    assert pending.tolerates(toleration, taint) is expected


def test_prefer_no_schedule_does_not_block():
    soft = [node("w", taints=[{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}])]
    assert run([unscheduled("web-0")], soft) == []


# ---------------------------------------------------------------- PEND-003

def test_node_selector_matches_no_node():
    message = "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: " \
              "0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    found = run([unscheduled("ssd-0", node_selector={"disktype": "ssd"}, scheduled_message=message)], WORKERS[:2])
    assert codes(found) == ["PEND-003"]
    assert "needs disktype=ssd" in found[0].detail and "worker-1, worker-2" in found[0].detail


def test_node_selector_that_matches_gives_nothing():
    nodes = [node("worker-1", labels={"disktype": "ssd"}), node("worker-2")]
    assert run([unscheduled("ssd-0", node_selector={"disktype": "ssd"})], nodes) == []


def affinity(*expressions):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(expressions)}]}}}


@pytest.mark.parametrize("expression, labels, matches", [
    ({"key": "zone", "operator": "In", "values": ["a", "b"]}, {"zone": "b"}, True),
    ({"key": "zone", "operator": "In", "values": ["a"]}, {"zone": "b"}, False),
    ({"key": "zone", "operator": "NotIn", "values": ["a"]}, {}, True),
    ({"key": "zone", "operator": "NotIn", "values": ["a"]}, {"zone": "a"}, False),
    ({"key": "gpu", "operator": "Exists"}, {"gpu": ""}, True),
    ({"key": "gpu", "operator": "DoesNotExist"}, {"gpu": ""}, False),
    ({"key": "cores", "operator": "Gt", "values": ["8"]}, {"cores": "16"}, True),
    ({"key": "cores", "operator": "Gt", "values": ["8"]}, {"cores": "8"}, False),
    ({"key": "cores", "operator": "Lt", "values": ["8"]}, {"cores": "four"}, False),
    ({"key": "cores", "operator": "Lt", "values": ["8"]}, {}, False),
])
def test_affinity_operators(expression, labels, matches):
    assert (pending.unmatched_requirements({}, affinity(expression), labels) == []) is matches


def test_affinity_terms_are_ored_and_match_fields_use_node_name():
    either = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]},
        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["worker-9"]}]}]}}}
    assert pending.unmatched_requirements({}, either, {"zone": "c"}, "worker-9") == []
    assert pending.unmatched_requirements({}, either, {"zone": "c"}, "worker-1") != []


def test_required_affinity_matching_no_node_is_pend_003():
    zone = affinity({"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1c"]})
    found = run([unscheduled("api-0", affinity=zone)], WORKERS[:2])
    assert codes(found) == ["PEND-003"]
    assert "topology.kubernetes.io/zone In eu-west-1c" in found[0].detail


# ---------------------------------------------------------------- PEND-004

CLAIM = ["data-postgres-0"]


def test_pvc_pending_with_missing_storage_class():
    message = "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/2 " \
              "nodes are available: 2 Preemption is not helpful for scheduling."
    postgres = unscheduled("postgres-0", claims=CLAIM, scheduled_message=message)
    ev = event("data-postgres-0", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast-ssd" not found',
               kind="PersistentVolumeClaim", count=7, component="persistentvolume-controller")
    found = run([postgres], WORKERS[:2], [ev], [pvc("data-postgres-0", phase="Pending", storage_class="fast-ssd")])
    assert codes(found) == ["PEND-004"]
    assert found[0].severity == Severity.ERROR
    assert "data-postgres-0 in phase Pending (storageClass fast-ssd, requests 10Gi)" in found[0].detail
    assert "fast-ssd\" not found" in found[0].detail
    assert found[0].evidence["pvc"][0]["phase"] == "Pending"


def test_missing_pvc_object():
    found = run([unscheduled("postgres-0", claims=CLAIM)], WORKERS[:2], [], [])
    assert codes(found) == ["PEND-004"] and "does not exist" in found[0].detail


def test_bound_pvc_gives_nothing():
    bound = pvc("data-postgres-0", phase="Bound", storage_class="fast-ssd")
    assert run([unscheduled("postgres-0", claims=CLAIM)], WORKERS[:2], [], [bound]) == []


def test_pvcs_unavailable_without_any_sign_of_trouble_gives_no_pend_004_and_reads_partial():
    pods = [unscheduled("postgres-0", claims=CLAIM)]
    found = pending.diagnose(pods=frames.pods_frame(pods), containers=frames.containers_frame(pods),
                             events=None, nodes=frames.nodes_frame(WORKERS[:2]),
                             node_usage=frames.node_usage_frame(pods, WORKERS[:2]), pvcs=None)
    assert found == []
    assert pending.PARTIAL["PEND-004"] == ["pvcs"] and "pvcs" not in pending.REQUIRES["PEND-001"]


# ---------------------------------------------------------------- PEND-005

IMAGE = "registry.example.com/shop/app:1.4.2"
NOT_FOUND = (f'Failed to pull image "{IMAGE}": rpc error: code = NotFound desc = failed to pull and unpack image '
             f'"{IMAGE}": failed to resolve reference "{IMAGE}": {IMAGE}: not found')
UNAUTHORIZED = (f'Failed to pull image "{IMAGE}": rpc error: code = Unknown desc = failed to pull and unpack image '
                f'"{IMAGE}": failed to resolve reference "{IMAGE}": failed to authorize: failed to fetch oauth '
                'token: unexpected status: 401 Unauthorized')


@pytest.mark.parametrize("message, kind, words", [
    (NOT_FOUND, "not-found", "does not exist in the registry"),
    (UNAUTHORIZED, "unauthorized", "unauthorized) and the pod has no imagePullSecrets"),
])
def test_image_pull_backoff_classified_from_the_failed_event(message, kind, words):
    stuck = pod("app-6b7f-abcde", phase="Pending", image=IMAGE,
                state=waiting("ImagePullBackOff", f'Back-off pulling image "{IMAGE}"'))
    events = [event("app-6b7f-abcde", "Failed", message, count=4),
              event("app-6b7f-abcde", "BackOff", f'Back-off pulling image "{IMAGE}"', count=20, type_="Normal")]
    found = run([stuck], WORKERS[:2], events)
    assert codes(found) == ["PEND-005"]
    assert found[0].evidence["pull_error"] == kind
    assert words in found[0].detail and IMAGE in found[0].detail


def test_never_pull_and_invalid_name():
    never = pod("a-0", phase="Pending", image=IMAGE, state=waiting(
        "ErrImageNeverPull", f'Container image "{IMAGE}" is not present with pull policy of Never'))
    invalid = pod("b-0", phase="Pending", image="Shop/App:latest", state=waiting(
        "InvalidImageName", 'Failed to apply default image tag "Shop/App:latest": couldn\'t parse image reference '
        '"Shop/App:latest": invalid reference format: repository name must be lowercase'))
    found = run([never, invalid], WORKERS[:2])
    assert sorted(f.evidence["pull_error"] for f in found) == ["invalid-name", "never-pull"]


def test_pulling_container_creating_gives_nothing():
    creating = pod("app-0", phase="Pending", image=IMAGE, state=waiting("ContainerCreating"))
    assert run([creating], WORKERS[:2]) == []


# ---------------------------------------------------------------- PEND-006

def test_all_nodes_not_ready_or_cordoned():
    down = [node("worker-1", ready="Unknown", reason="NodeStatusUnknown",
                 taints=[{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}]),
            node("worker-2", unschedulable=True,
                 taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}])]
    message = ("0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, "
               "1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful "
               "for scheduling.")
    found = run([unscheduled("web-0", scheduled_message=message)], down)
    assert codes(found) == ["PEND-006"]  # the lifecycle taint is not reported again as PEND-002
    assert "worker-1 NotReady (NodeStatusUnknown)" in found[0].detail
    assert "worker-2 Ready cordoned" in found[0].detail and "web-0" in found[0].detail


def test_only_the_control_plane_left_is_pend_006_not_a_toleration_problem():
    nodes = [node("worker-1", ready="Unknown", reason="NodeStatusUnknown"), WORKERS[2]]
    found = run([unscheduled("web-0")], nodes)
    assert codes(found) == ["PEND-006"]
    assert "control-plane Ready control-plane (tainted NoSchedule)" in found[0].detail


def test_one_ready_schedulable_node_is_enough():
    nodes = [node("worker-1", ready="False", reason="KubeletNotReady"), node("worker-2")]
    assert pending.no_schedulable_node(frames.nodes_frame(nodes)) == []


def test_pods_of_interest_named_pod_or_every_pending():
    pods = frames.pods_frame([unscheduled("a-0"), pod("b-0", requests={"cpu": "1", "memory": "256Mi"})])
    assert pending.pods_of_interest(pods)["name"].tolist() == ["a-0"]
    assert pending.pods_of_interest(pods, "b-0")["name"].tolist() == ["b-0"]


def test_every_finding_is_json_ready_and_specific():
    big = unscheduled("analytics-0", requests={"cpu": "6", "memory": "128Mi"}, scheduled_message=INSUFFICIENT)
    for item in run([big, *BUSY], WORKERS):
        assert "analytics-0" in item.detail
        item.to_dict()  # JSON-serialisable evidence
        assert copy.deepcopy(item.evidence) == item.evidence


# ------------------------------------------------------------- scenarios

def scenario_findings(name):
    """Run pod-pending's own gather + diagnose on a built-in scenario (what the notebook does); (spec, findings)."""
    spec = yaml.safe_load((scenarios_dir() / name / "scenario.yaml").read_text())
    return spec, diagnose_runbook("pod-pending", source=f"scenario:{name}").findings


@pytest.mark.parametrize("name", ["pod-pending", "pending-no-nodes"])
def test_scenario_expected_codes(name):
    spec, found = scenario_findings(name)
    produced = {f.code for f in found}
    expected = {c for c in spec.get("expected_codes") or [] if c.startswith("PEND-")}
    assert expected <= produced, f"missing {expected - produced}; got {[f.detail for f in found]}"
    assert not produced & set(spec.get("absent_codes") or []), [f.detail for f in found]


def test_healthy_scenario_has_no_error_findings():
    _, found = scenario_findings("healthy")
    assert [f.detail for f in found if f.severity >= Severity.ERROR] == []


def test_unbound_claim_without_pvc_objects_is_read_from_the_scheduler_and_claim_events():
    waiting = unscheduled("db-0", claims=("data-db-0",))
    said = event("db-0", "FailedScheduling", "0/3 nodes are available: pod has unbound immediate "
                 "PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful.",
                 component="default-scheduler")
    provisioning = event("data-db-0", "ProvisioningFailed", 'storageclass.storage.k8s.io "fast" not found',
                         kind="PersistentVolumeClaim", component="persistentvolume-controller")
    found = pending.unbound_claims_from_events(frames.pods_frame([waiting]).iloc[0],
                                               frames.events_frame([said, provisioning]))
    assert [f.code for f in found] == ["PEND-004"]
    assert "data-db-0" in found[0].detail and "ProvisioningFailed" in found[0].detail
    # healthy counterpart: a claim the scheduler does not complain about and with no Warning event
    assert pending.unbound_claims_from_events(frames.pods_frame([waiting]).iloc[0], frames.events_frame([])) == []
