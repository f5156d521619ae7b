"""Redaction of log text and raw tool output: secrets go, the evidence around them stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from k8srun.redact import REDACTED, redact_text

FIXTURES = Path(__file__).parent / "fixtures" / "cmd"


def test_openssl_session_secrets_are_redacted_and_certificates_kept():
    raw = (FIXTURES / "openssl-s-client--valid.out").read_text()
    assert "Resumption PSK: " in raw
    cleaned = redact_text(raw)
    psk_lines = [line for line in cleaned.splitlines() if "Resumption PSK:" in line]
    assert psk_lines and all(line.strip() == f"Resumption PSK: {REDACTED}" for line in psk_lines)
    assert cleaned.count("-----BEGIN CERTIFICATE-----") == raw.count("-----BEGIN CERTIFICATE-----") > 0
    assert "PSK identity: None" in cleaned


def test_tls12_master_key_is_redacted():
    assert redact_text("    Master-Key: 9F2A0B77C1\n") == f"    Master-Key: {REDACTED}\n"


@pytest.mark.parametrize("secret_line, kept", [
    ("Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload.sig", "Authorization: "),
    ('curl -H "authorization: Basic dXNlcjpwYXNz" https://api', "curl -H \"authorization: "),
    ("retrying with Bearer abc.DEF-123_~+/==", "retrying with Bearer "),
    ("GET /callback?token=abc123&state=xyz", "GET /callback?token="),
    ('connecting with password="hunter 2" user=app', "connecting with password="),
    ("DB_PASSWORD=hunter2 DB_USER=app", "DB_PASSWORD="),
    ("client_secret=f00b4r", "client_secret="),
    ('{"api_token": "abc", "user": "app"}', '{"api_token": '),
    ("  password: hunter2", "  password: "),
    ("dsn postgres://app:hunter2@db:5432/shop", "dsn postgres://app:"),
])
def test_redact_text_hides_secret_values(secret_line, kept):
    secret_values = ("eyJhbGciOiJSUzI1NiJ9", "dXNlcjpwYXNz", "abc.DEF", "abc123", "hunter",
                     "f00b4r", '"abc"')
    redacted = redact_text(secret_line)
    assert redacted.startswith(kept + REDACTED)
    assert not any(value in redacted for value in secret_values)


def test_redact_text_keeps_what_follows_a_secret():
    assert redact_text("GET /cb?token=abc&state=xyz") == "GET /cb?token=[REDACTED]&state=xyz"
    assert redact_text("dsn postgres://app:pw@db:5432/shop") == "dsn postgres://app:[REDACTED]@db:5432/shop"
    assert redact_text('{"api_token": "abc", "user": "app"}') == '{"api_token": [REDACTED], "user": "app"}'


def test_redact_text_private_key_block_and_truncated_block():
    key = ("before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nAbCd==\n"
           "-----END RSA PRIVATE KEY-----\nafter\n")
    assert redact_text(key) == "before\n[REDACTED]\nafter\n"
    tail_cut = "x\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n"
    assert redact_text(tail_cut) == "x\n[REDACTED]"


def test_redact_text_leaves_ordinary_log_lines_alone():
    healthy = ("2024-05-01T09:00:00Z GET /health 200 <ok> & fine\n"
               "error validating token: token expired\n"
               "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
               "see https://example.com/docs for details\n")
    assert redact_text(healthy) == healthy


@pytest.mark.parametrize("line, secret", [
    ("issued eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl for app", "eyJzdWIiOiJhcHAifQ"),
    ("exec: app --db-password hunter2 --port 5432", "hunter2"),
    ("exec: vault login --token s.Abc123 -method=token", "s.Abc123"),
    ("cache at redis://:hunter2@redis:6379/0", "hunter2"),
    ("API_KEY=AKc0ffee user=app", "AKc0ffee"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF\n-----END PGP PRIVATE KEY BLOCK-----\n", "lQOYBF"),
])
def test_common_secret_shapes_are_redacted(line, secret):
    redacted = redact_text(line)
    assert secret not in redacted and REDACTED in redacted


def test_evidence_next_to_secret_shapes_is_kept():
    kept = ("exec: app --db-password hunter2 --port 5432", "cache at redis://:pw@redis:6379/0",
            "issued eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl for app")
    assert [redact_text(line) for line in kept] == [
        f"exec: app --db-password {REDACTED} --port 5432", f"cache at redis://:{REDACTED}@redis:6379/0",
        f"issued {REDACTED} for app"]
    healthy = ("--token-ttl 5m --secure-port 6443 --tls-private-key-file /etc/tls.key\n"
               "GET /api/v1/namespaces/shop/secrets/db-creds 403\n")
    assert redact_text(healthy) == healthy


def test_bundle_objects_lose_secret_env_values_and_last_applied_but_keep_evidence():
    from k8srun.redact import redact_object

    container = {"name": "api", "image": "shop/api:1.2",
                 "args": ["--db-password=hunter2", "--port=8080"],
                 "env": [{"name": "DB_PASSWORD", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "debug"},
                         {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}}]}
    deployment = {"metadata": {"name": "api", "annotations": {
                      "kubectl.kubernetes.io/last-applied-configuration": '{"env": "hunter2"}', "team": "a"}},
                  "spec": {"replicas": 2, "template": {"metadata": {}, "spec": {"containers": [container]}}}}
    pod = {"metadata": {"name": "api-1"}, "spec": {"containers": [container]}}
    for cleaned in (redact_object(deployment), redact_object(pod)):
        assert "hunter2" not in str(cleaned)
    spec = redact_object(deployment)["spec"]["template"]["spec"]["containers"][0]
    assert spec["env"][0] == {"name": "DB_PASSWORD", "value": REDACTED}
    assert spec["env"][1]["value"] == "debug" and "valueFrom" in spec["env"][2]  # refs are evidence
    assert spec["args"] == [f"--db-password={REDACTED}", "--port=8080"]
    assert redact_object(deployment)["metadata"]["annotations"] == {"team": "a"}
    assert deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] == "hunter2"  # a copy
