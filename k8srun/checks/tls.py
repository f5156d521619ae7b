"""tls: "x509: certificate ..." / "tls: handshake failure" — which certificate, which check, why (TLS-001..006).

What the runbook looks at, all from the run's ``target`` (the client's
place: a pod's network namespace, a node):

- an **endpoint** (``endpoint`` HOST:PORT, ``server_name`` for SNI and the
  name check, default the host): the chain the server presents, the
  handshake, and the verification against ``ca_bundle`` (a PEM file on the
  target) or, when empty, the target's system trust store;
- a **PEM file** (``pem``: a cert, a chain, a bundle, a cert+key file — keys
  are counted, never shown) and a **kubeconfig's certificates**
  (``kubeconfig_certs``: every cluster's CA and every user's client
  certificate, embedded ``*-data`` or files). ``kubeconfig_certs`` is its own
  parameter, not the common ``kubeconfig``: that one says where cluster state
  comes from (``source live``), and inspecting a file must not change the
  source (or read a token);
- the **target's clock** against this machine's.

Evidence
========

=================================  ============================================  ========  =====================
command id                         argv                                          where     evidence name
=================================  ============================================  ========  =====================
``s-client-H-P-X``                 ``openssl s_client -connect H:P -servername   target    ``handshake``
                                   N -showcerts [-CAfile CA] -verify_hostname
                                   N`` (``-noservername``/``-verify_ip`` for an
                                   IP), stdin closed
``s-client-H-P-X-tls12``           the same with ``-tls1_2``, only when the      target    ``tls12-retry``
                                   server asked for a client certificate and     (sharpens TLS-006)
                                   the first run did not fail
``clock``                          ``date -u +%Y-%m-%dT%H:%M:%S.%NZ``            target    ``clock``
``certfile-pem-X`` /               ``PYTHON -m k8srun.probes.certfile --pem F``  target    ``certificate-files``
``certfile-kubeconfig-X``          / ``--kubeconfig F``
=================================  ============================================  ========  =====================

``X`` is a short hash of what the argv adds to the id (one id names one
argv). Decisions:

- **openssl s_client, not Python's ssl**, for the endpoint: it is on every
  node and in most debug images, so ``ssh:``/``node:`` targets work; it
  prints the whole presented chain (Python 3.11 cannot return an
  unverified chain) and every verification error (its default callback goes
  on after one), and the output is what an SRE pastes into a ticket. Its
  rows are read by :mod:`k8srun.parsers.openssl_s_client` and
  :mod:`k8srun.parsers.tls_handshake` (X.509 with ``cryptography``).
- **A client certificate required** shows, under TLS 1.3, *after* the
  client's handshake is done (the server's alert comes with its first
  read), so s_client with stdin closed may exit before reading it. When the
  first run printed that the server sent a CertificateRequest and did not
  fail, one TLS 1.2 run follows: there the server ends the handshake itself
  (``alert handshake failure``) when it requires the certificate. A server
  that only *asks* (optional client auth) passes both: no finding.
- The **certificate files** are read by k8srun's own probe
  (:mod:`k8srun.probes.certfile`) at the target, so ``target`` must be
  ``local`` or ``netns:NAME`` for them; on ``ssh:``/``node:`` they are
  "evidence unavailable". The probe prints certificates only. A replay
  takes the interpreter from the recorded argv
  (:func:`k8srun.checks.dns.interpreter`).
- **The reference clock is the target's** (the client judges dates by its
  own clock): ``date`` there, compared with this machine's clock when the
  command started (half its run time added) — the skew. Without it, this
  machine's clock, and TLS-001/002/005 read PARTIAL. A recording keeps both
  clocks, so a replay judges the dates as they were.
- The trust anchor in ``ca_bundle`` is used, not listed: s_client shows what
  the server *sends* (that is what breaks); ``-p pem CA_BUNDLE`` lists the
  bundle's own dates.
- With a cluster source, an endpoint given by IP is named (the Service or
  pod whose IP it is, :func:`k8srun.checks.firewall.dest_names`) in the
  handshake table; nothing else reads the cluster (``-p source none`` loses
  only that label).
- **The validity timeline** (:func:`validity_chart`, inline SVG): one bar
  per certificate from notBefore to notAfter on one time axis, coloured by
  status, now (by the reference clock) a dashed line — a decade-long CA next
  to a 90-day leaf shows at once which one ends first.

Proven on the fault lab (faults ``tls-expired``, ``tls-not-yet-valid``,
``tls-unknown-ca``, ``tls-incomplete-chain``, ``tls-wrong-san``,
``tls-expiring-soon``, ``tls-client-cert-required``: one code each, from
pod-a to web-b's s_server) and on a topology the lab did not build
(``openssl s_server`` on 127.0.0.1 with a root → RSA issuing CA → EC leaf
PKI made by the tests, a TLS 1.1-only server, an HTTP port, nothing
listening): tests/test_tls.py.

How each code decides
=====================

- **TLS-001** (critical), per certificate (endpoint chain, PEM, kubeconfig):
  ``notAfter`` < now (target clock). Detail: when, how long ago, which clock.
- **TLS-002** (critical), per certificate: ``notBefore`` > now. Detail: how
  far ahead, and the clock skew target vs this machine: above 60 s the
  target's clock is the suspect (fix NTP there); below, the clocks agree and
  the certificate was issued with a future notBefore (the issuer's clock
  runs ahead, or it was made for later).
- **TLS-003** (error), the endpoint: OpenSSL's verification says the chain
  does not reach a trusted root — a ``verify error`` num 2 (issuer
  certificate not found), 7 (signature), 18 (self-signed leaf), 19
  (self-signed root not trusted), 20 (unable to get local issuer), 21
  (unable to verify the first certificate), 24 (invalid CA) or 27 (not
  trusted). Told apart:

  * **chain incomplete: intermediate missing** — the last certificate the
    server sent is not a CA, is not self-signed, its issuer is not among
    those sent, and it names where its issuer is published (AIA caIssuers
    URL), i.e. it was issued by an intermediate, which the server must send
    (the usual mistake: ``cert.pem`` instead of ``fullchain.pem`` in the
    Secret). The issuer's name and the URL are in the detail;
  * **unknown authority** — otherwise: a self-signed certificate, a root not
    in ``ca_bundle``/system trust, or an issuer that names no AIA (then the
    detail says: if that issuer is an intermediate, the chain is incomplete).
- **TLS-004** (error), the endpoint: ``server_name`` is not matched by the
  leaf's subjectAltNames (RFC 6125: exact, case-insensitive; ``*`` only as
  the whole left-most label, one label deep; an IP only against IP SANs; the
  CN is ignored, as Go and browsers do). OpenSSL's own ``hostname mismatch``
  (num 62/64) is shown as corroboration.
- **TLS-005** (warning), per certificate: valid now and ``notAfter`` within
  ``expiry_warning_days`` (default 30).
- **TLS-006** (critical), the endpoint: the TCP connection was made but the
  handshake failed, classified from OpenSSL's error: client certificate
  required (``certificate required`` alert, or ``handshake failure`` after a
  CertificateRequest — the TLS 1.2 retry above), protocol (``protocol
  version``, ``unsupported protocol``; ``legacy sigalg disallowed``: a TLS
  1.0/1.1-only server whose SHA-1 signatures OpenSSL 3 refuses), not TLS at all (``wrong version
  number``, ``packet length too long``: the port speaks clear text, often
  HTTP), cipher / parameters (``no shared cipher``, ``handshake failure``),
  no certificate sent. A connection that could not be made (refused, timed
  out, no such host) is not TLS-006: the handshake is "evidence
  unavailable" with the reason and TLS-003/004/006 read NOT CHECKED (the
  firewall or dns runbook is next).

With nothing to look at (no endpoint, pem or kubeconfig_certs), every code
is NOT CHECKED with the reason. Verdicts (:func:`subjects`): the endpoint
— the findings about the certificates of its chain are about it, naming the
certificate and its depth (an endpoint whose leaf expired is what broke, not
"no cause found") — and every certificate of a file; each certificate of
the chain has its own verdict in the ``status`` column of the certificate
table (valid / expires soon / expired / not yet valid). Evidence rows never carry a key or a token: the
s_client output is redacted when saved (session tickets, PSKs) and the
probe prints certificates only.

Output of :func:`gather` (what :func:`diagnose` takes)::

    {"certificates": DataFrame (CERT_COLUMNS), "clock": {"now", "reference", "target_time", "local_time",
     "skew_s"}, "handshake": openssl_s_client.summary + {"endpoint", "server_name", "ca_bundle",
     "verify_errors", "client_cert_requested", "tls12_retry", "in_cluster"} | None,
     "files": [certfile probe JSON without PEMs], "endpoint": "10.244.2.10:8443" | "", "expiry_warning_days": 30}
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
from html import escape
from typing import Any

import pandas as pd

from .. import charts, params
from ..errors import ParameterError, ParseError
from ..evidence import NodeCommand
from ..model import Finding, about, finding
from ..parsers import openssl_s_client, tls_handshake
from ..registry import CLUSTER, TARGET, TIMEOUT, Parameter, Runbook
from .dns import _is_address as _is_ip, id_part, interpreter

# --------------------------------------------------------------- parameters


def split_endpoint(text: str) -> tuple[str, int]:
    """``host:port`` / ``[v6]:port`` → (host, port); ValueError when it is not one."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        ipaddress.IPv6Address(host)
    else:
        host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError("not HOST:PORT")
    return host, int(port)


