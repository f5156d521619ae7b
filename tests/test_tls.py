"""tls runbook: each code from real input, and healthy input without it.

- parsers on real captured output (the openssl s_client fixtures, a real
  ``date -u``) and hypothesis (mutated fixtures, arbitrary text);
- pure checks: the name check (RFC 6125), the handshake classification;
- ``openssl s_server`` on 127.0.0.1 with certificates made here (a root, an
  RSA issuing CA, EC leaves — a topology the lab did not build), started and
  killed by PID: every code, a healthy server (chain with its intermediate),
  an IP endpoint without SNI, a port that speaks HTTP, nothing listening;
- a kubeconfig with an expired client certificate and a PEM with a key,
  through the CLI: TLS-001 on that certificate, no key or token anywhere in
  the report folder;
- the default scenario (recorded from the lab) offline;
- the fault lab: every tls-* fault through ``k8srun lab break`` and the runbook
  from pod-a, healthy included; one run through ``k8srun run`` whose report replays.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun.checks import tls
from k8srun.errors import ParameterError, ParseError
from k8srun.parsers import tls_handshake
from k8srun.probes import certfile
from k8srun.session import diagnose_runbook
from test_parsers_fuzz import mutated_fixture
from test_parsers_tls import s_server  # noqa: F401  (fixture: openssl s_server by PID)

FIXTURES = Path(__file__).parent / "fixtures"
NAME = "api.tls-test.example"
ALL = ("TLS-001", "TLS-002", "TLS-003", "TLS-004", "TLS-005", "TLS-006")


def recorded(case: str) -> str:
    return (FIXTURES / "cmd" / f"openssl-s-client--{case}.out").read_text()


def codes(rb) -> list[str]:
    return sorted({f.code for f in rb.findings})


def one(rb, code: str):
    (found,) = [f for f in rb.findings if f.code == code]
    return found


def status(rb) -> dict[str, str]:
    table = rb.checks_table()
    return dict(zip(table["code"], table["status"]))


# ------------------------------------------------------------------ parsers on real output

@pytest.mark.parametrize("case, errors", [
    ("valid", []),
    ("expired", [(0, 10)]),
    ("not-yet-valid", [(0, 9)]),
    ("wrong-san", [(0, 62)]),
    ("unknown-ca", [(0, 20), (0, 21)]),
    ("no-intermediate", [(0, 20), (0, 21)]),
    ("self-signed", [(0, 18)]),
])
def test_verify_errors_of_recorded_runs(case, errors):
    assert [(e["depth"], e["num"]) for e in tls_handshake.verify_errors(recorded(case))] == errors


def test_client_certificate_request_is_seen_only_when_sent():
    assert tls_handshake.client_cert_requested(recorded("client-cert-required"))
    assert not any(tls_handshake.client_cert_requested(recorded(case)) for case in ("valid", "expired", "unknown-ca"))


def test_certificate_rows_add_key_ids_to_the_s_client_rows():
    rows = tls_handshake.certificate_rows(tls_handshake.pem_blocks(recorded("valid")))
    assert [r["depth"] for r in rows] == [0, 1] and rows[0]["common_name"] == "web.default.svc.cluster.local"
    assert rows[0]["ca_issuers"] == [] and rows[0]["aki"] is None or rows[0]["aki"] == rows[1]["ski"]


def test_clock_of_real_date_output():
    stamp = tls_handshake.clock((FIXTURES / "tls" / "date-u.out").read_text())
    assert stamp.tzinfo is not None and stamp.microsecond == 524542
    now = subprocess.run(["date", "-u", tls_handshake.CLOCK_FORMAT], capture_output=True, text=True, timeout=5).stdout
    assert abs((tls_handshake.clock(now) - dt.datetime.now(dt.timezone.utc)).total_seconds()) < 5


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-40T99:00:00Z", "2026-11-29T21:01:07Z\n2026-11-29T21:01:07Z"])
def test_clock_rejects_what_is_not_one_date(bad):
    with pytest.raises(ParseError):
        tls_handshake.clock(bad)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_s_client_output_gives_rows_or_parse_error(data):
    text = data.draw(mutated_fixture("openssl-s-client"))
    errors = tls_handshake.verify_errors(text)
    assert all(isinstance(e["num"], int) for e in errors)
    assert isinstance(tls_handshake.client_cert_requested(text), bool)
    try:
        frame = tls._chain_frame(text)
    except ParseError:
        return
    assert list(frame.columns) == tls.CHAIN_COLUMNS


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_is_a_clock_or_parse_error(text):
    try:
        assert tls_handshake.clock(text).tzinfo is not None
    except ParseError:
        pass
    assert isinstance(tls_handshake.verify_errors(text), list)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_certfile_json_or_parse_error(text):
    try:
        tls._file_frame(text)
    except ParseError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode),
                 st.sampled_from(["clusters: [{name: a, cluster: {certificate-authority-data: '!!'}}]",
                                  "users: [{name: u, user: {client-certificate: /nonexistent}}]", "- a\n- b",
                                  "users: [{user: 3}, {name: x, user: {token: t}}]", "clusters: 3\nusers: {a: b}"]).map(str.encode)))
def test_certfile_probe_on_arbitrary_files_never_raises(data):
    import tempfile

    with tempfile.NamedTemporaryFile(prefix="k8srun-tls-fuzz-") as handle:
        handle.write(data)
        handle.flush()
        for out in (certfile.from_pem(Path(handle.name)), certfile.from_kubeconfig(Path(handle.name))):
            assert out["error"] or out["certificates"] or out["problems"]
            assert all(c["pem"].startswith("-----BEGIN CERTIFICATE-----") for c in out["certificates"])


# ------------------------------------------------------------------ pure checks

@pytest.mark.parametrize("name, sans, matches", [
    ("web.default.svc.cluster.local", ["web", "web.default.svc.cluster.local"], True),
    ("WEB.default.svc.cluster.local.", ["web.default.svc.cluster.local"], True),
    ("a.example.com", ["*.example.com"], True),
    ("a.b.example.com", ["*.example.com"], False),          # one label deep
    ("example.com", ["*.example.com"], False),
    ("a.com", ["*.com"], False),                            # not a whole registrable domain
    ("api.example.com", ["a*.example.com"], False),         # only a whole-label wildcard
    ("10.96.0.50", ["web", "10.96.0.50"], True),
    ("10.96.0.50", ["10.96.0.50.example"], False),
    ("web.default", ["10.96.0.50"], False),
    ("web", [], False),
])
def test_hostname_matching(name, sans, matches):
    assert tls.hostname_matches(name, sans) is matches


@pytest.mark.parametrize("error, requested, kind", [
    ("tlsv13 alert certificate required", False, "client certificate required"),
    ("sslv3 alert handshake failure", True, "client certificate required"),
    ("sslv3 alert handshake failure", False, "cipher"),
    ("no shared cipher", False, "cipher"),
    ("tlsv1 alert protocol version", False, "protocol"),
    ("unsupported protocol", False, "protocol"),
    ("wrong version number", False, "not TLS"),
    ("packet length too long", False, "not TLS"),
    ("no peer certificate available", False, "no certificate"),
    ("something new", False, "other"),
])
def test_handshake_kind(error, requested, kind):
    assert tls.handshake_kind(error, requested) == kind


def _one_certificate(not_before: str, not_after: str, clock: dict) -> pd.DataFrame:
    row = {"depth": 0, "subject": "CN=web", "issuer": "CN=ca", "common_name": "web", "sans": ["web"],
           "not_before": not_before, "not_after": not_after, "key_type": "EC", "key_bits": 256,
           "signature_algorithm": "ecdsa-with-SHA256", "sha256_fingerprint": "AA", "is_ca": False,
           "self_signed": False, "ca_issuers": [], "origin": "tls.crt #1"}
    return tls.certificate_table(pd.DataFrame([row]), "pem", "pem /tmp/tls.crt",
                                 dt.datetime.fromisoformat(clock["now"]), 30)


@pytest.mark.parametrize("skew_s, says", [(7200.0, "fix the target's time"), (-0.2, "they agree"),
                                          (None, "could not be compared")])
def test_not_yet_valid_names_whose_clock_to_suspect(skew_s, says):
    # the target's clock two hours behind the real time sees a certificate issued a minute ago as not yet valid
    clock = {"now": "2026-11-29T10:00:00+00:00", "reference": "target", "target_time": "2026-11-29T10:00:00+00:00",
             "local_time": "2026-11-29T12:00:00+00:00", "skew_s": None if skew_s is None else -skew_s}
    certificates = _one_certificate("2026-11-29T11:59:00+00:00", "2027-11-29T00:00:00+00:00", clock)
    (found,) = tls.not_yet_valid(certificates, clock)
    assert found.code == "TLS-002" and says in found.detail and found.subject == certificates["label"].iloc[0]
    assert tls.expired(certificates, clock) == [] and tls.expiring_soon(certificates, clock, 30) == []
    assert "119 min ahead of the target clock" in found.detail
    assert skew_s != 7200.0 or "the target's clock is 2 h behind this machine's: fix" in found.detail


@pytest.mark.parametrize("value, cleaned", [("10.244.2.10:8443", "10.244.2.10:8443"),
                                            ("Web.Default:443", "web.default:443"),
                                            ("[fd00::1]:443", "[fd00::1]:443")])
def test_endpoint_parameter(value, cleaned):
    assert tls.RUNBOOK.validate({"endpoint": value})["endpoint"] == cleaned


@pytest.mark.parametrize("name, value", [("endpoint", "10.0.0.1"), ("endpoint", "host:99999"),
                                         ("endpoint", "-oProxy:1"), ("endpoint", "a b:443"),
                                         ("server_name", "not a name"), ("ca_bundle", "-CAfile"),
                                         ("pem", "a\nb"), ("expiry_warning_days", 0),
                                         ("expiry_warning_days", "soon"), ("kubeconfig_certs", 3)])
def test_bad_parameters_name_the_parameter(name, value):
    with pytest.raises(ParameterError, match=name):
        tls.RUNBOOK.validate({name: value})


# ------------------------------------------------------------------ a PKI made here

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tls-test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _cert(subject: str, key, issuer: tuple | None, days: tuple[float, float], *, ca: bool = False,
          sans: tuple[str, ...] = (), aia: str | None = None) -> x509.Certificate:
    issuer_cert, issuer_key = issuer or (None, key)
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject))
               .issuer_name(issuer_cert.subject if issuer_cert else _name(subject))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=days[0])).not_valid_after(now + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                      content_commitment=False, key_encipherment=False,
                                                      data_encipherment=False, key_agreement=False,
                                                      encipher_only=False, decipher_only=False), critical=True)
    if issuer_cert is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                        critical=False)
    if sans:
        import ipaddress
        names = []
        for san in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(san)))
            except ValueError:
                names.append(x509.DNSName(san))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if aia:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(aia))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict:
    """root (trusted) → RSA issuing CA → EC leaves, one per case: {case: (cert, key, chain or None)}."""
    d = tmp_path_factory.mktemp("tls-pki")
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = _cert("tls-test root CA", root_key, None, (-10, 3650), ca=True)
    inter_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    inter = _cert("tls-test issuing CA", inter_key, (root, root_key), (-10, 1000), ca=True)
    (d / "root.pem").write_bytes(_pem(root))
    (d / "inter.pem").write_bytes(_pem(inter))
    made: dict = {"root": d / "root.pem", "dir": d}
    sans = (NAME, "127.0.0.1")
    cases = {"healthy": ((-1, 200), sans, True, None), "expired": ((-40, -2), sans, True, None),
             "not-yet-valid": ((3, 200), sans, True, None), "expiring-soon": ((-300, 12), sans, True, None),
             "wrong-san": ((-1, 200), ("other.tls-test.example",), True, None),
             "incomplete": ((-1, 200), sans, False, "http://pki.tls-test.example/issuing.crt"),
             "self-signed": ((-1, 200), sans, None, None)}
    for case, (days, names, send_chain, aia) in cases.items():
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = None if send_chain is None else (inter, inter_key)
        cert = _cert(names[0], key, issuer, days, sans=names, aia=aia)
        (d / f"{case}.pem").write_bytes(_pem(cert))
        (d / f"{case}-key.pem").write_bytes(_key_pem(key))
        made[case] = (d / f"{case}.pem", d / f"{case}-key.pem", d / "inter.pem" if send_chain else None)
    made["admin"] = _cert("admin", ec.generate_private_key(ec.SECP256R1()), (root, root_key), (-400, -35))
    return made


def serve(s_server, pki, case: str, *options: str) -> int:  # noqa: F811
    cert, key, chain = pki[case]
    return s_server(cert, key, *(("-cert_chain", str(chain)) if chain else ()), *options)


def run_local(port: int, pki, **values):
    return diagnose_runbook("tls", source="none", target="local", endpoint=f"127.0.0.1:{port}",
                            **{"server_name": NAME, "ca_bundle": str(pki["root"]), **values})


# ------------------------------------------------------------------ live: s_server on 127.0.0.1

@pytest.mark.parametrize("case, expected", [
    ("expired", ["TLS-001"]),
    ("not-yet-valid", ["TLS-002"]),
    ("self-signed", ["TLS-003"]),
    ("incomplete", ["TLS-003"]),
    ("wrong-san", ["TLS-004"]),
    ("expiring-soon", ["TLS-005"]),
])
def test_loopback_each_certificate_fault(s_server, pki, case, expected):  # noqa: F811
    rb = run_local(serve(s_server, pki, case), pki)
    assert codes(rb) == expected
    assert set(status(rb).values()) == {"FOUND", "OK"}
    found = one(rb, expected[0])
    assert found.subject.startswith("endpoint 127.0.0.1:")
    if case == "incomplete":
        assert "chain incomplete: intermediate missing" in found.detail
        assert "CN=tls-test issuing CA" in found.detail and "pki.tls-test.example" in found.detail
    if case == "self-signed":
        assert "unknown authority" in found.detail and "self-signed" in found.detail
        assert "incomplete" not in found.detail.split("[")[0].replace("the chain is incomplete", "")
    if case == "not-yet-valid":
        assert "they agree" in found.detail and abs(found.evidence["clock"]["skew_s"]) < 5
    if case == "expiring-soon":
        assert str(found.severity) == "warning" and "in 12 days" in found.detail


def test_loopback_healthy_chain_with_its_intermediate(s_server, pki):  # noqa: F811
    rb = run_local(serve(s_server, pki, "healthy"), pki)
    assert rb.findings == [] and set(status(rb).values()) == {"OK"}
    chain = tls.chain_table(rb._evidence["certificates"])
    assert list(chain["status"]) == ["valid", "valid"]
    assert chain["key"].tolist() == ["EC 256", "RSA 2048"]
    assert chain["signature_algorithm"].tolist() == ["sha256WithRSAEncryption", "ecdsa-with-SHA256"]
    assert rb._evidence["handshake"]["verify_return_code"] == 0 and rb._evidence["handshake"]["chain_length"] == 2
    assert len(rb.verdicts()) == 1 and rb.verdicts()["verdict"].iloc[0] == "NO CAUSE FOUND"
    chart = str(tls.validity_chart(rb._evidence["certificates"], rb._evidence["clock"]))
    assert chart.count("class='tls-window'") == 2 and "class='tls-now'" in chart


def test_loopback_a_shorter_warning_clears_tls_005(s_server, pki):  # noqa: F811
    assert codes(run_local(serve(s_server, pki, "expiring-soon"), pki, expiry_warning_days=7)) == []


def test_loopback_ip_endpoint_without_sni(s_server, pki):  # noqa: F811
    rb = run_local(serve(s_server, pki, "healthy"), pki, server_name="127.0.0.1")
    assert rb.findings == []
    (argv,) = [r.argv for r in rb._commands.values() if r.command_id.startswith("s-client")]
    assert "-noservername" in argv and "-verify_ip" in argv


def test_loopback_client_certificate_required(s_server, pki):  # noqa: F811
    rb = run_local(serve(s_server, pki, "healthy", "-Verify", "1"), pki)
    assert codes(rb) == ["TLS-006"]
    assert one(rb, "TLS-006").evidence["kind"] == "client certificate required"
    # the server that only asks (optional client auth) is fine
    assert codes(run_local(serve(s_server, pki, "healthy", "-verify", "1"), pki)) == []


@pytest.mark.parametrize("options, kind", [
    (("-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"), "protocol"),               # a TLS 1.1-only server
    (("-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_8_SHA256"), "cipher"),     # a suite clients do not offer
])
def test_loopback_protocol_and_cipher_mismatch(s_server, pki, options, kind):  # noqa: F811
    rb = run_local(serve(s_server, pki, "healthy", *options), pki)
    assert "TLS-006" in codes(rb)
    assert one(rb, "TLS-006").evidence["kind"] == kind


@pytest.fixture
def http_port():
    """A port that answers in clear text (an HTTP 400), as a TLS client's ClientHello meets a plain server."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(10)

    def answer():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    worker = threading.Thread(target=answer, daemon=True)
    worker.start()
    yield listener.getsockname()[1]
    listener.close()
    worker.join(timeout=5)


