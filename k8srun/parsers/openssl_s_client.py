"""``openssl s_client -showcerts`` output → one row per presented certificate, plus a summary.

Input: what ``openssl s_client -connect HOST:PORT -servername NAME -showcerts
[-verify_return_error] [-verify_hostname NAME] [-CAfile CA] < /dev/null``
prints on stdout and stderr (OpenSSL 1.1 and 3.x; the order of the two
streams does not matter). The certificate rows come from the PEM blocks
that ``-showcerts`` prints, loaded with ``cryptography`` — the text dump
around them is not re-parsed. The summary comes from the status lines:
``CONNECTED(…)``, ``New, TLSv1.3, Cipher is …``, ``Verify return code: N
(message)``, ``no peer certificate available`` and OpenSSL error lines
(``…:error:0A000418:SSL routines:…:tlsv1 alert unknown ca:…``).

A failed handshake or connection is not garbage: it gives no rows and a
summary saying why. Text with none of those lines (and not blank) raises
ParseError, and so does a PEM block that is not a certificate.

Usage::

    from k8srun.parsers import openssl_s_client
    rows = openssl_s_client.parse(text)      # list[dict], leaf first
    df = openssl_s_client.frame(text)        # DataFrame, columns = COLUMNS
    openssl_s_client.summary(text, server_name="web.default.svc.cluster.local")

Schema of ``parse`` — one row per certificate, in the order the server sent them::

    [
      {
        "depth":               int,          # 0 = the server (leaf) certificate
        "subject":             str,          # RFC 4514: "CN=web,O=k8srun"
        "issuer":              str,          # RFC 4514
        "common_name":         str | None,   # subject CN
        "sans":                [str],        # DNS names and IP addresses, in order
        "not_before":          str,          # ISO 8601 UTC: "2025-01-01T00:00:00+00:00"
        "not_after":           str,
        "serial":              str,          # upper-case hex, even length (as openssl x509 -serial)
        "key_type":            str,          # RSA, EC, Ed25519, Ed448, DSA
        "key_bits":            int | None,
        "signature_algorithm": str,          # "ecdsa-with-SHA256", "sha256WithRSAEncryption", "ed25519"
        "sha256_fingerprint":  str,          # "AB:CD:…" (as openssl x509 -fingerprint -sha256)
        "is_ca":               bool,         # basicConstraints CA:TRUE
        "self_signed":         bool          # issuer == subject and its own key verifies it
      }
    ]

Schema of ``summary``::

    {
      "connected":          bool,         # the TCP connection was made (CONNECTED(…) line)
      "handshake_ok":       bool,         # a cipher was negotiated and no OpenSSL error was printed
      "handshake_error":    str | None,   # reason of the first error line: "tlsv1 alert unknown ca",
                                          # "certificate verify failed", "Connection refused",
                                          # "Name or service not known"; else "no peer certificate
                                          # available" when the server sent none
      "protocol":           str | None,   # "TLSv1.3"
      "cipher":             str | None,   # "TLS_AES_256_GCM_SHA384"
      "verify_return_code": int | None,   # 0 ok, 10 expired, 9 not yet valid, 18 self-signed,
                                          # 19 self-signed in chain, 20 unable to get local issuer,
                                          # 21 unable to verify the first certificate, 62 hostname
      "verify_message":     str | None,   # as printed: "ok", "certificate has expired", ...
      "server_name":        str | None,   # the -servername asked for (s_client does not print it:
                                          # the caller passes it)
      "chain_length":       int           # certificates the server presented
    }

The verify result depends on the clock when s_client ran (expiry), on
``-CAfile`` and on ``-verify_hostname``; the certificate rows do not.

Example (a certificate that expired, verified against its CA)::

    depth=0 O = k8srun, CN = web.default.svc.cluster.local
    verify error:num=10:certificate has expired
    CONNECTED(00000003)
    ...
    -----BEGIN CERTIFICATE-----
    MIIB...
    -----END CERTIFICATE-----
    ...
    New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
    Verify return code: 10 (certificate has expired)
    → parse:   [{"depth": 0, "common_name": "web.default.svc.cluster.local",
                 "not_after": "2021-01-01T00:00:00+00:00", "key_type": "EC", ...}]
    → summary: {"handshake_ok": True, "verify_return_code": 10,
                "verify_message": "certificate has expired", ...}
"""

from __future__ import annotations

import re

import pandas as pd
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from ..errors import ParseError

NAME = "openssl-s-client"
COLUMNS = ["depth", "subject", "issuer", "common_name", "sans", "not_before", "not_after", "serial",
           "key_type", "key_bits", "signature_algorithm", "sha256_fingerprint", "is_ca", "self_signed"]

_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"
_ERROR_LINE = re.compile(r"^[0-9A-Fa-f]+:error:[0-9A-Fa-f]+:")
_NEGOTIATED = re.compile(r"^(?:New|Reused), (\S+), Cipher is (\S+)")
_VERIFY = re.compile(r"^\s*Verify return code: (\d+) \((.*)\)\s*$")
_NONE = "(NONE)"
_KEY_TYPES = ((rsa.RSAPublicKey, "RSA"), (ec.EllipticCurvePublicKey, "EC"),
              (ed25519.Ed25519PublicKey, "Ed25519"), (ed448.Ed448PublicKey, "Ed448"),
              (dsa.DSAPublicKey, "DSA"))
