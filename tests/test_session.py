"""The notebook session: gathers that fail become visible rows, never crashes or false findings."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from k8srun.errors import ParameterError
from k8srun.model import finding
from k8srun import session as session_module
from k8srun.session import FINDINGS_MIME, UNAVAILABLE_MIME, Session
from k8srun.sources import open_source


@pytest.fixture
def shown(monkeypatch):
    """The mime bundles the session displays."""
    bundles = []
    monkeypatch.setattr(session_module, "_display", bundles.append)
    return bundles


def start(source="scenario:pod-pending", **kw):
    return Session.start("pod-pending", source=source, show=False, **kw)


def test_namespace_defaults_to_the_scenario_namespace_and_is_validated():
    assert start().namespace == "shop"
    assert start(namespace="kube-system").namespace == "kube-system"
    with pytest.raises(Exception, match="parameter 'namespace'"):
        start(namespace="x;rm -rf /")


def test_missing_evidence_is_a_visible_row_and_an_empty_frame_with_columns(shown):
    rb = start()
    pvcs = rb.pvcs("no-such-namespace")
    pods = rb.pods("no-such-namespace")
    assert pvcs is None and pods.empty and "status" in pods.columns
    assert rb.unavailable[0].what == "persistentvolumeclaims in namespace no-such-namespace"
    assert any(UNAVAILABLE_MIME in bundle for bundle in shown)
    assert "pvcs" in rb.missing_evidence


def test_findings_needing_missing_evidence_are_dropped_not_reported(shown):
    from k8srun.checks import pending

    rb = start(source="none")
    nodes = rb.nodes()
    found = rb.check(pending.diagnose, pods=rb.pods(), containers=rb.containers(),
                     events=rb.events(), nodes=nodes, node_usage=rb.node_usage(), pvcs=rb.pvcs())
    table = rb.checks_table(pending.REQUIRES)
    assert found == [] and nodes.empty
    assert set(table["status"]) == {"NOT CHECKED"}


def test_a_crashing_check_becomes_an_unavailable_row(shown):
    def diagnose(**_):
        raise KeyError("column")

    rb = start()
    assert rb.check(diagnose) == []
    assert "internal error: KeyError" in rb.unavailable[-1].reason


def test_added_findings_carry_a_machine_readable_copy(shown):
    rb = start()
    rb.add([finding("PEND-001", "pod shop/x requests cpu 6")])
    data = [bundle for bundle in shown if FINDINGS_MIME in bundle]
    assert json.loads(json.dumps(data[0][FINDINGS_MIME]))[0]["code"] == "PEND-001"
    assert "PEND-001" in data[0]["text/html"]


def test_logs_are_redacted(tmp_path):
    root = tmp_path / "b"
    (root / "ns" / "p").mkdir(parents=True)
    (root / "nodes.json").write_text('{"kind": "NodeList", "items": []}')
    (root / "ns" / "pods.json").write_text('{"kind": "PodList", "items": []}')
    (root / "ns" / "p" / "logs.txt").write_text(
        "==== START logs for container c of pod ns/p ====\n"
        "connecting with password=hunter2\n"
        "==== END logs for container c of pod ns/p ====\n")
    rb = Session.start("pod-crashloop", source=str(root), namespace="ns", show=False)
    assert rb.logs("p", "c") == "connecting with password=[REDACTED]\n"


def test_checks_table_says_found_ok_or_not_checked():
    rb = start()
    rb.add([finding("PEND-001", "x")])
    rb.missing_evidence.add("pvcs")
    table = rb.checks_table({"PEND-001": ["pods"], "PEND-003": ["pods"], "PEND-004": ["pods", "pvcs"]})
    assert dict(zip(table["code"], table["status"])) == {"PEND-001": "FOUND", "PEND-003": "OK",
                                                         "PEND-004": "NOT CHECKED"}
    assert isinstance(table, pd.DataFrame)


def test_tables_show_units_people_read_and_escape_text():
    from k8srun.tables import html_table

    table = html_table(pd.DataFrame([{"pod": "<api>", "cpu_request": 0.25, "memory_limit": 128 * 2**20,
                                      "requested": 20 * 2**30, "labels": {"app": "web"}, "restarts": 3, "pods_free": 103.0}]))
    assert ">250m<" in table and ">128Mi<" in table and ">20Gi<" in table
    assert "&lt;api&gt;" in table and ">app=web<" in table and ">3<" in table and ">103<" in table


def test_a_crashing_check_leaves_its_codes_not_checked_not_ok(shown):
    from k8srun.checks import pending

    rb = start()
    assert rb.check(pending.diagnose, pods=pd.DataFrame({"name": ["x"]}), containers=None, events=None,
                    nodes=None, node_usage=None, pvcs=None) == []
    table = rb.checks_table(pending.REQUIRES)
    assert set(table["status"]) == {"NOT CHECKED"}
    assert table["note"].str.startswith("check failed: internal error: KeyError").all()


def test_objects_that_cannot_be_tabled_are_missing_evidence(tmp_path, shown):
    """A malformed pod object: the pods table fails, so pod checks say NOT CHECKED, not OK."""
    from k8srun.checks import pending

    (tmp_path / "shop").mkdir()
    (tmp_path / "nodes.json").write_text('{"kind": "NodeList", "items": []}')
    (tmp_path / "shop" / "pods.json").write_text(json.dumps({"kind": "PodList", "items": [
        {"metadata": {"name": "web-0", "namespace": "shop"}, "spec": {"containers": "web"}}]}))
    rb = Session.start("pod-pending", source=str(tmp_path), namespace="shop", show=False)
    assert rb.pods().empty and "pods" in rb.missing_evidence
    assert "internal error" in rb.unavailable[-1].reason
    assert dict(zip(*rb.checks_table(pending.REQUIRES)[["code", "status"]].T.values))["PEND-001"] == "NOT CHECKED"


@pytest.mark.parametrize("pod, missing", [("no-such-pod", True), ("orders-db-0", False)])
def test_a_named_pod_that_is_not_there_is_said_and_not_checked(pod, missing, shown):
    from k8srun.checks import pending

    rb = start(pod=pod)
    rb.pods()
    table = dict(zip(*rb.checks_table(pending.REQUIRES)[["code", "status"]].T.values))
    assert ("pods" in rb.missing_evidence) is missing
    assert table["PEND-004"] == ("NOT CHECKED" if missing else "OK")
    assert table["PEND-006"] == "OK"  # needs nodes only
    if missing:
        assert rb.unavailable[-1].what == "pod shop/no-such-pod"


def test_other_namespaces_pods_forbidden_only_weakens_node_usage(shown):
    """Namespace-scoped RBAC: cluster-wide pods are forbidden; the namespace's pod checks still run."""
    from k8srun.checks import pending
    from k8srun.errors import SourceError
    from k8srun.sources.snapshot import SnapshotSource

    class NamespaceScoped(SnapshotSource):
        def list(self, resource, namespace=None):
            if resource == "pods" and namespace is None:
                raise SourceError('pods is forbidden: User "system:serviceaccount:shop:k8srun" cannot list '
                                  'resource "pods" in API group "" at the cluster scope')
            return super().list(resource, namespace)

    from k8srun.sources import scenarios_dir
    rb = Session("pod-pending", NamespaceScoped(scenarios_dir() / "pod-pending"), {"namespace": "shop"})
    usage = rb.node_usage()
    found = rb.check(pending.diagnose, pods=rb.pods(), containers=rb.containers(), events=rb.events(),
                     nodes=rb.nodes(), node_usage=usage, pvcs=rb.pvcs())
    assert usage.empty and "forbidden" in rb.unavailable[0].reason
    assert rb.missing_evidence == set()
    assert {"PEND-002", "PEND-004"} <= {f.code for f in found}


