"""``openssl x509 -in FILE`` of a kubelet certificate → one row: who, dates, SANs, or why it is missing.

The kubelet's files under ``/var/lib/kubelet/pki``: ``kubelet-client-current.pem``
(client certificate *and its private key*, a symlink to the rotated
``kubelet-client-<date>.pem``), ``kubelet-server-current.pem`` (serving
certificate when ``serverTLSBootstrap`` rotates it, with its key) and
``kubelet.crt`` (the self-signed serving certificate otherwise).
``openssl x509 -in FILE`` prints the first certificate of the file as PEM and
never the key; this parser still drops every ``PRIVATE KEY`` block first
(:func:`strip_private_keys`), so a key that reached it some other way (a
``cat`` of the file, a user's paste) is never parsed, kept or shown.

Parsed with ``cryptography``. Exit 1 with ``No such file or directory`` on
stderr is an answer (``present`` False: this node does not use that file);
any other failure (permission denied, not a certificate) is a row with
``error`` set.

Schema (one row)::

    {"file": "/var/lib/kubelet/pki/kubelet.crt", "role": "serving (self-signed)",
     "present": True, "subject": "CN=worker-2@1700000000", "issuer": "CN=worker-2-ca@1700000000",
     "not_before": Timestamp(UTC), "not_after": Timestamp(UTC), "sans": ["worker-2"],
     "serial": "5c1e…", "error": None}
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import pandas as pd
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from ..errors import ParseError

if TYPE_CHECKING:
    from ..targets import CommandResult

NAME = "kubelet-cert"
COLUMNS = ["file", "role", "present", "subject", "issuer", "not_before", "not_after", "sans", "serial", "error"]
#: file name -> what the kubelet uses it for
ROLES = {"kubelet-client-current.pem": "client (to the API server)",
         "kubelet-server-current.pem": "serving (rotated)",
         "kubelet.crt": "serving (self-signed)"}
_KEY_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
_CERT_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
_MISSING = re.compile(r"No such file or directory", re.I)


def strip_private_keys(text: str) -> str:
    """``text`` without any PEM private key block (RSA/EC/encrypted/PKCS#8; an unterminated one to the end)."""
    return _KEY_BLOCK.sub("", text or "")


def role(path: str) -> str:
    """What the kubelet uses the file for (by its name)."""
    return ROLES.get(PurePosixPath(path).name, "certificate")


def certificate_row(path: str, text: str) -> dict:
    """The first certificate in ``text`` (private keys dropped unread) as a row; ParseError when none."""
    blocks = _CERT_BLOCK.findall(strip_private_keys(text))
    if not blocks:
        raise ParseError(NAME, f"{path}: no PEM certificate in the output")
    try:
        cert = x509.load_pem_x509_certificate(blocks[0].encode("ascii", "replace"))
        try:
            sans = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
            names = [str(getattr(n, "value", n)) for n in sans]
        except x509.ExtensionNotFound:
            names = []
        return {"file": path, "role": role(path), "present": True, "subject": cert.subject.rfc4514_string(),
                "issuer": cert.issuer.rfc4514_string(),
                "not_before": pd.Timestamp(cert.not_valid_before_utc),
                "not_after": pd.Timestamp(cert.not_valid_after_utc), "sans": names,
                "serial": format(cert.serial_number, "x"), "error": None}
    except ValueError as exc:
        raise ParseError(NAME, f"{path}: not a readable certificate ({exc})") from None


def missing_row(path: str, error: str | None = None) -> dict:
    """A row for a file that is not there (``error`` None) or could not be read (``error`` says why)."""
    return {"file": path, "role": role(path), "present": error is not None, "subject": None, "issuer": None,
            "not_before": None, "not_after": None, "sans": [], "serial": None, "error": error}


def frame_result(result: CommandResult) -> pd.DataFrame:
    """``openssl x509 -in FILE`` (the file is the argv's last word) as one row (see module doc)."""
    path = result.argv[-1] if result.argv else ""
    if result.exit_code == 0:
        row = certificate_row(path, result.stdout)
    elif _MISSING.search(result.stderr or ""):
        row = missing_row(path)
    else:
        lines = [line for line in strip_private_keys(result.stderr or "").splitlines() if line.strip()]
        row = missing_row(path, " / ".join(lines[:2])[:300] or f"exit code {result.exit_code}")
    frame = pd.DataFrame([row], columns=COLUMNS)
    for column in ("not_before", "not_after"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def frame(text: str) -> pd.DataFrame:
    """The certificate of a PEM text (stdout of ``openssl x509``) as one row, file unknown."""
    out = pd.DataFrame([certificate_row("", text)], columns=COLUMNS)
    for column in ("not_before", "not_after"):
        out[column] = pd.to_datetime(out[column], utc=True)
    return out


__all__ = ["COLUMNS", "ROLES", "strip_private_keys", "certificate_row", "missing_row", "frame_result", "frame"]