def _host(param: str, value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    from .dns import dns_name

    return dns_name(param, value).rstrip(".").lower()


def endpoint(param: str, value: Any) -> str:
    """``HOST:PORT``: HOST an IP address (IPv6 in brackets) or a DNS name; PORT 1..65535."""
    try:
        host, port = split_endpoint(str(value) if isinstance(value, str) else "")
    except ValueError:
        raise ParameterError(param, value, "must be HOST:PORT, e.g. 10.244.2.10:8443, web.default:443 "
                             "or [fd00::1]:443") from None
    host = _host(param, host)
    number = params.port(param, port)
    return f"[{host}]:{number}" if ":" in host else f"{host}:{number}"


def server_name(param: str, value: Any) -> str:
    """A DNS name or an IP address (empty: the endpoint's host)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str):
        raise ParameterError(param, value, "must be a DNS name or an IP address")
    return _host(param, value.strip())


def file_path(param: str, value: Any) -> str:
    """A file path on the target: one line, no NUL, not starting with '-' (empty: none)."""
    if value in ("", None):
        return ""
    if not isinstance(value, str) or "\0" in value or "\n" in value or value.startswith("-") \
            or len(value) > 4096:
        raise ParameterError(param, value, "must be a file path (one line, not starting with '-')")
    return value


def warning_days(param: str, value: Any) -> int:
    """Whole days, 1..3650."""
    return int(params.positive_number(param, value, integer=True, maximum=3650))


RUNBOOK = Runbook(
    name="tls",
    description="TLS handshake or x509 errors: the presented chain, its trust, names and dates, the handshake, certificate files and kubeconfigs",
    scenario="tls",
    parameters=(*CLUSTER, TARGET,
                Parameter("endpoint", "", "HOST:PORT to connect to from the target; empty: no endpoint", endpoint),
                Parameter("server_name", "", "SNI and the name checked against the SANs; empty means the "
                          "endpoint's host", server_name),
                Parameter("ca_bundle", "", "PEM file of trusted CAs on the target; empty means the target's "
                          "system trust store", file_path, path=True),
                Parameter("expiry_warning_days", 30, "warn when a certificate expires within this many days",
                          warning_days),
                Parameter("pem", "", "a PEM file on the target to inspect (certificates; keys are never shown)",
                          file_path, path=True),
                Parameter("kubeconfig_certs", "", "a kubeconfig on the target whose certificates (cluster CAs, "
                          "client certificates) to inspect", file_path, path=True),
                TIMEOUT),
)

#: evidence names of this runbook
HANDSHAKE = "handshake"
RETRY = "tls12-retry"
CLOCK = "clock"
FILES = "certificate-files"
CERTS = "certificates"

REQUIRES: dict[str, list[str]] = {
    "TLS-001": [CERTS],
    "TLS-002": [CERTS],
    "TLS-003": [HANDSHAKE],
    "TLS-004": [HANDSHAKE],
    "TLS-005": [CERTS],
    "TLS-006": [HANDSHAKE],
}
PARTIAL: dict[str, list[str]] = {"TLS-001": [CLOCK], "TLS-002": [CLOCK], "TLS-005": [CLOCK]}

CERT_COLUMNS = ["source", "where", "depth", "label", "endpoint", "subject", "issuer", "common_name", "sans", "not_before",
                "not_after", "days_left", "status", "key_type", "key_bits", "signature_algorithm",
                "sha256_fingerprint", "is_ca", "self_signed", "ca_issuers"]
#: OpenSSL X509_V_ERR numbers that mean "the chain does not reach a trusted root"
UNTRUSTED = {2: "issuer certificate not found", 7: "signature failure", 18: "self-signed certificate",
             19: "self-signed certificate in chain", 20: "unable to get local issuer certificate",
             21: "unable to verify the first certificate", 24: "invalid CA certificate",
             27: "certificate not trusted"}
HOSTNAME_ERRORS = (62, 64)
#: clock skew above which the target's clock, not the certificate, is the suspect
SKEW_SUSPECT_S = 60.0


# ---------------------------------------------------------------- commands

def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:10]


def s_client_command(address: str, name: str, ca_bundle: str, *, tls12: bool = False) -> NodeCommand:
    """``openssl s_client`` against ``address`` (HOST:PORT) with SNI / name check ``name`` (evidence table)."""
    host, port = split_endpoint(address)
    is_ip = _is_ip(name)
    argv = ("openssl", "s_client", "-connect", address, *(("-noservername",) if is_ip else ("-servername", name)),
            "-showcerts", *(("-CAfile", ca_bundle) if ca_bundle else ()),
            *(("-verify_ip", name) if is_ip else ("-verify_hostname", name)))
    command_id = f"s-client-{id_part(host, 50)}-{port}-{_digest(*argv)}" + ("-tls12" if tls12 else "")
    argv = argv + (("-tls1_2",) if tls12 else ())
    title = f"TLS handshake with {address} (SNI {name})" + (" over TLS 1.2" if tls12 else "")
    return NodeCommand(command_id, lambda _: argv, _chain_frame, title, evidence=RETRY if tls12 else HANDSHAKE,
                       accept_exit=(0, 1), columns=tuple(CHAIN_COLUMNS),
                       result_parser=lambda result: _chain_frame(_both(result)))


#: the target's clock (its own command: one id, one argv)
CLOCK_COMMAND = NodeCommand("clock", lambda _: ("date", "-u", tls_handshake.CLOCK_FORMAT), None,
                            "the target's clock (UTC)", evidence=CLOCK, columns=("target_time",),
                            result_parser=lambda result: pd.DataFrame(
                                [{"target_time": tls_handshake.clock(result.stdout).isoformat()}]))


def certfile_command(kind: str, path: str, python: str | None = None) -> NodeCommand:
    """The certfile probe on ``path`` (``kind`` pem or kubeconfig)."""
    import sys

    argv = (python or sys.executable, "-m", "k8srun.probes.certfile", f"--{kind}", path)
    return NodeCommand(f"certfile-{kind}-{_digest(kind, path)}", lambda _: argv, _file_frame,
                       f"certificates of {kind} {path}", evidence=FILES, columns=tuple(CHAIN_COLUMNS))


CHAIN_COLUMNS = [*openssl_s_client.COLUMNS, "ca_issuers", "aki", "ski", "origin", "role"]


def _both(result) -> str:
    return (result.stdout or "") + "\n" + (result.stderr or "")


def _chain_frame(text: str) -> pd.DataFrame:
    rows = tls_handshake.certificate_rows(tls_handshake.pem_blocks(text))
    openssl_s_client.summary(text)  # ParseError when it is not s_client output at all
    return pd.DataFrame(rows, columns=CHAIN_COLUMNS)


def probe_json(text: str) -> dict:
    """The certfile probe's JSON (ParseError when it is not)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ParseError("certfile", f"not JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("certificates"), list):
        raise ParseError("certfile", "not the certfile probe's output (no certificates list)")
    return data


def _file_frame(text: str) -> pd.DataFrame:
    data = probe_json(text)
    pems = [str(c.get("pem") or "") for c in data["certificates"]]
    rows = tls_handshake.certificate_rows(pems)
    for row, cert in zip(rows, data["certificates"]):
        row["origin"], row["role"] = cert.get("origin"), cert.get("role")
    return pd.DataFrame(rows, columns=CHAIN_COLUMNS)


# ------------------------------------------------------------------ pure checks

def hostname_matches(name: str, sans: list[str]) -> bool:
    """RFC 6125 matching of ``name`` against subjectAltNames (see the module doc, TLS-004)."""
    if _is_ip(name):
        wanted = ipaddress.ip_address(name)
        return any(_is_ip(san) and ipaddress.ip_address(san) == wanted for san in sans)
    name = name.rstrip(".").lower()
    for san in sans:
        if _is_ip(san):
            continue
        san = san.rstrip(".").lower()
        if san == name:
            return True
        if san.startswith("*.") and "*" not in san[2:]:
            head, _, rest = name.partition(".")
            if head and rest == san[2:] and rest.count(".") >= 1:
                return True
    return False


def _time(value: Any) -> dt.datetime | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).to_pydatetime()