def test_loopback_a_port_that_speaks_http(http_port, pki):
    rb = run_local(http_port, pki)
    assert codes(rb) == ["TLS-006"]
    assert one(rb, "TLS-006").evidence["kind"] == "not TLS"


def test_loopback_nothing_listening_is_not_checked_not_healthy(pki):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rb = run_local(port, pki)
    assert rb.findings == []
    checks = status(rb)
    assert {checks[c] for c in ("TLS-003", "TLS-004", "TLS-006")} == {"NOT CHECKED"}
    assert checks["TLS-001"] == "NOT CHECKED"  # no certificate at all
    assert any("could not connect: Connection refused" in u.reason for u in rb.unavailable)


def test_loopback_unreadable_ca_bundle_is_named(s_server, pki, tmp_path):  # noqa: F811
    rb = run_local(serve(s_server, pki, "healthy"), pki, ca_bundle=str(tmp_path / "missing-ca.pem"))
    assert rb.findings == [] and status(rb)["TLS-003"] == "NOT CHECKED"
    assert any(f"ca_bundle {tmp_path / 'missing-ca.pem'} cannot be read on the target" in u.reason
               for u in rb.unavailable)


def test_files_on_an_ssh_target_are_unavailable_not_healthy():
    rb = diagnose_runbook("tls", source="none", target="ssh:nobody@127.0.0.1", pem="/etc/hostname", timeout_s=3)
    assert rb.findings == [] and set(status(rb).values()) == {"NOT CHECKED"}
    assert any("runs on local and netns: targets, not ssh:" in u.reason for u in rb.unavailable)


