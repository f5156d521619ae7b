"""What the tls runbook reads from ``openssl s_client``, ``date`` and the certfile probe, beyond
:mod:`.openssl_s_client`'s rows and summary.

``verify_errors(text)`` — every ``verify error:num=N:MESSAGE`` line of an
``openssl s_client`` run with the ``depth=D SUBJECT`` line before it (s_client's
default callback goes on after an error and prints each one, while ``Verify
return code`` keeps only the last)::

    [{"depth": 0, "subject": "O = k8srun fault lab, CN = web", "num": 20,
      "message": "unable to get local issuer certificate"}]

``client_cert_requested(text)`` — True when the server sent a
CertificateRequest: s_client prints ``Requested Signature Algorithms:``
(TLS 1.3 and 1.2), ``Client Certificate Types:`` (TLS 1.2) or ``Acceptable
client certificate CA names`` only then.

``certificate_rows(pems)`` — the :mod:`.openssl_s_client` row of each PEM
certificate (same schema, ``depth`` = position) plus ``ca_issuers`` (the AIA
caIssuers URLs, ``[]`` when none) and ``aki`` / ``ski`` (key identifiers,
hex, or None). ``pem_blocks(text)`` — the certificate PEM blocks of a text,
in order.

``clock(text)`` — the output of ``date -u +%Y-%m-%dT%H:%M:%S.%NZ``, one
line, as a timezone-aware UTC timestamp; ParseError for anything else.

All are pure functions of text; certificates are loaded with ``cryptography``.
"""

from __future__ import annotations

import datetime as dt
import re

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID

from ..errors import ParseError
from . import openssl_s_client

NAME = "tls-handshake"
CLOCK_FORMAT = "+%Y-%m-%dT%H:%M:%S.%NZ"
_DEPTH = re.compile(r"^depth=(\d+) ?(.*)$")
_VERIFY_ERROR = re.compile(r"^verify error:num=(\d+):(.*)$")
_REQUESTED = ("Requested Signature Algorithms:", "Client Certificate Types:",
              "Acceptable client certificate CA names")
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*\n.*?-----END CERTIFICATE-----", re.S)
_CLOCK = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$")


def verify_errors(text: str) -> list[dict]:
    """Each ``verify error:num=N:MESSAGE`` with the depth and subject of the ``depth=`` line before it."""
    out: list[dict] = []
    depth: int | None = None
    subject = ""
    for line in text.splitlines():
        line = line.rstrip("\r")
        at = _DEPTH.match(line)
        if at:
            depth, subject = int(at.group(1)), at.group(2).strip()
            continue
        error = _VERIFY_ERROR.match(line)
        if error:
            out.append({"depth": depth, "subject": subject, "num": int(error.group(1)),
                        "message": error.group(2).strip()})
    return out


def client_cert_requested(text: str) -> bool:
    """Whether s_client printed one of the lines it prints only after a CertificateRequest."""
    return any(line.lstrip().startswith(_REQUESTED) for line in text.splitlines())


def pem_blocks(text: str) -> list[str]:
    """The ``CERTIFICATE`` PEM blocks of ``text``, in order."""
    return [block.strip() + "\n" for block in _PEM.findall(text)]


def _extension(cert: x509.Certificate, cls):
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def certificate_rows(pems: list[str]) -> list[dict]:
    """The openssl_s_client row of each certificate plus ``ca_issuers``, ``aki``, ``ski`` (ParseError if one is not)."""
    rows = openssl_s_client.parse("\n".join(pems)) if pems else []
    for row, pem in zip(rows, pems):
        cert = x509.load_pem_x509_certificate(pem.encode("ascii", "replace"))
        aia = _extension(cert, x509.AuthorityInformationAccess)
        aki = _extension(cert, x509.AuthorityKeyIdentifier)
        ski = _extension(cert, x509.SubjectKeyIdentifier)
        row["ca_issuers"] = [str(d.access_location.value) for d in aia or ()
                             if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS]
        row["aki"] = aki.key_identifier.hex() if aki is not None and aki.key_identifier else None
        row["ski"] = ski.digest.hex() if ski is not None else None
    return rows


def clock(text: str) -> dt.datetime:
    """``date -u +%Y-%m-%dT%H:%M:%S.%NZ`` output → an aware UTC datetime (microseconds kept)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    match = _CLOCK.match(lines[0]) if len(lines) == 1 else None
    if match is None:
        raise ParseError(NAME, f"not one `date -u {CLOCK_FORMAT}` line: {text[:80]!r}")
    try:
        stamp = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    except ValueError as exc:
        raise ParseError(NAME, f"not a date: {exc}") from None
    fraction = (match.group(2) or "0").ljust(9, "0")
    return stamp + dt.timedelta(microseconds=int(fraction[:6]))
