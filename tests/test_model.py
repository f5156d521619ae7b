"""The finding-code catalogue is pinned: codes are never renamed or dropped."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from k8srun.errors import CatalogueError
from k8srun.model import Finding, Severity, catalogue, finding, findings_frame, parse_catalogue

# The contract (RUNBOOKS.md): code -> severity. Adding a code is fine; changing
# or removing one of these breaks users' scripts and must fail this test.
PINNED = {
    "PEND-001": "error", "PEND-002": "error", "PEND-003": "error", "PEND-004": "error",
    "PEND-005": "error", "PEND-006": "error",
    "CRASH-001": "error", "CRASH-002": "error", "CRASH-003": "error", "CRASH-004": "warning",
    "CRASH-005": "error", "CRASH-006": "error", "CRASH-007": "warning",
    "CP-001": "error", "CP-002": "critical", "CP-003": "error", "CP-004": "error", "CP-005": "error",
    "ETCD-001": "critical", "ETCD-002": "warning", "ETCD-003": "error", "ETCD-004": "error",
    "ETCD-005": "warning",
    "DNS-001": "error", "DNS-002": "warning", "DNS-003": "critical", "DNS-004": "error",
    "DNS-005": "critical", "DNS-006": "error",
    "SVC-001": "critical", "SVC-002": "error", "SVC-003": "critical", "SVC-004": "error",
    "SVC-005": "error", "SVC-006": "error", "SVC-007": "warning",
    "NET-001": "critical", "NET-002": "error", "NET-003": "error", "NET-004": "error", "NET-005": "error",
    "MTU-001": "error", "MTU-002": "warning",
    "TLS-001": "critical", "TLS-002": "critical", "TLS-003": "error", "TLS-004": "error",
    "TLS-005": "warning", "TLS-006": "critical",
    "ROUTE-001": "error", "ROUTE-002": "warning", "SYS-001": "error", "SYS-002": "error",
    "SYS-003": "warning",
    "FW-001": "error", "FW-002": "error", "FW-003": "warning",
    "CFG-001": "error", "CFG-002": "error", "CFG-003": "error",
    "NODE-001": "critical", "NODE-002": "error", "NODE-003": "warning", "NODE-004": "error",
    "TRIAGE-001": "warning",
}


def test_catalogue_keeps_every_pinned_code_and_severity():
    codes = catalogue()
    assert {c: str(codes[c].severity) for c in PINNED if c in codes} == PINNED
    assert set(PINNED) <= set(codes)


def test_catalogue_matches_runbooks_contract_when_present():
    contract = Path(__file__).resolve().parents[2] / "shared" / "RUNBOOKS.md"
    if not contract.exists():
        pytest.skip("../shared/RUNBOOKS.md not beside this checkout")
    rows = re.findall(r"^\| ([A-Z]+-\d{3}) \| (\w+) \|", contract.read_text(), re.M)
    assert rows, "no code rows found in RUNBOOKS.md"
    assert {code: sev for code, sev in rows} == {c: s for c, s in PINNED.items() if c != "TRIAGE-001"}


def test_every_entry_has_title_remedy_and_kubernetes_doc_link():
    for code, info in catalogue().items():
        assert re.fullmatch(r"[A-Z]+-\d{3}", code)
        assert info.title and info.remedy, code
        assert info.doc.startswith("https://"), code


@pytest.mark.parametrize("text, message", [
    ("- a list", "mapping"),
    ("X-001: {runbook: a, severity: error, title: t, remedy: r}", "keys"),
    ("X-001: {runbook: a, severity: fatal, title: t, remedy: r, doc: d}", "unknown severity"),
])
def test_bad_catalogue_is_rejected_with_a_reason(text, message):
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(text)


def test_finding_from_catalogue_round_trips_through_json():
    evidence = pd.DataFrame([{"node": "worker-1", "cpu_free": 0.25}])
    made = finding("PEND-001", "pod shop/a requests cpu 6", {"nodes": evidence, "message": "0/3 nodes"})
    assert made.severity is Severity.ERROR and made.runbook == "pod-pending"
    as_json = json.loads(json.dumps(made.to_dict()))
    assert as_json["evidence"]["nodes"] == [{"node": "worker-1", "cpu_free": 0.25}]
    assert Finding.from_dict(as_json) == made


def test_unknown_code_is_an_error():
    with pytest.raises(CatalogueError, match="unknown finding code"):
        finding("NOPE-001", "x")


def test_findings_frame_is_highest_severity_first():
    found = [finding("CRASH-004", "b"), finding("DNS-005", "a"), finding("PEND-001", "c")]
    assert list(findings_frame(found)["code"]) == ["DNS-005", "PEND-001", "CRASH-004"]
    assert Severity.parse("Critical") > Severity.parse("error") > Severity.WARNING > Severity.INFO


def test_evidence_is_strict_json_even_with_nan_numbers():
    """An OOMKilled container without a memory limit has NaN bytes: findings.json must stay valid JSON."""
    made = finding("CRASH-001", "no limit", {"memory_limit_bytes": float("nan"), "free": {"cpu": float("inf")}})
    assert made.evidence == {"memory_limit_bytes": None, "free": {"cpu": None}}
    json.dumps(made.to_dict(), allow_nan=False)


def test_skipped_rows_are_counted_apart_from_evidence_that_could_not_be_read():
    from k8srun.model import Unavailable, unavailable_counts

    rows = [Unavailable("pods", "live", "403 forbidden"), Unavailable("IPVS virtual servers", "netns:n", "iptables mode",
                                                                       skipped=True)]
    assert unavailable_counts(rows) == "; 1 evidence unavailable; 1 skipped"
    assert unavailable_counts(rows[1:]) == "; 1 skipped" and unavailable_counts([]) == ""
    assert rows[1].to_dict()["skipped"] is True