def test_tables_show_missing_exit_codes_as_blank_not_na():
    from k8srun.tables import html_table

    table = html_table(pd.DataFrame({"last_exit_code": pd.array([137, None], dtype="Int64")}))
    assert ">137<" in table and "NA" not in table


def test_rerunning_the_diagnosis_replaces_its_findings():
    from k8srun.session import diagnose_runbook

    rb = diagnose_runbook("pod-pending")
    first = [f.code for f in rb.findings]
    assert first
    rb.diagnose()
    assert [f.code for f in rb.findings] == first  # not appended twice


def test_a_new_focus_drops_the_old_namespaces_findings_and_missing_evidence():
    from k8srun.session import diagnose_runbook

    rb = diagnose_runbook("pod-pending", pod="no-such-pod")
    assert "pods" in rb.missing_evidence
    rb.focus("default", "")
    assert rb.findings == [] and not rb.missing_evidence and not rb.unavailable
    rb.diagnose()
    assert set(rb.checks_table()["status"]) == {"OK"}  # default has no pending pod: every check ran, none found


def test_session_start_validates_every_parameter_like_the_cli():
    with pytest.raises(ParameterError, match="has no such parameter"):
        Session.start("pod-pending", show=False, dest="10.0.0.1")
    with pytest.raises(ParameterError, match="parameter 'pod'"):
        Session.start("pod-pending", show=False, pod="Bad_Name")


