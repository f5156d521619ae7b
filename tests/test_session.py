"""The notebook session: gathers that fail become visible rows, never crashes or false findings."""

from __future__ import annotations

import json

import pandas as pd
import pytest

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
    rb.findings.append(finding("PEND-001", "x"))
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
