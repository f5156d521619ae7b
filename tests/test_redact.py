"""Redaction of raw tool output: TLS session secrets go, certificates stay."""

from __future__ import annotations

from pathlib import Path

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