def clock_view(target_time: Any, started_at: Any, duration_s: float | None) -> dict:
    """The reference clock: the target's when read (skew = target − this machine at mid-run), else ours."""
    local = _time(started_at)
    if local is not None and duration_s:
        local += dt.timedelta(seconds=float(duration_s) / 2)
    target = _time(target_time)
    if target is None:
        now = local or dt.datetime.now(dt.timezone.utc)
        return {"now": now.isoformat(), "reference": "this machine", "target_time": None,
                "local_time": now.isoformat(), "skew_s": None}
    skew = round((target - local).total_seconds(), 3) if local is not None else None
    return {"now": target.isoformat(), "reference": "target", "target_time": target.isoformat(),
            "local_time": local.isoformat() if local else None, "skew_s": skew}


def _span(delta: dt.timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:.0f} h"
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


def status_of(not_before: dt.datetime, not_after: dt.datetime, now: dt.datetime, warn_days: int) -> str:
    """expired / not yet valid / expires soon / valid."""
    if not_after < now:
        return "expired"
    if not_before > now:
        return "not yet valid"
    if not_after - now < dt.timedelta(days=warn_days):
        return "expires soon"
    return "valid"


def certificate_table(rows: pd.DataFrame, source: str, where: str, now: dt.datetime, warn_days: int,
                      endpoint: str = "") -> pd.DataFrame:
    """The rows of one source (endpoint chain or a file) as CERT_COLUMNS, with days left and a status
    (``endpoint``: the endpoint's label, for the certificates of its chain)."""
    out = []
    for row in rows.to_dict("records"):
        not_before, not_after = _time(row["not_before"]), _time(row["not_after"])
        name = row.get("common_name") or row["subject"] or "(no subject)"
        place = f"{where} depth {row['depth']}" if source == "endpoint" else f"{where}: {row.get('origin')}"
        out.append({
            "source": source, "where": place, "depth": int(row["depth"]),
            "label": f"certificate {name} ({place})", "endpoint": endpoint, "subject": row["subject"], "issuer": row["issuer"],
            "common_name": row.get("common_name"), "sans": list(row.get("sans") or []),
            "not_before": not_before.isoformat(), "not_after": not_after.isoformat(),
            "days_left": round((not_after - now).total_seconds() / 86400, 1),
            "status": status_of(not_before, not_after, now, warn_days),
            "key_type": row["key_type"], "key_bits": row["key_bits"],
            "signature_algorithm": row["signature_algorithm"], "sha256_fingerprint": row["sha256_fingerprint"],
            "is_ca": bool(row["is_ca"]), "self_signed": bool(row["self_signed"]),
            "ca_issuers": list(row.get("ca_issuers") or []),
        })
    return pd.DataFrame(out, columns=CERT_COLUMNS)


