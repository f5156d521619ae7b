"""The lab's certificates: a CA, and the ``web`` server certificate in four variants.

Files written into the state directory (PEM; keys unencrypted, mode 0600):

=====================  =====================================================
``ca.pem``             the lab CA clients verify against (``--cacert``)
``ca-key.pem``         its key
``server.pem``         the certificate the TLS endpoint presents
``server-key.pem``     its key
=====================  =====================================================

``issue_server_cert(state_dir, variant)`` rewrites ``server.pem`` as:

================  ==============================================================
``valid``         signed by the lab CA, SANs = the ``web`` service names + ClusterIP,
                  valid for a year
``expired``       same, but notAfter one day in the past       (TLS-001)
``wrong-san``     valid, but only for ``wrong.default.svc...``  (TLS-004)
``unknown-ca``    right names, signed by a throw-away CA no client trusts (TLS-003)
``not-yet-valid`` valid, but notBefore two days ahead (a skewed issuer clock) (TLS-002)
``expiring-soon`` valid, but notAfter in ten days              (TLS-005)
``incomplete-     signed by ``k8srun lab intermediate CA`` (itself signed by the lab
chain``           CA); ``server.pem`` holds the leaf only, so the server does not send
                  the intermediate (TLS-003). The leaf's AIA caIssuers names
                  ``http://<pod-b>:8080/intermediate.crt``, and the intermediate
                  (DER) is written there, into pod-b's web docroot ``www-<pod-b>``
================  ==============================================================

The lab CA is valid for ten years and may sign one intermediate (pathlen 1).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .topology import LAB, Lab

VARIANTS = ("valid", "expired", "wrong-san", "unknown-ca", "not-yet-valid", "expiring-soon", "incomplete-chain")
CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server-key.pem"
INTERMEDIATE_DER = "intermediate.crt"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "k8srun fault lab"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def _new_ca(common_name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
            ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A self-signed CA (pathlen 1), or an intermediate (pathlen 0) signed by ``issuer``."""
    key = ec.generate_private_key(ec.SECP256R1())
    signer_cert, signer_key = issuer or (None, key)
    now = dt.datetime.now(dt.timezone.utc)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(common_name))
               .issuer_name(signer_cert.subject if signer_cert else _name(common_name))
               .public_key(key.public_key()).serial_number(x509.random_serial_number()))
    if signer_cert is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
                                        critical=False)
    cert = (builder
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0 if signer_cert else 1), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(signer_key, hashes.SHA256()))
    return cert, key


def web_dns_names(lab: Lab = LAB) -> list[str]:
    """The names a client may use for the ``web`` service (all go in the SANs)."""
    service = lab.web_https
    return [service.name, f"{service.name}.{service.namespace}", f"{service.name}.{service.namespace}.svc",
            lab.web_fqdn]


def create_ca(state_dir: Path) -> None:
    """Write the lab CA (``ca.pem``, ``ca-key.pem``) into ``state_dir``."""
    cert, key = _new_ca("k8srun lab CA")
    (state_dir / CA_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(state_dir / CA_KEY_FILE, key)


def issue_server_cert(state_dir: Path, variant: str, lab: Lab = LAB) -> None:
    """(Re)write ``server.pem`` / ``server-key.pem`` as ``variant`` (see the module table)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown certificate variant {variant!r} (one of {', '.join(VARIANTS)})")
    if variant == "unknown-ca":
        ca_cert, ca_key = _new_ca("unknown CA")
    else:
        ca_cert = x509.load_pem_x509_certificate((state_dir / CA_FILE).read_bytes())
        ca_key = serialization.load_pem_private_key((state_dir / CA_KEY_FILE).read_bytes(), password=None)
    aia: list[x509.AccessDescription] = []
    if variant == "incomplete-chain":
        ca_cert, ca_key = _new_ca("k8srun lab intermediate CA", (ca_cert, ca_key))
        docroot = state_dir / f"www-{lab.pod_b.name}"   # served by web-b (k8srun.lab.services)
        docroot.mkdir(exist_ok=True)
        (docroot / INTERMEDIATE_DER).write_bytes(ca_cert.public_bytes(serialization.Encoding.DER))
        url = f"http://{lab.pod_b.ip}:{lab.http_port}/{INTERMEDIATE_DER}"
        aia = [x509.AccessDescription(x509.AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(url))]
    now = dt.datetime.now(dt.timezone.utc)
    not_before, not_after = {
        "expired": (now - dt.timedelta(days=30), now - dt.timedelta(days=1)),
        "not-yet-valid": (now + dt.timedelta(days=2), now + dt.timedelta(days=365)),
        "expiring-soon": (now - dt.timedelta(days=355), now + dt.timedelta(days=10)),
    }.get(variant, (now - dt.timedelta(hours=1), now + dt.timedelta(days=365)))
    if variant == "wrong-san":
        names: list[x509.GeneralName] = [x509.DNSName(f"wrong.default.svc.{lab.cluster_domain}")]
    else:
        names = [x509.DNSName(name) for name in web_dns_names(lab)]
        names.append(x509.IPAddress(ipaddress.ip_address(lab.web_https.cluster_ip)))
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder()
               .subject_name(_name(names[0].value)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.SubjectAlternativeName(names), critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                              critical=False))
    if aia:
        builder = builder.add_extension(x509.AuthorityInformationAccess(aia), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    (state_dir / CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(state_dir / KEY_FILE, key)