_ED_BITS = {"Ed25519": 256, "Ed448": 456}
_CERT_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion, x509.DuplicateExtension,
                x509.UnsupportedGeneralNameType)


def _is_s_client_line(line: str) -> bool:
    return (line.startswith(("CONNECTED(", "connect:errno=", "Certificate chain",
                             "no peer certificate available", _BEGIN))
            or _VERIFY.match(line) is not None or _ERROR_LINE.match(line) is not None)


def _check_is_s_client(lines: list[str]) -> None:
    if any(line.strip() for line in lines) and not any(_is_s_client_line(line) for line in lines):
        raise ParseError(NAME, "no CONNECTED(...), certificate, verify or OpenSSL error line: "
                               "not openssl s_client output")


def _pem_blocks(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, PEM text) of every certificate block."""
    blocks: list[tuple[int, str]] = []
    start: int | None = None
    body: list[str] = []
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if line == _BEGIN:
            if start is not None:
                raise ParseError(NAME, "BEGIN CERTIFICATE inside another certificate", lineno)
            start, body = lineno, []
        elif line == _END:
            if start is None:
                raise ParseError(NAME, "END CERTIFICATE without BEGIN", lineno)
            blocks.append((start, "\n".join([_BEGIN, *body, _END, ""])))
            start = None
        elif start is not None:
            body.append(line)
    if start is not None:
        raise ParseError(NAME, "certificate not terminated by END CERTIFICATE", start)
    return blocks


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    public_key = cert.public_key()
    for cls, key_type in _KEY_TYPES:
        if isinstance(public_key, cls):
            return key_type, _ED_BITS.get(key_type) or public_key.key_size
    return type(public_key).__name__, None


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in names if isinstance(name, (x509.DNSName, x509.IPAddress))]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _row(depth: int, pem: str, lineno: int) -> dict:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("utf-8", "surrogateescape"))
        common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        key_type, key_bits = _key(cert)
        serial = format(cert.serial_number, "X")
        fingerprint = cert.fingerprint(hashes.SHA256()).hex().upper()
        return {
            "depth": depth,
            "subject": cert.subject.rfc4514_string(),
            "issuer": cert.issuer.rfc4514_string(),
            "common_name": str(common_names[0].value) if common_names else None,
            "sans": _sans(cert),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "serial": serial.zfill(len(serial) + len(serial) % 2),
            "key_type": key_type,
            "key_bits": key_bits,
            # cryptography's name for the OID ("ecdsa-with-SHA256"), as openssl prints it
            "signature_algorithm": cert.signature_algorithm_oid._name,
            "sha256_fingerprint": ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2)),
            "is_ca": _is_ca(cert),
            "self_signed": _self_signed(cert),
        }
    except _CERT_ERRORS as exc:
        raise ParseError(NAME, f"PEM block is not a readable certificate ({exc})", lineno) from None


def parse(text: str) -> list[dict]:
    """One row per certificate the server presented, leaf (depth 0) first."""
    lines = text.splitlines()
    _check_is_s_client(lines)
    return [_row(depth, pem, lineno) for depth, (lineno, pem) in enumerate(_pem_blocks(lines))]


def frame(text: str) -> pd.DataFrame:
    """``parse`` as a DataFrame with the fixed columns ``COLUMNS``."""
    return pd.DataFrame(parse(text), columns=COLUMNS)


def _error_reason(line: str) -> str:
    """``pid:error:code:lib:func:reason:file:line:data`` → reason (the data for "system lib")."""
    fields = line.split(":", 8)
    reason = fields[5] if len(fields) > 5 else line
    if reason == "system lib" and len(fields) > 8 and fields[8].strip():
        return fields[8].strip()
    return reason


def summary(text: str, server_name: str | None = None) -> dict:
    """Connection, handshake and verification result of one s_client run (see the schema)."""
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise ParseError(NAME, "empty output: s_client printed nothing")
    chain = parse(text)
    protocol = cipher = verify_message = None
    verify_code: int | None = None
    errors: list[str] = []
    no_peer_certificate = False
    for line in lines:
        negotiated = _NEGOTIATED.match(line)
        verify = _VERIFY.match(line)
        if negotiated:
            protocol, cipher = (None if value == _NONE else value for value in negotiated.groups())
        elif verify:
            verify_code, verify_message = int(verify.group(1)), verify.group(2)
        elif _ERROR_LINE.match(line):
            errors.append(line)
        elif line.startswith("no peer certificate available"):
            no_peer_certificate = True
    ssl_errors = [line for line in errors if ":SSL routines:" in line]
    if errors:
        handshake_error = _error_reason((ssl_errors or errors)[0])
    elif no_peer_certificate:
        handshake_error = "no peer certificate available"
    else:
        handshake_error = None
    return {
        "connected": any(line.startswith("CONNECTED(") for line in lines),
        "handshake_ok": cipher is not None and not errors,
        "handshake_error": handshake_error,
        "protocol": protocol,
        "cipher": cipher,
        "verify_return_code": verify_code,
        "verify_message": verify_message,
        "server_name": server_name,
        "chain_length": len(chain),
    }
