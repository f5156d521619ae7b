"""triage checks (TRIAGE-001 suspects, ranking) on real-format objects and on the built-in scenarios."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from factories import container_status, endpoints, event, node, pod, service, unscheduled, waiting
from k8srun import frames, registry
from k8srun.checks import triage
from k8srun.model import Severity
from k8srun.sources import scenarios_dir
from k8srun.session import Session

NOW = dt.datetime(2024, 5, 14, 10, 0, tzinfo=dt.timezone.utc)


def frames_of(pods=(), nodes=(), events=(), services=(), endpoint_objects=()):
    return {"pods": frames.pods_frame(pods), "nodes": frames.nodes_frame(nodes),
            "events": frames.events_frame(events), "services": frames.services_frame(services),
            "endpoints": frames.endpoints_frame(endpoint_objects), "now": NOW}


HEALTHY = frames_of(
    pods=[pod("web-0"), pod("coredns-5d78c9869d-abcde", "kube-system"), pod("backup-28591200-x7k2p", phase="Succeeded")],
    nodes=[node("worker-1"), node("worker-2")],
    events=[event("web-0", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                  last="2024-05-14T06:00:00Z"),  # hours ago: history, not a suspect
            event("web-0", "Pulled", "Successfully pulled image \"x\"", type_="Normal")],
    services=[service("web"), service("kube-dns", "kube-system", selector={"k8s-app": "kube-dns"}, port=53),
              service("kubernetes", "default", selector={}, port=443, target_port=6443, cluster_ip="10.96.0.1")],
    endpoint_objects=[endpoints("web"),
                      endpoints("kube-dns", "kube-system", ready=[("10.244.1.7", "coredns-5d78c9869d-abcde")])])


def test_healthy_cluster_has_no_suspects():
    assert triage.diagnose(**HEALTHY) == []
    assert triage.suspects(**HEALTHY).empty


def routed(kind: str) -> str:
    """The registered runbook triage routes suspects of ``kind`` to ("" while none is registered)."""
    runbook = registry.route(kind)
    return runbook.name if runbook else ""


def test_not_ready_node_is_critical_and_points_to_node_notready():
    state = {**HEALTHY, "nodes": frames.nodes_frame([node("worker-1"),
                                                     node("worker-2", ready="Unknown", reason="NodeStatusUnknown")])}
    found = triage.diagnose(**state)
    assert len(found) == 1 and found[0].code == "TRIAGE-001" and found[0].severity == Severity.CRITICAL
    assert found[0].evidence["runbook"] == routed("node-not-ready")
    assert found[0].evidence["parameters"] == ({"node": "worker-2"} if routed("node-not-ready") else {})
    assert "worker-2 is NotReady (Ready=Unknown, NodeStatusUnknown" in found[0].detail


def test_many_nodes_not_ready_for_one_reason_are_one_suspect_with_a_count():
    lost = [node(f"worker-{i}", ready="Unknown", reason="NodeStatusUnknown") for i in range(triage.NODE_GROUP_MIN)]
    state = {**HEALTHY, "nodes": frames.nodes_frame([node("healthy-1"), *lost,
                                                     node("odd-1", ready="False", reason="KubeletNotReady")])}
    found = triage.diagnose(**state)
    assert len(found) == 2  # the group, and the one node NotReady for another reason
    group = next(f for f in found if "nodes are NotReady" in f.detail)
    assert f"{len(lost)} nodes are NotReady (Ready=Unknown, NodeStatusUnknown): worker-0, worker-1, worker-2 and " \
           f"{len(lost) - 3} more" in group.detail
    assert group.evidence["node_count"] == len(lost) and len(group.evidence["nodes"]) == 5
    assert any("node odd-1 is NotReady" in f.detail for f in found)
    few = {**HEALTHY, "nodes": frames.nodes_frame(lost[:triage.NODE_GROUP_MIN - 1])}
    assert len(triage.diagnose(**few)) == triage.NODE_GROUP_MIN - 1  # below the threshold: one each


def test_service_without_ready_endpoints_and_no_pod_points_to_service_routing():
    state = frames_of(pods=[pod("web-0")], nodes=[node("worker-1")], services=[service("web"), service("checkout")],
                      endpoint_objects=[endpoints("web")])
    table = triage.suspects(**state)
    assert table["rank"].tolist() == [1]
    first = table.iloc[0]
    assert first["severity"] == "critical" and first["runbook"] == routed("service-without-endpoints")
    if first["runbook"]:
        assert first["parameters"] == {"namespace": "shop", "service": "checkout", "port": 80}
    else:
        assert "no runbook covers it yet: kubectl describe service -n shop checkout" in triage.diagnose(**state)[0].detail


def test_service_down_because_of_its_pods_is_one_critical_suspect():
    state = frames_of(pods=[pod("web-0", ready=False)], nodes=[node("worker-1")], services=[service("web")],
                      endpoint_objects=[endpoints("web", not_ready=[("10.244.1.7", "web-0")])])
    found = triage.diagnose(**state)
    assert len(found) == 1 and found[0].severity == Severity.CRITICAL
    assert found[0].evidence["runbook"] == "pod-crashloop"
    assert found[0].evidence["parameters"] == {"namespace": "shop", "pod": "web-0"}
    assert "Service shop/web has no ready endpoint because of them" in found[0].detail


def test_kube_dns_without_endpoints_points_to_dns():
    state = {**HEALTHY, "endpoints": frames.endpoints_frame([endpoints("web")])}
    found = triage.diagnose(**state)
    assert [f.evidence["runbook"] for f in found] == [routed("cluster-dns-down")]
    if routed("cluster-dns-down"):
        assert found[0].evidence["parameters"] == {"dns_service": "kube-system/kube-dns"}


def test_pods_grouped_by_status_with_the_runbook_to_open():
    pods = [pod("api-0", state=waiting("CrashLoopBackOff"), restarts=12),
            pod("api-1", state=waiting("CrashLoopBackOff"), restarts=9),
            unscheduled("report-0"),
            pod("etl-0", phase="Pending", init_containers=("fetch",),
                init_statuses=[container_status("fetch", waiting("ErrImagePull"))]),
            pod("kube-proxy-x2x9q", "kube-system", state=waiting("CrashLoopBackOff"), restarts=3)]
    state = {**HEALTHY, "pods": frames.pods_frame(pods)}
    table = triage.suspects(**state)
    rows = {r["object"]: r for _, r in table.iterrows()}
    assert table.iloc[0]["what"] == "kube-system pods unhealthy"  # kube-system ranks first among equals
    assert rows["kube-system/kube-proxy-x2x9q"]["runbook"] == routed("kube-proxy-pods")
    crash = rows["shop/(2 pods)"]
    assert crash["runbook"] == "pod-crashloop" and crash["count"] == 2
    assert crash["parameters"] == {"namespace": "shop", "pod": ""}  # every crash-looping pod of the namespace
    assert rows["shop/report-0"]["runbook"] == "pod-pending"
    assert rows["shop/report-0"]["parameters"] == {"namespace": "shop", "pod": "report-0"}
    assert rows["shop/etl-0"]["reason"] == "Init:ErrImagePull" and rows["shop/etl-0"]["runbook"] == "pod-pending"
    found = triage.diagnose(**state)
    assert {f.severity for f in found} == {Severity.ERROR}
    assert any("2 pod(s) in shop are CrashLoopBackOff: api-0, api-1 (21 restarts)" in f.detail for f in found)


def test_recent_warning_events_on_other_objects_are_suspects():
    events = [event("web-0", "FailedMount", 'MountVolume.SetUp failed for volume "certs" : secret "web-tls" '
                    'not found', count=14),
              event("api-6d9f", "FailedCreate", 'Error creating: pods "api-6d9f-" is forbidden: '
                    'exceeded quota: compute, requested: cpu=2, used: cpu=8, limited: cpu=8', kind="ReplicaSet",
                    count=31)]
    state = {**HEALTHY, "events": frames.events_frame(events)}
    table = triage.suspects(**state)
    assert table["reason"].tolist() == ["FailedCreate", "FailedMount"]  # by count
    assert table.iloc[0]["runbook"] == ""  # no runbook covers quota: the detail says what to describe
    assert table.iloc[1]["runbook"] == "pod-pending"
    found = triage.diagnose(**state)
    assert "kubectl describe replicaset api-6d9f" in found[0].detail and found[0].severity == Severity.WARNING


def test_a_warning_without_any_timestamp_is_a_suspect_not_dropped_as_old():
    undated = event("web-0", "FailedMount", 'secret "web-tls" not found', first=None, last=None)
    del undated["metadata"]["creationTimestamp"]  # nothing left to date it by
    found = triage.diagnose(**{**HEALTHY, "events": frames.events_frame([undated]), "now": NOW})
    assert len(found) == 1 and "(1 without a timestamp)" in found[0].detail


@pytest.mark.parametrize("now", [NOW, NOW.replace(tzinfo=None)], ids=["aware", "naive-utc"])
def test_only_warnings_of_the_last_hour_are_suspects(now):
    events = [event("web-0", "FailedMount", 'secret "web-tls" not found', last="2024-05-14T09:58:00Z"),
              event("web-0", "BackOff", "Back-off restarting failed container", last="2024-05-14T08:30:00Z")]
    table = triage.suspects(**{**HEALTHY, "events": frames.events_frame(events), "now": now})
    assert table["reason"].tolist() == ["FailedMount"]


def test_events_of_an_already_suspected_pod_are_not_repeated():
    pods = [pod("api-0", state=waiting("CrashLoopBackOff"), restarts=12)]
    events = [event("api-0", "BackOff", "Back-off restarting failed container app in pod api-0_shop(1a)",
                    count=50)]
    state = {**HEALTHY, "pods": frames.pods_frame(pods), "events": frames.events_frame(events)}
    assert len(triage.diagnose(**state)) == 1


def test_warnings_over_time_in_ten_minute_buckets():
    events = frames.events_frame([event("web-0", "Unhealthy", "Liveness probe failed", count=3,
                                        last="2024-05-14T09:51:00Z"),
                                  event("web-1", "Unhealthy", "Liveness probe failed", count=4,
                                        last="2024-05-14T09:58:00Z"),
                                  event("web-1", "BackOff", "Back-off restarting failed container", count=2,
                                        last="2024-05-14T09:41:00Z"),
                                  event("web-1", "Pulled", "Successfully pulled image", type_="Normal")])
    table = triage.warnings_over_time(events)
    assert [(r["bucket"].strftime("%H:%M"), r["reason"], r["events"], r["objects"]) for _, r in table.iterrows()] == [
        ("09:40", "BackOff", 2, 1), ("09:50", "Unhealthy", 7, 2)]
    assert triage.warnings_over_time(frames.events_frame([])).empty


def test_services_without_endpoints_table():
    table = triage.services_without_endpoints(
        frames.services_frame([service("web"), service("api")]),
        frames.endpoints_frame([endpoints("web"), endpoints("api", not_ready=[("10.244.1.7", "api-0")])]))
    assert table[["name", "not_ready_endpoints", "not_ready_pods"]].to_dict("records") == [
        {"name": "api", "not_ready_endpoints": 1, "not_ready_pods": ["api-0"]}]


def test_missing_evidence_is_skipped_not_guessed():
    found = triage.diagnose(pods=HEALTHY["pods"], nodes=None, events=None, services=None, endpoints=None, now=NOW)
    assert found == []


# ------------------------------------------------------------- scenarios

def scenario_state(name):
    """The frames triage's own gather reads from a built-in scenario (what the notebook does); (spec, frames)."""
    spec = yaml.safe_load((scenarios_dir() / name / "scenario.yaml").read_text())
    return spec, Session.start("triage", source=f"scenario:{name}", show=False).gather()


