"""control-plane: parsers on real captured output (+ fuzz), the kubeconfig probe on real files, the recorded
scenario offline, and every code from the lab's real control plane (3 etcd members, the HTTPS API-server
stand-in, a loop-mounted disk) with its faults applied through the CLI; nothing left behind by ``lab down``."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun.checks import controlplane as cp
from k8srun.errors import ParameterError, ParseError
from k8srun.parsers import controlplane as cpp
from k8srun.session import diagnose_runbook

FIXTURES = Path(__file__).parent / "fixtures" / "controlplane"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
K8SRUN = [sys.executable, "-m", "k8srun.cli"]
CP_CODES = ["CP-001", "CP-002", "CP-003", "CP-004", "CP-005"]
ETCD_CODES = ["ETCD-001", "ETCD-002", "ETCD-003", "ETCD-004", "ETCD-005"]


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def codes(rb) -> set[str]:
    return {f.code for f in rb.findings}


# ------------------------------------------------------------------ parsers on real output

def test_health_checks_of_a_failing_readyz():
    answer = cpp.apiserver_answer(fixture("apiserver--readyz-etcd-failed.out")).iloc[0]
    assert answer["status"] == 500 and answer["content_type"].startswith("text/plain")
    checks = cpp.health_checks(answer["body"])
    assert list(checks[~checks["ok"]]["check"]) == ["etcd", "etcd-readiness"]
    assert set(checks[~checks["ok"]]["detail"]) == {"failed: reason withheld"}
    assert checks["ok"].sum() == len(checks) - 2 and "poststarthook/rbac/bootstrap-roles" in set(checks["check"])
    ok = cpp.health_checks(cpp.apiserver_answer(fixture("apiserver--readyz-ok.out")).iloc[0]["body"])
    assert ok["ok"].all() and len(ok) == len(checks)
    with pytest.raises(ParseError):
        cpp.health_checks("<html>not a health answer</html>")


def test_status_bodies_of_401_and_403():
    unauthorized = cpp.apiserver_answer(fixture("apiserver--pods-401.out")).iloc[0]
    assert (unauthorized["status"], unauthorized["status_reason"]) == (401, "Unauthorized")
    forbidden = cpp.apiserver_answer(fixture("apiserver--pods-403.out")).iloc[0]
    assert (forbidden["status"], forbidden["status_reason"]) == (403, "Forbidden")
    assert forbidden["status_message"] == ('pods is forbidden: User "lab-admin" cannot list resource "pods" in API '
                                           'group "" in the namespace "kube-system"')
    refused = cpp.apiserver_answer(fixture("apiserver--refused.out")).iloc[0]
    assert (refused["outcome"], refused["stage"], refused["status"]) == ("refused", "connect", None)


def test_etcdctl_outputs():
    health = cpp.etcd_health_text(fixture("etcd-health--dead.out"), fixture("etcd-health--dead.err"))
    assert health.iloc[0][["endpoint", "health", "error"]].tolist() == ["http://127.0.10.2:2379", False,
                                                                        "context deadline exceeded"]
    assert cpp.etcd_health_text(fixture("etcd-health--ok.out"))["health"].tolist() == [True]
    dead = cpp.etcd_status_text(fixture("etcd-status--dead.out"), fixture("etcd-status--dead.err"))
    assert dead.iloc[0]["endpoint"] == "http://127.0.10.2:2379" and dead.iloc[0]["error"] == "context deadline exceeded"
    assert pd.isna(dead.iloc[0]["db_size"])
    status = cpp.etcd_status_text(fixture("etcd-status--ok.out")).iloc[0]
    assert status["is_leader"] == (status["member_id"] == status["leader_id"]) and status["raft_term"] >= 2
    assert status["member_id"] == format(459949135415740653, "x")  # uint64 ids kept exact, shown in hex
    near = cpp.etcd_status_text(fixture("etcd-status--near-quota.out")).iloc[0]
    assert near["db_size"] >= 0.8 * 8 * 2 ** 20
    assert len(cpp.etcd_members(fixture("etcd-members--three.out"))) == 3
    four = cpp.etcd_members(fixture("etcd-members--four.out"))
    assert sorted(four["name"]) == ["etcd-1", "etcd-2", "etcd-3", "etcd-4"] and not four["is_learner"].any()


def test_prometheus_and_metrics_probe():
    samples = cpp.prometheus_samples(fixture("prometheus--etcd.out"))
    changes = samples[samples["name"] == "etcd_server_leader_changes_seen_total"]
    assert changes["value"].tolist() == [1.0]
    buckets = samples[samples["name"] == "etcd_disk_wal_fsync_duration_seconds_bucket"]
    assert "le=+Inf" in set(buckets["labels"])
    metrics = cpp.etcd_metrics(fixture("etcd-metrics--member-down.out"))
    assert metrics.attrs["window_s"] == 0.5 and set(metrics["read"]) == {1, 2}
    down = metrics[metrics["endpoint"] == "http://127.0.10.2:2379"]
    assert down["name"].isna().all() and down["error"].notna().all()
    with pytest.raises(ParseError):
        cpp.prometheus_samples('etcd_up{job="x} 1\n')


def test_kubeconfig_view_fixtures():
    lab = cpp.kubeconfig_view(fixture("kubeconfig-view--lab.out")).iloc[0]
    assert (lab["auth"], lab["ca"], lab["scheme"], lab["error"], lab["server_error"]) == ("token", "data", "https",
                                                                                         None, None)
    http = cpp.kubeconfig_view(fixture("kubeconfig-view--http.out")).iloc[0]
    assert http["scheme"] == "http" and "https:// is expected" in http["server_error"]


TEXT_PARSERS = {"kubeconfig-view": cpp.kubeconfig_view, "apiserver": cpp.apiserver_answer,
                "health": cpp.health_checks, "etcd-health": cpp.etcd_health_text, "etcd-status": cpp.etcd_status_text,
                "etcd-members": cpp.etcd_members, "prometheus": cpp.prometheus_samples,
                "etcd-metrics": cpp.etcd_metrics}
FIXTURE_OF = {"kubeconfig-view": "kubeconfig-view--lab.out", "apiserver": "apiserver--readyz-etcd-failed.out",
              "health": None, "etcd-health": "etcd-health--dead.out", "etcd-status": "etcd-status--ok.out",
              "etcd-members": "etcd-members--four.out", "prometheus": "prometheus--etcd.out",
              "etcd-metrics": "etcd-metrics--healthy.out"}


def frame_or_refusal(name: str, text: str) -> None:
    try:
        frame = TEXT_PARSERS[name](text)
    except ParseError:
        return
    assert isinstance(frame, pd.DataFrame)


@pytest.mark.parametrize("name", sorted(TEXT_PARSERS))
@FUZZ
@given(text=st.text(max_size=300))
def test_parsers_take_any_text(name, text):
    frame_or_refusal(name, text)


@pytest.mark.parametrize("name", sorted(n for n, f in FIXTURE_OF.items() if f))
@FUZZ
@given(data=st.data())
def test_parsers_take_mangled_real_output(name, data):
    text = fixture(FIXTURE_OF[name])
    at = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 40))
    frame_or_refusal(name, text[:at] + data.draw(st.text(max_size=12)) + text[at + cut:])


@FUZZ
@given(lines=st.lists(st.tuples(st.booleans(), st.from_regex(r"[a-z][a-z0-9/_-]{0,30}", fullmatch=True)), max_size=12))
def test_health_checks_round_trip(lines):
    body = "".join(f"[+]{n} ok\n" if ok else f"[-]{n} failed: reason withheld\n" for ok, n in lines) + "readyz check passed\n"
    checks = cpp.health_checks(body)
    assert list(zip(checks["ok"], checks["check"])) == list(lines)


# ------------------------------------------------------------------ parameters and pure checks

def test_parameters_are_validated():
    assert cp.etcd_endpoint_list("e", "http://10.0.0.1:2379, https://etcd-0.etcd:2379") == [
        "http://10.0.0.1:2379", "https://etcd-0.etcd:2379"]
    for bad in ("10.0.0.1:2379", "http://10.0.0.1", "http://h:2379/x", "file:///etc/passwd", "http://a;b:1"):
        with pytest.raises(ParameterError, match="e"):
            cp.etcd_endpoint_list("e", bad)
    assert cp.fio_size("s", "22M") == "22m"
    for bad in ("0", "22x", "2g", "1k", "-1m"):
        with pytest.raises(ParameterError):
            cp.fio_size("s", bad)
    for bad in ("relative/dir", "/var/../etc", "/a\nb"):
        with pytest.raises(ParameterError):
            cp.absolute_path("d", bad)
    with pytest.raises(ParameterError):
        cp.threshold("t", -1)


def _metrics(*reads: tuple[int, float | None, float]) -> pd.DataFrame:
    rows = []
    for read, changes, started in reads:
        if changes is not None:
            rows.append({"endpoint": "e", "read": read, "name": "etcd_server_leader_changes_seen_total",
                         "labels": "", "value": changes})
        rows.append({"endpoint": "e", "read": read, "name": "process_start_time_seconds", "labels": "", "value": started})
    return pd.DataFrame(rows, columns=cpp.METRIC_COLUMNS)


def test_leader_changes_count_a_restart_as_prometheus_increase_does():
    assert cp.leader_changes(_metrics((1, 1, 100), (2, 4, 100)))["changes"].tolist() == [3]
    restarted = cp.leader_changes(_metrics((1, 5, 100), (2, 2, 150))).iloc[0]
    assert restarted["restarted"] and restarted["changes"] == 2
    assert cp.leader_churn(_metrics((1, 1, 100), (2, 1, 100)), 0) == []
    assert [f.code for f in cp.leader_churn(_metrics((1, 1, 100), (2, 3, 100)), 1)] == ["ETCD-003"]
    assert pd.isna(cp.leader_changes(_metrics((1, 1, 100), (2, None, 100)))["changes"].iloc[0])


# ------------------------------------------------------------------ the kubeconfig probe on real files

def _cert(days: int) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jane"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "system:masters")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def kubeconfig(path: Path, *, server: str = "https://127.0.10.100:6443", user: dict | None = None,
               context: str = "c", ca: bytes | None = None, current: str = "c") -> Path:
    cluster = {"server": server}
    if ca:
        cluster["certificate-authority-data"] = base64.b64encode(ca).decode()
    document = {"apiVersion": "v1", "kind": "Config", "current-context": current,
                "clusters": [{"name": "k", "cluster": cluster}],
                "users": [{"name": "u", "user": user if user is not None else {"token": "t0ken-value-123456"}}],
                "contexts": [{"name": context, "context": {"cluster": "k", "user": "u"}}]}
    path.write_text(yaml.safe_dump(document))
    return path


def view_of(path: Path, context: str = "") -> dict:
    from k8srun.probes.kubeconfig import load

    return load(str(path), context).view


def test_kubeconfig_auth_types_and_expiry_never_show_a_secret(tmp_path):
    cert, key = _cert(-1)
    users = {"client-cert": {"client-certificate-data": base64.b64encode(cert).decode(),
                             "client-key-data": base64.b64encode(key).decode()},
             "basic": {"username": "admin", "password": "hunter2-secret-pw"},
             "exec": {"exec": {"command": "/usr/bin/aws-iam-authenticator", "args": ["token", "--secret-arg"],
                               "apiVersion": "client.authentication.k8s.io/v1beta1"}},
             "oidc": {"auth-provider": {"name": "oidc", "config": {"id-token": "eyJhbGciOi.secret.idtoken"}}},
             "token": {"token": "t0ken-value-123456"}, "none": {}}
    for auth, user in users.items():
        view = view_of(kubeconfig(tmp_path / f"{auth}.yaml", user=user))
        assert view["auth"] == auth and view["error"] is None
        shown = json.dumps(view)
        for secret in ("hunter2-secret-pw", "--secret-arg", "secret.idtoken", "t0ken-value-123456",
                       base64.b64encode(key).decode()[:40], "PRIVATE KEY"):
            assert secret not in shown
    expired = view_of(tmp_path / "client-cert.yaml")
    assert expired["client_cert_expired"] is True and expired["client_cert_subject"] == "O=system:masters,CN=jane"
    found = cp.authentication_failed(cpp.kubeconfig_view(json.dumps(expired)), pd.DataFrame(columns=["status"]))
    assert [f.code for f in found] == ["CP-003"] and "expired" in found[0].detail
    fresh = view_of(kubeconfig(tmp_path / "fresh.yaml", user={"client-certificate-data": base64.b64encode(
        _cert(30)[0]).decode(), "client-key-data": base64.b64encode(key).decode()}))
    assert fresh["client_cert_expired"] is False
    assert cp.authentication_failed(cpp.kubeconfig_view(json.dumps(fresh)), pd.DataFrame(columns=["status"])) == []


@pytest.mark.parametrize("case, problem", [
    ("missing-file", "no such file"), ("missing-context", "context 'other' not found"),
    ("missing-user", "user 'u' of context"), ("bad-url", "unparsable server URL"),
    ("http", "https:// is expected"), ("no-current", "no current-context"), ("not-yaml", "unreadable")])
def test_kubeconfig_unusable_is_cp001(tmp_path, case, problem):
    path = tmp_path / "config"
    if case == "missing-context":
        kubeconfig(path, current="other")
    elif case == "missing-user":
        kubeconfig(path)
        path.write_text(path.read_text().replace("name: u\n", "name: someone-else\n"))
    elif case == "bad-url":
        kubeconfig(path, server="https://[::1:6443")
    elif case == "http":
        kubeconfig(path, server="http://127.0.10.100:6443")
    elif case == "no-current":
        kubeconfig(path, current="")
    elif case == "not-yaml":
        path.write_text("apiVersion: v1\nclusters: [\n")
    found = cp.kubeconfig_unusable(cpp.kubeconfig_view(json.dumps(view_of(path))))
    assert [f.code for f in found] == ["CP-001"] and problem in found[0].detail
    good = kubeconfig(tmp_path / "good")
    assert cp.kubeconfig_unusable(cpp.kubeconfig_view(json.dumps(view_of(good)))) == []


# ------------------------------------------------------------------ the recorded scenario, offline

def test_default_scenario_replays_offline():
    rb = diagnose_runbook("control-plane")
    assert {"ETCD-003", "ETCD-004"} <= codes(rb) and not codes(rb) & {"CP-001", "CP-002", "CP-003", "CP-004",
                                                                       "ETCD-002", "ETCD-005"}
    statuses = dict(zip(rb.checks_table()["code"], rb.checks_table()["status"]))
    assert all(statuses[c] == "OK" for c in ("CP-001", "CP-002", "CP-003", "CP-004", "CP-005", "ETCD-002"))
    # a member caught restarting gives no /metrics: its quota and counter are missing, the others' are judged
    unread = cp.leader_changes(rb._evidence["metrics"])["changes"].isna().any()
    assert statuses["ETCD-005"] == ("PARTIAL" if unread else "OK")
    assert ("etcd leader changes" in {u.what for u in rb.unavailable}) == unread
    slow = next(f for f in rb.findings if f.code == "ETCD-004")
    assert slow.evidence["fsync_p99_ms"] > 10
    chart = str(cp.fsync_chart(rb._evidence["fsync"]))
    assert "class='limit' data-ms='10'" in chart and "class='p99' data-ms=" in chart
    assert chart.count("class='percentile'") == len(cp.fsync_table(rb._evidence["fsync"]))


def test_static_pods_of_the_source_name_etcd_and_its_data_dir():
    from k8srun.session import Session

    rb = Session.start("control-plane", source="scenario:healthy", show=False)
    pods = cp.static_pods(rb)
    assert sorted(p["metadata"]["name"] for p in pods) == ["etcd-cp-1", "kube-apiserver-cp-1"]
    assert (cp.etcd_endpoints(rb, pods), cp.data_dir(rb, pods)) == (["https://10.0.0.10:2379"], "/var/lib/etcd")
    table = cp.static_pod_table(rb, pods)
    assert set(table["state"]) == {"running"} and table["last_log_lines"].str.len().min() > 0
    rb.diagnose()  # a bundle without node outputs: every code NOT CHECKED, never OK
    assert set(rb.checks_table()["status"]) == {"NOT CHECKED"}


def test_source_none_without_etcd_or_data_dir_is_not_checked(tmp_path):
    rb = diagnose_runbook("control-plane", source="none", kubeconfig=str(tmp_path / "absent"), timeout_s=2)
    statuses = dict(zip(rb.checks_table()["code"], rb.checks_table()["status"]))
    assert codes(rb) == {"CP-001"}
    assert all(statuses[c] == "NOT CHECKED" for c in [*ETCD_CODES, "CP-002", "CP-003", "CP-004", "CP-005"])
    assert {"etcd", "fio fdatasync test"} <= {u.what for u in rb.unavailable}


# ------------------------------------------------------------------ the lab's control plane

@pytest.fixture(scope="module")
def control_plane(tmp_path_factory):
    """The lab's control plane, fresh, for this module (the lab's machine-wide lock held); always taken down."""
    from k8srun.lab import controlplane as lab

    if os.geteuid() != 0:
        pytest.skip("the lab's control plane needs root (loop device, mount, blkio)")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("K8SRUN_LAB_DIR", str(tmp_path_factory.mktemp("cp") / "state"))
        with lab.control_plane_session() as state:
            yield {"state": state, "kubeconfig": str(lab.kubeconfig_path()), "endpoints": lab.endpoints(),
                   "data_dir": str(lab.data_dir(lab.SLOW_MEMBER)), "dir": lab.cp_dir()}


def lab_cli(*args: str) -> str:
    done = subprocess.run([*K8SRUN, "lab", *args], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    return done.stdout


def run_lab(lab: dict, *, fio: bool = False, etcd: bool = True, **values):
    values = {"source": "none", "kubeconfig": lab["kubeconfig"], "etcd_endpoints": lab["endpoints"] if etcd else [],
              "leader_window_s": 0, "fio_size": "40k", "timeout_s": 5,
              **({"etcd_data_dir": lab["data_dir"]} if fio else {}), **values}
    return diagnose_runbook("control-plane", **values)


def test_healthy_control_plane_has_no_finding(control_plane):
    # ~230 fsyncs, so p99 is not one outlier. The loop device's kernel threads share two CPUs with the other
    # test workers: a fsync can wait >10 ms for a CPU under load, so a lone ETCD-004 is measured again (at most
    # three times); the throttled disk is 25-1000 ms every time.
    for _ in range(3):
        rb = run_lab(control_plane, fio=True, leader_window_s=1, fio_size="512k")
        if codes(rb) != {"ETCD-004"}:
            break
    assert codes(rb) == set()
    assert set(rb.checks_table()["status"]) == {"OK"}
    members = cp.etcd_members_table(rb._evidence["health"], rb._evidence["status"], rb._evidence["metrics"])
    assert members["healthy"].all() and members["is_leader"].sum() == 1 and (members["quota"] == 2 ** 31).all()
    assert not list(Path(control_plane["data_dir"]).glob("k8srun-etcd-fsync*"))  # fio's file removed


@pytest.mark.parametrize("fault, code, values", [
    ("etcd-member-down", "ETCD-001", {}),
    ("etcd-even-members", "ETCD-002", {}),
    ("etcd-db-near-quota", "ETCD-005", {}),
    ("apiserver-etcd-unready", "CP-005", {"etcd": False}),
    ("apiserver-unauthorized", "CP-003", {"etcd": False}),
    ("apiserver-forbidden", "CP-004", {"etcd": False}),
    ("kubeconfig-bad-server", "CP-001", {"etcd": False}),
])
def test_each_fault_through_the_cli_gives_its_code(control_plane, fault, code, values):
    assert code in lab_cli("break", fault)
    try:
        rb = run_lab(control_plane, **values)
    finally:
        lab_cli("fix", fault)
    assert codes(rb) == {code}, [f.detail for f in rb.findings]
    detail = rb.findings[0].detail
    expected = {"ETCD-001": "127.0.10.2:2379", "ETCD-002": "4 voting members", "ETCD-005": "of its 8 MiB quota",
                "CP-005": "failing checks: etcd, etcd-readiness", "CP-003": "401 Unauthorized",
                "CP-004": 'User "lab-admin" cannot list resource "pods"', "CP-001": "https:// is expected"}[code]
    assert expected in detail


def test_slow_disk_raises_etcd004_with_the_measured_p99(control_plane):
    lab_cli("break", "etcd-slow-disk")
    try:
        rb = run_lab(control_plane, fio=True, etcd=False, fio_size="24k")
        killed = run_lab(control_plane, fio=True, etcd=False, fio_size="1m", timeout_s=1)  # fio killed mid-run
    finally:
        lab_cli("fix", "etcd-slow-disk")
    statuses = dict(zip(killed.checks_table()["code"], killed.checks_table()["status"]))
    assert statuses["ETCD-004"] == "NOT CHECKED" and "ETCD-004" not in codes(killed)
    assert any("timed out" in u.reason for u in killed.unavailable)
    found = [f for f in rb.findings if f.code == "ETCD-004"]
    assert found and found[0].evidence["fsync_p99_ms"] > 20, found
    assert f"p99 {found[0].evidence['fsync_p99_ms']:.2f} ms" in found[0].detail
    assert not list(Path(control_plane["data_dir"]).glob("k8srun-etcd-fsync*"))


def test_leader_churn_with_a_low_threshold_is_etcd003(control_plane):
    lab_cli("break", "etcd-leader-churn")
    try:
        rb = run_lab(control_plane, leader_window_s=3, leader_change_threshold=0)
    finally:
        lab_cli("fix", "etcd-leader-churn")
    assert "ETCD-003" in codes(rb)
    assert max(cp.leader_changes(rb._evidence["metrics"])["changes"].dropna()) >= 1


def test_unreachable_servers_are_cp002_told_apart(control_plane, tmp_path):
    lab_ca = (control_plane["dir"] / "ca.pem").read_bytes()
    other_ca = _cert(30)[0]
    cases = {"closed port": (kubeconfig(tmp_path / "closed", server="https://127.0.10.100:6449", ca=lab_ca),
                             "connection refused"),
             "dns": (kubeconfig(tmp_path / "dns", server="https://no-such-apiserver.invalid:6443", ca=lab_ca),
                     "DNS lookup failed"),
             "unknown CA": (kubeconfig(tmp_path / "ca", ca=other_ca), "TLS handshake failed")}
    for name, (path, expected) in cases.items():
        rb = run_lab(control_plane, etcd=False, kubeconfig=str(path), timeout_s=3)
        assert codes(rb) == {"CP-002"}, name
        assert expected in rb.findings[0].detail, (name, rb.findings[0].detail)
    answers = rb._evidence["answers"]
    assert answers["x509"].iloc[0]  # the verify reason of the unknown CA, e.g. "unable to get local issuer ..."


def test_report_never_shows_a_kubeconfig_secret(control_plane, tmp_path):
    document = yaml.safe_load(Path(control_plane["kubeconfig"]).read_text())
    token = document["users"][0]["user"]["token"]
    cert, key = _cert(30)
    document["users"][0]["user"].update({"client-certificate-data": base64.b64encode(cert).decode(),
                                         "client-key-data": base64.b64encode(key).decode(),
                                         "username": "admin", "password": "pa55-w0rd-never-shown"})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(document))
    out = tmp_path / "report"
    done = subprocess.run([*K8SRUN, "run", "control-plane", "-p", "source", "none", "-p", "kubeconfig", str(path),
                           "-p", "etcd_endpoints", ",".join(control_plane["endpoints"]), "-p", "leader_window_s", "0",
                           "--out", str(out)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    findings = json.loads((out / "control-plane.findings.json").read_text())
    assert findings["findings"] == [] and len(findings["not_checked"]) == 1  # ETCD-004: no data dir given
    assert (out / "control-plane.html").stat().st_size <= 150 * 1024
    body = "".join(line.strip() for line in key.decode().splitlines()[1:-1])
    secrets = [token, "pa55-w0rd-never-shown", body[:32], base64.b64encode(key).decode()[:32], "PRIVATE KEY"]
    for file in out.rglob("*"):
        if file.is_file():
            text = file.read_text(errors="replace")
            assert not [s for s in secrets if s in text], file
    assert token not in done.stdout + done.stderr


def test_lab_down_leaves_nothing_behind(control_plane):
    """Last in this module: down() (what `k8srun lab down` calls first) removes every process, the throttle,
    the mount, the loop device, the image and the directory; the fixture's own teardown is then a no-op."""
    from k8srun.lab import controlplane as lab
    from k8srun.lab.system import process_cmdline

    lab_cli("break", "etcd-slow-disk")
    lab_cli("break", "etcd-leader-churn")
    state = lab.load()
    pids = [lab.member_pid(m) for m in lab.MEMBERS] + [p["pid"] for p in state["processes"].values()]
    removed = lab.down()
    assert any("blkio throttle" in r for r in removed)
    assert all(pid is None or process_cmdline(pid) is None for pid in pids)
    assert not [pid for pid in lab._SPAWNED if Path(f"/proc/{pid}").exists()]  # reaped: no zombie left here
    assert not os.path.ismount(state["mount"]) and not control_plane["dir"].exists()
    assert not Path(state["image"]).exists()
    assert state["image"] not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    assert lab.throttled(state["device"]) == 0
    assert lab.down() == []