def _records(frame: pd.DataFrame | None) -> list[dict]:
    return [] if frame is None or frame.empty else frame.to_dict("records")


def _small(row: dict) -> dict:
    keys = ("label", "subject", "issuer", "sans", "not_before", "not_after", "days_left", "status",
            "sha256_fingerprint")
    return {k: row.get(k) for k in keys}


def _subject(row: dict) -> str:
    """What a certificate's finding is about: the endpoint for a certificate of its chain, else the certificate."""
    return row["endpoint"] if row.get("endpoint") else row["label"]


def _skew_text(clock: dict) -> str:
    skew = clock.get("skew_s")
    if skew is None:
        return "the target's clock could not be compared with this machine's"
    side = "ahead of" if skew > 0 else "behind"
    size = f"{abs(skew):g} s" if abs(skew) < 120 else _span(dt.timedelta(seconds=skew))
    return f"the target's clock is {size} {side} this machine's"


def expired(certificates: pd.DataFrame | None, clock: dict) -> list[Finding]:
    """TLS-001: notAfter before now (the reference clock)."""
    now = _time(clock["now"])
    out = []
    for row in _records(certificates):
        not_after = _time(row["not_after"])
        if not_after < now:
            detail = (f"{row['label']}: notAfter {not_after:%Y-%m-%d %H:%M:%S} UTC, expired {_span(now - not_after)} "
                      f"ago by the {clock['reference']} clock ({now:%Y-%m-%d %H:%M:%S} UTC)")
            out += about(_subject(row), [finding("TLS-001", detail, {"certificate": _small(row), "clock": clock})])
    return out