def test_scenario_expected_codes_and_next_runbooks():
    spec, state = scenario_state("triage")
    found = triage.diagnose(**state)
    produced = {f.code for f in found}
    assert {c for c in spec.get("expected_codes") or [] if c.startswith("TRIAGE-")} <= produced
    assert not produced & set(spec.get("absent_codes") or [])
    assert all(f.evidence["parameters"] is not None and "runbook" in f.evidence for f in found)
    ranks = triage.suspects(**state)
    assert ranks["rank"].tolist() == list(range(1, len(found) + 1))


def test_healthy_scenario_has_no_suspects():
    _, state = scenario_state("healthy")
    assert [f.detail for f in triage.diagnose(**state)] == []


@pytest.mark.parametrize("scenario, codes", [("dns", {"DNS-003", "DNS-004"}), ("dns-coredns-loop", {"DNS-003", "DNS-004"})])
def test_triage_routes_cluster_dns_trouble_to_dns_with_parameters_that_find_it(scenario, codes):
    """kube-dns without ready endpoints and broken CoreDNS pods: triage names dns with dns_service; dns then
    finds the cluster-side codes on the same source (its node checks replay what the scenario recorded)."""
    from k8srun.session import diagnose_runbook

    source = f"scenario:{scenario}"
    triaged = diagnose_runbook("triage", source=source)
    routed = [f for f in triaged.findings if f.evidence.get("runbook") == "dns"]
    assert routed and all(f.evidence["parameters"] == {"dns_service": "kube-system/kube-dns"} for f in routed)
    found = {f.code for f in diagnose_runbook("dns", source=source, **routed[0].evidence["parameters"]).findings}
    assert codes <= found


def test_every_kind_of_suspect_names_a_registered_runbook():
    """Thirteen runbooks: no suspect is left with 'no runbook covers it yet'."""
    assert {kind: registry.route(kind) is not None for kind in triage.SUSPECT_KINDS} == \
        {kind: True for kind in triage.SUSPECT_KINDS}
