"""node-notready: NODE-001..004 from real-format input, and their healthy counterparts.

- the kubelet journal: one hand-written fixture per cause in the real klog/journald formats
  (tests/fixtures/nodenotready/, see its README) -> NODE-002 naming that cause; a healthy journal
  (a kubelet start included) -> none; parsers fuzzed with hypothesis;
- Node objects (tests/factories.py) NotReady / Unknown / under pressure -> NODE-001 / NODE-003;
  healthy nodes -> none;
- certificate files made here with ``cryptography`` (expired, expiring, not yet valid, valid; the
  -current.pem with its private key inside) read by the real ``openssl x509`` on the ``local``
  target -> NODE-004 as appropriate; the key never reaches the report folder;
- this machine (no kubelet): the journal is an "evidence unavailable" row and NODE-002 NOT CHECKED;
- the default scenario replays its (hand-written) recording to all four codes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from k8srun import frames
from k8srun.checks import nodenotready as nn
from k8srun.errors import ParameterError, ParseError
from k8srun.parsers import kubelet_causes, kubelet_certs, kubelet_journal
from k8srun.session import REPORT_DIR_ENV, diagnose_runbook
from k8srun.sources import scenarios_dir

from factories import node

FIXTURES = Path(__file__).parent / "fixtures" / "nodenotready"
NOW = dt.datetime(2026, 11, 20, 14, 5, tzinfo=dt.timezone.utc)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: fixture -> the causes it shows (exactly)
CAUSES = {
    "runtime-down": {"runtime-down"},
    "pleg": {"pleg", "runtime-down"},  # the hung runtime's DeadlineExceeded comes first
    "cni": {"cni"},
    "cni-old": {"cni"},
    "swap": {"swap", "kubelet-exited"},
    "certificate": {"certificate"},
    "certificate-bootstrap": {"certificate", "kubelet-exited"},
    "evictions": {"evictions"},
    "evictions-short": {"evictions"},
    "lease": {"lease"},
    "healthy": set(),
}
NEEDS_OPENSSL = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def journal(name: str) -> pd.DataFrame:
    return kubelet_journal.frame((FIXTURES / f"{name}.journal").read_text())


# ------------------------------------------------------------------ journal parsers

@pytest.mark.parametrize("name", sorted(CAUSES))
def test_each_fixture_shows_exactly_its_causes(name):
    found = kubelet_causes.occurrences(journal(name), NOW)
    assert set(found["cause"]) == CAUSES[name]
    assert found["time"].notna().all()


def test_the_healthy_kubelet_start_is_not_a_pleg_cause():
    text = (FIXTURES / "healthy.journal").read_text()
    assert "PLEG is not healthy: pleg has yet to be successful" in text
    assert kubelet_causes.frame(text, NOW).empty


def test_pleg_and_eviction_details_are_read():
    pleg = kubelet_causes.summary(kubelet_causes.occurrences(journal("pleg"), NOW))
    assert pleg.set_index("cause").loc["pleg", "detail"] == "last relist 3m10.413290007s ago"
    for name in ("evictions", "evictions-short"):
        table = kubelet_causes.summary(kubelet_causes.occurrences(journal(name), NOW))
        assert table.set_index("cause").loc["evictions", "detail"] == "ephemeral-storage"


def test_summary_counts_first_last_and_what_is_still_active():
    frame = journal("runtime-down")
    table = nn.journal_causes(frame, NOW).set_index("cause")
    row = table.loc["runtime-down"]
    assert row["count"] == 7 and row["active"]
    assert row["first"] == pd.Timestamp("2026-11-20T13:20:01Z") and row["last"] == pd.Timestamp("2026-11-20T13:20:14Z")
    # the same lines followed by 11 quiet minutes: history, not a current cause
    later = kubelet_journal.frame((FIXTURES / "runtime-down.journal").read_text()
                                  + "2026-11-20T13:31:15+0000 worker-2 kubelet[1187]: I1120 13:31:15.000001    1187 "
                                    'kubelet.go:2437] "SyncLoop ADD" source="api" pods=["shop/web-1"]\n')
    assert not nn.journal_causes(later, NOW).set_index("cause").loc["runtime-down", "active"]
    assert nn.kubelet_failing(later, "worker-2", NOW) == []


def test_short_format_times_take_the_year_before_now():
    assert kubelet_causes.timestamp("Nov 20 09:28:14", NOW) == pd.Timestamp("2026-11-20T09:28:14Z")
    assert kubelet_causes.timestamp("Dec 31 23:59:59", NOW) == pd.Timestamp("2025-12-31T23:59:59Z")
    assert kubelet_causes.timestamp("2026-11-20T13:20:01+0100", NOW) == pd.Timestamp("2026-11-20T12:20:01Z")
    assert kubelet_causes.timestamp("Feb 30 00:00:00", NOW) is None


def test_the_journal_parser_keeps_an_indented_line_with_its_entry():
    rows = kubelet_journal.parse("2026-11-20T13:50:02+0000 worker-2 kubelet[2231]: first\n    second line\n")
    assert len(rows) == 1 and rows[0]["message"] == "first\nsecond line"
    with pytest.raises(ParseError):
        kubelet_journal.parse("    an indented line with nothing before it\n")


def test_lifecycle_tells_whether_the_kubelet_runs_at_the_end():
    assert nn.kubelet_state(journal("swap"), NOW)["state"] == "not running"
    assert nn.kubelet_state(journal("swap"), NOW)["exits"] == 4
    assert nn.kubelet_state(journal("healthy"), NOW)["state"] == "running"
    assert nn.kubelet_state(journal("pleg"), NOW)["state"] == "unknown"


@FUZZ
@given(text=st.text(max_size=400))
def test_cause_parser_on_arbitrary_text(text):
    try:
        found = kubelet_causes.frame(text, NOW)
    except ParseError:
        return
    assert list(found.columns) == kubelet_causes.OCCURRENCE_COLUMNS
    kubelet_causes.summary(found)


@FUZZ
@given(name=st.sampled_from(sorted(CAUSES)), cut=st.integers(0, 400), junk=st.text(max_size=30),
       at=st.integers(0, 30))
def test_cause_parser_on_mutated_fixtures(name, cut, junk, at):
    lines = (FIXTURES / f"{name}.journal").read_text().splitlines()
    at = at % len(lines)
    lines[at] = lines[at][:cut] + junk
    try:
        frame = kubelet_journal.frame("\n".join(lines))
    except ParseError:
        return
    table = nn.journal_causes(frame, NOW)
    assert set(table["cause"]) <= {c.id for c in kubelet_causes.CAUSES}
    nn.kubelet_failing(frame, "worker-2", NOW)


# ------------------------------------------------------------------ NODE-002

@pytest.mark.parametrize("name", sorted(n for n in CAUSES if n != "healthy"))
def test_each_cause_is_a_node_002_naming_it(name):
    found = nn.kubelet_failing(journal(name), "worker-2", NOW)
    assert found and {f.code for f in found} == {"NODE-002"}
    titles = {kubelet_causes.BY_ID[c].title for c in CAUSES[name] - {"kubelet-exited"}}
    details = " | ".join(f.detail for f in found)
    assert all(title in details for title in titles), details
    assert all(f.subject == "node/worker-2" for f in found)


def test_a_kubelet_that_exited_is_not_running():
    found = nn.kubelet_failing(journal("certificate-bootstrap"), "worker-2", NOW)
    assert any("kubelet on worker-2 is not running" in f.detail and "Failed with result" in f.detail for f in found)


def test_a_healthy_journal_gives_no_node_002():
    assert nn.kubelet_failing(journal("healthy"), "worker-2", NOW) == []


def test_a_journal_file_is_read_instead_of_the_target(tmp_path):
    rb = diagnose_runbook("node-notready", source="none", target="local", journal=str(FIXTURES / "pleg.journal"),
                          pki_dir=str(tmp_path))
    codes = {f.code for f in rb.findings}
    assert codes == {"NODE-002"}
    assert any("PLEG not healthy" in f.detail for f in rb.findings)
    assert "kubelet-journal" not in {r.command_id for r in rb.target.results}  # journalctl never ran
    healthy = diagnose_runbook("node-notready", source="none", target="local",
                               journal=str(FIXTURES / "healthy.journal"), pki_dir=str(tmp_path))
    assert healthy.findings == []
    assert healthy.checks_table().set_index("code").loc["NODE-002", "status"] == "OK"


# --------------------------------------------------------------- NODE-001, 003

def _frames(*objects):
    return frames.nodes_frame(objects), frames.node_conditions_frame(objects)


def test_not_ready_unknown_and_pressure_nodes():
    nodes, conditions = _frames(
        node("worker-1"),
        node("worker-2", ready="False", since="2026-11-20T13:21:41Z", heartbeat="2026-11-20T14:04:41Z",
             message="PLEG is not healthy: pleg was last seen active 3m0.4s ago; threshold is 3m0s"),
        node("worker-3", ready="Unknown", since="2026-11-20T13:58:00Z", heartbeat="2026-11-20T13:57:20Z"),
        node("worker-4", pressure=("DiskPressure", "PIDPressure"), since="2026-11-20T13:00:00Z"))
    found = nn.diagnose(nodes=nodes, conditions=conditions, journal=pd.DataFrame(columns=kubelet_journal.COLUMNS),
                        certs=pd.DataFrame(columns=kubelet_certs.COLUMNS), now=NOW)
    by = {(f.code, f.subject): f for f in found}
    assert set(by) == {("NODE-001", "node/worker-2"), ("NODE-001", "node/worker-3"), ("NODE-003", "node/worker-4")}
    two = by[("NODE-001", "node/worker-2")].detail
    assert "NotReady (Ready=False, KubeletNotReady: PLEG is not healthy" in two
    assert "for 43m (since 2026-11-20T13:21:41Z); last heartbeat 19s ago" in two
    three = by[("NODE-001", "node/worker-3")].detail
    assert "Unknown (Ready=Unknown, NodeStatusUnknown: Kubelet stopped posting node status.)" in three
    assert "last heartbeat 7m40s ago" in three
    four = by[("NODE-003", "node/worker-4")].detail
    assert "DiskPressure since 2026-11-20T13:00:00Z" in four and "PIDPressure" in four
    assert "MemoryPressure" not in four
    assert nn.subjects(nodes=nodes, conditions=conditions, journal=pd.DataFrame(), certs=pd.DataFrame()) == \
        ["node/worker-2", "node/worker-3", "node/worker-4"]


def test_healthy_nodes_give_nothing_and_a_named_node_is_looked_at():
    nodes, conditions = _frames(node("worker-1"), node("worker-2"))
    empty = {"journal": pd.DataFrame(columns=kubelet_journal.COLUMNS), "certs": pd.DataFrame(columns=kubelet_certs.COLUMNS)}
    assert nn.diagnose(nodes=nodes, conditions=conditions, now=NOW, **empty) == []
    assert nn.looked_at(nodes, conditions) == []
    assert nn.looked_at(nodes, conditions, "worker-2") == ["worker-2"]
    assert nn.looked_at(nodes, conditions, "worker-9") == []
    table = nn.readiness_table(nodes, conditions, ["worker-2"], NOW)
    assert table.iloc[0]["lease_renewed"] == "not read" and table.iloc[0]["pressure"] == "none"


def test_a_lease_renewal_is_shown_when_leases_are_read():
    nodes, conditions = _frames(node("worker-2", ready="Unknown"))
    lease = {"metadata": {"name": "worker-2", "namespace": "kube-node-lease"},
             "spec": {"holderIdentity": "worker-2", "leaseDurationSeconds": 40,
                      "renewTime": "2026-11-20T13:57:20.123456Z"}}
    table = nn.readiness_table(nodes, conditions, ["worker-2"], NOW, [lease])
    assert table.iloc[0]["lease_renewed"] == "7m39s ago"
    found = nn.node_not_ready(nodes, conditions, ["worker-2"], NOW, [lease])
    assert "lease renewed 7m39s ago" in found[0].detail


# ------------------------------------------------------------------ NODE-004

def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(path: Path, cn: str, not_before: dt.datetime, not_after: dt.datetime, *, with_key: bool = False) -> str:
    """Write a self-signed EC certificate (and, with_key, its private key after it, as the kubelet does); returns
    the key's PEM body line used to look for leaks."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name("kubernetes"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(not_before).not_valid_after(not_after).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    path.write_text(cert.public_bytes(serialization.Encoding.PEM).decode() + (key_pem if with_key else ""))
    return key_pem.splitlines()[1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A pki folder: an expired client -current.pem (key inside), a valid kubelet.crt. Real now: openssl reads them."""
    folder = tmp_path_factory.mktemp("pki")
    now = dt.datetime.now(dt.timezone.utc)
    key_line = make_cert(folder / "kubelet-client-current.pem", "system:node:worker-2",
                         now - dt.timedelta(days=366), now - dt.timedelta(days=1), with_key=True)
    make_cert(folder / "kubelet.crt", "worker-2@1", now - dt.timedelta(days=10), now + dt.timedelta(days=355))
    return folder, key_line


def _cert_rows(folder: Path) -> pd.DataFrame:
    rows = []
    for name in nn.CERT_FILES:
        path = folder / name
        if path.exists():
            rows.append(kubelet_certs.certificate_row(str(path), path.read_text()))
        else:
            rows.append(kubelet_certs.missing_row(str(path)))
    return pd.DataFrame(rows, columns=kubelet_certs.COLUMNS)


def test_certificate_states(tmp_path):
    now = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    day = dt.timedelta(days=1)
    cases = {"expired": (now - 366 * day, now - day), "expiring (rotation missed)": (now - 350 * day, now + 15 * day),
             "not yet valid": (now + day, now + 365 * day), "valid": (now - 100 * day, now + 265 * day)}
    for state, (start, end) in cases.items():
        folder = tmp_path / state.split()[0]
        folder.mkdir()
        make_cert(folder / "kubelet-client-current.pem", "system:node:worker-2", start, end, with_key=True)
        certs = _cert_rows(folder)
        table = nn.certificate_table(certs, now)
        assert list(table["state"]) == [state]
        found = nn.certificate_problems(certs, "worker-2", now)
        if state == "valid":
            assert found == []
        else:
            assert [f.code for f in found] == ["NODE-004"]
            assert str(found[0].severity) == ("warning" if state.startswith("expiring") else "error")
            assert "kubelet-client-current.pem" in found[0].detail and found[0].subject == "node/worker-2"


def test_an_old_kubelet_crt_is_not_judged_when_serving_certificates_rotate(tmp_path):
    now = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
    day = dt.timedelta(days=1)
    make_cert(tmp_path / "kubelet.crt", "worker-2@1", now - 400 * day, now - 35 * day)
    make_cert(tmp_path / "kubelet-server-current.pem", "system:node:worker-2", now - 10 * day, now + 355 * day,
              with_key=True)
    make_cert(tmp_path / "kubelet-client-current.pem", "system:node:worker-2", now - 10 * day, now + 355 * day,
              with_key=True)
    certs = _cert_rows(tmp_path)
    assert nn.certificate_problems(certs, "worker-2", now) == []
    assert "not in use" in nn.certificate_table(certs, now).set_index("file").loc[str(tmp_path / "kubelet.crt"), "state"]
    (tmp_path / "kubelet-server-current.pem").unlink()
    assert [f.code for f in nn.certificate_problems(_cert_rows(tmp_path), "worker-2", now)] == ["NODE-004"]


def test_private_keys_are_dropped_before_parsing(tmp_path):
    key_line = make_cert(tmp_path / "both.pem", "x", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
                         dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc), with_key=True)
    text = (tmp_path / "both.pem").read_text()
    stripped = kubelet_certs.strip_private_keys(text)
    assert "PRIVATE KEY" not in stripped and key_line not in stripped and "BEGIN CERTIFICATE" in stripped
    # a key first, unterminated, or PKCS#8: gone too
    assert kubelet_certs.strip_private_keys("-----BEGIN PRIVATE KEY-----\nMIIE\n") == ""
    assert "secret" not in kubelet_certs.strip_private_keys(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nsecret\n-----END ENCRYPTED PRIVATE KEY-----\nrest")
    with pytest.raises(ParseError):
        kubelet_certs.certificate_row("/k.pem", text.split("-----BEGIN EC PRIVATE KEY")[0].replace("CERTIFICATE", "X"))


@FUZZ
@given(before=st.text(max_size=60), inside=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/=\n",
                                                    max_size=80), after=st.text(max_size=60),
       kind=st.sampled_from(["", "RSA ", "EC ", "ENCRYPTED "]), closed=st.booleans())
def test_no_key_body_survives_stripping(before, inside, after, kind, closed):
    assume("KEYBODY" not in before + after)
    block = f"-----BEGIN {kind}PRIVATE KEY-----\nKEYBODY{inside}\n" + (f"-----END {kind}PRIVATE KEY-----" if closed else "")
    out = kubelet_certs.strip_private_keys(before + block + (after if closed else ""))
    assert "KEYBODY" not in out
    try:
        kubelet_certs.certificate_row("/x.pem", before + block)
    except ParseError:
        pass


# ---------------------------------------------------- this machine, end to end

@NEEDS_OPENSSL
def test_on_this_machine_no_journal_is_unavailable_and_no_key_reaches_the_report(pki, tmp_path):
    """`k8srun run` on local: no kubelet here (NODE-002 NOT CHECKED, a row, no traceback); the pki folder's expired
    client certificate is NODE-004, and its private key is nowhere in the report folder."""
    folder, key_line = pki
    report = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "k8srun.cli", "run", "node-notready", "-p", "source", "none",
                           "-p", "target", "local", "-p", "pki_dir", str(folder), "--out", str(report),
                           "--no-progress"], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    findings = json.loads((report / "node-notready.findings.json").read_text())
    assert [f["code"] for f in findings["findings"]] == ["NODE-004"]
    assert sorted(c["code"] for c in findings["not_checked"]) == ["NODE-001", "NODE-002", "NODE-003"]
    unavailable = " ".join(u["what"] + " " + u["reason"] for u in findings["unavailable"])
    assert "kubelet journal" in unavailable and "no entries for the kubelet unit" in unavailable
    notebook = (report / "node-notready.ipynb").read_text()
    assert "Traceback" not in notebook and '"output_type": "error"' not in notebook
    for path in report.rglob("*"):
        if path.is_file():
            content = path.read_text(errors="replace")
            assert "PRIVATE KEY" not in content and key_line not in content, path
    assert (report / "hosts").is_dir()


@NEEDS_OPENSSL
def test_the_report_folder_replays(pki, tmp_path, monkeypatch):
    folder, _ = pki
    report = tmp_path / "report"
    monkeypatch.setenv(REPORT_DIR_ENV, str(report))
    live = diagnose_runbook("node-notready", source="none", target="local", pki_dir=str(folder),
                            journal=str(FIXTURES / "swap.journal"))
    monkeypatch.delenv(REPORT_DIR_ENV)
    replay = diagnose_runbook("node-notready", source=str(report), journal=str(FIXTURES / "swap.journal"))
    assert sorted(f.code for f in replay.findings) == sorted(f.code for f in live.findings) \
        == ["NODE-002", "NODE-002", "NODE-004"]


# ------------------------------------------------------------ the scenario

def test_the_default_scenario_tells_the_story():
    rb = diagnose_runbook("node-notready")
    found = {(f.code, str(f.severity)) for f in rb.findings}
    assert found == {("NODE-001", "critical"), ("NODE-002", "error"), ("NODE-003", "warning"), ("NODE-004", "warning")}
    causes = sorted(f.evidence["cause"] for f in rb.findings if f.code == "NODE-002")
    assert causes == ["certificate", "evictions", "pleg", "runtime-down"]
    assert list(rb.verdicts()["subject"]) == ["node/worker-2"]
    recorded = json.loads((scenarios_dir() / "node-notready" / "k8srun.json").read_text())["recorded"]
    assert "hand-written" in recorded["from"]
    assert sorted({r.command_id for r in rb.target.results}) == recorded["commands"]
    assert sorted({f.code for f in rb.findings}) == recorded["findings"]


def test_a_healthy_cluster_without_node_outputs():
    rb = diagnose_runbook("node-notready", source="scenario:healthy")
    assert rb.findings == []
    status = rb.checks_table().set_index("code")["status"].to_dict()
    assert status == {"NODE-001": "OK", "NODE-002": "NOT CHECKED", "NODE-003": "OK", "NODE-004": "NOT CHECKED"}


def test_a_named_node_that_does_not_exist_is_not_checked():
    rb = diagnose_runbook("node-notready", node="worker-9")
    status = rb.checks_table().set_index("code")["status"]
    assert status["NODE-001"] == status["NODE-003"] == "NOT CHECKED"
    assert any(u.what == "node worker-9" for u in rb.unavailable)


def test_the_timeline_puts_conditions_and_causes_on_one_axis():
    rb = diagnose_runbook("node-notready")
    evidence = nn.gather(rb)
    causes = nn.journal_causes(evidence["journal"], evidence["now"])
    svg = str(nn.timeline(evidence["conditions"], causes, ["worker-2"], evidence["now"]))
    labels = re.findall(r"class='lane (\w+)' data-label='([^']*)'", svg)
    assert ("condition", "worker-2 Ready=False") in labels and ("condition", "worker-2 DiskPressure=True") in labels
    assert {label.rsplit(" (", 1)[0] for kind, label in labels if kind == "cause"} == {
        "container runtime down", "PLEG not healthy", "certificate expired / rotation failed",
        "evictions (node pressure)"}
    assert "class='now'" in svg
    assert "no dated" in str(nn.timeline(pd.DataFrame(), pd.DataFrame(), [], NOW))


# ------------------------------------------------------------- parameters

def test_parameters_are_validated(tmp_path):
    book = nn.RUNBOOK
    with pytest.raises(ParameterError):
        book.validate({"journal": str(tmp_path / "missing.log")})
    with pytest.raises(ParameterError):
        book.validate({"pki_dir": "relative/pki"})
    with pytest.raises(ParameterError):
        book.validate({"pki_dir": "/var/lib/../../etc"})
    with pytest.raises(ParameterError):
        book.validate({"node": "Worker_2"})
    assert book.validate({"pki_dir": "/etc/kubernetes/pki/"})["pki_dir"] == "/etc/kubernetes/pki"
    assert nn.SELF_SIGNED_CERT.build({"pki_dir": "/x"}) == \
        ("kubelet-cert-kubelet-crt", ("openssl", "x509", "-in", "/x/kubelet.crt"))
    assert [c.build({})[1][-1] for c in nn.CERT_COMMANDS] == [f"{nn.PKI_DIR}/{f}" for f in nn.CERT_FILES]


def test_a_capture_with_the_journal_only_checks_what_it_holds(tmp_path):
    """`k8srun capture --nodes` records the shared kubelet-journal fact, not the certificate reads: a bundle like that
    replays NODE-001..003 and says NODE-004 NOT CHECKED."""
    bundle = tmp_path / "bundle"
    shutil.copytree(scenarios_dir() / "node-notready", bundle)
    for path in (bundle / "hosts" / "worker-2").glob("kubelet-cert-*"):
        path.unlink()
    rb = diagnose_runbook("node-notready", source=str(bundle))
    assert sorted({f.code for f in rb.findings}) == ["NODE-001", "NODE-002", "NODE-003"]
    assert rb.checks_table().set_index("code").loc["NODE-004", "status"] == "NOT CHECKED"


def test_triage_opens_this_runbook_on_its_notready_node():
    """The triage scenario's lost worker-3: triage names node-notready with node=worker-3, which then finds NODE-001
    (no node outputs in that bundle: NODE-002/004 NOT CHECKED, never OK)."""
    triage = diagnose_runbook("triage", source="scenario:triage")
    routed = [f.evidence["parameters"] for f in triage.findings if f.evidence.get("runbook") == "node-notready"]
    assert {"node": "worker-3"} in routed
    rb = diagnose_runbook("node-notready", source="scenario:triage", node="worker-3")
    assert [(f.code, f.subject) for f in rb.findings] == [("NODE-001", "node/worker-3")]
    assert "Unknown (Ready=Unknown, NodeStatusUnknown" in rb.findings[0].detail
    status = rb.checks_table().set_index("code")["status"]
    assert (status["NODE-002"], status["NODE-004"]) == ("NOT CHECKED", "NOT CHECKED")


def test_the_scenario_reads_the_node_leases_renewal():
    """kube-node-lease Leases are in the bundle: NODE-001 shows when the kubelet last renewed its lease."""
    rb = diagnose_runbook("node-notready")
    [ready] = [f for f in rb.findings if f.code == "NODE-001"]
    assert ready.evidence["readiness"]["lease_renewed"].endswith(" ago")
    assert not [u for u in rb.unavailable if "lease" in u.what]
