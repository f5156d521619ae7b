"""openssl s_client parser: recorded chains and verify results, and live s_server runs on 127.0.0.1.

The golden rows (``openssl-s-client--<case>.json``) are checked by
``test_parsers.py``; here: what the summary says for every recorded case,
what the rows mean, garbage, fuzzing of ``summary``, and a live
``openssl s_server`` (started by PID, killed in teardown) with certificates
made in the test.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import select
import socket
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from k8srun.errors import ParseError
from k8srun.parsers import openssl_s_client
from test_parsers_fuzz import mutated_fixture

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"
SERVER_NAME = "web.default.svc.cluster.local"


def recorded(case: str) -> str:
    return (FIXTURES / f"openssl-s-client--{case}.out").read_text()


# --- recorded runs ---------------------------------------------------------

# case: (verify_return_code, verify_message, handshake_ok, handshake_error, chain_length)
RECORDED = {
    "valid": (0, "ok", True, None, 2),
    "expired": (10, "certificate has expired", True, None, 2),
    "not-yet-valid": (9, "certificate is not yet valid", True, None, 2),
    "wrong-san": (62, "hostname mismatch", True, None, 2),
    "unknown-ca": (21, "unable to verify the first certificate", True, None, 1),
    "no-intermediate": (21, "unable to verify the first certificate", True, None, 1),
    "self-signed": (18, "self-signed certificate", True, None, 1),
    "expired-verify-return-error": (10, "certificate has expired", False, "certificate verify failed", 2),
    "client-cert-required": (0, "ok", False, "tlsv13 alert certificate required", 2),
    "connection-refused": (None, None, False, "Connection refused", 0),
}


def test_every_recorded_case_has_an_expected_summary():
    assert {p.stem.split("--", 1)[1] for p in FIXTURES.glob("openssl-s-client--*.out")} == set(RECORDED)


@pytest.mark.parametrize("case", sorted(RECORDED))
def test_recorded_summary(case):
    code, message, handshake_ok, error, chain_length = RECORDED[case]
    summary = openssl_s_client.summary(recorded(case), server_name=SERVER_NAME)
    assert (summary["verify_return_code"], summary["verify_message"], summary["handshake_ok"],
            summary["handshake_error"], summary["chain_length"]) == (code, message, handshake_ok, error, chain_length)
    assert summary["server_name"] == SERVER_NAME
    assert summary["connected"] is (case != "connection-refused")
    if case != "connection-refused":
        assert (summary["protocol"], summary["cipher"]) == ("TLSv1.3", "TLS_AES_256_GCM_SHA384")


def test_valid_chain_rows():
    leaf, intermediate = openssl_s_client.parse(recorded("valid"))
    assert (leaf["depth"], leaf["common_name"], leaf["is_ca"], leaf["self_signed"]) == (0, SERVER_NAME, False, False)
    assert leaf["sans"] == [SERVER_NAME, "web", "127.0.0.1"]
    assert (leaf["not_before"], leaf["not_after"]) == ("2025-01-01T00:00:00+00:00", "2035-01-01T00:00:00+00:00")
    assert (leaf["key_type"], leaf["key_bits"], leaf["signature_algorithm"]) == ("EC", 256, "sha256WithRSAEncryption")
    assert leaf["issuer"] == intermediate["subject"] == "CN=k8srun fixtures intermediate CA,O=k8srun fixtures"
    assert (intermediate["depth"], intermediate["is_ca"], intermediate["key_type"], intermediate["key_bits"]) == (
        1, True, "RSA", 2048)
    assert intermediate["issuer"] == "CN=k8srun fixtures root CA,O=k8srun fixtures"
    assert len(leaf["sha256_fingerprint"].split(":")) == 32 and len(leaf["serial"]) % 2 == 0


def test_fault_rows_show_the_cause():
    assert openssl_s_client.parse(recorded("expired"))[0]["not_after"] == "2021-01-01T00:00:00+00:00"
    assert openssl_s_client.parse(recorded("not-yet-valid"))[0]["not_before"] == "2040-01-01T00:00:00+00:00"
    assert openssl_s_client.parse(recorded("wrong-san"))[0]["sans"] == ["wrong.default.svc.cluster.local"]
    assert openssl_s_client.parse(recorded("unknown-ca"))[0]["issuer"] == "CN=untrusted CA,O=k8srun fixtures"
    self_signed = openssl_s_client.parse(recorded("self-signed"))[0]
    assert (self_signed["self_signed"], self_signed["key_type"], self_signed["signature_algorithm"]) == (
        True, "Ed25519", "ed25519")
    assert [row["self_signed"] for row in openssl_s_client.parse(recorded("valid"))] == [False, False]


def test_failed_connection_is_not_garbage():
    assert openssl_s_client.parse(recorded("connection-refused")) == []
    assert openssl_s_client.frame(recorded("connection-refused")).empty


def test_stream_order_does_not_matter():
    text = recorded("client-cert-required")
    error_lines = [line for line in text.splitlines() if ":error:" in line]
    other_lines = [line for line in text.splitlines() if ":error:" not in line]
    reordered = "\n".join(error_lines + other_lines) + "\n"
    assert openssl_s_client.summary(reordered) == openssl_s_client.summary(text)
    assert openssl_s_client.parse(reordered) == openssl_s_client.parse(text)


def test_name_lookup_failure_names_the_cause():
    text = ("40D7B39A1C7F0000:error:10080002:BIO routines:BIO_lookup_ex:system lib:"
            "../crypto/bio/bio_addr.c:746:Name or service not known\nconnect:errno=0\n")
    summary = openssl_s_client.summary(text)
    assert (summary["connected"], summary["handshake_ok"], summary["handshake_error"]) == (
        False, False, "Name or service not known")


@pytest.mark.parametrize("bad", [
    "hello world\n",
    "HTTP/1.1 200 OK\nContent-Type: text/html\n\n<html></html>\n",
    "CONNECTED(00000003)\n-----BEGIN CERTIFICATE-----\nMIIB\n",                      # cut off
    "CONNECTED(00000003)\n-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n",
    "CONNECTED(00000003)\n-----END CERTIFICATE-----\n",
])
def test_garbage_raises_parse_error(bad):
    with pytest.raises(ParseError):
        openssl_s_client.parse(bad)
    with pytest.raises(ParseError):
        openssl_s_client.summary(bad)


def test_corrupted_certificate_raises_parse_error():
    lines = recorded("valid").splitlines()
    at = lines.index("-----BEGIN CERTIFICATE-----") + 3
    lines[at] = lines[at][::-1]
    with pytest.raises(ParseError, match="not a readable certificate"):
        openssl_s_client.parse("\n".join(lines))


def test_empty_output_has_no_summary():
    assert openssl_s_client.parse("") == []
    with pytest.raises(ParseError, match="empty"):
        openssl_s_client.summary("  \n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_summary_of_mutated_fixture_is_a_summary_or_parse_error(data):
    text = data.draw(mutated_fixture("openssl-s-client"))
    try:
        summary = openssl_s_client.summary(text)
    except ParseError:
        return
    assert set(summary) == set(openssl_s_client.summary(recorded("valid")))
    assert summary["chain_length"] == len(openssl_s_client.parse(text))


# --- live: openssl s_server on 127.0.0.1 ------------------------------------

def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _certificate(subject: str, key, issuer: x509.Name, issuer_key, days: tuple[int, int], *, ca: bool,
                 sans: tuple[str, ...] = ()) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=days[0]))
               .not_valid_after(now + dt.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(sans[0]), *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in sans[1:])]),
            critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """A trusted CA (``ca``) and server certificates: valid, expired, wrong-san, unknown-ca."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("test CA", ca_key, _name("test CA"), ca_key, (-1, 30), ca=True)
    made = {"ca": _write(directory, "ca", ca, ca_key)}
    for case, days, sans, issuer_key in [("valid", (-1, 30), (SERVER_NAME, "127.0.0.1"), ca_key),
                                         ("expired", (-30, -1), (SERVER_NAME, "127.0.0.1"), ca_key),
                                         ("wrong-san", (-1, 30), ("wrong.default.svc.cluster.local",), ca_key),
                                         ("unknown-ca", (-1, 30), (SERVER_NAME, "127.0.0.1"), other_key)]:
        key = ec.generate_private_key(ec.SECP256R1())
        issuer = _name("test CA") if issuer_key is ca_key else _name("nobody trusts this CA")
        made[case] = _write(directory, case, _certificate(sans[0], key, issuer, issuer_key, days, ca=False,
                                                          sans=sans), key)
    return made