def not_yet_valid(certificates: pd.DataFrame | None, clock: dict) -> list[Finding]:
    """TLS-002: notBefore after now; the skew says whose clock to suspect."""
    now = _time(clock["now"])
    out = []
    skew = clock.get("skew_s")
    if skew is not None and abs(skew) > SKEW_SUSPECT_S:
        why = f"{_skew_text(clock)}: fix the target's time (chronyc tracking / timedatectl) first"
    elif skew is not None:
        why = (f"{_skew_text(clock)} (they agree): the certificate was issued with a notBefore in the future "
               "(the issuer's clock runs ahead, or it was made for later)")
    else:
        why = _skew_text(clock)
    for row in _records(certificates):
        not_before = _time(row["not_before"])
        if not_before > now:
            detail = (f"{row['label']}: notBefore {not_before:%Y-%m-%d %H:%M:%S} UTC is {_span(not_before - now)} "
                      f"ahead of the {clock['reference']} clock ({now:%Y-%m-%d %H:%M:%S} UTC); {why}")
            out += about(_subject(row), [finding("TLS-002", detail, {"certificate": _small(row), "clock": clock})])
    return out


def expiring_soon(certificates: pd.DataFrame | None, clock: dict, warn_days: int) -> list[Finding]:
    """TLS-005: valid now and notAfter within ``warn_days``."""
    now = _time(clock["now"])
    out = []
    for row in _records(certificates):
        not_before, not_after = _time(row["not_before"]), _time(row["not_after"])
        if not_before <= now <= not_after and not_after - now < dt.timedelta(days=warn_days):
            detail = (f"{row['label']}: expires {not_after:%Y-%m-%d %H:%M} UTC, in {_span(not_after - now)} "
                      f"(warning at {warn_days} days)")
            out += about(_subject(row), [finding("TLS-005", detail, {"certificate": _small(row), "clock": clock})])
    return out


def endpoint_label(handshake: dict) -> str:
    return f"endpoint {handshake['endpoint']} (SNI {handshake['server_name']})"


def untrusted(handshake: dict | None, certificates: pd.DataFrame | None) -> list[Finding]:
    """TLS-003: the chain does not reach a trusted root — incomplete chain vs unknown authority (module doc)."""
    if not handshake or not handshake.get("connected"):
        return []
    errors = [e for e in handshake.get("verify_errors") or [] if e["num"] in UNTRUSTED]
    code = handshake.get("verify_return_code")
    if not errors and code in UNTRUSTED:
        errors = [{"depth": None, "subject": "", "num": code, "message": handshake.get("verify_message")}]
    if not errors:
        return []
    chain = [r for r in _records(certificates) if r["source"] == "endpoint"]
    top = max(chain, key=lambda r: r["depth"]) if chain else None
    trust = handshake.get("ca_bundle") or "the target's system trust store"
    said = "; ".join(f"depth {e['depth']}: {e['message']} (num {e['num']})" for e in errors)
    incomplete = bool(top and not top["is_ca"] and not top["self_signed"] and top["ca_issuers"]
                      and top["issuer"] not in {r["subject"] for r in chain}
                      and any(e["num"] in (2, 20, 21) for e in errors))
    if incomplete:
        what = (f"chain incomplete: intermediate missing — the server sends {len(chain)} certificate(s), the last "
                f"({top['subject']}) is issued by {top['issuer']}, which it does not send (the certificate says it "
                f"is published at {', '.join(top['ca_issuers'])}); serve the full chain (leaf + intermediates)")
    elif top and top["self_signed"]:
        what = (f"unknown authority: the chain ends in the self-signed {top['subject']}, which is not in {trust}")
    elif top:
        what = (f"unknown authority: {top['issuer']} (issuer of {top['subject']}) is not in {trust}; if it is an "
                "intermediate, the server must send it (the chain is incomplete)")
    else:
        what = f"unknown authority: verification against {trust} failed"
    detail = f"{endpoint_label(handshake)}: {what} [OpenSSL: {said}]"
    return about(endpoint_label(handshake), [finding("TLS-003", detail, {
        "verify_errors": errors, "trust": trust, "incomplete_chain": incomplete,
        "chain": [_small(r) for r in chain]})])


def name_mismatch(handshake: dict | None, certificates: pd.DataFrame | None) -> list[Finding]:
    """TLS-004: server_name not matched by the leaf's SANs (RFC 6125)."""
    if not handshake or not handshake.get("connected"):
        return []
    leaf = next((r for r in _records(certificates) if r["source"] == "endpoint" and r["depth"] == 0), None)
    if leaf is None:
        return []
    name = handshake["server_name"]
    if hostname_matches(name, leaf["sans"]):
        return []
    openssl = [e for e in handshake.get("verify_errors") or [] if e["num"] in HOSTNAME_ERRORS]
    sans = ", ".join(leaf["sans"]) or "none (no subjectAltName: the CN is not used by Go or browsers)"
    detail = (f"{endpoint_label(handshake)}: {name} is not in the certificate's subjectAltNames ({sans}); "
              f"certificate {leaf['subject']}" + (f" [OpenSSL: {openssl[0]['message']}]" if openssl else ""))
    return about(endpoint_label(handshake), [finding("TLS-004", detail, {
        "server_name": name, "sans": leaf["sans"], "certificate": _small(leaf), "openssl": openssl})])