def test_widgets_read_through_the_session_cache():
    rb = Session.start("pod-crashloop", show=False)
    rb.pods()
    assert rb.reader.list("pods", rb.namespace)  # read once (a bundle's frames do not hold whole objects) ...
    calls = []
    original = rb.source.list
    rb.source.list = lambda *a, **k: calls.append(a) or original(*a, **k)
    assert rb.reader.list("pods", rb.namespace)  # ... then cached: the source is not asked again
    assert calls == []


def test_what_a_capture_could_not_read_is_shown_and_makes_the_check_partial(tmp_path):
    """A 403 on one namespace during capture: that namespace's pods are missing, not "healthy"."""
    import shutil

    from bundles import write_bundle

    root = write_bundle(tmp_path / "b")
    info = json.loads((root / "k8srun.json").read_text())
    info["errors"] = [{"what": "pods in namespace shop", "error": "403 Forbidden: pods is forbidden"}]
    (root / "k8srun.json").write_text(json.dumps(info))
    shutil.rmtree(root / "shop", ignore_errors=True)
    (root / "shop").mkdir()
    (root / "shop" / "events.json").write_text('{"kind": "EventList", "items": []}')
    rb = Session.start("triage", source=str(root), show=False)
    rb.diagnose()
    assert any(u.what == "pods in namespace shop" and "403" in u.reason for u in rb.unavailable)
    row = rb.checks_table().iloc[0]
    assert row["status"] in ("FOUND", "PARTIAL") and "pods" in row["note"]


def test_every_pod_looked_at_gets_a_verdict_never_silence(tmp_path):
    """A Pending pod nothing explains reads NO CAUSE FOUND (with what to run), not absent from the report."""
    from factories import k8s_list, node, unscheduled

    root = tmp_path / "b"
    (root / "default").mkdir(parents=True)
    (root / "nodes.json").write_text(json.dumps(k8s_list("NodeList", [node("worker-1")])))
    (root / "default" / "pods.json").write_text(json.dumps(k8s_list("PodList", [unscheduled("mystery-0", "default")])))
    (root / "default" / "events.json").write_text(json.dumps(k8s_list("EventList", [])))
    rb = session_module.diagnose_runbook("pod-pending", source=str(root), namespace="default")
    verdicts = rb.verdicts().set_index("subject")
    row = verdicts.loc["pod default/mystery-0"]
    assert row["verdict"] == "NO CAUSE FOUND" and row["codes"] == ""
    assert "kubectl describe pod -n default mystery-0" in row["note"] or "could not run" in row["note"]
    found = session_module.diagnose_runbook("pod-pending").verdicts()
    assert set(found["verdict"]) == {"FOUND"} and len(found) == 6  # the scenario's six waiting pods


def test_a_named_context_that_pins_a_namespace_narrows_the_pod_runbooks_to_it(tmp_path):
    """Empty namespace on a live cluster: every namespace, unless the user named a context that pins one."""
    import yaml

    from k8srun.serve import serving
    from k8srun.serve.server import SNAPSHOT_USER

    with open_source("scenario:pod-crashloop") as snapshot, serving(snapshot) as (_, kubeconfig):
        config = yaml.safe_load(Path(kubeconfig).read_text())
        config["contexts"].append({"name": "pinned", "context": {**config["contexts"][0]["context"],
                                                                 "namespace": "kube-system"}})
        both = tmp_path / "kubeconfig"
        both.write_text(yaml.safe_dump(config))
        runs = {}
        for context in ("", "pinned", SNAPSHOT_USER):
            rb = Session.start("pod-crashloop", source="live", kubeconfig=str(both), context=context, show=False)
            runs[context] = rb.namespace
            rb.close()
    # the current context pins "default" but was not asked for: every namespace; a named one: its namespace
    assert runs == {"": None, "pinned": "kube-system", SNAPSHOT_USER: "default"}


def test_the_lab_as_source_needs_a_target_only_where_node_commands_run():
    from k8srun.errors import ParameterError
    from k8srun.sources import require_lab_target

    with_target, without = ["source", "target", "timeout_s"], ["source", "namespace", "timeout_s"]
    with pytest.raises(ParameterError, match="netns:k8l-pod-a, netns:k8l-node-a, netns:k8l-node-b"):
        require_lab_target(with_target, {"source": "lab", "target": ""})
    require_lab_target(with_target, {"source": "lab", "target": "netns:k8l-node-a"})
    require_lab_target(with_target, {"source": "scenario:dns", "target": ""})  # replays its recording
    require_lab_target(without, {"source": "lab"})  # pod-pending reads the API snapshot only