@pytest.fixture
def s_server():
    """Start ``openssl s_server -www`` on a free 127.0.0.1 port; returns the port; killed by PID after."""
    started: list[subprocess.Popen] = []

    def start(cert: Path, key: Path, *options: str) -> int:
        said: list[str] = []
        for _attempt in range(3):  # a free port can be taken between probing and binding: retry
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            server = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-www",
                                       "-cert", str(cert), "-key", str(key), *options],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
            started.append(server)
            # raw reads: a buffered readline() may swallow "ACCEPT" together with the line before,
            # and select() then never reports it
            output = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if select.select([server.stdout], [], [], 0.1)[0]:
                    chunk = os.read(server.stdout.fileno(), 4096)
                    output += chunk
                    if b"\nACCEPT\n" in b"\n" + output:
                        return port
                    if not chunk:
                        break
            said.append(output.decode(errors="replace").strip())
        pytest.fail(f"openssl s_server did not start: {' | '.join(said)[-300:]}")

    yield start
    for server in started:
        server.kill()
        server.wait(timeout=5)
        server.stdout.close()


def s_client(port: int, ca: Path, *options: str) -> str:
    """``openssl s_client -showcerts`` of 127.0.0.1:``port`` with stdin closed, both streams."""
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", SERVER_NAME,
                           "-showcerts", "-CAfile", str(ca), "-verify_hostname", SERVER_NAME, *options],
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=10).stdout