#: (kind, words of OpenSSL's reason) in the order they are tried
HANDSHAKE_KINDS = (
    ("client certificate required", ("certificate required", "peer did not return a certificate")),
    ("protocol", ("protocol version", "unsupported protocol", "no protocols available", "version too low",
                  "unsupported_protocol", "legacy sigalg disallowed")),
    ("not TLS", ("wrong version number", "packet length too long", "record layer failure", "http request",
                 "record_layer_failure")),
    ("cipher", ("no shared cipher", "no cipher", "no suitable", "insufficient security", "handshake failure",
                "sslv3 alert handshake failure")),
    ("no certificate", ("no peer certificate available",)),
)


def handshake_kind(error: str | None, client_cert_requested: bool) -> str:
    """What a failed handshake's reason says (module doc, TLS-006)."""
    text = (error or "").lower()
    if client_cert_requested and "handshake failure" in text:
        return "client certificate required"
    for kind, words in HANDSHAKE_KINDS:
        if any(word in text for word in words):
            return kind
    return "other"


def handshake_failed(handshake: dict | None) -> list[Finding]:
    """TLS-006: connected, but the handshake failed (or the TLS 1.2 retry shows a client cert is required)."""
    if not handshake or not handshake.get("connected"):
        return []
    retry = handshake.get("tls12_retry") or None
    if not handshake.get("handshake_ok"):
        said, protocol, requested = handshake.get("handshake_error"), handshake.get("protocol"), \
            handshake.get("client_cert_requested")
    elif retry and retry.get("connected") and not retry.get("handshake_ok") and retry.get("client_cert_requested"):
        said, protocol, requested = retry.get("handshake_error"), "TLSv1.2", True
    else:
        return []
    kind = handshake_kind(said, bool(requested))
    if kind == "other" and requested:
        kind = "client certificate required"
    hint = {"client certificate required": "the server asked for a client certificate and ended the handshake "
                                           "without one: give the client its certificate (or mTLS is not meant here)",
            "protocol": "no TLS version both sides accept (compare ssl_protocols / MinVersion on both ends)",
            "not TLS": "the port does not speak TLS (clear text, often HTTP): wrong port, or TLS is terminated "
                       "elsewhere",
            "cipher": "no cipher suite / group / signature algorithm both sides accept",
            "no certificate": "the server sent no certificate (no cert for this SNI?)"}.get(kind, "see OpenSSL's reason")
    retried = " (seen on a TLS 1.2 retry: under TLS 1.3 the alert comes after the client's handshake)" \
        if handshake.get("handshake_ok") else ""
    detail = f"{endpoint_label(handshake)}: handshake failed — {kind}: {said}{retried}; {hint}"
    return about(endpoint_label(handshake), [finding("TLS-006", detail, {
        "kind": kind, "openssl_error": said, "protocol": protocol, "client_cert_requested": bool(requested),
        "tls12_retry": {k: retry.get(k) for k in ("handshake_ok", "handshake_error")} if retry else None})])


def diagnose(*, certificates: pd.DataFrame | None = None, handshake: dict | None = None, clock: dict | None = None,
             expiry_warning_days: int = 30, **_: Any) -> list[Finding]:
    """Every code (module doc) from gather's evidence."""
    clock = clock or clock_view(None, None, None)
    return [*expired(certificates, clock), *not_yet_valid(certificates, clock),
            *untrusted(handshake, certificates), *name_mismatch(handshake, certificates),
            *expiring_soon(certificates, clock, int(expiry_warning_days)), *handshake_failed(handshake)]


def subjects(*, certificates: pd.DataFrame | None = None, handshake: dict | None = None, **_: Any) -> list[str]:
    """The endpoint (its chain's certificates are parts of it) and every certificate of a file."""
    return ([endpoint_label(handshake)] if handshake else []) + [r["label"] for r in _records(certificates)
                                                                   if r["source"] != "endpoint"]


# ------------------------------------------------------------------ gather

def _missing(rb, evidence: str, what: str, reason: str) -> None:
    rb.missing_evidence.add(evidence)
    if not any(u.what == what for u in rb.unavailable):
        rb.note_unavailable(what, reason, where=str(rb.parameters.get("target") or "target"))


def read_clock(rb) -> dict:
    """The reference clock (``clock_view``) from ``date`` on the target."""
    frame = rb.node(CLOCK_COMMAND)
    result = rb.node_result(CLOCK_COMMAND)
    target_time = frame["target_time"].iloc[0] if len(frame) else None
    return clock_view(target_time, getattr(result, "started_at", None), getattr(result, "duration_s", None))