def test_nothing_to_inspect_is_not_checked():
    rb = diagnose_runbook("tls", source="none", target="local")
    assert rb.findings == [] and set(status(rb).values()) == {"NOT CHECKED"}
    assert any("nothing to inspect" in u.reason for u in rb.unavailable)


# ------------------------------------------------------------------ files: a kubeconfig, a PEM

def k8srun(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "k8srun.cli", *args], capture_output=True, text=True, timeout=300,
                          env=env)


def test_kubeconfig_expired_client_certificate_and_a_pem_through_the_cli(pki, tmp_path):
    d = pki["dir"]
    client_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = _key_pem(client_key)
    token = "k8srun-test-token-" + "9f8e7d6c5b4a" * 3
    kubeconfig = {
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data":
                                                  base64.b64encode(pki["root"].read_bytes()).decode()}}],
        "users": [{"name": "admin", "user": {"client-certificate-data": base64.b64encode(_pem(pki["admin"])).decode(),
                                             "client-key-data": base64.b64encode(key_pem).decode()}},
                  {"name": "bot", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    pem = tmp_path / "tls.pem"   # a cert + key file, as tls.crt + tls.key of a Secret
    pem.write_bytes(_pem(pki["admin"]) + (d / "healthy-key.pem").read_bytes())
    report = tmp_path / "report"
    done = k8srun("run", "tls", "-p", "source", "none", "-p", "target", "local", "-p", "kubeconfig_certs", str(path),
                  "-p", "pem", str(pem), "--out", str(report), "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    found = json.loads((report / "tls.findings.json").read_text())
    expired = [f for f in found["findings"] if f["code"] == "TLS-001"]
    assert {f["subject"] for f in expired} == {"certificate admin (kubeconfig " f"{path}: user admin: "
                                               "client-certificate-data)", f"certificate admin (pem {pem}: tls.pem #1)"}
    assert not [f for f in found["findings"] if f["code"] != "TLS-001"]
    assert "expired 35 days ago" in expired[0]["detail"]
    secrets = [token, "PRIVATE KEY", base64.b64encode(key_pem).decode()[:40],
               *[line for line in key_pem.decode().splitlines() if "-----" not in line],
               *[line for line in (d / "healthy-key.pem").read_text().splitlines() if "-----" not in line]]
    for file in report.rglob("*"):
        if file.is_file():
            text = file.read_text(errors="replace")
            leaked = [s for s in secrets if s in text]
            assert not leaked, f"{file.relative_to(report)} shows {leaked[0][:20]}..."
    probe = json.loads(next((report / "hosts").rglob("certfile-kubeconfig-*.txt")).read_text())
    assert probe["key_blocks"] == 1 and probe["token_users"] == 1 and len(probe["certificates"]) == 2


def test_certfile_probe_on_a_bundle_and_a_missing_file(pki, tmp_path):
    bundle = pki["dir"] / "bundle.pem"
    bundle.write_bytes(pki["root"].read_bytes() + (pki["dir"] / "inter.pem").read_bytes())
    out = certfile.from_pem(bundle)
    assert out["error"] is None and [c["origin"] for c in out["certificates"]] == ["bundle.pem #1", "bundle.pem #2"]
    assert certfile.from_pem(tmp_path / "nope.pem")["error"].startswith("cannot read")
    assert certfile.from_kubeconfig(bundle)["error"].startswith("not a kubeconfig")


# ------------------------------------------------------------------ the default scenario, offline

def test_default_scenario_recorded_from_the_lab():
    rb = diagnose_runbook("tls")
    assert codes(rb) == ["TLS-001"]
    assert set(status(rb).values()) == {"FOUND", "OK"}
    found = one(rb, "TLS-001")
    assert found.subject == "endpoint 10.244.2.10:8443 (SNI web.default.svc.cluster.local)"
    assert "expired 24 h ago by the target clock" in found.detail
    assert rb.verdicts()["verdict"].tolist() == ["FOUND"]


def test_incomplete_chain_scenario_names_the_missing_intermediate():
    rb = diagnose_runbook("tls", source="scenario:tls-incomplete-chain")
    assert codes(rb) == ["TLS-003"]
    assert one(rb, "TLS-003").evidence["incomplete_chain"] is True
    assert "issued by CN=k8srun lab intermediate CA" in one(rb, "TLS-003").detail


# ------------------------------------------------------------------ live: the fault lab

LAB_FAULTS = [(None, []), ("tls-expired", ["TLS-001"]), ("tls-not-yet-valid", ["TLS-002"]),
              ("tls-unknown-ca", ["TLS-003"]), ("tls-incomplete-chain", ["TLS-003"]),
              ("tls-wrong-san", ["TLS-004"]), ("tls-expiring-soon", ["TLS-005"]),
              ("tls-client-cert-required", ["TLS-006"])]


def lab_values() -> dict:
    return {"source": "lab", "target": "netns:k8l-pod-a", "endpoint": "10.244.2.10:8443",
            "server_name": "web.default.svc.cluster.local",
            "ca_bundle": str(Path(os.environ["K8SRUN_LAB_DIR"]) / "ca.pem")}


@pytest.mark.netns
@pytest.mark.parametrize("fault, expected", LAB_FAULTS)
def test_lab_fault_through_the_lab_cli(fault_lab, fault, expected):
    if fault:
        broke = k8srun("lab", "break", fault, env=dict(os.environ))
        assert broke.returncode == 0, broke.stderr
    try:
        rb = diagnose_runbook("tls", **lab_values())
    finally:
        if fault:
            assert k8srun("lab", "fix", fault, env=dict(os.environ)).returncode == 0
    assert codes(rb) == expected
    assert "NOT CHECKED" not in status(rb).values()
    if fault == "tls-incomplete-chain":
        assert "chain incomplete: intermediate missing" in one(rb, "TLS-003").detail
        assert "CN=k8srun lab intermediate CA" in one(rb, "TLS-003").detail
    if fault is None:
        assert rb._evidence["handshake"]["in_cluster"] == ["pod default/web-b"]
    if fault == "tls-unknown-ca":
        assert "unknown authority" in one(rb, "TLS-003").detail


@pytest.mark.netns
def test_lab_run_through_the_cli_and_its_report_replays(fault_lab, tmp_path):
    broke = k8srun("lab", "break", "tls-incomplete-chain", env=dict(os.environ))
    assert broke.returncode == 0, broke.stderr
    try:
        started = time.monotonic()
        args = [a for k, v in lab_values().items() for a in ("-p", k, v)]
        done = k8srun("run", "tls", *args, "--out", str(tmp_path), "--no-progress", env=dict(os.environ))
        took = time.monotonic() - started
    finally:
        k8srun("lab", "fix", "tls-incomplete-chain", env=dict(os.environ))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "tls.findings.json").read_text())
    assert [f["code"] for f in report["findings"]] == ["TLS-003"] and report["not_checked"] == []
    html = (tmp_path / "tls.html").read_text()
    charts = [base64.b64decode(part.split('"', 1)[0]).decode() for part in html.split("data:image/svg+xml;base64,")[1:]]
    assert any("class='tls-window'" in chart for chart in charts) and len(html.encode()) < 150 * 1024
    assert took < 30, f"{took:.1f} s"
    replay = diagnose_runbook("tls", source=str(tmp_path))   # the report folder replays, lab or not
    assert codes(replay) == ["TLS-003"] and "chain incomplete" in one(replay, "TLS-003").detail


def test_chain_table_of_nothing_has_its_columns():
    assert list(tls.chain_table(pd.DataFrame(columns=tls.CERT_COLUMNS)).columns)[:3] == ["where", "subject", "issuer"]
    assert "nothing to draw" in str(tls.validity_chart(None))