@pytest.mark.parametrize("case, codes, message", [
    ("valid", {0}, "ok"),
    ("expired", {10}, "certificate has expired"),
    ("wrong-san", {62}, "hostname mismatch"),
    ("unknown-ca", {20, 21}, None),
])
def test_live_verify_result(pki, s_server, case, codes, message):
    port = s_server(*pki[case])
    text = s_client(port, pki["ca"][0])
    summary = openssl_s_client.summary(text, server_name=SERVER_NAME)
    assert summary["handshake_ok"] and summary["verify_return_code"] in codes
    assert message is None or summary["verify_message"] == message
    leaf = openssl_s_client.parse(text)[0]
    assert leaf["depth"] == 0 and leaf["self_signed"] is False
    assert leaf["sha256_fingerprint"].replace(":", "") == x509.load_pem_x509_certificate(
        pki[case][0].read_bytes()).fingerprint(hashes.SHA256()).hex().upper()


@pytest.mark.parametrize("require_client_cert", [False, True])
def test_live_client_certificate_required(pki, s_server, require_client_cert):
    port = s_server(*pki["valid"], *(["-Verify", "1"] if require_client_cert else []))
    # TLS 1.3: the server's "certificate required" alert comes after the client's handshake is done;
    # -ign_eof keeps s_client reading until the server closes, instead of racing it on stdin's EOF
    summary = openssl_s_client.summary(s_client(port, pki["ca"][0], *(["-ign_eof"] if require_client_cert else [])))
    assert summary["handshake_ok"] is not require_client_cert
    assert summary["verify_return_code"] == 0   # the server's certificate itself is fine
    if require_client_cert:
        assert "certificate required" in summary["handshake_error"] or "handshake failure" in summary["handshake_error"]
    else:
        assert summary["handshake_error"] is None