def handshake_with(rb) -> tuple[dict | None, pd.DataFrame]:
    """(the handshake summary, the presented chain rows) for ``endpoint``; (None, empty) when not looked at."""
    address = rb.parameters.get("endpoint") or ""
    empty = pd.DataFrame(columns=CHAIN_COLUMNS)
    if not address:
        _missing(rb, HANDSHAKE, "TLS handshake", "no endpoint given: TLS-003/004/006 need -p endpoint HOST:PORT")
        return None, empty
    host, _ = split_endpoint(address)
    name = rb.parameters.get("server_name") or host.strip("[]")
    ca = rb.parameters.get("ca_bundle") or ""
    command = s_client_command(address, name, ca)
    chain = rb.node(command)
    result = rb.node_result(command)
    if HANDSHAKE in rb.missing_evidence or result is None:
        return None, empty
    text = _both(result)
    summary = openssl_s_client.summary(text, server_name=name)
    handshake = {**summary, "endpoint": address, "server_name": name, "ca_bundle": ca,
                 "verify_errors": tls_handshake.verify_errors(text),
                 "client_cert_requested": tls_handshake.client_cert_requested(text), "tls12_retry": None}
    if not summary["connected"] and ca and f"fopen({ca}," in text:
        _missing(rb, HANDSHAKE, f"TLS handshake with {address}",
                 f"ca_bundle {ca} cannot be read on the target ({summary['handshake_error']}): s_client did not connect")
        return None, empty
    if not summary["connected"]:
        _missing(rb, HANDSHAKE, f"TLS handshake with {address}",
                 f"could not connect: {summary['handshake_error'] or 'no connection'} (not a TLS problem: "
                 "see the firewall / dns runbooks)")
        return None, empty
    if _is_ip(host.strip("[]")):
        from .firewall import dest_names

        handshake["in_cluster"] = dest_names(rb, host.strip("[]"), split_endpoint(address)[1], "tcp")
    if summary["handshake_ok"] and handshake["client_cert_requested"]:
        retry_command = s_client_command(address, name, ca, tls12=True)
        rb.node(retry_command)
        retry = rb.node_result(retry_command)
        if retry is not None and RETRY not in rb.missing_evidence:
            retry_text = _both(retry)
            handshake["tls12_retry"] = {**openssl_s_client.summary(retry_text, server_name=name),
                                        "client_cert_requested": tls_handshake.client_cert_requested(retry_text)}
    return handshake, chain


def read_files(rb) -> tuple[list[dict], list[pd.DataFrame]]:
    """(probe summaries without PEMs, their certificate rows) for ``pem`` and ``kubeconfig_certs``."""
    asked = [(kind, rb.parameters.get(param)) for kind, param in (("pem", "pem"), ("kubeconfig", "kubeconfig_certs"))
             if rb.parameters.get(param)]
    if not asked:
        return [], []
    place = str(rb.parameters.get("target") or "local").partition(":")[0]
    if place in ("ssh", "node"):
        _missing(rb, FILES, "certificate files", f"the certfile probe is k8srun's own Python: it runs on local and "
                 f"netns: targets, not {place}: (run `openssl x509 -noout -dates -subject -in FILE` there by hand)")
        return [], []
    files, frames = [], []
    for kind, path in asked:
        command = certfile_command(kind, path)
        command = certfile_command(kind, path, python=interpreter(rb, command))
        frame = rb.node(command)
        result = rb.node_result(command)
        if result is None or len(frame) == 0 and FILES in rb.missing_evidence:
            continue
        data = probe_json(result.stdout)
        summary = {k: v for k, v in data.items() if k != "certificates"}
        summary["certificates"] = len(data["certificates"])
        if data.get("error"):
            _missing(rb, FILES, f"certificates of {kind} {path}", data["error"])
        files.append(summary)
        frames.append(frame.assign(_where=f"{kind} {path}"))
    return files, frames


def gather(rb) -> dict:
    """The clock, the endpoint's handshake and chain, the files' certificates (cached in the session)."""
    warn = int(rb.parameters.get("expiry_warning_days") or 30)
    clock = read_clock(rb)
    now = _time(clock["now"])
    handshake, chain = handshake_with(rb)
    files, file_frames = read_files(rb)
    tables = []
    if handshake is not None and len(chain):
        tables.append(certificate_table(chain, "endpoint", handshake["endpoint"], now, warn,
                                        endpoint_label(handshake)))
    for frame in file_frames:
        where = frame["_where"].iloc[0] if len(frame) else ""
        tables.append(certificate_table(frame.drop(columns="_where"), where.partition(" ")[0], where, now, warn))
    certificates = pd.concat([t for t in tables if len(t)], ignore_index=True) if any(len(t) for t in tables) \
        else pd.DataFrame(columns=CERT_COLUMNS)
    if certificates.empty:
        asked = rb.parameters.get("endpoint") or rb.parameters.get("pem") or rb.parameters.get("kubeconfig_certs")
        _missing(rb, CERTS, "certificates", "no certificate could be read (see the rows above)" if asked else
                 "nothing to inspect: give -p endpoint HOST:PORT, -p pem FILE or -p kubeconfig_certs FILE")
    return {"certificates": certificates, "handshake": handshake, "clock": clock, "files": files,
            "endpoint": rb.parameters.get("endpoint") or "", "expiry_warning_days": warn}


# ------------------------------------------------------------------ views

def chain_table(certificates: pd.DataFrame) -> pd.DataFrame:
    """The certificates for reading: where, subject, issuer, SANs, dates, days left, key, algorithm, fingerprint."""
    if certificates is None or certificates.empty:
        return pd.DataFrame(columns=["where", "subject", "issuer", "sans", "not_before", "not_after", "days_left",
                                     "status", "key", "signature_algorithm", "sha256_fingerprint"])
    out = certificates.copy()
    out["key"] = [f"{t} {b}" if b == b and b is not None else str(t) for t, b in zip(out["key_type"], out["key_bits"])]
    out["sans"] = [", ".join(s) for s in out["sans"]]
    return out[["where", "subject", "issuer", "sans", "not_before", "not_after", "days_left", "status", "key",
                "signature_algorithm", "sha256_fingerprint"]]


def handshake_table(handshake: dict | None, clock: dict | None = None) -> pd.DataFrame:
    """The handshake and the clocks as field / value rows."""
    rows = []
    if handshake:
        retry = handshake.get("tls12_retry") or {}
        rows += [("endpoint", handshake["endpoint"]),
                 ("in the cluster", ", ".join(handshake.get("in_cluster") or []) or None),
                 ("server name (SNI, name check)", handshake["server_name"]),
                 ("trust", handshake.get("ca_bundle") or "the target's system trust store"),
                 ("handshake", "ok" if handshake["handshake_ok"] else f"failed: {handshake['handshake_error']}"),
                 ("protocol", handshake.get("protocol")), ("cipher", handshake.get("cipher")),
                 ("verification", f"{handshake.get('verify_return_code')} ({handshake.get('verify_message')})"),
                 ("verify errors", "; ".join(f"depth {e['depth']}: {e['message']}"
                                             for e in handshake.get("verify_errors") or []) or "none"),
                 ("client certificate requested", "yes" if handshake.get("client_cert_requested") else "no"),
                 ("TLS 1.2 retry", ("ok" if retry.get("handshake_ok") else f"failed: {retry.get('handshake_error')}")
                  if retry else None),
                 ("certificates presented", handshake.get("chain_length"))]
    if clock:
        rows += [("target clock (UTC)", clock.get("target_time") or "not read"),
                 ("this machine's clock (UTC)", clock.get("local_time")),
                 ("skew (target − here)", f"{clock['skew_s']:g} s" if clock.get("skew_s") is not None else "unknown"),
                 ("dates judged by", f"the {clock['reference']} clock")]
    return pd.DataFrame([{"field": k, "value": v} for k, v in rows if v is not None], columns=["field", "value"])


STATUS_COLOURS = {"valid": "#2b8a3e", "expires soon": "#e8590c", "expired": "#b00020", "not yet valid": "#862e9c"}


def validity_chart(certificates: pd.DataFrame | None, clock: dict | None = None) -> charts.Svg:
    """Each certificate's notBefore–notAfter window as a bar on one time axis, now marked, coloured by status."""
    rows = _records(certificates)
    clock = clock or clock_view(None, None, None)
    now = _time(clock["now"])
    width, left, right, top, bar = 860, 260, 30, 34, 22
    if not rows:
        return charts.document(width, 60, "Certificate validity", "No certificate.",
                               [charts.text(20, 34, "no certificate: nothing to draw")])
    starts = [_time(r["not_before"]) for r in rows]
    ends = [_time(r["not_after"]) for r in rows]
    low, high = min([*starts, now]), max([*ends, now])
    pad = (high - low) * 0.03 or dt.timedelta(days=1)
    low, high = low - pad, high + pad
    scale = charts.Scale(low.timestamp(), high.timestamp(), left, width - right)
    height = top + len(rows) * (bar + 12) + 46
    body = []
    for i, (row, start, end) in enumerate(zip(rows, starts, ends)):
        y = top + i * (bar + 12)
        colour = STATUS_COLOURS.get(row["status"], "#495057")
        x1, x2 = scale(start.timestamp()), scale(end.timestamp())
        name = (row.get("common_name") or row["subject"] or "?")[:30]
        part = f"depth {row['depth']}" if row["source"] == "endpoint" else (str(row["where"]).split(": ") + [""])[1]
        said = f"{row['status']}, {row['days_left']:g} d"
        inside = x2 - x1 > len(said) * 6.2 + 12
        body.append(f"<g class='tls-window' data-status='{escape(row['status'], quote=True)}' "
                    f"data-where='{escape(str(row['where']), quote=True)}'>"
                    f"<rect x='{x1}' y='{y}' width='{max(x2 - x1, 2)}' height='{bar}' rx='3' fill='{colour}' "
                    f"fill-opacity='0.8'/>"
                    + charts.text(left - 8, y + 15, f"{name} ({part[:26]})", anchor="end", font_size=10)
                    + (charts.text(x1 + 6, y + 15, said, font_size=10, extra=" fill='#fff'") if inside else
                       charts.text(x2 + 4, y + 15, said, font_size=10) if x2 + 4 + len(said) * 6.2 < width else
                       charts.text(x1 - 4, y + 15, said, font_size=10, anchor="end"))
                    + "</g>")
    axis_y = height - 36
    x_now = scale(now.timestamp())
    body.append(f"<line x1='{left}' y1='{axis_y}' x2='{width - right}' y2='{axis_y}' stroke='#495057'/>")
    for label_time in (low + pad, high - pad):
        x = scale(label_time.timestamp())
        body.append(charts.text(x, axis_y + 14, f"{label_time:%Y-%m-%d}", anchor="middle", font_size=10))
    body.append(f"<g class='tls-now'><line x1='{x_now}' y1='{top - 10}' x2='{x_now}' y2='{axis_y}' stroke='#1c7ed6' "
                f"stroke-dasharray='4 3'/>" + charts.text(x_now, top - 14, f"now {now:%Y-%m-%d %H:%M} UTC "
                                                          f"({clock['reference']} clock)", font_size=10,
                                                          anchor="end" if x_now > width - 200 else "start"
                                                          if x_now < left + 200 else "middle") + "</g>")
    body.append(charts.legend([("square", colour, status) for status, colour in STATUS_COLOURS.items()],
                              left, height - 8))
    return charts.document(width, height, "Certificate validity",
                           f"{len(rows)} certificate(s); now {now:%Y-%m-%d %H:%M} UTC", body)


__all__ = ["RUNBOOK", "REQUIRES", "PARTIAL", "gather", "diagnose", "subjects", "chain_table", "handshake_table",
           "validity_chart", "hostname_matches", "handshake_kind", "s_client_command", "certfile_command",
           "CLOCK_COMMAND"]
